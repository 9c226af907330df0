"""DDMC: input checks, determinism, unsupervised choices, loss bookkeeping, and that it clusters."""

import numpy as np
import pytest

from mmc_lib.metrics import accuracy
from mmc_lib.methods import DDMC, MVCConfig
from mmc_lib.methods.deep_multiview.ddmc import ABLATIONS

FAST = MVCConfig(hidden=(32,), latent_dim=8, epochs=30, batch_size=32, n_restarts=1)  # enough steps to converge
TINY = MVCConfig(hidden=(32,), latent_dim=8, epochs=4, batch_size=64, n_restarts=1)  # bookkeeping only


def blobs(n_per=40, k=3, noise=0.15, seed=0, noisy_view=False):
    """Views of k well-separated clusters; optionally a third view of pure noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(k), n_per)
    centres = rng.normal(0, 1, (k, 5)) * 3
    views = [centres[y] + rng.normal(0, noise, (len(y), 5)), centres[y] @ rng.normal(0, 1, (5, 4)) + rng.normal(0, noise, (len(y), 4))]
    if noisy_view:
        views.append(rng.normal(0, 1, (len(y), 6)))
    return [v.astype(np.float32) for v in views], y


def test_clusters_separable_data_at_least_as_well_as_kmeans():
    from mmc_lib.methods.classical import KM

    views, y = blobs(noise=0.6)
    km = accuracy(y, KM(3).fit_predict(views))
    ours = accuracy(y, DDMC(3, alpha=0.1, beta=0.1, config=FAST).fit_predict(views))
    assert ours >= 0.9 and ours >= km - 0.02


def test_deterministic_for_fixed_seed():
    views, _ = blobs()
    a = DDMC(3, config=TINY, seed=3).fit(views)
    b = DDMC(3, config=TINY, seed=3).fit(views)
    assert np.array_equal(a.labels_, b.labels_)
    assert a.history_[-1]["total"] == b.history_[-1]["total"]


def test_labels_only_logged_never_used():
    views, y = blobs()
    blind = DDMC(3, config=TINY, seed=1).fit(views)
    watched = DDMC(3, config=TINY, seed=1).fit(views, y)
    assert np.array_equal(blind.labels_, watched.labels_)
    assert "acc" in watched.history_[-1] and "acc" not in blind.history_[-1]


def test_silhouette_picks_a_structured_view_not_noise():
    views, _ = blobs(noisy_view=True)
    model = DDMC(3, config=TINY).fit(views[::-1])  # the noise view comes first
    assert len(model.view_silhouettes_) == 3
    assert model.dominant_ != 0 and model.dominant_ == int(np.argmax(model.view_silhouettes_))


def test_history_holds_every_named_term_and_ablation_switches_them_off():
    views, _ = blobs()
    full = DDMC(3, config=TINY, dominant=0).fit(views)
    for term in ("ddc1", "ddc2", "ddc3", "kl_dominant", "kl_others", "club", "contrast", "mi_assign", "uniform",
                 "L_DDC", "L_FDL", "L_CDL", "objective", "total"):
        assert term in full.history_[0], term
    ddc_only = DDMC(3, config=TINY, dominant=0, losses=ABLATIONS["DDC"]).fit(views)
    last = ddc_only.history_[-1]
    assert last["objective"] == pytest.approx(last["L_DDC"], rel=1e-6)
    cdl = DDMC(3, config=TINY, dominant=0, losses=("ddc", "cdl"), beta=0.5).fit(views).history_[-1]
    assert cdl["objective"] == pytest.approx(cdl["L_DDC"] + 0.5 * cdl["L_CDL"], rel=1e-4)


def test_restarts_pick_lowest_objective_and_snapshots_kept():
    views, _ = blobs()
    cfg = MVCConfig(hidden=(32,), latent_dim=8, epochs=4, batch_size=64, n_restarts=3)
    model = DDMC(3, config=cfg, dominant=1, snapshot_epochs=(0, 2, 4)).fit(views)
    assert len(model.restart_objectives_) == 3
    assert model.history_[-1]["objective"] == min(model.restart_objectives_)
    assert sorted(model.snapshots_) == [0, 2, 4] and model.snapshots_[4].shape == (120, 16)
    assert model.embedding_.shape == (120, 16) and model.assignments_.shape == (120, 3)


def test_fusion_variant_runs():
    views, y = blobs()
    labels = DDMC(3, config=TINY, combine="fuse", dominant=0).fit_predict(views)
    assert labels.shape == y.shape


@pytest.mark.parametrize("kwargs, views_fn, message", [
    ({}, lambda v: [v[0], v[1][:-1]], "different sample counts"),
    ({}, lambda v: [np.where(np.arange(v[0].size).reshape(v[0].shape) == 7, np.nan, v[0]), v[1]], "NaN"),
    ({}, lambda v: [v[0], np.full_like(v[1], np.inf)], "NaN/inf"),
    ({"n_clusters": 1}, None, "at least 2"),
    ({"n_clusters": 500}, None, "must be smaller than the number of samples"),
    ({"dominant": 2}, None, "dominant index 2 is out of range"),
    ({"dominant": -1}, None, "out of range"),
    ({"dominant": "best"}, None, "dominant must be"),
    ({"losses": ("ddc", "rec")}, None, "losses must be"),
    ({"combine": "concat"}, None, "unknown combine"),
    ({"alpha": -1.0}, None, "alpha must be"),
])
def test_bad_input_rejected_with_named_problem(kwargs, views_fn, message):
    views, _ = blobs(n_per=10)
    if views_fn is not None:
        views = views_fn(views)
    params = {"n_clusters": 3, "config": TINY, **kwargs}
    with pytest.raises(ValueError, match=message):
        DDMC(**params).fit(views)


def test_single_view_rejected():
    views, _ = blobs(n_per=10)
    with pytest.raises(ValueError, match="at least 2 view"):
        DDMC(3, config=TINY).fit(views[:1])


def test_club_term_is_averaged_over_latent_dimensions():
    """Issue 11: vCLUB enters L1 on the KL bounds' per-dimension scale (sum over dims / latent_dim, clamped at 0)."""
    import torch
    import torch.nn.functional as F

    from mmc_lib.methods.deep_multiview.ddmc import DDMCNet

    views, _ = blobs(n_per=10)
    cfg = MVCConfig(hidden=(16,), latent_dim=6)
    torch.manual_seed(0)
    net = DDMCNet([v.shape[1] for v in views], 3, cfg, dominant=0, alpha=0.1, beta=0.1).eval()
    batch = [torch.as_tensor(v) for v in views]
    torch.manual_seed(1)
    with torch.no_grad():
        club = net.losses(batch)["club"]  # eval mode: encoders give means, the only random draw is vCLUB's shuffle
        unit = [F.normalize(enc(x)[1], dim=1) for enc, x in zip(net.encoders, batch)]
        torch.manual_seed(1)
        summed = net.clubs["1"](unit[1], unit[0])[0]  # the bound as Cheng et al. write it: summed over dimensions
    assert float(club) == pytest.approx(max(float(summed), 0.0) / cfg.latent_dim, rel=1e-5)


def test_every_seed_separates_blobs_with_restarts():
    """With its restarts (lowest final objective wins, no labels) every seed finds the blobs — not only the mean."""
    from dataclasses import replace

    views, y = blobs(noise=0.6)
    cfg = replace(FAST, n_restarts=3)
    accs = [accuracy(y, DDMC(3, config=cfg, seed=s).fit_predict(views)) for s in (0, 1, 2)]
    assert min(accs) >= 0.9, accs
