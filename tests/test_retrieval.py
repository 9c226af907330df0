"""Retrieval metrics against hand-computed cases and brute-force references."""

import numpy as np
import pytest

from mmc_lib.retrieval import (
    average_precisions,
    chance_map,
    cosine_scores,
    mean_average_precision,
    pair_cosines,
    precision_recall_curve,
    recall_at_k,
    retrieval_report,
)


def _ap_bruteforce(scores, q_label, item_labels):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    hits, total = 0, 0.0
    for rank, i in enumerate(order, start=1):
        if item_labels[i] == q_label:
            hits += 1
            total += hits / rank
    return total / hits


def test_average_precision_hand_case():
    # ranking: rel, not, rel, not -> AP = (1/1 + 2/3) / 2
    scores = np.array([[0.9, 0.7, 0.5, 0.1]])
    assert average_precisions(scores, [3], [3, 0, 3, 1])[0] == pytest.approx((1 + 2 / 3) / 2)


def test_average_precision_matches_bruteforce():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(7, 30))
    q_labels, i_labels = rng.integers(0, 3, 7), rng.integers(0, 3, 30)
    expected = [_ap_bruteforce(scores[q], q_labels[q], i_labels) for q in range(7)]
    np.testing.assert_allclose(average_precisions(scores, q_labels, i_labels), expected)


def test_map_perfect_and_reversed_ranking():
    z = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    labels = [0, 0, 1, 1]
    assert mean_average_precision(z, z, labels, labels) == pytest.approx(1.0)
    # reversing one side's geometry ranks the other class first: AP = (1/3 + 2/4) / 2
    assert mean_average_precision(z, z[:, ::-1], labels, labels) == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_random_ranking_near_chance():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 5, 600)
    value = mean_average_precision(rng.normal(size=(600, 8)), rng.normal(size=(600, 8)), labels, labels)
    assert abs(value - chance_map(labels)) < 0.02


def test_recall_at_k_counts_true_pair_rank():
    q = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    items = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 1.0]])  # query 0's pair ranks last
    r = recall_at_k(q, items, ks=(1, 3))
    assert r["recall@1"] == pytest.approx(2 / 3)
    assert r["recall@3"] == pytest.approx(1.0)


def test_precision_recall_curve_ends():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(40, 4))
    labels = rng.integers(0, 4, 40)
    recall, precision = precision_recall_curve(z, z, labels, labels)
    assert recall[-1] == pytest.approx(1.0)
    assert np.all(np.diff(recall) >= -1e-12)
    _, counts = np.unique(labels, return_counts=True)
    assert precision[-1] == pytest.approx(chance_map(labels))  # at the end every item is retrieved


def test_report_keys_and_symmetry():
    z = np.eye(4)
    report = retrieval_report(z, z, [0, 1, 0, 1], ks=(1,))
    assert set(report) == {"map_img2txt", "map_txt2img", "map_mean", "recall_at_1_img2txt", "recall_at_1_txt2img"}
    assert report["recall_at_1_img2txt"] == 1.0


def test_pair_cosines_aligned_vs_random():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(200, 16))
    cos = pair_cosines(z, z + 0.1 * rng.normal(size=z.shape), seed=0)
    assert cos["true_pairs"] > 0.9
    assert abs(cos["random_pairs"]) < 0.1


def test_bad_input_rejected():
    with pytest.raises(ValueError, match="same space"):
        cosine_scores(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="do not match"):
        average_precisions(np.ones((2, 3)), [0, 1], [0, 1])
    with pytest.raises(ValueError, match="labels must have shape"):
        retrieval_report(np.eye(3), np.eye(3), [0, 1])
    with pytest.raises(ValueError, match="NaN"):
        recall_at_k(np.array([[np.nan, 1.0]]), np.ones((1, 2)))
