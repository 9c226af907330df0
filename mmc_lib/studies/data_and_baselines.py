"""Notebook 00: the data sets and the classical baselines. ``classical_run`` is the one classical run of the project
(notebook 01 uses it for its classical rows).

The notebook's steps as calls: :func:`present_datasets` → :func:`runs` → :func:`run_baselines` →
:func:`summarize_runs` → :func:`result_rows`, beside :func:`view_table` (which view KM/Ncuts choose) and
:func:`paper_datasets` (the DDMC paper's own data sets, and whether they are here).

>>> methods_for(1)
['KM', 'Ncuts']
>>> baseline_datasets(["cub", "wikipedia", "wikipedia-test"])
['cub', 'wikipedia']
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import pandas as pd

from mmc_lib.data import REGISTRY, available, load
from mmc_lib.methods.classical import BASELINES
from mmc_lib.methods.shared import choose_dominant_view, per_view_kmeans
from mmc_lib.metrics import accuracy, clustering_report
from mmc_lib.studies.budgets import DDMC_PAPER_DATASETS, BaselinesBudget
from mmc_lib.studies.grid import mean_std_table, run_grid, study_cache, summarize, to_result_rows

NOTEBOOK = "00_data_and_baselines"

#: Methods that need several views; on a single-view dataset they coincide with KM / Ncuts.
MULTI_VIEW_ONLY = ("AmKM", "AmNcuts", "CoregMVSC")

#: The metrics the notebook reports and stores (``seconds`` is summarised too, but not stored).
METRICS = ["acc", "nmi", "ari", "purity", "f_score"]

#: Registered sets that are a subset of another one (``wikipedia-test`` ⊂ ``wikipedia``): not run again.
SUBSETS = ("wikipedia-test",)


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


# ----------------------------------------------------------------- which data sets

def present_datasets(data_dir: str | None = None) -> list[str]:
    """Registered data sets of the papers' suite whose files are on this machine, in registry order (the
    generalisation suite, ``suite="generalisation"``, is notebook 06's)."""
    return [name for name, entry in REGISTRY.items()  # DM2C's mixed-modal files have no pairs: notebook 02 reads them
            if entry.suite == "papers" and available(name, data_dir=data_dir) and entry.loader != "dm2c_mixed"]


def baseline_datasets(present: Iterable[str]) -> list[str]:
    """The present sets the baselines (and the t-SNE figure) run on: every one but the subsets of another."""
    return [name for name in present if name not in SUBSETS]


def paper_datasets(baseline_sets: Iterable[str], data_dir: str | None = None) -> pd.DataFrame:
    """The DDMC paper's own data sets: present here, and did the baselines run on them?"""
    ran = set(baseline_sets)
    return pd.DataFrame({"paper dataset": list(DDMC_PAPER_DATASETS),
                         "present here": [available(n, data_dir=data_dir) for n in DDMC_PAPER_DATASETS],
                         "baselines run": [n in ran for n in DDMC_PAPER_DATASETS]})


# ----------------------------------------------------------------- the grid

def runs(b: BaselinesBudget, datasets: Iterable[str], seed: int, data_dir: str | None = None) -> list[dict]:
    """One run per (dataset, method that fits its views, seed of the budget), in that order."""
    out = []
    for name in datasets:
        n_views = len(load(name, data_dir=data_dir).views)
        for method in methods_for(n_views):
            for s in b.seeds(seed):
                out.append({"method": method, "dataset": name, "seed": s,
                            "max_samples": b.max_samples, "data_dir": data_dir})
    return out


def run_baselines(grid_runs: list[dict], *, profile: str, out_dir: str | None = None) -> pd.DataFrame:
    """Run (or load from the study's cache) every :func:`classical_run`; one row per run."""
    return run_grid(classical_run, grid_runs, cache_dir=study_cache(NOTEBOOK, profile, out_dir), desc="baselines")


def summarize_runs(raw: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds of every metric (and the seconds) per dataset and method."""
    return summarize(raw, ["dataset", "method"], METRICS + ["seconds"])


def result_rows(raw: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    """The rows stored in ``results/<profile>/00_data_and_baselines.json``, each noting the rows it ran on."""
    rows = to_result_rows(summary, metrics=METRICS, setting="main")
    n_samples = raw.groupby("dataset", sort=False).n_samples.first()
    for row in rows:
        row["note"] = f"n_samples={int(n_samples[row['dataset']])}"
    return rows


# ----------------------------------------------------------------- which view KM / Ncuts choose

def view_table(datasets: Iterable[str], b: BaselinesBudget, seed: int, data_dir: str | None = None) -> pd.DataFrame:
    """Per view of each multi-view set: the silhouette of its k-means partition, that partition's ACC (labels only
    evaluate the choice) and which view :func:`~mmc_lib.methods.shared.choose_dominant_view` picks."""
    rows = []
    for name in datasets:
        ds = load(name, data_dir=data_dir, max_samples=b.max_samples)
        if len(ds.views) < 2:
            continue
        chosen, sils = choose_dominant_view(ds.views, ds.n_clusters, seed=seed)
        partitions = per_view_kmeans(ds.views, ds.n_clusters, seed=seed)
        for i, (view_name, sil, pred) in enumerate(zip(ds.view_names, sils, partitions)):
            rows.append({"dataset": name, "view": view_name, "silhouette": round(sil, 3),
                         "kmeans ACC %": round(100 * accuracy(ds.labels, pred), 1),
                         "chosen": "✓" if i == chosen else ""})
    return pd.DataFrame(rows)


def _bold_best(table: pd.DataFrame, scores: pd.DataFrame):
    """A Styler of ``table`` (strings) with the highest of ``scores`` (same shape) in each column set in bold."""
    best = scores.eq(scores.max(axis=0), axis=1) & scores.notna()
    return table.style.apply(lambda _: best.replace({True: "font-weight: bold", False: ""}), axis=None)


def ranked_table(scores: pd.DataFrame, text: pd.DataFrame | None = None):
    """Per column (data set): each row's value with its rank among the rows, ``"76.7 (1)"``; best in bold.

    ``scores`` holds numbers (percent, higher is better; NaN = not in the table); ``text`` the strings to show
    (default: ``scores`` with one decimal). Returns a pandas Styler.

    >>> s = pd.DataFrame({"X": [50.0, 70.0]}, index=["a", "b"])
    >>> ranked_table(s).data.loc["b", "X"]
    '70.0 (1)'
    """
    text = scores.map(lambda v: f"{v:.1f}") if text is None else text
    ranks = scores.rank(axis=0, ascending=False, method="min")
    cells = text.where(scores.isna(), text + " (" + ranks.fillna(0).astype(int).astype(str) + ")")
    return _bold_best(cells.where(scores.notna(), "—"), scores)



def ours_ranked_table(summary: pd.DataFrame, *, metric: str = "acc", methods=None):
    """Our results for one metric: method × data set, ``mean ± std`` (percent) with the rank of the mean among the
    methods on each data set, the best mean in bold (a Styler). Only data sets that ran appear — no "not run" cells.

    ``summary`` is a :func:`~mmc_lib.studies.grid.summarize` frame with ``method`` and ``dataset`` columns.
    """
    methods = list(methods) if methods is not None else list(dict.fromkeys(summary["method"]))
    scores = 100 * summary.pivot(index="method", columns="dataset", values=f"{metric}_mean").reindex(methods)
    text = mean_std_table(summary, index="method", columns="dataset", metric=metric).reindex(methods)
    return ranked_table(scores, text.fillna("—"))
