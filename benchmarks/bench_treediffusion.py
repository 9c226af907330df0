"""Seconds per TreeVAE epoch and per conditional-DDPM step (notebook 05) on the MNIST train split (8000 × 1×28×28).

TreeVAE: one epoch of a grown 10-leaf-sized tree is timed as the mean epoch of a short fit (root + a few splits);
DDPM: optimiser steps of TreeDiffusion's conditional UNet (image condition + path condition) at the full profile's
widths and batch. Every fit runs on one CPU thread (``mmc_lib.runtime.single_threaded``), so the CPU figures are
one-thread figures. Usage: ``python benchmarks/bench_treediffusion.py [--device cpu|cuda|auto|all] [--steps N]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from mmc_lib.data import mnist_split
from mmc_lib.methods.treediffusion import TreeDiffusion
from mmc_lib.methods.treevae import TreeVAE, TreeVAEConfig
from mmc_lib.runtime import resolve_device
from mmc_lib.studies.budgets import budget


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def time_one(device: str, steps: int) -> dict:
    x, _, _, _ = mnist_split()
    cfg = TreeVAEConfig(epochs=2, split_epochs=1, finetune_epochs=1, final_epochs=2)
    _sync(device)
    start = time.perf_counter()
    tree = TreeVAE(10, max_depth=6, device=device, config=cfg).fit(x)
    _sync(device)
    tree_seconds = time.perf_counter() - start
    full = budget("05_treediffusion", "full").diffusion
    ddpm_cfg = type(full)(channels=full.channels, steps=steps, batch_size=full.batch_size, log_every=steps,
                          diffusion=full.diffusion)
    model = TreeDiffusion(tree, device=device, config=ddpm_cfg)
    start = time.perf_counter()
    model.fit(x)
    _sync(device)
    ddpm_seconds = time.perf_counter() - start  # includes computing the conditions once (small next to the steps)
    name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()
    return {"device": device, "device_name": name, "n": len(x), "treevae_epochs": len(tree.history_),
            "treevae_leaves": tree.n_leaves_, "seconds_per_treevae_epoch": round(tree_seconds / len(tree.history_), 3),
            "ddpm_steps": steps, "ddpm_batch": full.batch_size, "unet_widths": list(full.channels),
            "seconds_per_ddpm_step": round(ddpm_seconds / steps, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="DDPM optimiser steps to time")
    parser.add_argument("--device", default="all", help="cpu, cuda, auto, or all (cpu, then cuda when present)")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.device == "all" else [resolve_device(args.device)]
    for device in devices:
        r = time_one(device, args.steps)
        print(f"TreeDiffusion on {device} [{r['device_name']}]{', one thread' if device == 'cpu' else ''}: "
              f"TreeVAE {r['seconds_per_treevae_epoch']:.2f} s/epoch (mean over {r['treevae_epochs']} epochs, "
              f"{r['treevae_leaves']} leaves), DDPM {r['seconds_per_ddpm_step']:.3f} s/step (batch {r['ddpm_batch']})")
        print(json.dumps(r))


if __name__ == "__main__":
    main()
