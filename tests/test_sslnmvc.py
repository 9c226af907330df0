"""SSLNMVC: the balance entropy and label calibration on hand-computed cases, bad input, determinism, blobs."""

import math

import numpy as np
import pytest
import torch

from mmc_lib.methods.deep_multiview.sslnmvc import SSLNMVC, SSLNMVCConfig, balance_entropy, calibration
from mmc_lib.metrics import accuracy

FAST = SSLNMVCConfig(hidden=(32, 32, 32), feature_dim=32, high_feature_dim=16, pretrain_epochs=10, epochs=40, batch_size=40, lr=2e-3)
TINY = SSLNMVCConfig(hidden=(8, 8, 8), feature_dim=8, high_feature_dim=4, pretrain_epochs=1, epochs=2, batch_size=32)


def blobs(n_per=40, k=3, seed=0, n_views=2):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    views = []
    for v in range(n_views):
        centres = rng.normal(0, 1, (k, 5)) * 3
        views.append((centres[y] + rng.normal(0, .3, (len(y), 5))).astype(np.float32))
    return views, y


def test_balance_entropy_by_hand():
    q = torch.tensor([[0.75, 0.25], [0.75, 0.25]])  # mean label (3/4, 1/4)
    expected = math.log(2) + 0.75 * math.log(0.75) + 0.25 * math.log(0.25)
    assert float(balance_entropy(q)) == pytest.approx(expected)
    assert float(balance_entropy(torch.full((4, 3), 1 / 3))) == pytest.approx(0.0, abs=1e-6)


def test_calibration_by_hand_and_gradient_moves_consensus_towards_view():
    q = torch.tensor([[0.8, 0.2]])
    c = torch.tensor([[0.3, 0.7]], requires_grad=True)
    p_q, p_c = torch.softmax(q, 1)[0], torch.softmax(c.detach(), 1)[0]
    expected = float((p_q * (p_q.log() - p_c.log())).sum())
    loss = calibration(c, q)
    assert float(loss.detach()) == pytest.approx(expected)
    loss.backward()
    assert c.grad[0, 0] < 0 < c.grad[0, 1]  # raise the consensus score of the view's preferred cluster


def test_separates_blobs():
    views, y = blobs()
    model = SSLNMVC(3, config=FAST).fit(views)
    assert accuracy(y, model.labels_) >= 0.9
    assert model.assignments_.shape == (120, 3) and model.embedding_.shape == (120, 16)
    assert np.array_equal(model.labels_, model.assignments_.argmax(1))


def test_three_views_deterministic_and_leaves_global_rng_alone():
    views, _ = blobs(n_per=20, n_views=3)
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    a = SSLNMVC(3, config=TINY, seed=3).fit_predict(views)
    assert torch.equal(torch.rand(1), expected)
    assert np.array_equal(a, SSLNMVC(3, config=TINY, seed=3).fit_predict(views))
    hist = SSLNMVC(3, config=TINY, seed=3).fit(views).history_
    assert {"feature", "cluster", "balance", "calibration", "rec"} <= set(hist[-1])


@pytest.mark.parametrize("bad, match", [("rows", "different sample counts"), ("nan", "NaN"), ("kn", "smaller than")])
def test_rejects_bad_input(bad, match):
    views, _ = blobs(n_per=10)
    k = 30 if bad == "kn" else 3
    if bad == "rows":
        views[0] = views[0][:-2]
    if bad == "nan":
        views[1][3, 1] = np.nan
    with pytest.raises(ValueError, match=match):
        SSLNMVC(k, config=TINY).fit(views)


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="beta"):
        SSLNMVCConfig(beta=-1)
    with pytest.raises(ValueError, match="3 widths"):
        SSLNMVCConfig(hidden=(8, 8))
