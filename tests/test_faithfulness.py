"""mmc_lib.studies.faithfulness and benchmarks/mvc_side_by_side.py's bookkeeping, on small fake runs (no training)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks import mvc_side_by_side as M
from mmc_lib.studies import dm2c, faithfulness as F


def _run(side, method, seed, acc, *, precision="fp32", ckpt_acc=None):
    curve = [{"epoch": e, "acc": acc - 0.01 * (e < 100), "nmi": acc - 0.05, "ddc1": 0.1 / e} for e in (4, 8, 100)]
    ckpt = acc if ckpt_acc is None else ckpt_acc
    return {"side": side, "method": method, "seed": seed, "precision": precision, "epochs": 100,
            "final": {"epoch": 100, "acc": acc, "nmi": acc - 0.05, "ddc1": 0.001},
            "checkpoint": {"epoch": 100, "ddc1": 0.001, "acc": ckpt, "nmi": ckpt - 0.05}, "curve": curve,
            "wall_seconds": 600.0 + seed, "cpu_seconds": 500.0, "started": "2026-12-03T16:00:00+00:00",
            "finished": "2026-12-03T16:10:00+00:00", "machine": {"load_avg": [4.0, 4.0, 4.0]},
            "code": "DanielTrosten/mvc @ 6e50f6a7bf" if side == "authors" else "mmc-companion @ abc"}


def _doc(rows):
    return json.loads(json.dumps(M.merge(rows, mvc_commit="6e50f6a7bf7338ccb02935a7e273e4e2bbf43370",
                                         budget="test", measured="test")))


THEIRS = [0.87, 0.83, 0.88, 0.86, 0.90]
OURS_SAME = [0.85, 0.84, 0.89, 0.87, 0.88]


@pytest.fixture
def doc():
    rows = [_run("authors", "CoMVC", s, a) for s, a in enumerate(THEIRS)]
    rows += [_run("ours", "CoMVC", s, a) for s, a in enumerate(OURS_SAME)]
    rows += [_run("authors", "SiMVC", s, a) for s, a in enumerate([0.90, 0.91, 0.92])]
    rows += [_run("ours", "SiMVC", s, a) for s, a in enumerate([0.70, 0.71, 0.72])]  # clearly below
    return _doc(rows)


def test_merge_keeps_every_seed_and_counts_each_side(doc):
    assert doc["n"] == {"CoMVC": {"authors' code": 5, "ours (fp32)": 5}, "SiMVC": {"authors' code": 3,
                                                                                     "ours (fp32)": 3}}
    assert doc["mvc_commit"].startswith("6e50f6a") and doc["patches"] == M.PATCHES
    seeds = [r["seed"] for r in doc["methods"]["CoMVC"]["authors' code"]["per_seed"]]
    assert seeds == [0, 1, 2, 3, 4]
    assert set(doc["methods"]["CoMVC"]["ours (fp32)"]["curves"]) == {"0", "1", "2", "3", "4"}


def test_per_seed_table_and_missing_seeds(doc):
    doc["methods"]["SiMVC"]["ours (fp32)"]["per_seed"].pop(0)  # seed 0 of ours not run
    table = F.per_seed_table(doc, "SiMVC")
    assert list(table.columns) == ["authors' code", "ours (fp32)"]  # the authors' code first
    assert table.loc[0, "ours (fp32)"] == "—"
    assert table.loc[1, "authors' code"] == "91.0 / 86.0"
    assert table.loc["mean ± std", "ours (fp32)"].endswith("(n=2)")
    final = F.per_seed_table(doc, "CoMVC", score="final")
    assert final.loc[2, "ours (fp32)"] == "89.0 / 84.0"


def test_verdicts_follow_the_audit_rules(doc):
    table = F.verdict_table(doc).set_index(["method", "metric"])
    assert table.loc[("CoMVC", "ACC"), "verdict"] == "faithful"
    assert table.loc[("SiMVC", "ACC"), "verdict"] == "below"
    assert table.loc[("SiMVC", "ACC"), "gap (points)"] == pytest.approx(-20.0)
    line = F.verdict_line(doc)
    assert "not faithful" in line and "SiMVC ACC: below" in line and "CoMVC ACC: faithful" in line
    only_comvc = dict(doc, methods={"CoMVC": doc["methods"]["CoMVC"]})
    assert F.verdict_line(only_comvc).startswith("Faithfulness of ours (fp32) to the authors' code (the checkpoint")
    assert ": faithful —" in F.verdict_line(only_comvc)


def test_verdict_rule_edges():
    # within the band but significantly different (tiny spreads) is not faithful
    assert F.faithfulness_verdict([0.800, 0.801, 0.800], [0.810, 0.811, 0.810])["verdict"] == "below"
    # a gap larger than the capped band (8 points) is never faithful, however noisy
    noisy = F.faithfulness_verdict([0.5, 0.9, 0.6, 0.95], [0.85, 0.86, 0.84])
    assert noisy["band"] == pytest.approx(0.08) and noisy["verdict"] == "below"
    assert F.faithfulness_verdict([0.8] * 2, [0.8] * 5)["verdict"] == "undecided (too few seeds)"
    with pytest.raises(ValueError):
        F.faithfulness_verdict([0.8, np.nan, 0.8], [0.8] * 3)
    with pytest.raises(ValueError):
        F.per_seed_table({}, "CoMVC", score="best")


def test_no_document_reads_as_not_run():
    assert F.verdict_line(None).startswith("faithfulness: not run")
    assert F.long_scores(None).empty
    with pytest.raises(ValueError):
        F.strip_plot(None)


def test_strip_plot_shows_every_seed_with_labelled_axes(doc, tmp_path):
    from mmc_lib.plotting import axes_labels, save_figure

    fig = F.strip_plot(doc)
    ax = fig.axes[0]
    points = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert sorted(points.round(6)) == sorted((100 * np.array(THEIRS + OURS_SAME + [0.90, 0.91, 0.92, 0.70, 0.71,
                                                                                  0.72])).round(6))
    path = save_figure(fig, "99_test_faithfulness", out_dir=tmp_path)
    panel = json.loads(path.with_suffix(".axes.json").read_text())[0]
    assert panel["ylabel"] == "ACC (%)" and panel["xlabel"] and panel["title"]
    assert panel == axes_labels(fig)[0] and panel["legends"] == ["implementation"]


def test_curves_frame(doc):
    curves = F.curves_frame(doc)
    assert len(curves) == 16 * 3 and set(curves.columns) == {"method", "side", "seed", "epoch", "acc", "nmi", "ddc1"}


def test_jsonl_bookkeeping_resumes_and_survives_a_torn_line(tmp_path):
    out = tmp_path / "runs.jsonl"
    M.append_jsonl(out, _run("authors", "CoMVC", 0, 0.8))
    with open(out, "a") as f:
        f.write('{"side": "ours", "meth')  # a writer killed mid-line
    assert M.done(out) == {("authors", "CoMVC", 0, "fp32", 100, "cpu")}  # rows without a device ran on the CPU
    order = M.campaign([0, 1], ["CoMVC"])
    assert order == [("authors", "CoMVC", 0, "fp32", 100, "cpu"), ("ours", "CoMVC", 0, "fp32", 100, "cpu"),
                     ("authors", "CoMVC", 1, "fp32", 100, "cpu"), ("ours", "CoMVC", 1, "fp32", 100, "cpu")]
    assert [k for k in order if k not in M.done(out)][0] == ("ours", "CoMVC", 0, "fp32", 100, "cpu")
    assert M.campaign([0], ["SiMVC"], ["fp32", "bf16"], device="cuda")[-1] == ("ours", "SiMVC", 0, "bf16", 100, "cuda")


def test_dm2c_reads_its_external_document_through_the_shared_loader(tmp_path):
    assert dm2c.authors_code(tmp_path / "absent.json") is None
    path = tmp_path / "x.json"
    path.write_text('{"per_seed": []}')
    assert dm2c.authors_code(path) == {"per_seed": []} == F.load_external(path)


def test_times_table_and_curve_plot(doc):
    times = F.times_table(doc).set_index(["method", "side"])
    assert times.loc[("CoMVC", "authors' code"), "runs"] == 5
    assert times.loc[("CoMVC", "authors' code"), "wall s (median)"] == 602  # seeds 0..4 → 600..604
    assert F.times_table(None).empty
    fig = F.curve_plot(doc)
    from mmc_lib.plotting import axes_labels

    panels = {p["title"]: p for p in axes_labels(fig)}
    assert set(panels) == {"CoMVC", "SiMVC"} and panels["SiMVC"]["ylabel"] == "ACC (%)"
    line = fig.axes[0].lines[0]  # the authors' code's mean ACC on CoMVC by epoch
    assert list(line.get_xdata()) == [4, 8, 100]
    assert line.get_ydata()[-1] == pytest.approx(100 * np.mean(THEIRS))
    with pytest.raises(ValueError):
        F.curve_plot(doc, metric="loss")


def test_merge_command_writes_the_document_the_study_reads(tmp_path):
    out, result = tmp_path / "runs.jsonl", tmp_path / "external" / "mvc.json"
    for s, a in enumerate(THEIRS[:3]):
        M.append_jsonl(out, _run("authors", "CoMVC", s, a))
        M.append_jsonl(out, _run("ours", "CoMVC", s, a + 0.01))
    assert M.main(["merge", "--out", str(out), "--result", str(result)]) == 0
    doc = F.mvc_authors_code(result)
    assert doc["n"] == {"CoMVC": {"authors' code": 3, "ours (fp32)": 3}} and doc["mvc_commit"] == "6e50f6a7bf"
    assert F.verdict_table(doc).verdict.tolist() == ["faithful", "faithful"]


@pytest.fixture(scope="module")
def tiny_npz(tmp_path_factory):
    """The first 200 rows of our MNIST-USPS in the authors' layout (skipped where the data is absent)."""
    from mmc_lib.data import available

    if not available("mnist-usps"):
        pytest.skip("mnist-usps absent")
    return M.export_npz(tmp_path_factory.mktemp("npz") / "tiny.npz", rows=200)


def test_export_keeps_the_rows_both_sides_read(tiny_npz):
    views, labels = M.load_views(tiny_npz)
    full_views, full_labels = M.load_views(None)
    assert [v.shape for v in views] == [(200, 784), (200, 784)]
    assert np.array_equal(labels, full_labels[:200]) and all(np.array_equal(a, b[:200]) for a, b in
                                                              zip(views, full_views))


def test_our_side_records_curve_final_and_checkpoint(tiny_npz, tmp_path):
    out = tmp_path / "runs.jsonl"
    assert M.main(["run", "--side", "ours", "--method", "SiMVC", "--seed", "0", "--epochs", "8", "--npz", str(tiny_npz),
                   "--out", str(out)]) == 0
    (row,) = M.read_jsonl(out)
    assert [c["epoch"] for c in row["curve"]] == [4, 8] and row["device"] == "cpu" and row["epochs_run"] == 8
    best = min(row["curve"], key=lambda c: c["ddc1"])
    assert row["checkpoint"]["epoch"] == best["epoch"] and row["checkpoint"]["ddc1"] == pytest.approx(best["ddc1"])
    assert row["checkpoint"]["acc"] == pytest.approx(best["acc"])  # the kept weights score as they did then
    assert row["final"]["acc"] == row["curve"][-1]["acc"] and 0 < row["cpu_seconds"]
    assert M.main(["run", "--side", "ours", "--method", "SiMVC", "--seed", "0", "--epochs", "8", "--npz", str(tiny_npz),
                   "--out", str(out)]) == 0  # already there: skipped
    assert len(M.read_jsonl(out)) == 1


MVC_SRC = os.environ.get("MVC_SRC", "/work/ext/mvc/src")


@pytest.mark.skipif(not Path(MVC_SRC, "models", "train.py").is_file(), reason="the authors' code is not checked out "
                    "(it lives outside the project; benchmarks/README.md)")
def test_authors_side_runs_their_code(tiny_npz, tmp_path):
    import importlib.util
    import subprocess
    import sys

    pylib = os.environ.get("MVC_PYLIB", "/work/ext/pylib")  # pydantic 1 and tabulate, installed with --target
    if not Path(pylib, "pydantic").is_dir() and importlib.util.find_spec("pydantic") is None:
        pytest.skip("pydantic (1.x) for the authors' configs is not installed")
    out = tmp_path / "runs.jsonl"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [pylib, os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, M.__file__, "run", "--side", "authors", "--method", "CoMVC", "--seed", "0",
                           "--epochs", "8", "--npz", str(tiny_npz), "--mvc-src", MVC_SRC, "--out", str(out)],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (row,) = M.read_jsonl(out)
    assert row["code"].startswith("DanielTrosten/mvc @ ") and [c["epoch"] for c in row["curve"]] == [4, 8]
    best = min(row["curve"], key=lambda c: c["ddc1"])
    assert row["checkpoint"]["epoch"] == best["epoch"]


def _lockstep(dtype, epoch, gap):
    return {"method": "CoMVC", "seed": 0, "dtype": dtype, "epoch": epoch, "steps": 50 * epoch,
            "max_step_loss_gap": gap, "param_abs_gap": gap / 3, "param_rel_gap": gap, "theirs_acc": 0.77,
            "ours_acc": 0.77 if gap < 1e-3 else 0.75, "theirs_nmi": 0.8, "ours_nmi": 0.8}


def test_lockstep_rows_travel_through_merge_into_a_table(tmp_path, monkeypatch):
    out, result, lock = tmp_path / "runs.jsonl", tmp_path / "mvc.json", tmp_path / "lock.jsonl"
    M.append_jsonl(out, _run("authors", "CoMVC", 0, 0.87))
    for row in (_lockstep("float64", 1, 3e-6), _lockstep("float32", 1, 0.2)):
        M.append_jsonl(lock, row)
    monkeypatch.setattr(M, "LOCKSTEP", lock)
    assert M.main(["merge", "--out", str(out), "--result", str(result)]) == 0
    table = F.lockstep_table(F.mvc_authors_code(result))
    assert table.precision.tolist() == ["float64", "float32"]
    assert table["max loss gap"].tolist() == [3e-6, 0.2] and table["ACC ours (%)"].tolist() == [77.0, 75.0]
    assert F.lockstep_table(None).empty and "max param gap" in F.lockstep_table(None).columns


def test_selection_table_keeps_the_lowest_ddc1_seed_per_side_and_never_reads_scores(doc):
    for side, ddc1 in (("authors' code", [.05, .02, .04, .03, .06]), ("ours (fp32)", [.01, .09, .08, .07, .06])):
        for run, value in zip(doc["methods"]["CoMVC"][side]["per_seed"], ddc1):
            run["checkpoint_ddc1"] = value
    table = F.selection_table(doc).set_index(["method", "side", "protocol"])
    assert table.loc[("CoMVC", "authors' code", "paper's selection"), "seed"] == "1"
    assert table.loc[("CoMVC", "authors' code", "paper's selection"), "ACC (%)"] == "83.0"  # THEIRS[1]
    assert table.loc[("CoMVC", "ours (fp32)", "paper's selection"), "seed"] == "0"
    assert table.loc[("CoMVC", "ours (fp32)", "one run"), "ACC (%)"] == f"86.6 ± {100 * np.std(OURS_SAME):.1f}"
    assert table.loc[("CoMVC", "ours (fp32)", "one run"), "n_runs"] == 5
    for run in doc["methods"]["CoMVC"]["ours (fp32)"]["per_seed"]:  # other scores: the same seed is kept
        run["checkpoint_acc"] = 1 - run["checkpoint_acc"]
    again = F.selection_table(doc).set_index(["method", "side", "protocol"])
    assert again.loc[("CoMVC", "ours (fp32)", "paper's selection"), "seed"] == "0"
    assert F.selection_table(None).empty


def test_selection_rank_table_measures_how_the_rule_ranks_runs(doc):
    ours = doc["methods"]["CoMVC"]["ours (fp32)"]["per_seed"]  # OURS_SAME: ACC .85 .84 .89 .87 .88
    for run in ours:  # ddc_1 rising with ACC: the rule keeps the worst run
        run["checkpoint_ddc1"] = run["checkpoint_acc"] / 10
    theirs = doc["methods"]["CoMVC"]["authors' code"]["per_seed"]  # THEIRS: .87 .83 .88 .86 .90
    for run in theirs:  # ddc_1 falling with ACC: the rule keeps the best run
        run["checkpoint_ddc1"] = 1 - run["checkpoint_acc"]
    table = F.selection_rank_table(doc).set_index(["method", "side"])
    assert table.loc[("CoMVC", "ours (fp32)"), "ρ(ddc_1, ACC)"] == 1.0
    assert table.loc[("CoMVC", "ours (fp32)"), "kept seed's ACC rank"] == "5 of 5"
    assert table.loc[("CoMVC", "authors' code"), "ρ(ddc_1, ACC)"] == -1.0
    assert table.loc[("CoMVC", "authors' code"), "kept seed's ACC rank"] == "1 of 5"
    assert table.loc[("SiMVC", "ours (fp32)"), "n"] == 3
    assert F.selection_rank_table(None).empty


def test_show_campaign_prints_every_table_and_the_verdict_line(doc, capsys):
    doc["lockstep"] = [{"precision": "float64"}]  # present, but left out on request
    F.show_campaign(doc, on=" on CUDA", lockstep=False)
    out = capsys.readouterr().out
    assert "CoMVC on CUDA: percent" in out and "SiMVC on CUDA: percent" in out
    assert F.verdict_line(doc) in out and "kept seed's ACC rank" in out
    assert "Lock-step" not in out and "Precision" not in out  # no bf16 runs in the fixture


def test_precision_table_grades_bf16_against_fp32_by_the_same_rule():
    rows = [_run("ours", "CoMVC", s, a) for s, a in enumerate(OURS_SAME)]
    rows += [_run("ours", "CoMVC", s, a, precision="bf16") for s, a in enumerate([0.86, 0.85, 0.88, 0.86, 0.87])]
    rows += [_run("ours", "SiMVC", s, a) for s, a in enumerate([0.90, 0.91, 0.92])]
    rows += [_run("ours", "SiMVC", s, a, precision="bf16") for s, a in enumerate([0.70, 0.71, 0.72])]
    rows += [_run("authors", "SiMVC", s, a) for s, a in enumerate([0.90, 0.91, 0.92])]  # never read here
    table = F.precision_table(_doc(rows)).set_index(["method", "metric"])
    assert table.loc[("CoMVC", "ACC"), "verdict"] == "no difference found"
    assert table.loc[("CoMVC", "ACC"), "ours (bf16)"].endswith("(n=5)")
    assert table.loc[("SiMVC", "ACC"), "verdict"] == "bf16 lower"
    assert table.loc[("SiMVC", "ACC"), "gap (points)"] == pytest.approx(-20.0)
    assert table.loc[("SiMVC", "NMI"), "Welch 5 %"] == "bf16 lower"
    only_fp32 = _doc([_run("ours", "CoMVC", s, a) for s, a in enumerate(OURS_SAME)])
    assert F.precision_table(only_fp32).empty and F.precision_table(None).empty
