"""Deep embedded clustering's soft assignments and target (Xie, Girshick & Farhadi, ICML 2016), used by IDEC."""

from __future__ import annotations

import torch


def pairwise_sq_dists(z: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """``||z_i - μ_j||²`` for every row of ``z`` (B, L) and centre (k, L): (B, k)."""
    return ((z[:, None, :] - centres[None, :, :]) ** 2).sum(-1)


def student_t(z: torch.Tensor, centres: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """DEC soft assignments ``q_ij ∝ (1 + ||z_i - μ_j||²/α)^{-(α+1)/2}`` (DEC eq. 1), rows summing to 1.

    >>> q = student_t(torch.zeros(1, 2), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    >>> [round(v, 4) for v in q[0].tolist()]
    [0.6667, 0.3333]
    """
    q = (1.0 + pairwise_sq_dists(z, centres) / alpha) ** (-(alpha + 1.0) / 2.0)  # (B, k)
    return q / q.sum(1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's sharpened target ``p_ij ∝ q_ij² / f_j`` with cluster frequencies ``f_j = Σ_i q_ij`` (DEC eq. 3)."""
    p = q ** 2 / q.sum(0)
    return p / p.sum(1, keepdim=True)
