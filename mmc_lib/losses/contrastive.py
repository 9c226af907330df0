"""Symmetric NT-Xent / InfoNCE between two views of the same samples (SimCLR, Chen et al. 2020, eq. 1)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, *, temperature: float = 0.5,
            same_cluster: torch.Tensor | None = None) -> torch.Tensor:
    """``(ℓ(1→2) + ℓ(2→1)) / 2`` where ``ℓ(1→2)`` is the InfoNCE loss of finding ``z2_i`` among ``z2``
    for the anchor ``z1_i`` (cosine similarity / temperature; in-view negatives included as in SimCLR).

    ``same_cluster`` (``(B, B)`` bool) drops the negatives predicted to share the anchor's cluster
    (CoMVC's negative sampling, Trosten et al. 2021, Sec. 3.2); positives are always kept.

    >>> import torch
    >>> z = torch.eye(4)
    >>> bool(nt_xent(z, z) < nt_xent(z, z.roll(1, dims=0)))  # aligned pairs cost less
    True
    """
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)  # (2B, d)
    sim = z @ z.t() / temperature  # (2B, 2B)
    mask = torch.eye(2 * n, dtype=torch.bool, device=z.device)  # self-similarity is never a candidate
    if same_cluster is not None:
        blocked = same_cluster.repeat(2, 2) & ~torch.eye(n, dtype=torch.bool, device=z.device).repeat(2, 2)
        mask = mask | blocked
    sim = sim.masked_fill(mask, float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)  # the paired row
    return F.cross_entropy(sim, target)  # mean over the 2B anchors = the symmetric average
