"""Golden capture: fit every estimator at fixed seeds on small real inputs and store what it learned.

A refactoring that claims "no change in behaviour" is checked by capturing before it and comparing after::

    nice -n 19 python benchmarks/golden_capture.py --out build/golden_before.pkl      # on the untouched code
    nice -n 19 python benchmarks/golden_capture.py --compare build/golden_before.pkl  # after the change

Every estimator exported by :mod:`mmc_lib.methods` (plus D-MVAE, TreeVAE, TreeDiffusion and the flat VAE) is
fitted once with a tiny schedule on a class-stratified subset of a real data set (Synthetic3d, MNIST-USPS;
``MMC_DATA_DIR``) or scikit-learn's digits. For each fit the capture keeps every public fitted attribute
(``labels_``, ``embedding_``, ``history_``, ``assignments_``, ``restart_objectives_``, the network weights, …)
and the next numbers torch's and NumPy's global generators give after the fit (a fit must not move them).
``--compare`` reports every difference exactly (the attribute path, and the largest absolute difference of a
numeric array) and exits 1 if there is any. Runs on one thread; a few minutes on a busy CPU.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from mmc_lib import methods as M  # noqa: E402
from mmc_lib.data import load  # noqa: E402
from mmc_lib.nn.diffusion import DiffusionConfig  # noqa: E402

CASES: dict[str, Callable[[dict], object]] = {}


def case(name: str):
    def register(fn):
        CASES[name] = fn
        return fn
    return register


def inputs() -> dict:
    """Small real inputs, the same rows every time."""
    from sklearn.datasets import load_digits

    syn = load("synthetic3d", max_samples=120)
    mu = load("mnist-usps", max_samples=48)
    digits = load_digits()
    idx = np.sort(np.random.default_rng(0).choice(len(digits.target), 150, replace=False))
    x = (digits.data[idx] / 16.0).astype(np.float32)
    return {"syn": syn.views, "syn_k": syn.n_clusters, "mu": mu.views, "mu_k": mu.n_clusters,
            "digits_a": x[:, :32], "digits_b": x[:, 32:], "digits_y": digits.target[idx],
            "images": mu.views[0].reshape(-1, 1, 28, 28).astype(np.float32)}


# ------------------------------------------------------------------------------------------------ classical
@case("KM")
def _km(d): return M.KM(3, seed=1).fit(d["syn"])
@case("Ncuts")
def _ncuts(d): return M.Ncuts(3, seed=1).fit(d["syn"])
@case("AmKM")
def _amkm(d): return M.AmKM(3, seed=1).fit(d["syn"])
@case("AmNcuts")
def _amncuts(d): return M.AmNcuts(3, seed=1).fit(d["syn"])
@case("CoregMVSC")
def _coreg(d): return M.CoregMVSC(3, n_iter=3, seed=1).fit(d["syn"])
@case("RMKMC")
def _rmkmc(d): return M.RMKMC(3, seed=1).fit(d["syn"])
@case("KneeDBSCAN")
def _knee(d): return M.KneeDBSCAN(min_samples=5).fit(d["digits_a"])


# ------------------------------------------------------------------------------------------------ graph
@case("SwMC")
def _swmc(d): return M.SwMC(3, n_neighbors=8, max_iter=5, seed=1).fit(d["syn"])
@case("ONMSC")
def _onmsc(d): return M.ONMSC(3, max_iter=5, seed=1).fit(d["syn"])
@case("SMCMB")
def _smcmb(d): return M.SMCMB(3, n_graphs=2, n_anchors=20, qp_iter=30, seed=1).fit(d["syn"])


# ------------------------------------------------------------------------------------------------ deep single-view
def _dc(): return M.DeepClusterConfig(hidden=(16,), latent_dim=3, pretrain_epochs=2, epochs=2, batch_size=32, n_init=2)
@case("DKM")
def _dkm(d): return M.DKM(3, config=_dc(), seed=2).fit(d["digits_a"])
@case("DCN")
def _dcn(d): return M.DCN(3, config=_dc(), seed=2).fit(d["digits_a"])
@case("IDEC")
def _idec(d): return M.IDEC(3, config=_dc(), seed=2).fit(d["digits_a"])
@case("IMSAT")
def _imsat(d): return M.IMSAT(3, config=_dc(), seed=2).fit(d["digits_a"])


# ------------------------------------------------------------------------------------------------ deep multi-view
def _mvc(**kw): return M.MVCConfig(hidden=(16,), latent_dim=4, epochs=2, batch_size=32, n_restarts=2, **kw)
@case("SiMVC")
def _simvc(d): return M.SiMVC(3, config=_mvc(), seed=3).fit(d["syn"], d["syn_y"])
@case("CoMVC")
def _comvc(d): return M.CoMVC(3, config=_mvc(), seed=3).fit(d["syn"], d["syn_y"])
@case("DDMC")
def _ddmc(d): return M.DDMC(3, config=_mvc(), seed=3, snapshot_epochs=(1,)).fit(d["syn"], d["syn_y"])
@case("DDMC-fuse-ablation")
def _ddmc2(d): return M.DDMC(3, config=_mvc(), seed=4, combine="fuse", losses=("ddc", "cdl"), dominant=1).fit(d["syn"])
@case("CoMVC-cnn")
def _comvc_cnn(d):
    cfg = _mvc(encoder="cnn", cnn_channels=4)
    return M.CoMVC(d["mu_k"], config=cfg, seed=3).fit(d["mu"])
@case("EAMC")
def _eamc(d): return M.EAMC(3, seed=3, hidden=(16,), attention_hidden=(8,), disc_hidden=(8,), epochs=2,
                            batch_size=40).fit(d["syn"], d["syn_y"])
@case("DEMVC")
def _demvc(d): return M.DEMVC(3, seed=3, hidden=(16,), latent_dim=3, pretrain_epochs=2, iterations=4,
                              update_interval=2, batch_size=40, n_init=2).fit(d["syn"], d["syn_y"])
@case("MFLVC")
def _mflvc(d): return M.MFLVC(3, seed=3, hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2, con_epochs=2,
                              tune_epochs=2, batch_size=32, kmeans_n_init=2).fit(d["syn"], d["syn_y"])
@case("SEM")
def _sem(d): return M.SEM(3, seed=3, hidden=(16,), feature_dim=8, high_feature_dim=4, mse_epochs=2, con_epochs=2,
                          n_iterations=2, batch_size=32, kmeans_n_init=2).fit(d["syn"], d["syn_y"])
@case("SCMVC")
def _scmvc(d):
    cfg = M.SCMVCConfig(hidden=(8,), feature_dim=4, high_feature_dim=3, fusion_hidden=8, pretrain_epochs=2, epochs=2,
                        kmeans_n_init=2, n_restarts=2)
    return M.SCMVC(3, config=cfg, seed=3).fit(d["syn"], d["syn_y"])
@case("DIVIDE")
def _divide(d):
    cfg = M.DIVIDEConfig(hidden=(8, 8), embed_dim=4, epochs=3, start_rectify_epoch=1, warmup_epochs=1, batch_size=32,
                         kmeans_n_init=2)
    return M.DIVIDE(3, config=cfg, seed=3).fit(d["syn"], d["syn_y"])
@case("SSLNMVC")
def _sslnmvc(d):
    cfg = M.SSLNMVCConfig(hidden=(8, 8, 8), feature_dim=8, high_feature_dim=4, pretrain_epochs=1, epochs=2,
                          batch_size=32)
    return M.SSLNMVC(3, config=cfg, seed=3).fit(d["syn"], d["syn_y"])


# ------------------------------------------------------------------------------------------------ cross-modal
@case("DM2C")
def _dm2c(d):
    cfg = M.DM2CConfig(hidden=(16,), latent_dim=8, gen_hidden=(16,), pretrain_epochs=2, epochs=2, batch_size=32)
    return M.DM2C(3, config=cfg, seed=5).fit(d["digits_a"], d["digits_b"], y=np.r_[d["digits_y"], d["digits_y"]])
@case("CCAAligner")
def _cca(d): return M.CCAAligner(4, pca_components=10).fit(d["digits_a"], d["digits_b"])
@case("ContrastiveAligner")
def _contrastive(d):
    cfg = M.ContrastiveConfig(embed_dim=4, hidden=(16,), epochs=3, batch_size=32)
    return M.ContrastiveAligner(cfg, seed=5).fit(d["digits_a"], d["digits_b"])


# ------------------------------------------------------------------------------------------------ generative
def _generative():
    from mmc_lib.methods.generative import dmvae, dmvae_parts, treediffusion, treevae
    return dmvae, dmvae_parts, treevae, treediffusion


@case("DMVAE")
def _dmvae(d):
    dmvae, parts, _, _ = _generative()
    cfg = parts.DMVAEConfig(latent_dim=3, hidden=16, channels=(4, 8), unet_channels=(8, 16), denoiser_hidden=16,
                            batch_size=16, epochs_recon=2, epochs_align=2, epochs_refine=1, align_warmup=1,
                            diffusion=DiffusionConfig(train_steps=50, sample_steps=3), snapshot_rows=20)
    return dmvae.DMVAE(3, config=cfg, seed=6).fit([d["digits_a"], d["digits_b"]])
@case("DMVAE-images")
def _dmvae_img(d):
    dmvae, parts, _, _ = _generative()
    cfg = parts.DMVAEConfig(latent_dim=3, hidden=16, channels=(4, 8), unet_channels=(8, 16), denoiser_hidden=16,
                            batch_size=16, epochs_recon=1, epochs_align=2, epochs_refine=1, align_warmup=1,
                            diffusion=DiffusionConfig(train_steps=50, sample_steps=2), snapshot_rows=20)
    imgs = [v.reshape(-1, 1, 28, 28).astype(np.float32) for v in d["mu"]]
    return dmvae.DMVAE(d["mu_k"], config=cfg, seed=6).fit(imgs)
def _tree_cfg(tv):
    return tv.TreeVAEConfig(epochs=2, split_epochs=1, finetune_epochs=1, final_epochs=1, batch_size=16, router_steps=5)
@case("TreeVAE")
def _treevae(d):
    _, _, tv, _ = _generative()
    return tv.TreeVAE(3, max_depth=2, seed=7, config=_tree_cfg(tv)).fit(d["images"])
@case("TreeDiffusion")
def _treediffusion(d):
    _, _, tv, td = _generative()
    tree = tv.TreeVAE(3, max_depth=2, seed=7, config=_tree_cfg(tv)).fit(d["images"])
    cfg = td.TreeDiffusionConfig(channels=(8, 16), steps=4, batch_size=8, log_every=2,
                                 diffusion=DiffusionConfig(train_steps=50, sample_steps=2))
    return td.TreeDiffusion(tree, seed=8, config=cfg).fit(d["images"])
@case("TreeDiffusion-curve")
def _treediffusion_curve(d):
    """Every part of the denoiser's loop: warm-up, clipping, EMA, a curve at steps that are not log steps, samples."""
    _, _, tv, td = _generative()
    tree = tv.TreeVAE(2, max_depth=1, seed=7, config=_tree_cfg(tv)).fit(d["images"])
    cfg = td.TreeDiffusionConfig(channels=(8, 16), steps=7, batch_size=8, log_every=2, eval_every=3, lr_warmup=5,
                                 grad_clip=0.05, ema_decay=0.9, diffusion=DiffusionConfig(train_steps=50, sample_steps=2))
    model = td.TreeDiffusion(tree, seed=8, config=cfg).fit(
        d["images"], evaluate=lambda m, step: {"sample_mean": float(m.sample(3, seed=step)["images"].mean()),
                                               "draw": float(torch.rand(1))})  # draws inside must not move training
    model.curve_ = [{k: v for k, v in r.items() if k != "seconds"} for r in model.curve_]  # wall time: not captured
    model.samples_ = model.sample(5, seed=3)
    return model
@case("VAEKMeans")
def _vaekmeans(d):
    _, _, tv, _ = _generative()
    return tv.VAEKMeans(3, seed=7, config=tv.VAEConfig(epochs=2, batch_size=16, kmeans_n_init=2)).fit(d["images"])


# ------------------------------------------------------------------------------------------------ capture
def snapshot(value, depth: int = 0):
    """Plain data (arrays, numbers, strings, lists, dicts) of a fitted attribute; modules by their state dict."""
    if depth > 6:
        return f"<depth {type(value).__name__}>"
    if isinstance(value, torch.nn.Module):
        return {k: v.detach().cpu().numpy().copy() for k, v in value.state_dict().items()}
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (np.generic, int, float, str, bool, type(None))):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, dict):
        return {str(k): snapshot(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [snapshot(v, depth + 1) for v in value]
    if hasattr(value, "__dict__"):  # a nested fitted object (TreeDiffusion's TreeVAE, a tree node)
        return {"<type>": type(value).__name__,
                **{k: snapshot(v, depth + 1) for k, v in vars(value).items() if not k.startswith("__")}}
    return f"<{type(value).__name__}>"


def capture_one(name: str, data: dict) -> dict:
    torch.manual_seed(12345)
    np.random.seed(12345)
    model = CASES[name](data)
    after = {"torch_next": torch.rand(4).numpy(), "numpy_next": np.random.rand(4)}
    fitted = {k: snapshot(v) for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}
    return {"fitted": fitted, "caller_rng": after}


def diff(a, b, path: str = "") -> list[str]:
    """Every difference between two snapshots, exactly."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}/{k}: only before" for k in a.keys() - b.keys()]
        out += [f"{path}/{k}: only after" for k in b.keys() - a.keys()]
        for k in sorted(a.keys() & b.keys()):
            out += diff(a[k], b[k], f"{path}/{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} → {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}[{i}]")]
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return [f"{path}: array {a.dtype}{a.shape} → {b.dtype}{b.shape}"]
        if np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            return []
        if a.dtype.kind in "fciub":
            delta = np.nanmax(np.abs(a.astype(np.float64) - b.astype(np.float64)))
            n = int((a != b).sum())
            return [f"{path}: {n} of {a.size} entries differ, max |Δ| = {delta:.3g}"]
        return [f"{path}: arrays differ"]
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return []
    if type(a) is not type(b) or a != b:
        return [f"{path}: {a!r} → {b!r}"]
    return []


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", type=Path, help="write a new capture here")
    g.add_argument("--compare", type=Path, help="capture now and compare with this file")
    p.add_argument("--only", nargs="*", help="these cases only (default: all)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    data = inputs()
    data["syn_y"] = load("synthetic3d", max_samples=120).labels
    names = args.only or list(CASES)
    capture, seconds = {}, {}
    for name in names:
        t0 = time.perf_counter()
        capture[name] = capture_one(name, data)
        seconds[name] = time.perf_counter() - t0
        print(f"{name:22s} {seconds[name]:6.1f} s", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(pickle.dumps({"cases": capture, "seconds": seconds}))
        print(f"captured {len(capture)} fits → {args.out}")
        return 0
    before = pickle.loads(args.compare.read_bytes())["cases"]
    n_diff = 0
    for name in names:
        if name not in before:
            print(f"{name}: not in {args.compare}")
            n_diff += 1
            continue
        found = diff(before[name], capture[name], name)
        n_diff += bool(found)
        print(f"{name}: identical" if not found else "\n".join(found))
    print(f"{len(names) - n_diff} of {len(names)} fits identical")
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main())
