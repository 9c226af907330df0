"""SCMVC: the self-weighted contrastive loss and weights on hand-computed cases, bad input, determinism, blobs."""

import math

import numpy as np
import pytest
import torch

from mmc_lib.methods.deep_multiview.scmvc import SCMVC, SCMVCConfig, mmd_view_weights, scmvc_contrast
from mmc_lib.metrics import accuracy

FAST = SCMVCConfig(hidden=(32, 32), feature_dim=8, high_feature_dim=4, fusion_hidden=16, pretrain_epochs=20,
                   epochs=20, batch_size=40, lr=3e-3, kmeans_n_init=5)
TINY = SCMVCConfig(hidden=(8,), feature_dim=4, high_feature_dim=3, fusion_hidden=8, pretrain_epochs=2, epochs=2,
                   batch_size=32, kmeans_n_init=2)


def blobs(n_per=40, k=3, seed=0, n_views=2):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    views = []
    for v in range(n_views):
        centres = rng.normal(0, 1, (k, 5)) * 3
        views.append((centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32))
    return views, y


def test_contrast_matches_hand_computation():
    h = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    r = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    # s = h rᵀ = [[1, 1], [0, 0]]; row 0: -1 + log e¹ = 0; row 1: -0 + log e⁰ = 0  → mean 0
    assert float(scmvc_contrast(h, r)) == pytest.approx(0.0, abs=1e-6)
    # τ = 0.5 on aligned identity rows: -(2) + log(e⁰) = -2 per row
    assert float(scmvc_contrast(torch.eye(2), torch.eye(2), temperature=0.5)) == pytest.approx(-2.0)


def test_contrast_gradient_pulls_positive_pair_together():
    h = torch.nn.functional.normalize(torch.randn(6, 3, generator=torch.Generator().manual_seed(0)), dim=1)
    r = h.clone().roll(1, dims=0).requires_grad_(True)
    scmvc_contrast(h, r).backward()
    # moving r_i towards h_i (its positive) lowers the loss: the gradient points away from h_i
    assert float((r.grad * h).sum()) < 0


def test_view_weights_favour_views_close_to_the_global_features():
    h = torch.nn.functional.normalize(torch.randn(20, 4, generator=torch.Generator().manual_seed(1)), dim=1)
    noisy = torch.nn.functional.normalize(h + 2 * torch.randn(20, 4, generator=torch.Generator().manual_seed(2)), dim=1)
    w = mmd_view_weights([h, noisy, -h], h)
    assert float(w.sum()) == pytest.approx(1.0) and w[0] > w[1] > w[2]
    assert float(w[0] / w[2]) == pytest.approx(math.exp(float(((-h) @ (-h).t()).mean() + (h @ h.t()).mean()
                                                               + 2 * (h @ h.t()).mean())), rel=1e-4)


def test_separates_blobs():
    views, y = blobs()
    model = SCMVC(3, config=FAST, seed=0).fit(views)
    assert accuracy(y, model.labels_) >= 0.9
    assert model.embedding_.shape == (120, 4) and model.view_weights_.shape == (2,)
    assert [r["phase"] for r in model.history_].count("contrast") == FAST.epochs


def test_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs(n_per=20, n_views=3)
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = SCMVC(3, config=TINY, seed=4).fit_predict(views)
    assert torch.equal(torch.rand(1), expected)
    assert np.array_equal(a, SCMVC(3, config=TINY, seed=4).fit_predict(views))


def test_logs_acc_per_contrastive_epoch_only_when_labels_given():
    views, y = blobs(n_per=20)
    hist = SCMVC(3, config=TINY).fit(views, y).history_
    assert "acc" in hist[-1] and "acc" not in hist[0]


@pytest.mark.parametrize("bad, match", [
    ("rows", "different sample counts"), ("nan", "NaN"), ("k1", "at least 2"), ("kn", "smaller than")])
def test_rejects_bad_input(bad, match):
    views, _ = blobs(n_per=10)
    k = {"k1": 1, "kn": 30}.get(bad, 3)
    if bad == "rows":
        views[1] = views[1][:-1]
    if bad == "nan":
        views[0][0, 0] = np.nan
    with pytest.raises(ValueError, match=match):
        SCMVC(k, config=TINY).fit(views)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="temperature"):
        SCMVCConfig(temperature=0)
    with pytest.raises(TypeError, match="SCMVCConfig"):
        SCMVC(3, config=object()).fit(blobs(n_per=10)[0])
