"""The GPU call (issue 29): the cells of the ``gpu`` budgets, run many at a time on one device, in order of value,
inside a wall-clock guard, written as the usual cache cells.

* **Cells.** One cell = one run of a study's run function with the parameters its notebook uses
  (:func:`build_cells`); its file is :func:`mmc_lib.studies.grid.cell_path` under
  ``<work>/cache/<cache_profile>/<notebook>/<folder>/``, the very file the notebook's ``run_grid`` looks for. The
  device, data folder and cache folder are not part of the key (:data:`mmc_lib.studies.grid.UNKEYED`), so the CPU
  re-run of a notebook loads a GPU cell instead of recomputing it, and the cell says which device made it.
* **Order of value** (:data:`TIERS`): the blank cells of DDMC's main table first (the deep competitors on the data
  sets the CPU profile leaves out, first seed, then the other seeds), then the cells the CPU filled on a cut schedule
  or with one seed, then SiMVC/CoMVC/DDMC with CNN encoders under the paper's run selection, then a CPU-comparable
  speed probe (the full profile's own MLP runs, first seed), then TreeDiffusion's denoiser at the authors' schedule.
* **Filling the device.** ``workers`` processes (spawned, so each has its own CUDA context and stream; one CPU
  thread each) share it: small MLP fits leave a GPU idle one at a time. Without MPS their kernels time-slice.
* **Wall-clock guard.** No cell starts after ``stop_after`` seconds (default 480); running ones finish. A cell whose
  expected seconds (the median of its kind in the log, or its prior) would end past ``hard_limit`` is left for the
  next call. Every finished cell is written at once and packed into ``<out>/cells.tar.gz``, so a killed call loses
  only the cells in flight, and a second call (``--resume`` with the unpacked or packed cells) starts where it stopped.
* **What comes back** (at most eight files under ``<out>``, the device's limit): ``cells.tar.gz`` (the cache cells,
  paths relative to the repository root), ``models.tar`` (TreeDiffusion's fitted models, when it ran),
  ``gpu_log.jsonl`` (one line per cell: device, seconds, worker, status), ``gpu_summary.json`` and
  ``gpu_summary.txt`` (cells done and left, GPU utilisation sampled with ``nvidia-smi`` when present, the speed-up
  table against the CPU seconds of ``results/full/01_ddmc.json``).

Usage (``benchmarks/gpu_run.sh`` wraps it)::

    python -m mmc_lib.studies.gpu_runner plan  [--budget gpu] [--work DIR]
    python -m mmc_lib.studies.gpu_runner run   [--budget gpu] --out DIR [--work DIR] [--workers N] [--device cuda]
    python -m mmc_lib.studies.gpu_runner check --out DIR [--work DIR]

This module computes no result itself (it calls the studies' run functions), so it is not part of
:func:`~mmc_lib.studies.grid.code_version`: editing it keeps every cell valid.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from mmc_lib.studies import grid as G

#: the order of value; a lower tier always starts first
TIERS = {
    0: "blank table cell, first seed",
    1: "blank table cell, further seeds",
    2: "cell the CPU filled on a cut schedule or one seed, at the full protocol",
    3: "CNN encoders under the paper's run selection",
    4: "speed probe: the full profile's own MLP runs, first seed",
    5: "TreeDiffusion's denoiser at the authors' schedule",
}
STUDIES = ("01_ddmc", "05_treediffusion")
LOG, SUMMARY, SUMMARY_TXT, CELLS, MODELS = "gpu_log.jsonl", "gpu_summary.json", "gpu_summary.txt", "cells.tar.gz", \
    "models.tar"
#: a-priori seconds of a cell kind with no measurement yet (only where a wrong start would waste the call): the
#: denoiser's 32 000 steps of batch 256 on a (64, 128) UNet, guessed at ~12 ms a step on an H200, plus TreeVAE
PRIOR_SECONDS = {("05_treediffusion", "tree"): 480.0}


@dataclass(frozen=True)
class Cell:
    """One run of a study: ``fn(**params)`` cached under ``<work>/cache/<cache_profile>/<study>/<folder>``."""

    study: str
    folder: str
    fn: Callable[..., dict]
    params: dict = field(hash=False)
    tier: int
    label: str

    def cache_dir(self, work: Path, cache_profile: str = "full") -> Path:
        return G.study_cache(self.study, cache_profile, work) / self.folder

    def path(self, work: Path, cache_profile: str = "full") -> Path:
        return G.cell_path(self.fn, self.params, self.cache_dir(work, cache_profile))

    @property
    def kind(self) -> tuple:
        """What the seconds of a cell are predicted from: the same fit but for the seed (study, folder, method, data
        set, encoder, epochs and restarts)."""
        p = self.params
        return (self.study, self.folder, p.get("method"), p.get("dataset"), p.get("encoder", "mlp"), p.get("epochs"),
                p.get("n_restarts"))


# ------------------------------------------------------------------------------------------------ the cells

def build_cells(budget_name: str = "gpu", *, device: str = "cuda", data_dir: str | None = None,
                work: str | os.PathLike = ".", cache_profile: str = "full", seed: int = 0,
                studies=STUDIES, methods=None, datasets=None) -> list[Cell]:
    """Every cell of the ``budget_name`` budgets (``"gpu"`` or ``"gpu-small"``) of ``studies``, in the order of value.

    ``methods`` / ``datasets`` (optional) keep only those (a dry run's subset)."""
    from mmc_lib.studies.budgets import DEEP_COMPETITORS, budget
    from mmc_lib.studies.ddmc import DEEP, DDMCStudy

    unknown = set(studies) - set(STUDIES)
    if unknown:
        raise ValueError(f"unknown studies {sorted(unknown)}; the GPU budgets cover {list(STUDIES)}")
    cells: list[tuple[tuple, Cell]] = []
    if "01_ddmc" in studies:
        b = budget("01_ddmc", budget_name)
        cpu = budget("01_ddmc", "full")  # what the CPU profile runs: its blank cells are the GPU's first job
        study = DDMCStudy(b, seed=seed, device=device, data_dir=data_dir)
        order = {m: i for i, m in enumerate((*DEEP_COMPETITORS, *DEEP))}
        sets = {d: i for i, d in enumerate(study.datasets)}
        for r in study.competitor_runs():
            if r["method"] not in DEEP_COMPETITORS:
                continue  # the classical competitors already run at their full protocol on the CPU
            blank = not cpu.runs_competitor(r["method"], r["dataset"])
            tier = (0 if r["seed"] == seed else 1) if blank else 2
            cells.append(((tier, r["seed"], order[r["method"]], sets[r["dataset"]]),
                          Cell("01_ddmc", "competitors", _competitor_run(), r, tier,
                               f"{r['method']} {r['dataset']} seed {r['seed']}")))
        for r in study.selection_runs():
            cells.append(((3, r["seed"], order[r["method"]], sets[r["dataset"]]),
                          Cell("01_ddmc", "deep", _run_deep(), r, 3,
                               f"{r['method']}-{r['encoder'].upper()} {r['dataset']} run {r['seed'] - seed + 1}")))
        deep_runs, _ = study.main_runs()
        for r in deep_runs:
            if r["seed"] == seed:
                cells.append(((4, r["seed"], order[r["method"]], sets[r["dataset"]]),
                              Cell("01_ddmc", "deep", _run_deep(), r, 4, f"{r['method']} {r['dataset']} seed {seed}")))
    if "05_treediffusion" in studies:
        from mmc_lib.studies.treediffusion import NOTEBOOK, tree_run

        b = budget(NOTEBOOK, budget_name)
        tree_cache = str(G.study_cache(NOTEBOOK, cache_profile, work))
        for s in b.seeds(seed):
            params = {"seed": s, "profile": budget_name, "data_dir": data_dir, "cache_dir": tree_cache,
                      "device": device}
            cells.append(((5, s, 0, 0), Cell(NOTEBOOK, "tree", tree_run, params, 5,
                                              f"TreeDiffusion seed {s} ({b.diffusion.steps} denoiser steps)")))
    keep = [c for _, c in sorted(cells, key=lambda kc: kc[0])]
    if methods is not None:
        keep = [c for c in keep if c.params.get("method", "TreeDiffusion") in set(methods)]
    if datasets is not None:
        keep = [c for c in keep if c.params.get("dataset", "mnist") in set(datasets)]
    return keep


def _competitor_run():
    from mmc_lib.studies.ddmc import competitor_run

    return competitor_run


def _run_deep():
    from mmc_lib.studies.ddmc import run_deep

    return run_deep


# ------------------------------------------------------------------------------------------------ running

def _init_worker() -> None:
    """Each worker: one CPU thread (many workers share the machine's cores; one thread also keeps a seed's
    numbers the same on any CPU)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)


def _work(fn: Callable[..., dict], params: dict, path: str, parent_pid: int) -> dict:
    """In a worker: run one cell, write it (atomically), report status, seconds, device and process."""
    start = time.perf_counter()
    try:
        record = G._run_one(fn, params, Path(path), parent_pid)
    except Exception as exc:  # one broken cell must not end the call
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500],
                "seconds": time.perf_counter() - start, "pid": os.getpid()}
    return {"status": "ok", "seconds": time.perf_counter() - start, "pid": os.getpid(),
            "device": record["result"].get("device", "cpu")}


def process_pool(workers: int) -> Executor:
    """``workers`` spawned processes (a CUDA context cannot be forked), one thread each."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker)


class GpuSampler:
    """Samples ``nvidia-smi`` (GPU utilisation %, memory MiB) every ``every`` seconds in a thread; silent and empty
    where ``nvidia-smi`` is absent (a CPU dry run)."""

    def __init__(self, every: float = 2.0):
        self.every, self.samples = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="gpu-sampler")
        self.available = shutil.which("nvidia-smi") is not None

    def __enter__(self):
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
                                      "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=10)
                util, mem = (float(x) for x in out.stdout.strip().splitlines()[0].split(","))
                self.samples.append((util, mem))
            except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
                pass
            self._stop.wait(self.every)

    def summary(self) -> dict:
        if not self.samples:
            return {"sampled": False, "why": "nvidia-smi absent" if not self.available else "no sample read"}
        util = [u for u, _ in self.samples]
        return {"sampled": True, "n_samples": len(util), "util_mean": round(statistics.fmean(util), 1),
                "util_max": max(util), "memory_max_mib": max(m for _, m in self.samples)}


@dataclass
class CallReport:
    """What one call did."""

    done_before: int = 0  # cells found finished (resumed) when the call began
    done_now: list = field(default_factory=list)  # log records of cells finished in this call
    errors: list = field(default_factory=list)
    not_started_guard: list = field(default_factory=list)  # labels left by the wall-clock guard
    not_started_estimate: list = field(default_factory=list)  # labels whose expected seconds would overrun
    wall_seconds: float = 0.0


def read_log(out: Path) -> list[dict]:
    path = Path(out) / LOG
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def expected_seconds(cell: Cell, log: list[dict]) -> float | None:
    """The median seconds of finished cells of the same kind in the log, else the kind's prior, else ``None``."""
    seen = [r["seconds"] for r in log if r.get("status") == "ok" and tuple(r.get("kind", ())) == cell.kind]
    if seen:
        return float(statistics.median(seen))
    return PRIOR_SECONDS.get((cell.study, cell.folder))


def execute(cells: list[Cell], *, work: Path, out: Path, workers: int, stop_after: float = 480.0,
            hard_limit: float = 540.0, cache_profile: str = "full", executor: Executor | None = None,
            clock: Callable[[], float] = time.monotonic, call_id: str | None = None) -> CallReport:
    """Run the cells not yet in ``work``'s cache, ``workers`` at a time, lowest tier first, under the guard.

    ``stop_after``: no cell starts later (seconds since the call began); ``hard_limit``: no cell starts whose
    expected seconds (:func:`expected_seconds`) would end after it. Each finished cell is logged to ``out``'s
    ``gpu_log.jsonl`` and packed into ``cells.tar.gz`` before the next one is awaited."""
    work, out = Path(work), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report = CallReport()
    call_id = call_id or time.strftime("%Y%m%dT%H%M%S")
    todo = []
    for c in cells:
        if c.path(work, cache_profile).is_file():
            report.done_before += 1
        else:
            todo.append(c)
    log = read_log(out)
    start = clock()
    own = executor is None
    pool = executor or process_pool(workers)
    running: dict = {}
    try:
        queue = list(todo)
        while queue or running:
            while queue and len(running) < workers:
                elapsed = clock() - start
                if elapsed >= stop_after:
                    report.not_started_guard += [c.label for c in queue]
                    queue = []
                    break
                cell = queue.pop(0)
                expect = expected_seconds(cell, log + report.done_now)
                if expect is not None and elapsed + expect > hard_limit:
                    report.not_started_estimate.append(cell.label)
                    continue
                path = cell.path(work, cache_profile)
                path.parent.mkdir(parents=True, exist_ok=True)
                future = pool.submit(_work, cell.fn, cell.params, str(path), os.getpid())
                running[future] = (cell, clock() - start)
            if not running:
                break
            finished, _ = wait(list(running), timeout=5.0, return_when=FIRST_COMPLETED)
            for future in finished:
                cell, started = running.pop(future)
                outcome = future.result()
                record = {"call": call_id, "label": cell.label, "study": cell.study, "folder": cell.folder,
                          "kind": list(cell.kind), "tier": cell.tier, "method": cell.params.get("method"),
                          "dataset": cell.params.get("dataset"), "seed": cell.params.get("seed"),
                          "cell": cell.path(work, cache_profile).name, "started_s": round(started, 2),
                          "finished_s": round(clock() - start, 2), **outcome}
                record["seconds"] = round(record["seconds"], 3)
                with open(out / LOG, "a") as fh:
                    fh.write(json.dumps(record) + "\n")
                (report.done_now if outcome["status"] == "ok" else report.errors).append(record)
                pack(work, out, models=cell.study == "05_treediffusion")
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    report.wall_seconds = clock() - start
    pack(work, out, models=True)
    return report


def pack(work: Path, out: Path, *, models: bool = False) -> None:
    """``<out>/cells.tar.gz``: every cache cell (``*.json``) under ``<work>/cache``, named relative to ``work`` (so
    ``tar -xzf cells.tar.gz`` in the repository root puts them where the notebooks look); with ``models``, also
    ``<out>/models.tar`` with the fitted models and extractors (``*.pt``). Both written atomically."""
    root = Path(work) / "cache"
    if not root.is_dir():
        return
    for name, pattern, mode, wanted in ((CELLS, "*.json", "w:gz", True), (MODELS, "*.pt", "w", models)):
        files = sorted(root.rglob(pattern)) if wanted else []
        if not files:
            continue
        tmp = Path(out) / f".{name}.{os.getpid()}.tmp"
        with tarfile.open(tmp, mode) as tar:
            for f in files:
                tar.add(f, arcname=f.relative_to(work).as_posix())
        os.replace(tmp, Path(out) / name)


def unpack(source: Path, work: Path) -> int:
    """Seed ``work`` from a previous call: its ``cells.tar.gz`` / ``models.tar`` (or a folder holding them) and its
    log. Returns the number of cells unpacked."""
    source, work = Path(source), Path(work)
    n = 0
    for name in (CELLS, MODELS):
        tar_path = source / name if source.is_dir() else source
        if tar_path.is_file() and tar_path.name == name:
            with tarfile.open(tar_path) as tar:
                members = [m for m in tar.getmembers() if m.isfile() and m.name.startswith("cache/")
                           and ".." not in Path(m.name).parts]
                tar.extractall(work, members=members, filter="data")
                n += sum(m.name.endswith(".json") for m in members)
    return n


# ------------------------------------------------------------------------------------------------ tables

def cell_records(cells: list[Cell], work: Path, cache_profile: str = "full") -> list[tuple[Cell, dict]]:
    """(cell, record) of every finished cell; raises on an unreadable one (a check must not pass over it)."""
    found = []
    for c in cells:
        path = c.path(work, cache_profile)
        if path.is_file():
            record = json.loads(path.read_text())
            if not {"params", "result"} <= set(record):
                raise ValueError(f"{path} is not a run record")
            found.append((c, record))
    return found


def results_tables(found: list[tuple[Cell, dict]]) -> dict:
    """The GPU rows as tables: competitors (mean ± std ACC/NMI with seed count and device per method × data set),
    the CNN rows (every run, and the run the paper's selection keeps), TreeDiffusion (per seed)."""
    import pandas as pd

    from mmc_lib.studies.ddmc import select_runs, summarize_by

    frames = {}
    for key, tier_set in (("competitors", {0, 1, 2}), ("selection", {3}), ("probe", {4})):
        rows = [{**r["params"], **r["result"]} for c, r in found if c.tier in tier_set]
        frames[key] = pd.DataFrame(rows)
    out: dict = {}
    if len(frames["competitors"]):
        s = summarize_by(frames["competitors"], "method")
        out["competitors"] = s[["method", "dataset", "acc_mean", "acc_std", "acc_count", "nmi_mean", "device"]] \
            .round(4).to_dict(orient="records")
    if len(frames["selection"]):
        runs = frames["selection"]
        s = summarize_by(runs, "method")
        out["cnn_runs"] = s[["method", "dataset", "acc_mean", "acc_std", "acc_count", "device"]].round(4) \
            .to_dict(orient="records")
        chosen = select_runs(runs)
        out["cnn_selected"] = chosen[["method", "dataset", "seed", "final_ddc1", "acc", "nmi", "device"]].round(4) \
            .to_dict(orient="records")
    trees = [{**r["params"], **r["result"]} for c, r in found if c.tier == 5]
    if trees:
        out["treediffusion"] = [{k: t.get(k) for k in ("seed", "treevae_acc", "fid_treevae", "fid_treediffusion",
                                                       "ddpm_steps", "seconds_ddpm", "device")} for t in trees]
    return out


def cpu_seconds(results_file: Path) -> dict:
    """CPU seconds per run from a CPU results file (``results/full/01_ddmc.json``): ``extra.seconds_per_run`` where
    it was recorded, else SiMVC/CoMVC/DDMC's ``extra.seconds_per_epoch`` × epochs × restarts of its budget."""
    if not Path(results_file).is_file():
        return {}
    payload = json.loads(Path(results_file).read_text())
    extra = payload.get("extra", {})
    if payload.get("provenance", {}).get("device", "cpu") != "cpu":
        return {}
    table: dict = {}
    b = extra.get("budget", {})
    for method, per in extra.get("seconds_per_epoch", {}).items():
        for dataset, s in per.items():
            table[(method, dataset)] = {"seconds": s * b.get("epochs", 100) * b.get("n_restarts", 1),
                                        "from": "seconds_per_epoch × epochs × restarts"}
    for method, per in extra.get("seconds_per_run", {}).items():
        for dataset, rec in per.items():
            if rec.get("device", "cpu") == "cpu":
                table[(method, dataset)] = {"seconds": rec["seconds"], "from": "seconds_per_run"}
    return table


def speedup_table(found: list[tuple[Cell, dict]], cpu: dict, *, budget_name: str = "gpu") -> list[dict]:
    """Per method and data set: the median wall seconds of a fit in the GPU call (while the other workers share the
    device) beside the CPU seconds of the same fit (same parameters) and the ratio. A CPU number exists only where
    the CPU profile ran the same schedule: the probe cells (the full profile's MLP runs) and the competitors whose
    GPU options equal the full profile's; the rest show no CPU number and say why."""
    from mmc_lib.studies.budgets import budget

    full = budget("01_ddmc", "full")
    groups: dict = {}
    for c, r in found:
        if c.study != "01_ddmc":
            continue
        groups.setdefault((c.tier, r["params"]["method"], r["params"]["dataset"]), []).append((c, r))
    rows = []
    for (tier, method, dataset), members in sorted(groups.items()):
        c0, r0 = members[0]
        gpu_s = statistics.median(r["result"]["seconds"] for _, r in members)
        devices = "+".join(sorted({r["result"].get("device", "?") for _, r in members}))
        ref = cpu.get((method, dataset))
        note = ""
        if tier == 3:
            ref, note = None, "CNN encoders: the CPU profile has no such run (benchmarks/README: ~150-300 s per fit)"
        elif not same_schedule(r0["params"], tier, full):
            ref, note = None, "not the CPU profile's schedule"
        elif ref is None:
            note = "no CPU seconds recorded for this cell"
        rows.append({"method": method, "dataset": dataset, "what": TIERS[tier].split(":")[0], "n": len(members),
                     "device": devices, "gpu_s": round(gpu_s, 2),
                     "cpu_s": round(ref["seconds"], 2) if ref else None,
                     "speedup": round(ref["seconds"] / gpu_s, 1) if ref and gpu_s > 0 else None, "note": note})
    return rows


def same_schedule(params: dict, tier: int, full) -> bool:
    """Whether a cell's fit is the one the CPU full profile (``full``, its budget) makes, so that their seconds
    compare: the competitors' options and row cap, or the deep runs' epochs, restarts, row cap and encoder."""
    dataset = params["dataset"]
    if params.get("max_samples") != full.cap(dataset):
        return False
    if tier in (0, 1, 2):
        return params.get("options") == full.competitor_config(params["method"], dataset)
    return (params.get("epochs") == full.epochs and params.get("n_restarts") == full.n_restarts
            and params.get("encoder", "mlp") == "mlp")


def _fmt_table(rows: list[dict], columns: list[str]) -> str:
    if not rows:
        return "  (none)\n"
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  " + "  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  " + "  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def summarize_call(cells: list[Cell], work: Path, out: Path, *, report: CallReport | None, gpu: dict,
                   budget_name: str, workers: int, device: str, cache_profile: str = "full",
                   cpu_results: Path | None = None) -> dict:
    """Write ``gpu_summary.json`` / ``gpu_summary.txt`` under ``out`` and return the summary."""
    found = cell_records(cells, work, cache_profile)
    left = [c for c in cells if not c.path(work, cache_profile).is_file()]
    per_tier = {t: {"cells": sum(c.tier == t for c in cells), "done": sum(c.tier == t for c, _ in found)}
                for t in sorted({c.tier for c in cells})}
    from mmc_lib.runtime import project_root

    cpu = cpu_seconds(cpu_results or project_root() / "results" / "full" / "01_ddmc.json")
    speed = speedup_table(found, cpu, budget_name=budget_name)
    summary = {"budget": budget_name, "device": device, "workers": workers, "environment": _environment(),
               "cells": len(cells), "done": len(found), "left": len(left), "left_cells": [c.label for c in left],
               "tiers": {f"{t} {TIERS[t]}": v for t, v in per_tier.items()}, "gpu": gpu,
               "tables": results_tables(found), "speedup": speed}
    if report is not None:
        summary["call"] = {"done_before": report.done_before, "done_now": len(report.done_now),
                           "errors": [{"label": e["label"], "error": e.get("error")} for e in report.errors],
                           "left_by_guard": len(report.not_started_guard),
                           "left_by_estimate": report.not_started_estimate,
                           "wall_seconds": round(report.wall_seconds, 1),
                           "cell_seconds_sum": round(sum(r["seconds"] for r in report.done_now), 1)}
    Path(out).mkdir(parents=True, exist_ok=True)
    (Path(out) / SUMMARY).write_text(json.dumps(summary, indent=1, default=str) + "\n")
    (Path(out) / SUMMARY_TXT).write_text(format_summary(summary))
    return summary


def format_summary(s: dict) -> str:
    buf = io.StringIO()
    env = s["environment"]
    buf.write(f"GPU call, budget {s['budget']}: device {s['device']} ({env.get('cuda_device') or 'no CUDA device'}), "
              f"{s['workers']} workers, torch {env.get('torch')}\n")
    buf.write(f"cells: {s['done']} of {s['cells']} done, {s['left']} left\n")
    if "call" in s:
        c = s["call"]
        buf.write(f"this call: {c['done_now']} done ({c['done_before']} found done before), {len(c['errors'])} "
                  f"errors, {c['left_by_guard']} not started by the wall-clock guard, "
                  f"{len(c['left_by_estimate'])} left as too long for the time left; wall {c['wall_seconds']} s, "
                  f"sum of cell seconds {c['cell_seconds_sum']} s\n")
        for e in c["errors"]:
            buf.write(f"  error: {e['label']}: {e['error']}\n")
    for tier, v in s["tiers"].items():
        buf.write(f"  tier {tier}: {v['done']}/{v['cells']}\n")
    g = s["gpu"]
    buf.write(("GPU utilisation (nvidia-smi): mean {util_mean} %, max {util_max} %, memory max {memory_max_mib} MiB, "
               "{n_samples} samples\n").format(**g) if g.get("sampled") else f"GPU utilisation: not sampled "
              f"({g.get('why')})\n")
    t = s["tables"]
    if "competitors" in t:
        buf.write("deep competitors (ACC mean ± std over n seeds):\n")
        buf.write(_fmt_table(t["competitors"], ["method", "dataset", "acc_mean", "acc_std", "acc_count", "device"]))
    if "cnn_selected" in t:
        buf.write("CNN rows, every run:\n" + _fmt_table(t["cnn_runs"], ["method", "dataset", "acc_mean", "acc_std",
                                                                       "acc_count", "device"]))
        buf.write("CNN rows, the paper's selection (lowest final ddc_1):\n")
        buf.write(_fmt_table(t["cnn_selected"], ["method", "dataset", "seed", "final_ddc1", "acc", "nmi", "device"]))
    if "treediffusion" in t:
        buf.write("TreeDiffusion:\n" + _fmt_table(t["treediffusion"], list(t["treediffusion"][0])))
    buf.write("speed-up (median wall seconds per fit; GPU fits share the device with the other workers):\n")
    buf.write(_fmt_table(s["speedup"], ["method", "dataset", "what", "n", "device", "gpu_s", "cpu_s", "speedup",
                                        "note"]))
    return buf.getvalue()


def _environment() -> dict:
    import torch

    env = {"torch": torch.__version__, "python": sys.version.split()[0], "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        env["cuda_device"] = torch.cuda.get_device_name(0)
    return env


# ------------------------------------------------------------------------------------------------ command line

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m mmc_lib.studies.gpu_runner", description=__doc__.splitlines()[0])
    p.add_argument("command", choices=["plan", "run", "check"])
    p.add_argument("--budget", default="gpu", choices=["gpu", "gpu-small"])
    p.add_argument("--out", type=Path, default=Path("gpu_out"), help="where the packed results come to rest")
    p.add_argument("--work", type=Path, default=None, help="the live cache (default: <out>/work)")
    p.add_argument("--resume", type=Path, default=None, help="a previous call's output folder or cells.tar.gz")
    p.add_argument("--workers", type=int, default=None, help="parallel fits (default: CPU cores - 2, at least 1)")
    p.add_argument("--device", default="auto", help="cuda, cpu or auto")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--stop-after", type=float, default=480.0, help="seconds after which no cell starts")
    p.add_argument("--hard-limit", type=float, default=540.0, help="no cell starts that is expected to end later")
    p.add_argument("--cache-profile", default="full", help="cache/<this>/<notebook>/ (the notebooks' profile)")
    p.add_argument("--studies", nargs="+", default=list(STUDIES), choices=list(STUDIES))
    p.add_argument("--methods", nargs="+", default=None)
    p.add_argument("--datasets", nargs="+", default=None)
    p.add_argument("--cpu-results", type=Path, default=None, help="CPU results for the speed-up table")
    return p


def main(argv: list[str] | None = None) -> int:
    from mmc_lib.runtime import env_default, resolve_device

    args = _parser().parse_args(argv)
    out = args.out.resolve()
    work = (args.work or out / "work").resolve()
    device = resolve_device(args.device)
    data_dir = args.data_dir or env_default("MMC_DATA_DIR")
    workers = args.workers or max(1, (os.cpu_count() or 2) - 2)
    if args.resume is not None:
        print(f"resumed {unpack(args.resume, work)} cells from {args.resume}")
    cells = build_cells(args.budget, device=device, data_dir=data_dir, work=work, cache_profile=args.cache_profile,
                        studies=args.studies, methods=args.methods, datasets=args.datasets)
    if args.command == "plan":
        log = read_log(out)
        for i, c in enumerate(cells):
            state = "done" if c.path(work, args.cache_profile).is_file() else "left"
            expect = expected_seconds(c, log)
            print(f"{i:4d}  tier {c.tier}  {state:4s}  {c.label}" + (f"  (~{expect:.0f} s)" if expect else ""))
        print(f"{len(cells)} cells; tiers: " + "; ".join(f"{t} = {TIERS[t]}" for t in sorted({c.tier for c in cells})))
        return 0
    if args.command == "run":
        os.environ["OMP_NUM_THREADS"] = "1"  # inherited by the spawned workers
        os.environ["MKL_NUM_THREADS"] = "1"
        print(f"{len(cells)} cells, {workers} workers on {device}; no cell starts after {args.stop_after:.0f} s",
              flush=True)
        with GpuSampler() as sampler:
            report = execute(cells, work=work, out=out, workers=workers, stop_after=args.stop_after,
                             hard_limit=args.hard_limit, cache_profile=args.cache_profile)
        summary = summarize_call(cells, work, out, report=report, gpu=sampler.summary(), budget_name=args.budget,
                                 workers=workers, device=device, cache_profile=args.cache_profile,
                                 cpu_results=args.cpu_results)
        print(format_summary(summary), flush=True)
        return 0
    # check: every finished cell reads back, and the tables build from them
    if not (work / "cache").is_dir() and (out / CELLS).is_file():
        unpack(out, work)
    previous = json.loads((out / SUMMARY).read_text()) if (out / SUMMARY).is_file() else {}
    summary = summarize_call(cells, work, out, report=None, gpu=previous.get("gpu", {"sampled": False, "why": "check"}),
                             budget_name=args.budget, workers=workers, device=device,
                             cache_profile=args.cache_profile, cpu_results=args.cpu_results)
    if "call" in previous:
        summary["call"] = previous["call"]
        (out / SUMMARY).write_text(json.dumps(summary, indent=1, default=str) + "\n")
        (out / SUMMARY_TXT).write_text(format_summary(summary))
    print(f"check: {summary['done']} of {summary['cells']} cells read back; tables: {sorted(summary['tables'])}")
    return 0 if summary["done"] else 1


if __name__ == "__main__":
    sys.exit(main())
