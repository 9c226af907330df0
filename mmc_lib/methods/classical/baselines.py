"""Classical rows of the DDMC table, scikit-learn style, on a list of views.

* ``KM`` / ``Ncuts`` — k-means / normalised-cut spectral clustering on the single
  best view, chosen *without labels*: the view whose k-means partition has the
  highest silhouette coefficient.
* ``AmKM`` / ``AmNcuts`` — the same on all views concatenated (each view is
  already min-max scaled by :func:`mmc_lib.data.load`).
* ``CoregMVSC`` — centroid-based co-regularised multi-view spectral clustering
  (Kumar, Rai & Daumé, NeurIPS 2011, Sec. 3.2).

Ncuts (Shi & Malik 2000) uses a Gaussian affinity with bandwidth from the
median heuristic, ``W_ij = exp(-||x_i - x_j||² / (2σ²))``, ``2σ² = median_ij ||x_i-x_j||²``.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from mmc_lib.methods.shared import choose_dominant_view, gaussian_affinity, kmeans
from mmc_lib.validation import check_n_clusters, check_views


def normalised_affinity(K: np.ndarray) -> np.ndarray:
    """``D^-1/2 K D^-1/2`` — its top eigenvectors are the normalised-cut relaxation (Ng, Jordan & Weiss 2002)."""
    d = 1.0 / np.sqrt(np.maximum(K.sum(axis=1), 1e-12))
    return K * d[:, None] * d[None, :]


def top_eigvecs(M, k: int, n: int | None = None) -> np.ndarray:
    """The ``k`` leading eigenvectors of a symmetric matrix or ``LinearOperator`` (Lanczos, fixed start vector)."""
    n = n or M.shape[0]
    v0 = np.random.default_rng(0).uniform(0.5, 1.5, n)  # fixed: results must not depend on global RNG state
    _, vecs = eigsh(M, k=k, which="LA", v0=v0)
    return vecs  # (n, k)


def _row_normalise(U: np.ndarray) -> np.ndarray:
    return U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-12)


def _spectral(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    U = top_eigvecs(normalised_affinity(gaussian_affinity(X)), k)
    return kmeans(_row_normalise(U), k, seed)


class _ViewClusterer:
    """Shared scaffolding: validate, pick the input, cluster, store ``labels_``."""

    def __init__(self, n_clusters: int, *, seed: int = 0):
        self.n_clusters = n_clusters
        self.seed = seed

    def fit(self, views, y=None):
        views = check_views(views)
        k = check_n_clusters(self.n_clusters, views[0].shape[0])
        self.labels_ = np.asarray(self._cluster(views, k), dtype=np.int64)
        return self

    def fit_predict(self, views, y=None) -> np.ndarray:
        return self.fit(views).labels_

    def _cluster(self, views: list[np.ndarray], k: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class _BestView(_ViewClusterer):
    def _cluster(self, views, k):
        if len(views) > 1:
            self.best_view_, self.view_silhouettes_ = choose_dominant_view(views, k, seed=self.seed)
        else:
            self.best_view_, self.view_silhouettes_ = 0, [float("nan")]
        return self._algorithm(views[self.best_view_], k)


class _Concat(_ViewClusterer):
    def _cluster(self, views, k):
        return self._algorithm(np.concatenate(views, axis=1), k)


class KM(_BestView):
    """k-means on the best single view (by silhouette).

    >>> import numpy as np
    >>> X = np.r_[np.zeros((5, 2)), np.ones((5, 2))] + np.random.default_rng(0).normal(0, .01, (10, 2))
    >>> KM(2).fit_predict([X, X]).tolist()  # doctest: +SKIP
    """

    def _algorithm(self, X, k):
        return kmeans(X, k, self.seed)


class Ncuts(_BestView):
    """Normalised-cut spectral clustering on the best single view (by silhouette)."""

    def _algorithm(self, X, k):
        return _spectral(X, k, self.seed)


class AmKM(_Concat):
    """k-means on all views concatenated."""

    def _algorithm(self, X, k):
        return kmeans(X, k, self.seed)


class AmNcuts(_Concat):
    """Normalised-cut spectral clustering on all views concatenated."""

    def _algorithm(self, X, k):
        return _spectral(X, k, self.seed)


class CoregMVSC(_ViewClusterer):
    """Centroid-based co-regularised multi-view spectral clustering (Kumar et al. 2011).

    Per view ``L_v = D^-1/2 K_v D^-1/2``; alternately (eq. 9–10 of the paper)
    ``U_v = top-k eig(L_v + λ U* U*ᵀ)`` and ``U* = top-k eig(Σ_v λ U_v U_vᵀ)``,
    then k-means on the row-normalised ``U*``.

    Parameters
    ----------
    lam : float
        Co-regularisation weight λ (the paper uses 0.01–0.05; 0.03 here).
    n_iter : int
        Alternation rounds.
    """

    def __init__(self, n_clusters: int, *, lam: float = 0.03, n_iter: int = 10, seed: int = 0):
        super().__init__(n_clusters, seed=seed)
        self.lam = lam
        self.n_iter = n_iter

    def _cluster(self, views, k):
        n = views[0].shape[0]
        laplacians = [normalised_affinity(gaussian_affinity(v)) for v in views]
        U = [top_eigvecs(L, k) for L in laplacians]
        U_star = self._consensus(U, k)
        for _ in range(self.n_iter):
            U = [top_eigvecs(self._regularised(L, U_star), k, n) for L in laplacians]
            U_star = self._consensus(U, k)
        self.embedding_ = _row_normalise(U_star)
        return kmeans(self.embedding_, k, self.seed)

    def _regularised(self, L: np.ndarray, U_star: np.ndarray) -> LinearOperator:
        """``L + λ U* U*ᵀ`` as an operator, never formed densely (eq. 9)."""
        n = L.shape[0]

        def matvec(x):
            return L @ x + self.lam * (U_star @ (U_star.T @ x))

        return LinearOperator((n, n), matvec=matvec, matmat=matvec, dtype=np.float64)

    @staticmethod
    def _consensus(U: list[np.ndarray], k: int) -> np.ndarray:
        """Top-k eigenvectors of ``Σ_v U_v U_vᵀ`` (eq. 10; λ scales all terms alike) = left singular vectors of [U_1 … U_V]."""
        left, _, _ = np.linalg.svd(np.concatenate(U, axis=1), full_matrices=False)
        return left[:, :k]


BASELINES = {"KM": KM, "Ncuts": Ncuts, "AmKM": AmKM, "AmNcuts": AmNcuts, "CoregMVSC": CoregMVSC}
