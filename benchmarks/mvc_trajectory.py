"""Lock-step check of our CoMVC / SiMVC against the authors' code (DanielTrosten/mvc), over many steps (issue 24).

The side-by-side campaign (``mvc_side_by_side.py``) compares the two codes' *distributions* over seeds. This script
asks the stronger question: started from the **same weights**, fed the **same batches** and drawing the **same
negative samples**, do the two codes follow the same trajectory? Their model is built by their own
``build_model`` (He-normal init); its weights are copied into ours (parameters and BatchNorm buffers, in
registration order, shapes checked). Every step, torch's global RNG is re-seeded to the same value before each side's
forward pass, so the contrastive term's ``torch.multinomial`` draws the same negatives on both sides; the batch
indices come from one shared generator. Their step is their ``train_step`` (their ``Optimizer``: Adam 1e-3 and the
no-op clipping); ours is :func:`mmc_lib.nn.trainer.run_epoch` with our Adam factory, as in every fit.

Printed and written (one JSON line per epoch to ``--out``): each side's mean loss terms, the largest absolute and
relative parameter difference, and each side's ACC / NMI on all rows (eval mode; labels only score). If the codes are
the same, the differences stay at float32 rounding (~1e-6 relative) for many steps and grow only as chaotic
amplification of rounding; a modelling difference shows as an O(1) gap in the loss within a few steps.

Usage (authors' code outside the project, as for ``mvc_side_by_side.py``)::

    PYTHONPATH=/work/ext/pylib python benchmarks/mvc_trajectory.py --mvc-src /work/ext/mvc/src --epochs 10
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.mvc_side_by_side import AUTHORS_CONFIG, load_views, one_thread_env  # noqa: E402

OUT = ROOT / "benchmarks" / "out" / "mvc_trajectory.jsonl"


def authors_net(method: str, mvc_src: Path):
    """Their model for ``method`` (their experiment config, MNIST CNNs) built by their ``build_model``."""
    import types

    import torch as th

    sys.path.insert(0, str(mvc_src))
    sys.modules.setdefault("wandb", types.SimpleNamespace(util=types.SimpleNamespace(generate_id=lambda: "stub")))
    import config  # noqa: E402  (the authors' modules)
    from models.build_model import build_model

    config.DEVICE = th.device("cpu")
    cfg = config.get_config_by_name(AUTHORS_CONFIG[method])
    return build_model(cfg.model_config)


def copy_weights(theirs, ours) -> int:
    """Copy every parameter and buffer of ``theirs`` into ``ours``, matched in registration order (shapes checked;
    their fusion weights 1/V become ours, the same softmax). Returns the number of tensors copied."""
    import torch

    src = [(k, v) for k, v in theirs.state_dict().items() if k != "fusion.weights"]
    dst = [(k, v) for k, v in ours.state_dict().items() if k != "fusion_weights"]
    with torch.no_grad():
        ours.fusion_weights.copy_(theirs.fusion.weights)
    if len(src) != len(dst):
        raise ValueError(f"{len(src)} tensors in their model, {len(dst)} in ours")
    with torch.no_grad():
        for (name_s, s), (name_d, d) in zip(src, dst):
            if s.shape != d.shape:
                raise ValueError(f"shape mismatch: {name_s} {tuple(s.shape)} vs {name_d} {tuple(d.shape)}")
            d.copy_(s)
    return len(src) + 1


def param_gap(theirs, ours) -> tuple[float, float]:
    """Largest absolute and relative (to the tensor's max magnitude) difference over all parameters."""
    abs_gap = rel_gap = 0.0
    pairs = [(theirs.fusion.weights, ours.fusion_weights)]
    pairs += zip([p for k, p in theirs.named_parameters() if k != "fusion.weights"],
                 [p for k, p in ours.named_parameters() if k != "fusion_weights"])
    for a, b in pairs:
        diff = float((a.detach() - b.detach()).abs().max())
        abs_gap = max(abs_gap, diff)
        rel_gap = max(rel_gap, diff / max(float(a.detach().abs().max()), 1e-12))
    return abs_gap, rel_gap


def scores(net_forward, views, labels) -> tuple[float, float]:
    from mmc_lib.metrics import accuracy, nmi

    pred = net_forward(views).argmax(axis=1)
    return accuracy(labels, pred), nmi(labels, pred)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=sorted(AUTHORS_CONFIG), default="CoMVC")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--mvc-src", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--float64", action="store_true", help="both sides in float64: rounding ~1e-16, so the two "
                                                                "trajectories can be compared over many more steps")
    args = parser.parse_args(argv)
    one_thread_env()
    import numpy as np
    import torch

    from benchmarks.bench_mnist_usps import main_config
    from mmc_lib.methods.deep_multiview.mvc import SiMVCNet
    from mmc_lib.nn.optim import adam
    from mmc_lib.nn.trainer import run_epoch

    torch.set_num_threads(1)
    views, labels = load_views(None)
    n, batch = views[0].shape[0], 100
    dtype = torch.float64 if args.float64 else torch.float32
    flat = [torch.as_tensor(v, dtype=dtype) for v in views]  # ours: (n, 784)
    images = [t.view(n, 1, 28, 28) for t in flat]  # theirs: (n, 1, 28, 28)
    torch.manual_seed(args.seed)
    theirs = authors_net(args.method, args.mvc_src)
    config = replace_temperature(main_config(args.epochs, threads=1, checkpoint_every=0), args.method)
    ours = SiMVCNet([784, 784], int(labels.max()) + 1, config, contrastive=args.method == "CoMVC")
    if args.float64:
        to_float64(theirs, ours)
    copy_weights(theirs, ours)
    optimiser = adam(ours.parameters(), lr=config.lr, config=config.trainer())
    order = torch.Generator().manual_seed(args.seed)
    step_seed = [0]

    def their_forward(_views):
        theirs.eval()
        with torch.no_grad():
            out = theirs(images).numpy()
        theirs.train()
        return out

    def our_forward(_views):
        ours.eval()
        with torch.no_grad():
            out = ours.represent(flat)[1].numpy()
        ours.train()
        return out

    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    for epoch in range(1, args.epochs + 1):
        t0 = time.process_time()
        idx = torch.randperm(n, generator=order).split(batch)
        their_terms = []
        theirs.train()
        for i, b in enumerate(idx):
            torch.manual_seed(10_000 * epoch + i)
            their_terms.append({k: float(v) for k, v in theirs.train_step([im[b] for im in images], epoch=epoch - 1,
                                                                          it=i, n_batches=len(idx)).items()})
        t_theirs = time.process_time() - t0
        step = iter(range(len(idx)))

        def loss_fn(b, _epoch):
            torch.manual_seed(10_000 * epoch + next(step))
            return ours.losses([t[b] for t in flat])

        ours.train()
        step_totals: list[float] = []

        def recorded(b, _epoch):
            terms = loss_fn(b, _epoch)
            step_totals.append(float(terms["total"].detach()))
            return terms

        our_terms = run_epoch(recorded, optimiser, idx, epoch=epoch)
        step_gap = max(abs(t["tot"] - o) for t, o in zip(their_terms, step_totals))
        t_ours = time.process_time() - t0 - t_theirs
        gap = param_gap(theirs, ours)
        (acc_t, nmi_t), (acc_o, nmi_o) = scores(their_forward, None, labels), scores(our_forward, None, labels)
        row = {"method": args.method, "seed": args.seed, "dtype": str(dtype).replace("torch.", ""), "epoch": epoch,
               "steps": epoch * len(idx), "max_step_loss_gap": step_gap,
               "theirs_ddc1": float(np.mean([t["ddc_1"] for t in their_terms])), "ours_ddc1": our_terms["ddc1"],
               "theirs_tot": float(np.mean([t["tot"] for t in their_terms])), "ours_tot": our_terms["total"],
               "param_abs_gap": gap[0], "param_rel_gap": gap[1], "theirs_acc": acc_t, "ours_acc": acc_o,
               "theirs_nmi": nmi_t, "ours_nmi": nmi_o, "cpu_s_theirs": t_theirs, "cpu_s_ours": t_ours}
        print(json.dumps({k: (round(v, 7) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
        with out.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
    return 0


def to_float64(theirs, ours) -> None:
    """Both models in float64: their loss terms' constant ``eye`` matrices too, and our CNN's final ``.float()``
    (which keeps a bfloat16 encoder's output in float32) replaced by the identity."""
    import torch

    from mmc_lib.methods.deep_multiview import mvc

    theirs.double()
    for term in theirs.loss.terms:
        if hasattr(term, "eye"):
            term.eye = term.eye.double()
    ours.double()
    mvc.ConvEncoder.forward = lambda self, x: self.dense(self.features(x.view(-1, 1, self.side, self.side)))
    torch.set_default_dtype(torch.float64)


def replace_temperature(config, method: str):
    """CoMVC's τ = 0.1 (what :class:`mmc_lib.methods.CoMVC` sets when it builds its network)."""
    from dataclasses import replace

    return replace(config, temperature=0.1) if method == "CoMVC" else config


if __name__ == "__main__":
    raise SystemExit(main())
