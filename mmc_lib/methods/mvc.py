"""SiMVC and CoMVC (Trosten, Løkse, Jenssen & Kampffmeyer, "Reconsidering representation alignment for
multi-view clustering", CVPR 2021), and the parts they share with DDMC.

* SiMVC: per-view encoders → weighted mean ``Σ_v softmax(w)_v z^v`` (learned weights) → DDC head; ``L_DDC``.
* CoMVC: SiMVC + a contrastive alignment of every pair of views (NT-Xent, τ = 0.1), weighted by the
  smallest fusion weight (the paper's adaptive weight, eq. 9) and with negatives predicted to share the
  anchor's cluster dropped (its negative sampling, simplified: all other-cluster rows are negatives).

Shared with DDMC:

* :class:`MVCConfig` — encoder sizes, the DDC head and the schedule;
* :class:`ViewEncoder` — one MLP per modality, deterministic or variational (mean and log-variance);
* :class:`DeepMVCEstimator` — validation, seeding, several restarts per seed, selection by the lowest
  final training objective (never by labels), ``labels_`` / ``history_`` / ``embedding_``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import combinations

import numpy as np
import torch
from torch import nn

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.losses.ddc import ddc_loss
from mmc_lib.metrics import accuracy, nmi
from mmc_lib.nn import DDCHead, TrainerConfig, mlp, seeded, to_device_views, train_module
from mmc_lib.runtime import one_thread, resolve_device
from mmc_lib.validation import check_config, check_n_clusters, check_views


@dataclass(frozen=True)
class MVCConfig:
    """Networks and schedule shared by DDMC, SiMVC and CoMVC (same encoders, same DDC head)."""

    hidden: tuple[int, ...] = (256, 128)  # encoder hidden widths (Linear→BatchNorm→ReLU), per modality
    latent_dim: int = 64  # width of each modality's representation Z^m
    ddc_hidden: int = 100  # DDC head hidden units (Kampffmeyer et al. 2019)
    rel_sigma: float = 0.15  # DDC kernel: σ² = rel_sigma · median squared distance
    temperature: float = 0.5  # NT-Xent temperature (DDMC's L2; CoMVC uses 0.1, set in CoMVC)
    epochs: int = 100  # Adam epochs
    batch_size: int = 256  # mini-batch rows
    lr: float = 1e-3  # Adam learning rate
    n_restarts: int = 3  # restarts per seed; the lowest final objective wins

    def __post_init__(self):
        check_config(self, at_least={"latent_dim": 1, "ddc_hidden": 1, "epochs": 1, "batch_size": 2, "n_restarts": 1})

    def trainer(self) -> TrainerConfig:
        return TrainerConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr)


class ViewEncoder(nn.Module):
    """``x (B, d) → z (B, latent)``; variational encoders also return ``(mu, logvar)`` and sample ``z`` in training.

    >>> import torch
    >>> enc = ViewEncoder(5, MVCConfig(hidden=(8,), latent_dim=3), variational=True)
    >>> z, mu, logvar = enc(torch.randn(4, 5))
    >>> tuple(z.shape), tuple(logvar.shape)
    ((4, 3), (4, 3))
    """

    def __init__(self, d_in: int, config: MVCConfig, *, variational: bool = False):
        super().__init__()
        self.variational = variational
        out = 2 * config.latent_dim if variational else config.latent_dim
        self.net = mlp([d_in, *config.hidden, out], batchnorm=True)

    def forward(self, x: torch.Tensor):
        h = self.net(x)  # (B, latent) or (B, 2·latent)
        if not self.variational:
            return h, h, None
        mu, logvar = h.chunk(2, dim=1)
        logvar = logvar.clamp(-8.0, 8.0)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu  # reparameterisation
        return z, mu, logvar


class DeepMVCEstimator:
    """Shared ``fit`` plumbing. Subclasses implement ``_build(dims, k, config) -> nn.Module`` whose module has
    ``losses(batch) -> dict`` (with ``"total"`` and ``"objective"``) and ``represent(views) -> (embedding, assignments)``.
    """

    min_views = 2

    def __init__(self, n_clusters: int, *, config: MVCConfig | None = None, seed: int = 0, device: str = "cpu",
                 snapshot_epochs: tuple[int, ...] = ()):
        self.n_clusters = n_clusters
        self.config = config
        self.seed = seed
        self.device = device
        self.snapshot_epochs = snapshot_epochs

    # -- public -------------------------------------------------------------------------------------------
    @one_thread
    def fit(self, views, y=None):
        """Cluster the samples of ``views`` (list of ``(n, d_m)`` arrays).

        ``y`` is optional and used ONLY to log ACC/NMI per epoch in ``history_`` (for convergence plots);
        it never touches training or the choice among restarts.
        """
        views = check_views(views, min_views=self.min_views)
        k = check_n_clusters(self.n_clusters, views[0].shape[0])
        self._check_params(views)
        config = self.config or MVCConfig()
        device = resolve_device(self.device)
        tensors = to_device_views(views, device)
        y = None if y is None else np.asarray(y)
        runs = [self._fit_once(tensors, k, config, restart, y) for restart in range(config.n_restarts)]
        self.restart_objectives_ = [r["objective"] for r in runs]
        best = runs[int(np.argmin(self.restart_objectives_))]  # unsupervised model selection
        self.model_, self.history_, self.snapshots_ = best["model"], best["history"], best["snapshots"]
        emb, assign = self._represent(tensors)
        self.embedding_, self.assignments_ = emb, assign
        self.labels_ = assign.argmax(axis=1).astype(np.int64)
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    # -- helpers ------------------------------------------------------------------------------------------
    def _check_params(self, views: list[np.ndarray]) -> None:
        """Subclass hook for parameter checks that need the data (e.g. the dominant index)."""

    def _fit_once(self, tensors, k: int, config: MVCConfig, restart: int, y) -> dict:
        with seeded(1000 * int(self.seed) + restart) as generator:
            return self._train_once(tensors, k, config, generator, y)

    def _train_once(self, tensors, k: int, config: MVCConfig, generator: torch.Generator, y) -> dict:
        model = self._build([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        self.model_ = model
        snapshots: dict[int, np.ndarray] = {}

        def on_epoch(epoch: int, record: dict) -> None:
            if y is None and epoch not in self.snapshot_epochs:
                return
            emb, assign = self._represent(tensors)
            if epoch in self.snapshot_epochs:
                snapshots[epoch] = emb
            if y is not None:
                pred = assign.argmax(axis=1)
                record["acc"], record["nmi"] = accuracy(y, pred), nmi(y, pred)

        history = train_module(model, tensors, config.trainer(), generator=generator, on_epoch=on_epoch)
        return {"model": model, "history": history, "snapshots": snapshots, "objective": history[-1]["objective"]}

    @torch.no_grad()
    def _represent(self, tensors) -> tuple[np.ndarray, np.ndarray]:
        self.model_.eval()
        emb, assign = self.model_.represent(tensors)
        return emb.cpu().numpy(), assign.cpu().numpy()

    def _build(self, dims: list[int], k: int, config: MVCConfig) -> nn.Module:  # pragma: no cover - abstract
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------- SiMVC, CoMVC
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
