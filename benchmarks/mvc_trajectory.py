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
relative parameter difference, and each side's ACC / NMI on all rows (eval mode; labels only score). A formula that
differs shows as a loss gap from the first steps. Equal formulas still part after a while, by amplified rounding (Adam
normalises gradients that are zero up to rounding; near-tied cluster predictions flip the sampled negatives): within a
few steps in float32, after about an epoch in float64 (``--float64``).

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


def matched(theirs_named: dict, ours_named: dict) -> list[tuple]:
    """``(their name, their tensor, our tensor)`` for every tensor of two name → tensor maps: the fusion weights by
    name (a parameter of their ``fusion`` module, of our network itself, so registered at other places), the rest in
    registration order; ``ValueError`` on a count or shape mismatch."""
    theirs_named, ours_named = dict(theirs_named), dict(ours_named)
    pairs = [("fusion.weights", theirs_named.pop("fusion.weights"), ours_named.pop("fusion_weights"))]
    if len(theirs_named) != len(ours_named):
        raise ValueError(f"{len(theirs_named)} tensors in their model, {len(ours_named)} in ours")
    for (name_t, t), (name_o, o) in zip(theirs_named.items(), ours_named.items()):
        if t.shape != o.shape:
            raise ValueError(f"shape mismatch: {name_t} {tuple(t.shape)} vs {name_o} {tuple(o.shape)}")
        pairs.append((name_t, t, o))
    return pairs


def copy_weights(theirs, ours) -> int:
    """Copy every parameter and buffer of ``theirs`` into ``ours`` (:func:`matched`; their fusion weights 1/V become
    ours, the same softmax). Returns the number of tensors copied."""
    import torch

    pairs = matched(theirs.state_dict(), ours.state_dict())
    with torch.no_grad():
        for _, t, o in pairs:
            o.copy_(t)
    return len(pairs)


def param_gap(theirs, ours) -> tuple[float, float]:
    """Largest absolute and relative (to the tensor's max magnitude) difference over all parameters."""
    abs_gap = rel_gap = 0.0
    for _, a, b in matched(dict(theirs.named_parameters()), dict(ours.named_parameters())):
        diff = float((a.detach() - b.detach()).abs().max())
        abs_gap = max(abs_gap, diff)
        rel_gap = max(rel_gap, diff / max(float(a.detach().abs().max()), 1e-12))
    return abs_gap, rel_gap


def scores(assignments, labels) -> tuple[float, float]:
    """ACC and NMI of the argmax of ``assignments`` (n, K)."""
    from mmc_lib.metrics import accuracy, nmi

    pred = assignments.argmax(axis=1)
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
    from mmc_lib.methods import CoMVC, SiMVC
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
    config, n_clusters = main_config(args.epochs, threads=1, checkpoint_every=0), int(labels.max()) + 1
    estimator = {"CoMVC": CoMVC, "SiMVC": SiMVC}[args.method](n_clusters, config=config)
    ours = estimator._build([784, 784], n_clusters, config)  # the network a fit builds (CoMVC: τ = 0.1, δ, negatives)
    if args.float64:
        to_float64(theirs, ours)
    copy_weights(theirs, ours)
    optimiser = adam(ours.parameters(), lr=config.lr, config=config.trainer())
    order = torch.Generator().manual_seed(args.seed)

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
        step_totals: list[float] = []

        def loss_fn(b, _epoch):
            torch.manual_seed(10_000 * epoch + len(step_totals))  # the seed their step i had
            terms = ours.losses([t[b] for t in flat])
            step_totals.append(float(terms["total"].detach()))
            return terms

        ours.train()
        our_terms = run_epoch(loss_fn, optimiser, idx, epoch=epoch)
        step_gap = max(abs(t["tot"] - o) for t, o in zip(their_terms, step_totals))
        t_ours = time.process_time() - t0 - t_theirs
        gap = param_gap(theirs, ours)
        theirs.eval(), ours.eval()
        with torch.no_grad():
            (acc_t, nmi_t) = scores(theirs(images).numpy(), labels)
            (acc_o, nmi_o) = scores(ours.represent(flat)[1].numpy(), labels)
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


if __name__ == "__main__":
    raise SystemExit(main())
