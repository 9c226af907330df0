"""The audit as a reader sees it: the verdict table formatted, AUDIT.md, the claims-vs-ours plot."""

from __future__ import annotations

import datetime as _dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from mmc_lib.audit.grade import (BUDGET, DATA_ABSENT, GENERALISATION, INVALID, REPLICATION, REPRODUCTION,
                                 STATUS_CLASSES, UNTESTABLE, AuditReport, Tolerance, format_value, gap_text,
                                 status_class, verdict_group)
from mmc_lib.audit.ledger import Ledger
from mmc_lib.results import mean_std
from mmc_lib.runtime import out_root


def display_table(table: pd.DataFrame) -> pd.DataFrame:
    """The verdict table as readers want it: kind, claimed and ours on the paper's scale, n seeds, gap, verdict,
    and how our protocol differs from the paper's."""
    ours = [_ours(m, sd, s, u) for m, sd, s, u in zip(table.ours_mean, table.ours_std, table.scale, table.unit)]
    gaps = ["" if (isinstance(g, float) and math.isnan(g)) else gap_text(g, s, u)
            for g, s, u in zip(table.gap, table.scale, table.unit)]
    claimed = [_claimed(v, s, u) for v, s, u in zip(table.claimed, table.scale, table.unit)]
    seeds = ["" if (isinstance(n, float) and math.isnan(n)) else str(int(n)) for n in table.n_seeds]
    return pd.DataFrame({"id": table.id, "kind": table.kind, "dataset": table.dataset.fillna(""),
                         "method": table.method.fillna(""), "metric": table.metric.fillna(""), "paper": claimed,
                         "scale": [("relative %" if u == "relative" else (s or "")) for s, u in
                                   zip(table.scale.fillna(""), table.unit)],
                         "ours (mean ± std)": ours, "n seeds": seeds, "on": table.ours_dataset, "gap": gaps,
                         "verdict": table.verdict, "detail": table.detail, "protocol": table.protocol})


def _claimed(v, scale, unit) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, list):
        return format_value(v, scale)
    if scale == "count":
        return format_value(v, "count")
    return f"{v:+g} %" if unit == "relative" else f"{v:g}"


def _ours(mean, std, scale, unit="") -> str:
    if isinstance(mean, float) and math.isnan(mean):
        return ""
    if unit == "relative":  # a relative change, in percent, with its delta-method std
        return f"{mean * 100:+.1f} % ± {std * 100:.1f} %"
    if scale in ("percent", "fraction", "raw"):
        return mean_std(mean, std, scale=scale)
    return format_value(mean, scale)


def _md_table(df: pd.DataFrame) -> str:
    def cell(v):
        return str(v).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(cell(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


VOCABULARY = (
    "**Whose result is it?** Every verdict carries its kind, as in the ML Reproducibility Challenge and ReScience: "
    "*reproduction* (the paper's data and protocol, the authors' code), *replication* (our code, the paper's data "
    "and protocol), *generalisation* (other data — a named stand-in or a data set the paper never used — or another "
    "protocol). A paper's number or ordering can only be `reproduced` / `below` / `above` or `holds` / `fails` on "
    "the paper's own data; on other data the finding reads `carries over` / `does not carry over (to X)` and is "
    "counted apart. A row trained below the paper's budget (a cut schedule, an under-trained generator) never "
    "decides a verdict about the paper: it reads `not tested at the paper's budget`, with the missing budget and an "
    "estimate of the full test's cost. `untestable by construction` gives its reason; `not run: data absent` names "
    "the files to add. Orderings are decided per data set with Welch's t-test at the 5 % level, which needs ≥ 3 "
    "seeds on each side (else `undecided (too few seeds)`); no correction for the several comparisons of one "
    "ordering is made, so a `holds` is, if anything, generous.")


def _could_and_could_not(report: AuditReport, ledgers: dict[str, Ledger]) -> list[str]:
    """The MLRC-style summary per paper: what was testable here, what not and why, what was easy and difficult,
    and what the missing tests cost."""
    out = []
    for paper, ledger in ledgers.items():
        if not ledger.claims or ledger.seed.startswith("none"):
            continue
        nums = report.table[(report.table.paper == paper) & (report.table.category == "number")]
        orders = report.orderings[report.orderings.paper == paper]
        cls = pd.Series([status_class(r) for r in nums.to_dict("records")], dtype=object)
        tested = int(cls.isin([REPRODUCTION, REPLICATION]).sum())
        general = int((cls == GENERALISATION).sum())
        absent, budget = int((cls == "not tested: data absent").sum()), int((cls == "not tested: budget").sum())
        untestable = list(orders[orders.verdict == UNTESTABLE].id) + list(nums[nums.verdict == UNTESTABLE].id)
        decided = orders[orders.verdict.isin(["holds", "partly", "fails"])]
        n_found = int((orders.finding != '—').sum() - len(untestable))
        lines = [f"**{paper}.**"]
        if len(nums):
            lines.append(f"Of its {len(nums)} numbers, {tested} ran on the paper's own data, {general} on a stand-in "
                         f"(generalisation), {absent} not at all (data absent), {budget} below the paper's budget.")
        if not ledger.datasets:
            lines.append(f"It names no data set, so any data set tests its {len(orders)} orderings: {len(decided)} got "
                         "a verdict (replication).")
        else:
            lines.append(f"Of its {len(orders)} orderings, {len(decided)} got a verdict on the paper's data; {n_found} "
                         f"{'has' if n_found == 1 else 'have'} a generalisation finding on other data.")
        if untestable:
            lines.append(f"Untestable by construction: {', '.join(f'`{u}`' for u in untestable)} — "
                         + next(c.untestable for c in ledger.claims if c.untestable) + ".")
        from mmc_lib.audit.grade import _fetch_hint

        ran = set(report_datasets(report))
        missing = [f"{name} ({_fetch_hint(d.ours) or 'not in our registry'})" for name, d in ledger.datasets.items()
                   if not any(n in ran for n in d.ours)]
        missing += [f"{name}, the paper's own files ({_fetch_hint(d.paper_copy)})" for name, d in ledger.datasets.items()
                    if d.paper_copy and not any(n in ran for n in d.paper_copy) and _fetch_hint(d.paper_copy)]
        if missing:
            lines.append("Data to add: " + "; ".join(missing) + ".")
        costs = [e for e in ledger.protocol.exceptions if e.kind == "budget"]
        if costs:
            lines.append("Cost of the tests not run at the paper's budget: " + "; ".join(
                f"{e.missing} (≈{e.gpu_minutes:g} GPU-minutes, our estimate)" if e.gpu_minutes else e.missing
                for e in costs) + ".")
        if ledger.protocol.easy:
            lines.append(f"Easy: {ledger.protocol.easy}.")
        if ledger.protocol.difficult:
            lines.append(f"Difficult: {ledger.protocol.difficult}.")
        out += ["- " + " ".join(lines)]
    return out


def audit_markdown(report: AuditReport, ledgers: dict[str, Ledger]) -> str:
    """AUDIT.md: what we could and could not test, the rule, provenance, counts per paper and kind, orderings,
    the papers' own inconsistencies, every claim."""
    counts = report.counts().reset_index()
    kinds = report.kind_counts().reset_index()
    prov = pd.DataFrame([{"notebook": nb, "git commit": (p.get("git_commit") or "")[:10],
                          "dirty": p.get("git_dirty"), "device": p.get("device"), "date": p.get("date")}
                         for nb, p in sorted(report.provenance.items())],
                        columns=["notebook", "git commit", "dirty", "device", "date"])
    contradicted = report.consistency[report.consistency.status.str.startswith("contradicted")]
    on_suspects = int((contradicted.status != "contradicted").sum())
    dates = sorted(str(p.get("date", ""))[:10] for p in report.provenance.values() if p.get("date"))
    orders = report.orderings.rename(columns={"verdict": "paper verdict (paper's data)",
                                              "finding": "generalisation finding (other data)",
                                              "per_dataset": "per data set [kind]: outcome"})
    parts = [
        "# Audit: the papers' claims beside our numbers",
        "",
        f"Generated by `notebooks/99_audit.ipynb` from `claims/*.yaml` and `results/{report.profile}/*.json` "
        f"(results dated {dates[-1] if dates else '—'}); it reads no data folder, so it is the same on every machine. "
        "Do not edit by hand; re-run the notebook.",
        "",
        "## What we could and could not test",
        "",
        headline(report, ledgers),
        "",
        *_could_and_could_not(report, ledgers),
        "",
        VOCABULARY,
        "",
        f"**Tolerance rule.** {report.tolerance.describe()}.",
        "",
        "## Results used",
        "",
        _md_table(prov) if len(prov) else f"_No results in `results/{report.profile}/` yet: every number is `not run`._",
        "",
        "## Claims per paper and kind",
        "",
        "Numbers only (restatements, data-set descriptors and qualitative statements apart), and orderings by their "
        "verdict about the paper (an ordering run only on other data counts as generalisation).",
        "",
        _md_table(kinds),
        "",
        "## Verdicts per paper",
        "",
        _md_table(counts),
        "",
        "## Orderings: the paper's data and other data, apart",
        "",
        _md_table(orders[["id", "statement", "notebook", "paper verdict (paper's data)",
                          "generalisation finding (other data)", "per data set [kind]: outcome", "detail",
                          "protocol", "paper_check"]]),
        "",
        "## The papers against their own numbers",
        "",
        (f"{len(contradicted)} of {len(report.consistency)} internal checks fail"
         + (f"; {on_suspects} of them only through a row the ledger flags as a likely transcription error in the "
            "paper (its `suspect` note says why), so they are not counted as the paper contradicting itself"
            if on_suspects else "") + ":\n\n" + _md_table(contradicted)
         if len(contradicted) else f"All {len(report.consistency)} internal checks pass."),
        "",
        "## Every claim",
    ]
    table = display_table(report.table)
    for paper, ledger in ledgers.items():
        sub = table[report.table.paper == paper]
        tally = ", ".join(f"{n} {v}" for v, n in sub.verdict.map(verdict_group).value_counts().items())
        parts += ["", f"### {paper} — {ledger.title}", "", f"Ledger `claims/{ledger.path.name}`, seed `{ledger.seed}`, "
                  f"notebook `{ledger.notebook or '—'}`."]
        if ledger.protocol.paper:
            parts += ["", f"The paper's protocol: {ledger.protocol.paper}."]
        parts += ["", f"<details><summary>{len(sub)} claims: {tally}</summary>", "", _md_table(sub), "", "</details>"]
    return "\n".join(parts) + "\n"


def headline(report: AuditReport, ledgers: dict[str, Ledger]) -> str:
    """One line a newcomer can read: the five papers' numbers by kind, then the outside papers' numbers.

    Counts numbers only: restatements, data-set descriptors and qualitative statements are not numbers."""
    seeds = {p for p, lg in ledgers.items() if not lg.seed.startswith("none")}
    nums = report.table[report.table.category == "number"]
    own = nums[nums.paper.isin(seeds)]
    cls = own.apply(status_class, axis=1) if len(own) else pd.Series(dtype=object)
    on_paper = int(cls.isin([REPRODUCTION, REPLICATION]).sum())
    absent, stand_in = int((cls == "not tested: data absent").sum()), int((cls == GENERALISATION).sum())
    budget, other = int((cls == "not tested: budget").sum()), int((cls == "other").sum())
    rest = ", ".join(x for x in (f"{budget} below the paper's budget" if budget else "",
                                 f"{other} not run for other reasons" if other else "") if x)
    first = (f"None of the {len(seeds)} papers' {len(own)} numbers could be run on the paper's own data"
             if on_paper == 0 else f"{on_paper} of the {len(seeds)} papers' {len(own)} numbers ran on the paper's own data")
    first += f" ({absent} data absent, {stand_in} on stand-ins" + (f", {rest}" if rest else "") + ")"
    outside = nums[~nums.paper.isin(seeds)]
    graded = outside[outside.verdict.isin(["reproduced", "below", "above"])]
    within = graded[graded.verdict == "reproduced"]
    papers = outside.paper.nunique()
    single = int((within.n_seeds.fillna(0) <= 1).sum())
    unverified = int(within.detail.str.contains("unverified transcription").sum())
    notes = [x for x in (
        "" if not single else "from a single seed" if single == len(within) == 1 else f"{single} from a single seed",
        "" if not unverified else "against an unverified transcription" if unverified == len(within) == 1
        else f"{unverified} against unverified transcriptions") if x]
    seed_note = f" ({', '.join(notes)})" if notes else ""
    second = (f"of {len(outside)} numbers from {papers} outside papers, {len(graded)} ran on their own data and "
              f"{len(within)} fell within tolerance{seed_note}")
    n_other = int((report.table.category != "number").sum())
    return (f"**{first}; {second}.** Besides the numbers, the ledger holds {len(report.orderings)} orderings and "
            f"{n_other} restatements, data-set descriptors and qualitative statements.")


def audit_path(profile: str, out_dir=None) -> Path:
    """``AUDIT.md`` at the output root for the full profile, ``AUDIT_<profile>.md`` otherwise."""
    return out_root(out_dir) / ("AUDIT.md" if profile == "full" else f"AUDIT_{profile}.md")


def write_audit(report: AuditReport, ledgers: dict[str, Ledger], *, out_dir=None) -> Path:
    """Write the markdown audit for ``report.profile``; returns the path (see :func:`audit_path`)."""
    path = audit_path(report.profile, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(audit_markdown(report, ledgers))
    return path


def plot_claims_vs_ours(ax, table: pd.DataFrame, *, tolerance: Tolerance | None = None):
    """Claimed (x) vs ours (y) for every number on a [0, 1] scale, error bars 2·std, the y = x line and the band."""
    tol = tolerance or Tolerance()
    # values only: derived rows are gaps (may be negative) and dataset rows are sizes
    pts = table[table.scale.isin(["percent", "fraction"]) & table.ours_mean.notna() & (table.claim_kind == "value")]
    pts = pts.assign(y=pts.ours_mean)
    lim = [0.0, 1.0] if not len(pts) else [0.0, float(max(pts.claimed_frac.max(), (pts.y + 2 * pts.ours_std.fillna(0)).max(), 0.1)) * 1.08]
    grid = np.linspace(*lim, 50)
    ax.plot(grid, grid, color="0.3", lw=1, label="y = x")
    ax.fill_between(grid, grid - tol.points, grid + tol.points, color="0.85", label=f"±{tol.points * 100:g} points")
    markers = {"reproduced": "o", "below": "v", "above": "^", "carries over": "s", "does not carry over": "D"}
    colors = dict(zip(sorted(table.paper.unique()), plt_colors()))
    for (paper, verdict), g in pts.assign(verdict=pts.verdict.map(verdict_group)).groupby(["paper", "verdict"]):
        ax.errorbar(g.claimed_frac, g.y, yerr=2 * g.ours_std.fillna(0), fmt=markers.get(verdict, "x"), ms=5,
                    color=colors[paper], capsize=2, lw=0.8, label=f"{paper}: {verdict} ({len(g)})")
    if not len(pts):
        ax.text(0.5, 0.5, "no claim has a result yet", ha="center", va="center", transform=ax.transAxes)
    ax.set(xlim=lim, ylim=lim, xlabel="paper's value (fraction)", ylabel="ours (mean ± 2·std)",
           title="Claimed vs ours")
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plt_colors() -> list:
    import matplotlib.pyplot as plt

    return plt.rcParams["axes.prop_cycle"].by_key()["color"]




# ----------------------------------------------------------------- the status table (README, notebooks/README)

STATUS_START, STATUS_END = "<!-- status:start (generated by notebooks/99_audit.ipynb) -->", "<!-- status:end -->"


def _data_status(ledger: Ledger, report: AuditReport) -> str:
    """Where the paper's data sets stand, from the results (never from this machine's data folder)."""
    from mmc_lib.audit.grade import _fetch_hint

    ran = set(report_datasets(report))
    parts = []
    for name, dmap in ledger.datasets.items():
        present = [n for n in dmap.ours if n in ran]
        if any(dmap.is_paper_data(n) for n in present):
            parts.append(f"{name}: present")
        elif present:
            hint = _fetch_hint(dmap.paper_copy)  # the paper's own copy, where `make data` can fetch it
            parts.append(f"{name}: stand-in ({present[0]}" + (f"; paper's data: {hint})" if hint else ")"))
        else:
            hint = _fetch_hint(dmap.ours)
            parts.append(f"{name}: absent" + (f" ({hint})" if hint else ""))
    return "; ".join(parts) or "no data set (definition page)"


def report_datasets(report: AuditReport) -> list[str]:
    """Every data set some graded row ran on."""
    names = set(report.table.ours_dataset.dropna()) - {""}
    for per in report.orderings.get("per_dataset", pd.Series(dtype=object)).fillna(""):
        names |= {p.split(" [")[0] for p in str(per).split(", ") if " [" in p}
    return sorted(names)


def status_table(report: AuditReport, ledgers: dict[str, Ledger], *, data_dir=None) -> pd.DataFrame:
    """Per paper: its notebook, where its data stand, and its numbers and orderings per kind (reproduction /
    replication / generalisation / not tested: data absent / not tested: budget / untestable)."""
    kinds = report.kind_counts()
    rows = []
    for paper, ledger in ledgers.items():
        if not ledger.claims:  # a competitor's own paper with no number on our data sets: listed under the table
            continue
        c = kinds.loc[paper] if paper in kinds.index else pd.Series(dtype=int)
        notebooks = sorted({c.notebook or ledger.notebook for c in ledger.claims} - {None})
        n_num = int((report.table[report.table.paper == paper].category == "number").sum())
        n_ord = int((report.orderings.paper == paper).sum()) if len(report.orderings) else 0
        row = {"paper": paper, "notebook": ", ".join(notebooks) or "— (not yet)",
               "data": _data_status(ledger, report), "numbers + orderings": f"{n_num} + {n_ord}"}
        row.update({k: int(c.get(k, 0)) for k in STATUS_CLASSES})
        rows.append(row)
    return pd.DataFrame(rows)


def status_markdown(report: AuditReport, ledgers: dict[str, Ledger], *, data_dir=None) -> str:
    """The status block written between the status markers of README.md and notebooks/README.md."""
    return "\n".join([
        STATUS_START,
        f"**Status** (from the {report.profile}-profile audit, [AUDIT.md](AUDIT.md)): " + headline(report, ledgers),
        "",
        "Columns count each paper's numbers and orderings by whose result it is: *reproduction* (the paper's data "
        "and protocol, the authors' code), *replication* (our code on the paper's data), *generalisation* (a "
        "stand-in or other data: `carries over` / `does not carry over`, never a verdict on the paper), not tested "
        "(data absent; below the paper's budget), untestable by construction, other (not implemented, no row).",
        "",
        _md_table(status_table(report, ledgers)),
        *_claimless_line(ledgers),
        STATUS_END,
    ])


def _claimless_line(ledgers: dict[str, Ledger]) -> list[str]:
    """A sentence naming the ledgers that hold no claim (own papers reporting nothing on our data sets)."""
    empty = sorted(name for name, ledger in ledgers.items() if not ledger.claims)
    if not empty:
        return []
    return ["", f"Own-paper ledgers with no number on our data sets (each file's header says why): {', '.join(empty)}."]


def write_status(report: AuditReport, ledgers: dict[str, Ledger], paths, *, data_dir=None) -> list[Path]:
    """Replace the status block (between the markers) in each of ``paths``; files without the markers are left."""
    block, written = status_markdown(report, ledgers, data_dir=data_dir), []
    for path in map(Path, paths):
        if not path.is_file():
            continue
        text = path.read_text()
        if STATUS_START in text and STATUS_END in text:
            head, rest = text.split(STATUS_START, 1)
            path.write_text(head + block + rest.split(STATUS_END, 1)[1])
            written.append(path)
    return written


_CLASS_COLOURS = {"reproduction": "#1a7f37", "replication": "#2ca02c", "generalisation": "#9467bd",
                  "not tested: data absent": "#c7c7c7", "not tested: budget": "#ff7f0e", "untestable": "#8c564b",
                  "other": "#e5e5e5"}


def plot_verdict_counts(ax, report: AuditReport):
    """Each paper's numbers and orderings by whose result it is (reproduction / replication / generalisation / not
    tested: data absent / not tested: budget / untestable / other), as shares, counts on the bars. A claimed-vs-ours
    scatter would set numbers on different data side by side, reading as "we beat the paper" or "it fails"."""
    counts = report.kind_counts()
    totals = counts.sum(axis=1).to_numpy(dtype=float)
    left = np.zeros(len(counts))
    for cls in counts.columns:
        values = counts[cls].to_numpy(dtype=float)
        share = 100 * values / np.maximum(totals, 1)
        ax.barh(counts.index, share, left=left, color=_CLASS_COLOURS.get(cls, "0.5"), label=cls)
        for y, (x0, w, v) in enumerate(zip(left, share, values)):
            if v and w >= 3:
                ax.text(x0 + w / 2, y, f"{int(v)}", ha="center", va="center", fontsize=8)
        left += share
    ax.set_yticks(range(len(counts)), [f"{p} ({int(t)})" for p, t in zip(counts.index, totals)])
    ax.set(xlim=(0, 100), xlabel="share of the paper's numbers and orderings (%), counts on the bars",
           ylabel="paper (numbers + orderings)", title=f"Whose result is it? ({report.profile} profile)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    ax.invert_yaxis()
    return ax


def own_paper_table(numbers: pd.DataFrame, *, methods, besides: str) -> pd.DataFrame:
    """The number claims of each method's OWN paper (every ledger but ``besides``, e.g. the DDMC slides) beside
    ours: does our implementation of ``methods`` reproduce what its authors report on a data set we have?

    ``numbers`` is :attr:`~mmc_lib.audit.grade.NotebookVerdicts.numbers`; one row per claim, percent.

    >>> numbers = pd.DataFrame({"paper": ["SCMVC (Wu et al. 2024)", "DDMC"], "kind": ["value"] * 2,
    ...     "method": ["SCMVC"] * 2, "dataset": ["Synthetic3d"] * 2, "metric": ["acc"] * 2, "source": ["Table III", "x"],
    ...     "claimed_frac": [0.982, 0.5], "ours_mean": [0.973, 0.5], "ours_std": [0.0, 0.0], "n_seeds": [1, 5],
    ...     "verdict": ["reproduced", "reproduced"], "detail": ["", ""]})
    >>> own_paper_table(numbers, methods=["SCMVC"], besides="DDMC")[["paper", "paper (%)", "ours (%)", "diff (points)"]]
                        paper  paper (%) ours (%)  diff (points)
    0  SCMVC (Wu et al. 2024)       98.2     97.3           -0.9
    """
    own = numbers[numbers.method.isin(list(methods)) & (numbers.paper != besides) & (numbers.kind == "value")]
    ours = [mean_std(m, s if n > 1 else None) if np.isfinite(m) else "not run"  # one seed: no spread to show
            for m, s, n in zip(own.ours_mean, own.ours_std, own.n_seeds.fillna(0))]
    return pd.DataFrame({
        "paper": own.paper, "method": own.method, "dataset": own.dataset, "metric": own.metric.str.upper(),
        "source": own.source, "paper (%)": (100 * own.claimed_frac).round(1),
        "n seeds": own.n_seeds, "ours (%)": ours,
        "diff (points)": (100 * (own.ours_mean - own.claimed_frac)).round(1),
        "verdict": own.verdict, "detail": own.detail}).reset_index(drop=True)


BUDGET_PREFIX = "below the paper's budget: "


def summary_markdown(report: AuditReport, ledgers: dict[str, Ledger]) -> str:
    """The audit in a few bullets, every number computed from ``report`` (notebook 99's closing summary)."""
    from mmc_lib.audit.grade import CARRIES, NOT_CARRIES, _finding_group

    o = report.orderings
    paper_v = o.verdict.value_counts()
    findings = o[~o.finding.isin(["—", UNTESTABLE])].finding.map(_finding_group).value_counts()
    decided = ", ".join(f"{int(paper_v[v])} {v}" for v in ("holds", "partly", "fails") if v in paper_v) or "none"
    found = ", ".join(f"{int(n)} {k}" for k, n in findings.items()) or "none"
    budget = report.table[report.table.verdict == BUDGET]
    contradicted = report.consistency[report.consistency.status == "contradicted"]
    on_paper = o[o.verdict.isin(["holds", "partly", "fails"])]
    lines = [
        f"* {headline(report, ledgers)}",
        f"* **Orderings.** {len(o)} in the ledger. On the papers' own data: {decided} — all of them the definition "
        f"page's general statements ({', '.join(sorted(set(on_paper.paper)))}), which name no data set. "
        f"{int(paper_v.get(DATA_ABSENT, 0))} were not run on the paper's data (absent); "
        f"{int(paper_v.get(BUDGET, 0))} were not tested at the paper's budget, {int(paper_v.get(UNTESTABLE, 0))} "
        f"are untestable by construction. On other data (generalisation findings): {found}.",
        f"* **Below the paper's budget** ({len(budget)} numbers): " + "; ".join(
            f"{', '.join(f'`{i}`' for i in g.id)}: {why.removeprefix(BUDGET_PREFIX)}"
            for why, g in budget.groupby(budget.detail.str.split(";").str[0], sort=False)) + ".",
        f"* **The papers against their own numbers.** {len(contradicted)} plain contradictions: "
        + ", ".join(f"`{i}`" for i in contradicted.id) + ".",
        f"* Generalisation findings are about our stand-ins, not the papers: `{NOT_CARRIES}` says the claim did not "
        f"hold on that other data set, `{CARRIES}` that it did.",
    ]
    return "\n".join(lines)


VERDICTS_MIME = "application/vnd.mmc-verdicts+json"


def show_verdicts(verdicts, *, columns_numbers=None, columns_orderings=None) -> dict[str, str]:
    """A notebook's verdict cell: counts by kind, the numbers we measured (with kind, n seeds and protocol), the
    orderings (the paper's verdict and the generalisation finding apart), and a machine-readable copy of every
    verdict (``application/vnd.mmc-verdicts+json``) that ``tests/test_notebook_verdicts.py`` compares with AUDIT.md.
    Returns claim id → verdict."""
    from IPython.display import display

    both = verdicts.verdicts()
    display(kind_counts_frame(verdicts))
    measured = verdicts.measured()
    if len(measured):
        display(display_table(measured)[columns_numbers or ["id", "kind", "paper", "ours (mean ± std)", "n seeds",
                                                           "on", "gap", "verdict", "detail"]])
    if len(verdicts.orderings):
        display(verdicts.orderings[columns_orderings or ["id", "verdict", "finding", "per_dataset", "detail"]])
    display({VERDICTS_MIME: {"notebook": verdicts.notebook, "verdicts": both},
             "text/plain": f"{len(both)} verdicts of {verdicts.notebook} (the same grader as AUDIT.md)"}, raw=True)
    return both


def kind_counts_frame(verdicts) -> pd.DataFrame:
    from mmc_lib.audit.grade import kind_counts

    return kind_counts(verdicts.numbers, verdicts.orderings)
