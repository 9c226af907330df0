"""SEM: self-weights and the weighted InfoNCE on hand-computed cases, bad input, determinism, separable blobs."""

import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from mmc_lib.losses.contrastive import nt_xent
from mmc_lib.methods.deep_multiview.mflvc import MFLVCConfig
from mmc_lib.methods.deep_multiview.sem import SEM, SEMConfig, cmi_weights, self_weighted_infonce
from mmc_lib.metrics import accuracy

FAST = SEMConfig(hidden=(32,), feature_dim=16, high_feature_dim=8, mse_epochs=10, con_epochs=15, n_iterations=2,
                 batch_size=40, lr=1e-3, kmeans_n_init=5, temperature=0.5)
TINY = SEMConfig(hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2, con_epochs=2, n_iterations=2,
                 batch_size=32, kmeans_n_init=2)


def blobs(n_per=40, k=3, seed=0, noise_view=False):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 5)) * 3
    views = [(centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32),
             (centres[y][:, ::-1] + rng.normal(0, .3, (len(y), 5))).astype(np.float32)]
    if noise_view:
        views.append(rng.normal(0, 1, (len(y), 4)).astype(np.float32))
    return views, y


def test_cmi_weights_by_hand():
    a, b = np.array([0, 0, 0, 1, 1, 1]), np.array([0, 0, 1, 1, 1, 1])
    w = cmi_weights([a, b])
    expected = np.exp(normalized_mutual_info_score(a, b)) - 1
    assert np.allclose(np.diag(w), np.e - 1) and np.isclose(w[0, 1], expected) and np.isclose(w[1, 0], expected)
    assert 0 < w[0, 1] < np.e - 1


def test_self_weighted_infonce_is_the_weighted_sum_of_all_ordered_pairs():
    rng = np.random.default_rng(0)
    zs = [torch.nn.functional.normalize(torch.tensor(rng.normal(size=(6, 3))), dim=1) for _ in range(3)]
    w = rng.uniform(0, 1.7, (3, 3))
    by_hand = 0.0
    for v in range(3):
        for u in range(3):
            z = torch.cat([zs[v], zs[u]]).numpy()
            sim = z @ z.T / 0.5
            for i in range(12):
                others = [j for j in range(12) if j != i]
                by_hand += w[v, u] * (-sim[i, (i + 6) % 12] + np.log(np.exp(sim[i, others]).sum())) / 12
    assert np.isclose(float(self_weighted_infonce(zs, w, temperature=0.5)), by_hand)
    # u = v is a pure uniformity term: aligned by construction, it still pays for similar negatives
    assert float(nt_xent(zs[0], zs[0], temperature=0.5)) > 0


def test_separates_blobs_and_down_weights_a_noise_view():
    views, y = blobs(noise_view=True)
    model = SEM(3, config=FAST).fit(views, y)
    assert accuracy(y, model.labels_) >= 0.9
    w = model.view_weights_[0]
    assert w[0, 1] > 1.0 and w[0, 2] < 0.3 and w[1, 2] < 0.3  # agreeing views weigh more than the noise view
    assert len(model.view_weights_) == FAST.n_iterations
    assert sum("acc" in r for r in model.history_) == FAST.n_iterations  # logged at the end of each round
    assert model.embedding_.shape == (120, 3 * FAST.high_feature_dim)


def test_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs()
    torch.manual_seed(7)
    before = torch.rand(1)
    torch.manual_seed(7)
    a = SEM(3, config=TINY, seed=1).fit_predict(views)
    after = torch.rand(1)
    assert np.array_equal(a, SEM(3, config=TINY, seed=1).fit_predict(views)) and torch.equal(before, after)


def test_bad_input_is_named():
    views, _ = blobs()
    with pytest.raises(ValueError, match="different sample counts"):
        SEM(3, config=TINY).fit([views[0], views[1][:10]])
    bad = views[1].copy()
    bad[3, 2] = np.inf
    with pytest.raises(ValueError, match="NaN/inf"):
        SEM(3, config=TINY).fit([views[0], bad])
    with pytest.raises(ValueError, match="at least 2"):
        SEM(1, config=TINY).fit(views)
    with pytest.raises(ValueError, match="smaller than the number of samples"):
        SEM(200, config=TINY).fit(views)
    with pytest.raises(ValueError, match="n_iterations"):
        SEMConfig(n_iterations=0)
    with pytest.raises(TypeError, match="must be a SEMConfig"):
        SEM(3, config=MFLVCConfig())
