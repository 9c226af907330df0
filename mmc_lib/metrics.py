"""Clustering metrics used by the papers, as fractions in [0, 1].

Conventions (the papers print percent; the notebooks multiply by 100):

* ACC — best one-to-one match of clusters to classes (Hungarian algorithm).
* NMI — mutual information normalised by the *arithmetic* mean of the two
  entropies (scikit-learn's default), the convention of most MVC code bases.
* ARI — Hubert & Arabie adjusted Rand index.
* F-score / precision / recall — over sample *pairs*: a pair is predicted
  positive when both samples share a cluster, and truly positive when both
  share a class (the DM2C convention).
* Purity — each cluster votes for its majority class.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn import metrics as skm

from mmc_lib.validation import check_labels, check_views


def contingency(y_true, y_pred) -> np.ndarray:
    """Counts table, rows = classes, columns = clusters (labels taken in sorted order)."""
    return _contingency(*check_labels(y_true, y_pred))


def _contingency(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """:func:`contingency` of labels already checked."""
    _, t = np.unique(y_true, return_inverse=True)
    _, p = np.unique(y_pred, return_inverse=True)
    table = np.zeros((t.max() + 1, p.max() + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)
    return table


def accuracy(y_true, y_pred) -> float:
    """Clustering accuracy: fraction correct under the best cluster→class matching.

    Examples
    --------
    >>> accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    return _accuracy(contingency(y_true, y_pred))


def _accuracy(table: np.ndarray) -> float:
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / table.sum())


def nmi(y_true, y_pred) -> float:
    """Normalised mutual information (arithmetic-mean normalisation).

    Examples
    --------
    >>> round(nmi([0, 0, 1, 1], [0, 0, 1, 1]), 6)
    1.0
    """
    return _nmi(*check_labels(y_true, y_pred))


def _nmi(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(skm.normalized_mutual_info_score(y_true, y_pred, average_method="arithmetic"))


def ari(y_true, y_pred) -> float:
    """Adjusted Rand index (can be negative; 0 is chance level).

    Examples
    --------
    >>> ari([0, 0, 1, 1], [0, 0, 1, 1])
    1.0
    """
    return float(skm.adjusted_rand_score(*check_labels(y_true, y_pred)))


def pair_counts(y_true, y_pred) -> tuple[int, int, int]:
    """(TP, FP, FN) over unordered sample pairs."""
    return _pair_counts(contingency(y_true, y_pred))


def _pair_counts(table: np.ndarray) -> tuple[int, int, int]:
    same_both = int((table * (table - 1) // 2).sum())
    cluster_sizes = table.sum(axis=0)
    class_sizes = table.sum(axis=1)
    same_cluster = int((cluster_sizes * (cluster_sizes - 1) // 2).sum())
    same_class = int((class_sizes * (class_sizes - 1) // 2).sum())
    return same_both, same_cluster - same_both, same_class - same_both


def pairwise_precision_recall_f(y_true, y_pred) -> tuple[float, float, float]:
    """Pairwise precision, recall and F-score (harmonic mean). Zero where undefined.

    Examples
    --------
    >>> pairwise_precision_recall_f([0, 0, 1, 1], [0, 0, 0, 0])
    (0.3333333333333333, 1.0, 0.5)
    """
    return _precision_recall_f(contingency(y_true, y_pred))


def _precision_recall_f(table: np.ndarray) -> tuple[float, float, float]:
    tp, fp, fn = _pair_counts(table)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f_score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(precision), float(recall), float(f_score)


def f_score(y_true, y_pred) -> float:
    """Pairwise F-score (see :func:`pairwise_precision_recall_f`)."""
    return pairwise_precision_recall_f(y_true, y_pred)[2]


def purity(y_true, y_pred) -> float:
    """Fraction of samples that carry their cluster's majority class.

    Examples
    --------
    >>> purity([0, 0, 1, 1], [0, 0, 0, 0])
    0.5
    """
    return _purity(contingency(y_true, y_pred))


def _purity(table: np.ndarray) -> float:
    return float(table.max(axis=0).sum() / table.sum())


def silhouette(X, labels, *, sample_size: int | None = 2000, seed: int = 0) -> float:
    """Mean silhouette coefficient of a partition of ``X`` (Euclidean), in [-1, 1].

    Unsupervised: needs no ground truth. Computed on a random subsample of
    ``sample_size`` rows when ``X`` is larger (exact when ``None``).
    """
    (X,) = check_views([X], name="X")
    labels = np.asarray(labels)
    if labels.shape != (X.shape[0],):
        raise ValueError(f"labels must have shape ({X.shape[0]},), got {labels.shape}")
    if len(np.unique(labels)) < 2:
        return 0.0
    size = sample_size if sample_size and X.shape[0] > sample_size else None
    return float(skm.silhouette_score(X, labels, sample_size=size, random_state=seed))


#: Name → metric for every label-vs-label metric; tests iterate over this.
METRICS = {
    "acc": accuracy,
    "nmi": nmi,
    "ari": ari,
    "f_score": f_score,
    "precision": lambda y_true, y_pred: pairwise_precision_recall_f(y_true, y_pred)[0],
    "recall": lambda y_true, y_pred: pairwise_precision_recall_f(y_true, y_pred)[1],
    "purity": purity,
}


def clustering_report(y_true, y_pred) -> dict[str, float]:
    """All label metrics as fractions: keys ``acc, nmi, ari, f_score, precision, recall, purity``.

    The labels are validated once, and the table-based metrics (ACC, purity, the pair counts) share one contingency
    table; each value equals the one its own function gives.

    Examples
    --------
    >>> report = clustering_report([0, 0, 1, 1], [1, 1, 0, 0])
    >>> report["acc"], report["purity"]
    (1.0, 1.0)
    """
    y_true, y_pred = check_labels(y_true, y_pred)
    table = _contingency(y_true, y_pred)
    precision, recall, f = _precision_recall_f(table)
    return {
        "acc": _accuracy(table),
        "nmi": _nmi(y_true, y_pred),
        "ari": float(skm.adjusted_rand_score(y_true, y_pred)),
        "f_score": f,
        "precision": precision,
        "recall": recall,
        "purity": _purity(table),
    }


# ----------------------------------------------------------------- hierarchical clusterings (TreeVAE's metrics)

def leaf_purity(y_true, leaves) -> float:
    """Leaf purity (TreeVAE, Manduchi et al. 2023): the share of samples carrying their leaf's majority class, i.e.
    the size-weighted mean purity of the leaves — :func:`purity` with leaves as clusters.

    Examples
    --------
    >>> leaf_purity([0, 0, 1, 1, 1], [0, 0, 0, 1, 1])
    0.8
    """
    return purity(y_true, leaves)


def dendrogram_purity(y_true, leaves, leaf_paths) -> float:
    """Dendrogram purity (Heller & Ghahramani 2005, as used by TreeVAE) of a tree whose leaves are clusters.

    For every pair of samples of the same class, take the smallest subtree holding both (the lowest common ancestor
    of their leaves; a leaf itself when they share one) and the share of that subtree's samples of their class;
    average over all such pairs. 1 when each class sits in its own subtree and nothing else shares it.

    Parameters
    ----------
    y_true : (n,) classes.
    leaves : (n,) leaf index of each sample, in ``range(len(leaf_paths))``.
    leaf_paths : one sequence of node ids per leaf, from the root to the leaf (the root id first, the leaf's own id
        last), e.g. ``TreeVAE.leaf_paths_``.

    Examples
    --------
    Root 0 with an inner node 1 (leaves 3 and 4) and a leaf 2. Leaf 3 holds two class-0 samples, leaf 4 one of
    class 0 and one of class 1, leaf 2 two of class 1. Class-0 pairs: one meets in leaf 3 (purity 1), two meet at
    node 1 (3 of its 4 samples are class 0: 0.75 each). Class-1 pairs: one meets in leaf 2 (1), two meet at the root
    (3 of 6: 0.5 each). Mean over the 6 pairs: (1 + 1.5 + 1 + 1) / 6 = 0.75.

    >>> dendrogram_purity([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2], [(0, 1, 3), (0, 1, 4), (0, 2)])
    0.75
    """
    y_true, leaves = check_labels(y_true, leaves)
    paths = [tuple(p) for p in leaf_paths]
    if not paths or any(len(p) == 0 for p in paths):
        raise ValueError("leaf_paths must hold one non-empty root-to-leaf path per leaf")
    if len({p[0] for p in paths}) != 1:
        raise ValueError(f"every leaf path must start at the same root, got roots {sorted({p[0] for p in paths})}")
    if leaves.min() < 0 or leaves.max() >= len(paths):
        raise ValueError(f"leaves must index leaf_paths (0..{len(paths) - 1}), got values in "
                         f"[{leaves.min()}, {leaves.max()}]")
    _, y = np.unique(y_true, return_inverse=True)
    n_classes = y.max() + 1
    # per node: class counts of the samples below it, and the counts of its children
    counts: dict = {}
    children: dict = {}
    for k, path in enumerate(paths):
        per_class = np.bincount(y[leaves == k], minlength=n_classes)
        for depth, node in enumerate(path):
            counts[node] = counts.get(node, 0) + per_class
            if depth + 1 < len(path):
                children.setdefault(node, set()).add(path[depth + 1])
    pairs_total = (np.bincount(y, minlength=n_classes) * (np.bincount(y, minlength=n_classes) - 1) / 2).sum()
    if pairs_total == 0:
        raise ValueError("dendrogram purity needs at least one pair of samples of the same class")
    score = 0.0
    for node, c in counts.items():
        inside = c * (c - 1) / 2  # same-class pairs below this node
        below = sum(counts[ch] * (counts[ch] - 1) / 2 for ch in children.get(node, ()))
        meet_here = inside - below  # same-class pairs whose lowest common ancestor is this node
        if c.sum():
            score += float((meet_here * c / c.sum()).sum())
    return float(score / pairs_total)
