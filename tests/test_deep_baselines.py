"""DKM, DCN, IDEC, IMSAT: separable data is clustered, fixed seeds repeat, bad input is refused, DEC maths."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
import torch

from mmc_lib.losses.dec import student_t, target_distribution
from mmc_lib.methods.deep_multiview.deep_baselines import DCN, DKM, IDEC, IMSAT, DeepClusterConfig
from mmc_lib.metrics import accuracy

CFG = DeepClusterConfig(hidden=(32,), latent_dim=4, pretrain_epochs=30, epochs=10, batch_size=32, n_init=5)
ESTIMATORS = [DKM, DCN, IDEC, IMSAT]


def separable(seed=0, n_per=50, k=4, d=12):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (k, d)) * 4
    y = np.repeat(np.arange(k), n_per)
    return (centres[y] + rng.normal(0, 0.4, (len(y), d))).astype(np.float32), y


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_clusters_separable_data(cls):
    X, y = separable()
    model = cls(4, config=CFG, seed=0)
    labels = model.fit_predict(X)
    assert accuracy(y, labels) > 0.9
    assert len(model.history_) >= 1 and np.isfinite(model.history_[-1]["total"])
    np.testing.assert_array_equal(model.predict(X), labels)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fixed_seed_is_deterministic(cls):
    X, _ = separable(seed=1)
    cfg = DeepClusterConfig(hidden=(16,), latent_dim=3, pretrain_epochs=3, epochs=3, n_init=2)
    a, b = cls(4, config=cfg, seed=3).fit(X), cls(4, config=cfg, seed=3).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.history_ == b.history_


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_bad_input_is_refused(cls):
    X, _ = separable()
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cls(4, config=CFG).fit(bad)
    with pytest.raises(ValueError, match="must be smaller than the number of samples"):
        cls(500, config=CFG).fit(X)
    with pytest.raises(ValueError, match="is empty"):
        cls(2, config=CFG).fit(np.zeros((0, 3)))
    with pytest.raises(NotFittedError, match="not fitted"):
        cls(4, config=CFG).predict(X)
    model = cls(4, config=DeepClusterConfig(hidden=(8,), latent_dim=2, pretrain_epochs=1, epochs=1, n_init=1)).fit(X)
    with pytest.raises(ValueError, match="has 5 features but"):
        model.predict(X[:, :5])


def test_student_t_and_target_distribution_by_hand():
    z = torch.tensor([[0.0, 0.0], [2.0, 0.0]])
    mu = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    q = student_t(z, mu)
    # row 0: kernels 1/(1+0)=1 and 1/(1+1)=0.5 → (2/3, 1/3); row 1: 1/(1+4)=0.2 and 0.5 → (2/7, 5/7)
    torch.testing.assert_close(q, torch.tensor([[2 / 3, 1 / 3], [2 / 7, 5 / 7]]))
    p = target_distribution(q)
    torch.testing.assert_close(p.sum(1), torch.ones(2))
    assert p[0, 0] > q[0, 0] and p[1, 1] > q[1, 1]  # the target sharpens each row's dominant cluster


def test_divergence_stops_training_with_a_named_term():
    X, _ = separable()
    with pytest.raises(FloatingPointError, match="pretrain_rec"):
        DKM(4, config=CFG).fit(X * 1e6)


def test_dcn_centres_are_running_means():
    """With a frozen encoder (lr 0) DCN's centres move to the running means of the assigned latents."""
    X, _ = separable(n_per=10, k=2)
    cfg = DeepClusterConfig(hidden=(8,), latent_dim=2, pretrain_epochs=0, epochs=1, batch_size=1000, lr=0.0,
                            n_init=1)
    model = DCN(2, config=cfg, seed=0).fit(X)
    with torch.no_grad():
        z = model.ae_.encoder(torch.as_tensor(X))
    labels = model.labels_
    km = __import__("sklearn.cluster", fromlist=["KMeans"]).KMeans(2, n_init=1, random_state=0).fit(z.numpy())
    for k in range(2):
        members = z[torch.as_tensor(labels == k)]
        start = torch.as_tensor(km.cluster_centers_[k], dtype=torch.float32)
        expected = (start + members.sum(0)) / (1 + len(members))  # count 1 for the k-means start
        torch.testing.assert_close(model.centres_[k], expected, rtol=1e-4, atol=1e-4)
