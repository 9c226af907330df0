"""CoMVC and SiMVC on MNIST-USPS, the authors' code (DanielTrosten/mvc) beside ours, one run per process (issue 24).

Every run trains ONE model (the authors' ``n_runs = 1``) for 100 epochs with a given seed on all 5000 rows of our
MNIST-USPS file (``mmc_lib.data.load("mnist-usps", scale=False)``: the raw pixels, each 784-d view read as a 1×28×28
image), on one CPU thread, and appends one JSON line to ``--out`` as soon as it finishes: the ACC / NMI and eval
``ddc_1`` every 4 epochs (the authors' ``eval_interval``), the final epoch's ACC / NMI, the ACC / NMI of the weights
checkpointed at the lowest eval ``ddc_1`` (the authors' ``ModelSaver(best_loss_term="ddc_1")``, the contrastive term
left out as in their ``IGNORE_IN_TOTAL``), and wall + CPU seconds. A (side, method, seed, precision, epochs, device) already in
``--out`` is skipped, so an interrupted campaign resumes where it stopped. Labels only score; they never touch
training or the checkpoint.

* ``--side ours``: :class:`mmc_lib.methods.CoMVC` / ``SiMVC`` with ``benchmarks.bench_mnist_usps.main_config``
  (the reference CNN, batches of 100, Adam 1e-3, ``selection="ddc1"`` checked every 4 epochs; float32, or bfloat16
  convolutions with ``--precision bf16``).
* ``--side authors``: the authors' own code, imported from ``--mvc-src`` (a checkout of DanielTrosten/mvc's ``src``,
  kept OUTSIDE the project and never committed; see :data:`SETUP`). Their ``models.train.train`` loop, model,
  loss, optimizer, ``ModelSaver`` and ``evaluate.get_logs`` / ``eval_run`` run unchanged; :data:`PATCHES` lists
  everything done around them.

Usage::

    python benchmarks/mvc_side_by_side.py run --side ours --method CoMVC --seed 0
    python benchmarks/mvc_side_by_side.py run --side authors --method CoMVC --seed 0 --mvc-src /work/ext/mvc/src
    python benchmarks/mvc_side_by_side.py queue --jobs 2 --mvc-src /work/ext/mvc/src   # the whole campaign, resumable
    python benchmarks/mvc_side_by_side.py merge       # → results/external/mvc_authors_code.json

A 100-epoch fp32 run costs 1050–1250 CPU seconds on one core of this machine (either code; measured 2026-12-03,
two runs at a time on a quiet 2-core machine, about 18–22 minutes of wall time each).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python benchmarks/mvc_side_by_side.py` from anywhere: benchmarks.* importable
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "benchmarks" / "out" / "mvc_side_by_side.jsonl"
RESULT = ROOT / "results" / "external" / "mvc_authors_code.json"
EPOCHS = 100
EVAL_EVERY = 4  # the authors' eval_interval (and our checkpoint_every)
METHODS = ("CoMVC", "SiMVC")
AUTHORS_CONFIG = {"CoMVC": "mnist_contrast", "SiMVC": "mnist"}  # src/config/experiments/mnist.py
AUTHORS_REPO = "DanielTrosten/mvc"

SETUP = ("the authors' repository fetched at its newest commit and checked out outside the project (its src/ only; "
         "the LFS data and model files are absent and unused); pydantic<2 (1.10.27) and tabulate installed with "
         "`pip install --target` into a private folder put on PYTHONPATH (their config classes need pydantic 1)")

PATCHES = [
    "no source file of the authors' repository is edited; everything below is done by the runner around it",
    "data: our MNIST-USPS (mmc_lib.data.load('mnist-usps', scale=False), raw pixels in [0, 1], 5000 rows) written as "
    "their data/processed/<name>.npz format (view_0, view_1 as float32 (n, 1, 28, 28), labels, n_views = 2) and "
    "loaded by their data.load.load_dataset; config.dataset_config.name set to that file's name (their "
    "experiment configs name 'mnist_mv', MNIST + edge image, which is not ours)",
    "config: their experiments 'mnist_contrast' (CoMVC) and 'mnist' (SiMVC) unchanged except n_runs = 20 -> 1 (one "
    "run per process and seed; their n_epochs 100, batch_size 100, eval_interval 4, best_loss_term 'ddc_1', "
    "IGNORE_IN_TOTAL = ('contrast',), Adam 1e-3, clip_norm 5 kept)",
    "seeding (their code seeds nothing): torch.manual_seed(seed), np.random.seed(seed), random.seed(seed) before "
    "build_model",
    "CPU, one thread: torch.set_num_threads(1), OMP_NUM_THREADS = MKL_NUM_THREADS = 1; config.DEVICE (their "
    "constants: CUDA whenever visible) set to the run's device, the CPU here (no .cuda() call to patch)",
    "wandb: a stub module in sys.modules (train.py imports it only for wandb.util.generate_id, replaced by a fixed "
    "per-run identifier)",
    "callbacks: their ModelSaver and EarlyStopping (patience 50000) as in train.main; their Printer replaced by a "
    "recorder that keeps the logs of every eval epoch (instrumentation only)",
    "metrics (instrumentation only): evaluate.calc_metrics wrapped to add NMI with arithmetic-mean normalisation "
    "(mmc_lib.metrics.nmi, what our side reports) beside their geometric-mean NMI; ACC is their own ordered_cmat",
    "observed, not changed: their Optimizer clips with clip_grad_norm_(self.params, 5) where self.params is the "
    "generator model.parameters() already consumed by Adam, so no gradient clipping happens in their runs (torch "
    "warns on every step); the warning and torch 2.13's deprecation of their list-index in lib/loss.py:185 are "
    "silenced by the runner (warnings filters, no behaviour change)",
    "final scores: the epoch-100 eval logs (last weights) and evaluate.eval_run(load_best=True) (the weights "
    "ModelSaver kept at the lowest eval ddc_1), as their train.main does",
]


# ------------------------------------------------------------------------------------------------- bookkeeping
def run_key(row: dict) -> tuple:
    return (row["side"], row["method"], int(row["seed"]), row.get("precision", "fp32"), int(row["epochs"]),
            row.get("device", "cpu"))


def read_jsonl(path: Path) -> list[dict]:
    """The rows of a JSONL file (none when absent); a torn last line (a killed writer) is ignored."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_jsonl(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:  # one write of one line: concurrent writers append whole lines
        f.write(json.dumps(row) + "\n")


def done(path: Path) -> set[tuple]:
    return {run_key(r) for r in read_jsonl(path)}


def _machine() -> dict:
    return {"host": platform.node(), "cpu": platform.processor() or platform.machine(), "n_cpus": os.cpu_count(),
            "load_avg": [round(x, 2) for x in os.getloadavg()], "nice": os.nice(0)}


def _git_commit(path: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _device_name(device: str) -> str:
    import torch

    return torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()


def one_thread_env() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")


# ------------------------------------------------------------------------------------------------- our side
def resolve(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device visible")
    return device


def load_views(npz: Path | None):
    """``(views, labels)``: the two 784-d views (float32) and the labels of our MNIST-USPS file — from
    ``mmc_lib.data.load("mnist-usps", scale=False)``, or from an ``export``-ed ``npz`` (the authors' layout), which
    both sides then read byte for byte (a device machine without the data folder; a small file for a quick check)."""
    import numpy as np

    if npz is None:
        from mmc_lib.data import load

        ds = load("mnist-usps", scale=False)
        return [np.asarray(v, dtype=np.float32) for v in ds.views], np.asarray(ds.labels, dtype=np.int64)
    with np.load(npz) as f:
        views = [f[f"view_{i}"].reshape(len(f["labels"]), -1).astype(np.float32) for i in range(int(f["n_views"]))]
        return views, f["labels"].astype(np.int64)


def export_npz(path: Path, rows: int | None = None) -> Path:
    """Write our MNIST-USPS (its first ``rows`` rows, or all) in the authors' ``data/processed/<name>.npz`` layout:
    ``view_i`` float32 ``(n, 1, 28, 28)``, ``labels``, ``n_views``. Atomic (a temporary file, then a rename)."""
    import numpy as np

    views, labels = load_views(None)
    if rows is not None:
        views, labels = [v[:rows] for v in views], labels[:rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
    np.savez(tmp, labels=labels, n_views=len(views),
             **{f"view_{i}": v.reshape(-1, 1, 28, 28) for i, v in enumerate(views)})
    os.replace(tmp, path)
    return path


def run_ours(method: str, seed: int, precision: str, epochs: int = EPOCHS, *, device: str = "cpu",
             npz: Path | None = None) -> dict:
    import torch

    from benchmarks.bench_mnist_usps import main_config
    from mmc_lib.methods import CoMVC, SiMVC
    from mmc_lib.metrics import accuracy, nmi

    torch.set_num_threads(1)
    views, labels = load_views(npz)
    config = replace(main_config(epochs, threads=1, bf16=precision == "bf16", checkpoint_every=EVAL_EVERY),
                     eval_every=EVAL_EVERY)
    model = {"CoMVC": CoMVC, "SiMVC": SiMVC}[method](int(labels.max()) + 1, config=config, seed=seed, device=device)
    code = f"mmc-companion @ {_git_commit(ROOT)[:10]}"  # the commit the run started from
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(views, labels)  # labels: ACC/NMI logging only
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    curve = [{"epoch": int(r["epoch"]), "acc": float(r["acc"]), "nmi": float(r["nmi"]),
              "ddc1": float(r["eval_ddc1"])} for r in model.history_ if "acc" in r and "eval_ddc1" in r]
    last = curve[-1]
    ckpt_epoch = int(model.checkpoint_epochs_[model.selected_run_])
    return {"final": {"epoch": last["epoch"], "acc": last["acc"], "nmi": last["nmi"], "ddc1": last["ddc1"]},
            "checkpoint": {"epoch": ckpt_epoch, "ddc1": float(model.run_scores_[model.selected_run_]),
                           "acc": accuracy(labels, model.labels_), "nmi": nmi(labels, model.labels_)},
            "curve": curve, "wall_seconds": wall, "cpu_seconds": cpu, "epochs_run": int(model.history_[-1]["epoch"]),
            "code": code, "torch_seed": 1000 * seed}  # n_restarts=1: run 0 of seed s is seeded 1000·s


# ------------------------------------------------------------------------------------------------- their side
def run_authors(method: str, seed: int, mvc_src: Path, epochs: int = EPOCHS, *, device: str = "cpu",
                npz: Path | None = None) -> dict:
    import random
    import types

    import numpy as np
    import torch as th

    from mmc_lib.metrics import nmi as nmi_arith

    th.set_num_threads(1)
    # two warnings their code raises on every step with torch 2.13 (noted in PATCHES; silenced to keep logs short)
    warnings.filterwarnings("ignore", message="`parameters` is an empty generator")
    warnings.filterwarnings("ignore", message="Using a non-tuple sequence for multidimensional indexing")
    sys.path.insert(0, str(mvc_src))
    sys.modules.setdefault("wandb", types.SimpleNamespace(util=types.SimpleNamespace(generate_id=lambda: "stub")))
    import config  # noqa: E402  (the authors' modules, from mvc_src)
    from data.load import load_dataset
    from models import callback, evaluate
    from models.build_model import build_model
    from models.train import train

    config.DEVICE = th.device(device)  # their constants pick CUDA whenever it is visible; the run's device instead
    if npz is None:  # our file, written once into their data folder
        name = "mnist_usps_mmc"
        if not (config.DATA_DIR / "processed" / f"{name}.npz").is_file():
            export_npz(config.DATA_DIR / "processed" / f"{name}.npz")
    else:  # the given file, copied there under its own name
        name = f"mmc_{Path(npz).stem}"
        target = config.DATA_DIR / "processed" / f"{name}.npz"
        if not target.is_file() or target.stat().st_size != Path(npz).stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{name}.{os.getpid()}.npz")
            shutil.copyfile(npz, tmp)
            os.replace(tmp, target)
    experiment = AUTHORS_CONFIG[method]
    cfg = config.get_config_by_name(experiment)
    cfg.dataset_config.name = name
    cfg.n_runs = 1
    cfg.n_epochs = epochs

    original = evaluate.calc_metrics

    def calc_metrics(labels, pred):
        out = original(labels, pred)
        out["nmi_arith"] = nmi_arith(np.asarray(labels).astype(np.int64), np.asarray(pred).astype(np.int64))
        return out

    evaluate.calc_metrics = calc_metrics

    class Recorder(callback.Callback):
        def __init__(self):
            super().__init__(epoch_interval=1)
            self.curve, self.last_epoch = [], 0

        def at_epoch_end(self, epoch, logs=None, net=None, **kwargs):
            self.last_epoch = epoch
            if "metrics/acc" in logs:
                self.curve.append({"epoch": int(epoch), "acc": float(logs["metrics/acc"]),
                                   "nmi": float(logs["metrics/nmi_arith"]),
                                   "nmi_geometric": float(logs["metrics/nmi"]),
                                   "ddc1": float(logs["eval_losses/ddc_1"]),
                                   "tot_eval": float(logs.get("eval_losses/tot", float("nan")))})

    th.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    dataset = load_dataset(**cfg.dataset_config.dict())
    loader = th.utils.data.DataLoader(dataset, batch_size=int(cfg.batch_size), shuffle=True, num_workers=0,
                                      drop_last=True, pin_memory=False)
    eval_data = evaluate.get_eval_data(dataset, cfg.n_eval_samples, cfg.batch_size)
    identifier = f"seed{seed}-{os.getpid()}"
    wall, cpu = time.perf_counter(), time.process_time()
    net = build_model(cfg.model_config)
    recorder = Recorder()
    callbacks = (recorder,
                 callback.ModelSaver(cfg=cfg, experiment_name=f"{experiment}_mmc", identifier=identifier, run=0,
                                     epoch_interval=1, best_loss_term=cfg.best_loss_term,
                                     checkpoint_interval=cfg.checkpoint_interval),
                 callback.EarlyStopping(patience=cfg.patience, best_loss_term=cfg.best_loss_term, epoch_interval=1))
    train(cfg, net, loader, eval_data=eval_data, callbacks=callbacks)
    final_logs = recorder.curve[-1] if recorder.curve else None
    best_logs = evaluate.eval_run(cfg=cfg, cfg_name=f"{experiment}_mmc", experiment_identifier=identifier, run=0,
                                  net=net, eval_data=eval_data, callbacks=(), load_best=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    best_curve = min(recorder.curve, key=lambda r: r["ddc1"]) if recorder.curve else None
    if recorder.last_epoch < epochs:
        raise RuntimeError(f"the authors' train() stopped at epoch {recorder.last_epoch} of {epochs} (it catches "
                           "exceptions and returns)")
    return {"final": {k: final_logs[k] for k in ("epoch", "acc", "nmi", "nmi_geometric", "ddc1")},
            "checkpoint": {"epoch": best_curve["epoch"], "ddc1": best_curve["ddc1"],
                           "ddc1_reevaluated": float(best_logs["eval_losses/ddc_1"]),
                           "acc": float(best_logs["metrics/acc"]), "nmi": float(best_logs["metrics/nmi_arith"]),
                           "nmi_geometric": float(best_logs["metrics/nmi"])},
            "curve": recorder.curve, "wall_seconds": wall, "cpu_seconds": cpu, "epochs_run": recorder.last_epoch,
            "code": f"{AUTHORS_REPO} @ {_git_commit(mvc_src)[:10]}", "torch_seed": seed}


# ------------------------------------------------------------------------------------------------- commands
def cmd_run(args) -> int:
    one_thread_env()
    device = resolve(args.device)
    key = (args.side, args.method, args.seed, args.precision, args.epochs, device)
    if key in done(args.out):
        print(f"skip {key}: already in {args.out}")
        return 0
    start = dt.datetime.now(dt.timezone.utc)
    machine = _machine()
    if args.side == "ours":
        row = run_ours(args.method, args.seed, args.precision, args.epochs, device=device, npz=args.npz)
    else:
        if args.precision != "fp32":
            raise SystemExit("the authors' code runs in float32 only")
        if args.mvc_src is None:
            raise SystemExit("--side authors needs --mvc-src (a checkout of DanielTrosten/mvc's src/)")
        row = run_authors(args.method, args.seed, Path(args.mvc_src), args.epochs, device=device, npz=args.npz)
    row = {"side": args.side, "method": args.method, "seed": args.seed, "precision": args.precision,
           "epochs": args.epochs, "device": device, "device_name": _device_name(device),
           "data": str(args.npz) if args.npz else "mmc_lib.data.load('mnist-usps', scale=False)", **row, "started": start.isoformat(timespec="seconds"),
           "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine, "load_avg_end": [round(x, 2) for x in os.getloadavg()]}
    append_jsonl(args.out, row)
    print(f"{args.side:7s} {args.method} seed {args.seed} {args.precision}: ACC final {row['final']['acc']:.4f} "
          f"checkpoint {row['checkpoint']['acc']:.4f} (epoch {row['checkpoint']['epoch']}, ddc_1 "
          f"{row['checkpoint']['ddc1']:.4f}); {row['wall_seconds']:.0f} s wall, {row['cpu_seconds']:.0f} CPU-s")
    return 0


def campaign(seeds, methods=METHODS, precisions=("fp32",), epochs: int = EPOCHS, device: str = "cpu") -> list[tuple]:
    """The order of issue 24: per method, seeds alternating theirs / ours (theirs s0, ours s0, theirs s1, …); bf16
    runs of ours (if asked) after all fp32 runs. Keys as :func:`run_key`."""
    order = [(side, m, s, "fp32", epochs, device) for m in methods for s in seeds for side in ("authors", "ours")]
    order += [("ours", m, s, p, epochs, device) for p in precisions if p != "fp32" for m in methods for s in seeds]
    return order


def cmd_queue(args) -> int:
    """Run the campaign's missing runs, ``--jobs`` processes at a time (each one run), under the caller's nice."""
    device = resolve(args.device)
    todo = [k for k in campaign(args.seeds, args.methods, args.precisions, args.epochs, device)
            if k not in done(args.out)]
    running: list[tuple[tuple, subprocess.Popen]] = []
    log_dir = ROOT / "build" / "mvc_side_by_side_logs"  # never committed
    log_dir.mkdir(parents=True, exist_ok=True)
    while todo or running:
        while todo and len(running) < args.jobs:
            side, method, seed, precision, _, _ = key = todo.pop(0)
            cmd = [sys.executable, str(Path(__file__).resolve()), "run", "--side", side, "--method", method,
                   "--seed", str(seed), "--precision", precision, "--out", str(args.out), "--epochs", str(args.epochs),
                   "--device", device]
            if args.npz:
                cmd += ["--npz", str(args.npz)]
            if side == "authors":
                cmd += ["--mvc-src", str(args.mvc_src)]
            log = open(log_dir / f"{side}_{method}_{seed}_{precision}_{device}.log", "w")
            running.append((key, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)))
            print(f"{dt.datetime.now(dt.timezone.utc):%H:%M:%S} started {key}", flush=True)
        time.sleep(5)
        for item in list(running):
            key, proc = item
            if proc.poll() is not None:
                running.remove(item)
                print(f"{dt.datetime.now(dt.timezone.utc):%H:%M:%S} finished {key} rc={proc.returncode}", flush=True)
    return 0


LOCKSTEP = ROOT / "benchmarks" / "out" / "mvc_trajectory.jsonl"
LOCKSTEP_PROTOCOL = ("benchmarks/mvc_trajectory.py: their model built by their build_model (He init), its weights copied "
                     "into ours; both fed the same batches of 100 and re-seeded before every step so the contrastive "
                     "term draws the same negatives; their train_step beside our run_epoch; per epoch the largest "
                     "gap between the two per-step losses, the largest parameter gap (absolute, and relative to the "
                     "tensor's largest magnitude) and each side's ACC/NMI on all rows")


def merge(rows: list[dict], *, mvc_commit: str, budget: str, measured: str, device: str = "cpu",
          lockstep: list[dict] | None = None) -> dict:
    """The committed document: per (method, side, precision) the per-seed rows (seed order), their curves, times;
    ``lockstep``: the rows of ``mvc_trajectory.py`` (same weights, batches and negatives on both sides)."""
    groups: dict[str, dict] = {}
    for r in sorted(rows, key=lambda r: (r["method"], r["side"], r["precision"], r["seed"])):
        label = "authors' code" if r["side"] == "authors" else f"ours ({r['precision']})"
        g = groups.setdefault(r["method"], {}).setdefault(label, {"per_seed": [], "curves": {}})
        g["per_seed"].append({"seed": r["seed"], "acc": r["final"]["acc"], "nmi": r["final"]["nmi"],
                              "checkpoint_acc": r["checkpoint"]["acc"], "checkpoint_nmi": r["checkpoint"]["nmi"],
                              "checkpoint_epoch": r["checkpoint"]["epoch"], "checkpoint_ddc1": r["checkpoint"]["ddc1"],
                              "wall_seconds": round(r["wall_seconds"], 1), "cpu_seconds": round(r["cpu_seconds"], 1),
                              "load_avg_start": r["machine"]["load_avg"], "finished": r["finished"],
                              "device": r.get("device", "cpu"), "code": r.get("code", "")})
        g["curves"][str(r["seed"])] = [{k: c[k] for k in ("epoch", "acc", "nmi", "ddc1")} for c in r["curve"]]
    counts = {m: {label: len(g["per_seed"]) for label, g in sides.items()} for m, sides in groups.items()}
    return {
        "source": f"{AUTHORS_REPO} @ {mvc_commit[:7]} (the authors' code) beside mmc_lib's CoMVC / SiMVC",
        "measured_by": measured,
        "machine": (f"{sorted({r.get('device_name', '') for r in rows})}: one run per process, "
                    "torch.set_num_threads(1)") if device != "cpu" else
                   "CPU (x86_64), 2 cores, two runs at a time (at times beside other jobs: timed notebook runs, "
                   "tests), torch.set_num_threads(1), OMP_NUM_THREADS=1; "
                   "each run's load average at its start is in per_seed (load_avg_start); wall seconds grow with the "
                   "load, CPU seconds are the less load-dependent figure (still inflated by shared caches)",
        "protocol": "mmc_lib.data.load('mnist-usps', scale=False): all 5000 rows, raw pixels, each view a 1x28x28 "
                    "image; one run per seed (the authors' n_runs = 1), 100 epochs, batches of 100, Adam 1e-3; eval "
                    "on all rows every 4 epochs (ACC, NMI with arithmetic normalisation, eval ddc_1); 'acc'/'nmi' "
                    "are the final epoch's, 'checkpoint_*' those of the weights kept at the lowest eval ddc_1 (the "
                    "authors' ModelSaver; contrast term excluded). Labels only score.",
        "setup": SETUP,
        "patches": PATCHES,
        "budget": budget,
        "date": dt.date.today().isoformat(),
        "mvc_commit": mvc_commit,
        "n": counts,
        "methods": groups,
        "lockstep": lockstep or [],
        "lockstep_protocol": LOCKSTEP_PROTOCOL,
    }


def _relative(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def cmd_merge(args) -> int:
    rows = [r for r in read_jsonl(args.out) if r.get("device", "cpu") == args.device and r["epochs"] == EPOCHS]
    if not rows:
        raise SystemExit(f"no {EPOCHS}-epoch runs on {args.device} in {args.out}")
    mvc_commit = next((r["code"].split("@ ")[1] for r in rows if r["side"] == "authors"), "unknown")
    if args.mvc_src:
        mvc_commit = _git_commit(Path(args.mvc_src))
    doc = merge(rows, mvc_commit=mvc_commit, budget=args.budget, device=args.device, lockstep=read_jsonl(LOCKSTEP),
                measured=f"mmc-companion, {dt.date.today().isoformat()}, outside the project for the authors' code "
                         "(fetched, run as listed under 'patches', never committed); benchmarks/mvc_side_by_side.py "
                         f"for both sides, raw runs in {_relative(args.out)}")
    args.result.parent.mkdir(parents=True, exist_ok=True)
    args.result.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{args.result}: {json.dumps(doc['n'])}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="one run, appended to --out")
    run.add_argument("--side", choices=["ours", "authors"], required=True)
    run.add_argument("--method", choices=METHODS, required=True)
    run.add_argument("--seed", type=int, required=True)
    run.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    queue = sub.add_parser("queue", help="the campaign's missing runs, --jobs at a time")
    queue.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    queue.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    queue.add_argument("--precisions", nargs="+", choices=["fp32", "bf16"], default=["fp32"])
    queue.add_argument("--jobs", type=int, default=2)
    for p in (run, queue):
        p.add_argument("--epochs", type=int, default=EPOCHS)
        p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu")
        p.add_argument("--npz", type=Path, default=None, help="read this export-ed file (both sides) instead of "
                                                              "mmc_lib.data.load('mnist-usps')")
        p.add_argument("--mvc-src", type=Path, default=None, help="DanielTrosten/mvc's src/ (outside the project)")
        p.add_argument("--out", type=Path, default=OUT)
    exp = sub.add_parser("export", help="our MNIST-USPS in the authors' npz layout (for --npz)")
    exp.add_argument("--npz", type=Path, required=True)
    exp.add_argument("--rows", type=int, default=None, help="only the first ROWS rows (a quick check)")
    mer = sub.add_parser("merge", help="--out's runs → results/external/mvc_authors_code.json")
    mer.add_argument("--out", type=Path, default=OUT)
    mer.add_argument("--result", type=Path, default=RESULT)
    mer.add_argument("--mvc-src", type=Path, default=None)
    mer.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="merge the runs of this device only")
    mer.add_argument("--budget", default="≥ 5 seeds × 100 epochs per method and side asked by issue 24; the JSON's "
                                         "'n' says how many finished")
    args = parser.parse_args(argv)
    if args.command == "export":
        print(export_npz(args.npz, args.rows))
        return 0
    return {"run": cmd_run, "queue": cmd_queue, "merge": cmd_merge}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
