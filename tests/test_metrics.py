"""Metric properties over every registered metric, plus hand-computed cases and independent references."""

import itertools

import numpy as np
import pytest
from sklearn import metrics as skm

from mmc_lib import metrics
from mmc_lib.metrics import METRICS, clustering_report

RNG = np.random.default_rng(0)
Y_TRUE = RNG.integers(0, 4, 60)
Y_PRED = RNG.integers(0, 5, 60)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_invariant_to_relabelling_clusters(name):
    relabel = np.array([3, 0, 4, 1, 2])[Y_PRED]
    assert METRICS[name](Y_TRUE, Y_PRED) == pytest.approx(METRICS[name](Y_TRUE, relabel))


@pytest.mark.parametrize("name", sorted(METRICS))
def test_perfect_partition_scores_one(name):
    assert METRICS[name](Y_TRUE, (Y_TRUE + 7) % 11) == pytest.approx(1.0)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_bounded(name):
    value = METRICS[name](Y_TRUE, Y_PRED)
    lower = -1.0 if name == "ari" else 0.0
    assert lower <= value <= 1.0


@pytest.mark.parametrize("name", ["acc", "nmi", "ari", "f_score"])
def test_symmetric_where_it_should_be(name):
    a, b = RNG.integers(0, 3, 40), RNG.integers(0, 3, 40)
    assert METRICS[name](a, b) == pytest.approx(METRICS[name](b, a))


@pytest.mark.parametrize("name", sorted(METRICS))
def test_rejects_nan_and_length_mismatch(name):
    with pytest.raises(ValueError, match="NaN"):
        METRICS[name]([0, 1, np.nan], [0, 1, 1])
    with pytest.raises(ValueError, match="different lengths"):
        METRICS[name]([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        METRICS[name]([], [])


def test_worst_cases():
    y = np.repeat([0, 1], 50)
    one_cluster = np.zeros(100, dtype=int)
    assert metrics.nmi(y, one_cluster) == pytest.approx(0.0)
    assert metrics.ari(y, one_cluster) == pytest.approx(0.0)
    assert metrics.purity(y, one_cluster) == 0.5
    assert metrics.accuracy(y, one_cluster) == 0.5
    singletons = np.arange(100)
    assert metrics.f_score(y, singletons) == 0.0  # no predicted pair at all


def test_hand_computed_worked_example():
    # the example of notebook 00: one sample misplaced, cluster ids swapped
    report = clustering_report([0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 0])
    assert report["acc"] == pytest.approx(5 / 6)
    assert report["purity"] == pytest.approx(5 / 6)
    assert report["precision"] == pytest.approx(4 / 7)
    assert report["recall"] == pytest.approx(4 / 6)
    assert report["f_score"] == pytest.approx(2 * (4 / 7) * (4 / 6) / (4 / 7 + 4 / 6))


def test_nmi_and_ari_match_sklearn():
    assert metrics.nmi(Y_TRUE, Y_PRED) == pytest.approx(skm.normalized_mutual_info_score(Y_TRUE, Y_PRED))
    assert metrics.ari(Y_TRUE, Y_PRED) == pytest.approx(skm.adjusted_rand_score(Y_TRUE, Y_PRED))


def _brute_force_acc(y_true, y_pred):
    classes, clusters = np.unique(y_true), np.unique(y_pred)
    best = 0
    for perm in itertools.permutations(classes, len(clusters)) if len(clusters) <= len(classes) else []:
        mapping = dict(zip(clusters, perm))
        best = max(best, np.mean([mapping[p] == t for t, p in zip(y_true, y_pred)]))
    return best


@pytest.mark.parametrize("trial", range(5))
def test_acc_matches_brute_force_over_permutations(trial):
    rng = np.random.default_rng(trial)
    y_true, y_pred = rng.integers(0, 4, 30), rng.integers(0, 4, 30)
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(_brute_force_acc(y_true, y_pred))


def test_pairwise_counts_match_sklearn_pair_confusion():
    tp, fp, fn = metrics.pair_counts(Y_TRUE, Y_PRED)
    C = skm.cluster.pair_confusion_matrix(Y_TRUE, Y_PRED) // 2  # sklearn counts ordered pairs
    assert (tp, fp, fn) == (C[1, 1], C[0, 1], C[1, 0])


def test_silhouette_prefers_the_true_partition():
    X = np.r_[RNG.normal(0, 0.1, (30, 2)), RNG.normal(3, 0.1, (30, 2))]
    y = np.repeat([0, 1], 30)
    assert metrics.silhouette(X, y) > 0.9
    assert metrics.silhouette(X, RNG.integers(0, 2, 60)) < 0.2
    with pytest.raises(ValueError, match="shape"):
        metrics.silhouette(X, y[:10])


def test_clustering_report_checks_its_labels_once_and_agrees_with_each_metric(monkeypatch):
    rng = np.random.default_rng(3)
    y_true, y_pred = rng.integers(0, 4, 200), rng.integers(0, 5, 200)
    expected = {name: fn(y_true, y_pred) for name, fn in METRICS.items()}
    calls = []
    real = metrics.check_labels

    def counting(a, b):
        calls.append(1)
        return real(a, b)

    monkeypatch.setattr(metrics, "check_labels", counting)
    report = clustering_report(y_true, y_pred)
    assert len(calls) == 1
    assert report == expected  # exactly the values of the metrics one by one
    with pytest.raises(ValueError, match="different lengths"):
        clustering_report(y_true, y_pred[:-1])
