"""Notebook 01 (DDMC): DDMC beside SiMVC/CoMVC and the classical rows, its ablation, the α/β grid, enhancement vs
fusion, convergence and the dominant-view check — as calls the notebook makes.

One run = one method (or DDMC variant), one dataset, one seed → metrics, seconds and what the method chose
(:func:`run_deep`; the classical rows use :func:`mmc_lib.studies.data_and_baselines.classical_run`). A
:class:`DDMCStudy` builds each grid of runs from the budget (:func:`mmc_lib.studies.budgets.budget`) and runs it
through :func:`mmc_lib.studies.grid.run_grid`, cached under ``study_cache("01_ddmc", profile, out_dir)``.
Every paper number comes from the ledger (``claims/ddmc.yaml``).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

import mmc_lib.methods as methods
from mmc_lib.data import MultiViewDataset, available, load
from mmc_lib.methods.shared import choose_dominant_view, per_view_kmeans
from mmc_lib.methods.deep_multiview.ddmc import ABLATIONS, DDMC
from mmc_lib.methods.deep_multiview.mvc import CoMVC, MVCConfig, SiMVC
from mmc_lib.metrics import accuracy, clustering_report
from mmc_lib.results import mean_std
from mmc_lib.studies.budgets import DDMC_OUR_DATASETS, DDMC_PAPER_DATASETS, DDMCBudget, selection_option
from mmc_lib.studies.data_and_baselines import classical_run, ours_ranked_table, ranked_table
from mmc_lib.studies.grid import grid, mean_std_table, run_grid, summarize, to_result_rows

DEEP = {"DDMC": DDMC, "SiMVC": SiMVC, "CoMVC": CoMVC}
CLASSICAL = ("KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC")
#: the other rows of the paper's table, each an estimator exported by :mod:`mmc_lib.methods` under this name
COMPETITORS = ("RMKMC", "SwMC", "ONMSC", "SMCMB", "EAMC", "DEMVC", "MFLVC", "SEM", "DIVIDE", "SCMVC", "SSLNMVC")
#: rows of the main table, in the paper's order
ORDER = (*CLASSICAL, "RMKMC", "SwMC", "ONMSC", "SMCMB", "EAMC", "DEMVC", "SiMVC", "CoMVC", "MFLVC", "SEM", "DIVIDE",
         "SCMVC", "SSLNMVC", "DDMC")
VARIANTS = ("DDC", "DDC+FDL", "DDC+CDL", "all")  # rows of the ablation
STRATEGIES = ("enhancement", "fusion")
METRICS = ("acc", "nmi", "ari", "purity")


# ----------------------------------------------------------------- data

def datasets_present(names, data_dir=None) -> tuple[list[str], list[str]]:
    """Split ``names`` into (present, absent) on this machine."""
    present = [n for n in names if available(n, data_dir=data_dir)]
    return present, [n for n in names if n not in present]


@lru_cache(maxsize=32)
def dominant_choice(dataset: str, max_samples: int | None, data_dir: str | None = None,
                    scale: bool = True) -> tuple[int, tuple[float, ...]]:
    """(index, silhouettes) of :func:`~mmc_lib.methods.shared.choose_dominant_view` on the capped rows."""
    ds = load(dataset, data_dir=data_dir, max_samples=max_samples, scale=scale)
    chosen, scores = choose_dominant_view(ds.views, ds.n_clusters, seed=0)
    return chosen, tuple(float(s) for s in scores)


# ----------------------------------------------------------------- one run

def run_deep(method: str, dataset: str, seed: int, *, epochs: int, n_restarts: int, max_samples: int | None = None,
             alpha: float = 0.1, beta: float = 0.1, variant: str = "all", combine: str = "enhance",
             dominant: int | str = "silhouette", encoder: str = "mlp", device: str = "cpu",
             data_dir: str | None = None, batch_size: int | None = None, scale: bool = True,
             selection: str = "objective", checkpoint_every: int = 4) -> dict:
    """Train one deep method (DDMC with ``variant`` / ``combine``, SiMVC or CoMVC) and report its metrics, the
    device it ran on and ``final_ddc1`` (:func:`final_ddc1`, the paper's label-free run selection criterion).

    ``encoder="cnn"`` gives every view a small CNN (image views, e.g. MNIST-USPS's 28×28 digits); ``batch_size``
    overrides :class:`MVCConfig`'s; ``scale=False`` feeds the raw features, as the reference code feeds its CNN.
    ``selection="ddc1"`` checkpoints each of the ``n_restarts`` runs at its lowest eval ``ddc_1`` (every
    ``checkpoint_every`` epochs) and keeps the lowest (``MVCConfig.selection``: the paper's protocol within one call;
    ``checkpoint_epoch`` says which epoch's weights were kept). Over several calls (seeds), :func:`select_runs` keeps
    the lowest ``final_ddc1`` and :func:`selection_summary` puts "one run" beside "the paper's selection".
    (A run's cache key holds only the parameters its run list passes, so these defaults keep older keys.)"""
    if method not in DEEP:
        raise ValueError(f"unknown deep method {method!r}; known: {sorted(DEEP)}")
    if variant not in ABLATIONS:
        raise ValueError(f"unknown DDMC variant {variant!r}; known: {sorted(ABLATIONS)}")
    ds = load(dataset, data_dir=data_dir, max_samples=max_samples, scale=scale)
    config = MVCConfig(epochs=epochs, n_restarts=n_restarts, encoder=encoder, selection=selection,
                       checkpoint_every=checkpoint_every,
                       **({"batch_size": int(batch_size)} if batch_size is not None else {}))
    if method == "DDMC":
        dm = dominant_choice(dataset, max_samples, data_dir, scale)[0] if dominant == "silhouette" else int(dominant)
        model = DDMC(ds.n_clusters, alpha=alpha, beta=beta, dominant=dm, losses=ABLATIONS[variant],
                     combine=combine, config=config, seed=seed, device=device)
    else:
        model = DEEP[method](ds.n_clusters, config=config, seed=seed, device=device)
    start = time.perf_counter()
    labels = model.fit_predict(ds.views)
    seconds = time.perf_counter() - start
    report = dict(clustering_report(ds.labels, labels))
    report.update(seconds=seconds, n_samples=ds.n_samples, objective=float(min(model.restart_objectives_)),
                  seconds_per_epoch=seconds / (epochs * n_restarts), final_ddc1=final_ddc1(model, ds.views),
                  device=device_name(model.model_), checkpoint_epoch=int(model.checkpoint_epochs_[model.selected_run_]))
    if method == "DDMC":
        report["dominant_view"] = ds.view_names[model.dominant_]
    return report


def device_name(module) -> str:
    """``"cuda"`` or ``"cpu"``: where ``module``'s parameters live (what a row's ``device`` column says)."""
    return next(module.parameters()).device.type


def final_ddc1(model, views, batch_size: int | None = None) -> float:
    """The DDC ``ddc_1`` term (Cauchy–Schwarz divergence between clusters) of a fitted SiMVC/CoMVC/DDMC on all
    rows, in eval mode over consecutive full batches, as the reference code's ``evaluate.py`` computes it for its run
    selection (:func:`mmc_lib.methods.base.eval_ddc1`). Unsupervised: it reads the views only, never labels.

    With ``MVCConfig(selection="ddc1")`` the fitted model is each run's lowest-``ddc_1`` checkpoint (checked every
    ``checkpoint_every`` epochs), as in the reference; otherwise the model of the last epoch. Extra random draws
    inside ``losses`` (CoMVC's negatives, DDMC's vCLUB permutation) do not touch ``ddc_1`` and run under a fixed
    seed, so the caller's random state is left as it was."""
    from mmc_lib.methods.base import eval_ddc1
    from mmc_lib.nn import to_device_views

    net = model.model_
    size = int(batch_size or (model.config or MVCConfig()).batch_size)
    return eval_ddc1(net, to_device_views(views, next(net.parameters()).device), size)


def select_runs(runs: pd.DataFrame, *, by=("method", "dataset"), criterion: str = "final_ddc1") -> pd.DataFrame:
    """The paper's run selection: per ``by`` group, the one run with the lowest ``criterion`` (``final_ddc1``: label
    free). Metrics in the frame ride along but are never read; ties go to the first run in frame order.

    >>> runs = pd.DataFrame({"method": ["A", "A", "B"], "dataset": ["d"] * 3, "seed": [0, 1, 0],
    ...                      "final_ddc1": [0.3, 0.1, 0.2], "acc": [0.9, 0.5, 0.7]})
    >>> select_runs(runs)[["method", "seed"]].values.tolist()
    [['A', 1], ['B', 0]]
    """
    by = list(by)
    missing = [c for c in (*by, criterion) if c not in runs.columns]
    if missing:
        raise ValueError(f"select_runs needs the columns {missing}")
    if runs[criterion].isna().any():
        raise ValueError(f"select_runs: {int(runs[criterion].isna().sum())} run(s) have no {criterion}")
    best = runs.groupby(by, sort=False)[criterion].idxmin()
    return runs.loc[best.values].reset_index(drop=True)


def selection_summary(runs: pd.DataFrame, *, by=("method", "dataset"), metrics=("acc", "nmi")) -> pd.DataFrame:
    """Two rows per ``by`` group, as users meet them: ``protocol="one run"`` — the distribution over the runs
    (``<metric>_mean``, ``<metric>_std`` with ddof 0 as everywhere in the project, ``n_runs``) — and ``protocol="paper's selection"`` — the one run with the
    lowest ``final_ddc1`` among them (:func:`select_runs`; label free), with ``seed`` and ``final_ddc1``.

    >>> runs = pd.DataFrame({"method": ["A"] * 3, "dataset": ["d"] * 3, "seed": [0, 1, 2],
    ...                      "final_ddc1": [0.3, 0.1, 0.2], "acc": [0.9, 0.5, 0.7], "nmi": [0.8, 0.4, 0.6]})
    >>> selection_summary(runs)[["protocol", "acc_mean", "acc_std", "n_runs", "seed"]].round(3).values.tolist()
    [['one run', 0.7, 0.163, 3, nan], ["paper's selection", 0.5, nan, 3, 1.0]]
    """
    by, metrics = list(by), list(metrics)
    chosen = select_runs(runs, by=by).set_index(by)
    rows = []
    for key, group in runs.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        ident = dict(zip(by, key))
        one = {**ident, "protocol": "one run", "n_runs": len(group)}
        pick = {**ident, "protocol": "paper's selection", "n_runs": len(group)}
        sel = chosen.loc[key if len(key) > 1 else key[0]]
        for m in metrics:
            one[f"{m}_mean"], one[f"{m}_std"] = float(group[m].mean()), float(group[m].std(ddof=0))
            pick[f"{m}_mean"], pick[f"{m}_std"] = float(sel[m]), float("nan")
        pick["final_ddc1"] = float(sel["final_ddc1"])
        if "seed" in sel:
            pick["seed"] = sel["seed"]
        rows += [one, pick]
    return pd.DataFrame(rows)


def competitor_estimator(method: str, n_clusters: int, *, seed: int, device: str, options: dict | None = None):
    """``mmc_lib.methods.<method>(n_clusters, seed=, device=, ...)``; ``options`` are constructor keywords, and an
    ``options["config"]`` dict becomes the method's ``<method>Config`` (the smoke profile's short schedules)."""
    if method not in COMPETITORS:
        raise ValueError(f"unknown competitor {method!r}; known: {list(COMPETITORS)}")
    options = dict(options or {})
    if isinstance(options.get("config"), dict):
        options["config"] = getattr(methods, f"{method}Config")(**options["config"])
    return getattr(methods, method)(n_clusters, seed=seed, device=device, **options)


def competitor_run(method: str, dataset: str, seed: int, *, options: dict | None = None,
                   max_samples: int | None = None, device: str = "cpu", data_dir: str | None = None) -> dict:
    """Fit one of the paper's other competitors (:data:`COMPETITORS`) with its own paper's defaults (or the
    budget's ``options``) and report its metrics and seconds."""
    ds = load(dataset, data_dir=data_dir, max_samples=max_samples)
    model = competitor_estimator(method, ds.n_clusters, seed=seed, device=device, options=options)
    start = time.perf_counter()
    labels = model.fit_predict(ds.views)
    report = dict(clustering_report(ds.labels, labels))
    # the deep competitors keep their network in ``model_``; the classical ones (numpy) always run on the CPU
    net = getattr(model, "model_", None)
    report.update(seconds=time.perf_counter() - start, n_samples=ds.n_samples,
                  device=device_name(net) if hasattr(net, "parameters") else "cpu")
    return report


def single_view_accuracy(dataset: str, *, max_samples: int | None = None, data_dir: str | None = None) -> list[dict]:
    """Per view: silhouette of its k-means partition (what DDMC uses) and that partition's ACC (uses labels)."""
    ds = load(dataset, data_dir=data_dir, max_samples=max_samples)
    chosen, scores = dominant_choice(dataset, max_samples, data_dir)
    partitions = per_view_kmeans(ds.views, ds.n_clusters, seed=0)
    return [{"dataset": dataset, "view": i, "view_name": ds.view_names[i], "silhouette": scores[i],
             "kmeans_acc": accuracy(ds.labels, p), "chosen": i == chosen} for i, p in enumerate(partitions)]


def training_curves(dataset: str, *, budget: DDMCBudget, seed: int = 0, device: str = "cpu",
                    data_dir: str | None = None) -> DDMC:
    """One DDMC fit that logs every loss term and ACC/NMI per epoch and keeps ``E`` at ``budget.snapshot_epochs``.

    Labels are passed only for the per-epoch ACC/NMI log; the fit itself is identical without them.
    """
    max_samples = budget.cap(dataset)
    ds = load(dataset, data_dir=data_dir, max_samples=max_samples)
    dm = dominant_choice(dataset, max_samples, data_dir)[0]
    model = DDMC(ds.n_clusters, alpha=budget.alpha, beta=budget.beta, dominant=dm,
                 config=budget.config(n_restarts=1), seed=seed, device=device, snapshot_epochs=budget.snapshot_epochs)
    return model.fit(ds.views, ds.labels)


# ----------------------------------------------------------------- the grids of one notebook run

@dataclass
class DDMCStudy:
    """The runs of notebook 01 under one budget: which data sets, which grids, where they are cached."""

    budget: DDMCBudget
    seed: int = 0
    device: str = "cpu"
    data_dir: str | None = None
    cache: Path | None = None  # study_cache("01_ddmc", profile, out_dir); needed to run grids, not to build them
    n_jobs: int = 1
    paper_present: list[str] = field(init=False)
    paper_absent: list[str] = field(init=False)
    ours_present: list[str] = field(init=False)
    ours_absent: list[str] = field(init=False)

    def __post_init__(self):
        self.paper_present, self.paper_absent = datasets_present(DDMC_PAPER_DATASETS, self.data_dir)
        self.ours_present, self.ours_absent = datasets_present(DDMC_OUR_DATASETS, self.data_dir)

    @property
    def datasets(self) -> list[str]:
        """The paper's data sets that are present, then ours."""
        return self.paper_present + self.ours_present

    def subset(self, names) -> list[str]:
        """``names`` that are present, plus every present paper data set (they run in every experiment)."""
        return [d for d in names if d in self.datasets and d not in self.paper_present] + self.paper_present

    def load(self, dataset: str) -> MultiViewDataset:
        """The rows every method of this study sees (the budget's stratified cap)."""
        return load(dataset, data_dir=self.data_dir, max_samples=self.budget.cap(dataset))

    def describe(self) -> str:
        b = self.budget
        return (f"seeds {b.seeds(self.seed)} | epochs {b.epochs} | restarts {b.n_restarts} | row caps {b.max_samples}"
                f" | parallel runs {self.n_jobs}")

    def availability(self) -> str:
        from mmc_lib.data.sources import fetch_hint

        absent = "; ".join(f"{n} ({fetch_hint(n)})" for n in self.paper_absent) or "none"
        return (f"paper data sets present: {self.paper_present or 'none'}\n"
                f"paper data sets absent (their rows stay 'not run'): {absent}\n"
                f"our real multi-view sets: {self.ours_present} | absent: {self.ours_absent or 'none'}")

    # -- run lists (plain dicts: run_grid's cache key is their content)
    def _deep(self, runs: list[dict], **fixed) -> list[dict]:
        """Each run with the budget's epochs, ``fixed`` (restarts, α/β), its row cap, the device and data folder."""
        b = self.budget
        return [dict(r, epochs=b.epochs, **fixed, max_samples=b.cap(r["dataset"]), **b.encoder_option(r["dataset"]),
                     device=self.device, data_dir=self.data_dir) for r in runs]

    def _weights(self) -> dict:
        return {"alpha": self.budget.alpha, "beta": self.budget.beta}

    def main_runs(self) -> tuple[list[dict], list[dict]]:
        """(deep, classical): DDMC, SiMVC, CoMVC and the classical rows on every present data set and seed."""
        seeds = list(self.budget.seeds(self.seed))
        deep = self._deep(grid(method=list(DEEP), dataset=self.datasets, seed=seeds),
                          n_restarts=self.budget.n_restarts, **self._weights(), **selection_option(self.budget))
        classical = [dict(r, max_samples=self.budget.cap(r["dataset"]), data_dir=self.data_dir)
                     for r in grid(method=list(CLASSICAL), dataset=self.datasets, seed=seeds)]
        return deep, classical

    def competitor_runs(self) -> list[dict]:
        """The paper's other competitors (:data:`COMPETITORS`) on every present data set and seed."""
        b = self.budget
        runs = [r for m in COMPETITORS for r in grid(method=[m], dataset=self.datasets,
                                                      seed=list(b.competitor_seeds(m, self.seed)))]
        return [dict(r, options=b.competitor_config(r["method"], r["dataset"]), max_samples=b.cap(r["dataset"]),
                     device=self.device, data_dir=self.data_dir)
                for r in runs if b.runs_competitor(r["method"], r["dataset"])]

    def selection_runs(self) -> list[dict]:
        """SiMVC, CoMVC and DDMC under the paper's run selection: ``b.n_selection_runs`` runs (one restart each) per
        method on each selection data set, with the reference code's image setting (empty when the budget has none),
        each checkpointed at its lowest eval ``ddc_1`` (``selection="ddc1"``); :func:`select_runs` keeps the lowest
        ``final_ddc1`` of each, :func:`selection_summary` gives both rows."""
        b = self.budget
        seeds = list(b.selection_seeds(self.seed))
        if not seeds:
            return []
        runs = grid(method=list(DEEP), dataset=[d for d in b.selection_datasets if d in self.datasets], seed=seeds)
        return [dict(r, epochs=b.selection_epochs, n_restarts=1, **self._weights(), max_samples=b.cap(r["dataset"]),
                     encoder=b.selection_encoder, batch_size=b.selection_batch_size, scale=b.selection_scale,
                     selection="ddc1", checkpoint_every=b.selection_checkpoint_every,
                     device=self.device, data_dir=self.data_dir) for r in runs]

    def ablation_runs(self) -> list[dict]:
        """DDMC with each loss group switched off, one restart per seed."""
        runs = grid(method=["DDMC"], dataset=self.subset(self.budget.ablation_datasets),
                    seed=list(self.budget.seeds(self.seed)), variant=list(VARIANTS))
        return self._deep(runs, n_restarts=self.budget.ablation_restarts, **self._weights())

    def fusion_runs(self) -> list[dict]:
        """The ablation's "all" runs with ``D^dm`` replaced by the fusion of all modalities."""
        return [dict(r, combine="fuse") for r in self.ablation_runs() if r["variant"] == "all"]

    def grid_runs(self) -> list[dict]:
        """The α × β grid, all loss groups on, one restart per cell."""
        values = list(self.budget.grid_values)
        runs = grid(method=["DDMC"], dataset=self.subset(self.budget.grid_datasets),
                    seed=list(self.budget.grid_seeds(self.seed)), alpha=values, beta=values)
        return self._deep(runs, n_restarts=1)

    def dominant_runs(self) -> list[dict]:
        """DDMC with each view forced as the dominant one, one restart."""
        runs = [{"method": "DDMC", "dataset": name, "seed": s, "dominant": v}
                for name in self.subset(self.budget.dominant_datasets)
                for v in range(len(self.load(name).views)) for s in self.budget.dominant_seeds(self.seed)]
        return self._deep(runs, n_restarts=1, **self._weights())

    # -- running them
    def _run(self, fn, runs: list[dict], folder: str, desc: str) -> pd.DataFrame:
        if self.cache is None:
            raise ValueError("DDMCStudy.cache is not set: pass study_cache('01_ddmc', profile, out_dir)")
        return run_grid(fn, runs, cache_dir=Path(self.cache) / folder, n_jobs=self.n_jobs, desc=desc)

    def main(self) -> pd.DataFrame:
        """Every run of the main table: the classical rows, the competitors, then SiMVC/CoMVC/DDMC."""
        deep_runs, classical_runs = self.main_runs()
        classical = self._run(classical_run, classical_runs, "classical", "classical")
        others = self._run(competitor_run, self.competitor_runs(), "competitors", "competitors")
        deep = self._run(run_deep, deep_runs, "deep", "deep")
        return pd.concat([classical, others.drop(columns="options"), deep], ignore_index=True)

    def selection(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(every run, the selected run per method and data set) of :meth:`selection_runs`."""
        runs = self._run(run_deep, self.selection_runs(), "deep", "run selection")
        return runs, (select_runs(runs) if len(runs) else runs)

    def ablation(self) -> pd.DataFrame:
        return self._run(run_deep, self.ablation_runs(), "deep", "ablation")

    def fusion(self) -> pd.DataFrame:
        return self._run(run_deep, self.fusion_runs(), "deep", "fusion")

    def alpha_beta(self) -> pd.DataFrame:
        return self._run(run_deep, self.grid_runs(), "deep", "alpha/beta grid")

    def dominant(self) -> pd.DataFrame:
        return self._run(run_deep, self.dominant_runs(), "deep", "dominant")

    def curves(self) -> dict[str, DDMC]:
        """One logged DDMC fit per curve data set (convergence and t-SNE over epochs)."""
        return {name: training_curves(name, budget=self.budget, seed=self.seed, device=self.device,
                                      data_dir=self.data_dir)
                for name in self.budget.curve_datasets if name in self.datasets}

    # -- tables that need the data
    def datasets_table(self) -> pd.DataFrame:
        """Per data set: rows, clusters, each view's silhouette and the dominant view DDMC takes."""
        rows = []
        for name in self.datasets:
            ds = self.load(name)
            chosen, scores = dominant_choice(name, self.budget.cap(name), self.data_dir)
            rows.append({"dataset": name, "n": ds.n_samples, "K": ds.n_clusters,
                         "views": " / ".join(f"{v} ({s:.3f})" for v, s in zip(ds.view_names, scores)),
                         "dominant": ds.view_names[chosen]})
        return pd.DataFrame(rows).set_index("dataset")

    def views_table(self, dominant_runs: pd.DataFrame) -> pd.DataFrame:
        """Per view: silhouette, its k-means ACC and DDMC's ACC with that view dominant (mean over seeds)."""
        views = pd.DataFrame([r for name in self.subset(self.budget.dominant_datasets)
                              for r in single_view_accuracy(name, max_samples=self.budget.cap(name),
                                                            data_dir=self.data_dir)])
        acc = dominant_runs.groupby(["dataset", "dominant"])["acc"].mean().rename("ddmc_acc").reset_index()
        return (views.merge(acc, left_on=["dataset", "view"], right_on=["dataset", "dominant"])
                .drop(columns="dominant"))

    def dominant_views(self) -> dict[str, str]:
        """The dominant view DDMC takes on each data set (by name)."""
        return {n: self.load(n).view_names[dominant_choice(n, self.budget.cap(n), self.data_dir)[0]]
                for n in self.datasets}

    def result_rows(self, main: pd.DataFrame, ablation: pd.DataFrame, fusion: pd.DataFrame,
                    sweep: pd.DataFrame) -> list[dict]:
        """The rows for ``results/<profile>/01_ddmc.json`` (settings ``main``, ``ablation:<variant>``,
        ``enhancement``/``fusion`` and ``grid:alpha=…,beta=…``), each capped data set noted as a subsample."""
        rows = result_rows(main, ablation, fusion, sweep)
        for r in rows:
            cap = self.budget.cap(r["dataset"])
            notes = [self.budget.schedule_note(r["method"])] if r["setting"] == "main" else []
            if cap and load(r["dataset"], data_dir=self.data_dir).n_samples > cap:
                notes.append(f"stratified subsample of {cap} rows")
            if any(notes):
                r["note"] = "; ".join(n for n in notes if n)
        return rows

    def extra(self, speed: pd.DataFrame, wall_seconds: float, main: pd.DataFrame | None = None) -> dict:
        """The ``extra`` provenance of the results file: the budget (with the seeds run), what was absent, the
        dominant views, the seconds per epoch, and (given ``main``) the median seconds per run of every method
        and data set with the device it ran on (the CPU side of the GPU run's speed-up table)."""
        b = self.budget
        seconds_per_run = {} if main is None else run_seconds(main)
        return {"budget": {**_plain(asdict(b)), "seeds": list(b.seeds(self.seed)),
                           "grid_seeds": list(b.grid_seeds(self.seed)),
                           "dominant_seeds": list(b.dominant_seeds(self.seed))},
                "paper_datasets_absent": self.paper_absent, "wall_seconds": round(wall_seconds, 1),
                "dominant": self.dominant_views(),
                "seconds_per_epoch": {m: {d: float(x) for d, x in r.items()} for m, r in speed.T.to_dict().items()},
                **({"seconds_per_run": seconds_per_run} if seconds_per_run else {})}


def _plain(value):
    """Tuples as lists, recursively (JSON-ready)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


# ----------------------------------------------------------------- summaries and tables (plain frames in, frames out)

def summarize_by(runs: pd.DataFrame, key: str) -> pd.DataFrame:
    """Mean, std and count of every metric per (``key``, dataset), and the ``device`` the runs used (``"cpu"``,
    ``"cuda"``, or ``"cpu+cuda"`` where a group mixes them)."""
    summary = summarize(runs, [key, "dataset"], list(METRICS))
    devices = with_devices(runs).groupby([key, "dataset"], sort=False)["device"].agg(lambda d: "+".join(sorted(set(d))))
    return summary.merge(devices.rename("device").reset_index(), on=[key, "dataset"], how="left")


def with_devices(runs: pd.DataFrame) -> pd.DataFrame:
    """``runs`` with a ``device`` column for every row: what the run reported, else ``"cpu"`` (the classical rows
    are numpy; runs cached before the column existed ran on the CPU profile)."""
    device = runs["device"] if "device" in runs.columns else pd.Series("cpu", index=runs.index)
    return runs.assign(device=device.fillna("cpu").astype(str).str.split(":").str[0])


def device_table(runs: pd.DataFrame) -> pd.DataFrame | None:
    """Method × data set: the device(s) each cell's runs used, or ``None`` when every run used one device (a table
    that mixes devices says so; one that does not needs no such column)."""
    runs = with_devices(runs)
    if runs["device"].nunique() <= 1:
        return None
    cells = runs.groupby(["method", "dataset"], sort=False)["device"].agg(lambda d: "+".join(sorted(set(d))))
    return cells.unstack()


def run_seconds(runs: pd.DataFrame) -> dict:
    """``{method: {dataset: {"seconds": median seconds per run, "device": ...}}}`` of a runs frame."""
    runs = with_devices(runs)
    out: dict = {}
    for (method, dataset), g in runs.groupby(["method", "dataset"], sort=False):
        out.setdefault(method, {})[dataset] = {"seconds": round(float(g["seconds"].median()), 3),
                                               "device": "+".join(sorted(set(g["device"])))}
    return out


def enhancement_vs_fusion(ablation: pd.DataFrame, fusion: pd.DataFrame) -> pd.DataFrame:
    """Summary per (strategy, dataset): the ablation's "all" runs (enhancement) beside the fusion runs."""
    enh = ablation[ablation.variant == "all"].assign(strategy="enhancement")
    return summarize_by(pd.concat([enh, fusion.assign(strategy="fusion")], ignore_index=True), "strategy")


def best_baseline_table(main_summary: pd.DataFrame, datasets) -> pd.DataFrame:
    """Per data set: DDMC's mean ACC/NMI beside the best baseline we ran (by mean ACC), in percent."""
    rows = []
    for name in datasets:
        s = main_summary[main_summary.dataset == name].set_index("method")
        baselines = s.drop(index="DDMC")
        best = baselines["acc_mean"].idxmax()
        rows.append({"dataset": name, "DDMC acc": round(100 * s.loc["DDMC", "acc_mean"], 1),
                     "best baseline": best, "its acc": round(100 * baselines.loc[best, "acc_mean"], 1),
                     "DDMC − best": round(100 * (s.loc["DDMC", "acc_mean"] - baselines.loc[best, "acc_mean"]), 1),
                     "DDMC nmi": round(100 * s.loc["DDMC", "nmi_mean"], 1),
                     "best baseline nmi": round(100 * baselines["nmi_mean"].max(), 1)})
    return pd.DataFrame(rows).set_index("dataset")


def view_choice(views: pd.DataFrame) -> pd.DataFrame:
    """Per data set: the view the silhouette picks beside the best view by DDMC ACC and by k-means ACC."""
    out = views.groupby("dataset").apply(
        lambda g: pd.Series({"silhouette picks": g.loc[g.silhouette.idxmax(), "view_name"],
                             "best by DDMC acc": g.loc[g.ddmc_acc.idxmax(), "view_name"],
                             "best by k-means acc": g.loc[g.kmeans_acc.idxmax(), "view_name"]}), include_groups=False)
    out["silhouette = best DDMC view"] = out["silhouette picks"] == out["best by DDMC acc"]
    return out


def speed_table(main: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per training epoch of each deep method on each data set (main-table runs)."""
    deep = main[main.method.isin(DEEP)]
    return deep.groupby(["method", "dataset"])["seconds_per_epoch"].median().unstack().round(3)


def result_rows(main: pd.DataFrame, ablation: pd.DataFrame, fusion: pd.DataFrame, sweep: pd.DataFrame) -> list[dict]:
    """Long-format result rows of every experiment (see :meth:`DDMCStudy.result_rows`, which adds the notes)."""
    metrics = list(METRICS)
    rows = to_result_rows(summarize_by(main, "method"), metrics=metrics, setting="main")
    abl = summarize_by(ablation, "variant")
    for v in VARIANTS:
        rows += to_result_rows(abl[abl.variant == v].assign(method="DDMC"), metrics=metrics, setting=f"ablation:{v}")
    ef = enhancement_vs_fusion(ablation, fusion)
    for strategy in STRATEGIES:
        rows += to_result_rows(ef[ef.strategy == strategy].assign(method="DDMC"), metrics=metrics, setting=strategy)
    keys = ["method", "dataset", "alpha", "beta"]
    devices = with_devices(sweep).groupby(keys, sort=False)["device"].agg(lambda d: "+".join(sorted(set(d))))
    grid_summary = summarize(sweep, keys, metrics).merge(devices.reset_index(), on=keys, how="left")
    for (a, b), g in grid_summary.groupby(["alpha", "beta"]):
        rows += to_result_rows(g, metrics=metrics, setting=f"grid:alpha={a:g},beta={b:g}")
    return rows


# ----------------------------------------------------------------- the paper's numbers (from the ledger)

@lru_cache(maxsize=1)
def _ledger():
    from mmc_lib.audit import claims_dir, load_ledger

    return load_ledger(claims_dir() / "ddmc.yaml")


def paper_names() -> dict[str, str]:
    """Our registry name → the paper's data set name, from the ledger's ``datasets:`` map.

    >>> paper_names()["esp-game"]
    'ESP-Game'
    """
    return {ours: paper for paper, dmap in _ledger().datasets.items() for ours in dmap.ours}


def paper_table(setting: str = "main") -> pd.DataFrame:
    """The slides' numbers of one table (``main`` or ``ablation``, by claim id) as a tidy frame (fractions).

    >>> float(paper_table("ablation").query("dataset == 'Caltech-3V' and metric == 'acc'").paper.max())
    0.767
    """
    rows = [{"method": c.method, "dataset": c.dataset, "metric": c.metric, "paper": c.fraction}
            for c in _ledger().claims if c.kind == "value" and c.id.startswith(f"ddmc.{setting}.")]
    return pd.DataFrame(rows)


def paper_row(method: str = "DDMC", setting: str = "main") -> pd.DataFrame:
    """One method's numbers in the paper's table: metric × data set, in percent as printed.

    >>> float(paper_row().loc["acc", "Caltech-3V"])
    76.7
    """
    paper = paper_table(setting)
    paper = paper[paper.method == method]
    return (100 * paper.pivot(index="metric", columns="dataset", values="paper")).round(1)


def compare_with_paper(summary: pd.DataFrame, *, metric: str, setting: str = "main", methods=None) -> pd.DataFrame:
    """Paper value beside ours (:func:`~mmc_lib.results.mean_std`, percent) and the difference, for the paper's
    five data sets.

    ``summary`` is a :func:`~mmc_lib.studies.grid.summarize` frame with ``method`` and ``dataset`` columns
    (ours); a paper data set we did not run shows ``not run``.
    """
    paper = paper_table(setting)
    paper = paper[paper.metric == metric]
    if methods is not None:
        paper = paper[paper.method.isin(methods)]
    names = paper_names()
    ours = {(r.method, names.get(r.dataset, r.dataset)): (r[f"{metric}_mean"], r[f"{metric}_std"])
            for _, r in summary.iterrows()}
    rows = []
    for _, r in paper.iterrows():
        got = ours.get((r.method, r.dataset))
        rows.append({"method": r.method, "dataset": r.dataset, "paper": round(100 * r.paper, 1),
                     "ours": mean_std(*got) if got else "not run",
                     "diff": round(100 * (got[0] - r.paper), 1) if got else None})
    return pd.DataFrame(rows)


def paper_ranked(metric: str = "acc", setting: str = "main"):
    """The slides' own table (ledger ``claims/ddmc.yaml``) for one metric: method × data set in percent, with
    each method's rank on each data set and the best entry in bold — the paper's table as printed, not ours.

    >>> paper_ranked("acc").data.loc["DDMC", "Caltech-3V"]
    '76.7 (1)'
    """
    paper = paper_table(setting)
    paper = paper[paper.metric == metric]
    scores = (100 * paper.pivot_table(index="method", columns="dataset", values="paper")).round(1)
    order = [m for m in (*ORDER, *sorted(set(scores.index) - set(ORDER))) if m in scores.index]
    return ranked_table(scores.reindex(order))


def ours_ranked(summary: pd.DataFrame, *, metric: str = "acc", methods=ORDER):
    """Our main table for one metric: method × data set, ``mean ± std`` (percent) with the rank of the mean on
    each data set, the best mean in bold (a Styler). Only data sets we ran appear — nothing "not run"."""
    return ours_ranked_table(summary, metric=metric, methods=methods)



# ------------------------------------------------------------------ notebook 01's tables and figures as calls
def score_grid(main_summary: pd.DataFrame, datasets, *, metric: str = "acc", methods=ORDER) -> pd.DataFrame:
    """Method × data set of the mean ``metric`` over seeds in percent (rows in ``methods`` order, columns in
    ``datasets`` order; NaN where a method did not run on a data set) — what :func:`main_heatmap` draws.

    >>> s = pd.DataFrame({"method": ["KM", "DDMC"], "dataset": ["a", "a"], "acc_mean": [0.5, 0.75]})
    >>> score_grid(s, ["a", "b"], methods=("DDMC", "KM")).to_dict()
    {'a': {'DDMC': 75.0, 'KM': 50.0}, 'b': {'DDMC': nan, 'KM': nan}}
    """
    return (100 * main_summary.pivot(index="method", columns="dataset", values=f"{metric}_mean")
            .reindex(index=list(methods), columns=list(datasets)))


def main_heatmap(main_summary: pd.DataFrame, datasets, *, reduced=lambda method: False, metrics=("acc", "nmi")):
    """Notebook 01's main-table figure: one heatmap per metric, rows the methods in the slides' order, columns the
    data sets, each cell its mean over seeds (%); blank where not run; ``reduced(method)`` true adds `` *`` to the
    method's name (a cut schedule in this profile). Returns the figure (the notebook saves and shows it)."""
    import matplotlib.pyplot as plt
    import numpy as np

    datasets = list(datasets)
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 7.2), sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        table = score_grid(main_summary, datasets, metric=metric)
        im = ax.imshow(table.values, cmap="viridis", vmin=0, vmax=100, aspect="auto")
        for (i, j), v in np.ndenumerate(table.values):
            if np.isfinite(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", color="k" if v > 50 else "w", fontsize=7)
        ax.set_xticks(range(len(datasets)), datasets, rotation=20)
        ax.set_yticks(range(len(table.index)), [m + (" *" if reduced(m) else "") for m in table.index])
        ax.set_title(f"{metric.upper()} (%), mean over seeds")
        ax.set_xlabel("data set")
        ax.grid(False)
    axes[0][0].set_ylabel("method (* = reduced schedule)")
    fig.colorbar(im, ax=axes[0].tolist(), label="score (%)", shrink=0.6)
    return fig


def per_seed_table(main: pd.DataFrame, *, metric: str = "acc", methods=tuple(DEEP)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(per seed, spread)`` of the deep methods, percent rounded to 0.1: ``metric`` of every (method, seed) per
    data set, and its standard deviation over seeds (``ddof=0``) per method and data set.

    >>> runs = pd.DataFrame({"method": ["DDMC"] * 2 + ["KM"], "seed": [0, 1, 0], "dataset": ["a"] * 3,
    ...                      "acc": [0.5, 0.7, 0.1]})
    >>> per_seed, spread = per_seed_table(runs)
    >>> float(per_seed.loc[("DDMC", 1), "a"]), float(spread.loc["DDMC", "a"]), list(per_seed.index)
    (70.0, 10.0, [('DDMC', 0), ('DDMC', 1)])
    """
    deep = main[main.method.isin(list(methods))]
    per_seed = (100 * deep.pivot_table(index=["method", "seed"], columns="dataset", values=metric)).round(1)
    spread = (100 * deep.groupby(["method", "dataset"])[metric].std(ddof=0)).unstack().round(1)
    return per_seed, spread


def own_paper_numbers(numbers: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The competitors' own-paper table (:func:`mmc_lib.audit.own_paper_table`: each competitor's number claims
    beside ours, the DDMC slides left out) and the competitors whose papers report none on our data sets.
    ``numbers`` is the notebook's ``grade_notebook(...).numbers``."""
    from mmc_lib.audit import own_paper_table

    own = own_paper_table(numbers, methods=COMPETITORS, besides="DDMC")
    return own, sorted(set(COMPETITORS) - set(own.method))


def summary_table(summary: pd.DataFrame, *, by: str, metric: str) -> pd.DataFrame:
    """``by`` × data set of ``"mean ± std"`` strings in percent (:func:`~mmc_lib.studies.grid.mean_std_table`), rows
    in the notebook's order for ``by`` (``method``: the slides' :data:`ORDER`, ``variant``: :data:`VARIANTS`,
    ``strategy``: :data:`STRATEGIES`); a row that did not run shows NaN.

    >>> s = pd.DataFrame({"variant": ["all", "DDC"], "dataset": ["a", "a"], "acc_mean": [0.8, 0.5],
    ...                   "acc_std": [0.01, 0.02]})
    >>> summary_table(s, by="variant", metric="acc")["a"].tolist()
    ['50.0 ± 2.0', nan, nan, '80.0 ± 1.0']
    """
    order = {"method": ORDER, "variant": VARIANTS, "strategy": STRATEGIES}
    if by not in order:
        raise ValueError(f"summary_table: unknown row key {by!r}; known: {sorted(order)}")
    return mean_std_table(summary, index=by, columns="dataset", metric=metric).reindex(order[by])


def schedule_notes(budget: DDMCBudget, methods=COMPETITORS) -> str:
    """The competitors that run on a cut schedule in ``budget``'s profile, one line each (none in smoke: the smoke
    profile cuts every schedule by design and says so in its budget, not per row).

    >>> from mmc_lib.studies.budgets import budget
    >>> print(schedule_notes(budget("01_ddmc", "full")).splitlines()[0])
    cut schedules of the deep competitors in this profile:
    """
    lines = ["cut schedules of the deep competitors in this profile:"]
    lines += [f"  {m}: {note.removeprefix('reduced schedule: ')}" for m in methods if (note := budget.schedule_note(m))]
    return "\n".join(lines)


def run_seconds_table(main: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per run of every method (rows in the slides' :data:`ORDER`) on every data set, rounded to
    0.1 s.

    >>> runs = pd.DataFrame({"method": ["KM"] * 3, "dataset": ["a"] * 3, "seconds": [1.0, 3.0, 2.0]})
    >>> float(run_seconds_table(runs).loc["KM", "a"])
    2.0
    """
    return main.groupby(["method", "dataset"]).seconds.median().unstack().reindex(list(ORDER)).round(1)


def ablation_per_seed(ablation: pd.DataFrame, *, metric: str = "acc") -> pd.DataFrame:
    """Seed × (data set, variant) of ``metric`` in percent, rounded to 0.1: which seeds each loss group moves.

    >>> runs = pd.DataFrame({"seed": [0, 0, 1], "dataset": ["a"] * 3, "variant": ["DDC", "all", "all"],
    ...                      "acc": [0.5, 0.75, 0.25]})
    >>> float(ablation_per_seed(runs).loc[0, ("a", "all")])
    75.0
    """
    return (100 * ablation.pivot_table(index="seed", columns=["dataset", "variant"], values=metric)).round(1)


def paper_ablation_table() -> pd.DataFrame:
    """The slides' ablation (ledger ``claims/ddmc.yaml``): method (loss groups) × (data set, metric), in percent.

    >>> float(paper_ablation_table().loc[:, ("Caltech-3V", "acc")].max())
    76.7
    """
    paper = paper_table("ablation")
    return paper.pivot_table(index="method", columns=["dataset", "metric"], values="paper").mul(100).round(1)


def alpha_beta_range(sweep: pd.DataFrame, *, metric: str = "acc") -> pd.DataFrame:
    """Per data set: the lowest and highest cell of the α × β grid (``metric`` averaged over seeds, percent, 0.1).

    >>> sweep = pd.DataFrame({"dataset": ["a"] * 4, "alpha": [0.1, 0.1, 1, 1], "beta": [0.1] * 4,
    ...                       "acc": [0.2, 0.4, 0.9, 0.9]})
    >>> alpha_beta_range(sweep).loc["a"].tolist()
    [30.0, 90.0]
    """
    cells = sweep.groupby(["dataset", "alpha", "beta"])[metric].mean()
    return cells.groupby("dataset").agg(["min", "max"]).mul(100).round(1)


# ------------------------------------------------------------------ notebook 01's figures (each returns the figure;
# the notebook saves it through save_figure and shows it)
#: the loss terms of DDMC's history that notebook 01's convergence figure draws
CURVE_TERMS = ("L_DDC", "kl_dominant", "kl_others", "club", "contrast", "mi_assign", "uniform", "objective")


def ablation_bars(abl_summary: pd.DataFrame, datasets, *, metrics=("acc", "nmi")):
    """One panel per metric: each ablation variant's mean ± std over seeds (%) per data set, the variants'
    legend above the panels (it covers no bar)."""
    import matplotlib.pyplot as plt
    import numpy as np

    datasets = list(datasets)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4.0), sharey=True, squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, v in enumerate(VARIANTS):
            s = abl_summary[abl_summary.variant == v].set_index("dataset").reindex(datasets)
            ax.bar(np.arange(len(datasets)) + i * 0.2, 100 * s[f"{metric}_mean"], 0.2,
                   yerr=100 * s[f"{metric}_std"], label=v, capsize=2)
        ax.set_xticks(np.arange(len(datasets)) + 0.3, datasets)
        ax.set_title(f"ablation — {metric.upper()} (%)")
        ax.set_xlabel("data set")
    axes[0][0].set_ylabel("score (%), mean ± std over seeds")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="upper center", ncol=len(VARIANTS), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig


def alpha_beta_heatmaps(sweep: pd.DataFrame, datasets, *, metric: str = "acc"):
    """One heatmap per data set of the α × β grid: each cell's mean ``metric`` over seeds with ± its std (%), dark
    text on the bright (high) cells and white on the dark ones."""
    import matplotlib.pyplot as plt
    import numpy as np

    datasets = list(datasets)
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.2), squeeze=False)
    for ax, name in zip(axes[0], datasets):
        cells = sweep[sweep.dataset == name].groupby(["alpha", "beta"])[metric].agg(["mean", "std"]).mul(100)
        mean, std = cells["mean"].unstack(), cells["std"].unstack().fillna(0.0)
        im = ax.imshow(mean.values, cmap="viridis", origin="lower")
        mid = (np.nanmin(mean.values) + np.nanmax(mean.values)) / 2
        for (i, j), v in np.ndenumerate(mean.values):
            ax.text(j, i, f"{v:.0f}\n±{std.values[i, j]:.0f}", ha="center", va="center",
                    color="k" if v > mid else "w", fontsize=7)
        cbar = fig.colorbar(im, ax=ax, label=f"mean {metric.upper()} over seeds")
        cbar.ax.set_xlabel("%", fontsize=8)  # the unit under the bar
        ax.set_xticks(range(len(mean.columns)), [f"{v:g}" for v in mean.columns])
        ax.set_yticks(range(len(mean.index)), [f"{v:g}" for v in mean.index])
        ax.set_xlabel("β (cluster-level weight)")
        ax.set_ylabel("α (feature-level weight)")
        ax.set_title(f"{name}: {metric.upper()} (%), mean ± std over {sweep.seed.nunique()} seeds")
        ax.grid(False)
    return fig


def strategy_bars(ef_summary: pd.DataFrame, datasets):
    """Enhancement beside fusion: mean ± std ACC over seeds (%) per data set, the legend above the bars."""
    import matplotlib.pyplot as plt
    import numpy as np

    datasets = list(datasets)
    fig, ax = plt.subplots(figsize=(6, 3.3))
    for i, strategy in enumerate(STRATEGIES):
        s = ef_summary[ef_summary.strategy == strategy].set_index("dataset").reindex(datasets)
        ax.bar(np.arange(len(datasets)) + 0.4 * i, 100 * s.acc_mean, 0.4, yerr=100 * s.acc_std, label=strategy,
               capsize=2)
    ax.set_xticks(np.arange(len(datasets)) + 0.2, datasets)
    ax.set_ylabel("ACC (%), mean ± std over seeds")
    ax.set_xlabel("data set")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, 1.18), ncol=2, frameon=False)
    return fig


def convergence_figure(curves: dict, *, terms=CURVE_TERMS):
    """One row per data set of :meth:`DDMCStudy.curves` (fitted models with a per-epoch ``history_``): the loss
    ``terms`` per epoch on the left, the logged ACC/NMI (%) on the right."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(curves), 2, figsize=(12, 3.4 * len(curves)), squeeze=False)
    for row, (name, model) in zip(axes, curves.items()):
        h = pd.DataFrame(model.history_)
        for t in terms:
            row[0].plot(h.epoch, h[t], label=t)
        row[0].set_title(f"{name}: loss terms per epoch")
        row[0].set_xlabel("epoch")
        row[0].set_ylabel("loss term (value per epoch)")
        row[0].legend(fontsize=7, ncol=2)
        row[1].plot(h.epoch, 100 * h.acc, label="ACC")
        row[1].plot(h.epoch, 100 * h.nmi, label="NMI")
        row[1].set_title(f"{name}: ACC / NMI (%) per epoch")
        row[1].set_xlabel("epoch")
        row[1].set_ylabel("score (%)")
        row[1].legend()
    fig.tight_layout()
    return fig


def tsne_epochs(curves: dict, labels: dict, epochs, *, seed: int = 0, max_points: int | None = 2000):
    """One row per data set of :meth:`DDMCStudy.curves`: the t-SNE of ``E`` at each of ``epochs`` (the models'
    ``snapshots_``), coloured by ``labels[name]`` (the true class), with one class-colour legend per row (right of
    its last panel)."""
    import matplotlib.pyplot as plt

    from mmc_lib.plotting import scatter_embedding, tsne

    epochs = list(epochs)
    fig, axes = plt.subplots(len(curves), len(epochs), figsize=(3.2 * len(epochs), 3.2 * len(curves)),
                             squeeze=False)
    for row, (name, model) in zip(axes, curves.items()):
        for ax, epoch in zip(row, epochs):
            emb, idx = tsne(model.snapshots_[epoch], seed=seed, max_points=max_points)
            scatter_embedding(ax, emb, labels[name][idx], title=f"{name}, epoch {epoch}",
                              legend="class" if epoch == epochs[-1] else None)
    fig.tight_layout()
    return fig


def dominant_view_figure(views_table: pd.DataFrame):
    """DDMC's ACC with each view forced dominant against that view's silhouette, one line per data set joining its
    views from the lowest to the highest silhouette (never by view index: views have no order)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, g in views_table.groupby("dataset"):
        g = g.sort_values("silhouette")
        ax.plot(g.silhouette, 100 * g.ddmc_acc, "o-", label=name, ms=6, lw=0.6, alpha=0.8)
    ax.set_xlabel("silhouette of the view's k-means partition")
    ax.set_ylabel("DDMC ACC with that view dominant (%)")
    ax.legend(fontsize=8)
    return fig
