"""SiMVC and CoMVC (Trosten, Løkse, Jenssen & Kampffmeyer, "Reconsidering representation alignment for
multi-view clustering", CVPR 2021) on the same encoders and DDC head as DDMC.

* SiMVC: per-view encoders → weighted mean ``Σ_v softmax(w)_v z^v`` (learned weights) → DDC head; ``L_DDC``.
* CoMVC: SiMVC + a contrastive alignment of every pair of views (NT-Xent, τ = 0.1), weighted by the
  smallest fusion weight (the paper's adaptive weight, eq. 9) and with negatives predicted to share the
  anchor's cluster dropped (its negative sampling, simplified: all other-cluster rows are negatives).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import torch
from torch import nn

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.methods.ddc import DDCHead, ddc_loss
from mmc_lib.methods.mvc_parts import DeepMVCEstimator, MVCConfig, ViewEncoder


class SiMVCNet(nn.Module):
    """Encoders, weighted-mean fusion, DDC head; ``contrastive=True`` makes it CoMVC (inputs validated)."""

    def __init__(self, dims: list[int], k: int, config: MVCConfig, *, contrastive: bool = False):
        super().__init__()
        self.contrastive, self.temperature, self.rel_sigma = contrastive, config.temperature, config.rel_sigma
        self.encoders = nn.ModuleList(ViewEncoder(d, config) for d in dims)
        self.fusion_weights = nn.Parameter(torch.zeros(len(dims)))
        self.head = DDCHead(config.latent_dim, k, hidden=config.ddc_hidden)

    def _fuse(self, z: list[torch.Tensor]) -> torch.Tensor:
        w = torch.softmax(self.fusion_weights, dim=0)
        return (w[:, None, None] * torch.stack(z)).sum(dim=0)  # (B, latent)

    def represent(self, views: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        fused = self._fuse([enc(x)[0] for enc, x in zip(self.encoders, views)])
        return fused, self.head(fused)[1]

    def losses(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        z = [enc(x)[0] for enc, x in zip(self.encoders, views)]
        hidden, q = self.head(self._fuse(z))
        terms = ddc_loss(hidden, q, rel_sigma=self.rel_sigma)
        total = terms["ddc1"] + terms["ddc2"] + terms["ddc3"]
        if self.contrastive:
            pred = q.argmax(dim=1)
            same = pred[:, None] == pred[None, :]  # (B, B) predicted same cluster: not a negative
            pairs = list(combinations(range(len(z)), 2))
            contrast = sum(nt_xent(z[u], z[v], temperature=self.temperature, same_cluster=same) for u, v in pairs)
            terms["contrast"] = contrast / len(pairs)
            total = total + torch.softmax(self.fusion_weights, dim=0).min() * terms["contrast"]  # eq. 9 weight
        terms["objective"] = total
        terms["total"] = total
        return terms


class SiMVC(DeepMVCEstimator):
    """Simple multi-view clustering: weighted-mean fusion + DDC.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> cfg = MVCConfig(hidden=(16,), latent_dim=4, epochs=3, batch_size=40, n_restarts=1)
    >>> SiMVC(2, config=cfg).fit_predict(views).shape
    (80,)
    """

    contrastive = False

    def _build(self, dims, k, config):
        return SiMVCNet(dims, k, config, contrastive=self.contrastive)


class CoMVC(SiMVC):
    """SiMVC with contrastive alignment (NT-Xent at τ = 0.1, CoMVC's default)."""

    contrastive = True

    def _build(self, dims, k, config):
        return SiMVCNet(dims, k, replace(config, temperature=0.1), contrastive=True)
