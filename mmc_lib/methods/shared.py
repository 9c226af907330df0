"""What more than one family of estimators uses (a family may import this module, never another family).

* :func:`gaussian_affinity` — the Gaussian kernel with the median-heuristic bandwidth (Ncuts, CoregMVSC, ONMSC);
* :func:`choose_dominant_view` — the one label-free rule for a "dominant" or "best single" view (KM/Ncuts' view,
  DDMC's dominant modality): the view whose k-means partition has the highest silhouette;
* :func:`kmeans` — seeded scikit-learn k-means labels.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from mmc_lib.metrics import silhouette
from mmc_lib.validation import check_n_clusters, check_views


def kmeans(X: np.ndarray, k: int, seed: int, n_init: int = 10) -> np.ndarray:
    """Labels of the best of ``n_init`` seeded k-means starts (by inertia)."""
    return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit_predict(X)


def gaussian_affinity(X: np.ndarray) -> np.ndarray:
    """Gaussian kernel matrix with the median heuristic bandwidth (inputs already validated)."""
    X = np.asarray(X, dtype=np.float64)
    sq = np.einsum("ij,ij->i", X, X)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (X @ X.T), 0.0)  # (n, n) squared distances
    off_diag = d2[~np.eye(len(X), dtype=bool)]
    scale = float(np.median(off_diag)) if off_diag.size else 1.0
    return np.exp(-d2 / (scale if scale > 0 else 1.0))


def per_view_kmeans(views, n_clusters: int, *, seed: int = 0) -> list[np.ndarray]:
    """A k-means partition of each view separately."""
    views = check_views(views)
    k = check_n_clusters(n_clusters, views[0].shape[0])
    return [kmeans(v, k, seed) for v in views]


def view_silhouettes(views, n_clusters: int, *, seed: int = 0) -> list[float]:
    """Silhouette of a k-means partition of each view — an unsupervised view-quality score."""
    views = check_views(views)
    partitions = per_view_kmeans(views, n_clusters, seed=seed)
    return [silhouette(v, labels, seed=seed) for v, labels in zip(views, partitions)]


def choose_dominant_view(views, n_clusters: int, *, seed: int = 0) -> tuple[int, list[float]]:
    """``(index, silhouettes)``: the view whose k-means partition has the highest silhouette — no labels.

    The one rule for a "dominant" or "best single" view (DDMC's dominant modality, KM/Ncuts' view).
    """
    scores = view_silhouettes(views, n_clusters, seed=seed)
    return int(np.nanargmax(scores)), scores
