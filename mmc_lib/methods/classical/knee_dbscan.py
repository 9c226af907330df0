"""DBSCAN with ``eps`` read off the knee of the k-distance curve.

Ester et al. (KDD 1996, Sec. 4.2) suggest sorting every point's distance to its
k-th nearest neighbour and placing ``eps`` where that "sorted k-dist graph" bends
upwards; points to the right of the bend are noise. We locate the bend with the
Kneedle rule (Satopää et al., ICDCS-W 2011): normalise the ascending curve to the
unit square and take the point furthest *below* the chord from first to last point.

DBSCAN labels noise ``-1``. Clustering metrics need a partition, so
:func:`score_labels` turns noise into either one extra "noise" cluster
(``noise="cluster"``) or one singleton cluster per noise point
(``noise="singletons"``).
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import DBSCAN
from sklearn.neighbors import NearestNeighbors

from mmc_lib.validation import check_views

NOISE_MODES = ("cluster", "singletons")


def k_distance(X: np.ndarray, k: int) -> np.ndarray:
    """Distance of every row to its ``k``-th nearest *other* row, sorted ascending.

    Examples
    --------
    >>> k_distance(np.array([[0.0], [1.0], [3.0]]), 1).tolist()
    [1.0, 1.0, 2.0]
    """
    (X,) = check_views([X], name="X")
    if not 1 <= k < X.shape[0]:
        raise ValueError(f"k must be between 1 and n_samples - 1 = {X.shape[0] - 1}, got {k}")
    # k + 1 neighbours: the nearest "neighbour" of a point is itself at distance 0
    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return np.sort(dist[:, k].astype(np.float64))


def knee_index(curve: np.ndarray) -> int:
    """Index of the knee of an ascending convex curve (Kneedle: furthest below the chord).

    Examples
    --------
    >>> knee_index(np.array([0.0, 0.1, 0.2, 0.3, 0.4, 2.0, 4.0]))
    4
    """
    y = np.asarray(curve, dtype=np.float64).ravel()
    if y.size < 3:
        raise ValueError(f"a knee needs at least 3 points, got {y.size}")
    if not np.all(np.diff(y) >= 0):
        raise ValueError("the curve must be sorted ascending (use k_distance)")
    span = y[-1] - y[0]
    if span <= 0:
        return int(y.size // 2)  # flat curve: no knee; any eps gives the same DBSCAN
    x_n = np.linspace(0.0, 1.0, y.size)
    y_n = (y - y[0]) / span
    return int(np.argmax(x_n - y_n))  # distance below the diagonal chord, Kneedle difference curve


def score_labels(labels: np.ndarray, *, noise: str = "cluster") -> np.ndarray:
    """A partition for the metrics: DBSCAN noise (``-1``) as one extra cluster or as singletons.

    Examples
    --------
    >>> score_labels(np.array([0, 0, -1, 1, -1]), noise="cluster").tolist()
    [0, 0, 2, 1, 2]
    >>> score_labels(np.array([0, 0, -1, 1, -1]), noise="singletons").tolist()
    [0, 0, 2, 1, 3]
    """
    if noise not in NOISE_MODES:
        raise ValueError(f"unknown noise scoring {noise!r}; known: {NOISE_MODES}")
    labels = np.asarray(labels, dtype=np.int64).copy()
    is_noise = labels < 0
    start = labels.max() + 1 if (~is_noise).any() else 0
    if noise == "cluster":
        labels[is_noise] = start
    else:
        labels[is_noise] = start + np.arange(int(is_noise.sum()))
    return labels


class KneeDBSCAN:
    """DBSCAN whose ``eps`` is the knee of the ``(min_samples - 1)``-distance curve.

    Parameters
    ----------
    min_samples : int
        DBSCAN's density threshold (the point itself counts); the curve uses
        ``k = min_samples - 1`` neighbours, so a point at the knee is just a core point.

    Attributes
    ----------
    eps_ : float
    k_distances_ : ndarray of shape (n_samples,)
        The sorted k-distance curve.
    knee_index_ : int
    labels_ : ndarray of int, noise is ``-1``
    n_clusters_, n_noise_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.1, (50, 2)), rng.normal(5, 0.1, (50, 2))])
    >>> model = KneeDBSCAN(min_samples=5).fit(X)
    >>> model.n_clusters_
    2
    """

    def __init__(self, min_samples: int = 10):
        self.min_samples = min_samples

    def fit(self, X: np.ndarray) -> KneeDBSCAN:
        (X,) = check_views([X], name="X")
        if not 2 <= self.min_samples <= X.shape[0]:
            raise ValueError(f"min_samples must be between 2 and n_samples = {X.shape[0]}, got {self.min_samples}")
        self.k_distances_ = k_distance(X, self.min_samples - 1)
        self.knee_index_ = knee_index(self.k_distances_)
        self.eps_ = float(max(self.k_distances_[self.knee_index_], 1e-12))
        self.labels_ = DBSCAN(eps=self.eps_, min_samples=self.min_samples).fit_predict(X)
        self.n_noise_ = int((self.labels_ < 0).sum())
        self.n_clusters_ = int(len(set(self.labels_.tolist()) - {-1}))
        return self

    def fit_predict(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).labels_


def eps_sweep(X: np.ndarray, *, min_samples: int = 10, quantiles=(0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0)) -> list[dict]:
    """DBSCAN at ``eps`` = quantiles of the k-distance curve: what a different choice of eps would do.

    Returns one dict per quantile with ``quantile``, ``eps``, ``n_clusters``, ``noise_frac``
    and ``labels`` (noise ``-1``). A diagnostic for plots; it chooses nothing.

    Examples
    --------
    >>> X = np.vstack([np.zeros((5, 1)), np.ones((5, 1)) * 10])
    >>> [r["n_clusters"] for r in eps_sweep(X, min_samples=3, quantiles=(1.0,))]
    [2]
    """
    (X,) = check_views([X], name="X")
    curve = k_distance(X, min_samples - 1)
    out = []
    for q in quantiles:
        eps = float(max(np.quantile(curve, q), 1e-12))
        labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(X)
        out.append({"quantile": float(q), "eps": eps, "n_clusters": int(len(set(labels.tolist()) - {-1})),
                    "noise_frac": float((labels < 0).mean()), "labels": labels})
    return out
