"""Seconds per epoch of one DDMC run (default: 100 epochs, one restart) on MNIST-USPS (5000 × 784 × 2 views).

The whole data set lives on the device and mini-batches are index slices (no DataLoader workers).
Every training fit runs on one CPU thread (``mmc_lib.runtime.single_threaded``: a fixed seed gives the same numbers
on any machine), so the CPU figure is a one-thread figure; more cores help by running several fits at once.
Usage: ``python benchmarks/bench_ddmc.py [--dataset NAME] [--epochs N] [--device cpu|cuda|auto|all]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch

from mmc_lib.data import load
from mmc_lib.metrics import accuracy
from mmc_lib.methods import DDMC, MVCConfig
from mmc_lib.methods.shared import choose_dominant_view
from mmc_lib.runtime import resolve_device


def time_one(dataset: str, epochs: int, device: str, batch_size: int) -> dict:
    ds = load(dataset)
    dominant, _ = choose_dominant_view(ds.views, ds.n_clusters, seed=0)  # silhouette choice, timed apart from training
    model = DDMC(ds.n_clusters, alpha=0.1, beta=0.1, dominant=dominant, device=device,
                 config=MVCConfig(epochs=epochs, n_restarts=1, batch_size=batch_size))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    labels = model.fit_predict(ds.views)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    return {"dataset": dataset, "n": ds.n_samples, "epochs": epochs, "batch_size": batch_size, "device": device,
            "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine(),
            "seconds": round(seconds, 2),
            "seconds_per_epoch": round(seconds / epochs, 4), "acc": round(accuracy(ds.labels, labels), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-usps")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="all", help="cpu, cuda, auto, or all (cpu, then cuda when present)")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else []) if args.device == "all" else [resolve_device(args.device)]
    for device in devices:
        r = time_one(args.dataset, args.epochs, device, args.batch_size)
        print(f"DDMC {r['dataset']} (n={r['n']}) on {device} [{r['device_name']}]{', one thread' if device == 'cpu' else ''}: "
              f"{r['seconds']:.1f} s for {r['epochs']} epochs = {r['seconds_per_epoch']:.3f} s/epoch (ACC {r['acc']:.3f})")
        print(json.dumps(r))


if __name__ == "__main__":
    main()
