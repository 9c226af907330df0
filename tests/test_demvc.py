"""DEMVC: blobs, determinism, bad input, the shared-centre start and the rotating shared target."""

import numpy as np
import pytest
import torch

from mmc_lib.methods.deep_multiview.demvc import DEMVC, DEMVCConfig
from mmc_lib.metrics import accuracy

FAST = dict(hidden=(32, 32), latent_dim=4, pretrain_epochs=30, iterations=60, update_interval=10, batch_size=32,
            n_init=5)
TINY = dict(hidden=(16,), latent_dim=3, pretrain_epochs=2, iterations=6, update_interval=2, batch_size=40, n_init=2)


def blobs(n_per=40, k=3, seed=0, n_views=2):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 5)) * 3
    views = [(np.roll(centres[y], v, axis=1) + rng.normal(0, .3, (len(y), 5))).astype(np.float32)
             for v in range(n_views)]
    return views, y


def test_clusters_separable_views():
    views, y = blobs()
    assert accuracy(y, DEMVC(3, **FAST).fit_predict(views)) >= 0.9


def test_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs()
    torch.manual_seed(7)
    before = torch.rand(1)
    torch.manual_seed(7)
    a = DEMVC(3, seed=3, **TINY).fit_predict(views)
    assert torch.equal(torch.rand(1), before)
    assert np.array_equal(a, DEMVC(3, seed=3, **TINY).fit_predict(views))


def test_rejections():
    views, _ = blobs()
    with pytest.raises(ValueError, match="different sample counts"):
        DEMVC(3, **TINY).fit([views[0], views[1][:10]])
    with pytest.raises(ValueError, match="inf"):
        DEMVC(3, **TINY).fit([views[0], np.full_like(views[1], np.inf)])
    with pytest.raises(ValueError, match="smaller than the number of samples"):
        DEMVC(500, **TINY).fit(views)
    with pytest.raises(ValueError, match="first_view"):
        DEMVC(3, first_view=2, **TINY).fit(views)
    with pytest.raises(ValueError, match="update_interval"):
        DEMVCConfig(update_interval=0)


def test_every_view_starts_from_the_first_views_centres():
    views, _ = blobs()
    model = DEMVC(3, **dict(TINY, iterations=0)).fit(views)  # no clustering step: the centres are the start
    c0, c1 = (mu.detach() for mu in model.model_.centres)
    assert torch.equal(c0, c1)


def test_target_view_rotates_and_step_budget_is_exact():
    views, _ = blobs(n_views=3)
    model = DEMVC(3, **dict(TINY, iterations=9, update_interval=2, first_view=1)).fit(views)
    assert model.target_views_ == [1, 2, 0, 1, 2]  # refreshed before steps 1, 3, 5, 7, 9
    assert model.view_labels_.shape == (3, 120) and model.assignments_.shape == (120, 3)
    assert len(model.history_) == 3  # 120 rows / 40 = 3 steps per epoch: 9 steps = 3 epochs


def test_predict_matches_labels():
    views, _ = blobs()
    model = DEMVC(3, **TINY).fit(views)
    assert np.array_equal(model.predict(views), model.labels_)
