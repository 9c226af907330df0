"""Notebook 00: the data sets and the classical baselines. ``classical_run`` is the one classical run of the project
(notebook 01 uses it for its classical rows)."""

from __future__ import annotations

import time

from mmc_lib.data import load
from mmc_lib.methods.classical import BASELINES
from mmc_lib.metrics import clustering_report

#: Methods that need several views; on a single-view dataset they coincide with KM / Ncuts.
MULTI_VIEW_ONLY = ("AmKM", "AmNcuts", "CoregMVSC")


def methods_for(n_views: int) -> list[str]:
    """Baselines that make sense for a dataset with ``n_views`` views."""
    return [m for m in BASELINES if n_views > 1 or m not in MULTI_VIEW_ONLY]


def classical_run(method: str, dataset: str, seed: int, *, max_samples: int | None = None,
                  data_dir: str | None = None) -> dict:
    """Fit ``method`` on ``dataset`` (optionally a stratified subsample) and report metrics and seconds."""
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; known: {sorted(BASELINES)}")
    ds = load(dataset, data_dir=data_dir, max_samples=max_samples)
    model = BASELINES[method](ds.n_clusters, seed=seed)
    start = time.perf_counter()
    labels = model.fit_predict(ds.views)
    report = clustering_report(ds.labels, labels)
    report["seconds"] = time.perf_counter() - start
    report["n_samples"] = ds.n_samples
    if hasattr(model, "best_view_"):
        report["chosen_view"] = ds.view_names[model.best_view_]
    return report
