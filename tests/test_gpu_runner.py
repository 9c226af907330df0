"""The prepared GPU call (issue 29): its budget, the order of its cells, the wall-clock guard, resuming, cache keys
that a CPU re-run finds, the paper's run selection, the speed-up table, and the whole path on the CPU
(``benchmarks/gpu_run.sh --dry-small``)."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmc_lib.data import available
from mmc_lib.studies import gpu_runner as R
from mmc_lib.studies import grid as G
from mmc_lib.studies.budgets import DEEP_COMPETITORS, DDMC_OUR_DATASETS, budget
from mmc_lib.studies.ddmc import device_table, final_ddc1, run_deep, select_runs, summarize_by

ROOT = Path(__file__).resolve().parents[1]
ALL_OURS = all(available(d) for d in DDMC_OUR_DATASETS)
needs_data = pytest.mark.skipif(not ALL_OURS, reason="the five stand-in data sets are not all present")


# ------------------------------------------------------------------------------------------------ the budget

def test_gpu_budget_is_the_full_protocol_for_the_deep_rows():
    b, full = budget("01_ddmc", "gpu"), budget("01_ddmc", "full")
    for m in DEEP_COMPETITORS:
        assert b.competitor_seeds(m) == (0, 1, 2)
        assert all(b.runs_competitor(m, d) for d in DDMC_OUR_DATASETS)
        assert b.schedule_note(m) == ""  # nothing cut
    assert "DEMVC" not in b.competitor_options  # the authors' 20 000 clustering steps
    assert full.competitor_options["DEMVC"]["config"]["iterations"] < 20000
    assert b.n_selection_runs == 20 and full.n_selection_runs == 0
    assert (b.selection_encoder, b.selection_batch_size, b.selection_scale) == ("cnn", 100, False)
    # everything else is the full profile's, so the cells the two share have the same keys
    assert (b.epochs, b.n_restarts, b.n_seeds, b.max_samples) == (full.epochs, full.n_restarts, full.n_seeds, {})
    td = budget("05_treediffusion", "gpu")
    assert td.diffusion.steps == 32000 and td.diffusion.batch_size == 256
    assert td.tree == budget("05_treediffusion", "full").tree


def test_gpu_budget_errors_name_the_choices():
    with pytest.raises(ValueError, match="no 'gpu' budget"):
        budget("02_dm2c", "gpu")
    with pytest.raises(ValueError, match="unknown profile"):
        budget("01_ddmc", "tpu")


# ------------------------------------------------------------------------------------------------ order of value

@needs_data
def test_cells_come_in_order_of_value(tmp_path):
    cells = R.build_cells("gpu", device="cuda", work=tmp_path)
    tiers = [c.tier for c in cells]
    assert tiers == sorted(tiers) and set(tiers) == {0, 1, 2, 3, 4, 5}
    full = budget("01_ddmc", "full")
    blank = {(m, d) for m in DEEP_COMPETITORS for d in DDMC_OUR_DATASETS if not full.runs_competitor(m, d)}
    first = [c for c in cells if c.tier == 0]
    assert {(c.params["method"], c.params["dataset"]) for c in first} == blank  # every blank cell, first seed
    assert {c.params["seed"] for c in first} == {0}
    competitors = [c for c in cells if c.tier <= 2]
    assert len(competitors) == len(DEEP_COMPETITORS) * len(DDMC_OUR_DATASETS) * 3
    cnn = [c for c in cells if c.tier == 3]
    assert len(cnn) == 3 * 20 and {c.params["encoder"] for c in cnn} == {"cnn"}
    assert all(c.params["n_restarts"] == 1 and c.params["scale"] is False for c in cnn)
    # the CNN runs go round the three methods, so a cut-off call leaves each with as many runs
    assert [c.params["seed"] for c in cnn[:6]] == [0, 0, 0, 1, 1, 1]
    assert [c.study for c in cells[-3:]] == ["05_treediffusion"] * 3  # TreeDiffusion last
    assert len({c.path(tmp_path) for c in cells}) == len(cells)  # no two cells share a file


# ------------------------------------------------------------------------------------------------ keys

def _never(**params):
    raise AssertionError("a cached cell was recomputed")


def test_cache_key_ignores_device_data_and_cache_folder(tmp_path):
    base = {"method": "SiMVC", "dataset": "cub", "seed": 0, "epochs": 5}
    one = G.cell_path(_never, {**base, "device": "cuda", "data_dir": "/gpu/data"}, tmp_path)
    assert one == G.cell_path(_never, {**base, "device": "cpu", "data_dir": None}, tmp_path)
    assert one == G.cell_path(_never, {**base, "device": "cpu", "cache_dir": "/elsewhere"}, tmp_path)
    assert one != G.cell_path(_never, {**base, "seed": 1, "device": "cuda"}, tmp_path)
    assert one != G.cell_path(_never, {**base, "epochs": 6, "device": "cuda"}, tmp_path)


def test_cpu_run_loads_a_gpu_cell_and_says_so(tmp_path):
    gpu_params = {"method": "SiMVC", "dataset": "cub", "seed": 0, "device": "cuda", "data_dir": "/gpu"}
    G.write_cell(G.cell_path(_never, gpu_params, tmp_path), gpu_params,
                 {"acc": 0.5, "nmi": 0.4, "ari": 0.3, "purity": 0.6, "device": "cuda"})
    df = G.run_grid(_never, [{"method": "SiMVC", "dataset": "cub", "seed": 0, "device": "cpu", "data_dir": None}],
                    cache_dir=tmp_path)
    assert df.loc[0, "device"] == "cuda" and df.loc[0, "acc"] == 0.5
    cpu_row = pd.DataFrame([{"method": "SiMVC", "dataset": "cub", "seed": 1, "acc": 0.6, "nmi": 0.5, "ari": 0.4,
                             "purity": 0.7, "device": "cpu"}])
    mixed = pd.concat([df, cpu_row], ignore_index=True)
    assert device_table(mixed).loc["SiMVC", "cub"] == "cpu+cuda"
    assert summarize_by(mixed, "method").loc[0, "device"] == "cpu+cuda"
    assert device_table(cpu_row) is None  # one device: no column needed
    rows = G.to_result_rows(summarize_by(mixed, "method"), metrics=["acc"])
    assert rows[0]["device"] == "cpu+cuda" and rows[0]["n_seeds"] == 2


# ------------------------------------------------------------------------------------------------ guard, resume

def _cell(i: int, fn, tier: int = 0) -> R.Cell:
    return R.Cell("01_ddmc", "test", fn, {"method": "M", "dataset": f"d{i}", "seed": i}, tier, f"cell {i}")


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_wall_clock_guard_starts_nothing_late_and_lets_running_cells_finish(tmp_path):
    clock = _Clock()
    ran = []

    def slow(method, dataset, seed):  # the first cell takes "1000 s"
        ran.append(seed)
        clock.now += 1000.0
        return {"acc": 1.0, "device": "cpu"}

    cells = [_cell(i, slow) for i in range(4)]
    with ThreadPoolExecutor(1) as pool:
        report = R.execute(cells, work=tmp_path / "w", out=tmp_path / "o", workers=1, stop_after=480,
                           executor=pool, clock=clock)
    assert ran == [0]  # started at 0 s, finished although it ran past the guard
    assert [r["label"] for r in report.done_now] == ["cell 0"]
    assert report.not_started_guard == ["cell 1", "cell 2", "cell 3"]
    assert cells[0].path(tmp_path / "w").is_file() and not cells[1].path(tmp_path / "w").is_file()
    log = R.read_log(tmp_path / "o")
    assert len(log) == 1 and log[0]["seconds"] >= 0 and log[0]["device"] == "cpu"


def test_a_cell_expected_to_overrun_is_left_for_the_next_call(tmp_path):
    def quick(method, dataset, seed):
        return {"acc": 1.0}

    cells = [_cell(0, quick), _cell(1, quick, tier=1)]
    out = tmp_path / "o"
    out.mkdir()
    # an earlier call measured 500 s for the kind of cell 1
    (out / R.LOG).write_text(json.dumps({"status": "ok", "kind": list(cells[1].kind), "seconds": 500.0}) + "\n")
    clock = _Clock()
    clock.now = 0.0
    with ThreadPoolExecutor(1) as pool:
        report = R.execute(cells, work=tmp_path / "w", out=out, workers=1, stop_after=480, hard_limit=400,
                           executor=pool, clock=clock)
    assert [r["label"] for r in report.done_now] == ["cell 0"]
    assert report.not_started_estimate == ["cell 1"]


def test_errors_are_logged_and_a_second_call_resumes(tmp_path):
    calls = []

    def flaky(method, dataset, seed):
        calls.append(seed)
        if seed == 1 and calls.count(1) == 1:
            raise RuntimeError("CUDA hiccup")
        return {"acc": seed / 10, "device": "cpu"}

    cells = [_cell(i, flaky) for i in range(3)]
    work, out = tmp_path / "w", tmp_path / "o"
    with ThreadPoolExecutor(2) as pool:
        first = R.execute(cells, work=work, out=out, workers=2, executor=pool)
    assert len(first.done_now) == 2 and [e["label"] for e in first.errors] == ["cell 1"]
    assert "CUDA hiccup" in first.errors[0]["error"]
    # the packed cells alone bring the finished runs to a fresh machine
    fresh = tmp_path / "fresh"
    assert R.unpack(out, fresh) == 2
    with ThreadPoolExecutor(2) as pool:
        second = R.execute(cells, work=fresh, out=out, workers=2, executor=pool)
    assert second.done_before == 2 and [r["label"] for r in second.done_now] == ["cell 1"]
    assert sorted(calls) == [0, 1, 1, 2]  # only the failed cell ran again
    with tarfile.open(out / R.CELLS) as tar:
        names = tar.getnames()
    assert len(names) == 3 and all(n.startswith("cache/full/01_ddmc/test/") for n in names)


# ------------------------------------------------------------------------------------------------ selection

@pytest.mark.skipif(not available("synthetic3d"), reason="synthetic3d absent")
def test_final_ddc1_is_label_free_and_selection_picks_its_minimum():
    runs = pd.DataFrame([{"method": "SiMVC", "dataset": "synthetic3d", "seed": s,
                          **run_deep("SiMVC", "synthetic3d", s, epochs=2, n_restarts=1, max_samples=60)}
                         for s in range(3)])
    assert runs["final_ddc1"].between(0, 1).all() and runs["device"].eq("cpu").all()
    again = run_deep("SiMVC", "synthetic3d", 0, epochs=2, n_restarts=1, max_samples=60)
    assert again["final_ddc1"] == runs.loc[0, "final_ddc1"]  # deterministic for a seed
    chosen = select_runs(runs)
    assert chosen.loc[0, "seed"] == runs.loc[runs.final_ddc1.idxmin(), "seed"]
    # the metrics ride along but never decide: shuffled, the same run is chosen
    shuffled = runs.assign(acc=np.random.default_rng(0).permutation(runs.acc.values), nmi=0.0)
    assert select_runs(shuffled).loc[0, "seed"] == chosen.loc[0, "seed"]
    with pytest.raises(ValueError, match="final_ddc1"):
        select_runs(runs.drop(columns="final_ddc1"))


def test_final_ddc1_matches_a_planted_separation():
    from mmc_lib.methods import MVCConfig, SiMVC

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    views = [np.c_[y, 1 - y] + rng.normal(0, .05, (80, 2)) for _ in range(2)]
    cfg = MVCConfig(hidden=(16,), latent_dim=4, epochs=30, batch_size=40, n_restarts=1)
    trained = SiMVC(2, config=cfg).fit(views)
    barely = SiMVC(2, config=MVCConfig(hidden=(16,), latent_dim=4, epochs=1, batch_size=40, n_restarts=1)).fit(views)
    # ddc_1 is low when the clusters are separated in the hidden space: a trained model beats a barely trained one
    assert final_ddc1(trained, views) < final_ddc1(barely, views)


# ------------------------------------------------------------------------------------------------ speed-up

def test_speedup_compares_only_the_same_fit(tmp_path):
    full = budget("01_ddmc", "full")
    probe = {"method": "SiMVC", "dataset": "cub", "seed": 0, "epochs": full.epochs, "n_restarts": full.n_restarts,
             "alpha": 0.1, "beta": 0.1, "max_samples": None, "device": "cuda", "data_dir": None}
    cnn = dict(probe, encoder="cnn", n_restarts=1)
    found = [(R.Cell("01_ddmc", "deep", _never, probe, 4, "p"), {"params": probe,
                                                               "result": {"seconds": 2.0, "device": "cuda"}}),
             (R.Cell("01_ddmc", "deep", _never, cnn, 3, "c"), {"params": cnn,
                                                             "result": {"seconds": 9.0, "device": "cuda"}})]
    cpu_file = tmp_path / "01.json"
    cpu_file.write_text(json.dumps({"provenance": {"device": "cpu"},
                                    "extra": {"budget": {"epochs": 100, "n_restarts": 2},
                                              "seconds_per_epoch": {"SiMVC": {"cub": 0.05}}}}))
    rows = {r["what"]: r for r in R.speedup_table(found, R.cpu_seconds(cpu_file))}
    assert rows["speed probe"]["cpu_s"] == 10.0 and rows["speed probe"]["speedup"] == 5.0
    assert rows["CNN encoders under the paper's run selection"]["cpu_s"] is None


# ------------------------------------------------------------------------------------------------ the script

@pytest.mark.skipif(not all(available(d) for d in ("synthetic3d", "mnist-usps")), reason="data absent")
def test_dry_small_runs_the_whole_call_on_the_cpu_and_resumes(tmp_path):
    env = {**os.environ, "PYTHON": str(Path(os.sys.executable))}
    out = tmp_path / "dry"
    cmd = ["bash", str(ROOT / "benchmarks" / "gpu_run.sh"), "--dry-small", "--out", str(out)]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    summary = json.loads((out / R.SUMMARY).read_text())
    assert summary["left"] == 0 and summary["done"] == summary["cells"] > 0
    assert summary["call"]["errors"] == [] and summary["call"]["done_now"] == summary["cells"]
    log = R.read_log(out)
    assert len(log) == summary["cells"] and all(r["device"] == "cpu" and r["seconds"] > 0 for r in log)
    assert {"cnn_selected", "competitors"} <= set(summary["tables"])
    assert all(r["final_ddc1"] is not None for r in summary["tables"]["cnn_selected"])
    assert "check: " in first.stdout and "read back" in first.stdout
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(
        [R.CELLS, R.LOG, R.SUMMARY, R.SUMMARY_TXT, "run.log"])  # within the device's 8 files
    # a second call (the script's arguments, in this process) finds every cell and runs none
    args = ["run", "--budget", "gpu-small", "--device", "cpu", "--workers", "2", "--out", str(out), "--work",
            str(tmp_path / "fresh"), "--resume", str(out), "--studies", "01_ddmc", "--methods", "EAMC", "SCMVC",
            "SiMVC", "CoMVC", "DDMC", "--datasets", "synthetic3d", "mnist-usps"]
    assert R.main(args) == 0
    again = json.loads((out / R.SUMMARY).read_text())["call"]
    assert again["done_now"] == 0 and again["done_before"] == summary["cells"]


@needs_data
def test_the_cpu_study_finds_every_gpu_cell_of_notebook_01(tmp_path):
    """The promise behind the call: notebook 01's own run lists (on the CPU, another data folder) name the very
    files the GPU call writes, so its CPU re-run with the ``gpu`` budget loads them instead of fitting."""
    from mmc_lib.studies.ddmc import DDMCStudy, competitor_run

    gpu_cells = [c for c in R.build_cells("gpu", device="cuda", data_dir="/device/.gpu_data", work=tmp_path)
                 if c.study == "01_ddmc"]
    cache = G.study_cache("01_ddmc", "full", tmp_path)
    study = DDMCStudy(budget("01_ddmc", "gpu"), device="cpu", data_dir=None, cache=cache)
    cpu_paths = {G.cell_path(competitor_run, r, cache / "competitors") for r in study.competitor_runs()}
    cpu_paths |= {G.cell_path(run_deep, r, cache / "deep") for r in study.selection_runs() + study.main_runs()[0]}
    assert {c.path(tmp_path) for c in gpu_cells} <= cpu_paths
