"""Mutual-information terms used by DDMC: bounds to *minimise* and estimates to *maximise*.

* :func:`gaussian_kl` — the variational upper bound ``I(X;Z) <= E_x KL(q(z|x) || N(0, I))``
  (deep variational information bottleneck, Alemi et al., ICLR 2017, eq. 13).
* :class:`CLUB` — the contrastive log-ratio upper bound of ``I(Z;D)`` (Cheng et al., ICML 2020,
  eq. 4 and its sampled form vCLUB, eq. 10) with a Gaussian variational net ``q(d|z)``.
* :func:`assignment_mutual_information` — ``I(A;B)`` of two soft cluster assignments from their
  empirical joint distribution (IIC, Ji et al., ICCV 2019, eq. 3).
* :func:`uniform_cross_entropy` — ``CE(U, mean assignment)``, the uniform-distribution constraint.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-9


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``KL(N(mu, diag exp(logvar)) || N(0, I))`` — an upper bound on ``I(X;Z)``.

    >>> import torch
    >>> float(gaussian_kl(torch.zeros(4, 3), torch.zeros(4, 3)))
    0.0
    >>> round(float(gaussian_kl(torch.ones(1, 2), torch.zeros(1, 2))), 4)  # 0.5 * ||mu||^2
    1.0
    """
    # (B, d) -> (B,) -> scalar; closed form of the Gaussian KL
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()


class CLUB(nn.Module):
    """vCLUB upper bound of ``I(Z;D)`` with a Gaussian ``q(d|z) = N(mu(z), diag exp(logvar(z)))``.

    ``forward(z, d)`` returns two scalars:

    * ``mi`` — the bound ``E_p(z,d)[log q(d|z)] - E_p(z)p(d)[log q(d|z)]`` (negatives: ``d`` shuffled);
      gradients reach ``z`` and ``d`` only — the variational net's weights are detached, so
      minimising ``mi`` moves the encoders, never ``q``;
    * ``nll`` — the negative log-likelihood of ``q`` on the (detached) positive pairs; minimising it
      fits ``q``, never the encoders. Both go into one total loss, one optimiser.

    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> club = CLUB(3, 3, hidden=8)
    >>> mi, nll = club(torch.randn(16, 3), torch.randn(16, 3))
    >>> mi.shape, nll.shape
    (torch.Size([]), torch.Size([]))
    """

    def __init__(self, z_dim: int, d_dim: int, *, hidden: int = 64):
        super().__init__()
        self.hidden = nn.Linear(z_dim, hidden)
        self.mu = nn.Linear(hidden, d_dim)
        self.logvar = nn.Linear(hidden, d_dim)

    def _q(self, z: torch.Tensor, detach: bool) -> tuple[torch.Tensor, torch.Tensor]:
        def lin(layer, x):
            w, b = (layer.weight.detach(), layer.bias.detach()) if detach else (layer.weight, layer.bias)
            return F.linear(x, w, b)

        h = F.relu(lin(self.hidden, z))
        return lin(self.mu, h), lin(self.logvar, h).clamp(-6.0, 2.0)  # (B, d), (B, d); clamped log-variance

    def forward(self, z: torch.Tensor, d: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self._q(z, detach=True)
        perm = torch.randperm(z.shape[0], device=z.device)
        positive = -((mu - d) ** 2 / logvar.exp()).sum(dim=1) / 2  # log q(d_i|z_i) up to constants, (B,)
        negative = -((mu - d[perm]) ** 2 / logvar.exp()).sum(dim=1) / 2  # log q(d_j|z_i), j random, (B,)
        mi = (positive - negative).mean()  # vCLUB, Cheng et al. 2020 eq. 10
        mu_f, logvar_f = self._q(z.detach(), detach=False)
        nll = (((mu_f - d.detach()) ** 2) / logvar_f.exp() + logvar_f).sum(dim=1).mean() / 2
        return mi, nll


def assignment_mutual_information(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``I(A;B)`` (nats) of two soft assignments ``(B, K)`` from their symmetrised empirical joint (IIC eq. 3).

    Equal one-hot assignments over K balanced clusters give ``log K``; independent ones give 0.

    >>> import torch, math
    >>> a = torch.eye(4).repeat(5, 1)
    >>> round(float(assignment_mutual_information(a, a)), 4) == round(math.log(4), 4)
    True
    >>> round(float(assignment_mutual_information(a, torch.full((20, 4), 0.25))), 4)
    0.0
    """
    joint = a.t() @ b / a.shape[0]  # (K, K) empirical P(A=i, B=j)
    joint = ((joint + joint.t()) / 2).clamp_min(EPS)
    pa = joint.sum(dim=1, keepdim=True)  # (K, 1)
    pb = joint.sum(dim=0, keepdim=True)  # (1, K)
    return (joint * (joint.log() - pa.log() - pb.log())).sum()


def uniform_cross_entropy(a: torch.Tensor) -> torch.Tensor:
    """``CE(U, p̄) = -Σ_k (1/K) log p̄_k`` with ``p̄`` the mean of the soft assignments ``(B, K)``.

    The direction is *uniform target, predicted marginal*: it equals ``log K + KL(U || p̄)``, is
    minimal (``log K``) when clusters are used equally, and grows without bound as one empties —
    the constraint against collapse.

    >>> import torch, math
    >>> round(float(uniform_cross_entropy(torch.eye(3))), 4) == round(math.log(3), 4)
    True
    """
    marginal = a.mean(dim=0).clamp_min(EPS)  # (K,)
    return -marginal.log().mean()
