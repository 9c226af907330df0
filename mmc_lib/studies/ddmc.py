"""The experiments of notebook 01 (DDMC) as functions of plain parameters, for :func:`mmc_lib.experiments.run_grid`.

One run = one method (or DDMC variant), one dataset, one seed → metrics, seconds and what the method chose.
:class:`DDMCPlan` holds the budget of each experiment for the ``smoke`` and ``full`` profiles.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from mmc_lib.data import available, load, subsample
from mmc_lib.metrics import accuracy, clustering_report
from mmc_lib.methods.ddmc import ABLATIONS, DDMC
from mmc_lib.methods.mvc_baselines import CoMVC, SiMVC
from mmc_lib.methods.mvc_parts import MVCConfig
from mmc_lib.runtime import get_profile

PAPER_DATASETS = ("caltech-3v", "caltech-4v", "esp-game", "flickr", "iapr")  # the paper's five
OUR_DATASETS = ("mnist-usps", "cub", "wikipedia", "prokaryotic", "synthetic3d")  # real multi-view sets we have
DEEP = {"DDMC": DDMC, "SiMVC": SiMVC, "CoMVC": CoMVC}
CLASSICAL = ("KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC")
METRICS = ("acc", "nmi", "ari", "purity")


@dataclass(frozen=True)
class DDMCPlan:
    """How much of each experiment a profile runs."""

    seeds: tuple[int, ...] = (0, 1, 2)  # seeds of the main table, ablation and fusion
    epochs: int = 100  # Adam epochs per training run
    n_restarts: int = 2  # restarts per seed, lowest final objective wins
    max_samples: dict = field(default_factory=lambda: {"mnist-usps": 2000, "wikipedia": 2000})  # stratified caps
    alpha: float = 0.1  # DDMC defaults, fixed a priori (not tuned on labels)
    beta: float = 0.1
    ablation_datasets: tuple[str, ...] = ("cub", "prokaryotic")
    ablation_restarts: int = 1  # ablation and fusion runs (their "all"/"enhancement" rows use the same)
    grid_values: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0, 10.0)  # α and β, log scale
    grid_datasets: tuple[str, ...] = ("cub",)
    grid_seeds: tuple[int, ...] = (0,)
    curve_datasets: tuple[str, ...] = ("cub", "synthetic3d")  # convergence and t-SNE over epochs
    snapshot_epochs: tuple[int, ...] = (0, 25, 50, 75, 100)
    dominant_seeds: tuple[int, ...] = (0,)  # DDMC with every view as dominant (1 restart)
    dominant_datasets: tuple[str, ...] = ("cub", "prokaryotic")

    @classmethod
    def preset(cls, profile: str) -> DDMCPlan:
        """``full`` as above; ``smoke``: 400 rows, 8 epochs, 2 seeds, a 3 × 3 grid on one dataset."""
        if get_profile(profile).name == "full":
            return cls()
        return cls(seeds=(0, 1), epochs=8, n_restarts=1, max_samples={n: 400 for n in OUR_DATASETS + PAPER_DATASETS},
                   ablation_datasets=("cub", "synthetic3d"), grid_values=(0.01, 0.1, 1.0), grid_datasets=("synthetic3d",),
                   dominant_datasets=("cub", "synthetic3d"), curve_datasets=("synthetic3d",), snapshot_epochs=(0, 2, 4, 6, 8))

    def config(self, n_restarts: int | None = None) -> MVCConfig:
        return replace(MVCConfig(), epochs=self.epochs, n_restarts=n_restarts or self.n_restarts)


def datasets_present(names, data_dir=None) -> tuple[list[str], list[str]]:
    """Split ``names`` into (present, absent) on this machine."""
    present = [n for n in names if available(n, data_dir=data_dir)]
    return present, [n for n in names if n not in present]


@lru_cache(maxsize=32)
def load_capped(dataset: str, max_samples: int | None, data_dir: str | None = None):
    """The data set, stratified-subsampled to ``max_samples`` rows (seed 0, the same rows for every method)."""
    return subsample(load(dataset, data_dir=data_dir), max_samples, seed=0)


@lru_cache(maxsize=32)
def dominant_choice(dataset: str, max_samples: int | None, data_dir: str | None = None) -> tuple[int, tuple[float, ...]]:
    """(index, silhouettes): the view whose k-means partition has the highest silhouette — no labels."""
    from mmc_lib.baselines import view_silhouettes

    ds = load_capped(dataset, max_samples, data_dir)
    scores = tuple(float(s) for s in view_silhouettes(ds.views, ds.n_clusters, seed=0))
    return int(np.argmax(scores)), scores


def run_deep(method: str, dataset: str, seed: int, *, epochs: int, n_restarts: int, max_samples: int | None = None,
             alpha: float = 0.1, beta: float = 0.1, variant: str = "all", combine: str = "enhance",
             dominant: int | str = "silhouette", device: str = "cpu", data_dir: str | None = None) -> dict:
    """Train one deep method (DDMC with ``variant`` / ``combine``, SiMVC or CoMVC) and report its metrics."""
    if method not in DEEP:
        raise ValueError(f"unknown deep method {method!r}; known: {sorted(DEEP)}")
    if variant not in ABLATIONS:
        raise ValueError(f"unknown DDMC variant {variant!r}; known: {sorted(ABLATIONS)}")
    ds = load_capped(dataset, max_samples, data_dir)
    config = replace(MVCConfig(), epochs=epochs, n_restarts=n_restarts)
    if method == "DDMC":
        dm = dominant_choice(dataset, max_samples, data_dir)[0] if dominant == "silhouette" else int(dominant)
        model = DDMC(ds.n_clusters, alpha=alpha, beta=beta, dominant=dm, losses=ABLATIONS[variant],
                     combine=combine, config=config, seed=seed, device=device)
    else:
        model = DEEP[method](ds.n_clusters, config=config, seed=seed, device=device)
    start = time.perf_counter()
    labels = model.fit_predict(ds.views)
    report = {m: v for m, v in clustering_report(ds.labels, labels).items()}
    report.update(seconds=time.perf_counter() - start, n_samples=ds.n_samples,
                  objective=float(min(model.restart_objectives_)),
                  seconds_per_epoch=(time.perf_counter() - start) / (epochs * n_restarts))
    if method == "DDMC":
        report["dominant_view"] = ds.view_names[model.dominant_]
    return report


def run_classical(method: str, dataset: str, seed: int, *, max_samples: int | None = None,
                  data_dir: str | None = None) -> dict:
    """One classical baseline (KM, Ncuts, AmKM, AmNcuts, CoregMVSC) on the same rows as the deep methods."""
    from mmc_lib.baselines import BASELINES

    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; known: {sorted(BASELINES)}")
    ds = load_capped(dataset, max_samples, data_dir)
    start = time.perf_counter()
    labels = BASELINES[method](ds.n_clusters, seed=seed).fit_predict(ds.views)
    return {**clustering_report(ds.labels, labels), "seconds": time.perf_counter() - start, "n_samples": ds.n_samples}


def single_view_accuracy(dataset: str, *, max_samples: int | None = None, data_dir: str | None = None) -> list[dict]:
    """Per view: silhouette of its k-means partition (what DDMC uses) and that partition's ACC (uses labels)."""
    from mmc_lib.baselines import per_view_kmeans

    ds = load_capped(dataset, max_samples, data_dir)
    chosen, scores = dominant_choice(dataset, max_samples, data_dir)
    partitions = per_view_kmeans(ds.views, ds.n_clusters, seed=0)
    return [{"dataset": dataset, "view": i, "view_name": ds.view_names[i], "silhouette": scores[i],
             "kmeans_acc": accuracy(ds.labels, p), "chosen": i == chosen} for i, p in enumerate(partitions)]


def training_curves(dataset: str, *, plan: DDMCPlan, seed: int = 0, device: str = "cpu",
                    data_dir: str | None = None) -> DDMC:
    """One DDMC fit that logs every loss term and ACC/NMI per epoch and keeps ``E`` at ``plan.snapshot_epochs``.

    Labels are passed only for the per-epoch ACC/NMI log; the fit itself is identical without them.
    """
    max_samples = plan.max_samples.get(dataset)
    ds = load_capped(dataset, max_samples, data_dir)
    dm = dominant_choice(dataset, max_samples, data_dir)[0]
    model = DDMC(ds.n_clusters, alpha=plan.alpha, beta=plan.beta, dominant=dm, config=plan.config(n_restarts=1),
                 seed=seed, device=device, snapshot_epochs=plan.snapshot_epochs)
    return model.fit(ds.views, ds.labels)


def paper_table(setting: str = "main"):
    """The slides' numbers of one table (``main`` or ``ablation``, by claim id) as a tidy frame (fractions).

    >>> float(paper_table("ablation").query("dataset == 'Caltech-3V' and metric == 'acc'").paper.max())
    0.767
    """
    import pandas as pd

    from mmc_lib.claims import claims_dir, load_ledger

    ledger = load_ledger(claims_dir() / "ddmc.yaml")
    rows = [{"method": c.method, "dataset": c.dataset, "metric": c.metric, "paper": c.fraction}
            for c in ledger.claims if c.kind == "value" and c.id.startswith(f"ddmc.{setting}.")]
    return pd.DataFrame(rows)


PAPER_NAMES = {"caltech-3v": "Caltech-3V", "caltech-4v": "Caltech-4V", "esp-game": "ESP-Game", "flickr": "Flickr",
               "iapr": "IAPR"}


def compare_with_paper(summary, *, metric: str, setting: str = "main", methods=None):
    """Paper value beside ours (mean ± std, percent) and the difference, for the paper's five data sets.

    ``summary`` is a :func:`mmc_lib.experiments.summarize` frame with ``method`` and ``dataset`` columns
    (ours); a paper data set we did not run shows ``not run``.
    """
    import pandas as pd

    paper = paper_table(setting)
    paper = paper[paper.metric == metric]
    if methods is not None:
        paper = paper[paper.method.isin(methods)]
    ours = {(r.method, PAPER_NAMES.get(r.dataset, r.dataset)): (r[f"{metric}_mean"], r[f"{metric}_std"])
            for _, r in summary.iterrows()}
    rows = []
    for _, r in paper.iterrows():
        got = ours.get((r.method, r.dataset))
        rows.append({"method": r.method, "dataset": r.dataset, "paper": round(100 * r.paper, 1),
                     "ours": f"{100 * got[0]:.1f} ± {100 * got[1]:.1f}" if got else "not run",
                     "diff": round(100 * (got[0] - r.paper), 1) if got else None})
    return pd.DataFrame(rows)
