"""TreeDiffusion's denoiser on 2 CPU cores: seconds per step, and its FID/KID curve on held-out images (notebook 05).

Fits a TreeVAE with the full profile's schedule (or a shorter one with ``--quick``), then trains the conditional DDPM
of a budget (default: the full profile's; ``--steps`` / ``--eval-every`` override) and every ``eval_every`` steps
draws ``n_curve`` generations with the EMA weights and scores them against the 2000 **held-out** MNIST images:
FID and KID in our digit classifier's 128-d features, and the share the classifier recognises (confidence ≥ 0.9).
Prints one line per point of the curve, then the measured seconds per step (one thread, as every fit here) and
whether the curve has flattened (notebook 05's fair-budget rule, :func:`mmc_lib.studies.treediffusion
.curve_flattened`). Use it to plan a budget: steps × s/step + the curve's and the sampling's cost must fit the
notebook's 60 minutes.

Usage: ``python benchmarks/bench_treediffusion.py [--profile full|smoke|gpu] [--steps N] [--eval-every N]
[--quick] [--device cpu|cuda|auto] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time

import torch

from mmc_lib.methods.generative.treediffusion import TreeDiffusion
from mmc_lib.methods.generative.treevae import TreeVAE
from mmc_lib.runtime import resolve_device
from mmc_lib.studies import treediffusion as study
from mmc_lib.studies.budgets import with_changes


def run(profile: str, *, steps: int | None, eval_every: int | None, quick: bool, device: str, seed: int = 0) -> dict:
    changes = {}
    if steps is not None:
        changes["diffusion__steps"] = steps
    if eval_every is not None:
        changes["diffusion__eval_every"] = eval_every
    b = study.plan(profile, changes)
    tree_cfg = with_changes(b.tree, epochs=3, split_epochs=1, finetune_epochs=1, final_epochs=2) if quick else b.tree
    x_tr, _, x_te, _ = study.images(profile, None, changes)
    with tempfile.TemporaryDirectory() as cache:
        net, acc = study.extractor(profile, None, cache, changes)
    real = study.features(net, x_te)
    start = time.perf_counter()
    tree = TreeVAE(b.n_clusters, max_depth=b.max_depth, seed=seed, config=tree_cfg, device=device).fit(x_tr)
    tree_seconds = time.perf_counter() - start
    vae = study.image_scores(net, real, tree.sample(b.n_curve, seed=seed + 7)["images"], seed=seed)

    def evaluate(model: TreeDiffusion, step: int) -> dict:
        t0 = time.perf_counter()
        s = study.image_scores(net, real, model.sample(b.n_curve, seed=seed + 7)["images"], seed=seed)
        record = {k: s[k] for k in ("fid", "kid", "recognised")}
        record["eval_seconds"] = time.perf_counter() - t0
        print(f"step {step:6d}  FID {s['fid']:8.2f}  KID {1e3 * s['kid']:8.2f}e-3  recognised "
              f"{100 * s['recognised']:5.1f} %  ({record['eval_seconds']:.0f} s to sample and score)", flush=True)
        return record

    print(f"TreeVAE ({tree.n_leaves_} leaves, {tree_seconds:.0f} s): FID {vae['fid']:.2f}, KID {1e3 * vae['kid']:.2f}e-3, "
          f"recognised {100 * vae['recognised']:.1f} % on {b.n_curve} generations; extractor held-out acc "
          f"{100 * acc:.1f} %", flush=True)
    model = TreeDiffusion(tree, seed=seed, config=b.diffusion, device=device).fit(x_tr, evaluate=evaluate)
    train_seconds = model.curve_[-1]["seconds"]
    d = b.diffusion
    name = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or platform.machine()
    return {"profile": profile, "device": device, "device_name": name, "n_train": len(x_tr), "n_held_out": len(x_te),
            "extractor_acc": acc, "treevae_seconds": tree_seconds, "treevae_leaves": tree.n_leaves_,
            "treevae": {k: vae[k] for k in ("fid", "kid", "recognised")}, "steps": d.steps, "batch": d.batch_size,
            "unet_widths": list(d.channels), "ddim_steps": d.diffusion.sample_steps, "n_curve": b.n_curve,
            "seconds_per_step": train_seconds / d.steps, "curve": model.curve_,
            "flattened": study.curve_flattened(model.curve_)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="full", help="budget: full, smoke or gpu")
    parser.add_argument("--steps", type=int, default=None, help="DDPM optimiser steps (default: the budget's)")
    parser.add_argument("--eval-every", type=int, default=None, help="steps between curve points (default: budget's)")
    parser.add_argument("--quick", action="store_true", help="a short TreeVAE schedule (the denoiser is the subject)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--json", default=None, help="also write the result here")
    args = parser.parse_args()
    r = run(args.profile, steps=args.steps, eval_every=args.eval_every, quick=args.quick,
            device=resolve_device(args.device))
    print(f"DDPM on {r['device']} [{r['device_name']}]{', one thread' if r['device'] == 'cpu' else ''}: "
          f"{r['seconds_per_step']:.3f} s/step (batch {r['batch']}, UNet {r['unet_widths']}), "
          f"{r['steps']} steps; curve flattened: {r['flattened']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()
