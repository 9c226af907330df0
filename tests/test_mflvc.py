"""MFLVC: its loss terms on hand-computed cases, the Hungarian relabelling, bad input, determinism, separable blobs."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from mmc_lib.methods.deep_multiview.mflvc import MFLVC, MFLVCConfig, cluster_contrastive_loss, hungarian_relabel
from mmc_lib.metrics import accuracy

FAST = MFLVCConfig(hidden=(32,), feature_dim=16, high_feature_dim=8, mse_epochs=10, con_epochs=40, tune_epochs=20,
                   batch_size=40, lr=1e-3, kmeans_n_init=5)
TINY = MFLVCConfig(hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2, con_epochs=2, tune_epochs=2,
                   batch_size=32, kmeans_n_init=2)


def blobs(n_per=40, k=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 5)) * 3
    return [(centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32),
            (centres[y][:, ::-1] + rng.normal(0, .3, (len(y), 5))).astype(np.float32)], y


def test_cluster_contrastive_loss_by_hand():
    rng = np.random.default_rng(1)
    q1, q2 = rng.dirichlet(np.ones(3), 6), rng.dirichlet(np.ones(3), 6)  # (6, 3) soft assignments
    cols = np.concatenate([q1.T, q2.T])  # (2K, B): the anchors are the cluster columns
    cols = cols / np.linalg.norm(cols, axis=1, keepdims=True)
    sim = cols @ cols.T  # cosine similarity, τ = 1
    k = 3
    nce = 0.0
    for i in range(2 * k):
        pos = (i + k) % (2 * k)
        others = [j for j in range(2 * k) if j != i]
        nce += -sim[i, pos] + np.log(np.exp(sim[i, others]).sum())
    nce /= 2 * k
    entropy = sum(np.log(k) + (p * np.log(p)).sum() for p in (q1.mean(0), q2.mean(0)))  # log K − H(p), per view
    ours = cluster_contrastive_loss(torch.tensor(q1), torch.tensor(q2), temperature=1.0)
    assert np.isclose(float(ours), nce + entropy, atol=1e-6)


def test_entropy_term_pushes_towards_balanced_clusters():
    q = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.6, 0.4]], requires_grad=True)  # cluster 0 too big
    cluster_contrastive_loss(q, q.detach(), temperature=1.0).backward()
    assert q.grad[:, 0].sum() > q.grad[:, 1].sum()  # descending moves mass from cluster 0 to cluster 1


def test_hungarian_relabel_undoes_a_permutation_and_keeps_ties_one_to_one():
    pseudo = np.array([0, 0, 1, 1, 2, 2, 2])
    pred = np.array([1, 1, 2, 2, 0, 0, 1])
    out = hungarian_relabel(pseudo, pred, 3)
    assert out.tolist() == [1, 1, 2, 2, 0, 0, 0]
    assert len(set(out)) == 3


def test_separates_blobs():
    views, y = blobs()
    model = MFLVC(3, config=FAST).fit(views, y)
    assert accuracy(y, model.labels_) >= 0.9
    assert [r["stage"] for r in model.history_].count("finetune") == FAST.tune_epochs
    assert "acc" in model.history_[-1] and model.assignments_.shape == (120, 3)


def test_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = MFLVC(3, config=TINY, seed=4).fit_predict(views)
    after = torch.rand(1)
    b = MFLVC(3, config=TINY, seed=4).fit_predict(views)
    assert np.array_equal(a, b) and torch.equal(before, after)


def test_bad_input_is_named():
    views, _ = blobs()
    with pytest.raises(ValueError, match="different sample counts"):
        MFLVC(3, config=TINY).fit([views[0], views[1][:10]])
    bad = views[0].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        MFLVC(3, config=TINY).fit([bad, views[1]])
    with pytest.raises(ValueError, match="at least 2"):
        MFLVC(1, config=TINY).fit(views)
    with pytest.raises(ValueError, match="smaller than the number of samples"):
        MFLVC(120, config=TINY).fit(views)
    with pytest.raises(ValueError, match="at least 2 view"):
        MFLVC(3, config=TINY).fit(views[:1])
    with pytest.raises(ValueError, match="con_epochs"):
        MFLVCConfig(con_epochs=-1)
    with pytest.raises(TypeError, match="must be a MFLVCConfig"):
        MFLVC(3, config=object())
    with pytest.raises(TypeError, match="not_an_option"):
        MFLVC(3, not_an_option=1)


def test_keywords_build_the_config():
    assert MFLVC(3, con_epochs=7).config == MFLVCConfig(con_epochs=7)
    assert MFLVC(3, config=TINY, con_epochs=3).config == replace(TINY, con_epochs=3)  # keywords replace config fields
    assert math.isclose(MFLVC(3).config.lr, 3e-4)
