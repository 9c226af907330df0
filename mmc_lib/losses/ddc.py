"""Deep divergence-based clustering loss (Kampffmeyer, Løkse, Bianchi, Livi, Salberg & Jenssen,
"Deep divergence-based approach to clustering", Neural Networks 113, 2019), as used by SiMVC/CoMVC
(Trosten et al., CVPR 2021) and DDMC.

The head that produces ``h`` and ``A`` is :class:`mmc_lib.nn.blocks.DDCHead`.
Loss (on a mini-batch, hidden ``h`` (B, 100), assignments ``A`` (B, K)):

* kernel ``K_ij = exp(-||h_i - h_j||² / (2σ²))`` with ``σ² = 0.15 · median_ij ||h_i - h_j||²``
  (no gradient through σ);
* ``ddc1`` — Cauchy–Schwarz divergence between clusters, ``2/(K(K-1)) Σ_{i<j} a_iᵀKa_j / sqrt(a_iᵀKa_i · a_jᵀKa_j)``
  (DDC eq. 4 — the slides' first term; they normalise by 1/K, we keep DDC's pair-count normalisation);
* ``ddc2`` — orthogonality of assignments, ``2/(B(B-1)) · triu(A Aᵀ)`` (DDC eq. 5);
* ``ddc3`` — the same divergence on ``M_iq = exp(-||A_i - e_q||²)``, pushing rows to simplex corners (DDC eq. 6).
"""

from __future__ import annotations

import torch

EPS = 1e-9
TERMS = ("ddc1", "ddc2", "ddc3")


def triu_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of the strictly upper-triangular entries of a square matrix."""
    return torch.triu(x, diagonal=1).sum()


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``(n, m)`` matrix of ``||a_i - b_j||²``, clamped at 0."""
    return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1) - 2 * a @ b.t()).clamp_min(0)


def gaussian_kernel(h: torch.Tensor, *, rel_sigma: float = 0.15) -> torch.Tensor:
    """``exp(-d²/(2σ²))`` with ``σ² = rel_sigma · median d²`` (σ detached).

    >>> import torch
    >>> k = gaussian_kernel(torch.randn(6, 2))
    >>> bool(torch.allclose(k.diagonal(), torch.ones(6)))
    True
    """
    d2 = squared_distances(h, h)  # (B, B)
    sigma2 = (rel_sigma * d2.median()).detach().clamp_min(EPS)
    return torch.exp(-d2 / (2 * sigma2))


def cs_divergence(a: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Mean pairwise Cauchy–Schwarz term ``2/(K(K-1)) Σ_{i<j} a_iᵀKa_j / sqrt(a_iᵀKa_i a_jᵀKa_j)`` (DDC eq. 4).

    Smaller means the K cluster densities overlap less. Columns of ``a`` (B, K) are cluster memberships.

    >>> import torch
    >>> a = torch.tensor([[1., 0.], [1., 0.], [0., 1.], [0., 1.]])
    >>> round(float(cs_divergence(a, torch.eye(4))), 6)  # far-apart clusters: no overlap
    0.0
    >>> round(float(cs_divergence(a, torch.ones(4, 4))), 6)  # everything similar: full overlap
    1.0
    """
    k = a.shape[1]
    nom = (a.t() @ kernel @ a).clamp_min(EPS)  # (K, K)
    dnom2 = (nom.diagonal()[None, :] * nom.diagonal()[:, None]).clamp_min(EPS ** 2)  # (K, K)
    return 2.0 / (k * (k - 1)) * triu_sum(nom / dnom2.sqrt())


def ddc_loss(hidden: torch.Tensor, a: torch.Tensor, *, rel_sigma: float = 0.15) -> dict[str, torch.Tensor]:
    """The three DDC terms as a dict ``{"ddc1", "ddc2", "ddc3"}`` (sum them for ``L_DDC``).

    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> terms = ddc_loss(torch.randn(8, 4), torch.softmax(torch.randn(8, 3), 1))
    >>> sorted(terms)
    ['ddc1', 'ddc2', 'ddc3']
    """
    n, k = a.shape
    kernel = gaussian_kernel(hidden, rel_sigma=rel_sigma)  # (B, B)
    ddc1 = cs_divergence(a, kernel)  # eq. 4: separate the clusters in the hidden space
    ddc2 = 2.0 / (n * (n - 1)) * triu_sum(a @ a.t())  # eq. 5: orthogonal assignments of different samples
    corners = torch.exp(-squared_distances(a, torch.eye(k, device=a.device, dtype=a.dtype)))  # (B, K)
    ddc3 = cs_divergence(corners, kernel)  # eq. 6: assignments close to simplex corners
    return {"ddc1": ddc1, "ddc2": ddc2, "ddc3": ddc3}
