"""How much of a training step torch's Adam takes, and the steps per second, with each of its three implementations
(:mod:`mmc_lib.nn.optim`: ``single`` = torch's own CPU choice and this repository's optimiser before issue 24,
``foreach`` = the default since, ``fused``), on two models of the main table:

* **SCMVC on Synthetic3d**: the authors' 500-500-2000 autoencoders on 3 views, batches of 256, the full
  contrast-phase loss (reconstruction + self-weighted contrast), Adam at 3e-4;
* **CoMVC on MNIST-USPS**: the reference CNN per view, batches of 100, raw pixels, fp32 convolutions, Adam at 1e-3.

Each implementation trains its own copy from the same seeded initialisation on the same batches; the three copies
advance in turn, ``--chunk`` steps at a time, so a change in the machine's load hits all three alike. A step is
``zero_grad → loss → backward → optimiser.step()`` as in :func:`mmc_lib.nn.trainer.run_epoch`; ``optimizer_share``
is the step's time inside ``optimiser.step()``. Times are the thread's CPU seconds (``time.thread_time``: what the
step costs, whatever else runs on the cores) and wall seconds. After the last step it compares every copy with
``single``'s: the largest weight difference and whether the labels on all rows are identical (CoMVC: argmax of the
assignments; SCMVC: k-means with 10 starts, seed 0, on the global features ``H``).

Every line is ``key=value`` pairs, one per model and implementation, then one ``summary`` line per model::

    bench=SCMVC data=synthetic3d impl=foreach steps=300 cpu_steps_per_s=7.81 wall_steps_per_s=7.60 ...

On precision: the CNN runs in float32 here, as ``MVCConfig`` does by default. bf16 convolutions
(``MVCConfig(cnn_bf16=True)``) are not the default because no measurement over ≥ 5 seeds shows that they cost no
accuracy (on one batch they moved the conv-weight gradients by 15-25 % against fp32; benchmarks/README.md).

Usage: ``nice -n 5 python benchmarks/bench_optimizer.py [--steps 300] [--models SCMVC CoMVC] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from mmc_lib.data import load
from mmc_lib.methods import CoMVC, MVCConfig, SCMVCConfig
from mmc_lib.methods.base import kmeans_labels
from mmc_lib.methods.deep_multiview.scmvc import SCMVCNet
from mmc_lib.nn import adam, minibatches, seeded, to_device_views
from mmc_lib.nn.optim import IMPLS

MODELS = ("SCMVC", "CoMVC")


@dataclass
class Copy:
    """One implementation's model, optimiser, batch stream and timers."""

    impl: str
    model: torch.nn.Module
    optimiser: torch.optim.Optimizer
    batches: Callable[[], torch.Tensor]
    cpu: float = 0.0
    cpu_opt: float = 0.0
    wall: float = 0.0
    wall_opt: float = 0.0
    steps: int = 0
    rng: torch.Tensor | None = None  # this copy's global torch RNG state (CoMVC draws its negatives from it)
    losses: list = field(default_factory=list)


def _setup(name: str):
    """(views, n_clusters, build(seed) -> module, lr, batch_size, loss(module, batch), labels(module, views))."""
    if name == "SCMVC":
        ds = load("synthetic3d")
        cfg = SCMVCConfig()
        tensors = to_device_views(ds.views, "cpu")

        def build() -> torch.nn.Module:
            return SCMVCNet([t.shape[1] for t in tensors], cfg)

        def labels(model) -> np.ndarray:
            model.eval()
            with torch.no_grad():
                h = model(tensors)[3].numpy()
            model.train()
            return kmeans_labels(h, ds.n_clusters, n_init=10, seed=0)

        return ds, tensors, build, cfg.lr, cfg.batch_size, (lambda m, rows: m.losses(rows)), labels
    if name == "CoMVC":
        ds = load("mnist-usps", scale=False)  # raw pixels, as the reference code feeds its CNN
        cfg = MVCConfig(encoder="cnn", batch_size=100, n_restarts=1)
        tensors = to_device_views(ds.views, "cpu")
        est = CoMVC(ds.n_clusters, config=cfg)

        def build() -> torch.nn.Module:
            return est._build([t.shape[1] for t in tensors], ds.n_clusters, cfg)

        def labels(model) -> np.ndarray:
            model.eval()
            with torch.no_grad():
                q = torch.cat([model.represent([t[i:i + 1000] for t in tensors])[1]
                               for i in range(0, len(tensors[0]), 1000)])
            model.train()
            return q.argmax(dim=1).numpy()

        return ds, tensors, build, cfg.lr, cfg.batch_size, (lambda m, rows: m.losses(rows)), labels
    raise ValueError(f"unknown model {name!r}; known: {MODELS}")


def _copies(name: str, impls, seed: int):
    ds, tensors, build, lr, batch_size, loss, labels = _setup(name)
    copies = []
    for impl in impls:
        with seeded(seed) as generator:  # the same initial weights and batch order for every implementation
            model = build()
            state = torch.random.get_rng_state()  # the draws inside the loss (negatives) continue from here

        def stream(g=generator, n=len(tensors[0])):
            while True:
                yield from minibatches(n, batch_size, generator=g, device="cpu", drop_last=True)

        copies.append(Copy(impl, model, adam(model.parameters(), lr=lr, impl=impl), stream().__next__, rng=state))
    return ds, tensors, loss, labels, copies


def _advance(copy: Copy, tensors, loss, steps: int) -> None:
    """``steps`` training steps of ``copy`` under its own torch RNG stream, timed."""
    torch.random.set_rng_state(copy.rng)
    copy.model.train()
    for _ in range(steps):
        idx = copy.batches()
        c0, w0 = time.thread_time(), time.perf_counter()
        terms = loss(copy.model, [t[idx] for t in tensors])
        copy.optimiser.zero_grad(set_to_none=True)
        terms["total"].backward()
        c1, w1 = time.thread_time(), time.perf_counter()
        copy.optimiser.step()
        c2, w2 = time.thread_time(), time.perf_counter()
        copy.cpu += c2 - c0
        copy.cpu_opt += c2 - c1
        copy.wall += w2 - w0
        copy.wall_opt += w2 - w1
        copy.steps += 1
        copy.losses.append(float(terms["total"].detach()))
    copy.rng = torch.random.get_rng_state()


def run(name: str, *, steps: int, chunk: int, warmup: int, impls=IMPLS, seed: int = 0) -> list[dict]:
    ds, tensors, loss, labels, copies = _copies(name, impls, seed)
    for copy in copies:  # warm-up steps (allocation, Adam state), not timed
        _advance(copy, tensors, loss, warmup)
        copy.cpu = copy.cpu_opt = copy.wall = copy.wall_opt = 0.0
        copy.steps = 0
    done = 0
    while done < steps:
        n = min(chunk, steps - done)
        for copy in copies:
            _advance(copy, tensors, loss, n)
        done += n
    reference = next((c for c in copies if c.impl == "single"), copies[0])
    ref_labels = labels(reference.model)
    rows = []
    for copy in copies:
        diff = max(float((a.detach() - b.detach()).abs().max())
                   for a, b in zip(copy.model.parameters(), reference.model.parameters()))
        rows.append({
            "bench": name, "data": ds.name, "impl": copy.impl, "steps": copy.steps,
            "cpu_steps_per_s": copy.steps / copy.cpu, "wall_steps_per_s": copy.steps / copy.wall,
            "optimizer_share": copy.cpu_opt / copy.cpu, "wall_optimizer_share": copy.wall_opt / copy.wall,
            "step_ms": 1000 * copy.cpu / copy.steps, "optimizer_ms": 1000 * copy.cpu_opt / copy.steps,
            "max_abs_weight_diff_vs_single": diff,
            "labels_identical_to_single": int(np.array_equal(labels(copy.model), ref_labels)),
            "final_loss": copy.losses[-1]})
    return rows


def fmt(row: dict) -> str:
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items())


def summary(rows: list[dict]) -> dict:
    by = {r["impl"]: r for r in rows}
    out = {"summary": rows[0]["bench"]}
    base = by.get("single")
    for impl, r in by.items():
        out[f"share_{impl}"] = r["optimizer_share"]
        if base is not None and impl != "single":
            out[f"speedup_{impl}"] = r["cpu_steps_per_s"] / base["cpu_steps_per_s"]
    out["target_share_below"] = 0.10
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--impls", nargs="+", default=list(IMPLS), choices=list(IMPLS))
    parser.add_argument("--steps", type=int, default=300, help="timed steps per implementation")
    parser.add_argument("--chunk", type=int, default=25, help="steps one copy takes before the next one's turn")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the library fits on 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_avg = ",".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"torch={torch.__version__} threads={args.threads} cpus={os.cpu_count()} load_avg={load_avg}", flush=True)
    for name in args.models:
        rows = run(name, steps=args.steps, chunk=args.chunk, warmup=args.warmup, impls=args.impls)
        for row in rows:
            print(fmt(row), flush=True)
        print(fmt(summary(rows)), flush=True)


if __name__ == "__main__":
    main()
