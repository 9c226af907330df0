"""Classical baselines: correct on separable data, unsupervised view choice, bad input rejected."""

import numpy as np
import pytest

from mmc_lib.data import REGISTRY
from mmc_lib.methods.classical import BASELINES, KM, CoregMVSC, Ncuts
from mmc_lib.methods.shared import gaussian_affinity, view_silhouettes
from mmc_lib.studies.data_and_baselines import classical_run, methods_for
from mmc_lib.metrics import accuracy


def _blobs(n_per=40, k=3, d=5, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, (k, d))
    y = np.repeat(np.arange(k), n_per)
    return centres[y] + rng.normal(0, noise, (len(y), d)), y


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_each_baseline_recovers_separable_clusters(name):
    good, y = _blobs()
    noise_view = np.random.default_rng(1).normal(size=good.shape)  # a view with no structure
    labels = BASELINES[name](3, seed=0).fit_predict([good, good + 0.01 * noise_view])
    assert accuracy(y, labels) == 1.0


def test_best_view_is_chosen_without_labels():
    good, y = _blobs()
    noise = np.random.default_rng(1).uniform(size=(len(y), 5))
    sils = view_silhouettes([noise, good], 3)
    assert sils[1] > sils[0]
    model = KM(3).fit([noise, good])
    assert model.best_view_ == 1 and accuracy(y, model.labels_) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coreg_beats_each_single_view_spectral_on_two_noisy_copies(seed):
    # two views = the same 3 clusters with independent heavy noise; agreement between views averages it out
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], 50)
    centres = 2 * rng.normal(0, 1, (3, 4))
    v1, v2 = (centres[y] + rng.normal(0, 1.5, (150, 4)) for _ in range(2))
    coreg = accuracy(y, CoregMVSC(3).fit_predict([v1, v2]))
    single = max(accuracy(y, Ncuts(3).fit_predict([v])) for v in (v1, v2))
    assert coreg > single


def test_deterministic_for_a_fixed_seed():
    X, _ = _blobs(noise=2.0)
    for cls in BASELINES.values():
        assert np.array_equal(cls(3, seed=5).fit_predict([X, X[:, ::-1]]), cls(3, seed=5).fit_predict([X, X[:, ::-1]]))


def test_gaussian_affinity_properties():
    X, _ = _blobs(n_per=5)
    K = gaussian_affinity(X)
    assert np.allclose(K, K.T) and np.allclose(np.diag(K), 1.0) and (K > 0).all() and (K <= 1).all()


@pytest.mark.parametrize("views, message", [
    ([np.zeros((10, 2)), np.zeros((9, 2))], "different sample counts"),
    ([np.full((10, 2), np.nan)], "NaN"),
    ([np.zeros(10)], "2-D"),
    ([], "at least 1"),
])
def test_bad_views_rejected(views, message):
    with pytest.raises(ValueError, match=message):
        KM(2).fit(views)


def test_bad_n_clusters_rejected():
    X, _ = _blobs(n_per=2)
    with pytest.raises(ValueError, match="at least 2"):
        KM(1).fit([X])
    with pytest.raises(ValueError, match="must be smaller than the number of samples"):
        KM(100).fit([X])
    with pytest.raises(TypeError, match="single ndarray"):
        KM(2).fit(X)


def test_evaluate_baseline_on_real_data(shared_data_dir):
    report = classical_run("AmKM", "synthetic3d", 0, data_dir=str(shared_data_dir))
    assert report["acc"] > 0.9 and report["n_samples"] == 600  # three well separated synthetic clusters
    assert methods_for(1) == ["KM", "Ncuts"]
    with pytest.raises(ValueError, match="unknown baseline"):
        classical_run("KMeans++", "synthetic3d", 0)


def test_classical_run_on_a_stratified_cap_reports_its_rows_and_view(shared_data_dir):
    report = classical_run("KM", "synthetic3d", 0, max_samples=90, data_dir=str(shared_data_dir))
    assert report["n_samples"] == 90
    assert report["chosen_view"] in REGISTRY["synthetic3d"].view_names  # KM names the view it clustered


def test_ranked_table_ranks_per_data_set_and_bolds_the_best():
    import pandas as pd

    from mmc_lib.studies.data_and_baselines import ours_ranked_table, ranked_table

    scores = pd.DataFrame({"X": [50.0, 70.0, np.nan], "Y": [90.0, 10.0, 40.0]}, index=["a", "b", "c"])
    styler = ranked_table(scores)
    assert styler.data.loc["b", "X"] == "70.0 (1)" and styler.data.loc["c", "X"] == "—"
    assert styler.data.loc["c", "Y"] == "40.0 (2)"
    html = styler.to_html()
    assert html.count("font-weight: bold") == 1  # one CSS rule listing the two best cells
    summary = pd.DataFrame({"method": ["a", "b"], "dataset": ["x", "x"], "acc_mean": [0.5, 0.7], "acc_std": [0.01, 0.02]})
    assert ours_ranked_table(summary, metric="acc").data.loc["b", "x"] == "70.0 ± 2.0 (1)"
