"""Seconds per fit of each classical baseline on MNIST-USPS (5000 × 784 × 2 views).

Usage: ``python benchmarks/bench_baselines.py [--dataset NAME] [--repeats N]``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from mmc_lib.methods.classical import BASELINES
from mmc_lib.data import load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-usps")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    ds = load(args.dataset)
    print(f"{args.dataset}: n={ds.n_samples}, dims={ds.dims}; {platform.processor() or platform.machine()}, "
          f"torch threads={torch.get_num_threads()}")
    for name, cls in BASELINES.items():
        times = []
        for seed in range(args.repeats):
            start = time.perf_counter()
            cls(ds.n_clusters, seed=seed).fit_predict(ds.views)
            times.append(time.perf_counter() - start)
        print(f"{name:<10} {statistics.median(times):8.2f} s per fit (median of {args.repeats})")


if __name__ == "__main__":
    main()
