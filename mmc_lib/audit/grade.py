"""The grader: every claim of the ledger beside our stored results, with a verdict and its *kind*. The only place
verdicts are decided (AUDIT.md, notebook 99 and each notebook's closing "claims vs ours" all call it).

Every verdict says whose result it is, in the vocabulary of the ML Reproducibility Challenge and ReScience:

- **reproduction** — the paper's data and protocol, the authors' code;
- **replication** — our code, the paper's data and protocol;
- **generalisation** — other data (a named stand-in, or a data set the paper never used) or another protocol.

Verdicts for numbers (kinds ``value`` and ``derived``; ``dataset`` rows are *descriptors*):

- on the paper's data: ``reproduced`` — ``|ours − paper| ≤ max(2·std_ours, 2 points)``, capped at 8 points (see
  :class:`Tolerance`) — else ``below`` / ``above`` with the gap;
- on a stand-in: ``carries over`` (within the same tolerance there) or ``does not carry over (to X)`` — a
  generalisation finding, never a verdict on the paper;
- ``not tested at the paper's budget`` — the row was trained below the paper's budget (a result note starting
  ``reduced schedule:`` or a ``budget`` exception in the ledger's ``protocol``): the missing budget and the cost
  of the full test are stated; ``undecided (invalid estimate)`` — the estimate itself is not valid (an ``invalid``
  exception, e.g. an FID on fewer samples than feature dimensions);
- ``untestable by construction`` — the claim's ``untestable`` field gives the reason;
- ``not run: data absent`` — no notebook result on the paper's data set (decided from the results, never from the
  machine's data folder, so AUDIT.md is the same wherever it is built); ``not run`` — any other reason, given;
- descriptors: ``matches`` / ``differs``; qualitative statements: ``not measured (qualitative)``.

Orderings ("DDMC beats every baseline on every dataset") are decided per data set with Welch's t-test at the 5 %
level on the means, stds and seed counts of each pair (two-sided; every pair needs ≥ 3 seeds on each side, else
``undecided (too few seeds)``). On a data set the ordering ``holds`` when the better side wins every pair
significantly, ``fails`` when it loses one significantly, and is ``undecided (not significant)`` otherwise. A row
below the paper's budget (the paper's own method included) or with an invalid estimate is left out. The paper's
verdict (``holds`` / ``partly`` / ``fails`` / undecided / ``not run: data absent`` / ``not tested at the paper's
budget`` / ``untestable by construction``) uses only the paper's data sets; every other data set gives the
separate generalisation finding ``carries over`` / ``does not carry over (to X)``. Each ordering, restated number and
derived row is also checked against the paper's *own* numbers (``check_paper_consistency``).

>>> report = run_audit("smoke", out_dir="/nonexistent-mmc-out")  # no results at all
>>> report.table.set_index("id").loc["ddmc.main.caltech-3v.rmkmc.acc", "detail"]
'no results from 01_ddmc in the smoke profile yet'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from mmc_lib.audit.ledger import LOWER_IS_BETTER, Claim, Ledger, load_ledgers
from mmc_lib.results import load_results, results_frame

REPRODUCTION, REPLICATION, GENERALISATION = "reproduction", "replication", "generalisation"
KINDS = (REPRODUCTION, REPLICATION, GENERALISATION)
CARRIES, NOT_CARRIES = "carries over", "does not carry over"
BUDGET = "not tested at the paper's budget"
UNTESTABLE = "untestable by construction"
INVALID = "undecided (invalid estimate)"
DATA_ABSENT = "not run: data absent"
QUALITATIVE = "not measured (qualitative)"
FEW_SEEDS = "undecided (too few seeds)"
NOT_SIGNIFICANT = "undecided (not significant)"
VERDICTS = ("reproduced", "below", "above", CARRIES, NOT_CARRIES, "matches", "differs", BUDGET, INVALID, UNTESTABLE,
            DATA_ABSENT, "not run", QUALITATIVE)
ORDER_VERDICTS = ("holds", "partly", "fails", FEW_SEEDS, NOT_SIGNIFICANT, BUDGET, INVALID, UNTESTABLE, DATA_ABSENT,
                  "not run")
#: a result row whose note starts with this was trained on a cut schedule: ``not tested at the paper's budget``
REDUCED = "reduced schedule:"
#: result notes that mark a row as run on data the paper did not use
STAND_IN_NOTES = ("substituted:", "not in the paper")
ALPHA = 0.05  # level of the Welch test
MIN_SEEDS = 3  # seeds needed on each side of a comparison


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
                "sizes must match exactly); otherwise below/above with the gap. On a stand-in the same band decides "
                "`carries over` / `does not carry over`. A stored mean or std that is not a finite number gives "
                "`not run`")


@dataclass
class AuditReport:
    """What :func:`run_audit` returns: the verdict tables and where the results came from."""

    profile: str
    table: pd.DataFrame  # one row per number / descriptor / qualitative claim
    orderings: pd.DataFrame  # one row per ordering claim
    consistency: pd.DataFrame  # the papers checked against their own numbers
    provenance: dict  # notebook -> provenance of its results file
    tolerance: Tolerance

    def counts(self) -> pd.DataFrame:
        """Verdict counts per paper (numbers and orderings together)."""
        return verdict_counts(self.table, self.orderings)

    def kind_counts(self) -> pd.DataFrame:
        """Claims per paper in the status classes (see :func:`status_class`)."""
        return kind_counts(self.table, self.orderings)


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


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    for col, default in (("setting", "main"), ("note", ""), ("scale", "fraction")):
        frame[col] = frame[col].fillna(default) if col in frame else default
    return frame


def load_profile_results(profile: str, *, out_dir=None) -> tuple[pd.DataFrame, dict]:
    """All result rows of ``profile`` (with ``notebook``, ``setting``, ``note`` columns) and provenance per notebook."""
    frame = _with_defaults(results_frame(profile, out_dir=out_dir))
    prov = {p["notebook"]: p.get("provenance", {}) for p in load_results(profile, out_dir=out_dir)}
    return frame, prov


def _fetch_hint(names) -> str:
    """How to add the paper's data (issue 28's ``fetch_hint`` when present, else the registry's file names)."""
    from mmc_lib.data import REGISTRY

    try:
        from mmc_lib.data.sources import fetch_hint  # added by the data-fetching work; optional here
    except ImportError:
        fetch_hint = None
    hints = []
    for name in names:
        if name not in REGISTRY:
            continue
        if fetch_hint is not None:
            try:
                hint = fetch_hint(name)
            except (KeyError, ValueError):
                hint = None
            if hint:
                hints.append(hint)
                continue
        files = [f.path for f in REGISTRY[name].files]
        if files:
            hints.append("add " + ", ".join(files))
    return "; ".join(dict.fromkeys(h for h in hints if h))


# ----------------------------------------------------------------- kinds and protocol

def _note(row) -> str:
    note = row.get("note", "") if row is not None else ""
    return "" if note is None or (isinstance(note, float) and math.isnan(note)) else str(note)


def _stand_in(ledger: Ledger, dataset_ours: str, note: str) -> str:
    """What makes this data set not the paper's (empty when it is the paper's data)."""
    if note.startswith(STAND_IN_NOTES):
        return note
    if not ledger.datasets:  # a definition page names no data set: any data set is its data
        return ""
    for name, dmap in ledger.datasets.items():
        if dataset_ours in dmap.ours:
            return "" if dmap.is_paper_data(dataset_ours) else f"stand-in: {dmap.stand_in}"
    return f"{dataset_ours} is not one of the paper's data sets ({', '.join(ledger.datasets)})"


def _kind(ledger: Ledger, dataset_ours: str, note: str) -> str:
    if _stand_in(ledger, dataset_ours, note):
        return GENERALISATION
    return REPRODUCTION if "authors' code" in note else REPLICATION


def _exception(ledger: Ledger, method: str | None, dataset: str, metric: str, note: str):
    """(kind, text) when this row cannot decide a verdict about the paper: below budget or invalid; else None."""
    if note.startswith(REDUCED):
        return "budget", f"below the paper's budget: {note.removeprefix(REDUCED).strip()}"
    exc = ledger.protocol.exception_for(method, dataset, metric, note)
    return (exc.kind, exc.text()) if exc is not None else None


def protocol_text(ledger: Ledger, *, n_seeds=None, stand_in: str = "", exception: str = "", dataset: str = "") -> str:
    """The protocol-difference column: data, encoder, steps, seeds, selection, precision, hardware."""
    parts = []
    if stand_in:
        parts.append(f"data: {stand_in}")
    else:
        notes = [d.note for d in ledger.datasets.values() if dataset in d.ours and d.note and not d.substitute]
        parts += [f"data: {n}" for n in notes]
    copy = any(dataset in d.paper_copy for d in ledger.datasets.values())  # the paper's own files: no data difference
    parts += [f"{k}: {v}" for k, v in ledger.protocol.differences.items() if not (k == "data" and (stand_in or copy))]
    if n_seeds is not None and not (isinstance(n_seeds, float) and math.isnan(n_seeds)):
        parts.append(f"our seeds: {int(n_seeds)}")
    if exception:
        parts.append(exception)
    return "; ".join(parts)


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


def gap_text(gap: float, scale: str, unit: str = "") -> str:
    """A gap in its unit: percentage points for scores and relative changes (``unit="relative"``), else raw."""
    if unit == "relative":
        return f"{gap * 100:+.1f} percentage points of relative change"
    return f"{gap * 100:+.1f} pts" if scale in ("percent", "fraction") else f"{gap:+.3g}"


def _grade(claimed: float, mean: float, std: float, scale: str, tol: Tolerance) -> tuple[bool, float]:
    gap = mean - claimed
    return abs(gap) <= tol.allowed(claimed, std, scale) + 1e-12, gap


def category(claim: Claim) -> str:
    """number / restatement / descriptor / qualitative (orderings are counted apart)."""
    if claim.kind == "qualitative":
        return "qualitative"
    if claim.kind == "dataset":
        return "descriptor"
    return "restatement" if claim.restates else "number"


COLUMNS = ["id", "paper", "category", "claim_kind", "kind", "source", "dataset", "method", "metric", "setting", "claimed", "scale",
           "unit", "claimed_frac", "ours_dataset", "ours_mean", "ours_std", "n_seeds", "gap", "verdict", "detail",
           "protocol", "statement"]


def _base_row(claim: Claim) -> dict:
    unit = "relative" if claim.kind == "derived" and "relative_to" in (claim.derived or {}) else ""
    return {"id": claim.id, "paper": claim.paper, "category": category(claim), "claim_kind": claim.kind, "kind": "",
            "source": claim.source,
            "dataset": claim.dataset, "method": claim.method, "metric": claim.metric, "setting": claim.setting,
            "claimed": claim.value, "scale": claim.scale, "unit": unit, "claimed_frac": claim.fraction,
            "ours_dataset": "", "ours_mean": np.nan, "ours_std": np.nan, "n_seeds": np.nan, "gap": np.nan,
            "verdict": "not run", "detail": "", "protocol": "", "statement": claim.statement}


def _results_on(results: pd.DataFrame, names) -> bool:
    return bool(len(results)) and bool(results.dataset.isin(list(names)).any())


def _value_row(claim: Claim, ledger: Ledger, results: pd.DataFrame, profile: str, tol: Tolerance) -> dict:
    row = _base_row(claim)
    if claim.untestable:
        return {**row, "verdict": UNTESTABLE, "detail": claim.untestable}
    if claim.kind == "derived":
        spec = claim.derived
        names = [spec["of"], *(spec.get("minus_best_of") or [spec.get("relative_to")])]
        needed = [spec["of"]] if "minus_best_of" in spec else names  # a best-of needs only some of the others
    else:
        names = needed = [claim.method]
    nb = claim.notebook or ledger.notebook
    if nb is None:
        return {**row, "detail": ledger.not_run_reason or "notebook not implemented yet"}
    if any(ledger.methods.get(m) is None for m in needed):
        return {**row, "detail": "not implemented"}
    rows = results[results.notebook == nb] if len(results) else results
    if not len(rows):
        return {**row, "detail": f"no results from {nb} in the {profile} profile yet"}
    dmap = ledger.datasets[claim.dataset]
    if not _results_on(rows, dmap.ours):
        hint = _fetch_hint(dmap.ours)
        return {**row, "verdict": DATA_ABSENT,
                "detail": f"{nb} has no results on {claim.dataset}" + (f" ({hint})" if hint else "")}
    found = _measure(claim, ledger, rows, dmap.ours)
    if found is None:
        term = ledger.methods[names[0]]
        exc = next((e for ds in dmap.ours if (e := ledger.protocol.exception_for(term, ds, claim.metric))), None)
        if exc is not None and exc.kind == "budget":
            return {**row, "verdict": BUDGET, "detail": exc.text(), "protocol": protocol_text(ledger)}
        return {**row, "detail": f"{nb} stored no {claim.metric} row for {term!r} on {list(dmap.ours)}"}
    mean, std, n, ds, note, extra = found
    if not (math.isfinite(mean) and math.isfinite(std)):
        what = "mean" if not math.isfinite(mean) else "std over seeds"
        return {**row, "ours_dataset": ds, "detail": f"{nb} stored a {what} that is not a finite number "
                                                     f"({mean if what == 'mean' else std}) for this claim"}
    within, gap = _grade(claim.fraction, mean, std, claim.scale, tol)
    kind = _kind(ledger, ds, note)
    stand_in = _stand_in(ledger, ds, note)
    exc = _exception(ledger, ledger.methods.get(claim.method), ds, claim.metric, note)
    row.update(kind=kind, ours_dataset=ds, ours_mean=mean, ours_std=std, n_seeds=n, gap=gap,
               protocol=protocol_text(ledger, n_seeds=n, stand_in=stand_in, dataset=ds))
    gap_s = gap_text(gap, claim.scale, row["unit"])
    there = f"there ours is {'within tolerance' if within else 'outside it'} ({gap_s})"
    if exc is not None:
        row.update(verdict=BUDGET if exc[0] == "budget" else INVALID, detail=f"{exc[1]}; {there}")
    elif kind == GENERALISATION:
        row.update(verdict=CARRIES if within else f"{NOT_CARRIES} (to {ds})",
                   detail=f"{stand_in}; {gap_s}")
    else:
        verdict = "reproduced" if within else ("below" if gap < 0 else "above")
        material = [k for k in ("selection", "encoder", "steps") if k in ledger.protocol.differences]
        material += ["data"] if any(ds in d.ours and d.note for d in ledger.datasets.values()) else []
        caveat = f"protocol differs ({', '.join(material)}: see the protocol column)" if material else ""
        row.update(verdict=verdict, detail="; ".join(x for x in (
            "" if within else f"{verdict} by {gap_s.lstrip('+-')}", caveat) if x))
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


def _exact(row) -> bool:
    """A computed value with no seed (e.g. the mAP of a random ranking, Σ p_c²): exact, not a sample."""
    return "no seed" in _note(row) and _std(row) == 0.0


def relative_change(a: float, sa: float, b: float, sb: float) -> tuple[float, float]:
    """``a / b − 1`` and its std by the delta method (independent a, b): ``√((sa/b)² + (a·sb/b²)²)``.

    >>> r, s = relative_change(12.0, 1.0, 10.0, 0.0)
    >>> round(r, 3), round(s, 3)
    (0.2, 0.1)
    """
    return a / b - 1.0, math.sqrt((sa / b) ** 2 + (a * sb / b ** 2) ** 2)


def _measure(claim: Claim, ledger: Ledger, rows: pd.DataFrame, datasets):
    """(mean, std, n_seeds, dataset, note, extra) of what ``claim`` measures, from our rows, or None."""
    if claim.kind == "value":
        hit = _lookup(rows, ledger.methods[claim.method], datasets=datasets, metric=claim.metric, setting=claim.setting)
        if hit is None:
            return None
        return float(hit["mean"]), _std(hit), int(hit["n_seeds"]), hit.dataset, _note(hit), ""
    spec = claim.derived
    of = _lookup(rows, ledger.methods[spec["of"]], datasets=datasets, metric=claim.metric, setting=claim.setting)
    if of is None:
        return None
    ds = [of.dataset]
    if "relative_to" in spec:
        base = _lookup(rows, ledger.methods[spec["relative_to"]], datasets=ds, metric=claim.metric, setting=claim.setting)
        if base is None or not base["mean"]:
            return None
        rel, sd = relative_change(float(of["mean"]), _std(of), float(base["mean"]), _std(base))
        n = min(int(of["n_seeds"]), int(base["n_seeds"]))
        return (rel, sd, n, of.dataset, _note(of),
                f"relative change vs {spec['relative_to']}, std by the delta method")
    others = [(m, _lookup(rows, ledger.methods[m], datasets=ds, metric=claim.metric, setting=claim.setting))
              for m in spec["minus_best_of"] if ledger.methods.get(m)]
    others = [(m, r) for m, r in others if r is not None]
    if not others:
        return None
    best_name, best = max(others, key=lambda mr: float(mr[1]["mean"]))
    extra = (f"best compared here: {best_name}, over {len(others)} of {len(spec['minus_best_of'])} compared methods"
             if len(spec["minus_best_of"]) > 1 else "")
    sd = math.sqrt(_std(of) ** 2 + _std(best) ** 2)  # a difference of independent means
    return (float(of["mean"]) - float(best["mean"]), sd, min(int(of["n_seeds"]), int(best["n_seeds"])), of.dataset,
            _note(of), extra)


def _dataset_row(claim: Claim, ledger: Ledger, results: pd.DataFrame) -> dict:
    """A data-set descriptor (size, clusters, dims) beside our registry's entry — only for data we ran on."""
    from mmc_lib.data import REGISTRY

    row = _base_row(claim)
    dmap = ledger.datasets[claim.dataset]
    names = [n for n in dmap.ours if n in REGISTRY]
    ran = [n for n in names if _results_on(results, [n])]
    if not names or not ran:
        hint = _fetch_hint(names)
        return {**row, "verdict": DATA_ABSENT, "detail": "no results on this data set" + (f" ({hint})" if hint else "")}
    name = ran[0]
    entry = REGISTRY[name]
    paper = dmap.is_paper_data(name)
    kind = REPLICATION if paper else GENERALISATION
    stand_in = "" if paper else f"stand-in: {dmap.stand_in}; "
    ours = {"n_samples": entry.n_samples, "n_clusters": entry.n_clusters}.get(claim.metric)
    row.update(kind=kind, ours_dataset=name)
    if ours is None and name in dmap.paper_copy:  # the paper's own files: their split is the paper's
        return {**row, "verdict": "not run", "detail": f"{name} is the paper's own files and split; their sizes are "
                                                       "not registered apart from the poster's total"}
    if ours is None:  # e.g. n_train / n_test / dims: report the registered sizes
        sizes = ", ".join(f"{n} n={REGISTRY[n].n_samples}" for n in names if n not in dmap.paper_copy)
        return {**row, "verdict": "differs", "detail": f"{stand_in}split sizes differ by design: ours {sizes}"}
    row["ours_mean"] = ours
    if ours == claim.value:
        return {**row, "verdict": "matches", "detail": stand_in.removesuffix("; ")}
    return {**row, "verdict": "differs", "detail": f"{stand_in}ours {claim.metric}={ours}"}


def audit_claims(ledgers: dict[str, Ledger], results: pd.DataFrame, *, profile: str, tolerance: Tolerance | None = None,
                 data_dir=None) -> pd.DataFrame:
    """One verdict row per non-ordering claim (numbers, descriptors, qualitative statements).

    ``data_dir`` is accepted for compatibility and ignored: verdicts depend on the results, not on this machine."""
    tol = tolerance or Tolerance()
    out = []
    for ledger in ledgers.values():
        for claim in ledger.claims:
            if claim.kind == "ordering":
                continue
            if claim.kind == "qualitative":
                out.append({**_base_row(claim), "method": "", "verdict": QUALITATIVE,
                            "detail": claim.untestable or "qualitative statement; nothing to measure"})
            elif claim.kind == "dataset":
                out.append(_dataset_row(claim, ledger, results))
            else:
                out.append(_value_row(claim, ledger, results, profile, tol))
    return pd.DataFrame(out, columns=COLUMNS)


# ----------------------------------------------------------------- orderings

def _beats(a: float, b: float, metric: str) -> bool:
    return a < b if metric in LOWER_IS_BETTER else a > b


def _order_on(values: dict[str, float], better: str, metric: str) -> tuple[bool, list[str]]:
    """Does ``better`` beat every other entry of ``values``? Also the names that it does not beat."""
    losers = [m for m, v in values.items() if m != better and not _beats(values[better], v, metric)]
    return not losers, losers


def welch(better: tuple[float, float, int], other: tuple[float, float, int], metric: str, *,
          alpha: float = ALPHA, min_seeds: int = MIN_SEEDS) -> int | None:
    """+1 when ``better`` (mean, std over seeds with ddof=0, n) beats ``other`` significantly (two-sided Welch t-test
    at ``alpha``), −1 when it loses significantly, 0 when the difference is not significant, None with fewer than
    ``min_seeds`` seeds on a side. Two spreads of exactly 0 (deterministic runs) decide by the sign of the gap.

    >>> welch((0.80, 0.01, 5), (0.70, 0.01, 5), "acc"), welch((0.80, 0.10, 5), (0.79, 0.10, 5), "acc")
    (1, 0)
    >>> welch((0.80, 0.01, 5), (0.70, 0.01, 1), "acc") is None
    True
    """
    from scipy import stats

    (m1, s1, n1), (m2, s2, n2) = better, other
    if min(n1, n2) < min_seeds:
        return None
    sign = -1 if metric in LOWER_IS_BETTER else 1
    gap = sign * (m1 - m2)
    # ddof=0 std → variance of the mean s²·n/(n-1)/n; an exact value (n = inf, see _exact) has none
    v1, v2 = s1 ** 2 / (n1 - 1), s2 ** 2 / (n2 - 1)
    if v1 + v2 == 0:
        return 0 if gap == 0 else (1 if gap > 0 else -1)
    t = gap / math.sqrt(v1 + v2)
    dof = (v1 + v2) ** 2 / ((v1 ** 2 / (n1 - 1) if v1 else 0) + (v2 ** 2 / (n2 - 1) if v2 else 0))
    p = 2 * stats.t.sf(abs(t), dof)
    return 0 if p >= alpha else (1 if t > 0 else -1)


def _n(n) -> str:
    return "exact" if n == math.inf else str(n)


def _decide(outcomes: list[str]) -> str:
    """One verdict over several data sets' outcomes (holds / fails / undecided …)."""
    holds, fails = outcomes.count("holds"), outcomes.count("fails")
    if holds and not fails and holds == len(outcomes):
        return "holds"
    if fails and not holds and fails == len(outcomes):
        return "fails"
    if holds or fails:
        return "partly"
    for v in (FEW_SEEDS, NOT_SIGNIFICANT, INVALID, BUDGET):
        if v in outcomes:
            return v
    return "not run"


def _label(outcome: str, general: bool) -> str:
    """A data set's outcome in the words of its kind: on other data an ordering carries over or not, it never
    "holds" or "fails" (those words are for the paper's own data)."""
    if general:
        return {"holds": CARRIES, "fails": NOT_CARRIES}.get(outcome, outcome)
    return outcome


def _finding(per: dict[str, str]) -> str:
    """The generalisation finding over data sets that are not the paper's."""
    if not per:
        return "—"
    fails = [ds for ds, o in per.items() if o == "fails"]
    if fails:
        return f"{NOT_CARRIES} (to {', '.join(fails)})"
    if all(o == "holds" for o in per.values()):
        return CARRIES
    holds = [ds for ds, o in per.items() if o == "holds"]
    rest = _decide([o for o in per.values() if o != "holds"])
    return f"{CARRIES} to {', '.join(holds)}; {rest} elsewhere" if holds else rest


def check_orderings(ledgers: dict[str, Ledger], results: pd.DataFrame, *, profile: str) -> pd.DataFrame:
    """Check every ordering claim on each dataset we ran (and on the paper's own table)."""
    out = []
    for ledger in ledgers.values():
        paper_values = _paper_values(ledger)
        for claim in (c for c in ledger.claims if c.kind == "ordering"):
            spec, nb = claim.ordering, claim.notebook or ledger.notebook
            row = {"id": claim.id, "paper": claim.paper, "metric": claim.metric, "statement": claim.statement,
                   "notebook": nb or "", "verdict": "not run", "finding": "—", "checked": "", "per_dataset": "",
                   "detail": "", "protocol": protocol_text(ledger),
                   "paper_check": _paper_order_check(claim, paper_values)}
            terms = {m: ledger.methods.get(m) for m in [spec["better"], *spec["than"]]}
            skipped = [m for m, t in terms.items() if t is None]
            rows = results[results.notebook == nb] if nb and len(results) else results.iloc[0:0]
            if claim.untestable:
                row.update(verdict=UNTESTABLE, finding=UNTESTABLE, detail=claim.untestable)
            elif nb is None:
                row["detail"] = ledger.not_run_reason or "notebook not implemented yet"
            elif terms[spec["better"]] is None:
                row["detail"] = f"{spec['better']} not implemented"
            elif not len(rows):
                row["detail"] = f"no results from {nb} in the {profile} profile yet"
            else:
                row.update(_order_on_results(claim, ledger, terms, rows, skipped))
            out.append(row)
    return pd.DataFrame(out)


def _order_on_results(claim: Claim, ledger: Ledger, terms: dict, rows: pd.DataFrame, skipped: list[str]) -> dict:
    """Per dataset: Welch's test of ``better`` against each other row, then the paper's verdict (its data sets)
    and the generalisation finding (every other data set)."""
    better = claim.ordering["better"]
    paper_out, general_out, notes, left_out, kinds = {}, {}, [], set(), {}
    for ds in sorted(rows.dataset.unique()):
        vals, general, excluded_better, hits = {}, False, None, 0
        for m, term in terms.items():
            hit = None if term is None else _lookup(rows, term, datasets=[ds], metric=claim.metric, setting=claim.setting)
            if hit is None:
                continue
            hits += 1
            note = _note(hit)
            general = general or _kind(ledger, ds, note) == GENERALISATION
            exc = _exception(ledger, _parse_term(term, claim.setting)[0], ds, claim.metric, note)
            if exc is not None:
                if m == better:
                    excluded_better = exc
                else:
                    left_out.add(f"{m} on {ds} ({exc[1]})")
                continue
            vals[m] = (float(hit["mean"]), _std(hit), math.inf if _exact(hit) else int(hit["n_seeds"]))
        target = general_out if general else paper_out
        if excluded_better is not None:
            if hits >= 2:
                target[ds] = BUDGET if excluded_better[0] == "budget" else INVALID
                notes.append(f"{ds} ({target[ds]}): {better}: {excluded_better[1]}")
                kinds[ds] = GENERALISATION if general else REPLICATION
            continue
        if better not in vals or len(vals) < 2:
            continue
        kinds[ds] = GENERALISATION if general else REPLICATION
        cmp = {m: welch(vals[better], v, claim.metric) for m, v in vals.items() if m != better}
        if any(c == -1 for c in cmp.values()):
            outcome = "fails"
        elif all(c == 1 for c in cmp.values()):
            outcome = "holds"
        elif any(c is None for c in cmp.values()):
            outcome = FEW_SEEDS
        else:
            outcome = NOT_SIGNIFICANT
        target[ds] = outcome
        if outcome != "holds":
            shown = [m for m, c in cmp.items() if c != 1]
            notes.append(f"{ds} ({_label(outcome, general)}): " + ", ".join(
                f"{m} {vals[m][0]:.3f}±{vals[m][1]:.3f} (n={_n(vals[m][2])}) vs "
                f"{vals[better][0]:.3f}±{vals[better][1]:.3f} (n={_n(vals[better][2])})" for m in shown))
    if not paper_out and not general_out:
        return {"detail": "no dataset has results for both sides"}
    if paper_out:
        verdict = _decide(list(paper_out.values()))
    else:
        names = [n for dmap in ledger.datasets.values() for n in dmap.ours if dmap.is_paper_data(n)]
        verdict = DATA_ABSENT if ledger.datasets else "not run"
        if general_out and set(general_out.values()) <= {BUDGET, INVALID}:  # what we ran cannot decide it anyway
            verdict = _decide(list(general_out.values()))
        if names:
            hint = _fetch_hint(names)
            notes.insert(0, "the paper's data sets are absent" + (f" ({hint})" if hint else ""))
    detail = "; ".join(notes) if notes else f"holds on {', '.join([*paper_out, *general_out])}"
    if skipped:
        detail += f" (not implemented, left out: {', '.join(skipped)})"
    if left_out:
        detail += f" (left out, cannot decide: {'; '.join(sorted(left_out))})"
    per = ", ".join(f"{ds} [{kinds.get(ds, '')}]: {_label(o, ds in general_out)}"
                    for ds, o in {**paper_out, **general_out}.items())
    n_hold = sum(o == "holds" for o in paper_out.values())
    checked = (f"paper's data: {n_hold}/{len(paper_out)} hold" if paper_out else "paper's data: none ran")
    if general_out:
        checked += f"; other data: {sum(o == 'holds' for o in general_out.values())}/{len(general_out)} hold"
    return {"verdict": verdict, "finding": _finding(general_out), "checked": checked, "per_dataset": per,
            "detail": detail}


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

def verdict_group(verdict: str) -> str:
    """A verdict without its parenthesised data sets (``does not carry over (to cub)`` → ``does not carry over``)."""
    return NOT_CARRIES if str(verdict).startswith(NOT_CARRIES) else str(verdict)


def verdict_counts(table: pd.DataFrame, orderings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Claims per paper and verdict (numbers, descriptors, qualitative) plus the orderings' paper verdicts and
    generalisation findings, as one count table."""
    parts = [table.assign(col=table.verdict.map(verdict_group))[["paper", "col"]]]
    if orderings is not None and len(orderings):
        parts.append(orderings.assign(col="ordering " + orderings.verdict)[["paper", "col"]])
        found = orderings[~orderings.finding.isin(["—", UNTESTABLE])]
        if len(found):
            parts.append(found.assign(col="ordering finding: " + found.finding.map(_finding_group))[["paper", "col"]])
    both = pd.concat(parts, ignore_index=True)
    counts = both.groupby(["paper", "col"]).size().unstack(fill_value=0)
    known = [*VERDICTS, *(f"ordering {v}" for v in ORDER_VERDICTS),
             *(f"ordering finding: {v}" for v in (CARRIES, NOT_CARRIES, "mixed", FEW_SEEDS, NOT_SIGNIFICANT, BUDGET,
                                                  INVALID))]
    order = [v for v in known if v in counts.columns] + sorted(set(counts.columns) - set(known))
    counts = counts[order]
    total = table.groupby("paper").size().reindex(counts.index, fill_value=0)
    if orderings is not None and len(orderings):
        total = total + orderings.groupby("paper").size().reindex(counts.index, fill_value=0)
    counts["total"] = total
    return counts


def _finding_group(finding: str) -> str:
    if finding.startswith(NOT_CARRIES):
        return NOT_CARRIES
    if finding.startswith(f"{CARRIES} to"):
        return "mixed"
    return finding


#: the status classes of README's table, one column each
STATUS_CLASSES = ("reproduction", "replication", "generalisation", "not tested: data absent", "not tested: budget",
                  "untestable", "other")


def status_class(row) -> str:
    """Which column of the status table a graded claim (number, descriptor, ordering) falls in."""
    verdict = str(row["verdict"])
    if verdict == DATA_ABSENT:
        return "not tested: data absent"
    if verdict in (BUDGET, INVALID):
        return "not tested: budget"
    if verdict == UNTESTABLE:
        return "untestable"
    kind = row.get("kind", "")
    if kind in KINDS:
        return kind
    return "other"


def kind_counts(table: pd.DataFrame, orderings: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per paper: numbers (restatements, descriptors and qualitative statements apart) by status class, and the
    orderings' paper verdicts by status class (an ordering run only on other data counts as generalisation)."""
    nums = table[table.category == "number"]
    rows = [{"paper": p, "cls": status_class(r)} for p, r in zip(nums.paper, nums.to_dict("records"))]
    if orderings is not None and len(orderings):
        for r in orderings.to_dict("records"):
            if r["verdict"] in (DATA_ABSENT,) and r["finding"] not in ("—",):
                rows.append({"paper": r["paper"], "cls": "generalisation"})  # ran, but only on other data
            else:
                kind = REPLICATION if r["verdict"] in ("holds", "partly", "fails", FEW_SEEDS, NOT_SIGNIFICANT) else ""
                rows.append({"paper": r["paper"], "cls": status_class({**r, "kind": kind})})
    frame = pd.DataFrame(rows, columns=["paper", "cls"])
    counts = frame.groupby(["paper", "cls"]).size().unstack(fill_value=0)
    return counts.reindex(columns=[c for c in STATUS_CLASSES if c in counts.columns], fill_value=0)


@dataclass
class NotebookVerdicts:
    """The ledger's claims that one notebook answers, graded on that notebook's rows (see :func:`grade_notebook`)."""

    notebook: str
    numbers: pd.DataFrame  # value / derived / dataset / qualitative claims, one row each
    orderings: pd.DataFrame  # ordering claims, one row each

    def counts(self) -> pd.DataFrame:
        return verdict_counts(self.numbers, self.orderings)

    def measured(self) -> pd.DataFrame:
        """The numbers that got a verdict from a measurement (those with a number of ours)."""
        return self.numbers[self.numbers.ours_mean.notna()]

    def not_run(self) -> pd.DataFrame:
        """Claims per paper and reason that could not be run here."""
        rest = self.numbers[self.numbers.verdict.isin(["not run", DATA_ABSENT])]
        return rest.groupby(["paper", "verdict", "detail"]).size().rename("claims").to_frame()

    def verdicts(self) -> dict[str, str]:
        """claim id → verdict, for every claim this notebook answers (orderings: ``paper verdict | finding``)."""
        out = dict(zip(self.numbers.id, self.numbers.verdict))
        if len(self.orderings):
            out.update({i: f"{v} | {f}" for i, v, f in zip(self.orderings.id, self.orderings.verdict,
                                                           self.orderings.finding)})
        return out


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
    numbers = audit_claims(ledgers, frame, profile=profile, tolerance=tolerance or Tolerance())
    orderings = check_orderings(ledgers, frame, profile=profile)
    return NotebookVerdicts(notebook, numbers, orderings)


def run_audit(profile: str, *, out_dir=None, data_dir=None, claims_folder=None,
              tolerance: Tolerance | None = None) -> AuditReport:
    """Load the ledger and the stored results of ``profile`` and grade every claim (``data_dir`` is ignored: the
    audit depends on the results only)."""
    ledgers = load_ledgers(claims_folder)
    results, prov = load_profile_results(profile, out_dir=out_dir)
    tol = tolerance or Tolerance()
    return AuditReport(profile, audit_claims(ledgers, results, profile=profile, tolerance=tol),
                       check_orderings(ledgers, results, profile=profile), check_paper_consistency(ledgers), prov, tol)
