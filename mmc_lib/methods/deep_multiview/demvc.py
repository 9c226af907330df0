"""DEMVC (Xu, Ren, Li, Pan, Zhu & Xu, "Deep embedded multi-view clustering with collaborative training",
Information Sciences 573, 2021; official code JieXuUESTC/DEMVC, Keras).

1. Pretrain one autoencoder per view on reconstruction (all views in one model, summed MSE).
2. Consistent centre initialisation: k-means on the first view's embedding; its centres initialise the
   DEC clustering layer of *every* view.
3. Collaborative training: every view ``v`` has Student-t soft assignments ``Q^v`` (DEC eq. 1,
   :func:`mmc_lib.losses.dec.student_t`) and minimises ``λ_c KL(P || Q^v) + λ_r ||x^v − x̂^v||²`` with ONE
   shared target ``P`` (DEC's sharpened target, :func:`mmc_lib.losses.dec.target_distribution`) computed
   from the ``Q`` of one view, the view taking turns (view 1, 2, …, 1, …) at every target refresh.
4. The labels: ``argmax_k Σ_v Q^v_{ik}``.

Defaults are the official ``main.py``: λ_c = 0.1, λ_r = 1, Adam lr 1e-3, batch 256, 500 pretraining epochs,
20 000 clustering steps with the target refreshed every 200 steps, k-means with 100 restarts, latent size 10,
fully connected autoencoders ``d-500-500-2000-10`` (the code's ``FAE``) with ReLU.

Deviations from the official code:

* the official MNIST-USPS run uses a convolutional autoencoder (``CAE``, filters 32-64-128, latent 10) on
  28×28 images; we use the fully connected ``FAE`` on every data set (our views are feature vectors; the
  official code uses FAE for its vector data, e.g. BDGP);
* clustering batches: the official code walks the (once-shuffled) data in a fixed order, keeping the last
  partial batch; we reshuffle every epoch with the shared sampler;
* Keras' ``kld`` clips P and Q to [1e-7, 1]; we take the exact KL;
* weights: Keras' VarianceScaling(1/3, fan_in, uniform) initialisation (which equals PyTorch's default
  ``Linear`` weight scale); biases use PyTorch's default instead of Keras' zeros;
* there is no label-based selection in the official loop (the last step is used), and none here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from torch import nn

from mmc_lib.losses.dec import student_t, target_distribution
from mmc_lib.methods.base import DeepEstimator, Run
from mmc_lib.nn import Hooks, adam, minibatches, mlp, to_device_views, train
from mmc_lib.runtime import resolve_device
from mmc_lib.validation import check_config, check_views

__all__ = ["DEMVCConfig", "DEMVC"]


@dataclass(frozen=True)
class DEMVCConfig:
    """DEMVC networks and schedule (defaults: the official ``main.py``)."""

    hidden: tuple[int, ...] = (500, 500, 2000)  # encoder hidden widths (ReLU); the decoder mirrors them
    latent_dim: int = 10  # embedding size per view
    pretrain_epochs: int = 500  # autoencoder reconstruction epochs
    iterations: int = 20000  # clustering steps (the code's maxiter)
    update_interval: int = 200  # steps between refreshes of the shared target P
    batch_size: int = 256  # rows per step
    lr: float = 1e-3  # Adam, pretraining and clustering
    cluster_weight: float = 0.1  # λ_c, weight of each view's KL(P || Q^v)
    rec_weight: float = 1.0  # λ_r, weight of each view's reconstruction MSE
    alpha: float = 1.0  # Student-t degrees of freedom
    n_init: int = 100  # k-means restarts for the initial centres (lowest inertia)
    first_view: int = 0  # the view whose k-means centres start every view and whose Q gives the first target

    def __post_init__(self):
        check_config(self, at_least={"latent_dim": 1, "pretrain_epochs": 0, "iterations": 0, "update_interval": 1,
                                     "batch_size": 2, "lr": 0, "cluster_weight": 0, "rec_weight": 0,
                                     "alpha": 1e-12, "n_init": 1, "first_view": 0})


class _ViewAutoencoder(nn.Module):
    def __init__(self, d: int, cfg: DEMVCConfig):
        super().__init__()
        self.encoder = mlp([d, *cfg.hidden, cfg.latent_dim], batchnorm=False)
        self.decoder = mlp([cfg.latent_dim, *reversed(cfg.hidden), d], batchnorm=False)
        for module in self.modules():  # Keras VarianceScaling(1/3, fan_in, uniform): U(±1/sqrt(fan_in))
            if isinstance(module, nn.Linear):
                bound = 1.0 / math.sqrt(module.in_features)
                nn.init.uniform_(module.weight, -bound, bound)


class DEMVCNet(nn.Module):
    """One autoencoder and one set of DEC centres per view (inputs validated)."""

    def __init__(self, dims: list[int], k: int, cfg: DEMVCConfig):
        super().__init__()
        self.cfg = cfg
        self.autoencoders = nn.ModuleList(_ViewAutoencoder(d, cfg) for d in dims)
        self.centres = nn.ParameterList(nn.Parameter(torch.zeros(k, cfg.latent_dim)) for _ in dims)  # (k, L) each

    def embed(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        return [ae.encoder(x) for ae, x in zip(self.autoencoders, views)]  # V × (B, L)

    def soft_assignments(self, views: list[torch.Tensor]) -> list[torch.Tensor]:
        return [student_t(z, mu, self.cfg.alpha) for z, mu in zip(self.embed(views), self.centres)]  # V × (B, k)

    def reconstruction_losses(self, views: list[torch.Tensor]) -> dict[str, torch.Tensor]:
        terms = {f"rec{v}": F.mse_loss(ae.decoder(ae.encoder(x)), x) for v, (ae, x) in enumerate(zip(self.autoencoders, views))}
        terms["total"] = sum(terms.values())
        return terms

    def clustering_losses(self, views: list[torch.Tensor], target: torch.Tensor) -> dict[str, torch.Tensor]:
        """``Σ_v λ_c KL(P || Q^v) + λ_r MSE(x^v, x̂^v)`` with the shared target rows ``target`` (B, k)."""
        terms: dict[str, torch.Tensor] = {}
        for v, (ae, mu, x) in enumerate(zip(self.autoencoders, self.centres, views)):
            z = ae.encoder(x)  # (B, L)
            q = student_t(z, mu, self.cfg.alpha)  # (B, k)
            terms[f"kl{v}"] = self.cfg.cluster_weight * F.kl_div(q.log(), target, reduction="batchmean")
            terms[f"rec{v}"] = self.cfg.rec_weight * F.mse_loss(ae.decoder(z), x)
        terms["total"] = sum(terms.values())
        return terms


class DEMVC(DeepEstimator):
    """Deep embedded multi-view clustering with collaborative training.

    Parameters
    ----------
    n_clusters : int
    seed : int
    device : str
    config : DEMVCConfig, optional
        Defaults to :class:`DEMVCConfig` (the official settings); keyword overrides replace its fields.

    Attributes
    ----------
    labels_ : (n,) ``argmax Σ_v Q^v``; ``view_labels_`` : (V, n) each view's ``argmax Q^v``
    assignments_ : (n, k) ``mean_v Q^v``; ``embedding_`` : (n, V·L) the views' embeddings side by side
    history_ : per clustering epoch, the terms (and ACC/NMI when ``y`` is given); ``pretrain_history_`` likewise
    target_views_ : the view that gave the shared target at each refresh

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 40)
    >>> views = [np.c_[y, 1 - y] + rng.normal(0, .2, (80, 2)) for _ in range(2)]
    >>> DEMVC(2, hidden=(8,), latent_dim=2, pretrain_epochs=2, iterations=4, update_interval=2,
    ...       batch_size=20, n_init=2).fit_predict(views).shape
    (80,)
    """

    config_class = DEMVCConfig

    def _check_params(self, views, config: DEMVCConfig) -> None:
        if config.first_view >= len(views):
            raise ValueError(f"first_view={config.first_view} but there are only {len(views)} views")

    def _train(self, tensors, k: int, config: DEMVCConfig, generator: torch.Generator, y) -> Run:
        model = DEMVCNet([t.shape[1] for t in tensors], k, config).to(tensors[0].device)
        pretrain_history = self._pretrain(model, tensors, generator)
        self._init_centres(model, tensors, k)
        target_views: list[int] = []
        history = self._collaborate(model, tensors, generator, y, target_views)
        return Run(model, history, {"pretrain_history_": pretrain_history, "target_views_": target_views,
                                    "n_views_": len(tensors)})

    @torch.no_grad()
    def _represent(self, model, tensors) -> tuple[np.ndarray, np.ndarray]:
        """The views' embeddings side by side and ``mean_v Q^v``; sets ``view_labels_`` (each view's ``argmax Q^v``)."""
        q = self._soft_assignments(model, tensors)  # (V, n, k)
        self.view_labels_ = q.argmax(axis=2).astype(np.int64)
        return torch.cat(model.embed(tensors), dim=1).cpu().numpy(), q.mean(axis=0)

    # -- helpers (inputs already validated) ------------------------------------------------------------------
    def _batches(self, n: int, generator: torch.Generator, device, budget: list[int] | None = None):
        """Shuffled batches; with ``budget`` (a one-item counter of steps left) stop when it reaches zero."""
        cfg = self.config

        def batches():
            for idx in minibatches(n, cfg.batch_size, generator=generator, device=device, drop_last=True):
                if budget is not None:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                yield idx

        return batches

    def _pretrain(self, model: DEMVCNet, tensors, generator) -> list[dict]:
        cfg = self.config
        opt = adam(model.autoencoders.parameters(), lr=cfg.lr, config=cfg)
        return train(lambda idx, epoch: model.reconstruction_losses([t[idx] for t in tensors]), opt,
                     self._batches(len(tensors[0]), generator, tensors[0].device), cfg.pretrain_epochs,
                     module=model)

    @torch.no_grad()
    def _init_centres(self, model: DEMVCNet, tensors, k: int) -> None:
        """k-means on the first view's embedding; the same centres start every view (DEMVC's consistency)."""
        z = model.embed(tensors)[self.config.first_view].cpu().numpy()  # (n, L)
        km = KMeans(k, n_init=self.config.n_init, random_state=int(self.seed)).fit(z)
        centres = torch.as_tensor(km.cluster_centers_, dtype=torch.float32, device=tensors[0].device)
        for mu in model.centres:
            mu.copy_(centres)

    def _collaborate(self, model: DEMVCNet, tensors, generator, y, target_views: list[int]) -> list[dict]:
        cfg = self.config
        n, n_views = len(tensors[0]), len(tensors)
        state = {"steps": 0, "target": None}

        def refresh_target() -> None:  # the views take turns: first_view, first_view + 1, …
            view = (cfg.first_view + len(target_views)) % n_views
            with torch.no_grad():
                model.eval()
                q = student_t(model.embed(tensors)[view], model.centres[view], cfg.alpha)  # (n, k)
                model.train()
            state["target"] = target_distribution(q)
            target_views.append(view)

        def after_step(_batch) -> None:
            state["steps"] += 1
            if state["steps"] % cfg.update_interval == 0 and state["steps"] < cfg.iterations:
                refresh_target()

        def on_epoch(epoch: int, record: dict) -> None:
            if y is not None:
                self._log(self._soft_assignments(model, tensors).sum(axis=0).argmax(axis=1), y, record)

        refresh_target()
        steps_per_epoch = max(sum(1 for _ in minibatches(n, cfg.batch_size, generator=torch.Generator(),
                                                           drop_last=True)), 1)
        epochs = math.ceil(cfg.iterations / steps_per_epoch)
        opt = adam(model.parameters(), lr=cfg.lr, config=cfg)
        loss_fn = lambda idx, epoch: model.clustering_losses([t[idx] for t in tensors], state["target"][idx])  # noqa: E731
        return train(loss_fn, opt, self._batches(n, generator, tensors[0].device, budget=[cfg.iterations]), epochs,
                     module=model, hooks=Hooks(after_step=after_step, on_epoch=on_epoch))

    @staticmethod
    @torch.no_grad()
    def _soft_assignments(model: DEMVCNet, tensors) -> np.ndarray:
        model.eval()
        return np.stack([q.cpu().numpy() for q in model.soft_assignments(tensors)])  # (V, n, k)

    def predict(self, views) -> np.ndarray:
        """Cluster of each row of ``views`` under the fitted model (``argmax Σ_v Q^v``)."""
        self._check_fitted()
        views = check_views(views, min_views=self.n_views_)
        if len(views) != self.n_views_:
            raise ValueError(f"got {len(views)} views but DEMVC was fitted with {self.n_views_}")
        q = self._soft_assignments(self.model_, to_device_views(views, resolve_device(self.device)))
        return q.sum(axis=0).argmax(axis=1).astype(np.int64)
