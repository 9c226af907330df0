"""Why DDMC falls below k-means on all views on some of notebook 06's sets (issue 24, item 4): one JSON line per
(data set, seed, variant), from small diagnostic fits.

Every variant is notebook 06's DDMC run (``run_deep``'s construction: 100 epochs, one run, α = β = 0.1, the
silhouette's dominant view, min-max scaled views) with ONE thing changed:

* ``default`` — as notebook 06;
* ``DDC`` / ``DDC+FDL`` / ``DDC+CDL`` — loss groups switched off (the ablation's names; ``DDC+FDL`` drops the
  cluster-diversity terms, among them the uniform-marginal term);
* ``no_club`` — the vCLUB term set to 0 (its variational net still trained);
* ``steps800`` — epochs raised so that training takes ≥ 800 optimiser steps (MNIST-USPS's count at 2000 rows);
* ``raw`` — unscaled features (the loaders' feature-wise min-max scaling off); ``rownorm`` — each row of each
  view scaled to unit L2 norm after min-max (the usual convention for bag-of-words views);
* ``objective3`` / ``ddc1x3`` — three runs, kept by the lowest final objective / by the paper's ddc_1 rule;
* ``fuse`` — the fusion of all modalities instead of the dominant-modality enhancement;
* ``fullbatch`` — one batch of all rows per step.

Logged per fit: ACC/NMI (labels used for scoring only, after training) and the label-free quantities a default
could be chosen by — the final objective and ``L_DDC``, whether the loss was still falling (``L_DDC`` at epochs
25/50/75/100), the final eval ``ddc_1``, the number of non-empty clusters and the normalised entropy of the cluster
sizes, next to the same entropy of k-means on all views (AmKM's partition, seed 0).

Usage: ``nice -n 5 python benchmarks/diagnose_generalisation.py --datasets webkb 3sources --seeds 0 1
--variants default DDC+FDL --out benchmarks/out/generalisation_diag.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace

import numpy as np

import mmc_lib.methods.deep_multiview.ddmc as ddmc_module
from mmc_lib.data import load
from mmc_lib.methods import DDMC, AmKM, MVCConfig
from mmc_lib.methods.deep_multiview.ddmc import ABLATIONS
from mmc_lib.methods.base import eval_ddc1
from mmc_lib.metrics import accuracy, nmi
from mmc_lib.nn import to_device_views
from mmc_lib.studies.ddmc import dominant_choice

VARIANTS = ("default", "DDC", "DDC+FDL", "DDC+CDL", "no_club", "steps800", "raw", "rownorm", "objective3", "ddc1x3",
            "fuse", "fullbatch")
CAPS = {"mnist-usps": 2000}  # notebook 06's row caps


def size_entropy(labels: np.ndarray, k: int) -> float:
    """Entropy of the cluster sizes over log K: 1 = perfectly balanced, 0 = one cluster."""
    p = np.bincount(labels, minlength=k) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / math.log(k))


class _NoClub:
    """Context: DDMC's vCLUB estimate contributes 0 to the loss (its variational net still fits by likelihood)."""

    def __enter__(self):
        self.orig = ddmc_module.CLUB.forward

        def forward(club, z, d):
            mi, nll = self.orig(club, z, d)
            return mi * 0.0, nll

        ddmc_module.CLUB.forward = forward

    def __exit__(self, *exc):
        ddmc_module.CLUB.forward = self.orig


def fit(dataset: str, seed: int, variant: str) -> dict:
    cap = CAPS.get(dataset)
    scale = variant != "raw"
    ds = load(dataset, max_samples=cap, scale=scale)
    views = ds.views
    if variant == "rownorm":
        views = [v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12) for v in views]
    n = ds.n_samples
    config = MVCConfig(epochs=100, n_restarts=1)
    kwargs = {"alpha": 0.1, "beta": 0.1, "losses": ABLATIONS["all"], "combine": "enhance"}
    if variant in ABLATIONS:
        kwargs["losses"] = ABLATIONS[variant]
    if variant == "steps800":
        config = replace(config, epochs=max(100, math.ceil(800 / math.ceil(n / config.batch_size))))
    if variant == "objective3":
        config = replace(config, n_restarts=3)
    if variant == "ddc1x3":
        config = replace(config, n_restarts=3, selection="ddc1")
    if variant == "fuse":
        kwargs["combine"] = "fuse"
    if variant == "fullbatch":
        config = replace(config, batch_size=n)
    dominant = dominant_choice(dataset, cap, None, scale)[0]
    model = DDMC(ds.n_clusters, dominant=dominant, config=config, seed=seed, **kwargs)
    start = time.perf_counter()
    if variant == "no_club":
        with _NoClub():
            labels = model.fit_predict(views)
    else:
        labels = model.fit_predict(views)
    seconds = time.perf_counter() - start
    hist = model.history_
    at = {e: hist[e - 1]["L_DDC"] for e in (25, 50, 75, 100) if e <= len(hist)}
    amkm = AmKM(ds.n_clusters, seed=0).fit_predict(views)
    k = ds.n_clusters
    return {"dataset": dataset, "seed": seed, "variant": variant, "n": n, "k": k, "epochs": config.epochs,
            "steps": config.epochs * math.ceil(n / config.batch_size) * config.n_restarts,
            "dominant": ds.view_names[dominant], "acc": accuracy(ds.labels, labels), "nmi": nmi(ds.labels, labels),
            "objective": float(min(model.restart_objectives_)), "L_DDC_final": float(hist[-1]["L_DDC"]),
            "L_DDC_at": at, "eval_ddc1": eval_ddc1(model.model_, to_device_views(views, "cpu"), config.batch_size),
            "clusters_used": int(len(np.unique(labels))), "size_entropy": size_entropy(labels, k),
            "amkm_size_entropy": size_entropy(amkm, k), "amkm_acc": accuracy(ds.labels, amkm),
            "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["3sources", "bbcsport", "100leaves", "webkb"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--variants", nargs="+", default=["default"], choices=VARIANTS)
    parser.add_argument("--out", default=None, help="append the JSON lines to this file too")
    args = parser.parse_args()
    for dataset in args.datasets:
        for variant in args.variants:
            for seed in args.seeds:
                row = fit(dataset, seed, variant)
                line = json.dumps(row)
                print(line, flush=True)
                if args.out:
                    with open(args.out, "a") as f:
                        f.write(line + "\n")


if __name__ == "__main__":
    main()
