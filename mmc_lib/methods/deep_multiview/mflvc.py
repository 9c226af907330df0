"""MFLVC (Xu, Tang, Ren, Peng, Zhu & He, "Multi-level feature learning for contrastive multi-view clustering",
CVPR 2022), and the parts it shares with SEM (:mod:`mmc_lib.methods.deep_multiview.sem`, same group, same code base).

Per view ``m``: an autoencoder ``X^m → Z^m → X̂^m`` (the low-level features, ``784-500-500-2000-512`` style MLPs,
ReLU, no BatchNorm), then two heads on ``Z^m`` shared by all views: the high-level features
``H^m = normalize(W_H Z^m)`` (one ``Linear(512, 128)``) and the semantic labels ``Q^m = softmax(W_Q Z^m)``
(one ``Linear(512, K)``). Three stages on one Adam optimiser (lr 3e-4), as the authors' ``train.py``:

1. ``mse_epochs`` = 200 epochs of reconstruction ``Σ_m ||X^m − X̂^m||²`` (the paper's ``L_Z``; per-element mean,
   as their code);
2. ``con_epochs`` = 50 epochs of ``Σ_{m<n} [L_H(H^m, H^n) + L_Q(Q^m, Q^n)] + Σ_m L_Z^m``: ``L_H``
   the feature-level NT-Xent over the ``2B`` rows at ``τ_F = 0.5``, ``L_Q`` the cluster-level NT-Xent
   over the ``2K`` columns of ``Q`` at ``τ_L = 1.0`` plus the cluster-size entropy regulariser
   ``Σ_m (log K − H(mean_i Q^m_i))`` (``log K`` is the constant of their code);
3. ``tune_epochs`` = 50 full-batch steps of the fine-tuning loss ``L_P = Σ_m CE(Q^m, P̂^m)``: the
   pseudo-labels ``P^m`` are k-means (K clusters, 100 restarts) of each view's min-max-scaled ``H^m``, computed
   once after stage 2; every step they are relabelled to agree with ``argmax Q^m`` by the Hungarian algorithm
   before the cross-entropy.

Equation numbers are not cited: the paper's text could not be opened from this machine; the loss names
(``L_Z``, ``L_H``, ``L_Q``, ``L_P``) are the paper's, the details follow the authors' code.

The prediction is ``argmax_k (1/M) Σ_m Q^m_{ik}`` (their ``valid``).

Model selection: the authors' ``train.py`` reports the last epoch (no label-based choice; ``valid`` only prints),
and we too take the last epoch. Their script fixes one hand-picked torch seed per data set ("higher than the
values shown in the paper"); we use the caller's seed.

Deviations from the authors' code (SubmissionsIn/MFLVC):

* Stage-2 batches are ``batch_size`` rows with the incomplete last batch dropped (their ``drop_last=True``); when
  the data set has fewer rows than ``batch_size`` we use one batch of all rows (their code cannot run there).
* The cross-entropy of stage 3 is applied, as in their code, to the softmax *probabilities* ``Q`` (PyTorch's
  ``CrossEntropyLoss`` takes logits, so ``Q`` is soft-maxed a second time); the paper writes ``−Σ P̂ log Q``.
  Kept as their code because their reported numbers come from it.
* Hungarian matching uses a ``K × K`` table (their ``max(label)+1``: the same whenever all K labels occur).
* No per-epoch evaluation by labels; ``y`` passed to ``fit`` is only logged (ACC/NMI per epoch in ``history_``).
* Data: we feed the views as given (the library's loaders min-max scale every view; the authors feed
  MNIST-USPS unscaled, which is already in [0, 1]).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from sklearn.preprocessing import minmax_scale
from torch import nn

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.methods.base import DeepEstimator, Run, kmeans_labels
from mmc_lib.nn import Hooks, adam, minibatches, mlp, train_stages
from mmc_lib.validation import check_config

__all__ = ["MFLVCConfig", "MFLVC", "ViewAutoencoder", "cluster_contrastive_loss", "hungarian_relabel"]


@dataclass(frozen=True)
class MFLVCConfig:
    """Networks and schedule of MFLVC (defaults: the authors' ``train.py`` for MNIST-USPS)."""

    hidden: tuple[int, ...] = (500, 500, 2000)  # encoder hidden widths (decoder mirrors them)
    feature_dim: int = 512  # low-level features Z^m
    high_feature_dim: int = 128  # high-level features H^m
    temperature_f: float = 0.5  # τ_F of the feature-level contrastive loss
    temperature_l: float = 1.0  # τ_L of the cluster-level contrastive loss
    mse_epochs: int = 200  # stage 1: reconstruction pretraining
    con_epochs: int = 50  # stage 2: contrastive training (their per-data-set value: 10 BDGP, 100 Fashion, else 50)
    tune_epochs: int = 50  # stage 3: full-batch pseudo-label fine-tuning steps
    batch_size: int = 256  # rows per step in stages 1–2
    lr: float = 3e-4  # Adam learning rate (one optimiser for all stages)
    weight_decay: float = 0.0  # Adam's L2 penalty
    kmeans_n_init: int = 100  # k-means restarts for the pseudo-labels

    def __post_init__(self):
        check_config(self, at_least={"feature_dim": 1, "high_feature_dim": 1, "temperature_f": 1e-6,
                                     "temperature_l": 1e-6, "mse_epochs": 0, "con_epochs": 0, "tune_epochs": 0,
                                     "batch_size": 2, "lr": 0, "weight_decay": 0, "kmeans_n_init": 1})


# ---------------------------------------------------------------------------------------- shared with SEM
class ViewAutoencoder(nn.Module):
    """One view's autoencoder ``x (B, d) → z (B, feature_dim) → x̂ (B, d)``: ReLU MLPs without BatchNorm, linear
    outputs (the ``Encoder``/``Decoder`` of the MFLVC and SEM code).

    >>> ae = ViewAutoencoder(6, hidden=(8, 4), feature_dim=3)
    >>> z, x_hat = ae(torch.randn(5, 6))
    >>> tuple(z.shape), tuple(x_hat.shape)
    ((5, 3), (5, 6))
    """

    def __init__(self, d_in: int, *, hidden: Sequence[int], feature_dim: int):
        super().__init__()
        self.encoder = mlp([d_in, *hidden, feature_dim], batchnorm=False)
        self.decoder = mlp([feature_dim, *reversed(hidden), d_in], batchnorm=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)  # (B, feature_dim)
        return z, self.decoder(z)  # (B, feature_dim), (B, d)


def reconstruction_loss(views: Sequence[torch.Tensor], recons: Sequence[torch.Tensor]) -> torch.Tensor:
    """``Σ_m mean((X^m − X̂^m)²)``: MFLVC's ``L_Z`` and SEM's reconstruction term (per-element means)."""
    return sum(F.mse_loss(r, x) for x, r in zip(views, recons))


def full_rows_batches(n: int, batch_size: int, *, generator: torch.Generator, device) -> Callable:
    """Shuffled batches of exactly ``min(batch_size, n)`` rows (a DataLoader with ``drop_last=True``)."""
    size = min(batch_size, n)

    def batches():
        return (idx for idx in minibatches(n, size, generator=generator, device=device) if len(idx) == size)

    return batches


def hungarian_relabel(pseudo: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Rename the clusters of ``pseudo`` to the clusters of ``pred`` they overlap most (one-to-one, Hungarian;
    MFLVC's pseudo-label matching, their ``match``), so that a cross-entropy against ``pred``'s model does not
    fight a permutation.

    >>> hungarian_relabel(np.array([0, 0, 1, 1, 2]), np.array([2, 2, 0, 0, 1]), 3).tolist()
    [2, 2, 0, 0, 1]
    """
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (pred, pseudo), 1)  # counts[a, b]: rows predicted a with pseudo-label b
    rows, cols = linear_sum_assignment(-counts)  # maximise the agreement
    mapping = np.empty(k, dtype=np.int64)
    mapping[cols] = rows  # pseudo cluster b → predicted cluster a
    return mapping[pseudo]


def cluster_contrastive_loss(q1: torch.Tensor, q2: torch.Tensor, *, temperature: float) -> torch.Tensor:
    """MFLVC's ``L_Q`` for one view pair: NT-Xent between the ``K`` cluster columns of ``Q^1`` and
    ``Q^2`` (cosine similarity, ``2K`` anchors) plus ``Σ_{v∈{1,2}} (log K − H(p^v))`` with ``p^v`` the mean
    assignment (the entropy term against empty clusters; ``log K`` makes it ≥ 0, as their code).

    >>> q = torch.eye(3).repeat(2, 1)  # confident, balanced, identical in both views
    >>> round(float(cluster_contrastive_loss(q, q, temperature=1.0)), 4)  # -log(e / (e + 4)), no entropy cost
    0.9048
    """
    k = q1.shape[1]
    entropy_cost = 0.0
    for q in (q1, q2):
        p = q.sum(0) / q.sum()  # (K,) cluster sizes
        entropy_cost = entropy_cost + math.log(k) + (p * torch.log(p)).sum()
    return nt_xent(q1.t(), q2.t(), temperature=temperature) + entropy_cost  # columns are the anchors


# ---------------------------------------------------------------------------------------------------- MFLVC
class MFLVCNet(nn.Module):
    """Per-view autoencoders and the two heads shared by all views (inputs validated)."""

    def __init__(self, dims: list[int], k: int, config: MFLVCConfig):
        super().__init__()
        self.autoencoders = nn.ModuleList(
            ViewAutoencoder(d, hidden=config.hidden, feature_dim=config.feature_dim) for d in dims)
        self.feature_head = nn.Linear(config.feature_dim, config.high_feature_dim)  # W_H, shared by the views
        self.label_head = nn.Linear(config.feature_dim, k)  # W_Q, shared by the views

    def forward(self, views: list[torch.Tensor]):
        """Per view: high-level ``H`` (B, 128, unit rows), labels ``Q`` (B, K), reconstruction, low-level ``Z``."""
        out = []
        for ae, x in zip(self.autoencoders, views):
            z, x_hat = ae(x)
            out.append((F.normalize(self.feature_head(z), dim=1), torch.softmax(self.label_head(z), dim=1), x_hat, z))
        hs, qs, recons, zs = map(list, zip(*out))
        return hs, qs, recons, zs

    def semantic_labels(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        """``Q^m`` (B, K) per view, without the decoders (all that fine-tuning needs)."""
        return [torch.softmax(self.label_head(ae.encoder(x)), dim=1) for ae, x in zip(self.autoencoders, views)]

    def contrastive_losses(self, views: list[torch.Tensor], config: MFLVCConfig) -> dict[str, torch.Tensor]:
        """Stage 2: ``Σ_{m<n} (L_H + L_Q) + Σ_m L_Z^m``."""
        hs, qs, recons, _ = self(views)
        pairs = [(m, n) for m in range(len(views)) for n in range(m + 1, len(views))]
        terms = {
            "feature": sum(nt_xent(hs[m], hs[n], temperature=config.temperature_f) for m, n in pairs),  # L_H
            "cluster": sum(cluster_contrastive_loss(qs[m], qs[n], temperature=config.temperature_l)
                           for m, n in pairs),  # L_Q
            "rec": reconstruction_loss(views, recons),
        }
        terms["total"] = terms["feature"] + terms["cluster"] + terms["rec"]
        return terms


class MFLVC(DeepEstimator):
    """Multi-level feature learning for contrastive multi-view clustering (Xu et al., CVPR 2022).

    Parameters
    ----------
    n_clusters : int
        Number of clusters K (the width of the label head).
    seed : int
        Seeds the weights, the batch order and the pseudo-label k-means.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    config : MFLVCConfig, optional
        Networks and schedule; or pass its fields as keywords (``MFLVC(10, con_epochs=20)``).

    Attributes
    ----------
    labels_ : ndarray (n,)
        ``argmax`` of the view-averaged semantic labels after fine-tuning.
    assignments_ : ndarray (n, K)
        The view-averaged semantic labels ``(1/M) Σ_m Q^m``.
    embedding_ : ndarray (n, M·128)
        The high-level features of all views side by side.
    history_ : list of dict
        One record per epoch of the three stages (``stage``, loss terms; ``acc``/``nmi`` when ``y`` is given).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> model = MFLVC(2, hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2, con_epochs=2,
    ...               tune_epochs=2, kmeans_n_init=2)
    >>> model.fit_predict(views).shape
    (80,)
    """

    config_class = MFLVCConfig

    def _train(self, tensors, k, config: MFLVCConfig, generator, y) -> Run:
        model = MFLVCNet([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        optimiser = adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, config=config)
        n = tensors[0].shape[0]
        batches = full_rows_batches(n, config.batch_size, generator=generator, device=tensors[0].device)
        state: dict = {}

        log = self._monitor(model, tensors, k, config, y)

        def pretrain(idx, epoch):
            views = [t[idx] for t in tensors]
            rec = reconstruction_loss(views, model(views)[2])
            return {"rec": rec, "total": rec}

        def make_pseudo_labels(epoch: int) -> None:  # once, before the first fine-tuning step
            if epoch == 1:
                model.eval()
                with torch.no_grad():
                    hs = model(tensors)[0]
                seeds = np.random.default_rng(self.seed).integers(0, 2**31 - 1, len(hs))
                state["pseudo"] = [kmeans_labels(minmax_scale(h.cpu().numpy()).astype(np.float64), k,
                                                 n_init=config.kmeans_n_init, seed=int(s)) for h, s in zip(hs, seeds)]

        def finetune(idx, epoch):
            qs = model.semantic_labels(tensors)
            loss = 0.0
            for q, pseudo in zip(qs, state["pseudo"]):
                target = hungarian_relabel(pseudo, q.detach().argmax(1).cpu().numpy(), k)
                loss = loss + F.cross_entropy(q, torch.as_tensor(target, device=q.device))  # on Q, as their code
            return {"pseudo_ce": loss, "total": loss}

        everything = lambda: [torch.arange(n, device=tensors[0].device)]  # noqa: E731 - one full batch
        history = train_stages([
            ("pretrain", pretrain, batches, config.mse_epochs, Hooks(on_epoch=log)),
            ("contrastive", lambda idx, e: model.contrastive_losses([t[idx] for t in tensors], config), batches,
             config.con_epochs, Hooks(on_epoch=log)),
            ("finetune", finetune, everything, config.tune_epochs,
             Hooks(before_epoch=make_pseudo_labels, on_epoch=log)),
        ], optimiser, model)
        return Run(model, history, {"pseudo_labels_": state.get("pseudo")})

    @torch.no_grad()
    def _represent(self, model, tensors) -> tuple[np.ndarray, np.ndarray]:
        """The high-level features of all views side by side, and the view-averaged semantic labels."""
        model.eval()
        hs, qs, _, _ = model(tensors)
        q = (sum(qs) / len(qs)).cpu().numpy()  # (n, K): their valid() averages the views' labels
        return torch.cat(hs, dim=1).cpu().numpy(), q
