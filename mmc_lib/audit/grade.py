"""The grader: every claim of the ledger beside our stored results, with a verdict. The only place verdicts
are decided (AUDIT.md, notebook 99 and each notebook's closing "claims vs ours" all call it).

Verdicts for numbers (kinds ``value``, ``derived``, ``dataset``):

- ``reproduced`` — ``|ours − paper| ≤ max(2·std_ours, 2 points)``, capped at 8 points (see :class:`Tolerance`),
- ``below`` / ``above`` — outside that band; the gap is given,
- ``substituted`` — the paper's data is not here; the method ran on a stand-in (named in ``detail``,
  with the gap on the stand-in for information only),
- ``not run`` — with the reason (data absent, not implemented, notebook not implemented yet, no results
  in this profile yet, a stored mean or std that is not a finite number, qualitative statement).

Orderings ("DDMC beats every baseline on every dataset") are checked on every dataset we ran, with the seed
spread: on a dataset the claim holds when the better side wins by more than the larger std over seeds of the
two, fails when it loses by more than that, and is undecided in between. Over the datasets: ``holds`` (all
hold), ``fails`` (none holds, at least one fails), ``partly`` (some hold, the rest fail or are undecided),
``undecided (within seed spread)`` (every dataset undecided) or ``not run``. Each ordering, restated number and derived row is
also checked against the paper's *own* numbers (``check_paper_consistency``).

>>> report = run_audit("smoke", out_dir="/nonexistent-mmc-out")  # no results at all
>>> report.table.set_index("id").loc["ddmc.main.caltech-3v.rmkmc.acc", "detail"]
'data absent'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from mmc_lib.audit.ledger import LOWER_IS_BETTER, Claim, Ledger, load_ledgers
from mmc_lib.results import load_results, results_frame

VERDICTS = ("reproduced", "below", "above", "substituted", "not run")
ORDER_VERDICTS = ("holds", "partly", "fails", "undecided (within seed spread)", "not run")


@dataclass(frozen=True)
class Tolerance:
    """When a number counts as reproduced: ``|ours − paper| ≤ min(max(n_std · std_ours, floor), cap)``.

    ``floor`` is ``points`` (in fraction units: 0.02 = 2 percentage points) for percent/fraction
    scales and ``raw_relative · |paper|`` for raw scores such as FID; sizes (``count``) must match exactly.
    The ``cap`` (``max_points``, ``raw_relative_cap · |paper|``) keeps a large seed spread from making anything
    "reproduced".

    >>> Tolerance().allowed(0.5, 0.004, "fraction")
    0.02
    >>> round(Tolerance().allowed(0.5, 0.03, "percent"), 4)
    0.06
    >>> Tolerance().allowed(0.5, 0.2, "fraction")  # 2·std = 0.4 is capped
    0.08
    """

    n_std: float = 2.0  # how many of our seed standard deviations
    points: float = 0.02  # absolute floor for percent/fraction metrics (fraction units)
    raw_relative: float = 0.10  # relative floor for raw-scale scores
    max_points: float = 0.08  # the band never exceeds this for percent/fraction metrics
    raw_relative_cap: float = 0.25  # nor this share of the paper's value for raw scores

    def allowed(self, paper: float, std: float, scale: str) -> float:
        if scale == "count":
            return 0.0
        if std is None or not math.isfinite(std) or std < 0:
            raise ValueError(f"a tolerance needs a finite, non-negative std, got {std!r}")
        floor = self.raw_relative * abs(paper) if scale == "raw" else self.points
        cap = self.raw_relative_cap * abs(paper) if scale == "raw" else self.max_points
        return min(max(self.n_std * std, floor), max(cap, floor))

    def describe(self) -> str:
        return (f"reproduced when |ours − paper| ≤ max({self.n_std:g}·std over our seeds, "
                f"{self.points * 100:g} percentage points), capped at {self.max_points * 100:g} points, for "
                f"ACC/NMI/ARI/F/purity-type metrics (max({self.n_std:g}·std, {self.raw_relative * 100:g} % of the "
                f"paper's value), capped at {self.raw_relative_cap * 100:g} %, for raw scores such as FID; dataset "
                "sizes must match exactly); otherwise below/above with the gap. A stored mean or std that is not a "
                "finite number gives `not run`")


@dataclass
class AuditReport:
    """What :func:`run_audit` returns: the verdict tables and where the results came from."""

    profile: str
    table: pd.DataFrame  # one row per number / qualitative claim
    orderings: pd.DataFrame  # one row per ordering claim
    consistency: pd.DataFrame  # the papers checked against their own numbers
    provenance: dict  # notebook -> provenance of its results file
    tolerance: Tolerance

    def counts(self) -> pd.DataFrame:
        """Verdict counts per paper (numbers and orderings together)."""
        return verdict_counts(self.table, self.orderings)


# ----------------------------------------------------------------- results lookup

def _parse_term(term: str, default_setting: str) -> tuple[str | None, str]:
    """``"DDMC"`` → (DDMC, default); ``"DDMC@fusion"`` → (DDMC, fusion); ``"@fusion"`` → (None, fusion)."""
    method, _, setting = term.partition("@")
    return (method or None), (setting if _ else default_setting)


def _lookup(rows: pd.DataFrame, term: str, *, datasets, metric: str, setting: str):
    """The result row for ``term`` on the first of ``datasets`` that has one, else None."""
    method, setting = _parse_term(term, setting)
    for ds in datasets:
        hit = rows[(rows.dataset == ds) & (rows.metric == metric) & (rows.setting == setting)]
        if method is not None:
            hit = hit[hit.method == method]
        if len(hit):
            return hit.sort_values("method").iloc[0]
    return None


def _available(name: str, data_dir) -> bool:
    from mmc_lib.data import REGISTRY, available

    return name in REGISTRY and available(name, data_dir=data_dir)


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    for col, default in (("setting", "main"), ("note", ""), ("scale", "fraction")):
        frame[col] = frame[col].fillna(default) if col in frame else default
    return frame


def load_profile_results(profile: str, *, out_dir=None) -> tuple[pd.DataFrame, dict]:
    """All result rows of ``profile`` (with ``notebook``, ``setting``, ``note`` columns) and provenance per notebook."""
    frame = _with_defaults(results_frame(profile, out_dir=out_dir))
    prov = {p["notebook"]: p.get("provenance", {}) for p in load_results(profile, out_dir=out_dir)}
    return frame, prov


# ----------------------------------------------------------------- verdicts for numbers

def format_value(value, scale: str | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list):
        return "/".join(str(v) for v in value)
    if scale == "percent":
        return f"{value * 100:.1f}"
    if scale == "count":
        return f"{int(value)}"
    return f"{value:.4f}" if scale == "fraction" else f"{value:.2f}"


def gap_text(gap: float, scale: str) -> str:
    return f"{gap * 100:+.1f} pts" if scale in ("percent", "fraction") else f"{gap:+.3g}"


def _grade(claimed: float, mean: float, std: float, scale: str, tol: Tolerance) -> tuple[str, float]:
    gap = mean - claimed
    if abs(gap) <= tol.allowed(claimed, std, scale) + 1e-12:
        return "reproduced", gap
    return ("below" if gap < 0 else "above"), gap


def _static_reasons(claim: Claim, ledger: Ledger, methods: list[str], data_dir) -> list[str]:
    nb = claim.notebook or ledger.notebook
    if nb is None:
        return [ledger.not_run_reason or "notebook not implemented yet"]
    reasons = []
    if any(ledger.methods.get(m) is None for m in methods):
        reasons.append("not implemented")
    dmap = ledger.datasets.get(claim.dataset)
    if dmap is not None and not any(_available(n, data_dir) for n in dmap.ours):
        reasons.append("data absent")
    return reasons


def _base_row(claim: Claim) -> dict:
    return {"id": claim.id, "paper": claim.paper, "kind": claim.kind, "source": claim.source,
            "dataset": claim.dataset, "method": claim.method, "metric": claim.metric, "setting": claim.setting,
            "claimed": claim.value, "scale": claim.scale, "claimed_frac": claim.fraction, "ours_dataset": "",
            "ours_mean": np.nan, "ours_std": np.nan, "n_seeds": np.nan, "gap": np.nan, "verdict": "not run",
            "detail": ""}


def _value_row(claim: Claim, ledger: Ledger, results: pd.DataFrame, profile: str, tol: Tolerance, data_dir) -> dict:
    row = _base_row(claim)
    if claim.kind == "derived":
        spec = claim.derived
        names = [spec["of"], *(spec.get("minus_best_of") or [spec.get("relative_to")])]
        needed = [spec["of"]] if "minus_best_of" in spec else names  # a best-of needs only some of the others
    else:
        names = needed = [claim.method]
    reasons = _static_reasons(claim, ledger, needed, data_dir)
    if reasons:
        return {**row, "detail": "; ".join(reasons)}
    nb = claim.notebook or ledger.notebook
    rows = results[results.notebook == nb] if len(results) else results
    if not len(rows):
        return {**row, "detail": f"no results from {nb} in the {profile} profile yet"}
    dmap = ledger.datasets[claim.dataset]
    found = _measure(claim, ledger, rows, dmap.ours)
    if found is None:
        return {**row, "detail": f"{nb} stored no {claim.metric} row for {ledger.methods[names[0]]!r} on {list(dmap.ours)}"}
    mean, std, n, ds, note, extra = found
    if not (math.isfinite(mean) and math.isfinite(std)):
        what = "mean" if not math.isfinite(mean) else "std over seeds"
        return {**row, "ours_dataset": ds, "detail": f"{nb} stored a {what} that is not a finite number "
                                                     f"({mean if what == 'mean' else std}) for this claim"}
    verdict, gap = _grade(claim.fraction, mean, std, claim.scale, tol)
    row.update(ours_dataset=ds, ours_mean=mean, ours_std=std, n_seeds=n, gap=gap, verdict=verdict)
    if verdict != "reproduced":
        row["detail"] = f"{verdict} by {gap_text(abs(gap), claim.scale)[1:]}"
    if str(note).startswith(REDUCED):  # the method ran, but not as its paper trains it: no verdict on the number
        row.update(verdict="substituted",
                   detail=f"{note}; there ours is {'within tolerance' if verdict == 'reproduced' else verdict} "
                          f"({gap_text(gap, claim.scale)})")
    elif dmap.substitute or str(note).startswith("substituted:"):
        stand_in = str(note).removeprefix("substituted:").strip() if str(note).startswith("substituted:") else ""
        row.update(verdict="substituted",
                   detail=f"stand-in: {stand_in or dmap.stand_in}; on it ours is "
                          f"{'within tolerance' if verdict == 'reproduced' else verdict} ({gap_text(gap, claim.scale)})")
    if claim.unverified:
        extra = "; ".join(x for x in (extra, "the claimed number is an unverified transcription") if x)
    if extra:
        row["detail"] = "; ".join(x for x in (row["detail"], extra) if x)
    return row


def _std(row) -> float:
    """Our std over seeds: 0 for a single seed without one; NaN (→ ``not run``) when several seeds stored none."""
    value = row.get("std")
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        return 0.0 if int(row.get("n_seeds") or 1) <= 1 else float("nan")
    return float(value)


def _measure(claim: Claim, ledger: Ledger, rows: pd.DataFrame, datasets):
    """(mean, std, n_seeds, dataset, note, extra) of what ``claim`` measures, from our rows, or None."""
    if claim.kind == "value":
        hit = _lookup(rows, ledger.methods[claim.method], datasets=datasets, metric=claim.metric, setting=claim.setting)
        if hit is None:
            return None
        return float(hit["mean"]), _std(hit), int(hit["n_seeds"]), hit.dataset, hit.get("note", ""), ""
    spec = claim.derived
    of = _lookup(rows, ledger.methods[spec["of"]], datasets=datasets, metric=claim.metric, setting=claim.setting)
    if of is None:
        return None
    ds = [of.dataset]
    if "relative_to" in spec:
        base = _lookup(rows, ledger.methods[spec["relative_to"]], datasets=ds, metric=claim.metric, setting=claim.setting)
        if base is None or not base["mean"]:
            return None
        return (float(of["mean"]) / float(base["mean"]) - 1.0, 0.0, int(of["n_seeds"]), of.dataset, of.get("note", ""),
                f"relative to {spec['relative_to']}")
    others = [(m, _lookup(rows, ledger.methods[m], datasets=ds, metric=claim.metric, setting=claim.setting))
              for m in spec["minus_best_of"] if ledger.methods.get(m)]
    others = [(m, r) for m, r in others if r is not None]
    if not others:
        return None
    best_name, best = max(others, key=lambda mr: float(mr[1]["mean"]))
    extra = (f"best compared here: {best_name}, over {len(others)} of {len(spec['minus_best_of'])} compared methods"
             if len(spec["minus_best_of"]) > 1 else "")
    return (float(of["mean"]) - float(best["mean"]), _std(of), int(of["n_seeds"]), of.dataset,
            of.get("note", ""), extra)


def _dataset_row(claim: Claim, ledger: Ledger, data_dir) -> dict:
    """Compare a dataset-table number (size, clusters, dims) with our copy of that dataset."""
    from mmc_lib.data import REGISTRY, load

    row = _base_row(claim)
    dmap = ledger.datasets[claim.dataset]
    names = [n for n in dmap.ours if n in REGISTRY]
    if not names:
        return {**row, "detail": "data absent (not in our registry)"}
    name = next((n for n in names if _available(n, data_dir)), None)
    if name is None:
        entry = REGISTRY[names[0]]
        listed = {"n_samples": entry.n_samples, "n_clusters": entry.n_clusters}.get(claim.metric)
        note = f"; our registry lists {claim.metric}={listed}" if listed is not None and listed != claim.value else ""
        return {**row, "detail": "data absent" + note}
    try:
        ds = load(name, data_dir=data_dir)
    except (OSError, ValueError) as err:  # present but unreadable / checksum mismatch: say so, do not crash
        return {**row, "detail": f"{name} present but not loadable: {type(err).__name__}"}
    ours = {"n_samples": ds.n_samples, "n_clusters": ds.n_clusters, "dims": ds.dims}.get(claim.metric)
    if ours is None:  # e.g. n_train / n_test: report every registered split we hold
        sizes = ", ".join(f"{n} n={REGISTRY[n].n_samples}" for n in names)
        verdict = "substituted" if dmap.substitute else "not run"
        return {**row, "ours_dataset": name, "verdict": verdict,
                "detail": f"split sizes differ by design: ours {sizes}" + (f"; stand-in: {dmap.stand_in}" if dmap.substitute else "")}
    match = ours == claim.value
    row.update(ours_dataset=name, ours_mean=ours if not isinstance(ours, list) else np.nan)
    if dmap.substitute:
        return {**row, "verdict": "substituted", "detail": f"stand-in: {dmap.stand_in}; ours {claim.metric}={ours}"}
    if match:
        return {**row, "verdict": "reproduced"}
    below = (sum(ours) if isinstance(ours, list) else ours) < (sum(claim.value) if isinstance(claim.value, list) else claim.value)
    return {**row, "verdict": "below" if below else "above", "detail": f"ours {claim.metric}={ours}"}


def audit_claims(ledgers: dict[str, Ledger], results: pd.DataFrame, *, profile: str, tolerance: Tolerance | None = None,
                 data_dir=None) -> pd.DataFrame:
    """One verdict row per non-ordering claim (numbers, dataset sizes, qualitative statements)."""
    tol = tolerance or Tolerance()
    out = []
    for ledger in ledgers.values():
        for claim in ledger.claims:
            if claim.kind == "ordering":
                continue
            if claim.kind == "qualitative":
                out.append({**_base_row(claim), "method": "", "detail": "qualitative statement; nothing to measure",
                            "statement": claim.statement})
            elif claim.kind == "dataset":
                out.append(_dataset_row(claim, ledger, data_dir))
            else:
                out.append(_value_row(claim, ledger, results, profile, tol, data_dir))
    columns = [*_base_row(Claim(id="x", paper="x", source="x")), "statement"]
    return pd.DataFrame(out, columns=columns)


# ----------------------------------------------------------------- orderings

def _beats(a: float, b: float, metric: str) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def _order_on(values: dict[str, float], better: str, metric: str) -> tuple[bool, list[str]]:
    """Does ``better`` beat every other entry of ``values``? Also the names that it does not beat."""
    losers = [m for m, v in values.items() if m != better and not _beats(values[better], v, metric)]
    return not losers, losers


def check_orderings(ledgers: dict[str, Ledger], results: pd.DataFrame, *, profile: str) -> pd.DataFrame:
    """Check every ordering claim on each dataset we ran (and on the paper's own table)."""
    out = []
    for ledger in ledgers.values():
        paper_values = _paper_values(ledger)
        for claim in (c for c in ledger.claims if c.kind == "ordering"):
            spec, nb = claim.ordering, claim.notebook or ledger.notebook
            row = {"id": claim.id, "paper": claim.paper, "metric": claim.metric, "statement": claim.statement,
                   "notebook": nb or "", "verdict": "not run", "checked": "", "detail": "",
                   "paper_check": _paper_order_check(claim, paper_values)}
            terms = {m: ledger.methods.get(m) for m in [spec["better"], *spec["than"]]}
            skipped = [m for m, t in terms.items() if t is None]
            rows = results[results.notebook == nb] if nb and len(results) else results.iloc[0:0]
            if nb is None:
                row["detail"] = ledger.not_run_reason or "notebook not implemented yet"
            elif terms[spec["better"]] is None:
                row["detail"] = f"{spec['better']} not implemented"
            elif not len(rows):
                row["detail"] = f"no results from {nb} in the {profile} profile yet"
            else:
                row.update(_order_on_results(claim, terms, rows, skipped))
            out.append(row)
    return pd.DataFrame(out)


UNDECIDED = "undecided (within seed spread)"
#: a result row whose note starts with this was trained on a cut schedule (e.g. a CPU budget): its numbers are shown
#: as ``substituted`` and it is left out of orderings, since they say nothing either way about the paper
REDUCED = "reduced schedule:"


def _compare(better: tuple[float, float], other: tuple[float, float], metric: str) -> int:
    """+1 when ``better`` (mean, std) beats ``other`` by more than the seed spread (the larger std),
    -1 when it loses by more than that, 0 when the gap is within the spread (or a std is unknown)."""
    gap = (better[0] - other[0]) * (-1 if metric in LOWER_IS_BETTER else 1)
    spread = max(better[1], other[1])
    if not math.isfinite(spread):
        return 0
    return 1 if gap > spread else (-1 if gap < -spread else 0)


def _order_on_results(claim: Claim, terms: dict, rows: pd.DataFrame, skipped: list[str]) -> dict:
    """Per dataset: holds (beats every other by more than the seed spread), fails (loses to one by more than
    that) or undecided; then one verdict over the datasets."""
    better = claim.ordering["better"]
    outcome, notes, reduced = {}, [], set()
    for ds in sorted(rows.dataset.unique()):
        vals = {}
        for m, term in terms.items():
            hit = None if term is None else _lookup(rows, term, datasets=[ds], metric=claim.metric, setting=claim.setting)
            if hit is not None and m != better and str(hit.get("note", "")).startswith(REDUCED):
                reduced.add(m)  # trained on a cut schedule: no evidence either way
            elif hit is not None:
                vals[m] = (float(hit["mean"]), _std(hit))
        if better not in vals or len(vals) < 2:
            continue
        cmp = {m: _compare(vals[better], v, claim.metric) for m, v in vals.items() if m != better}
        outcome[ds] = "fails" if min(cmp.values()) < 0 else ("holds" if min(cmp.values()) > 0 else "undecided")
        if outcome[ds] != "holds":
            shown = [m for m, c in cmp.items() if c <= 0]
            notes.append(f"{ds} ({outcome[ds]}): " + ", ".join(
                f"{m} {vals[m][0]:.3f}±{vals[m][1]:.3f} vs {vals[better][0]:.3f}±{vals[better][1]:.3f}" for m in shown))
    if not outcome:
        return {"detail": "no dataset has results for both sides"}
    n = {k: sum(v == k for v in outcome.values()) for k in ("holds", "fails", "undecided")}
    if n["undecided"] == len(outcome):
        verdict = UNDECIDED
    elif n["fails"] == 0 and n["undecided"] == 0:
        verdict = "holds"
    elif n["holds"] == 0:
        verdict = "fails"
    else:
        verdict = "partly"
    detail = "; ".join(notes) if notes else f"holds on {', '.join(outcome)}"
    if skipped:
        detail += f" (not implemented, left out: {', '.join(skipped)})"
    if reduced:
        detail += f" (trained on a reduced schedule, left out: {', '.join(sorted(reduced))})"
    checked = f"{n['holds']}/{len(outcome)} datasets" + (f", {n['undecided']} within seed spread" if n["undecided"] else "")
    return {"verdict": verdict, "checked": checked, "detail": detail}


# ----------------------------------------------------------------- the papers against their own numbers

def _paper_values(ledger: Ledger, *, skip_suspect: bool = False) -> dict:
    """(dataset, method, metric) -> claimed value (value claims only; optionally without suspect numbers)."""
    return {(c.dataset, c.method, c.metric): c.value for c in ledger.claims
            if c.kind == "value" and not (skip_suspect and c.suspect)}


def _paper_order_check(claim: Claim, values: dict) -> str:
    spec = claim.ordering
    datasets = sorted({d for (d, m, met) in values if m == spec["better"] and met == claim.metric})
    if not datasets:
        return "no numbers in the paper"
    broken = []
    for ds in datasets:
        vals = {m: values[(ds, m, claim.metric)] for m in [spec["better"], *spec["than"]]
                if (ds, m, claim.metric) in values}
        ok, losers = _order_on(vals, spec["better"], claim.metric)
        broken += [f"{ds}: {m} {vals[m]:g} vs {spec['better']} {vals[spec['better']]:g}" for m in losers]
    return "consistent" if not broken else "contradicted: " + "; ".join(broken)


def check_paper_consistency(ledgers: dict[str, Ledger]) -> pd.DataFrame:
    """Restated numbers equal their original, derived rows match the table, orderings hold in the table."""
    out = []
    for ledger in ledgers.values():
        by_id = {c.id: c for c in ledger.claims}
        values = _paper_values(ledger)
        clean = _paper_values(ledger, skip_suspect=True)
        suspects = sorted({c.method for c in ledger.claims if c.suspect})
        for c in ledger.claims:
            if c.restates:
                same = by_id[c.restates].value == c.value
                out.append({"id": c.id, "paper": c.paper, "check": f"restates {c.restates}",
                            "status": "consistent" if same else "contradicted",
                            "detail": "" if same else f"{c.value} vs {by_id[c.restates].value}"})
            elif c.kind == "derived" and "minus_best_of" in c.derived:
                row = {"id": c.id, "paper": c.paper, "check": "derived row recomputed from the table",
                       **_derived_check(c, values)}
                out.append(_blame_suspects(row, _derived_check(c, clean)["status"], suspects))
            elif c.kind == "ordering":
                status = _paper_order_check(c, values)
                row = {"id": c.id, "paper": c.paper, "check": "ordering on the paper's own numbers",
                       "status": status.split(":")[0], "detail": status.partition(": ")[2]}
                out.append(_blame_suspects(row, _paper_order_check(c, clean).split(":")[0], suspects))
    return pd.DataFrame(out, columns=["id", "paper", "check", "status", "detail"])


SUSPECT = "contradicted only by a suspect row"


def _blame_suspects(row: dict, status_without: str, suspects: list[str]) -> dict:
    """A contradiction that disappears without the paper's suspect numbers is reported as resting on them."""
    if row["status"] == "contradicted" and suspects and status_without == "consistent":
        return {**row, "status": SUSPECT, "detail": f"{row['detail']}; consistent without the {', '.join(suspects)} "
                                                    "row, which the ledger flags as a likely transcription error "
                                                    "in the paper (see its claims' `suspect` note)"}
    return row


def _derived_check(c: Claim, values: dict) -> dict:
    of = values.get((c.dataset, c.derived["of"], c.metric))
    others = {m: values[(c.dataset, m, c.metric)] for m in c.derived["minus_best_of"] if (c.dataset, m, c.metric) in values}
    if of is None or not others:
        return {"status": "no numbers in the paper", "detail": ""}
    best = max(others, key=others.get)
    recomputed = round(of - others[best], 6)
    ok = abs(recomputed - c.value) <= (1.0 if c.approx else 0.05)
    return {"status": "consistent" if ok else "contradicted",
            "detail": f"{c.derived['of']} {of:g} − best {best} {others[best]:g} = {recomputed:g}, printed {c.value:g}"}


# ----------------------------------------------------------------- summaries

def verdict_counts(table: pd.DataFrame, orderings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claims per paper and verdict (numbers) plus ordering verdicts, as one count table."""
    parts = [table.assign(col=table.verdict)[["paper", "col"]]]
    if orderings is not None and len(orderings):
        parts.append(orderings.assign(col="ordering " + orderings.verdict)[["paper", "col"]])
    both = pd.concat(parts, ignore_index=True)
    counts = both.groupby(["paper", "col"]).size().unstack(fill_value=0)
    order = [v for v in (*VERDICTS, *(f"ordering {v}" for v in ORDER_VERDICTS)) if v in counts.columns]
    counts = counts[order]
    counts["total"] = counts.sum(axis=1)
    return counts


@dataclass
class NotebookVerdicts:
    """The ledger's claims that one notebook answers, graded on that notebook's rows (see :func:`grade_notebook`)."""

    notebook: str
    numbers: pd.DataFrame  # value / derived / dataset / qualitative claims, one row each
    orderings: pd.DataFrame  # ordering claims, one row each

    def counts(self) -> pd.DataFrame:
        return verdict_counts(self.numbers, self.orderings)

    def measured(self) -> pd.DataFrame:
        """The numbers that got a verdict from a measurement (everything but ``not run``)."""
        return self.numbers[self.numbers.verdict != "not run"]

    def not_run(self) -> pd.DataFrame:
        """Claims per paper and reason that could not be run here."""
        rest = self.numbers[self.numbers.verdict == "not run"]
        return rest.groupby(["paper", "detail"]).size().rename("claims").to_frame()


def _notebook_ledgers(ledgers: dict[str, Ledger], notebook: str) -> dict[str, Ledger]:
    """Each ledger cut down to the claims answered by ``notebook`` (empty ledgers dropped)."""
    out = {}
    for name, ledger in ledgers.items():
        claims = [c for c in ledger.claims if (c.notebook or ledger.notebook) == notebook]
        if claims:
            out[name] = replace(ledger, claims=claims)
    return out


def grade_notebook(notebook: str, rows: list[dict], *, profile: str, data_dir=None, claims_folder=None,
                   tolerance: Tolerance | None = None) -> NotebookVerdicts:
    """Grade the claims ``notebook`` answers against the result rows it just measured — the same rule as AUDIT.md.

    A notebook ends with this call instead of deciding verdicts itself.
    """
    ledgers = _notebook_ledgers(load_ledgers(claims_folder), notebook)
    frame = _with_defaults(pd.DataFrame(rows).assign(notebook=notebook)) if rows else pd.DataFrame()
    numbers = audit_claims(ledgers, frame, profile=profile, tolerance=tolerance or Tolerance(), data_dir=data_dir)
    orderings = check_orderings(ledgers, frame, profile=profile)
    return NotebookVerdicts(notebook, numbers, orderings)


def run_audit(profile: str, *, out_dir=None, data_dir=None, claims_folder=None,
              tolerance: Tolerance | None = None) -> AuditReport:
    """Load the ledger and the stored results of ``profile`` and grade every claim."""
    ledgers = load_ledgers(claims_folder)
    results, prov = load_profile_results(profile, out_dir=out_dir)
    tol = tolerance or Tolerance()
    return AuditReport(profile, audit_claims(ledgers, results, profile=profile, tolerance=tol, data_dir=data_dir),
                       check_orderings(ledgers, results, profile=profile), check_paper_consistency(ledgers), prov, tol)
