"""Cross-modal retrieval scores in a joint space.

Protocol (Rasiwasia et al., ACM MM 2010, Sec. 5): every item of one modality
queries every item of the other modality in the test set; items are ranked by
cosine similarity; an item is *relevant* when it has the query's class.

* ``mAP`` — mean over queries of average precision over the whole ranking
  (mAP@all): ``AP = (1/R) Σ_k P@k · rel_k`` with ``R`` the number of relevant items.
* ``recall@k`` — instance level: the fraction of queries whose own paired item
  (same row index) is among the top ``k``.
* precision–recall curve — class relevance; precision and recall at every rank
  cut-off, averaged over queries.
"""

from __future__ import annotations

import numpy as np

from mmc_lib.validation import check_views


def _unit(z: np.ndarray) -> np.ndarray:
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


def cosine_scores(queries: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Cosine similarity matrix ``(n_queries, n_items)``.

    Examples
    --------
    >>> cosine_scores(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0], [0.0, 1.0]])).tolist()
    [[1.0, 0.0]]
    """
    queries, items = np.asarray(queries, dtype=np.float64), np.asarray(items, dtype=np.float64)
    if queries.ndim != 2 or items.ndim != 2 or queries.shape[1] != items.shape[1]:
        raise ValueError(f"queries {queries.shape} and items {items.shape} must be 2-D in the same space")
    return _unit(queries) @ _unit(items).T


def _relevance(scores: np.ndarray, query_labels, item_labels) -> np.ndarray:
    """Boolean relevance of items in ranked order, ``(n_queries, n_items)``; ties keep item order."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.asarray(item_labels)[order] == np.asarray(query_labels)[:, None]


def average_precisions(scores: np.ndarray, query_labels, item_labels) -> np.ndarray:
    """AP of every query over the full ranking (relevance = same label).

    Examples
    --------
    >>> s = np.array([[0.9, 0.8, 0.1]])  # ranking: item0 (rel), item1 (not), item2 (rel)
    >>> average_precisions(s, [1], [1, 0, 1]).round(4).tolist()  # (1/1 + 2/3) / 2
    [0.8333]
    """
    scores = np.asarray(scores, dtype=np.float64)
    query_labels, item_labels = np.asarray(query_labels), np.asarray(item_labels)
    if scores.shape != (query_labels.size, item_labels.size):
        raise ValueError(f"scores {scores.shape} do not match {query_labels.size} queries x {item_labels.size} items")
    rel = _relevance(scores, query_labels, item_labels)
    ranks = np.arange(1, rel.shape[1] + 1)
    precision_at_k = np.cumsum(rel, axis=1) / ranks  # P@k for every cut-off k
    n_rel = rel.sum(axis=1)
    ap = (precision_at_k * rel).sum(axis=1) / np.maximum(n_rel, 1)
    return np.where(n_rel > 0, ap, 0.0)


def mean_average_precision(queries, items, query_labels, item_labels) -> float:
    """mAP@all of cosine ranking (relevance = same class).

    Examples
    --------
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> mean_average_precision(q, q, [0, 1], [0, 1])
    1.0
    """
    return float(average_precisions(cosine_scores(queries, items), query_labels, item_labels).mean())


def recall_at_k(queries, items, ks=(1, 5, 10)) -> dict[str, float]:
    """Fraction of queries whose paired item (same row) ranks in the top ``k``.

    Examples
    --------
    >>> z = np.eye(3)
    >>> recall_at_k(z, z, ks=(1,))
    {'recall@1': 1.0}
    """
    queries, items = check_views([queries, items], name="paired embeddings")
    scores = cosine_scores(queries, items)
    own = np.diag(scores)[:, None]
    rank = (scores > own).sum(axis=1)  # 0-based rank of the true pair (ties count in its favour)
    return {f"recall@{k}": float((rank < k).mean()) for k in ks}


def precision_recall_curve(queries, items, query_labels, item_labels) -> tuple[np.ndarray, np.ndarray]:
    """Mean recall and precision over queries at every rank cut-off ``k = 1..n_items``.

    Examples
    --------
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> r, p = precision_recall_curve(q, q, [0, 1], [0, 1])
    >>> r.tolist(), p.tolist()
    ([1.0, 1.0], [1.0, 0.5])
    """
    rel = _relevance(cosine_scores(queries, items), query_labels, item_labels)
    hits = np.cumsum(rel, axis=1)
    ranks = np.arange(1, rel.shape[1] + 1)
    recall = hits / np.maximum(rel.sum(axis=1, keepdims=True), 1)
    precision = hits / ranks
    return recall.mean(axis=0), precision.mean(axis=0)


def retrieval_report(z_img, z_txt, labels, *, ks=(1, 5, 10)) -> dict[str, float]:
    """Both directions: ``map_img2txt``, ``map_txt2img``, ``map_mean`` and ``recall@k`` for each.

    Examples
    --------
    >>> z = np.eye(2)
    >>> retrieval_report(z, z, [0, 1], ks=(1,))["map_mean"]
    1.0
    """
    z_img, z_txt = check_views([z_img, z_txt], name="paired embeddings")
    labels = np.asarray(labels)
    if labels.shape != (z_img.shape[0],):
        raise ValueError(f"labels must have shape ({z_img.shape[0]},), got {labels.shape}")
    out = {"map_img2txt": mean_average_precision(z_img, z_txt, labels, labels),
           "map_txt2img": mean_average_precision(z_txt, z_img, labels, labels)}
    out["map_mean"] = (out["map_img2txt"] + out["map_txt2img"]) / 2
    for direction, (q, d) in {"img2txt": (z_img, z_txt), "txt2img": (z_txt, z_img)}.items():
        for name, value in recall_at_k(q, d, ks).items():
            out[f"{name.replace('@', '_at_')}_{direction}"] = value
    return out


def chance_map(labels) -> float:
    """Expected AP of a random ranking ≈ the fraction of relevant items, averaged over queries.

    Examples
    --------
    >>> chance_map([0, 0, 1, 1])
    0.5
    """
    _, counts = np.unique(np.asarray(labels), return_counts=True)
    share = counts / counts.sum()  # a query of class c finds relevant items at rate n_c / N
    return float(share @ share)


def pair_cosine_samples(z_a, z_b, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cosines of the true pairs (row i with row i) and of random pairs (row i with a shuffled row).

    Examples
    --------
    >>> true, rand = pair_cosine_samples(np.eye(3), np.eye(3))
    >>> true.tolist()
    [1.0, 1.0, 1.0]
    """
    z_a, z_b = check_views([z_a, z_b], name="paired embeddings")
    a, b = _unit(z_a.astype(np.float64)), _unit(z_b.astype(np.float64))
    perm = np.random.default_rng(seed).permutation(a.shape[0])
    return (a * b).sum(axis=1), (a * b[perm]).sum(axis=1)


def pair_cosines(z_a, z_b, *, seed: int = 0) -> dict[str, float]:
    """Mean cosine of true pairs vs random pairs: how well the joint space aligns the modalities.

    Examples
    --------
    >>> pair_cosines(np.eye(4), np.eye(4))["true_pairs"]
    1.0
    """
    true, rand = pair_cosine_samples(z_a, z_b, seed=seed)
    return {"true_pairs": float(true.mean()), "random_pairs": float(rand.mean())}
