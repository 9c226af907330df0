"""The runs behind notebook 03: clustering in joint spaces and Wikipedia retrieval.

Each public ``*_run`` function takes plain parameters and returns a flat dict of
numbers, so :func:`mmc_lib.experiments.run_grid` can cache it run by run.

Representations of a paired dataset ``(x_a, x_b)`` (A = image, B = text; for
MNIST-USPS A = MNIST, B = USPS):

* ``view_a`` / ``view_b`` — one modality alone, as loaded (min-max scaled);
* ``concat`` — both, each z-scored and divided by ``sqrt(d_v)`` so that each view
  carries the same total variance whatever its width;
* ``cca`` / ``contrastive`` — the pair's two projections into the joint space,
  L2-normalised and averaged (:func:`joint_vectors`, ``how="mean"``).

The aligners are fitted on the very pairs that are clustered: pairing is the only
supervision, class labels are used for scoring only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sklearn.cluster import KMeans

from mmc_lib.data import MultiViewDataset, load, subsample
from mmc_lib.methods.dbscan_eps import KneeDBSCAN, score_labels
from mmc_lib.methods.joint_embedding import CCAAligner, ContrastiveAligner, ContrastiveConfig, joint_vectors
from mmc_lib.metrics import clustering_report
from mmc_lib.retrieval import pair_cosines, retrieval_report
from mmc_lib.runtime import get_profile

CLUSTER_DATASETS = ("cub", "wikipedia", "mnist-usps")
REPRESENTATIONS = ("view_a", "view_b", "concat", "cca", "contrastive")
ALIGNERS = ("cca", "contrastive")
CLUSTER_METRICS = ("acc", "nmi", "ari")


@dataclass(frozen=True)
class JointSettings:
    cca_components: int = 10  # canonical pairs (Wikipedia's LDA text view has only 10 features)
    cca_pca: int | None = 64  # per-view PCA before CCA (CUB has 1024-d images but 600 pairs)
    joint: str = "mean"  # how a pair's two projections become one vector
    dbscan_min_samples: int = 10  # DBSCAN density threshold; eps from the knee
    dbscan_noise: str = "cluster"  # DBSCAN noise scored as one extra cluster
    kmeans_n_init: int = 10  # k-means restarts (lowest inertia wins, no labels)
    contrastive: ContrastiveConfig = field(default_factory=ContrastiveConfig)

    @classmethod
    def preset(cls, profile: str) -> JointSettings:
        """Settings for a run profile (``"smoke"`` trains the contrastive heads briefly)."""
        get_profile(profile)  # fails loudly on an unknown name
        return cls(contrastive=ContrastiveConfig.preset(profile))


@lru_cache(maxsize=8)
def clustering_data(dataset: str, max_samples: int | None = None, data_dir: str | None = None) -> MultiViewDataset:
    """The first two views of ``dataset`` (class-stratified subsample to ``max_samples``, fixed seed 0)."""
    if dataset not in CLUSTER_DATASETS:
        raise ValueError(f"unknown clustering dataset {dataset!r}; known: {CLUSTER_DATASETS}")
    return subsample(load(dataset, data_dir=data_dir), max_samples, seed=0)


def fit_aligner(method: str, x_a, x_b, *, seed: int, settings: JointSettings):
    """A fitted CCA or contrastive aligner on paired rows."""
    if method == "cca":
        return CCAAligner(settings.cca_components, pca_components=settings.cca_pca).fit(x_a, x_b)
    if method == "contrastive":
        return ContrastiveAligner(settings.contrastive, seed=seed).fit(x_a, x_b)
    raise ValueError(f"unknown aligner {method!r}; known: {ALIGNERS}")


def representation(x_a: np.ndarray, x_b: np.ndarray, name: str, *, seed: int, settings: JointSettings) -> np.ndarray:
    """The vectors that get clustered, one row per pair (see the module docstring)."""
    if name == "view_a":
        return np.asarray(x_a, dtype=np.float32)
    if name == "view_b":
        return np.asarray(x_b, dtype=np.float32)
    if name == "concat":
        parts = [(x - x.mean(0)) / np.maximum(x.std(0), 1e-8) / np.sqrt(x.shape[1]) for x in (x_a, x_b)]
        return np.hstack(parts).astype(np.float32)
    if name in ALIGNERS:
        z_a, z_b = fit_aligner(name, x_a, x_b, seed=seed, settings=settings).transform(x_a, x_b)
        return joint_vectors(z_a, z_b, how=settings.joint)
    raise ValueError(f"unknown representation {name!r}; known: {REPRESENTATIONS}")


def _dbscan_scores(X: np.ndarray, labels: np.ndarray, settings: JointSettings) -> dict[str, float]:
    db = KneeDBSCAN(settings.dbscan_min_samples).fit(X)
    report = clustering_report(labels, score_labels(db.labels_, noise=settings.dbscan_noise))
    out = {f"dbscan_{m}": report[m] for m in CLUSTER_METRICS}
    out.update(dbscan_eps=db.eps_, dbscan_n_clusters=db.n_clusters_, dbscan_noise_frac=db.n_noise_ / len(X))
    return out


def cluster_scores(X: np.ndarray, labels: np.ndarray, n_clusters: int, *, seed: int,
                   settings: JointSettings, dbscan: dict | None = None) -> dict[str, float]:
    """K-Means and knee-eps DBSCAN on ``X``: ACC/NMI/ARI of each, plus DBSCAN's eps, clusters and noise.

    ``dbscan`` passes DBSCAN scores already computed on the same ``X`` (DBSCAN has no seed).
    """
    km = KMeans(n_clusters=n_clusters, n_init=settings.kmeans_n_init, random_state=seed).fit_predict(X)
    report = clustering_report(labels, km)
    out = {f"kmeans_{m}": report[m] for m in CLUSTER_METRICS}
    out.update(dbscan if dbscan is not None else _dbscan_scores(X, labels, settings))
    return out


@lru_cache(maxsize=4)
def _seedless(dataset: str, name: str, max_samples: int | None, data_dir: str | None, settings: JointSettings):
    """Representation and DBSCAN scores of the seed-free representations, computed once for all seeds."""
    ds = clustering_data(dataset, max_samples, data_dir)
    X = representation(ds.views[0], ds.views[1], name, seed=0, settings=settings)
    return X, _dbscan_scores(X, ds.labels, settings)


def clustering_run(dataset: str, representation_name: str, seed: int, profile: str,
                   data_dir: str | None = None) -> dict[str, float]:
    """One cell of the clustering table: build a representation of ``dataset`` and cluster it twice."""
    settings = JointSettings.preset(profile)
    max_samples = get_profile(profile).max_samples
    ds = clustering_data(dataset, max_samples, data_dir)
    if representation_name == "contrastive":  # the only representation that depends on the seed
        X, dbscan = representation(ds.views[0], ds.views[1], representation_name, seed=seed, settings=settings), None
    else:
        X, dbscan = _seedless(dataset, representation_name, max_samples, data_dir, settings)
    return cluster_scores(X, ds.labels, ds.n_clusters, seed=seed, settings=settings, dbscan=dbscan)


# ------------------------------------------------------------------ Wikipedia retrieval


def _row_keys(ds: MultiViewDataset) -> list[bytes]:
    return [ds.views[0][i].tobytes() + ds.views[1][i].tobytes() for i in range(ds.n_samples)]


@lru_cache(maxsize=2)
def wikipedia_split(data_dir: str | None = None) -> tuple[MultiViewDataset, MultiViewDataset]:
    """The standard split (Rasiwasia et al. 2010): test = ``wikipedia-test``; train = the other rows of ``wikipedia``.

    Rows are matched by exact equality of their raw (unscaled) features; every test
    row must occur exactly once in the full set. Returns ``(train, test)``, unscaled.
    """
    full = load("wikipedia", data_dir=data_dir, scale=False)
    test = load("wikipedia-test", data_dir=data_dir, scale=False)
    where: dict[bytes, list[int]] = {}
    for i, key in enumerate(_row_keys(full)):
        where.setdefault(key, []).append(i)
    matches = [where.get(key, []) for key in _row_keys(test)]
    bad = [j for j, m in enumerate(matches) if len(m) != 1]
    if bad:
        raise ValueError(f"{len(bad)} wikipedia-test rows do not match exactly one wikipedia row (first: {bad[0]})")
    test_idx = np.array([m[0] for m in matches])
    if not np.array_equal(full.labels[test_idx], test.labels):
        raise ValueError("wikipedia-test labels disagree with the matching wikipedia rows")
    train_idx = np.setdiff1d(np.arange(full.n_samples), test_idx)
    train = MultiViewDataset("wikipedia-train", [v[train_idx] for v in full.views], full.labels[train_idx],
                             list(full.view_names), full.n_clusters, list(full.modalities))
    return train, test


def retrieval_embeddings(method: str, seed: int, profile: str, data_dir: str | None = None):
    """Fit ``method`` on the Wikipedia train pairs; return test ``(z_img, z_txt, labels, aligner)``."""
    settings = JointSettings.preset(profile)
    train, test = wikipedia_split(data_dir)
    aligner = fit_aligner(method, train.views[0], train.views[1], seed=seed, settings=settings)
    z_img, z_txt = aligner.transform(test.views[0], test.views[1])
    return z_img, z_txt, test.labels, aligner


def retrieval_run(method: str, seed: int, profile: str, data_dir: str | None = None) -> dict[str, float]:
    """Test-split retrieval scores (mAP@all, recall@k) and true- vs random-pair cosines for one aligner."""
    z_img, z_txt, labels, _ = retrieval_embeddings(method, seed, profile, data_dir)
    out = retrieval_report(z_img, z_txt, labels)
    cos = pair_cosines(z_img, z_txt, seed=seed)
    out.update(cos_true_pairs=cos["true_pairs"], cos_random_pairs=cos["random_pairs"])
    return out
