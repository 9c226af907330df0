"""Notebook 02 (DM2C): data protocol, one cached run per (dataset, seed, setting), the grids, rows and tables.

Protocol
--------
* Every paired set is made mixed-modal with :func:`mmc_lib.data.mixed_modal`: each pair
  keeps one side (A with probability ``fraction_a``, chosen with the run's seed).
* Wikipedia has the standard train/test split (:func:`mmc_lib.data.wikipedia_split`): models
  are fitted on the 2173 train rows (mixed-modal) and scored on the 693 test rows (mixed-modal
  with the same seed), which they never saw: DM2C's test samples are encoded, translated and
  assigned to the nearest k-means centre fitted on the training rows, the baselines' likewise.
  Training-split scores are stored too (``split="train"``).
* CUB and MNIST-USPS have no split: the models cluster all rows and are scored on them.
* The paper's own data (``wikipedia-dm2c``, 2048-d; ``nus-wide-10k``, 1000-d; ``make data`` fetches them) come
  mixed-modal already: the authors' files fix each sample's modality and the train/test split
  (:func:`mmc_lib.data.dm2c_split`), so the models are fitted on the train file and scored on the test file, as
  Wikipedia above; only ``fraction_a=0.5`` (the authors' assignment) runs on them.
* Baselines cannot put the two modalities in one input space without translation, so
  each baseline gets each sample's OWN-modality latent from the same pretrained
  autoencoders DM2C starts from (stacked: A rows, then B rows).

Budgets (seeds, caps, epochs) come from ``budget("02_dm2c", profile)``; the paper's numbers from
``claims/dm2c.yaml``; verdicts from :func:`mmc_lib.audit.grade_notebook`.

>>> paper_values("wikipedia", "acc")["DM2C"]
0.272
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from mmc_lib.audit import claims_dir, load_ledger
from mmc_lib.data import (MixedModalDataset, MultiViewDataset, available, dm2c_split, load, mixed_modal, subsample,
                          wikipedia_split)
from mmc_lib.data.sources import fetch_hint
from mmc_lib.methods.deep_multiview.deep_baselines import DCN, DKM, IDEC, IMSAT
from mmc_lib.methods.crossmodal.dm2c import DM2C, diverged
from mmc_lib.metrics import clustering_report
from mmc_lib.results import mean_std
from mmc_lib.studies import budgets
from mmc_lib.studies.budgets import DM2CBudget
from mmc_lib.studies.grid import grid, run_grid, study_cache

STUDY = "02_dm2c"
DATASETS = ("wikipedia", "cub", "mnist-usps")
PAPER_DATA = ("wikipedia-dm2c", "nus-wide-10k")  # the paper's own mixed-modal files, run when present (make data)
METRICS = ["acc", "ari", "nmi", "f_score", "purity"]
BASELINES = ("k-means", "DKM", "DCN", "IDEC", "IMSAT")
METHOD_ORDER = (*BASELINES, "DM2C", "DM2C-no_translation", "DM2C-authors", "DM2C (authors' code)")
ABLATIONS = {"no_cycle": {"lambda_cyc": 0.0}, "no_adv": {"lambda_adv": 0.0}}  # "no_translation": see dm2c_run
ABLATION_DATASETS = ("wikipedia", "cub")  # MNIST-USPS left out for the CPU budget
ABLATION_SETTINGS = ("ablation:full", "ablation:no_cycle", "ablation:no_adv", "ablation:no_translation")
DESIGNS = ("ours", "authors")  # our DM2C (the default) and DM2CConfig.authors()
AUTHORS_CODE = "results/external/dm2c_authors_code.json"  # the authors' code run on our split, outside the project

NOTES = {
    "wikipedia": "substituted: 128-d SIFT / 10-d LDA features instead of the paper's 2048-d; fitted on the "
                 "train split (2173 rows, fewer under a profile's max_samples), scored on the 693-row test split",
    "cub": "not in the paper: CUB 10-class (1024-d GoogLeNet image / 300-d doc2vec text), all 600 rows",
    "mnist-usps": "not in the paper: MNIST vs USPS digits as the two modalities",
    "wikipedia-dm2c": "the paper's data: DM2C's 2048-d Wikipedia features, the authors' modality of every sample and "
                      "their train/test split; fitted on the train file (fewer rows under a profile's max_samples), "
                      "scored on the test file",
    "nus-wide-10k": "the paper's data: DM2C's 1000-d NUS-WIDE-10K features, the authors' modality of every sample "
                    "and their train/test split; fitted on the train file (fewer rows under a profile's "
                    "max_samples), scored on the test file",
}


# ---------------------------------------------------------------------- data
def paired_splits(dataset: str, max_samples: int | None = None,
                  data_dir: str | None = None) -> tuple[MultiViewDataset, MultiViewDataset | None]:
    """(fit set, held-out set or None) for ``dataset``; the fit set is a stratified subset of ``max_samples``
    rows (seed 0)."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown DM2C dataset {dataset!r}; known: {DATASETS}")
    if dataset == "wikipedia":
        train, test = wikipedia_split(data_dir, scale=True)
        return subsample(train, max_samples, seed=0), test
    return load(dataset, data_dir=data_dir, max_samples=max_samples), None


def cap_mixed(mix: MixedModalDataset, max_samples: int | None, *, seed: int = 0) -> MixedModalDataset:
    """A class-stratified subset of at most ``max_samples`` of ``mix``'s samples (both modalities pooled)."""
    if max_samples is None or mix.n_a + mix.n_b <= max_samples:
        return mix
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(mix.n_a + mix.n_b), train_size=max_samples, stratify=mix.labels,
                               random_state=seed)
    a, b = np.sort(keep[keep < mix.n_a]), np.sort(keep[keep >= mix.n_a] - mix.n_a)
    return replace(mix, x_a=mix.x_a[a], x_b=mix.x_b[b], y_a=mix.y_a[a], y_b=mix.y_b[b], index_a=mix.index_a[a],
                   index_b=mix.index_b[b])


def mixed_splits(dataset: str, *, seed: int, fraction_a: float, budget: DM2CBudget,
                 data_dir=None) -> tuple[MixedModalDataset, MixedModalDataset | None]:
    """The run's mixed-modal fit set and (Wikipedia, the paper's own files) held-out set."""
    if dataset in PAPER_DATA:
        if fraction_a != 0.5:
            raise ValueError(f"{dataset}: the authors' files fix every sample's modality; fraction_a={fraction_a} "
                             "cannot be run on them")
        train, test = dm2c_split(dataset, data_dir)
        return cap_mixed(train, budget.cap(dataset)), test
    fit, held_out = paired_splits(dataset, budget.cap(dataset), data_dir)
    mix = mixed_modal(fit, seed=seed, fraction_a=fraction_a)
    return mix, (mixed_modal(held_out, seed=seed, fraction_a=fraction_a) if held_out is not None else None)


def present_datasets(data_dir=None) -> list[str]:
    """The study's data sets whose files are on this machine (the paper's own after the stand-ins)."""
    return [d for d in (*DATASETS, *PAPER_DATA) if available(d, data_dir=data_dir)]


def data_table(b: DM2CBudget, *, seed: int, data_dir=None) -> pd.DataFrame:
    """One row per data set (the paper's absent ones too): modalities, dims, k, fitted and scored rows."""
    rows = []
    for name in (*DATASETS, *PAPER_DATA):
        if not available(name, data_dir=data_dir):
            rows.append({"dataset": name, "available": False, "to add it": fetch_hint(name)})
            continue
        fit, held = mixed_splits(name, seed=seed, fraction_a=0.5, budget=b, data_dir=data_dir)
        rows.append({"dataset": name, "available": True, "modalities": " / ".join(fit.modality_names),
                     "dims": f"{fit.x_a.shape[1]} / {fit.x_b.shape[1]}", "k": fit.n_clusters,
                     "fit n_a": fit.n_a, "fit n_b": fit.n_b,
                     "eval n_a": held.n_a if held else fit.n_a, "eval n_b": held.n_b if held else fit.n_b,
                     "scored on": "test split" if held else "all fitted rows"})
    return pd.DataFrame(rows)


def schedule_table(b: DM2CBudget) -> pd.DataFrame:
    """DM2C's schedule (one row per setting) and the baselines' schedule in one cell."""
    return pd.Series({**asdict(b.dm2c), "baselines": str(asdict(b.deep))}, name="value").to_frame()


# ---------------------------------------------------------------------- one run
def _scores(prefix: str, y, pred) -> dict:
    rep = clustering_report(y, pred)
    return {f"{prefix}|{m}": rep[m] for m in METRICS}


def _baseline(name: str, k: int, seed: int, b: DM2CBudget):
    if name == "k-means":
        return KMeans(k, n_init=b.kmeans_n_init, random_state=seed)
    cls = {"DKM": DKM, "DCN": DCN, "IDEC": IDEC, "IMSAT": IMSAT}[name]
    return cls(k, config=b.deep, seed=seed)


def dm2c_run(dataset: str, seed: int, *, profile: str, fraction_a: float = 0.5, variant: str = "full",
             baselines=True, data_dir: str | None = None, design: str = "ours") -> dict:
    """One DM2C fit (plus, for ``variant="full"``, the no-translation read-out and the baselines).

    ``design="authors"`` fits :meth:`DM2CConfig.authors` (the official code's architecture and schedule, at the
    budget's scale) and reports it as ``DM2C-authors`` (no baselines, no ablations).

    ``baselines``: True (all of :data:`BASELINES`), False, or a list of names.
    Returns a flat dict: ``n_a``, ``n_b``, ``diverged``, ``error``, final losses, and scores
    keyed ``"<method>|<split>|<metric>"`` (split ``eval`` = what the tables report: the
    Wikipedia test split, all rows elsewhere; ``train`` = the fit rows).
    """
    if variant != "full" and variant not in ABLATIONS:
        raise ValueError(f"unknown variant {variant!r}; known: {['full', *ABLATIONS]}")
    if design not in DESIGNS:
        raise ValueError(f"unknown design {design!r}; known: {DESIGNS}")
    b = budgets.budget(STUDY, profile)
    mix, held = mixed_splits(dataset, seed=seed, fraction_a=fraction_a, budget=b, data_dir=data_dir)
    out: dict = {"n_a": mix.n_a, "n_b": mix.n_b, "diverged": False, "error": ""}
    name = "DM2C" if variant == "full" else f"DM2C-{variant}"
    config = b.dm2c
    if design == "authors":
        name, config, baselines = "DM2C-authors", b.dm2c_authors, False
        if variant != "full" or config is None:
            raise ValueError("the authors' design runs only the full model, in a budget that defines it")
    model = DM2C(mix.n_clusters, config=config, seed=seed, **ABLATIONS.get(variant, {}))
    try:
        model.fit(mix.x_a, mix.x_b)
        if diverged(model.history_):
            raise FloatingPointError("reconstruction loss exploded during joint training")
    except FloatingPointError as exc:  # reported, never kept: the run's scores stay missing
        return {**out, "diverged": True, "error": f"{name}: {exc}"}
    out.update({f"final_{k}": v for k, v in model.history_[-1].items() if k != "epoch"})
    readouts = {name: dict(unify="a")}
    if variant == "full" and design == "ours":
        readouts["DM2C-no_translation"] = dict(unify="none")
    for method, kw in readouts.items():
        emb = model.transform(mix.x_a, mix.x_b, **kw)
        km = model.kmeans_ if method == name else KMeans(mix.n_clusters, n_init=b.dm2c.kmeans_n_init,
                                                         random_state=seed).fit(emb)
        out.update(_scores(f"{method}|train", mix.labels, km.labels_))
        test_pred = km.predict(model.transform(held.x_a, held.x_b, **kw)) if held is not None else km.labels_
        out.update(_scores(f"{method}|eval", (held or mix).labels, test_pred))
    names = BASELINES if baselines is True else tuple(baselines or ())
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; known: {BASELINES}")
    if variant == "full" and names:
        out.update(_run_baselines(model, mix, held, seed, b, names))
    return out


def _run_baselines(model: DM2C, mix: MixedModalDataset, held, seed: int, b: DM2CBudget,
                   names=BASELINES) -> dict:
    """Baselines on own-modality latents of the pretrained autoencoders (no translation possible)."""
    out = {}
    x_fit = model.transform(mix.x_a, mix.x_b, unify="none", pretrained=True)  # (n_a + n_b, L)
    x_eval = model.transform(held.x_a, held.x_b, unify="none", pretrained=True) if held is not None else x_fit
    for name in names:
        est = _baseline(name, mix.n_clusters, seed, b)
        try:
            train_pred = est.fit_predict(x_fit)
        except FloatingPointError as exc:
            out[f"{name}|diverged"] = True
            out["error"] = (out.get("error", "") + f" {name}: {exc}").strip()
            continue
        out.update(_scores(f"{name}|train", mix.labels, train_pred))
        out.update(_scores(f"{name}|eval", (held or mix).labels, est.predict(x_eval)))
    return out


# ---------------------------------------------------------------------- the grids
def first_present(datasets: list[str], preferred: str = "wikipedia") -> str:
    """``preferred`` when present, else the first present paired data set (convergence and fraction sweep: the
    paper's own files fix the fraction, so they come last)."""
    if preferred in datasets:
        return preferred
    return next((d for d in datasets if d not in PAPER_DATA), datasets[0])


def study_grid(kind: str, b: DM2CBudget, *, seed: int, datasets: list[str]) -> list[dict]:
    """The runs of one grid: ``main`` (every data set and seed), ``ablation`` (Wikipedia and CUB, the ablation
    seeds, each variant) or ``fraction`` (one data set, the fraction seeds, each fraction of modality A)."""
    if kind == "main":
        return grid(dataset=datasets, seed=b.seeds(seed), fraction_a=[0.5], variant=["full"], baselines=[True])
    if kind == "ablation":
        return grid(dataset=[d for d in ABLATION_DATASETS if d in datasets], seed=b.ablation_seeds(seed),
                    fraction_a=[0.5], variant=list(ABLATIONS), baselines=[False])
    if kind == "fraction":
        return grid(dataset=[first_present(datasets)], seed=b.fraction_seeds(seed), fraction_a=list(b.fractions),
                    variant=["full"], baselines=[True])
    if kind == "authors":
        return [dict(dataset=d, seed=s, fraction_a=0.5, variant="full", baselines=False, design="authors")
                for d in datasets for s in b.authors_design_seeds(d, seed)]
    raise ValueError(f"unknown grid {kind!r}; known: main, ablation, fraction, authors")


def runs(kind: str, b: DM2CBudget, *, seed: int, datasets: list[str], data_dir=None, out_dir=None,
         n_jobs: int = 1) -> pd.DataFrame:
    """Run (or load from the study's cache) the ``kind`` grid: one row per run."""
    fn = partial(dm2c_run, profile=b.profile, data_dir=data_dir)
    return run_grid(fn, study_grid(kind, b, seed=seed, datasets=datasets),
                    cache_dir=study_cache(STUDY, b.profile, out_dir), desc=kind, n_jobs=n_jobs)


def run_report(df: pd.DataFrame) -> str:
    """How many runs, how many diverged, and each reported error."""
    lines = [f"{len(df)} runs; diverged: {int(df['diverged'].sum())}"]
    lines += [f"  reported: {err}" for err in df.loc[df["error"].astype(bool), "error"]]
    return "\n".join(lines)


def runs_overview(df: pd.DataFrame) -> pd.DataFrame:
    """Per run: modality counts, divergence, final generator loss and Wasserstein estimate."""
    return df[[c for c in ["dataset", "seed", "n_a", "n_b", "diverged", "final_g_total", "final_wasserstein"]
               if c in df]]


# ---------------------------------------------------------------------- rows
def long_scores(df: pd.DataFrame, *, split: str = "eval") -> pd.DataFrame:
    """Runs (one row each, from ``run_grid``) → one row per (run, method, metric) for ``split``."""
    id_cols = [c for c in ("dataset", "seed", "fraction_a", "variant") if c in df.columns]
    records = []
    for _, run in df.iterrows():
        for col, value in run.items():
            parts = str(col).split("|")
            if len(parts) == 3 and parts[1] == split and pd.notna(value):
                records.append({**{c: run[c] for c in id_cols}, "method": parts[0], "metric": parts[2],
                                "value": float(value)})
    return pd.DataFrame(records)


def summary_rows(long: pd.DataFrame, *, setting: str, by=("method", "dataset"), note_extra: str = "") -> list[dict]:
    """Results-store rows (mean, std over seeds, n_seeds) with the dataset's protocol note."""
    rows = []
    for keys, grp in long.groupby([*by, "metric"], sort=False):
        rec = dict(zip([*by, "metric"], keys))
        note = NOTES.get(rec.get("dataset", ""), "")
        rows.append({"method": rec["method"], "dataset": rec["dataset"], "metric": rec["metric"],
                     "mean": float(grp["value"].mean()), "std": float(np.std(grp["value"])),
                     "n_seeds": int(grp["value"].size), "setting": setting,
                     "note": (note + note_extra).strip("; ")})
    return rows


def main_rows(main: pd.DataFrame) -> list[dict]:
    """The main tables' rows (setting ``main``): every method on the eval split of every data set."""
    return summary_rows(long_scores(main, split="eval"), setting="main")


def train_split_rows(main: pd.DataFrame) -> list[dict]:
    """Wikipedia's training-split scores (setting ``main:train_split``); elsewhere train == eval."""
    rows = summary_rows(long_scores(main, split="train"), setting="main:train_split")
    return [r for r in rows if r["dataset"] == "wikipedia"]


def ablation_rows(ablation: pd.DataFrame, main: pd.DataFrame, seeds) -> list[dict]:
    """Ablation rows: the ablation runs plus, from the main runs of the same seeds, the full model
    (``ablation:full``) and its no-translation read-out (``ablation:no_translation``)."""
    main_long = long_scores(main, split="eval")
    datasets = set(ablation["dataset"])
    same = main_long[main_long["seed"].isin(list(seeds)) & main_long["dataset"].isin(datasets)
                     & main_long["method"].isin(["DM2C", "DM2C-no_translation"])]
    rows = []
    for method, grp in pd.concat([long_scores(ablation, split="eval"), same]).groupby("method"):
        setting = "ablation:full" if method == "DM2C" else "ablation:" + method.removeprefix("DM2C-")
        rows += summary_rows(grp, setting=setting)
    return rows


def fraction_rows(fraction: pd.DataFrame) -> list[dict]:
    """One setting ``fraction:<f>`` per fraction of samples that keep modality A."""
    rows = []
    for fa, grp in long_scores(fraction, split="eval").groupby("fraction_a"):
        rows += summary_rows(grp, setting=f"fraction:{fa:g}", note_extra=f"; fraction of image samples {fa:g}")
    return rows


# ---------------------------------------------------------------------- tables
def _cells(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    return frame.assign(cell=[mean_std(m, s) for m, s in zip(frame["mean"], frame["std"])])


def score_table(rows: list[dict], dataset: str) -> pd.DataFrame:
    """Methods × metrics of ``dataset``, as ``mean ± std`` in percent."""
    frame = _cells([r for r in rows if r["dataset"] == dataset])
    methods = [m for m in METHOD_ORDER if m in set(frame["method"])]
    return frame.pivot(index="method", columns="metric", values="cell").reindex(methods)[METRICS]


def ablation_table(rows: list[dict]) -> pd.DataFrame:
    """(data set, ablation setting) × metrics, as ``mean ± std`` in percent."""
    return _cells(rows).pivot_table(index=["dataset", "setting"], columns="metric", values="cell",
                                    aggfunc="first")[METRICS]


def fraction_table(rows: list[dict]) -> pd.DataFrame:
    """Method × (metric, fraction setting): mean ACC and NMI."""
    frame = pd.DataFrame(rows).query("metric in ['acc', 'nmi']")
    return frame.pivot_table(index="method", columns=["metric", "setting"], values="mean").round(3)


# ---------------------------------------------------------------------- the paper (from the ledger)
def _ledger():
    return load_ledger(claims_dir() / "dm2c.yaml")


#: our data set → the one whose paper numbers it is compared with, where the ledger does not list it itself
PAPER_NUMBERS_OF = {"wikipedia-dm2c": "wikipedia"}


def paper_values(dataset: str = "wikipedia", metric: str | None = None) -> dict:
    """The paper's numbers for our ``dataset`` (its ledger entry): ``{method: value}`` for one ``metric``,
    else ``{(method, metric): (value, scale)}`` in the ledger's order."""
    ledger = _ledger()
    dataset = PAPER_NUMBERS_OF.get(dataset, dataset)
    out = {}
    for c in ledger.claims:
        if c.kind != "value" or dataset not in ledger.datasets[c.dataset].ours:
            continue
        method = ledger.methods.get(c.method) or c.method
        if metric is None:
            out[(method, c.metric)] = (c.value, c.scale)
        elif c.metric == metric:
            out[method] = c.value
    return out


def paper_comparison(rows: list[dict], dataset: str = "wikipedia", paper_dataset: str | None = None) -> pd.DataFrame:
    """Paper value (from ``claims/dm2c.yaml``), ours (mean ± std) and ours − paper for each method × metric."""
    ours = {(r["method"], r["metric"]): r for r in rows if r["dataset"] == dataset and r["setting"] == "main"}
    table = []
    for (method, metric), (value, scale) in paper_values(paper_dataset or dataset).items():
        r = ours.get((method, metric))
        table.append({"method": method, "metric": metric, "paper": value,
                      "ours": mean_std(r["mean"], r["std"], scale=scale) if r else "—",
                      "ours - paper": round(r["mean"] - value, 4) if r else np.nan})
    return pd.DataFrame(table)


def paper_gaps(comparison: pd.DataFrame) -> pd.DataFrame:
    """Method × metric of ``ours - paper`` (a :func:`paper_comparison` table)."""
    methods = [m for m in METHOD_ORDER if m in set(comparison["method"])]
    return comparison.pivot(index="method", columns="metric", values="ours - paper").reindex(methods)[METRICS]


# ---------------------------------------------------------------------- convergence and the unified space
@dataclass
class Convergence:
    """One monitored DM2C fit on a training split, and the main run it must equal."""

    dataset: str
    mix: MixedModalDataset
    model: DM2C
    acc: float  # this fit's training-split ACC
    main_acc: float  # the main run's training-split ACC, same data set and seed

    @property
    def history(self) -> pd.DataFrame:
        """Joint epochs (from 1): loss terms, plus ``acc``/``nmi`` on monitored epochs."""
        return pd.DataFrame(self.model.history_)

    @property
    def pretrain(self) -> pd.DataFrame:
        """Pretraining epochs (from 1): reconstruction losses."""
        return pd.DataFrame(self.model.pretrain_history_)

    def check(self) -> str:
        return (f"train-split ACC of this fit {self.acc:.4f}; main run of the same seed {self.main_acc:.4f}; "
                f"identical: {np.isclose(self.acc, self.main_acc)}")

    def modality(self) -> np.ndarray:
        """Each unified row's modality name (A rows, then B rows)."""
        names = self.mix.modality_names
        return np.array([names[0]] * self.mix.n_a + [names[1]] * self.mix.n_b)

    def panels(self) -> dict[str, np.ndarray]:
        """The unified space before (pretrained autoencoders, untrained generators) and after joint training."""
        return {"before joint training": self.model.transform(self.mix.x_a, self.mix.x_b, pretrained=True),
                "after joint training": self.model.embedding_}


def convergence_fit(b: DM2CBudget, main: pd.DataFrame, *, seed: int, dataset: str, device: str = "cpu",
                    data_dir=None) -> Convergence:
    """Refit the main run of ``seed`` on ``dataset`` with labels passed only to log k-means ACC/NMI every
    ``b.monitor_every`` epochs (monitoring leaves the training random streams alone, so the fit is the same)."""
    mix, _ = mixed_splits(dataset, seed=seed, fraction_a=0.5, budget=b, data_dir=data_dir)
    cfg = replace(b.dm2c, monitor_every=b.monitor_every)
    model = DM2C(mix.n_clusters, config=cfg, seed=seed, device=device).fit(mix.x_a, mix.x_b, y=mix.labels)
    acc = clustering_report(mix.labels, model.labels_)["acc"]
    main_acc = main.query("dataset == @dataset and seed == @seed")["DM2C|train|acc"].iloc[0]
    return Convergence(dataset, mix, model, acc, main_acc)


# ---------------------------------------------------------------------- results store
def extra(b: DM2CBudget, data: pd.DataFrame, grids: dict[str, pd.DataFrame], wall_seconds: float) -> dict:
    """The results file's ``extra``: data table, diverged runs, schedules, wall time, cached runs."""
    return {"data": data.to_dict(orient="records"),
            "diverged_runs": [e for df in grids.values() for e in df.loc[df["diverged"], "error"]],
            "schedule": asdict(b.dm2c), "baseline_schedule": asdict(b.deep),
            "notebook_wall_seconds": round(wall_seconds, 1),  # this execution; cached runs are not re-timed
            "runs_in_cache": sum(len(df) for df in grids.values())}


# ---------------------------------------------------------------------- tables that inform (ranks, best in bold)
def score_table_ranked(rows: list[dict], dataset: str):
    """:func:`score_table` with each method's rank per metric in brackets and the best mean in bold (a Styler)."""
    from mmc_lib.studies.data_and_baselines import ranked_table

    frame = pd.DataFrame([r for r in rows if r["dataset"] == dataset])
    methods = [m for m in METHOD_ORDER if m in set(frame["method"])]
    scores = 100 * frame.pivot(index="method", columns="metric", values="mean").reindex(methods)[METRICS]
    return ranked_table(scores, score_table(rows, dataset))


def paper_vs_ours(rows: list[dict], dataset: str = "wikipedia", *, substituted: bool = True):
    """Paper / ours / ours − paper in percent for every method × metric the paper reports (a Styler).

    The best paper value and the best of ours in each metric are bold; with ``substituted`` every "ours" cell is
    marked ``ˢ`` (our data differ from the paper's, so the comparison is of orderings, not digits).
    """
    cmp = paper_comparison(rows, dataset)
    ours = {(r["method"], r["metric"]): r for r in rows if r["dataset"] == dataset and r["setting"] == "main"}
    cmp["paper %"] = 100 * cmp["paper"]
    cmp["ours %"] = [100 * ours[(m, k)]["mean"] if (m, k) in ours else np.nan for m, k in zip(cmp.method, cmp.metric)]
    cmp["diff"] = cmp["ours %"] - cmp["paper %"]
    methods = [m for m in METHOD_ORDER if m in set(cmp["method"])]
    wide = cmp.pivot(index="method", columns="metric", values=["paper %", "ours %", "diff"]).reindex(methods)
    wide = wide.swaplevel(axis=1).reindex(columns=pd.MultiIndex.from_product(
        [[m for m in METRICS if m in set(cmp.metric)], ["paper %", "ours %", "diff"]]))
    mark = "ˢ" if substituted else ""
    text = wide.copy().astype(object)
    for col in wide.columns:
        if col[1] == "ours %":
            text[col] = [mean_std(ours[(m, col[0])]["mean"], ours[(m, col[0])]["std"]) + mark
                         if (m, col[0]) in ours else "—" for m in wide.index]
        else:
            text[col] = [f"{v:+.1f}" if col[1] == "diff" else f"{v:.1f}" if np.isfinite(v) else "—"
                         for v in wide[col]]
    best = pd.DataFrame(False, index=wide.index, columns=wide.columns)
    for col in wide.columns:
        if col[1] != "diff":
            best[col] = wide[col].eq(wide[col].max())
    styler = text.style.apply(lambda _: best.replace({True: "font-weight: bold", False: ""}), axis=None)
    if substituted:
        styler = styler.set_caption("ˢ = substituted data (our features and split differ from the paper's); "
                                    "bold = best in the column")
    return styler


# ---------------------------------------------------------------------- faithfulness: the authors' code on our split
def authors_code(path: str | Path | None = None) -> dict | None:
    """The authors' code (jiangyangby/DM2C @ 72230ba) run on our Wikipedia protocol OUTSIDE the project (its code is
    not committed): per-seed test scores, the patch list and how it was run — or None where the file is absent
    (:func:`mmc_lib.studies.faithfulness.load_external`, shared with notebook 01's CoMVC / SiMVC comparison)."""
    from mmc_lib.studies.faithfulness import load_external

    return load_external(path or AUTHORS_CODE)


def authors_code_rows(doc: dict | None) -> list[dict]:
    """Result rows (setting ``main``, Wikipedia test split) of the authors' code, stated as measured outside."""
    if not doc:
        return []
    seeds = pd.DataFrame(doc["per_seed"])
    note = (f"the authors' code ({doc['source']}) run outside the project on our split; patches: "
            f"{AUTHORS_CODE}")
    return [{"method": "DM2C (authors' code)", "dataset": "wikipedia", "metric": m, "mean": float(seeds[m].mean()),
             "std": float(np.std(seeds[m])), "n_seeds": int(len(seeds)), "setting": "main", "note": note}
            for m in ("acc", "nmi", "ari", "purity")]


def faithfulness_table(main: pd.DataFrame, authors: pd.DataFrame, doc: dict | None) -> pd.DataFrame:
    """Per seed, Wikipedia test split, percent: the authors' code, our DM2C (default) and our run of the authors'
    design, ACC / NMI / ARI / purity; a last row with mean ± std."""
    metrics = ("acc", "nmi", "ari", "purity")
    cols = {"DM2C": main, "DM2C-authors": authors}
    rows = []
    seeds = sorted(set(main[main.dataset == "wikipedia"].seed) | {r["seed"] for r in (doc or {}).get("per_seed", [])})
    for s in seeds:
        row = {"seed": s}
        code = next((r for r in (doc or {}).get("per_seed", []) if r["seed"] == s), None)
        row["authors' code"] = " / ".join(f"{100 * code[m]:.1f}" for m in metrics) if code else "—"
        for label, df in cols.items():
            hit = df[(df.dataset == "wikipedia") & (df.seed == s)]
            row[f"ours: {label}"] = " / ".join(f"{100 * hit[f'{label}|eval|{m}'].iloc[0]:.1f}" for m in metrics) \
                if len(hit) and f"{label}|eval|acc" in hit else "—"
        rows.append(row)
    summary = {"seed": "mean ± std"}
    if doc:
        per = pd.DataFrame(doc["per_seed"])
        summary["authors' code"] = " / ".join(mean_std(per[m].mean(), np.std(per[m])) for m in metrics)
    for label, df in cols.items():
        w = df[df.dataset == "wikipedia"]
        summary[f"ours: {label}"] = " / ".join(mean_std(w[f"{label}|eval|{m}"].mean(), np.std(w[f"{label}|eval|{m}"]))
                                               for m in metrics) if f"{label}|eval|acc" in w else "—"
    return pd.DataFrame(rows + [summary]).set_index("seed").fillna("—")


def graded_as(rows: list[dict], implementation: str) -> list[dict]:
    """``rows`` with ``implementation``'s Wikipedia rows standing in for DM2C's, so the grader can judge the paper's
    orderings with that implementation (e.g. the authors' own code) instead of ours."""
    keep = [r for r in rows if not (r["method"] == "DM2C" and r["dataset"] == "wikipedia")]
    swapped = [dict(r, method="DM2C") for r in rows if r["method"] == implementation and r["dataset"] == "wikipedia"]
    return [r for r in keep if r["dataset"] == "wikipedia" and r["method"] != implementation] + swapped


# ------------------------------------------------------------------ notebook 02's figures as calls
def bar_scores(long: pd.DataFrame, dataset: str, *, metrics=("acc", "nmi")) -> pd.DataFrame:
    """Mean and std over seeds of each (method, metric) on ``dataset`` from :func:`long_scores`, methods in
    :data:`METHOD_ORDER` — the numbers :func:`main_bars` draws.

    >>> long = pd.DataFrame({"dataset": ["w"] * 4, "method": ["DM2C", "DM2C", "k-means", "k-means"],
    ...                      "metric": ["acc"] * 4, "value": [0.4, 0.6, 0.3, 0.3]})
    >>> bar_scores(long, "w", metrics=("acc",)).round(3).to_dict("records")
    [{'method': 'k-means', 'metric': 'acc', 'mean': 0.3, 'std': 0.0}, {'method': 'DM2C', 'metric': 'acc', 'mean': 0.5, 'std': 0.141}]
    """
    sub = long[(long["dataset"] == dataset) & long["metric"].isin(list(metrics))]
    piv = sub.groupby(["method", "metric"])["value"].agg(["mean", "std"]).reset_index()
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    piv = piv[piv["method"].isin(order)]
    return piv.sort_values(["method", "metric"], key=lambda s: s.map(order) if s.name == "method" else s,
                           kind="stable").reset_index(drop=True)


def main_bars(long: pd.DataFrame, datasets, *, paper_acc: dict | None = None):
    """Notebook 02's main figure: per data set, ACC and NMI bars (mean ± std over seeds) of every method; on
    Wikipedia the paper's ACC (``paper_acc``, from the ledger) as crosses. Returns the figure."""
    import matplotlib.pyplot as plt

    datasets = list(datasets)
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.9), squeeze=False, sharey=True)
    for ax, d in zip(axes[0], datasets):
        piv = bar_scores(long, d)
        methods = list(dict.fromkeys(piv["method"]))
        for j, metric in enumerate(["acc", "nmi"]):
            p = piv[piv["metric"] == metric].set_index("method").reindex(methods)
            ax.bar(np.arange(len(methods)) + 0.4 * j, p["mean"], 0.4, yerr=p["std"], label=metric.upper())
        if d == "wikipedia" and paper_acc is not None:
            ax.scatter(np.arange(len(methods)), [paper_acc.get(m, np.nan) for m in methods], marker="x", color="k",
                       zorder=3, label="paper ACC")
        ax.set_xticks(np.arange(len(methods)) + 0.2, methods, rotation=45, ha="right")
        ax.set_title(d)
        ax.set_xlabel("method")
    axes[0][0].set_ylabel("score (fraction), mean ± std over seeds")
    handles = {label: h for ax in axes[0] for h, label in zip(*ax.get_legend_handles_labels())}
    fig.legend(handles.values(), handles.keys(), loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    return fig


def ablation_bars(abl_rows: list[dict], datasets):
    """Notebook 02's ablation figure: per data set, ACC and NMI (mean ± std over seeds) of each variant in
    :data:`ABLATION_SETTINGS` from :func:`ablation_rows`. Returns the figure."""
    import matplotlib.pyplot as plt

    datasets, variants = list(datasets), list(ABLATION_SETTINGS)
    rows = pd.DataFrame(abl_rows)
    fig, axes = plt.subplots(1, len(datasets), figsize=(4.5 * len(datasets), 3.7), squeeze=False, sharey=True)
    for ax, d in zip(axes[0], datasets):
        t = rows[rows["dataset"] == d]
        for j, metric in enumerate(["acc", "nmi"]):
            p = t[t["metric"] == metric].set_index("setting").reindex(variants)
            ax.bar(np.arange(len(variants)) + 0.4 * j, p["mean"], 0.4, yerr=p["std"], label=metric.upper())
        ax.set_xticks(np.arange(len(variants)) + 0.2, [v.split(":")[1] for v in variants], rotation=30)
        ax.set_title(f"{d}: ablation")
        ax.set_xlabel("variant")
    axes[0][0].set_ylabel("score (fraction), mean ± std over seeds")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="upper center", ncol=2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    return fig
