"""Deep single-input clustering baselines of the DM2C tables, scikit-learn style.

Each estimator clusters ONE feature matrix ``X`` (``fit_predict(X)``):

* ``DKM`` — deep k-means (Fard, Thonet & Gaussier 2018): autoencoder + a
  differentiable k-means loss with softmin assignments whose sharpness ``α`` is
  annealed; centroids are parameters learned by gradient descent.
* ``DCN`` — deep clustering network (Yang et al., ICML 2017): autoencoder + the hard
  k-means loss ``λ/2 ||z - M s||²``; the centres ``M`` are updated between batches
  as running means (the paper's per-cluster step size ``1/count``).
* ``IDEC`` — improved deep embedded clustering (Guo et al., IJCAI 2017): autoencoder
  + ``γ KL(P || Q)`` with Student-t soft assignments ``Q`` and the sharpened target
  ``P`` refreshed every epoch; stops when fewer than ``tol`` of labels change.
* ``IMSAT`` — information maximising self-augmented training (Hu et al., ICML 2017):
  a softmax classifier trained to maximise ``μ H(Y) - H(Y|X)`` under virtual
  adversarial smoothness (one power iteration, per-sample radius 0.25 × distance to
  the 10th neighbour, as in the paper).

The autoencoder methods pretrain their autoencoder on reconstruction and start their
centres from k-means on its latents (several restarts, lowest inertia — no labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from torch import nn

from mmc_lib.losses.dec import pairwise_sq_dists as _sq_dists
from mmc_lib.losses.dec import student_t, target_distribution
from mmc_lib.nn import Hooks, adam, minibatches, mlp, seeded, train
from mmc_lib.runtime import one_thread
from mmc_lib.validation import check_config, check_fitted, check_n_clusters, check_views

__all__ = ["DeepClusterConfig", "DKM", "DCN", "IDEC", "IMSAT"]


@dataclass(frozen=True)
class DeepClusterConfig:
    """Networks and schedule shared by the four baselines."""

    hidden: tuple[int, ...] = (128, 64)  # hidden widths (encoder; decoder mirrors; IMSAT's classifier)
    latent_dim: int = 10  # bottleneck width (DEC/IDEC/DCN use 10)
    pretrain_epochs: int = 50  # autoencoder reconstruction epochs
    epochs: int = 50  # clustering epochs
    batch_size: int = 128
    lr: float = 1e-3  # Adam
    n_init: int = 10  # k-means restarts for the initial centres
    divergence_limit: float = 1e6  # NaN/inf or a loss beyond this stops training with an error

    def __post_init__(self):
        check_config(self, at_least={"latent_dim": 1, "pretrain_epochs": 0, "epochs": 1, "batch_size": 2, "n_init": 1})


class _Autoencoder(nn.Module):
    def __init__(self, d: int, cfg: DeepClusterConfig):
        super().__init__()
        self.encoder = mlp([d, *cfg.hidden, cfg.latent_dim], batchnorm=False)
        self.decoder = mlp([cfg.latent_dim, *reversed(cfg.hidden), d], batchnorm=False)


class _DeepClusterer:
    """Shared validation, seeding and the fit / predict plumbing; subclasses implement ``_fit``."""

    def __init__(self, n_clusters: int, *, config: DeepClusterConfig | None = None, seed: int = 0,
                 device: str = "cpu"):
        self.n_clusters = n_clusters
        self.config = config
        self.seed = seed
        self.device = device

    @one_thread
    def fit(self, X) -> _DeepClusterer:
        """Cluster the rows of ``X`` (n_samples, n_features); sets ``labels_`` and ``history_``."""
        (X,) = check_views([X], name="X")
        k = check_n_clusters(self.n_clusters, len(X))
        self.n_features_in_ = X.shape[1]
        cfg = self.config or DeepClusterConfig()
        with seeded(self.seed) as gen:
            x = torch.as_tensor(X, device=self.device)
            self.history_: list[dict] = []
            self._fit(x, k, cfg, gen)
        self.labels_ = self.predict(X)
        return self

    def fit_predict(self, X) -> np.ndarray:
        return self.fit(X).labels_

    def predict(self, X) -> np.ndarray:
        """Cluster of each row of ``X`` under the fitted model."""
        check_fitted(self, "n_features_in_", "fit(X)")
        (X,) = check_views([X], name="X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features but {type(self).__name__} was fitted with "
                             f"{self.n_features_in_}")
        with torch.no_grad():
            return self._assign(torch.as_tensor(X, device=self.device)).cpu().numpy().astype(np.int64)

    # -- helpers for subclasses (inputs already validated)
    def _batches(self, n: int, cfg: DeepClusterConfig, gen: torch.Generator):
        return lambda: minibatches(n, cfg.batch_size, generator=gen, device=self.device, drop_last=True)

    def _pretrain_ae(self, x: torch.Tensor, cfg: DeepClusterConfig, gen: torch.Generator) -> None:
        self.ae_ = _Autoencoder(x.shape[1], cfg).to(self.device)

        def reconstruction(idx, epoch):
            loss = F.mse_loss(self.ae_.decoder(self.ae_.encoder(x[idx])), x[idx])
            return {"pretrain_rec": loss, "total": loss}

        opt = adam(self.ae_.parameters(), lr=cfg.lr, config=cfg)
        self.pretrain_history_ = train(reconstruction, opt, self._batches(len(x), cfg, gen), cfg.pretrain_epochs,
                                       limit=cfg.divergence_limit)

    def _kmeans_centres(self, x: torch.Tensor, k: int, cfg: DeepClusterConfig) -> torch.Tensor:
        with torch.no_grad():
            z = self.ae_.encoder(x).cpu().numpy()  # (n, L)
        km = KMeans(k, n_init=cfg.n_init, random_state=self.seed).fit(z)
        return torch.as_tensor(km.cluster_centers_, dtype=torch.float32, device=self.device)  # (k, L)

    def _train_ae_clusterer(self, x: torch.Tensor, cfg: DeepClusterConfig, gen: torch.Generator, params,
                            cluster_loss, hooks: Hooks | None = None) -> None:
        """DKM/DCN/IDEC: reconstruction + ``cluster_loss(z, idx, epoch)`` (a dict of terms) on the shared trainer."""

        def loss_fn(idx, epoch):
            z = self.ae_.encoder(x[idx])  # (B, L)
            terms = {"rec": F.mse_loss(self.ae_.decoder(z), x[idx]), **cluster_loss(z, idx, epoch)}
            terms["total"] = sum(terms.values())
            return terms

        opt = adam(params, lr=cfg.lr, config=cfg)
        self.history_ = train(loss_fn, opt, self._batches(len(x), cfg, gen), cfg.epochs, hooks=hooks,
                              limit=cfg.divergence_limit)


class DKM(_DeepClusterer):
    """Deep k-means: ``L_rec + λ Σ_k softmin_α(||z - r_k||²)_k ||z - r_k||²`` with α annealed.

    ``α`` grows geometrically from ``alpha_start`` to ``alpha_end`` over the clustering
    epochs (the paper's annealing, compressed to our epoch budget).

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 3)), np.ones((20, 3))] + np.random.default_rng(0).normal(0, .05, (40, 3))
    >>> cfg = DeepClusterConfig(hidden=(8,), latent_dim=2, pretrain_epochs=3, epochs=3, n_init=2)
    >>> DKM(2, config=cfg).fit_predict(X).shape
    (40,)
    """

    def __init__(self, n_clusters: int, *, lam: float = 1.0, alpha_start: float = 0.1, alpha_end: float = 100.0,
                 config: DeepClusterConfig | None = None, seed: int = 0, device: str = "cpu"):
        super().__init__(n_clusters, config=config, seed=seed, device=device)
        self.lam, self.alpha_start, self.alpha_end = lam, alpha_start, alpha_end

    def _fit(self, x, k, cfg, gen):
        self._pretrain_ae(x, cfg, gen)
        self.centres_ = nn.Parameter(self._kmeans_centres(x, k, cfg))
        ratio = (self.alpha_end / self.alpha_start) ** (1.0 / max(cfg.epochs - 1, 1))

        def loss_fn(z, idx, epoch):  # epochs count from 1: α = alpha_start at the first
            d2 = _sq_dists(z, self.centres_)  # (B, k)
            weights = torch.softmax(-self.alpha_start * ratio ** (epoch - 1) * d2, dim=1)  # soft assignment
            return {"kmeans": self.lam * (weights * d2).sum(1).mean()}

        self._train_ae_clusterer(x, cfg, gen, [*self.ae_.parameters(), self.centres_], loss_fn)

    def _assign(self, x):
        return _sq_dists(self.ae_.encoder(x), self.centres_).argmin(1)


class DCN(_DeepClusterer):
    """Deep clustering network: ``L_rec + λ/2 ||z - M s||²``, hard ``s``, running-mean centre updates.

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 3)), np.ones((20, 3))] + np.random.default_rng(0).normal(0, .05, (40, 3))
    >>> cfg = DeepClusterConfig(hidden=(8,), latent_dim=2, pretrain_epochs=3, epochs=3, n_init=2)
    >>> len(set(DCN(2, config=cfg).fit_predict(X)))
    2
    """

    def __init__(self, n_clusters: int, *, lam: float = 1.0, config: DeepClusterConfig | None = None,
                 seed: int = 0, device: str = "cpu"):
        super().__init__(n_clusters, config=config, seed=seed, device=device)
        self.lam = lam

    def _fit(self, x, k, cfg, gen):
        self._pretrain_ae(x, cfg, gen)
        self.centres_ = self._kmeans_centres(x, k, cfg)  # (k, L), not a gradient parameter
        counts = torch.ones(k, device=self.device)

        def loss_fn(z, idx, epoch):
            s = _sq_dists(z.detach(), self.centres_).argmin(1)  # hard assignment, fixed for this step
            return {"kmeans": 0.5 * self.lam * ((z - self.centres_[s]) ** 2).sum(1).mean()}

        def update_centres(xb):  # DCN's per-cluster step 1/count == running mean of assigned latents
            with torch.no_grad():
                z = self.ae_.encoder(xb)
                s = _sq_dists(z, self.centres_).argmin(1)
                n_k = torch.bincount(s, minlength=k).float()  # (k,)
                sum_k = torch.zeros_like(self.centres_).index_add_(0, s, z)  # (k, L)
                self.centres_ = (counts[:, None] * self.centres_ + sum_k) / (counts + n_k)[:, None]
                counts.add_(n_k)

        self._train_ae_clusterer(x, cfg, gen, self.ae_.parameters(), loss_fn,
                                 Hooks(after_step=lambda idx: update_centres(x[idx])))

    def _assign(self, x):
        return _sq_dists(self.ae_.encoder(x), self.centres_).argmin(1)


class IDEC(_DeepClusterer):
    """Improved DEC: ``L_rec + γ KL(P || Q)``; the target ``P`` is refreshed every epoch.

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 3)), np.ones((20, 3))] + np.random.default_rng(0).normal(0, .05, (40, 3))
    >>> cfg = DeepClusterConfig(hidden=(8,), latent_dim=2, pretrain_epochs=3, epochs=3, n_init=2)
    >>> IDEC(2, config=cfg).fit_predict(X).shape
    (40,)
    """

    def __init__(self, n_clusters: int, *, gamma: float = 0.1, tol: float = 1e-3,
                 config: DeepClusterConfig | None = None, seed: int = 0, device: str = "cpu"):
        super().__init__(n_clusters, config=config, seed=seed, device=device)
        self.gamma, self.tol = gamma, tol

    def _fit(self, x, k, cfg, gen):
        self._pretrain_ae(x, cfg, gen)
        self.centres_ = nn.Parameter(self._kmeans_centres(x, k, cfg))
        state = {"p": None, "labels": None}

        def refresh_target(epoch):  # returns False to stop: fewer than tol of the labels changed
            with torch.no_grad():
                q = student_t(self.ae_.encoder(x), self.centres_)  # (n, k)
            labels = q.argmax(1)
            if state["labels"] is not None and (labels != state["labels"]).float().mean() < self.tol:
                return False
            state["p"], state["labels"] = target_distribution(q), labels
            return True

        def loss_fn(z, idx, epoch):
            q = student_t(z, self.centres_)
            return {"kl": self.gamma * F.kl_div(q.log(), state["p"][idx], reduction="batchmean")}

        self._train_ae_clusterer(x, cfg, gen, [*self.ae_.parameters(), self.centres_], loss_fn,
                                 Hooks(before_epoch=refresh_target))

    def _assign(self, x):
        return student_t(self.ae_.encoder(x), self.centres_).argmax(1)


class IMSAT(_DeepClusterer):
    """IMSAT: minimise ``R_VAT - λ (μ H(Y) - H(Y|X))`` with a softmax classifier (λ=0.1, μ=4 as the paper).

    Examples
    --------
    >>> X = np.r_[np.zeros((20, 3)), np.ones((20, 3))] + np.random.default_rng(0).normal(0, .05, (40, 3))
    >>> cfg = DeepClusterConfig(hidden=(8,), epochs=3)
    >>> IMSAT(2, config=cfg).fit_predict(X).shape
    (40,)
    """

    def __init__(self, n_clusters: int, *, lam: float = 0.1, mu: float = 4.0, xi: float = 10.0,
                 eps_scale: float = 0.25, n_neighbors: int = 10, config: DeepClusterConfig | None = None,
                 seed: int = 0, device: str = "cpu"):
        super().__init__(n_clusters, config=config, seed=seed, device=device)
        self.lam, self.mu, self.xi, self.eps_scale, self.n_neighbors = lam, mu, xi, eps_scale, n_neighbors

    def _fit(self, x, k, cfg, gen):
        from sklearn.neighbors import NearestNeighbors

        self.net_ = mlp([x.shape[1], *cfg.hidden, k], batchnorm=True).to(self.device)
        n_nb = min(self.n_neighbors, len(x) - 1)
        dist, _ = NearestNeighbors(n_neighbors=n_nb + 1).fit(x.cpu().numpy()).kneighbors(x.cpu().numpy())
        eps = torch.as_tensor(self.eps_scale * dist[:, -1], dtype=torch.float32, device=self.device)  # (n,)
        opt = adam(self.net_.parameters(), lr=cfg.lr, config=cfg)
        self.history_ = train(lambda idx, epoch: self._losses(x[idx], eps[idx], gen), opt,
                              self._batches(len(x), cfg, gen), cfg.epochs, limit=cfg.divergence_limit)

    def _losses(self, xb: torch.Tensor, eps: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
        logits = self.net_(xb)  # (B, k)
        p = torch.softmax(logits, 1)
        # virtual adversarial direction: one power iteration from a random unit vector
        d = F.normalize(torch.randn(xb.shape, generator=gen).to(xb.device), dim=1)
        d.requires_grad_(True)
        kl = F.kl_div(F.log_softmax(self.net_(xb + self.xi * 1e-6 * d), 1), p.detach(), reduction="batchmean")
        (grad,) = torch.autograd.grad(kl, d)
        r_adv = eps[:, None] * F.normalize(grad, dim=1)  # (B, d)
        vat = F.kl_div(F.log_softmax(self.net_(xb + r_adv), 1), p.detach(), reduction="batchmean")
        p_mean = p.mean(0)
        h_y = -(p_mean * torch.log(p_mean + 1e-12)).sum()  # marginal entropy H(Y)
        h_y_x = -(p * torch.log(p + 1e-12)).sum(1).mean()  # conditional entropy H(Y|X)
        losses = {"vat": vat, "h_y": h_y, "h_y_x": h_y_x}
        losses["total"] = vat - self.lam * (self.mu * h_y - h_y_x)
        return losses

    def _assign(self, x):
        self.net_.eval()
        out = self.net_(x).argmax(1)
        self.net_.train()
        return out
