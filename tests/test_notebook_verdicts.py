"""Every verdict a notebook shows is the audit's: the published verdict cells agree with AUDIT.md's grader on the
committed results, and a planted result changes what the cell prints (``python -m mmc_lib.publish`` re-runs only
those cells)."""

from __future__ import annotations

import json
import shutil

import nbformat
import pytest
from conftest import REPO

from mmc_lib.audit import load_ledgers, run_audit
from mmc_lib.audit.report import VERDICTS_MIME
from mmc_lib.publish import VERDICTS_TAG, rerun_verdicts

NOTEBOOKS = sorted({c.notebook or lg.notebook for lg in load_ledgers().values() for c in lg.claims} - {None})


def _published_verdicts(path) -> dict[str, str]:
    book = nbformat.read(path, as_version=4)
    out = {}
    for cell in book.cells:
        if cell.cell_type == "code" and VERDICTS_TAG in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {}).get(VERDICTS_MIME)
                if data is not None:
                    out.update(data["verdicts"])
    return out


@pytest.fixture(scope="module")
def audit_verdicts() -> dict[str, str]:
    report = run_audit("full", out_dir=REPO)  # the committed results, whatever MMC_OUT_DIR says
    out = dict(zip(report.table.id, report.table.verdict))
    out.update({i: f"{v} | {f}" for i, v, f in zip(report.orderings.id, report.orderings.verdict,
                                                   report.orderings.finding)})
    return out


def test_every_notebook_that_answers_claims_has_a_verdict_cell():
    assert NOTEBOOKS, "no notebook answers a claim?"
    for stem in NOTEBOOKS:
        path = REPO / "notebooks" / f"{stem}.ipynb"
        assert path.is_file(), stem
        assert _published_verdicts(path), f"{stem}: no published verdict cell; run `python -m mmc_lib.publish {stem}`"


@pytest.mark.parametrize("stem", NOTEBOOKS)
def test_published_verdicts_agree_with_the_audit(stem, audit_verdicts):
    shown = _published_verdicts(REPO / "notebooks" / f"{stem}.ipynb")
    ledgers = load_ledgers()
    answered = {c.id for lg in ledgers.values() for c in lg.claims if (c.notebook or lg.notebook) == stem}
    assert set(shown) == answered, f"{stem}: the verdict cell grades other claims than the ledger assigns it"
    differ = {i: (v, audit_verdicts[i]) for i, v in shown.items() if audit_verdicts[i] != v}
    assert not differ, (f"{stem}: verdict cell and AUDIT.md disagree (re-run `python -m mmc_lib.publish {stem}`): "
                        f"{dict(list(differ.items())[:5])}")


def test_no_notebook_output_says_a_paper_fails_outside_its_data(audit_verdicts):
    """No published verdict blames a paper on data that is not its own: every paper-level `fails` / `partly` in a
    notebook is the grader's, and the grader gives those only on the paper's data (or to a general statement)."""
    for stem in NOTEBOOKS:
        for cid, verdict in _published_verdicts(REPO / "notebooks" / f"{stem}.ipynb").items():
            paper_verdict = verdict.split(" | ")[0]
            if paper_verdict in ("fails", "partly"):
                assert cid.startswith("mmcluster."), (stem, cid, verdict)


def test_a_planted_result_flips_the_printed_verdict(tmp_path):
    """The verdict cell is live: with planted results in which clustering all views loses to one view on every data
    set, the re-run cell prints `fails` where the committed results give another verdict."""
    nb = tmp_path / "00_data_and_baselines.ipynb"
    shutil.copy(REPO / "notebooks" / "00_data_and_baselines.ipynb", nb)
    rows = [{"method": m, "dataset": ds, "metric": "acc", "mean": v, "std": 0.005, "n_seeds": 5, "setting": "main",
             "scale": "fraction"}
            for ds in ("cub", "wikipedia", "prokaryotic") for m, v in (("AmKM", 0.40), ("KM", 0.60),
                                                                        ("AmNcuts", 0.40), ("Ncuts", 0.60))]
    folder = tmp_path / "results" / "full"
    folder.mkdir(parents=True)
    (folder / "00_data_and_baselines.json").write_text(json.dumps(
        {"notebook": "00_data_and_baselines", "profile": "full", "provenance": {}, "rows": rows}))
    before = _published_verdicts(nb)["mmcluster.order.multimodal-beats-single.acc"]
    assert rerun_verdicts(nb, out_dir=tmp_path) == 1
    after = _published_verdicts(nb)["mmcluster.order.multimodal-beats-single.acc"]
    assert after == "fails | —" and before != after
