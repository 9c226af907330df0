"""Seconds per training step of each D-MVAE phase, and per DDIM refinement batch, on MNIST-Text (28×28 + text).

Uses the full profile's networks (``budget("04_dmvae", "full").image``). Each phase runs one epoch over
``--steps`` batches and the time is divided by the number of steps; the ``align`` figure includes one fit of the
Gaussian mixture that initialises the prior. The DDIM figure is one ``translate`` of ``--sample-batch`` texts with
refinement minus the same without it. CPU figures are one-thread figures (every fit runs under
``mmc_lib.runtime.single_threaded``). Usage: ``python benchmarks/bench_dmvae.py [--device cpu|cuda|auto|all]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import replace

import torch

from mmc_lib.data.mnist_text import mnist_text
from mmc_lib.methods.generative.dmvae import DMVAE, _phase_align, _phase_recon, _phase_refine
from mmc_lib.runtime import resolve_device, single_threaded
from mmc_lib.studies.budgets import budget


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_phases(device: str, steps: int, sample_batch: int) -> dict:
    cfg = budget("04_dmvae", "full").image
    n = cfg.batch_size * steps
    d = mnist_text(max_samples=max(n, 1000))
    views = [d.x_train[:n], d.t_train[:n]]
    model = DMVAE(10, device=device, config=replace(cfg, epochs_recon=0, epochs_align=0, epochs_refine=0)).fit(views)
    x = model._tensors(views)
    out = {"device": device, "batch_size": cfg.batch_size, "steps": steps,
           "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else platform.machine()}
    with single_threaded():
        gen = torch.Generator().manual_seed(0)
        for phase, fn, field in (("recon", _phase_recon, "epochs_recon"), ("align", _phase_align, "epochs_align"),
                                 ("refine", _phase_refine, "epochs_refine")):
            epochs = {"epochs_recon": 0, "epochs_align": 0, "epochs_refine": 0, field: 1}
            model.config_ = replace(cfg, align_warmup=0, **epochs)
            _sync(device)
            start = time.perf_counter()
            fn(model, x, gen)
            _sync(device)
            out[f"{phase}_s_per_step"] = round((time.perf_counter() - start) / steps, 4)
        texts = d.t_test[:sample_batch]
        times = {}
        for stage in ("adversarial", "diffusion"):
            _sync(device)
            start = time.perf_counter()
            model.translate(texts, source=1, target=0, stage=stage)
            _sync(device)
            times[stage] = time.perf_counter() - start
    out["ddim_refine_s_per_batch"] = round(times["diffusion"] - times["adversarial"], 3)
    out["sample_batch"] = sample_batch
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--sample-batch", type=int, default=500)
    parser.add_argument("--device", default="all", help="cpu, cuda, auto, or all (cpu, then cuda when present)")
    args = parser.parse_args()
    devices = (["cpu"] + (["cuda"] if torch.cuda.is_available() else [])) if args.device == "all" \
        else [resolve_device(args.device)]
    for device in devices:
        r = time_phases(device, args.steps, args.sample_batch)
        print(f"D-MVAE on {device} [{r['device_name']}], batch {r['batch_size']}: recon {r['recon_s_per_step']:.3f} "
              f"s/step, align {r['align_s_per_step']:.3f} s/step, refine {r['refine_s_per_step']:.3f} s/step; "
              f"DDIM refinement of {r['sample_batch']} images {r['ddim_refine_s_per_batch']:.2f} s")
        print(json.dumps(r))


if __name__ == "__main__":
    main()
