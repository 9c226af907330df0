"""The reference benchmark: CoMVC, SiMVC and DDMC with CNN encoders on the full MNIST-USPS (5000 rows, two 28×28 views).

Each method is fitted once (one restart, seed 0) with the image configuration of the main table
(:func:`main_config`: the reference code's CNN, batches of 100, Adam at 1e-3) on the CPU with 1 and 2 threads
and on CUDA when a GPU is visible; the whole data set stays on the device. For each fit it prints the wall
seconds, seconds per epoch, ACC and NMI (labels are used for scoring only, after training). DDMC's dominant view
(the silhouette choice) is computed before the timer starts.

The output ENDS with exactly one line per method (the GPU run when present, else the CPU run with the most threads),
for scripts to parse::

    CoMVC acc=0.9921 nmi=0.9790 seconds=142.3 device=cpu threads=2

Usage: ``python benchmarks/bench_mnist_usps.py [--threads 1 2] [--methods CoMVC SiMVC DDMC] [--epochs N]
[--device cpu|cuda|all] [--fp32]``.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from mmc_lib.data import load
from mmc_lib.methods import DDMC, CoMVC, MVCConfig, SiMVC
from mmc_lib.methods.shared import choose_dominant_view
from mmc_lib.metrics import accuracy, nmi

METHODS = {"CoMVC": CoMVC, "SiMVC": SiMVC, "DDMC": DDMC}
EPOCHS = 100  # the reference code's n_epochs


def main_config(epochs: int = EPOCHS, *, threads: int = 1, bf16: bool = True) -> MVCConfig:
    """The main table's image configuration: the reference CNN per view, batches of 100 (the reference's
    ``batch_size``), one restart (a benchmark times one fit)."""
    return MVCConfig(encoder="cnn", cnn_bf16=bf16, batch_size=100, epochs=epochs, n_restarts=1, n_threads=threads)


def time_one(method: str, ds, config: MVCConfig, device: str, dominant: int) -> dict:
    kwargs = {"dominant": dominant} if method == "DDMC" else {}
    model = METHODS[method](ds.n_clusters, config=config, seed=0, device=device, **kwargs)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    sync()
    start = time.perf_counter()
    labels = model.fit_predict(ds.views)
    sync()
    seconds = time.perf_counter() - start
    return {"method": method, "device": device, "threads": config.n_threads, "epochs": config.epochs,
            "seconds": seconds, "seconds_per_epoch": seconds / config.epochs,
            "acc": accuracy(ds.labels, labels), "nmi": nmi(ds.labels, labels)}


def summary(r: dict) -> str:
    return (f"{r['method']} acc={r['acc']:.4f} nmi={r['nmi']:.4f} seconds={r['seconds']:.1f} "
            f"device={'cuda' if r['device'].startswith('cuda') else 'cpu'} threads={r['threads']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="CPU thread counts to time")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--device", default="all", choices=["cpu", "cuda", "all"],
                        help="cpu, cuda, or all (cpu, then cuda when present)")
    parser.add_argument("--fp32", action="store_true", help="float32 convolutions instead of bfloat16 autocast")
    parser.add_argument("--dataset", default="mnist-usps")
    parser.add_argument("--minmax", action="store_true",
                        help="the library's feature-wise min-max scaling instead of the raw pixels")
    args = parser.parse_args()

    # raw pixel values, as the reference code feeds its CNN: feature-wise min-max scaling blows up border pixels that
    # are almost always 0 (on MNIST-USPS, 33 pixels whose largest value is < 0.5 are stretched to 1)
    ds = load(args.dataset, scale=args.minmax)
    dominant = choose_dominant_view(ds.views, ds.n_clusters, seed=0)[0] if "DDMC" in args.methods else 0
    runs = [("cpu", t) for t in args.threads] if args.device in ("cpu", "all") else []
    if args.device == "cuda" or (args.device == "all" and torch.cuda.is_available()):
        runs.append(("cuda", 1))
    load_avg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{args.dataset}: n={ds.n_samples}, views {[v.shape[1] for v in ds.views]}, K={ds.n_clusters}; "
          f"{os.cpu_count()} CPUs, load average {load_avg}; torch {torch.__version__}")
    results = []
    for method in args.methods:
        for device, threads in runs:
            config = main_config(args.epochs, threads=threads, bf16=not args.fp32)
            r = time_one(method, ds, config, device, dominant)
            results.append(r)
            where = torch.cuda.get_device_name() if device == "cuda" else f"cpu, {threads} thread(s)"
            print(f"{method:6s} [{where}] {r['seconds']:8.1f} s for {r['epochs']} epochs = "
                  f"{r['seconds_per_epoch']:.3f} s/epoch  ACC {r['acc']:.4f}  NMI {r['nmi']:.4f}", flush=True)
    for method in args.methods:  # the parseable summary: GPU when present, else the most CPU threads
        mine = [r for r in results if r["method"] == method]
        print(summary(max(mine, key=lambda r: (r["device"] != "cpu", r["threads"]))))


if __name__ == "__main__":
    main()
