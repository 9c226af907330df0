"""RMKMC, SwMC, ONMSC, SMCMB: separable data recovered, determinism, bad input rejected, the parts checked by hand."""

import numpy as np
import pytest
import scipy.sparse as sp

from mmc_lib.methods.graph.graph_mvc import (ONMSC, SMCMB, SwMC, adaptive_neighbour_graph, laplacian_smallest_eigvecs,
                                       simplex_projection_rows, transfer_cut)
from mmc_lib.methods.classical.rmkmc import RMKMC, _view_weights
from mmc_lib.metrics import accuracy

FAST = {  # small settings so the whole file runs in seconds; the defaults are the papers'
    "RMKMC": lambda k, **kw: RMKMC(k, **kw),
    "SwMC": lambda k, **kw: SwMC(k, n_neighbors=8, max_iter=10, **kw),
    "ONMSC": lambda k, **kw: ONMSC(k, max_iter=5, **kw),
    "SMCMB": lambda k, **kw: SMCMB(k, n_graphs=2, n_anchors=20, qp_iter=50, **kw),
}


def _two_view_blobs(n_per=40, k=3, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    views = [rng.normal(0, 4, (k, d))[y] + rng.normal(0, noise, (len(y), d)) for d in (5, 3)]
    return views, y


@pytest.mark.parametrize("name", sorted(FAST))
def test_recovers_well_separated_multiview_blobs(name):
    views, y = _two_view_blobs()
    model = FAST[name](3, seed=0).fit(views)
    assert accuracy(y, model.labels_) >= 0.9
    assert model.labels_.shape == (len(y),) and model.labels_.dtype == np.int64
    assert model.history_ and all(np.isfinite(row["objective"]) for row in model.history_)


@pytest.mark.parametrize("name", sorted(FAST))
def test_deterministic_for_a_seed_and_global_rng_untouched(name):
    views, _ = _two_view_blobs(noise=3.0)
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    a = FAST[name](3, seed=4).fit_predict(views)
    b = FAST[name](3, seed=4).fit_predict(views)
    assert np.array_equal(a, b)
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("name", sorted(FAST))
@pytest.mark.parametrize("views, k, message", [
    ([np.ones((10, 2)), np.ones((9, 2))], 2, "different sample counts"),
    ([np.full((10, 2), np.nan)], 2, "NaN"),
    ([np.random.default_rng(0).normal(size=(10, 2))], 1, "at least 2"),
    ([np.random.default_rng(0).normal(size=(10, 2))], 10, "smaller than the number of samples"),
])
def test_bad_input_names_the_problem(name, views, k, message):
    with pytest.raises(ValueError, match=message):
        FAST[name](k).fit(views)


@pytest.mark.parametrize("model, message", [
    (RMKMC(2, gamma=1.0), "gamma"), (SMCMB(2, n_anchors=0), "n_anchors"), (ONMSC(2, lam=-1.0), "lam"),
    (SwMC(2, n_neighbors=0), "n_neighbors"),
])
def test_bad_parameters_name_the_field(model, message):
    views, _ = _two_view_blobs(n_per=10)
    with pytest.raises(ValueError, match=message):
        model.fit(views)


def test_simplex_projection_by_hand():
    # v = (1, 0.2, -1): θ solves Σ max(v − θ, 0) = 1 → θ = 0.1, x = (0.9, 0.1, 0)
    assert np.allclose(simplex_projection_rows(np.array([[1.0, 0.2, -1.0]])), [[0.9, 0.1, 0.0]])
    rows = simplex_projection_rows(np.random.default_rng(0).normal(size=(50, 7)))
    assert np.allclose(rows.sum(1), 1.0) and (rows >= 0).all()
    masked = simplex_projection_rows(np.array([[5.0, 0.3, 0.1]]), np.array([[False, True, True]]))
    assert np.allclose(masked, [[0.0, 0.6, 0.4]])  # entry 0 is off the row's support, whatever its value


def test_adaptive_neighbour_graph_is_sparse_symmetric_and_rows_sum_to_one_before_symmetrising():
    X = np.random.default_rng(0).normal(size=(60, 4))
    W = adaptive_neighbour_graph(X, 5)
    assert sp.issparse(W) and W.nnz <= 2 * 60 * 5
    assert abs(W - W.T).max() < 1e-12 and (W.data >= 0).all()
    assert np.isclose(W.sum(), 60.0)  # each row of the one-sided graph sums to 1; symmetrising keeps the total


def test_laplacian_eigvecs_count_components_even_when_repeated():
    blocks = [np.ones((4, 4)) - np.eye(4)] * 5  # 5 disconnected cliques: eigenvalue 0 five times
    A = sp.block_diag(blocks).tocsr()
    L = sp.diags(np.asarray(A.sum(1)).ravel()) - A
    values, U = laplacian_smallest_eigvecs(L.tocsr(), 6)
    assert np.allclose(values[:5], 0.0, atol=1e-10) and values[5] > 0.5
    assert np.allclose(U.T @ U, np.eye(6), atol=1e-8)


def test_transfer_cut_splits_a_block_bipartite_graph():
    B = np.zeros((30, 6))
    B[:15, :3] = 1.0
    B[15:, 3:] = 1.0
    labels = transfer_cut(B, 2, seed=0)
    assert accuracy(np.repeat([0, 1], 15), labels) == 1.0


def test_rmkmc_view_weights_follow_eq_16_and_favour_the_cleaner_view():
    H, gamma = np.array([1.0, 4.0]), 2.0
    expected = (gamma * H) ** (1 / (1 - gamma))
    assert np.allclose(_view_weights(H, gamma), expected / expected.sum())
    views, y = _two_view_blobs(noise=0.2)
    noisy = views[1] + np.random.default_rng(3).normal(0, 5.0, views[1].shape)
    model = RMKMC(3, seed=0).fit([views[0], noisy])
    assert model.view_weights_[0] > model.view_weights_[1]


def test_swmc_finds_exactly_k_components_and_stays_sparse():
    views, y = _two_view_blobs(n_per=30)
    model = SwMC(3, n_neighbors=6, max_iter=5).fit(views)
    assert model.used_components_ and model.n_components_ == 3
    assert model.graph_.nnz <= 2 * 2 * 90 * 6  # at most the union of the views' symmetrised k-NN supports


def test_smcmb_bipartite_codes_lie_on_the_simplex():
    model = SMCMB(3, n_graphs=1, n_anchors=10, qp_iter=30)
    views, _ = _two_view_blobs(n_per=15)
    model.fit(views)
    assert model.base_labels_.shape == (45, 2)
    curve = model.objectives_[0]
    assert curve[-1] <= curve[0]  # accelerated projected gradient lowers the QP objective


def test_onmsc_kernel_weights_sum_to_one():
    views, _ = _two_view_blobs(n_per=20)
    model = ONMSC(3, max_iter=4).fit(views)
    assert np.isclose(model.kernel_weights_.sum(), 1.0)
