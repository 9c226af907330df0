"""SEM (Xu et al., "Self-weighted contrastive learning among multiple views for
mitigating representation degeneration", NeurIPS 2023), in its default instance: InfoNCE + class mutual
information (CMI) weights + autoencoder reconstruction.

Per view ``v``: the MFLVC autoencoder (:class:`~mmc_lib.methods.deep_multiview.mflvc.ViewAutoencoder`, ``X^v → H^v`` 512-d, its
hidden features) and a per-view projection ``Z^v = normalize(W_v H^v)`` (128-d). Schedule of the authors'
``train.py`` (one Adam, lr 3e-4, batches of 256):

1. ``mse_epochs`` = 100 epochs of reconstruction ``Σ_v ||X^v − X̂^v||²``;
2. ``n_iterations`` = 4 rounds (their ``bi_level_iteration``) of ``con_epochs`` = 100 epochs each of

   ``L = Σ_v Σ_u W_{v,u} ℓ_InfoNCE(Z^v, Z^u) + λ Σ_v ||X^v − X̂^v||²`` (the self-weighted loss, λ = 1)

   with the self-weights ``W_{v,u} = exp(NMI(C^v, C^u)) − 1`` from k-means clusterings ``C^v`` (K clusters,
   100 restarts) of each view — on ``H^v`` after pretraining, on ``Z^v`` after each round. As in their code the
   sum runs over *all* ordered pairs including ``u = v`` (weight ``e − 1``; InfoNCE of a view with itself is a
   uniformity term), and InfoNCE is NT-Xent over ``2B`` rows at temperature 1.0.
3. The clustering is k-means (K, 100 restarts) of ``[Z^1, …, Z^V]`` after the last round (their ``valid``).

Model selection: none by labels — the authors' script reports the final round (a commented-out block would have
kept the model of best ACC; it is off); we take the final round.

Deviations from the authors' code (SubmissionsIn/SEM):

* Only the default options are implemented: contrastive loss InfoNCE (not PSCL / RINCE), weights by CMI (not
  JSD / MMD), plain autoencoder reconstruction (not DAE / MAE).
* Their script re-creates the Adam optimiser after every contrastive epoch ("this code matters"); we clear
  Adam's moment estimates at the start of every contrastive epoch but the first, which is the same thing.
* Batches are shuffled ``batch_size`` rows with the last partial batch kept (their ``drop_last=False``), except
  that a last batch of a single row is skipped (a one-row InfoNCE has no negatives).
* ``y`` (if given) is only logged: ACC/NMI of the concatenated k-means at the end of each round, where the
  authors print it; nothing is chosen by it. Per-epoch records hold the loss terms.
* Their per-data-set schedules differ (e.g. DHA 300 × 1, CCV 50 × 4, NUS-WIDE 25 × 4, Caltech 100 × 4 or
  × 3 epochs); our defaults are their argument defaults, 100 × 4.
* Data: we feed the views as given (the library's loaders min-max scale every view, as their Caltech loader).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import normalized_mutual_info_score
from torch import nn

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.methods.base import DeepEstimator, Run, kmeans_labels
from mmc_lib.methods.deep_multiview.mflvc import ViewAutoencoder, reconstruction_loss
from mmc_lib.nn import Hooks, adam, minibatches, train_stages
from mmc_lib.validation import check_config

__all__ = ["SEMConfig", "SEM", "cmi_weights", "self_weighted_infonce"]


@dataclass(frozen=True)
class SEMConfig:
    """Networks and schedule of SEM (defaults: the authors' ``train.py`` argument defaults)."""

    hidden: tuple[int, ...] = (500, 500, 2000)  # encoder hidden widths (decoder mirrors them)
    feature_dim: int = 512  # hidden features H^v (the reconstructed level)
    high_feature_dim: int = 128  # contrastive features Z^v
    temperature: float = 1.0  # InfoNCE temperature τ_F
    lam: float = 1.0  # λ, weight of the reconstruction term during contrastive training
    mse_epochs: int = 100  # stage 1: reconstruction pretraining
    con_epochs: int = 100  # contrastive epochs per round
    n_iterations: int = 4  # rounds (bi-level iterations); the weights are refreshed between rounds
    batch_size: int = 256  # rows per step
    lr: float = 3e-4  # Adam learning rate
    weight_decay: float = 0.0  # Adam's L2 penalty
    kmeans_n_init: int = 100  # k-means restarts (weights and the final clustering)
    times_for_k: float = 1.0  # the weights' k-means uses int(times_for_k · K) clusters

    def __post_init__(self):
        check_config(self, at_least={"feature_dim": 1, "high_feature_dim": 1, "temperature": 1e-6, "lam": 0,
                                     "mse_epochs": 0, "con_epochs": 1, "n_iterations": 1, "batch_size": 2,
                                     "lr": 0, "weight_decay": 0, "kmeans_n_init": 1, "times_for_k": 1e-6})


def cmi_weights(clusterings: list[np.ndarray]) -> np.ndarray:
    """SEM's class-mutual-information self-weights ``W_{v,u} = exp(NMI(C^v, C^u)) − 1`` (``V × V``, diagonal
    ``e − 1``): view pairs whose clusterings agree weigh more, unrelated views (NMI 0) weigh nothing.

    >>> c = np.array([0, 0, 1, 1])
    >>> cmi_weights([c, c, np.array([0, 1, 0, 1])]).round(3).tolist()
    [[1.718, 1.718, 0.0], [1.718, 1.718, 0.0], [0.0, 0.0, 1.718]]
    """
    v = len(clusterings)
    w = np.zeros((v, v))
    for i in range(v):
        for j in range(v):
            w[i, j] = np.exp(normalized_mutual_info_score(clusterings[i], clusterings[j])) - 1.0
    return w


def self_weighted_infonce(zs: list[torch.Tensor], weights: np.ndarray, *, temperature: float) -> torch.Tensor:
    """``Σ_v Σ_u W_{v,u} ℓ_InfoNCE(Z^v, Z^u)`` over all ordered view pairs, ``u = v`` included (their code).

    >>> z = torch.nn.functional.normalize(torch.randn(8, 4), dim=1)
    >>> float(self_weighted_infonce([z, z], np.zeros((2, 2)), temperature=1.0))
    0.0
    """
    return sum(float(weights[v, u]) * nt_xent(zs[v], zs[u], temperature=temperature)
               for v in range(len(zs)) for u in range(len(zs)))


class SEMNet(nn.Module):
    """Per-view autoencoders and per-view projection heads (inputs validated)."""

    def __init__(self, dims: list[int], config: SEMConfig):
        super().__init__()
        self.autoencoders = nn.ModuleList(
            ViewAutoencoder(d, hidden=config.hidden, feature_dim=config.feature_dim) for d in dims)
        self.heads = nn.ModuleList(nn.Linear(config.feature_dim, config.high_feature_dim) for _ in dims)

    def forward(self, views: list[torch.Tensor]):
        """Per view: contrastive features ``Z`` (B, 128, unit rows), reconstruction, hidden features ``H``."""
        out = [(ae(x), head) for ae, head, x in zip(self.autoencoders, self.heads, views)]
        zs = [F.normalize(head(h), dim=1) for (h, _), head in out]
        return zs, [x_hat for (_, x_hat), _ in out], [h for (h, _), _ in out]


class SEM(DeepEstimator):
    """Self-weighted multi-view contrastive learning with reconstruction regularisation (Xu et al., NeurIPS 2023).

    Parameters
    ----------
    n_clusters : int
        Number of clusters K (final k-means; the weights' k-means uses ``int(times_for_k · K)``).
    seed : int
        Seeds the weights, the batch order and every k-means.
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    config : SEMConfig, optional
        Networks and schedule; or pass its fields as keywords (``SEM(10, n_iterations=2)``).

    Attributes
    ----------
    labels_ : ndarray (n,)
        k-means of the concatenated contrastive features after the last round.
    embedding_ : ndarray (n, V·128)
        ``[Z^1, …, Z^V]``.
    view_weights_ : list of ndarray (V, V)
        The self-weights used in each round.
    history_ : list of dict
        One record per epoch (``stage``, loss terms); with ``y``, ACC/NMI at the end of each round.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> model = SEM(2, hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2, con_epochs=2,
    ...             n_iterations=2, kmeans_n_init=2)
    >>> model.fit_predict(views).shape
    (80,)
    >>> len(model.view_weights_)
    2
    """

    config_class = SEMConfig

    def _train(self, tensors, k, config: SEMConfig, generator, y) -> Run:
        model = SEMNet([t.shape[1] for t in tensors], config).to(tensors[0].device)
        optimiser = adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, config=config)
        n, device = tensors[0].shape[0], tensors[0].device
        k_weights = max(2, min(int(config.times_for_k * k), n - 1))
        seeds = iter(np.random.default_rng(self.seed).integers(0, 2**31 - 1, 10_000))
        weights: list[np.ndarray] = []

        def batches():
            return minibatches(n, config.batch_size, generator=generator, device=device, drop_last=True)

        def refresh_weights(features: list[torch.Tensor]) -> None:
            clusterings = [kmeans_labels(f.cpu().numpy().astype(np.float64), k_weights, n_init=config.kmeans_n_init,
                                         seed=int(next(seeds)))
                           for f in features]
            weights.append(cmi_weights(clusterings))

        def pretrain(idx, epoch):
            views = [t[idx] for t in tensors]
            rec = reconstruction_loss(views, model(views)[1])
            return {"rec": rec, "total": rec}

        def contrastive(idx, epoch):
            views = [t[idx] for t in tensors]
            zs, recons, _ = model(views)
            terms = {"contrast": self_weighted_infonce(zs, weights[-1], temperature=config.temperature),
                     "rec": reconstruction_loss(views, recons)}
            terms["total"] = terms["contrast"] + config.lam * terms["rec"]
            return terms

        def before_contrastive_epoch(epoch: int) -> None:
            if epoch == 1:  # the weights of round 1: k-means of the pretrained hidden features H^v
                model.eval()
                with torch.no_grad():
                    refresh_weights(model(tensors)[2])
            else:  # their script re-creates Adam after every contrastive epoch
                optimiser.state.clear()

        def after_contrastive_epoch(epoch: int, record: dict) -> None:
            if epoch == 0 or epoch % config.con_epochs:
                return
            zs = model(tensors)[0]  # eval mode, no grad (the loop's on_epoch)
            if y is not None:
                self._log(self._final_clustering(zs, k, config, int(next(seeds))), y, record)
            if epoch < config.con_epochs * config.n_iterations:  # the next round's weights, from Z^v
                refresh_weights(zs)

        history = train_stages([
            ("pretrain", pretrain, batches, config.mse_epochs, None),
            ("contrastive", contrastive, batches, config.con_epochs * config.n_iterations,
             Hooks(before_epoch=before_contrastive_epoch, on_epoch=after_contrastive_epoch)),
        ], optimiser, model)
        return Run(model, history, {"view_weights_": weights})

    @torch.no_grad()
    def _represent(self, model, tensors) -> tuple[np.ndarray, None]:
        """``[Z^1, …, Z^V]``, the contrastive features side by side (no cluster head: k-means clusters them)."""
        model.eval()
        return torch.cat(model(tensors)[0], dim=1).cpu().numpy(), None

    def _labels(self, embedding, assignments, k, config, *, monitoring=False) -> np.ndarray:
        return kmeans_labels(embedding.astype(np.float64), k, n_init=config.kmeans_n_init, seed=int(self.seed))

    @staticmethod
    def _final_clustering(zs: list[torch.Tensor], k: int, config: SEMConfig, seed: int) -> np.ndarray:
        return kmeans_labels(torch.cat(zs, dim=1).cpu().numpy().astype(np.float64), k, n_init=config.kmeans_n_init,
                             seed=seed)
