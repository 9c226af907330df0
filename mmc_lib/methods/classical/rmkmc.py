"""RMKMC — robust multi-view k-means (Cai, Nie & Huang, "Multi-view K-means clustering on big data", IJCAI 2013).

Objective (paper eq. 7): with one shared cluster indicator ``G`` (n × k), per-view centroids ``F_v`` (d_v × k) and
view weights ``α`` on the simplex,

    min  Σ_v α_v^γ ‖X_v − G F_vᵀ‖_{2,1}          (the ℓ2,1 norm: the sum of the rows' Euclidean norms)

solved by alternating (paper Sec. 3, re-weighted least squares):

* ``D_v = diag(1 / (2 ‖x_i^v − f_{g_i}^v‖))``                          (eq. 10, the IRLS weights),
* ``F_v = X_vᵀ D_v G (Gᵀ D_v G)⁻¹`` — each centroid a ``D_v``-weighted mean (eq. 12),
* ``g_i = argmin_k Σ_v α_v^γ d_ii^v ‖x_i^v − f_k^v‖²``                  (eq. 14),
* ``α_v = (γ H_v)^{1/(1−γ)} / Σ_u (γ H_u)^{1/(1−γ)}``, ``H_v = ‖X_v − G F_vᵀ‖_{2,1}`` (eq. 16).

Defaults and deviations (the authors' code was not found; these follow the paper's text as we recall it):

* ``gamma=3.0``: the paper searches ``log10 γ`` over 0.1…1.9 (γ ≈ 1.3…79) per data set *with the labels*; we use one
  fixed value inside that range (also the value common ports use) and never tune it on labels.
* Initialisation: one k-means run (scikit-learn, ``seed``) on the concatenated views gives the first ``G``; the paper
  starts from a random/k-means indicator. Views get equal weights ``1/V`` at the start.
* An emptied cluster is re-seeded with the point of largest weighted residual (the paper does not say).
* Stops when the relative change of the objective is below ``tol`` or after ``max_iter`` rounds.

Cost: O(n · k · Σ d_v) per round, memory O(n · Σ d_v) — no n × n matrix.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from mmc_lib.metrics import accuracy, nmi
from mmc_lib.runtime import one_thread
from mmc_lib.validation import check_n_clusters, check_views


def _sq_dists(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``‖x_i − c_k‖²`` as an (n, k) array (inputs already validated)."""
    d2 = (X * X).sum(1)[:, None] + (C * C).sum(1)[None, :] - 2.0 * X @ C.T
    return np.maximum(d2, 0.0)


def _weighted_centroids(X: np.ndarray, labels: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """``F_v`` of eq. 12: per-cluster means of ``X`` weighted by the IRLS weights ``w`` (k, d)."""
    onehot = np.zeros((len(X), k))
    onehot[np.arange(len(X)), labels] = w  # (n, k) = D_v G
    mass = onehot.sum(0)
    return (onehot.T @ X) / np.maximum(mass, 1e-12)[:, None]


def _view_weights(H: np.ndarray, gamma: float) -> np.ndarray:
    """Eq. 16: ``α_v ∝ (γ H_v)^{1/(1−γ)}``, computed in log space (H_v can be large)."""
    logw = np.log(gamma * np.maximum(H, 1e-300)) / (1.0 - gamma)
    w = np.exp(logw - logw.max())
    return w / w.sum()


class RMKMC:
    """Robust multi-view k-means with learned view weights (Cai, Nie & Huang, IJCAI 2013).

    Parameters
    ----------
    n_clusters : int
        Number of clusters ``k``.
    gamma : float
        The exponent γ > 1 on the view weights (smaller spreads weight to the best view).
    max_iter : int
        At most this many alternation rounds.
    tol : float
        Stop when the objective's relative change falls below this.
    seed : int
        Seed of the k-means initialisation.

    Attributes
    ----------
    labels_ : (n,) int array
    view_weights_ : (V,) array, the learned ``α``
    history_ : list of dicts ``{"iter", "objective", "acc"?, "nmi"?}`` (acc/nmi only when ``y`` is given to ``fit``,
        for logging; never used to fit or select)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(0, .1, (20, 2)), rng.normal(3, .1, (20, 2))]
    >>> len(set(RMKMC(2).fit_predict([X, X[:, ::-1]])))
    2
    """

    def __init__(self, n_clusters: int, *, gamma: float = 3.0, max_iter: int = 100, tol: float = 1e-6,
                 seed: int = 0, device: str = "cpu"):
        self.n_clusters = n_clusters
        self.gamma = gamma
        self.max_iter = max_iter
        self.tol = tol
        self.seed = seed
        self.device = device  # accepted for API symmetry; numpy only

    def _check_params(self) -> None:
        if not (isinstance(self.gamma, (int, float)) and self.gamma > 1):
            raise ValueError(f"RMKMC.gamma must be a number > 1, got {self.gamma!r}")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 1):
            raise ValueError(f"RMKMC.max_iter must be an int >= 1, got {self.max_iter!r}")

    @one_thread
    def fit(self, views, y=None):
        views = [v.astype(np.float64) for v in check_views(views)]
        k = check_n_clusters(self.n_clusters, views[0].shape[0])
        self._check_params()
        labels = KMeans(k, n_init=1, random_state=self.seed).fit_predict(np.concatenate(views, axis=1))
        alpha = np.full(len(views), 1.0 / len(views))
        weights = [np.ones(len(labels)) for _ in views]  # D_v = I at the start: plain means
        self.history_ = []
        previous = np.inf
        for it in range(self.max_iter):
            centroids = [_weighted_centroids(X, labels, w, k) for X, w in zip(views, weights)]
            d2 = [_sq_dists(X, F) for X, F in zip(views, centroids)]  # (n, k) per view
            labels = self._assign(d2, weights, alpha)
            labels = self._reseed_empty(labels, d2, k)
            centroids = [_weighted_centroids(X, labels, w, k) for X, w in zip(views, weights)]
            residual = [np.sqrt(_sq_dists(X, F)[np.arange(len(X)), labels]) for X, F in zip(views, centroids)]
            H = np.array([r.sum() for r in residual])  # ‖X_v − G F_vᵀ‖_{2,1}
            objective = float((alpha ** self.gamma * H).sum())
            alpha = _view_weights(H, self.gamma)
            weights = [1.0 / (2.0 * np.maximum(r, 1e-8)) for r in residual]  # eq. 10
            row = {"iter": it, "objective": objective}
            if y is not None:
                row.update(acc=accuracy(y, labels), nmi=nmi(y, labels))
            self.history_.append(row)
            if abs(previous - objective) <= self.tol * max(abs(objective), 1e-12):
                break
            previous = objective
        self.labels_ = labels.astype(np.int64)
        self.view_weights_ = alpha
        self.centroids_ = centroids
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views, y).labels_

    def _assign(self, d2: list[np.ndarray], weights: list[np.ndarray], alpha: np.ndarray) -> np.ndarray:
        """Eq. 14: each row to the cluster with the smallest weighted multi-view distance."""
        cost = sum(a ** self.gamma * w[:, None] * d for a, w, d in zip(alpha, weights, d2))
        return np.argmin(cost, axis=1)

    @staticmethod
    def _reseed_empty(labels: np.ndarray, d2: list[np.ndarray], k: int) -> np.ndarray:
        """Give each empty cluster the row farthest from its own centroid (summed over views)."""
        labels = labels.copy()
        for c in np.setdiff1d(np.arange(k), labels):
            own = sum(d[np.arange(len(labels)), labels] for d in d2)
            counts = np.bincount(labels, minlength=k)
            own[counts[labels] <= 1] = -np.inf  # never empty another cluster
            labels[int(np.argmax(own))] = c
        return labels
