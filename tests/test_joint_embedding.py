"""Aligners, the InfoNCE loss, knee-eps DBSCAN, the Wikipedia split and the study behind notebook 03."""

import math

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from mmc_lib.data import available
from mmc_lib.methods.classical.knee_dbscan import KneeDBSCAN, k_distance, knee_index, score_labels
from mmc_lib.losses.contrastive import clip_info_nce as symmetric_info_nce
from mmc_lib.methods.crossmodal.aligners import (
    CCAAligner,
    ContrastiveAligner,
    ContrastiveConfig,
    joint_vectors,
)
from mmc_lib.metrics import nmi
from mmc_lib.retrieval import pair_cosines

TINY = ContrastiveConfig(embed_dim=8, hidden=(32,), epochs=40, batch_size=64, dropout=0.0)


def _paired(n=300, k=4, seed=0, noise_dims=15):
    """Two views of a shared class signal, each buried in its own large nuisance noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    centres = rng.normal(scale=2.0, size=(k, 3))
    s = centres[y] + 0.3 * rng.normal(size=(n, 3))
    x_a = np.hstack([s @ rng.normal(size=(3, 5)), 4 * rng.normal(size=(n, noise_dims))])
    x_b = np.hstack([s @ rng.normal(size=(3, 4)), 4 * rng.normal(size=(n, noise_dims))])
    return x_a.astype(np.float32), x_b.astype(np.float32), y


# ------------------------------------------------------------------------- loss


def test_info_nce_hand_value_and_gradient_sign():
    z = torch.eye(3)
    scale = torch.tensor(2.0)
    losses = symmetric_info_nce(z, z, scale)
    expected = -math.log(math.exp(2) / (math.exp(2) + 2))  # diagonal logit 2, off-diagonals 0
    assert float(losses["a2b"]) == pytest.approx(expected, rel=1e-6)
    assert float(losses["total"]) == pytest.approx(expected, rel=1e-6)
    # for aligned pairs a larger logit scale (lower temperature) lowers the loss
    s = torch.tensor(2.0, requires_grad=True)
    symmetric_info_nce(z, z, s)["total"].backward()
    assert s.grad < 0


def test_info_nce_prefers_true_pairs():
    rng = torch.Generator().manual_seed(0)
    z = torch.nn.functional.normalize(torch.randn(16, 8, generator=rng), dim=1)
    aligned = symmetric_info_nce(z, z, torch.tensor(10.0))["total"]
    shuffled = symmetric_info_nce(z, z[torch.randperm(16, generator=rng)], torch.tensor(10.0))["total"]
    assert aligned < shuffled


# ------------------------------------------------------------------------- CCA


def test_cca_recovers_shared_signal_and_matches_sklearn():
    from sklearn.cross_decomposition import CCA

    rng = np.random.default_rng(0)  # a well-conditioned pair: a 3-d shared signal seen through noise
    s = rng.normal(size=(400, 3)) * [3.0, 2.0, 1.0]
    x_a = s @ rng.normal(size=(3, 8)) + rng.normal(size=(400, 8))
    x_b = s @ rng.normal(size=(3, 6)) + rng.normal(size=(400, 6))
    model = CCAAligner(3, reg=0.0).fit(x_a, x_b)
    assert model.correlations_[0] > 0.9
    assert np.all(np.diff(model.correlations_) <= 1e-12)  # canonical correlations come sorted
    z_a, z_b = (z.astype(np.float64) for z in model.transform(x_a, x_b))
    # canonical variates: unit variance, uncorrelated within a view, paired correlations = correlations_
    np.testing.assert_allclose(np.cov(z_a.T), np.eye(3), atol=1e-4)
    np.testing.assert_allclose(np.cov(z_b.T), np.eye(3), atol=1e-4)
    np.testing.assert_allclose(np.diag(np.cov(z_a.T, z_b.T)[:3, 3:]), model.correlations_, atol=1e-4)
    # the same first canonical correlation as scikit-learn's iterative (NIPALS) CCA
    ref_a, ref_b = CCA(1, scale=False, max_iter=5000, tol=1e-10).fit_transform(model._prep(0, x_a),
                                                                               model._prep(1, x_b))
    assert abs(np.corrcoef(ref_a[:, 0], ref_b[:, 0])[0, 1] - model.correlations_[0]) < 1e-4


def test_cca_ridge_keeps_collinear_views_well_posed():
    x_a, x_b, _ = _paired(n=60)
    x_a = np.hstack([x_a, x_a[:, :5] + 1e-9])  # five exactly collinear columns
    z_a, z_b = CCAAligner(3).fit(x_a, x_b).transform(x_a, x_b)
    assert np.isfinite(z_a).all() and np.isfinite(z_b).all()


def test_cca_rejects_bad_input():
    x_a, x_b, _ = _paired(n=50)
    with pytest.raises(ValueError, match="different sample counts"):
        CCAAligner(2).fit(x_a, x_b[:-1])
    with pytest.raises(ValueError, match="n_components must be between 1 and"):
        CCAAligner(99).fit(x_a, x_b)
    model = CCAAligner(2).fit(x_a, x_b)
    with pytest.raises(ValueError, match="fitted on 20"):
        model.transform_a(np.zeros((3, 7)))


def test_joint_space_beats_noisy_single_view_kmeans():
    x_a, x_b, y = _paired(n=400, k=4, seed=1, noise_dims=80)
    km = lambda X: KMeans(4, n_init=10, random_state=0).fit_predict(X)  # noqa: E731
    single = nmi(y, km((x_a - x_a.mean(0)) / x_a.std(0)))
    z_a, z_b = CCAAligner(3).fit(x_a, x_b).transform(x_a, x_b)
    joint = nmi(y, km(joint_vectors(z_a, z_b)))
    assert joint > 0.95
    assert joint > single + 0.15


# ------------------------------------------------------------------- contrastive


def test_contrastive_aligns_pairs_and_loss_falls():
    x_a, x_b, _ = _paired(n=256, seed=2)
    model = ContrastiveAligner(TINY, seed=0).fit(x_a, x_b)
    assert model.history_[-1]["total"] < model.history_[0]["total"]
    assert set(model.history_[0]) >= {"epoch", "total", "a2b", "b2a", "temperature"}
    z_a, z_b = model.transform(x_a, x_b)
    np.testing.assert_allclose(np.linalg.norm(z_a, axis=1), 1.0, atol=1e-5)
    cos = pair_cosines(z_a, z_b, seed=0)
    assert cos["true_pairs"] > 0.8
    assert cos["true_pairs"] > cos["random_pairs"] + 0.2  # random pairs share a class 1/4 of the time


def test_contrastive_deterministic_for_seed():
    x_a, x_b, _ = _paired(n=128, seed=3)
    cfg = ContrastiveConfig(embed_dim=4, hidden=(16,), epochs=3, batch_size=32)
    z1 = ContrastiveAligner(cfg, seed=5).fit(x_a, x_b).transform_b(x_b)
    z2 = ContrastiveAligner(cfg, seed=5).fit(x_a, x_b).transform_b(x_b)
    z3 = ContrastiveAligner(cfg, seed=6).fit(x_a, x_b).transform_b(x_b)
    np.testing.assert_array_equal(z1, z2)
    assert not np.allclose(z1, z3)


def test_contrastive_temperature_clipped():
    x_a, x_b, _ = _paired(n=64, seed=4)
    cfg = ContrastiveConfig(embed_dim=4, hidden=(8,), epochs=2, batch_size=32, lr=5.0, max_logit_scale=20.0)
    model = ContrastiveAligner(cfg, seed=0).fit(x_a, x_b)
    assert model.temperature_ >= 1 / 20.0 - 1e-6


def test_contrastive_rejects_bad_config_and_input():
    x_a, x_b, _ = _paired(n=64)
    with pytest.raises(ValueError, match="batch_size must be at least 2"):
        ContrastiveAligner(ContrastiveConfig(batch_size=1)).fit(x_a, x_b)
    with pytest.raises(ValueError, match="NaN"):
        bad = x_a.copy()
        bad[0, 0] = np.nan
        ContrastiveAligner(TINY).fit(bad, x_b)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        ContrastiveAligner(ContrastiveConfig(epochs=0)).fit(x_a, x_b)


def test_joint_vectors_modes():
    a, b = np.array([[3.0, 4.0]]), np.array([[0.0, 2.0]])
    np.testing.assert_allclose(joint_vectors(a, b, how="concat"), [[0.6, 0.8, 0.0, 1.0]])
    with pytest.raises(ValueError, match="unknown joint mode"):
        joint_vectors(a, b, how="sum")
    with pytest.raises(ValueError, match="one space"):
        joint_vectors(a, np.ones((1, 3)))


# ------------------------------------------------------------------------ DBSCAN


def test_k_distance_and_knee():
    X = np.array([[0.0], [1.0], [3.0], [7.0]])
    assert k_distance(X, 1).tolist() == [1.0, 1.0, 2.0, 4.0]
    # a flat run then a sharp rise: the knee is the last point of the flat run
    curve = np.concatenate([np.linspace(0, 0.5, 50), np.linspace(1, 10, 10)])
    assert knee_index(curve) == 49
    with pytest.raises(ValueError, match="sorted ascending"):
        knee_index(np.array([3.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="k must be between"):
        k_distance(X, 4)


def test_knee_dbscan_finds_dense_blobs_and_flags_outliers():
    rng = np.random.default_rng(0)
    blobs = np.vstack([rng.normal(c, 0.2, (80, 2)) for c in ((0, 0), (6, 0), (0, 6))])
    outliers = np.array([[20.0, 20.0], [-20.0, 15.0], [15.0, -20.0]])
    model = KneeDBSCAN(min_samples=6).fit(np.vstack([blobs, outliers]))
    assert model.n_clusters_ == 3
    assert np.all(model.labels_[-3:] == -1)
    assert model.eps_ == pytest.approx(model.k_distances_[model.knee_index_])


def test_score_labels_noise_modes():
    labels = np.array([-1, 0, 1, -1, -1])
    assert score_labels(labels, noise="cluster").tolist() == [2, 0, 1, 2, 2]
    assert score_labels(labels, noise="singletons").tolist() == [2, 0, 1, 3, 4]
    assert score_labels(np.array([-1, -1]), noise="cluster").tolist() == [0, 0]
    with pytest.raises(ValueError, match="unknown noise scoring"):
        score_labels(labels, noise="drop")


# ------------------------------------------------------------------ Wikipedia split


@pytest.mark.skipif(not (available("wikipedia") and available("wikipedia-test")), reason="Wikipedia data absent")
def test_wikipedia_split_sizes_and_disjoint():
    from mmc_lib.data import wikipedia_split

    train, test = wikipedia_split(scale=False)  # the raw features the aligners are fitted on
    assert (train.n_samples, test.n_samples) == (2173, 693)
    keys = {r.tobytes() for r in np.hstack(train.views)}
    assert not any(r.tobytes() in keys for r in np.hstack(test.views))


def test_contrastive_keeps_lowest_held_out_loss_epoch():
    x_a, x_b, _ = _paired(n=200, seed=6)
    cfg = ContrastiveConfig(embed_dim=8, hidden=(32,), epochs=30, batch_size=64, val_fraction=0.2, patience=4)
    model = ContrastiveAligner(cfg, seed=0).fit(x_a, x_b)
    val = [h["val_total"] for h in model.history_]
    assert model.best_epoch_ == int(np.argmin(val)) + 1  # epochs count from 1
    # early stopping: either ran out of epochs or stopped `patience` epochs after the best one
    assert len(val) == cfg.epochs or len(val) - 1 - model.best_epoch_ == cfg.patience
    with pytest.raises(ValueError, match="val_fraction"):
        ContrastiveAligner(ContrastiveConfig(val_fraction=0.7)).fit(x_a, x_b)


@pytest.mark.skipif(not available("cub"), reason="CUB data absent")
def test_clustering_run_keys_and_seed_dependence():
    from mmc_lib.studies.joint_embedding import clustering_run

    a = clustering_run("cub", "cca", 0, "smoke")
    b = clustering_run("cub", "cca", 1, "smoke")
    assert {"kmeans_acc", "kmeans_nmi", "kmeans_ari", "dbscan_nmi", "dbscan_eps", "dbscan_noise_frac"} <= set(a)
    assert 0.0 <= a["kmeans_nmi"] <= 1.0 and 0.0 <= a["dbscan_noise_frac"] <= 1.0
    assert a["dbscan_eps"] == b["dbscan_eps"]  # CCA and DBSCAN have no seed; only K-Means restarts differ
    with pytest.raises(ValueError, match="unknown representation"):
        clustering_run("cub", "pixels", 0, "smoke")


# ------------------------------------------------------------------ the study's rows and the grader


def test_clustering_data_rejects_unknown_dataset():
    from mmc_lib.studies.budgets import budget
    from mmc_lib.studies.joint_embedding import clustering_data

    with pytest.raises(ValueError, match="unknown clustering dataset"):
        clustering_data("digits", budget("03_joint_embedding", "smoke"))


def _fake_runs():
    """Three seeds of retrieval runs and of one dataset's clustering runs, as run_grid returns them."""
    import pandas as pd

    from mmc_lib.studies.joint_embedding import (ALIGNERS, CLUSTER_METRICS, COSINE_METRICS, REPRESENTATIONS,
                                                 RETRIEVAL_METRICS)

    ret = pd.DataFrame([{"method": m, "seed": s, **{k: (0.3 if m == "contrastive" else 0.2) + 0.01 * s
                                                     for k in RETRIEVAL_METRICS + COSINE_METRICS}}
                        for m in ALIGNERS for s in (0, 1, 2)])
    clu = pd.DataFrame([{"dataset": "cub", "representation_name": r, "seed": s,
                         **{f"{a}_{k}": 0.5 + 0.1 * (r == "contrastive") for a in ("kmeans", "dbscan")
                            for k in CLUSTER_METRICS},
                         "dbscan_eps": 1.0, "dbscan_n_clusters": 1, "dbscan_noise_frac": 0.1}
                        for r in REPRESENTATIONS for s in (0, 1, 2)])
    return ret, clu


def test_result_rows_hold_chance_and_the_grader_reads_them():
    from mmc_lib.audit import grade_notebook
    from mmc_lib.studies.joint_embedding import result_rows, retrieval_summary

    ret, clu = _fake_runs()
    rows = result_rows(clu, retrieval_summary(ret), chance=0.1)
    chance = [r for r in rows if r["method"] == "chance"]
    assert {r["metric"] for r in chance} == {"map_img2txt", "map_txt2img", "map_mean"}
    assert all(r["setting"] == "retrieval" and r["std"] == 0.0 and r["n_seeds"] == 1 for r in chance)
    assert len(rows) == 5 * 2 * 3 + 5 * 2 + 2 * 9 + 3 + 2 * 2  # clustering, DBSCAN extras, retrieval, chance, cosines
    verdicts = grade_notebook("03_joint_embedding", rows, profile="smoke")
    orders = verdicts.orderings.set_index("id")
    assert orders.loc["mmcluster.order.joint-space-search-beats-chance.map", "verdict"] == "holds"
    assert orders.loc["mmcluster.order.cca-space-search-beats-chance.map", "checked"] == "paper's data: 1/1 hold"
    assert orders.loc["mmcluster.order.joint-space-kmeans-beats-each-modality.acc", "verdict"] == "holds"
    numbers = verdicts.numbers.set_index("id")
    if available("wikipedia"):  # the published CM row is found among our cca@retrieval rows
        cm = numbers.loc["rasiwasia2010.wikipedia.cm.map-img2txt"]
        assert cm["ours_mean"] == pytest.approx(0.21) and cm["verdict"] == "below"  # mean of 0.20, 0.21, 0.22


def test_data_table_without_any_set_names_the_missing_file(tmp_path):
    from mmc_lib.data import DataMissingError
    from mmc_lib.studies.budgets import budget
    from mmc_lib.studies.joint_embedding import data_table, present_datasets

    assert present_datasets(str(tmp_path)) == []
    with pytest.raises(DataMissingError, match="not found in data directory"):
        data_table([], budget("03_joint_embedding", "smoke"), str(tmp_path))
