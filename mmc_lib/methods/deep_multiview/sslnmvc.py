"""SSLNMVC (Yan, Yang & Tang, "Self-supervised semantic soft label learning network for deep multi-view
clustering", IEEE Trans. Multimedia 2025, doi 10.1109/TMM.2025 (ieeexplore document 10891409); authors' code
github.com/shayeyty/SSLNMVC). The paper text was not reachable (IEEE paywall); this follows the authors' code and the
DDMC slides' description ("a consensus high-level feature learning module and a self-supervised semantic calibration
module aligning view-specific and view-consensus semantic labels").

Per view ``v`` (MFLVC-style hierarchy): ``z_v = E_v(x_v)`` (1200-d) with a decoder ``D_v``; high-level features
``h_v = normalize(W_H z_v)`` (200-d, ``W_H`` shared); semantic soft labels ``q_v = softmax(W_Q z_v)`` (``W_Q`` shared).

* **Consensus high-level features**: ``c = F(m) + m`` with ``m = ReLU(BN(W_m [h_1, …, h_V]))`` and ``F`` a small
  bottleneck MLP (200 → 100 → 100 → 200), a residual fusion of every view's high-level features.
* **Consensus semantic label**: ``ℓ = softmax(W_Q W_up c)`` — the views' own label head read on the consensus.
* Losses (contrastive phase), with α = 1 and β = 0.05:
  ``Σ_{v<w} α [NT-Xent(h_v, h_w; τ_f = 0.5) + NT-Xent(q_vᵀ, q_wᵀ; τ_l = 1) + (log K − H(q̄_v)) + (log K − H(q̄_w))]``
  (feature- and cluster-level contrast with MFLVC's entropy balance) ``+ Σ_v [β KL(q_v ‖ ℓ) + MSE(x_v, D_v(z_v))]``
  — the KL term is the **self-supervised label calibration**: every view's soft labels teach the consensus label.
* Schedule: 200 reconstruction epochs, then ``epochs`` contrastive epochs (authors: 80 on Synthetic3d; script
  default 50), one Adam (lr 3e-4), batch 256. Labels: ``argmax ℓ`` at the last epoch (the authors evaluate the
  last epoch too — no label-based selection).

Deviations from the authors' code, all named:

* The authors' KL term applies ``softmax`` to ``q_v`` and ``log_softmax`` to ``ℓ`` although both are already
  softmax outputs; we keep that (``calibration`` below) to stay faithful, and sum over the batch as they do.
* The authors' encoder has two consecutive linear layers (``500 → 500 → 2000`` without a ReLU between); kept.
* Batches: every row is visited each epoch (a last partial batch is kept); the authors drop it.
* Inputs: our loaders min-max scale every view; the authors' loaders feed Synthetic3d and Prokaryotic unscaled
  (MNIST-USPS is in [0, 1] either way).
* ``n_restarts`` > 1 picks the restart with the lowest final training loss (the authors run one seed).
* Not verifiable against the paper's equations (not reachable); checked against the authors' code only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.methods.base import DeepEstimator, Run
from mmc_lib.methods.deep_multiview.scmvc import pretrain_then_contrast
from mmc_lib.validation import check_config

__all__ = ["SSLNMVC", "SSLNMVCConfig", "PAPER_EPOCHS", "balance_entropy", "calibration"]

# contrastive epochs of the authors' train.py per data set we have (after 200 reconstruction epochs)
PAPER_EPOCHS = {"synthetic3d": 80}


@dataclass(frozen=True)
class SSLNMVCConfig:
    """Networks and schedule (defaults: the authors' ``train.py`` / ``network.py``)."""

    hidden: tuple[int, int, int] = (500, 500, 2000)  # autoencoder hidden widths (decoder mirrors)
    feature_dim: int = 1200  # low-level feature width z_v
    high_feature_dim: int = 200  # high-level feature width h_v and consensus width c
    fusion_layers: int = 1  # extra bottleneck layers inside the consensus MLP
    temperature_f: float = 0.5  # τ of the feature-level contrast
    temperature_l: float = 1.0  # τ of the cluster-level contrast
    alpha: float = 1.0  # weight of the contrastive terms
    beta: float = 0.05  # weight of the label-calibration KL (summed over the batch)
    pretrain_epochs: int = 200  # reconstruction-only epochs
    epochs: int = 50  # contrastive epochs (authors: 80 on Synthetic3d; script default 50)
    batch_size: int = 256  # rows per step
    lr: float = 3e-4  # Adam learning rate (one optimiser for both phases)
    kmeans_n_init: int = 10  # unused for labels (argmax of the consensus head); kept for the shared base
    n_restarts: int = 1  # restarts per seed; the lowest final training loss wins
    divergence_limit: float = 1e8  # a loss beyond this (or NaN/inf) stops training with an error

    def __post_init__(self):
        if len(self.hidden) != 3:
            raise ValueError(f"SSLNMVCConfig.hidden must hold 3 widths (the authors' encoder), got {self.hidden}")
        check_config(self, at_least={"feature_dim": 1, "high_feature_dim": 2, "fusion_layers": 0, "temperature_f": 1e-6,
                                     "temperature_l": 1e-6, "alpha": 0.0, "beta": 0.0, "pretrain_epochs": 0,
                                     "epochs": 1, "batch_size": 2, "lr": 0.0, "kmeans_n_init": 1, "n_restarts": 1})


def balance_entropy(q: torch.Tensor) -> torch.Tensor:
    """``log K − H(q̄)`` with ``q̄`` the batch's mean soft label: 0 when clusters are used equally (MFLVC's term).

    >>> round(float(balance_entropy(torch.tensor([[1., 0.], [0., 1.]]))), 4)
    0.0
    """
    p = q.sum(0) / q.sum()  # (K,)
    return math.log(p.numel()) + (p * torch.log(p)).sum()


def calibration(consensus: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Label calibration ``KL(softmax(q) ‖ softmax(consensus))`` summed over the batch (authors' ``F.kl_div`` call,
    whose inputs are softmax outputs already).

    >>> q = torch.tensor([[0.9, 0.1]])
    >>> abs(float(calibration(q, q))) < 1e-6, float(calibration(q, q.flip(1))) > 0
    (True, True)
    """
    return F.kl_div(F.log_softmax(consensus, dim=1), F.softmax(q, dim=1), reduction="sum")


def _authors_stack(widths: list[int]) -> nn.Sequential:
    """``d → 500 → 500 → 2000 → out`` (five widths) with ReLU after the 1st and 3rd layers only (authors'
    ``Encoder``/``Decoder``)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i in (0, 2) and i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SSLNMVCNet(nn.Module):
    """Per-view autoencoders, shared high-level/label heads, the residual consensus fusion (inputs validated)."""

    def __init__(self, dims: list[int], k: int, config: SSLNMVCConfig):
        super().__init__()
        f, h = config.feature_dim, config.high_feature_dim
        hid = list(config.hidden)
        self.encoders = nn.ModuleList(_authors_stack([d, *hid, f]) for d in dims)
        self.decoders = nn.ModuleList(_authors_stack([f, *hid[::-1], d]) for d in dims)
        self.high = nn.Linear(f, h)  # W_H, shared by the views
        self.label = nn.Sequential(nn.Linear(f, k), nn.Softmax(dim=1))  # W_Q, shared by views and consensus
        self.up = nn.Linear(h, f)  # W_up: consensus → the label head's input space
        self.map = nn.Sequential(nn.Linear(h * len(dims), h), nn.BatchNorm1d(h), nn.ReLU())
        mid = h // 2
        bottleneck = [nn.Linear(h, mid, bias=False), nn.BatchNorm1d(mid), nn.ReLU()]
        for _ in range(config.fusion_layers):
            bottleneck += [nn.Linear(mid, mid, bias=False), nn.ReLU()]
        self.fusion = nn.Sequential(*bottleneck, nn.Linear(mid, h, bias=False))

    def forward(self, views: list[torch.Tensor]):
        zs = [enc(x) for enc, x in zip(self.encoders, views)]  # V × (B, F)
        hs = [F.normalize(self.high(z), dim=1) for z in zs]  # V × (B, H)
        qs = [self.label(z) for z in zs]  # V × (B, K)
        recons = [dec(z) for dec, z in zip(self.decoders, zs)]  # V × (B, d_v)
        m = self.map(torch.cat(hs, dim=1))  # (B, H)
        consensus = self.fusion(m) + m  # (B, H), residual fusion
        return hs, qs, recons, consensus, self.label(self.up(consensus))  # last: (B, K) consensus label

    def reconstruction(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        recons = [dec(enc(x)) for enc, dec, x in zip(self.encoders, self.decoders, views)]
        rec = sum(F.mse_loss(xr, x) for xr, x in zip(recons, views))
        return {"rec": rec, "total": rec}

    def losses(self, views: list[torch.Tensor], config: SSLNMVCConfig) -> dict[str, torch.Tensor]:
        hs, qs, recons, _, label = self(views)
        pairs = list(combinations(range(len(views)), 2))
        feat = sum(nt_xent(hs[v], hs[w], temperature=config.temperature_f) for v, w in pairs)
        clus = sum(nt_xent(qs[v].t(), qs[w].t(), temperature=config.temperature_l) for v, w in pairs)
        balance = sum(balance_entropy(qs[v]) + balance_entropy(qs[w]) for v, w in pairs)
        calib = sum(calibration(label, q) for q in qs)
        rec = sum(F.mse_loss(xr, x) for xr, x in zip(recons, views))
        total = config.alpha * (feat + clus + balance) + config.beta * calib + rec
        return {"feature": feat, "cluster": clus, "balance": balance, "calibration": calib, "rec": rec,
                "objective": total, "total": total}


class SSLNMVC(DeepEstimator):
    """Consensus high-level features + self-supervised semantic label calibration; labels = argmax of the
    consensus semantic label.

    Parameters
    ----------
    n_clusters : int
    seed : int — seeds initialisation and batch order; never moves the caller's RNG.
    device : str — ``"cpu"``, ``"cuda"`` or ``"auto"``.
    config : SSLNMVCConfig, optional — networks and schedule (default: the authors' settings).

    Attributes: ``labels_``, ``embedding_`` (consensus features ``c``, ``(n, high_feature_dim)``), ``assignments_``
    (consensus soft labels ``(n, K)``), ``history_`` (per epoch; ``phase`` is ``pretrain`` or ``contrast``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 30)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .1, (60, 2)) for _ in range(2)]
    >>> cfg = SSLNMVCConfig(hidden=(16, 16, 16), feature_dim=16, high_feature_dim=8, pretrain_epochs=1, epochs=2, batch_size=32)
    >>> SSLNMVC(2, config=cfg).fit_predict(views).shape
    (60,)
    """

    config_class = SSLNMVCConfig

    def _train(self, tensors, k, config, generator, y) -> Run:
        model = SSLNMVCNet([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        contrast = lambda batch: model.losses(batch, config)  # noqa: E731
        on_epoch = self._monitor(model, tensors, k, config, y)
        return Run(model, pretrain_then_contrast(model, tensors, config, generator, contrast, on_epoch))

    @torch.no_grad()
    def _represent(self, model, tensors) -> tuple[np.ndarray, np.ndarray]:
        """The consensus features ``c`` and the consensus soft labels (their argmax are the labels)."""
        model.eval()
        _, _, _, consensus, label = model(tensors)
        return consensus.cpu().numpy(), label.cpu().numpy()
