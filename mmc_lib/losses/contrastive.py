"""The InfoNCE family (van den Oord et al. 2018): contrastive losses between two views of the same samples.

Both members score true pairs against the other pairs of a batch with cosine similarity over a temperature:

* :func:`nt_xent` — SimCLR's NT-Xent (Chen et al. 2020, eq. 1): ``2B`` anchors, negatives from both views
  (in-view included), fixed temperature; optionally cluster-masked negatives (CoMVC). Used by DDMC and CoMVC.
* :func:`clip_info_nce` — CLIP's symmetric InfoNCE (Radford et al. 2021, Fig. 3): cross-view negatives only,
  a learnable logit scale ``1/τ``. Used by the contrastive joint-embedding aligner.
"""

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


def clip_info_nce(z_a: torch.Tensor, z_b: torch.Tensor, logit_scale: torch.Tensor) -> dict[str, torch.Tensor]:
    """CLIP's symmetric InfoNCE on L2-normalised embeddings; row ``i`` of each is a true pair.

    ``logits = s · z_a z_bᵀ``; cross-entropy towards the diagonal along rows (a→b) and columns (b→a),
    averaged (Radford et al. 2021, Fig. 3).

    Examples
    --------
    >>> z = torch.eye(3)
    >>> round(float(clip_info_nce(z, z, torch.tensor(1.0))["total"]), 4)  # -log(e / (e + 2))
    0.5514
    """
    logits = logit_scale * z_a @ z_b.T  # (B, B): similarity of every a to every b
    target = torch.arange(z_a.shape[0], device=z_a.device)
    a2b = F.cross_entropy(logits, target)  # each a picks its own b among the batch
    b2a = F.cross_entropy(logits.T, target)  # each b picks its own a
    return {"a2b": a2b, "b2a": b2a, "total": (a2b + b2a) / 2}
