"""The grid's backend is configuration: a local Dask cluster gives the same results as joblib's default."""

import numpy as np
import pytest

from mmc_lib.studies.grid import grid, run_grid


def _fit(seed: int, k: int) -> dict:
    """A real (small) training run: one thread, seeded, so the result cannot depend on the worker."""
    from mmc_lib.methods.deep_multiview.deep_baselines import DKM, DeepClusterConfig

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 0.1, (30, 4)), rng.normal(1, 0.1, (30, 4))]
    cfg = DeepClusterConfig(hidden=(8,), latent_dim=2, pretrain_epochs=2, epochs=2, n_init=2, batch_size=16)
    labels = DKM(k, config=cfg, seed=seed).fit_predict(X)
    return {"labels": labels.tolist()}


def test_dask_local_cluster_matches_joblib_default(tmp_path):
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_config

    runs = grid(seed=[0, 1, 2], k=[2])
    local = run_grid(_fit, runs, cache_dir=tmp_path / "local", n_jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster), parallel_config(backend="dask"):
        on_dask = run_grid(_fit, runs, cache_dir=tmp_path / "dask", n_jobs=2)
    assert on_dask["labels"].tolist() == local["labels"].tolist()
    assert len({str(x) for x in local["labels"]}) > 1  # the seeds really differ, so equality means something


def test_backend_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MMC_GRID_BACKEND", "threading")
    df = run_grid(_fit, grid(seed=[0], k=[2]), cache_dir=tmp_path, n_jobs=2)
    assert len(df["labels"][0]) == 60


def test_loky_worker_respawn_warning_is_silenced_but_other_user_warnings_are_not():
    """In a fresh interpreter, as in a notebook kernel (pytest resets warning filters per test, so not in-process)."""
    import subprocess
    import sys

    code = ("import warnings, mmc_lib.studies.grid as g; "
            "warnings.warn(g.LOKY_RESPAWN_WARNING + '. This can be caused by a too short worker timeout.'); "
            "warnings.warn('a cache cell is unreadable')")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    assert "a cache cell is unreadable" in err and "A worker stopped" not in err
