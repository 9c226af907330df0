"""Diagnose DDMC's seed-to-seed swings (issue 11): one JSON line per (data set, seed, restart).

Each restart is trained exactly as ``DDMC.fit`` trains it (same seeding ``1000·seed + restart``), but all restarts
are kept so that restart-selection rules can be compared offline. Per restart we log the final ACC/NMI (labels used
for evaluation only), the per-epoch ACC trajectory, the number of non-empty clusters and the entropy of the cluster
marginal at test time, every loss term at the last epoch, the range of the vCLUB term over epochs, and the gradient
norm that each weighted loss term sends into the encoders (first batch of a few epochs).

Usage: ``python benchmarks/diagnose_ddmc.py --datasets synthetic3d --seeds 0 1 2 --restarts 3 --out out.jsonl
[--variant NAME] [--max-samples N] [--method DDMC|CoMVC] [--fixes LABEL]``.

The "before" rows of issue 11 (label ``none``) ran this script against commit b0074ab's ``mmc_lib`` (vCLUB summed
over latent dimensions: ``git archive b0074ab mmc_lib | tar -x -C /tmp/before`` and ``PYTHONPATH=/tmp/before``);
the "after" rows (label ``club``) against this branch. Outputs: ``benchmarks/out/*.jsonl``; summary:
``python benchmarks/summarise_ddmc.py benchmarks/out/*.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from mmc_lib.data import load
from mmc_lib.methods import DDMC, CoMVC, MVCConfig
from mmc_lib.methods.shared import choose_dominant_view
from mmc_lib.metrics import accuracy, nmi
from mmc_lib.nn import seeded, to_device_views
from mmc_lib.validation import check_views

VARIANTS = {"default": {}, "DDC": {"losses": ("ddc",)}, "DDC+FDL": {"losses": ("ddc", "fdl")},
            "DDC+CDL": {"losses": ("ddc", "cdl")}}
GRAD_EPOCHS = (1, 5, 20, 50, 100)


def term_groups(model, terms: dict) -> dict[str, torch.Tensor]:
    a, b = getattr(model, "alpha", 0.0), getattr(model, "beta", 0.0)
    groups = {"ddc": sum(terms[t] for t in ("ddc1", "ddc2", "ddc3"))}
    if "kl_dominant" in terms:
        groups.update({"a*kl": a * (terms["kl_dominant"] + terms["kl_others"]), "a*club": a * terms["club"],
                       "a*contrast": a * terms["contrast"], "b*uniform": b * terms["uniform"],
                       "b*mi_assign": -b * terms["mi_assign"]})
    return groups


def instrument(model, steps_per_epoch: int, log: list) -> None:
    """Wrap ``model.losses`` to record per-term encoder gradient norms on the first batch of GRAD_EPOCHS."""
    original, calls = model.losses, [0]
    params = [p for p in model.encoders.parameters() if p.requires_grad]

    def losses(batch):
        terms = original(batch)
        epoch = calls[0] // steps_per_epoch + 1
        if calls[0] % steps_per_epoch == 0 and epoch in GRAD_EPOCHS:
            row = {"epoch": epoch}
            for name, value in term_groups(model, terms).items():
                if value.requires_grad:
                    g = torch.autograd.grad(value, params, retain_graph=True, allow_unused=True)
                    row[name] = float(torch.sqrt(sum((x ** 2).sum() for x in g if x is not None)))
            log.append(row)
        calls[0] += 1
        return terms

    model.losses = losses


def run(dataset: str, seeds, restarts: int, variant: str, fixes: str, method: str, max_samples, epochs: int, out) -> None:
    ds = load(dataset, max_samples=max_samples) if max_samples else load(dataset)
    views = check_views(ds.views)
    y = np.asarray(ds.labels)
    dominant, _ = choose_dominant_view(views, ds.n_clusters, seed=0)
    config = MVCConfig(epochs=epochs, n_restarts=1)
    steps = sum(1 for s in range(0, len(y), config.batch_size) if len(y) - s >= 2)
    for seed in seeds:
        if method == "DDMC":
            est = DDMC(ds.n_clusters, seed=seed, dominant=dominant, config=config, **VARIANTS[variant])
            est._check_params(views, config)
        else:
            est = CoMVC(ds.n_clusters, seed=seed, config=config)
        tensors = to_device_views(views, "cpu")
        grads: list = []
        build = est._build

        def build_instrumented(dims, k, cfg, build=build, grads=grads):
            model = build(dims, k, cfg)
            grads.clear()
            instrument(model, steps, grads)
            return model

        est._build = build_instrumented
        for restart in range(restarts):
            t0 = time.perf_counter()
            with seeded(1000 * seed + restart) as generator:  # the base's seed of this restart
                r = est._train(tensors, ds.n_clusters, config, generator, y)
            seconds = time.perf_counter() - t0
            _, assign = est._represent(r.model, tensors)
            pred = assign.argmax(1)
            counts = np.bincount(pred, minlength=ds.n_clusters)
            marginal = assign.mean(0)
            h = r.history
            last = {k: round(v, 5) for k, v in h[-1].items() if isinstance(v, float)}
            rec = {"dataset": dataset, "n": len(y), "method": method, "variant": variant, "fixes": fixes, "seed": seed, "select": r.objective,
                   "restart": restart, "dominant": dominant, "seconds": round(seconds, 1),
                   "acc": accuracy(y, pred), "nmi": nmi(y, pred), "nonempty": int((counts > 0).sum()),
                   "min_cluster_frac": float(counts.min() / len(y)),
                   "marginal_entropy_ratio": float(-(marginal * np.log(marginal + 1e-12)).sum() / np.log(ds.n_clusters)),
                   "confidence": float(assign.max(1).mean()),
                   "peak_acc": max(e["acc"] for e in h), "peak_epoch": int(np.argmax([e["acc"] for e in h]) + 1),
                   "acc_traj": [round(h[e - 1]["acc"], 3) for e in (1, 5, 10, 20, 30, 50, 75, epochs) if e <= epochs],
                   "last": last, "grads": list(grads)}
            if "club" in h[0]:
                club = [e["club"] for e in h]
                rec["club_max"], rec["club_argmax"] = max(club), int(np.argmax(club) + 1)
                rec["contrast_traj"] = [round(h[e - 1]["contrast"], 3) for e in (1, 10, 20, 50, epochs) if e <= epochs]
            out.write(json.dumps(rec) + "\n")
            out.flush()
            print(f"{dataset} {method}/{variant}/{fixes} seed {seed} r{restart}: acc {rec['acc']:.3f} nmi {rec['nmi']:.3f} "
                  f"nonempty {rec['nonempty']} obj {last.get('objective')} ddc {last.get('L_DDC', last.get('ddc1'))} "
                  f"peak {rec['peak_acc']:.3f}@{rec['peak_epoch']} {seconds:.0f}s", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=["synthetic3d"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--restarts", type=int, default=3)
    p.add_argument("--variant", default="default", choices=sorted(VARIANTS))
    p.add_argument("--fixes", default="club", help="a label stored with each record (the code decides what runs)")
    p.add_argument("--method", default="DDMC", choices=["DDMC", "CoMVC"])
    p.add_argument("--max-samples", type=int, default=None)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    with open(a.out, "a") as out:
        for d in a.datasets:
            run(d, a.seeds, a.restarts, a.variant, a.fixes, a.method, a.max_samples, a.epochs, out)


if __name__ == "__main__":
    main()
