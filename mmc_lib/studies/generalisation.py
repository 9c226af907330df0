"""Notebook 06: which multi-view method to use on your data — every affordable method on eleven real sets, with
average ranks, a Friedman test, the Nemenyi critical difference, a Bayesian signed-rank comparison, the cost of each
fit and a "which method when" summary drawn from the numbers.

The notebook's steps as calls: :class:`GeneralisationStudy` (which sets are here, which runs the budget asks for, run
them through the cached grid) → :func:`summarize_runs` → :func:`score_matrix` → :func:`average_ranks` /
:func:`rank_test` / :func:`bayesian_signed_rank` → :func:`cost_table` / :func:`pareto_front` →
:func:`which_method_when` → :func:`generalisation_findings` → :func:`result_rows`.

Every run is one of the project's existing run functions with its defaults (:func:`~mmc_lib.studies.data_and_baselines.
classical_run`, :func:`~mmc_lib.studies.ddmc.competitor_run`, :func:`~mmc_lib.studies.ddmc.run_deep`); nothing is
chosen by labels. The statistics come from ``autorank`` (Friedman, Nemenyi, the CD diagram; Demšar 2006) and
``baycomp`` (Bayesian signed-rank test; Benavoli et al. 2017).

>>> scores = pd.DataFrame({"A": [0.9, 0.8], "B": [0.5, 0.8]}, index=["d1", "d2"])
>>> average_ranks(scores).to_dict()
{'A': 1.25, 'B': 1.75}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mmc_lib.data import REGISTRY, available, load
from mmc_lib.studies.budgets import GENERALISATION_DATASETS, GeneralisationBudget, selection_option
from mmc_lib.studies.data_and_baselines import classical_run, ours_ranked_table
from mmc_lib.studies.ddmc import competitor_run, run_deep
from mmc_lib.studies.grid import grid, run_grid, summarize, to_result_rows

NOTEBOOK = "06_generalisation"
METRICS = ("acc", "nmi", "ari")
#: what a data set is, for the tables: the generalisation suite or one of our five stand-ins of notebooks 00–05
SUITES = {"generalisation": "new (no paper uses it)", "papers": "stand-in of notebooks 00–05"}
#: autorank's minimum of data sets for the Friedman / Nemenyi tests (fewer: the notebook says so and skips them)
MIN_SETS_FOR_TESTS = 5
#: the sample size that separates "small" from "large" sets in the summary (rows actually clustered)
LARGE_N = 1000

#: the papers' ordering claims that can be checked on these sets: id → (better method, methods it should beat or
#: None for "every other method we ran", metric). The ids are the ledgers' (claims/*.yaml).
ORDERING_CLAIMS = {
    "ddmc.order.best-overall.acc": ("DDMC", None, "acc"),
    "ddmc.order.best-overall.nmi": ("DDMC", None, "nmi"),
    "mmcluster.order.multimodal-beats-single.acc": ("AmKM", ("KM",), "acc"),
    "mmcluster.order.multimodal-beats-single-spectral.acc": ("AmNcuts", ("Ncuts",), "acc"),
}


# ----------------------------------------------------------------- the runs

@dataclass
class GeneralisationStudy:
    """The runs of notebook 06 under one budget: which sets are here, which runs, where they are cached."""

    budget: GeneralisationBudget
    seed: int = 0
    device: str = "cpu"
    data_dir: str | None = None
    cache: Path | None = None  # study_cache("06_generalisation", profile, out_dir); needed to run, not to plan
    n_jobs: int = 1
    present: list[str] = field(init=False)
    absent: list[str] = field(init=False)

    def __post_init__(self):
        names = list(self.budget.datasets)
        self.present = [n for n in names if available(n, data_dir=self.data_dir)]
        self.absent = [n for n in names if n not in self.present]

    def load(self, dataset: str):
        """The rows every method sees on ``dataset`` (the budget's stratified cap)."""
        return load(dataset, data_dir=self.data_dir, max_samples=self.budget.cap(dataset))

    def classical_runs(self) -> list[dict]:
        b = self.budget
        return [dict(r, max_samples=b.cap(r["dataset"]), data_dir=self.data_dir)
                for r in grid(method=list(b.classical), dataset=self.present, seed=list(b.seeds(self.seed)))]

    def competitor_runs(self) -> list[dict]:
        """RMKMC, SwMC, ONMSC, SMCMB on every set and seed; the deep competitors where the budget lets them run."""
        b = self.budget
        runs = grid(method=list(b.competitors), dataset=self.present, seed=list(b.seeds(self.seed)))
        for method, sets in b.deep_competitors.items():
            runs += grid(method=[method], dataset=[d for d in sets if d in self.present],
                         seed=list(b.deep_competitor_seeds(self.seed)))
        return [dict(r, options=dict(b.competitor_options.get(r["method"], {})), max_samples=b.cap(r["dataset"]),
                     device=self.device, data_dir=self.data_dir) for r in runs]

    def deep_runs(self) -> list[dict]:
        b = self.budget
        return [dict(r, epochs=b.epochs, n_restarts=b.n_restarts, alpha=b.alpha, beta=b.beta, **selection_option(b),
                     max_samples=b.cap(r["dataset"]), device=self.device, data_dir=self.data_dir)
                for r in grid(method=list(b.deep), dataset=self.present, seed=list(b.seeds(self.seed)))]

    def n_runs(self) -> int:
        return len(self.classical_runs()) + len(self.competitor_runs()) + len(self.deep_runs())

    def run(self) -> pd.DataFrame:
        """Every run (cached: an interrupted run resumes): one row per (method, data set, seed), with a ``family``
        column (classical / competitor / deep)."""
        if self.cache is None:
            raise ValueError("GeneralisationStudy.cache is not set: pass study_cache('06_generalisation', ...)")
        parts = []
        for family, fn, runs in (("classical", classical_run, self.classical_runs()),
                                 ("competitor", competitor_run, self.competitor_runs()),
                                 ("deep", run_deep, self.deep_runs())):
            df = run_grid(fn, runs, cache_dir=Path(self.cache) / family, n_jobs=self.n_jobs, desc=family)
            parts.append(df.assign(family=family))
        raw = pd.concat(parts, ignore_index=True)
        keep = ["family", "method", "dataset", "seed", *METRICS, "seconds", "n_samples"]
        return raw[keep]

    def datasets_table(self) -> pd.DataFrame:
        """Per present set: suite, rows clustered, views (dims), modalities, classes.

        With none of the sets present there is nothing to generalise to: the loader's error names the first missing
        file and where to get it (rather than an empty table failing further down)."""
        if not self.present:
            self.load(self.absent[0])  # raises DataMissingError with the file, its checksum and its source
        rows = []
        for name in self.present:
            ds, entry = self.load(name), REGISTRY[name]
            rows.append({"dataset": name, "suite": SUITES[entry.suite], "n": ds.n_samples,
                         "n (stored)": entry.n_samples, "views": len(ds.views), "dims": " / ".join(map(str, ds.dims)),
                         "features": feature_kind(entry.modalities), "K": ds.n_clusters})
        return pd.DataFrame(rows).set_index("dataset")

    def describe(self) -> str:
        b = self.budget
        deep = ", ".join(f"{m} on {', '.join(s)}" for m, s in b.deep_competitors.items()) or "none"
        return (f"{len(self.present)} sets | seeds {b.seeds(self.seed)} | SiMVC/CoMVC/DDMC: {b.epochs} epochs, "
                f"{b.n_restarts} restart(s) | row caps {b.max_samples or '-'} (other sets: {b.default_max_samples}) | "
                f"deep competitors ({b.n_deep_competitor_seeds} seed): {deep} | parallel runs {self.n_jobs} | "
                f"{self.n_runs()} runs")

    def extra(self, wall_seconds: float) -> dict:
        """The ``extra`` provenance of the results file: the budget with the seeds, absent sets, the wall time."""
        b = self.budget
        plain = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(b).items()}
        plain["deep_competitors"] = {m: list(s) for m, s in b.deep_competitors.items()}
        return {"budget": {**plain, "seeds": list(b.seeds(self.seed))}, "datasets": self.present,
                "absent": self.absent, "n_runs": self.n_runs(), "n_jobs": self.n_jobs,
                "wall_seconds": round(wall_seconds, 1)}


def feature_kind(modalities) -> str:
    """``text`` when every view is text, ``image`` when any view is an image feature, else ``other``.

    >>> feature_kind(["text", "text"]), feature_kind(["image", "text"]), feature_kind(["other", "text"])
    ('text', 'image', 'other')
    """
    modalities = list(modalities)
    if modalities and all(m == "text" for m in modalities):
        return "text"
    return "image" if "image" in modalities else "other"


# ----------------------------------------------------------------- tables

def summarize_runs(raw: pd.DataFrame) -> pd.DataFrame:
    """Mean, std (ddof=0) and count over seeds of every metric and of the seconds, per (dataset, method)."""
    return summarize(raw, ["dataset", "method"], [*METRICS, "seconds"])


def score_matrix(summary: pd.DataFrame, metric: str = "acc", methods=None, datasets=None) -> pd.DataFrame:
    """Mean ``metric`` as data sets × methods (fractions); rows and columns in the given order."""
    table = summary.pivot(index="dataset", columns="method", values=f"{metric}_mean")
    if methods is not None:
        table = table.reindex(columns=list(methods))
    if datasets is not None:
        table = table.reindex(index=list(datasets))
    return table


def metric_table(summary: pd.DataFrame, metric: str, methods=None):
    """Method × data set: ``mean ± std`` in percent with the rank of the mean on each set, best in bold."""
    return ours_ranked_table(summary, metric=metric, methods=methods)


def committed_rows(profile: str = "full") -> list[dict]:
    """The result rows of notebook 06 committed in the repository (``results/<profile>/06_generalisation.json``,
    whatever ``MMC_OUT_DIR`` says); ``FileNotFoundError`` naming the file when it is not there."""
    from mmc_lib.results import results_path
    from mmc_lib.runtime import project_root

    path = results_path(NOTEBOOK, profile, project_root())
    if not path.is_file():
        raise FileNotFoundError(f"no committed results of notebook 06 at {path}")
    import json

    return json.loads(path.read_text())["rows"]


def deep_vs_kmeans(rows: list[dict] | None = None, *, method: str = "DDMC", baseline: str = "AmKM",
                   others=("KM", "CoMVC", "SiMVC"), metric: str = "acc", datasets=None) -> pd.DataFrame:
    """``method`` against k-means on all views concatenated (``baseline="AmKM"``) per data set, from notebook 06's
    result rows (default: :func:`committed_rows`): each one's mean and seed std of ``metric``, the difference, and
    ``finding`` — ``"below"`` / ``"above"`` when the difference exceeds the larger of the two seed stds, else
    ``"within the seed spread"``. ``others`` (k-means on the best single view ``KM``, CoMVC, SiMVC) ride along as
    means. Data sets in ``datasets`` order (default: the generalisation suite, then the stand-ins), absent ones left
    out; ``suite`` says which is which.

    >>> rows = [{"method": m, "dataset": "d", "metric": "acc", "mean": v, "std": .01, "n_seeds": 3, "setting": "main"}
    ...         for m, v in (("DDMC", .5), ("AmKM", .7), ("KM", .6))]
    >>> deep_vs_kmeans(rows, others=("KM",), datasets=["d"])[["dataset", "diff", "finding"]].round(3).values.tolist()
    [['d', -0.2, 'below']]
    """
    from mmc_lib.studies.budgets import GENERALISATION_ALL

    frame = pd.DataFrame(committed_rows() if rows is None else rows)
    frame = frame[(frame.get("setting", "main") == "main") & (frame["metric"] == metric)]
    order = [d for d in (datasets or GENERALISATION_ALL) if d in set(frame["dataset"])]
    by = frame.set_index(["dataset", "method"])
    out = []
    for d in order:
        if (d, method) not in by.index or (d, baseline) not in by.index:
            continue
        m, b = by.loc[(d, method)], by.loc[(d, baseline)]
        diff = float(m["mean"]) - float(b["mean"])
        spread = max(float(m["std"] or 0), float(b["std"] or 0))
        row = {"dataset": d, "suite": "new" if d in GENERALISATION_DATASETS else "stand-in",
               f"{method}_mean": float(m["mean"]), f"{method}_std": float(m["std"] or 0), "n_seeds": int(m["n_seeds"]),
               f"{baseline}_mean": float(b["mean"]), f"{baseline}_std": float(b["std"] or 0)}
        for o in others:
            row[f"{o}_mean"] = float(by.loc[(d, o), "mean"]) if (d, o) in by.index else float("nan")
        row["diff"] = diff
        row["finding"] = "below" if diff < -spread else "above" if diff > spread else "within the seed spread"
        out.append(row)
    return pd.DataFrame(out)


def average_ranks(scores: pd.DataFrame) -> pd.Series:
    """Each method's rank on each data set (1 = highest score; ties share the average rank), averaged over the
    data sets; lowest first. ``scores`` is data sets × methods with no missing value."""
    if scores.isna().any().any():
        missing = scores.columns[scores.isna().any()].tolist()
        raise ValueError(f"ranks need every method on every data set; missing values for {missing}")
    return scores.rank(axis=1, ascending=False, method="average").mean(axis=0).sort_values()


def rank_test(scores: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Friedman test over the data sets and the Nemenyi critical difference, by ``autorank`` (non-parametric mode).

    Returns the χ² statistic (:func:`friedman_statistic`) and p-value of the Friedman test, the critical
    difference of the average ranks, the average ranks and autorank's result object (for :func:`cd_diagram`).
    Needs at least :data:`MIN_SETS_FOR_TESTS` data sets (autorank's rule)."""
    import contextlib
    import io

    from autorank import autorank

    if scores.shape[0] < MIN_SETS_FOR_TESTS:
        raise ValueError(f"the Friedman / Nemenyi tests need at least {MIN_SETS_FOR_TESTS} data sets, "
                         f"got {scores.shape[0]}")
    with contextlib.redirect_stdout(io.StringIO()):  # autorank prints a notice about the forced mode
        result = autorank(scores, alpha=alpha, verbose=False, order="descending", force_mode="nonparametric")
    if result.omnibus != "friedman":
        raise RuntimeError(f"autorank chose the {result.omnibus} test, expected friedman")
    return {"friedman_statistic": friedman_statistic(scores),
            "friedman_p": float(result.pvalue), "critical_difference": float(result.cd),
            "posthoc": result.posthoc, "alpha": alpha, "n_datasets": int(scores.shape[0]),
            "n_methods": int(scores.shape[1]), "mean_ranks": result.rankdf["meanrank"].astype(float).to_dict(),
            "result": result}


def friedman_statistic(scores: pd.DataFrame) -> float:
    """The Friedman χ² over the data sets (scipy), the statistic behind :func:`rank_test`'s p-value."""
    from scipy.stats import friedmanchisquare

    return float(friedmanchisquare(*[scores[c].to_numpy() for c in scores.columns]).statistic)


def cd_diagram(test: dict, *, ax=None):
    """autorank's critical-difference diagram (Demšar 2006) of a :func:`rank_test` result; returns the axes."""
    from autorank import plot_stats

    return plot_stats(test["result"], allow_insignificant=True, ax=ax)


def bayesian_signed_rank(scores: pd.DataFrame, a: str, b: str, *, rope: float = 0.01, seed: int = 0,
                         nsamples: int = 50000) -> dict:
    """Bayesian signed-rank test (baycomp) of method ``a`` against ``b`` over the data sets: the posterior
    probabilities that ``a`` is better by more than ``rope``, that the two are within ``rope``, and that ``b`` is
    better (Benavoli et al. 2017). The Monte Carlo draw is seeded."""
    from baycomp import SignedRankTest

    x, y = scores[a].to_numpy(float), scores[b].to_numpy(float)
    probs = SignedRankTest.probs(x, y, rope=rope, nsamples=nsamples, random_state=seed)
    p_a, p_rope, p_b = probs if len(probs) == 3 else (probs[0], 0.0, probs[1])  # rope=0: no "equivalent" mass
    return {"a": a, "b": b, "rope": rope, "n_datasets": len(x), f"P({a} better)": float(p_a),
            "P(equivalent)": float(p_rope), f"P({b} better)": float(p_b)}


def best_of(ranks: pd.Series, methods) -> str:
    """The method among ``methods`` with the lowest average rank."""
    candidates = ranks[ranks.index.isin(list(methods))]
    if candidates.empty:
        raise ValueError(f"none of {list(methods)} is ranked")
    return str(candidates.idxmin())


# ----------------------------------------------------------------- cost

def cost_table(summary: pd.DataFrame, methods=None) -> pd.DataFrame:
    """Mean seconds per fit, method × data set, with the median over the sets."""
    table = summary.pivot(index="method", columns="dataset", values="seconds_mean")
    if methods is not None:
        table = table.reindex(list(methods))
    table["median"] = table.median(axis=1)
    return table


def pareto_front(points: pd.DataFrame, *, score: str = "acc", cost: str = "seconds") -> list[str]:
    """The methods no other method beats on both axes (higher ``score`` and lower ``cost``), cheapest first.

    >>> pts = pd.DataFrame({"acc": [0.5, 0.7, 0.6], "seconds": [1.0, 10.0, 20.0]}, index=["a", "b", "c"])
    >>> pareto_front(pts)
    ['a', 'b']
    """
    front = []
    for name, row in points.iterrows():
        dominated = ((points[score] >= row[score]) & (points[cost] <= row[cost])
                     & ((points[score] > row[score]) | (points[cost] < row[cost]))).any()
        if not dominated:
            front.append(name)
    return list(points.loc[front].sort_values(cost).index)


def cost_points(summary: pd.DataFrame, methods, datasets) -> pd.DataFrame:
    """Per method: mean ACC over ``datasets`` and the median seconds per fit (the Pareto figure's axes)."""
    acc = score_matrix(summary, "acc", methods, datasets)
    secs = score_matrix(summary.assign(acc_mean=summary["seconds_mean"]), "acc", methods, datasets)
    return pd.DataFrame({"acc": acc.mean(axis=0), "seconds": secs.median(axis=0)})


# ----------------------------------------------------------------- which method when

def dataset_groups(table: pd.DataFrame) -> dict[str, list[str]]:
    """The splits of the summary, from a :meth:`GeneralisationStudy.datasets_table`: small vs large n
    (:data:`LARGE_N` rows), few (2) vs many (≥ 3) views, text-only vs image features. Groups with fewer than two
    sets are dropped (one set is not a rank)."""
    groups = {
        f"small n (< {LARGE_N} rows)": table.index[table["n"] < LARGE_N].tolist(),
        f"large n (≥ {LARGE_N} rows)": table.index[table["n"] >= LARGE_N].tolist(),
        "two views": table.index[table["views"] == 2].tolist(),
        "three or more views": table.index[table["views"] >= 3].tolist(),
        "text-only views": table.index[table["features"] == "text"].tolist(),
        "image features among the views": table.index[table["features"] == "image"].tolist(),
    }
    return {k: v for k, v in groups.items() if len(v) >= 2}


def which_method_when(scores: pd.DataFrame, groups: dict[str, list[str]], *, metric: str = "acc") -> pd.DataFrame:
    """Per group of data sets: the method with the best average rank on them, the runner-up, and the rows the
    statement rests on (``metric/dataset/method = value`` of the winner on each set)."""
    rows = []
    for group, sets in groups.items():
        ranks = average_ranks(scores.loc[sets])
        best, second = ranks.index[0], ranks.index[1]
        cited = "; ".join(f"{metric}/{d}/{best} = {100 * scores.loc[d, best]:.1f}" for d in sets)
        rows.append({"group": group, "sets": ", ".join(sets), "n sets": len(sets), "best": best,
                     "its average rank": round(float(ranks.iloc[0]), 2), "runner-up": second,
                     "runner-up rank": round(float(ranks.iloc[1]), 2), "rows": cited})
    return pd.DataFrame(rows).set_index("group")


def summary_sentences(when: pd.DataFrame) -> list[str]:
    """The "which method when" table as sentences, each naming the rows it rests on."""
    return [f"On {group} ({r['sets']}), {r['best']} has the best average rank ({r['its average rank']:.2f}), "
            f"ahead of {r['runner-up']} ({r['runner-up rank']:.2f}); rows: {r['rows']}."
            for group, r in when.iterrows()]


# ----------------------------------------------------------------- the papers' orderings on these sets

def _ledger_claims() -> dict:
    from mmc_lib.audit import load_ledgers

    return {c.id: c for ledger in load_ledgers().values() for c in ledger.claims}


def generalisation_findings(summary: pd.DataFrame, datasets, budget_note: str = "") -> list[dict]:
    """Each ordering claim of :data:`ORDERING_CLAIMS` checked on ``datasets``: one row per (claim, data set) with
    the better method's mean, the best of the methods it should beat and whether it holds, and one summary row per
    claim (``dataset = "all"``) whose ``verdict`` is ``carries over`` or ``does not carry over (to …)``.

    These are generalisation findings on sets no paper used, never a verdict on the paper's own claim. Every row
    has ``kind: "generalisation"`` and ``setting: "generalisation"``."""
    claims = _ledger_claims()
    stats = summary.set_index(["dataset", "method"])
    rows = []
    for cid, (better, than, metric) in ORDERING_CLAIMS.items():
        if cid not in claims:
            raise KeyError(f"ordering claim {cid!r} is not in claims/*.yaml")
        held, not_held = [], []
        for d in datasets:
            if (d, better) not in stats.index:
                continue
            ran = stats.loc[d]
            rivals = [m for m in (than or ran.index) if m != better and m in ran.index]
            if not rivals:
                continue
            best_rival = ran.loc[rivals, f"{metric}_mean"].idxmax()
            mine, theirs = ran.loc[better], ran.loc[best_rival]
            holds = bool(mine[f"{metric}_mean"] > theirs[f"{metric}_mean"])
            spread = max(mine[f"{metric}_std"], theirs[f"{metric}_std"])
            (held if holds else not_held).append(d)
            rows.append({"kind": "generalisation", "setting": "generalisation", "claim": cid, "method": better,
                         "dataset": d, "metric": metric, "mean": float(mine[f"{metric}_mean"]),
                         "std": float(mine[f"{metric}_std"]), "n_seeds": int(mine[f"{metric}_count"]),
                         "rival": best_rival, "rival_mean": float(theirs[f"{metric}_mean"]), "holds": holds,
                         "within_seed_spread": bool(abs(mine[f"{metric}_mean"] - theirs[f"{metric}_mean"]) <= spread),
                         "note": budget_note})
        n = len(held) + len(not_held)
        if n == 0:
            continue
        verdict = "carries over" if not not_held else f"does not carry over (to {', '.join(not_held)})"
        n_seeds = int(stats.loc[((held + not_held)[0], better), f"{metric}_count"])
        rows.append({"kind": "generalisation", "setting": "generalisation", "claim": cid, "method": better,
                     "dataset": "all", "metric": metric, "mean": len(held) / n, "std": None, "n_seeds": n_seeds,
                     "scale": "share of sets", "holds_on": held, "fails_on": not_held, "verdict": verdict,
                     "statement": claims[cid].statement, "note": budget_note})
    return rows


def findings_table(rows: list[dict]) -> pd.DataFrame:
    """The summary rows of :func:`generalisation_findings` as a table (one line per claim)."""
    summary = [r for r in rows if r["dataset"] == "all"]
    return pd.DataFrame([{"claim": r["claim"], "verdict": r["verdict"],
                          "holds on": f"{len(r['holds_on'])} of {len(r['holds_on']) + len(r['fails_on'])} sets"}
                         for r in summary]).set_index("claim")


# ----------------------------------------------------------------- results

def result_rows(summary: pd.DataFrame, study: GeneralisationStudy, ranks: dict[str, pd.Series],
                findings: list[dict]) -> list[dict]:
    """The rows of ``results/<profile>/06_generalisation.json``: ``main`` (ACC/NMI/ARI and seconds per method and
    set, each noting the rows it ran on), ``rank`` (average rank over the sets per metric) and the generalisation
    findings."""
    rows = to_result_rows(summary, metrics=[*METRICS, "seconds"], setting="main")
    for r in rows:
        n = int(study.load(r["dataset"]).n_samples)
        r["note"] = f"n_samples={n}" + (" (stratified subsample)" if n < REGISTRY[r["dataset"]].n_samples else "")
        if r["metric"] == "seconds":
            r["scale"] = "seconds"
    n_sets = len(study.present)
    for metric, series in ranks.items():
        for method, value in series.items():
            rows.append({"method": method, "dataset": "all", "metric": f"{metric}_rank", "mean": float(value),
                         "std": None, "n_seeds": int(study.budget.n_seeds), "setting": "rank", "scale": "rank",
                         "note": f"average rank over {n_sets} sets (1 = best)"})
    return rows + findings


def budget_note(b: GeneralisationBudget) -> str:
    """What of the budget a reader of a finding should know."""
    return (f"generalisation suite + stand-ins; SiMVC/CoMVC/DDMC {b.epochs} epochs, {b.n_restarts} restart(s) "
            f"(notebook 01: 2); {b.n_seeds} seed(s); row caps {b.max_samples}")


__all__ = ["GENERALISATION_DATASETS", "GeneralisationStudy", "summarize_runs", "score_matrix", "metric_table",
           "average_ranks", "rank_test", "friedman_statistic", "cd_diagram", "bayesian_signed_rank", "best_of",
           "cost_table", "cost_points", "pareto_front", "dataset_groups", "which_method_when", "summary_sentences",
           "generalisation_findings", "findings_table", "result_rows", "budget_note", "feature_kind"]
