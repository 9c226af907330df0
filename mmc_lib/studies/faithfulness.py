"""Faithfulness: our implementation beside the authors' own code, run outside the project on the same data and
protocol (notebooks 01 and 02).

The authors' code is never committed; what it measured is, as a JSON document under ``results/external/``
(:func:`load_external`): ``results/external/dm2c_authors_code.json`` (notebook 02,
:func:`mmc_lib.studies.dm2c.authors_code`) and ``results/external/mvc_authors_code.json`` (notebook 01: CoMVC and
SiMVC on MNIST-USPS, written by ``benchmarks/mvc_side_by_side.py merge``), whose shape is::

    {"source": ..., "patches": [...], "n": {method: {side: n}},
     "methods": {method: {side: {"per_seed": [{"seed", "acc", "nmi", "checkpoint_acc", "checkpoint_nmi", ...}],
                                 "curves": {seed: [{"epoch", "acc", "nmi", "ddc1"}, ...]}}}}}

with ``side`` one of ``"authors' code"``, ``"ours (fp32)"``, ``"ours (bf16)"``.

The verdict (:func:`faithfulness_verdict`) uses the audit's own rules (:mod:`mmc_lib.audit.grade`), with the
authors' code in the place of the paper's number: ours is *faithful* when its mean is within the audit's tolerance of
the authors' code's mean (:class:`~mmc_lib.audit.grade.Tolerance`: ``max(2·std over our seeds, 2 points)``, capped at
8 points) **and** Welch's test at 5 % finds no significant difference (:func:`~mmc_lib.audit.grade.welch`, ≥ 3 seeds
on each side, else ``undecided (too few seeds)``); *below* / *above* otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from mmc_lib.audit.grade import FEW_SEEDS, MIN_SEEDS, Tolerance, welch
from mmc_lib.results import mean_std

AUTHORS = "authors' code"
OURS = "ours (fp32)"
MVC_AUTHORS_CODE = "results/external/mvc_authors_code.json"  # CoMVC / SiMVC: the authors' code beside ours
SCORES = {"checkpoint": "checkpoint_", "final": ""}  # which weights: the lowest eval ddc_1 (their protocol), last epoch
FAITHFUL = "faithful"


def load_external(path: str | Path) -> dict | None:
    """A document measured outside the project (``results/external/*.json``), or None where the file is absent.
    A relative path is taken from the project root."""
    from mmc_lib.runtime import project_root

    path = Path(path)
    path = path if path.is_absolute() else project_root() / path
    return json.loads(path.read_text()) if path.is_file() else None


def mvc_authors_code(path: str | Path | None = None) -> dict | None:
    """``results/external/mvc_authors_code.json`` (or ``path``): CoMVC / SiMVC, authors' code and ours; None if
    absent."""
    return load_external(path or MVC_AUTHORS_CODE)


def _column(score: str, metric: str) -> str:
    if score not in SCORES:
        raise ValueError(f"score must be one of {sorted(SCORES)}, got {score!r}")
    if metric not in ("acc", "nmi"):
        raise ValueError(f"metric must be 'acc' or 'nmi', got {metric!r}")
    return SCORES[score] + metric


def long_scores(doc: dict | None) -> pd.DataFrame:
    """One row per (method, side, seed): ACC / NMI of the final epoch and of the checkpoint, the checkpoint's epoch
    and ``ddc_1``, wall and CPU seconds (an empty frame without a document)."""
    cols = ["method", "side", "seed", "acc", "nmi", "checkpoint_acc", "checkpoint_nmi", "checkpoint_epoch",
            "checkpoint_ddc1", "wall_seconds", "cpu_seconds"]
    rows = [{"method": method, "side": side, **{k: r.get(k, np.nan) for k in cols[2:]}}
            for method, sides in (doc or {}).get("methods", {}).items()
            for side, group in sides.items() for r in group["per_seed"]]
    return pd.DataFrame(rows, columns=cols)


def sides(doc: dict | None, method: str) -> list[str]:
    """The sides measured for ``method``: the authors' code first, then ours in the document's order."""
    found = list((doc or {}).get("methods", {}).get(method, {}))
    return sorted(found, key=lambda s: (s != AUTHORS, found.index(s)))


def per_seed_table(doc: dict | None, method: str, *, score: str = "checkpoint") -> pd.DataFrame:
    """Percent, ``ACC / NMI`` per seed (rows) and side (columns) for ``method``, with a ``mean ± std (n)`` row; a
    seed one side has not run reads ``—``."""
    long = long_scores(doc)
    long = long[long.method == method]
    acc, nmi = _column(score, "acc"), _column(score, "nmi")
    columns = sides(doc, method)
    table = {}
    for side in columns:
        part = long[long.side == side]
        table[side] = {int(s): f"{100 * a:.1f} / {100 * n:.1f}" for s, a, n in zip(part.seed, part[acc], part[nmi])}
    seeds = sorted({s for cells in table.values() for s in cells})
    frame = pd.DataFrame({side: [table[side].get(s, "—") for s in seeds] for side in columns},
                         index=pd.Index(seeds, name="seed"), dtype=object)
    summary = {}
    for side in columns:
        part = long[long.side == side]
        summary[side] = (f"{mean_std(part[acc].mean(), np.std(part[acc]))} / "
                         f"{mean_std(part[nmi].mean(), np.std(part[nmi]))} (n={len(part)})") if len(part) else "—"
    frame.loc["mean ± std"] = pd.Series(summary)
    return frame


def faithfulness_verdict(ours, theirs, *, tolerance: Tolerance | None = None) -> dict:
    """Our per-seed scores against the authors' code's, by the audit's rules (module docstring): a dict with
    ``verdict`` (``faithful`` / ``below`` / ``above`` / ``undecided (too few seeds)``), ``gap`` (ours − theirs, in
    fraction units), ``band`` (the tolerance), ``welch`` (+1 / 0 / −1 / None) and the means, stds (ddof 0) and n.

    >>> faithfulness_verdict([0.80, 0.82, 0.84], [0.81, 0.83, 0.82])["verdict"]
    'faithful'
    >>> faithfulness_verdict([0.60, 0.61, 0.62], [0.81, 0.83, 0.82])["verdict"]
    'below'
    >>> faithfulness_verdict([0.8, 0.8], [0.8, 0.8, 0.8])["verdict"]
    'undecided (too few seeds)'
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    if ours.ndim != 1 or theirs.ndim != 1:
        raise ValueError("faithfulness_verdict needs two 1-d sequences of per-seed scores")
    if not (np.isfinite(ours).all() and np.isfinite(theirs).all()):
        raise ValueError("per-seed scores must be finite numbers")
    out = {"ours_mean": float(ours.mean()) if len(ours) else np.nan, "ours_std": float(ours.std()) if len(ours) else
           np.nan, "n_ours": len(ours), "theirs_mean": float(theirs.mean()) if len(theirs) else np.nan,
           "theirs_std": float(theirs.std()) if len(theirs) else np.nan, "n_theirs": len(theirs)}
    if min(len(ours), len(theirs)) < MIN_SEEDS:
        return {**out, "verdict": FEW_SEEDS, "gap": out["ours_mean"] - out["theirs_mean"], "band": np.nan,
                "welch": None}
    gap = out["ours_mean"] - out["theirs_mean"]
    band = (tolerance or Tolerance()).allowed(out["theirs_mean"], out["ours_std"], "fraction")
    test = welch((out["ours_mean"], out["ours_std"], len(ours)), (out["theirs_mean"], out["theirs_std"], len(theirs)),
                 "acc")
    within = abs(gap) <= band + 1e-12
    verdict = FAITHFUL if within and test == 0 else ("below" if gap < 0 else "above")
    return {**out, "verdict": verdict, "gap": gap, "band": band, "welch": test}


def verdict_table(doc: dict | None, *, ours: str = OURS, score: str = "checkpoint") -> pd.DataFrame:
    """Per method and metric: the authors' code and ours (mean ± std, n), the gap in points, the band and the
    verdict (:func:`faithfulness_verdict`)."""
    long = long_scores(doc)
    rows = []
    for method in dict.fromkeys(long.method):
        for metric in ("acc", "nmi"):
            col = _column(score, metric)
            a = long[(long.method == method) & (long.side == AUTHORS)][col].to_numpy()
            o = long[(long.method == method) & (long.side == ours)][col].to_numpy()
            if not len(a) or not len(o):
                continue
            v = faithfulness_verdict(o, a)
            rows.append({"method": method, "metric": metric.upper(),
                         AUTHORS: f"{mean_std(v['theirs_mean'], v['theirs_std'])} (n={v['n_theirs']})",
                         ours: f"{mean_std(v['ours_mean'], v['ours_std'])} (n={v['n_ours']})",
                         "gap (points)": round(100 * v["gap"], 1),
                         "band (points)": round(100 * v["band"], 1) if np.isfinite(v["band"]) else np.nan,
                         "Welch 5 %": {1: "ours higher", -1: "ours lower", 0: "no difference", None: "—"}[v["welch"]],
                         "verdict": v["verdict"]})
    return pd.DataFrame(rows)


def verdict_line(doc: dict | None, *, ours: str = OURS, score: str = "checkpoint") -> str:
    """The one-line faithfulness verdict over every method and metric of the document."""
    table = verdict_table(doc, ours=ours, score=score)
    if table.empty:
        return "faithfulness: not run (no per-seed runs of both the authors' code and ours in the document)"
    parts = [f"{m} {k}: {v} (gap {g:+.1f} points)" for m, k, v, g in
             zip(table.method, table.metric, table.verdict, table["gap (points)"])]
    which = "the checkpoint at the lowest eval ddc_1" if score == "checkpoint" else "the last epoch"
    overall = FAITHFUL if (table.verdict == FAITHFUL).all() else (
        "undecided" if table.verdict.str.startswith("undecided").any() and not
        table.verdict.isin(["below", "above"]).any() else "not faithful")
    return (f"Faithfulness of {ours} to the authors' code ({which}, audit's tolerance and Welch 5 %): {overall} — "
            + "; ".join(parts))


def strip_plot(doc: dict | None, *, metric: str = "acc", score: str = "checkpoint", ax=None):
    """Both distributions side by side: per method, one box per side with every seed as a point (seeded jitter);
    the y axis in percent. Returns the figure."""
    import matplotlib.pyplot as plt

    col = _column(score, metric)
    long = long_scores(doc)
    if long.empty:
        raise ValueError("no per-seed runs to plot")
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(7, 3.6))
    rng = np.random.default_rng(0)
    colours = {AUTHORS: "tab:orange", "ours (fp32)": "tab:blue", "ours (bf16)": "tab:cyan"}
    positions, labels = [], []
    x = 0.0
    for method in dict.fromkeys(long.method):
        for side in sides(doc, method):
            values = 100 * long[(long.method == method) & (long.side == side)][col].to_numpy()
            ax.boxplot(values, positions=[x], widths=0.5, showfliers=False, medianprops={"color": "black"})
            ax.scatter(x + rng.uniform(-0.12, 0.12, len(values)), values, s=22, zorder=3,
                       color=colours.get(side, "tab:gray"), label=side if side not in ax.get_legend_handles_labels()[1]
                       else None)
            positions.append(x)
            labels.append(f"{method}\n{side}\n(n={len(values)})")
            x += 1
        x += 0.6
    ax.set_xticks(positions, labels)
    which = "checkpoint at lowest eval ddc_1" if score == "checkpoint" else "last epoch"
    ax.set_ylabel(f"{metric.upper()} (%)")
    ax.set_xlabel("method and implementation (one point per seed)")
    ax.set_title(f"MNIST-USPS, 100 epochs, {which}: the authors' code and ours")
    ax.legend(title="implementation", loc="best")
    return fig


def curves_frame(doc: dict | None) -> pd.DataFrame:
    """The per-epoch curves as one long frame: method, side, seed, epoch, acc, nmi, ddc1."""
    rows = [{"method": method, "side": side, "seed": int(seed), **point}
            for method, by_side in (doc or {}).get("methods", {}).items()
            for side, group in by_side.items() for seed, curve in group.get("curves", {}).items() for point in curve]
    return pd.DataFrame(rows, columns=["method", "side", "seed", "epoch", "acc", "nmi", "ddc1"])


def times_table(doc: dict | None) -> pd.DataFrame:
    """Per method and side: runs, median wall and CPU seconds of one 100-epoch run (wall seconds grow with the
    machine's load; CPU seconds do not)."""
    long = long_scores(doc)
    if long.empty:
        return pd.DataFrame(columns=["method", "side", "runs", "wall s (median)", "CPU s (median)"])
    return (long.groupby(["method", "side"], sort=False)
            .agg(runs=("seed", "size"), wall=("wall_seconds", "median"), cpu=("cpu_seconds", "median"))
            .round(0).rename(columns={"wall": "wall s (median)", "cpu": "CPU s (median)"}).reset_index())


def lockstep_table(doc: dict | None) -> pd.DataFrame:
    """The lock-step runs (``benchmarks/mvc_trajectory.py``: both codes from the same weights, batches and negative
    samples): per precision and epoch, the largest per-step loss gap, the largest parameter gap and each side's ACC."""
    rows = [{"precision": r["dtype"], "epoch": r["epoch"], "steps": r["steps"],
             "max loss gap": r["max_step_loss_gap"], "max param gap": r["param_abs_gap"],
             "max param gap (relative)": r["param_rel_gap"], "ACC theirs (%)": 100 * r["theirs_acc"],
             "ACC ours (%)": 100 * r["ours_acc"]} for r in (doc or {}).get("lockstep", [])]
    columns = ["precision", "epoch", "steps", "max loss gap", "max param gap", "max param gap (relative)",
               "ACC theirs (%)", "ACC ours (%)"]
    return pd.DataFrame(rows, columns=columns).round({"ACC theirs (%)": 1, "ACC ours (%)": 1})


def curve_plot(doc: dict | None, *, metric: str = "acc"):
    """Per method (one panel each), the mean over seeds of ``metric`` by epoch for each side, with the seeds' range
    shaded. Returns the figure."""
    import matplotlib.pyplot as plt

    if metric not in ("acc", "nmi", "ddc1"):
        raise ValueError(f"metric must be 'acc', 'nmi' or 'ddc1', got {metric!r}")
    curves = curves_frame(doc)
    if curves.empty:
        raise ValueError("no curves to plot")
    methods = list(dict.fromkeys(curves.method))
    fig, axes = plt.subplots(1, len(methods), figsize=(4.2 * len(methods), 3.2), sharey=True, squeeze=False)
    colours = {AUTHORS: "tab:orange", "ours (fp32)": "tab:blue", "ours (bf16)": "tab:cyan"}
    scale = 1.0 if metric == "ddc1" else 100.0
    for ax, method in zip(axes[0], methods):
        for side in sides(doc, method):
            part = curves[(curves.method == method) & (curves.side == side)]
            by = part.groupby("epoch")[metric]
            mean, lo, hi = by.mean() * scale, by.min() * scale, by.max() * scale
            n = part.seed.nunique()
            ax.plot(mean.index, mean.values, color=colours.get(side, "tab:gray"), label=f"{side} (n={n})")
            ax.fill_between(mean.index, lo.values, hi.values, color=colours.get(side, "tab:gray"), alpha=0.2)
        ax.set_title(method)
        ax.set_xlabel("epoch")
        ax.legend(title="mean, range over seeds", loc="lower right" if metric != "ddc1" else "upper right")
    axes[0][0].set_ylabel("eval ddc_1" if metric == "ddc1" else f"{metric.upper()} (%)")
    return fig


def selection_table(doc: dict | None) -> pd.DataFrame:
    """The paper's run selection on the runs of the document, per method and side: ``one run`` (mean ± std over
    the seeds, percent) beside ``paper's selection`` (the one seed whose checkpoint has the lowest eval ``ddc_1``;
    label free, :func:`mmc_lib.studies.ddmc.select_runs`). The paper selects among 20 runs; here among the ``n``
    seeds that ran, so the selected number is one draw of that protocol at a smaller ``n_runs``."""
    from mmc_lib.studies.ddmc import selection_summary

    long = long_scores(doc)
    columns = ["method", "side", "protocol", "n_runs", "seed", "ACC (%)", "NMI (%)", "ddc_1"]
    if long.empty:
        return pd.DataFrame(columns=columns)
    runs = long.rename(columns={"checkpoint_ddc1": "final_ddc1"})[["method", "side", "seed", "final_ddc1"]]
    runs = runs.assign(acc=long.checkpoint_acc, nmi=long.checkpoint_nmi)
    summary = selection_summary(runs, by=("method", "side"))
    cell = lambda mean, std: f"{100 * mean:.1f}" if np.isnan(std) else f"{100 * mean:.1f} ± {100 * std:.1f}"
    return pd.DataFrame({
        "method": summary.method, "side": summary.side, "protocol": summary.protocol, "n_runs": summary.n_runs,
        "seed": summary.seed.map(lambda s: "" if pd.isna(s) else str(int(s))),
        "ACC (%)": [cell(m, s) for m, s in zip(summary.acc_mean, summary.acc_std)],
        "NMI (%)": [cell(m, s) for m, s in zip(summary.nmi_mean, summary.nmi_std)],
        "ddc_1": summary.final_ddc1.map(lambda v: "" if pd.isna(v) else f"{v:.5f}")}, columns=columns)


def selection_rank_table(doc: dict | None) -> pd.DataFrame:
    """How well the selection criterion ranks a side's runs, judged by the labels afterwards (an evaluation of the
    rule, never part of it): per method and side, Spearman's ρ between each seed's kept eval ``ddc_1`` and its ACC
    (the rule needs ρ < 0: a lower ``ddc_1``, a better partition) and the ACC rank of the seed the rule keeps
    (1 = the side's best of ``n``). ρ is NaN with fewer than 3 seeds or a constant column."""
    from scipy.stats import spearmanr

    from mmc_lib.methods.base import select_run

    columns = ["method", "side", "n", "ρ(ddc_1, ACC)", "kept seed's ACC rank"]
    long = long_scores(doc)
    rows = []
    for (method, side), g in (long.groupby(["method", "side"], sort=False) if not long.empty else []):
        acc, ddc1 = g.checkpoint_acc.to_numpy(float), g.checkpoint_ddc1.to_numpy(float)
        ranked = len(g) >= 3 and np.ptp(ddc1) > 0 and np.ptp(acc) > 0  # ρ is undefined on a constant column
        rho = float(spearmanr(ddc1, acc)[0]) if ranked else float("nan")
        kept = select_run(ddc1)  # the rule's own choice
        rank = int(1 + np.sum(acc > acc[kept]))
        rows.append({"method": method, "side": side, "n": len(g), "ρ(ddc_1, ACC)": round(rho, 2),
                     "kept seed's ACC rank": f"{rank} of {len(g)}"})
    return pd.DataFrame(rows, columns=columns)


BF16 = "ours (bf16)"
PRECISION_VERDICTS = {FAITHFUL: "no difference found", "below": "bf16 lower", "above": "bf16 higher"}


def precision_table(doc: dict | None, *, score: str = "checkpoint") -> pd.DataFrame:
    """Issue 24's precision question, per method and metric: our bfloat16-convolution runs beside our float32 runs
    (same seeds and protocol), graded by the same rule as faithfulness (:func:`faithfulness_verdict`, float32 in
    the authors' place): ``no difference found`` when bf16's mean is within the tolerance of float32's and Welch's
    test finds no difference; ``bf16 lower`` / ``bf16 higher`` otherwise. The median CPU seconds of one run of each
    precision sit beside it (what bf16 would buy). Methods without runs of both precisions are left out."""
    long = long_scores(doc)
    rows = []
    for method in dict.fromkeys(long.method):
        part = long[long.method == method]
        fp32, bf16 = part[part.side == OURS], part[part.side == BF16]
        if fp32.empty or bf16.empty:
            continue
        for metric in ("acc", "nmi"):
            col = _column(score, metric)
            v = faithfulness_verdict(bf16[col].to_numpy(), fp32[col].to_numpy())
            rows.append({"method": method, "metric": metric.upper(),
                         OURS: f"{mean_std(v['theirs_mean'], v['theirs_std'])} (n={v['n_theirs']})",
                         BF16: f"{mean_std(v['ours_mean'], v['ours_std'])} (n={v['n_ours']})",
                         "gap (points)": round(100 * v["gap"], 1),
                         "band (points)": round(100 * v["band"], 1) if np.isfinite(v["band"]) else np.nan,
                         "Welch 5 %": {1: "bf16 higher", -1: "bf16 lower", 0: "no difference", None: "—"}[v["welch"]],
                         "verdict": PRECISION_VERDICTS.get(v["verdict"], v["verdict"]),
                         "CPU s fp32 (median)": round(float(fp32.cpu_seconds.median())),
                         "CPU s bf16 (median)": round(float(bf16.cpu_seconds.median()))})
    columns = ["method", "metric", OURS, BF16, "gap (points)", "band (points)", "Welch 5 %", "verdict",
               "CPU s fp32 (median)", "CPU s bf16 (median)"]
    return pd.DataFrame(rows, columns=columns)


def show_campaign(doc: dict, *, on: str = "", lockstep: bool = True) -> None:
    """Notebook 01 §8 for one side-by-side campaign: the lock-step rows (``lockstep``), per-seed tables, times, the
    faithfulness verdicts and line, the paper's selection and how the rule ranks the runs, and the precision table
    where bf16 runs exist. ``on``: appended to each method's caption (e.g. " on CUDA")."""
    from IPython.display import display

    if lockstep and doc.get("lockstep"):
        print("\nLock-step: both codes from the same weights, batches and negative samples (CoMVC, seed 0)")
        display(lockstep_table(doc))
    for method in doc["methods"]:
        print(f"\n{method}{on}: percent, ACC / NMI of the checkpoint at the lowest eval ddc_1, per seed")
        display(per_seed_table(doc, method))
    display(times_table(doc))
    display(verdict_table(doc))
    print(verdict_line(doc))
    print("\nThe paper's selection among the seeds that ran: the lowest checkpoint ddc_1 per side (the paper: 20 runs)")
    display(selection_table(doc))
    print("How the rule ranks each side's runs (labels only to judge the rule afterwards; it needs ρ < 0)")
    display(selection_rank_table(doc))
    precision = precision_table(doc)
    if not precision.empty:
        print("\nPrecision: our bfloat16 convolutions beside our float32 runs, same seeds, graded by the same rule")
        display(precision)
