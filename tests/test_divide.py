"""DIVIDE: random-walk targets and the soft-target contrast on hand-computed cases, bad input, determinism, blobs."""

import math

import numpy as np
import pytest
import torch

from mmc_lib.methods.deep_multiview.divide import DIVIDE, DIVIDEConfig, random_walk_affinity, soft_target_contrast
from mmc_lib.metrics import accuracy

FAST = DIVIDEConfig(hidden=(64, 64), embed_dim=16, epochs=40, start_rectify_epoch=20, warmup_epochs=2,
                    batch_size=64, lr=2e-3, kmeans_n_init=5)
TINY = DIVIDEConfig(hidden=(8, 8), embed_dim=4, epochs=3, start_rectify_epoch=1, warmup_epochs=1, batch_size=32,
                    kmeans_n_init=2)


def blobs(n_per=40, k=3, seed=0, n_views=2):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    views = []
    for v in range(n_views):
        centres = rng.normal(0, 1, (k, 5)) * 3
        views.append((centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32))
    return views, y


def test_random_walk_reaches_beyond_direct_neighbours():
    # a chain a - b - c on the circle: a and c are far apart (no direct edge to speak of), b sits between
    angles = torch.tensor([0.0, 0.35, 0.7, 2.5])
    z = torch.stack([angles.cos(), angles.sin()], dim=1)
    one = random_walk_affinity(z, steps=1, alpha=0.0)
    five = random_walk_affinity(z, steps=5, alpha=0.0)
    assert torch.allclose(five, torch.linalg.matrix_power(one, 5), atol=1e-6)
    assert five[0, 2] > 2 * one[0, 2]  # the walk carries a to c through b
    assert five[0, 3] < 1e-3  # the far point stays a negative
    targets = random_walk_affinity(z)
    assert torch.allclose(targets.sum(1), torch.ones(4)) and torch.all(targets.diagonal() >= 0.5)


def test_soft_target_contrast_by_hand():
    q = torch.eye(2)
    # identity targets, τ = 1: -log(e / (e + 1)) per row
    assert float(soft_target_contrast(q, q, temperature=1.0)) == pytest.approx(-math.log(math.e / (math.e + 1)))
    # uniform targets: mean over j of -log softmax = -(log(e/(e+1)) + log(1/(e+1))) / 2
    t = torch.ones(2, 2)
    expected = -(math.log(math.e / (math.e + 1)) + math.log(1 / (math.e + 1))) / 2
    assert float(soft_target_contrast(q, q, t, temperature=1.0)) == pytest.approx(expected)
    # identity targets given explicitly equal the default
    assert float(soft_target_contrast(q, q.flip(0), torch.eye(2))) == pytest.approx(
        float(soft_target_contrast(q, q.flip(0))))


def test_separates_blobs():
    views, y = blobs()
    model = DIVIDE(3, config=FAST).fit(views)
    assert accuracy(y, model.labels_) >= 0.9
    assert model.embedding_.shape == (120, 2 * FAST.embed_dim)
    assert {"intra", "inter"} <= set(model.history_[-1])


def test_three_views_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs(n_per=20, n_views=3)
    torch.manual_seed(7)
    expected = torch.rand(1)
    torch.manual_seed(7)
    a = DIVIDE(3, config=TINY, seed=1).fit_predict(views)
    assert torch.equal(torch.rand(1), expected)
    assert np.array_equal(a, DIVIDE(3, config=TINY, seed=1).fit_predict(views))


def test_target_encoder_moves_by_ema_only():
    views, _ = blobs(n_per=20)
    model = DIVIDE(3, config=TINY).fit(views).model_
    assert all(not p.requires_grad for p in model.target.parameters())
    online, target = next(model.online.parameters()), next(model.target.parameters())
    assert not torch.equal(online, target)  # momentum 0.98: the target lags behind


@pytest.mark.parametrize("bad, match", [
    ("rows", "different sample counts"), ("inf", "NaN/inf"), ("k1", "at least 2"), ("one_view", "at least 2 view")])
def test_rejects_bad_input(bad, match):
    views, _ = blobs(n_per=10)
    k = 1 if bad == "k1" else 3
    if bad == "rows":
        views[1] = views[1][:-1]
    if bad == "inf":
        views[0][0, 0] = np.inf
    if bad == "one_view":
        views = views[:1]
    with pytest.raises(ValueError, match=match):
        DIVIDE(k, config=TINY).fit(views)


def test_config_rejects_unknown_norm_and_bad_values():
    with pytest.raises(ValueError, match="unknown data_norm 'l1'"):
        DIVIDEConfig(data_norm="l1")
    with pytest.raises(ValueError, match="walk_steps"):
        DIVIDEConfig(walk_steps=0)
    with pytest.raises(ValueError, match="momentum"):
        DIVIDEConfig(momentum=1.5)
