"""Wall seconds and peak memory of SMCMB (anchor graphs, near-linear) vs SwMC (sparse k-NN graphs) as n grows.

Rows of MNIST-USPS (stratified subsets of 1000, 2000 and all 5000 rows, two 784-d views), one fit per size and
method at the papers' defaults, on one thread. Peak memory is the numpy/Python heap peak seen by ``tracemalloc``
(scipy's ARPACK/SuperLU work arrays are allocated in C and not counted).
Usage: ``python benchmarks/bench_graph_scaling.py [--sizes 1000 2000 5000] [--methods SMCMB SwMC]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc

from mmc_lib.data import load
from mmc_lib.methods.graph.graph_mvc import ONMSC, SMCMB, SwMC
from mmc_lib.methods.classical.rmkmc import RMKMC
from mmc_lib.metrics import accuracy, nmi

METHODS = {"SMCMB": SMCMB, "SwMC": SwMC, "RMKMC": RMKMC, "ONMSC": ONMSC}


def measure(cls, views, k: int, seed: int = 0) -> tuple[float, float, object]:
    """``(seconds, peak MiB, fitted model)`` of one fit."""
    tracemalloc.start()
    start = time.perf_counter()
    model = cls(k, seed=seed).fit(views)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist-usps")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 5000])
    parser.add_argument("--methods", nargs="+", default=["SMCMB", "SwMC"], choices=sorted(METHODS))
    args = parser.parse_args()
    data_dir = os.environ.get("MMC_DATA_DIR")
    print(f"{args.dataset}; {platform.processor() or platform.machine()}, one thread")
    print(f"{'method':<7} {'n':>6} {'seconds':>9} {'peak MiB':>9} {'ACC':>6} {'NMI':>6}")
    for n in args.sizes:
        ds = load(args.dataset, data_dir=data_dir, max_samples=n)
        for name in args.methods:
            seconds, peak, model = measure(METHODS[name], ds.views, ds.n_clusters)
            print(f"{name:<7} {ds.n_samples:>6} {seconds:>9.1f} {peak:>9.1f} "
                  f"{accuracy(ds.labels, model.labels_):>6.3f} {nmi(ds.labels, model.labels_):>6.3f}", flush=True)


if __name__ == "__main__":
    main()
