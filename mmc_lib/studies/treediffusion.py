"""Notebook 05: TreeVAE clustering, then cluster-conditioned diffusion (TreeDiffusion), on MNIST test images.

One seed = one :func:`tree_run`: fit TreeVAE on the 8k training images, score its leaves, fit the conditional DDPM,
generate from both (overall and per leaf), score FID against the held-out 2k images with our digit classifier's
features, and the classifier-predicted purity of each leaf's generations. The fitted models are kept in the study
cache (``models_<seed>.pt``) so the notebook draws its figures without refitting. :func:`baseline_run` gives the
k-means and flat VAE + k-means rows on the same images. Every function takes the notebook's ``budget_changes`` as
``changes`` (:func:`mmc_lib.studies.budgets.budget`), so a student changes a knob without editing the library.
"""

from __future__ import annotations

import json
import time
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from mmc_lib.data import mnist_split
from mmc_lib.fid import DigitFeatures, cached_digit_features, fid
from mmc_lib.methods.treediffusion import TreeDiffusion
from mmc_lib.methods.treevae import TreeVAE, VAEKMeans
from mmc_lib.metrics import clustering_report, dendrogram_purity, leaf_purity
from mmc_lib.studies.budgets import budget

NOTEBOOK = "05_treediffusion"
CLUSTER_METRICS = ["acc", "nmi", "ari", "leaf_purity", "dendrogram_purity"]


def plan(profile: str, changes: dict | None = None):
    """This notebook's budget under ``profile`` with the notebook's ``changes`` (``{"diffusion__steps": 100}``)."""
    return budget(NOTEBOOK, profile, **(changes or {}))


def images(profile: str, data_dir: str | None = None, changes: dict | None = None):
    """``(x_train, y_train, x_test, y_test)`` of the budget (train capped in smoke; test = FID reals)."""
    b = plan(profile, changes)
    return _images(b.max_train, b.max_test, data_dir)


@lru_cache(maxsize=2)
def _images(max_train: int | None, max_test: int | None, data_dir: str | None):
    x_tr, y_tr, x_te, y_te = mnist_split(data_dir, max_samples=max_train)
    if max_test is not None:
        x_te, y_te = x_te[:max_test], y_te[:max_test]
    return x_tr, y_tr, x_te, y_te


def extractor(profile: str, data_dir: str | None, cache_dir: str | Path,
              changes: dict | None = None) -> tuple[DigitFeatures, float]:
    """The FID feature extractor (our digit CNN, trained once on the train split; cached) and its test accuracy."""
    return cached_digit_features(Path(cache_dir) / "extractor.pt", lambda: images(profile, data_dir, changes),
                                 epochs=plan(profile, changes).extractor_epochs)


@torch.no_grad()
def predicted_classes(net: DigitFeatures, x: np.ndarray) -> np.ndarray:
    return net(torch.as_tensor(x)).argmax(1).numpy()


def consistency(net: DigitFeatures, generations: list[np.ndarray]) -> float:
    """Intra-cluster consistency: mean over leaves of the share of a leaf's generations in its most predicted class."""
    shares = [np.bincount(predicted_classes(net, g)).max() / len(g) for g in generations if len(g)]
    return float(np.mean(shares))


def tree_run(seed: int, profile: str, data_dir: str | None, cache_dir: str, device: str = "cpu",
             changes: dict | None = None) -> dict:
    """One seed of TreeVAE + TreeDiffusion: clustering metrics, FIDs, consistency, timings (models cached).

    ``profile`` names the budget (a profile, or ``"gpu"`` for the denoiser at the authors' schedule); ``device`` is
    where TreeVAE and the denoiser train (not part of the cache key: :data:`mmc_lib.studies.grid.UNKEYED`); the FID
    extractor stays on the CPU. ``changes``: the notebook's ``budget_changes``."""
    b = plan(profile, changes)
    x_tr, y_tr, x_te, y_te = images(profile, data_dir, changes)
    net, _ = extractor(profile, data_dir, cache_dir, changes)
    start = time.perf_counter()
    tree = TreeVAE(b.n_clusters, max_depth=b.max_depth, seed=seed, config=b.tree, device=device).fit(x_tr)
    t_tree = time.perf_counter() - start
    out = {f"treevae_{k}": v for k, v in scores(tree, x_tr, y_tr).items()}
    out.update({f"treevae_test_{k}": v for k, v in scores(tree, x_te, y_te).items()})
    start = time.perf_counter()
    diff = TreeDiffusion(tree, seed=seed, config=b.diffusion, device=device).fit(x_tr)
    t_diff = time.perf_counter() - start
    gen = diff.sample(b.n_generate, seed=seed)
    out["fid_treevae"] = fid(x_te, gen["vae_images"], net)
    out["fid_treediffusion"] = fid(x_te, gen["images"], net)
    test_leaf = tree.predict(x_te)
    per_leaf = {"treevae": [], "treediffusion": [], "n_real": []}
    leaf_gens = {"treevae": [], "treediffusion": []}
    for k in range(tree.n_leaves_):
        g = diff.sample(b.n_per_leaf, seed=seed + 1000 * (k + 1), leaf_index=k)
        leaf_gens["treevae"].append(g["vae_images"])
        leaf_gens["treediffusion"].append(g["images"])
        real = x_te[test_leaf == k]
        per_leaf["n_real"].append(int(len(real)))
        for name, key in (("treevae", "vae_images"), ("treediffusion", "images")):
            per_leaf[name].append(fid(real, g[key], net) if len(real) >= 2 else float("nan"))
    for name in ("treevae", "treediffusion"):
        out[f"fid_leaf_{name}"] = float(np.nanmean(per_leaf[name]))
        out[f"consistency_{name}"] = consistency(net, leaf_gens[name])
    out.update(per_leaf_fid=per_leaf, n_leaves=tree.n_leaves_, seconds_treevae=t_tree, seconds_ddpm=t_diff,
               ddpm_final_loss=diff.history_[-1]["loss"], ddpm_steps=b.diffusion.steps,
               device=next(diff.unet_.parameters()).device.type)
    torch.save({"tree": tree, "diffusion": diff}, Path(cache_dir) / f"models_{seed}.pt")
    return out


def scores(tree: TreeVAE, x: np.ndarray, y: np.ndarray) -> dict:
    """Leaf ACC/NMI/ARI, leaf purity and dendrogram purity of ``tree`` on images ``x`` with classes ``y``."""
    leaves = tree.predict(x)
    report = clustering_report(y, leaves)
    return {"acc": report["acc"], "nmi": report["nmi"], "ari": report["ari"], "leaf_purity": leaf_purity(y, leaves),
            "dendrogram_purity": dendrogram_purity(y, leaves, tree.leaf_paths_)}


def baseline_run(method: str, seed: int, profile: str, data_dir: str | None, changes: dict | None = None) -> dict:
    """k-means on pixels or a flat VAE + k-means, on the same training images."""
    from sklearn.cluster import KMeans

    if method not in ("k-means", "VAE+k-means"):
        raise ValueError(f"unknown baseline {method!r}; known: ['k-means', 'VAE+k-means']")
    b = plan(profile, changes)
    x_tr, y_tr, _, _ = images(profile, data_dir, changes)
    start = time.perf_counter()
    if method == "k-means":
        labels = KMeans(b.n_clusters, n_init=b.kmeans_n_init, random_state=seed).fit_predict(x_tr.reshape(len(x_tr), -1))
    else:
        labels = VAEKMeans(b.n_clusters, seed=seed, config=b.vae).fit_predict(x_tr)
    report = clustering_report(y_tr, labels)
    return {"acc": report["acc"], "nmi": report["nmi"], "ari": report["ari"], "leaf_purity": report["purity"],
            "seconds": time.perf_counter() - start}


def run_params(profile: str, data_dir: str | None, changes: dict | None = None, **axes) -> list[dict]:
    """The grid of runs over ``axes`` (e.g. ``seed=[0, 1]``) with the notebook's settings; ``changes`` enter the
    runs (and so their cache keys) only when there are any, so the default runs keep their cached results."""
    from mmc_lib.studies.grid import grid

    extra = {"changes": [dict(changes)]} if changes else {}
    return grid(**axes, profile=[profile], data_dir=[data_dir], **extra)


def load_models(cache_dir: str | Path, seed: int) -> tuple[TreeVAE, TreeDiffusion]:
    """The fitted TreeVAE and TreeDiffusion of ``seed`` (written by :func:`tree_run`)."""
    saved = torch.load(Path(cache_dir) / f"models_{seed}.pt", weights_only=False, map_location="cpu")
    tree, diff = saved["tree"], saved["diffusion"]
    # models fitted on a GPU come back on the CPU: point their device attributes there too
    tree.device = diff.device = "cpu"
    tree._device = diff._device = "cpu"
    tree.model_.to("cpu")
    diff.unet_.to("cpu")
    return tree, diff


def clustering_table(tree_df, base_df):
    """Tidy rows (method, seed, metric columns) of TreeVAE and the baselines, for :func:`summarize`."""
    import pandas as pd

    tree = tree_df.assign(method="TreeVAE").rename(columns={f"treevae_{m}": m for m in CLUSTER_METRICS})
    keep = ["method", "seed", *CLUSTER_METRICS]
    return pd.concat([tree[keep], base_df[["method", "seed", "acc", "nmi", "ari", "leaf_purity"]]],
                     ignore_index=True).assign(dataset="mnist")


def generation_table(tree_df):
    """Tidy rows (method, seed, fid, fid_leaf, consistency) of TreeVAE vs TreeDiffusion generations."""
    import pandas as pd

    parts = [tree_df.assign(method=label, fid=tree_df[f"fid_{key}"], fid_leaf=tree_df[f"fid_leaf_{key}"],
                            consistency=tree_df[f"consistency_{key}"])
             for label, key in (("TreeVAE", "treevae"), ("TreeDiffusion", "treediffusion"))]
    return pd.concat(parts, ignore_index=True)[["method", "seed", "fid", "fid_leaf", "consistency"]].assign(
        dataset="mnist")


def describe(profile: str, changes: dict | None = None) -> str:
    """One line of what this profile runs (printed at the top of the notebook)."""
    b = plan(profile, changes)
    d = b.diffusion
    return json.dumps({"seeds": b.n_seeds, "train images": b.max_train or 8000, "held-out images": b.max_test or 2000,
                       "leaves": b.n_clusters, "max depth": b.max_depth,
                       "TreeVAE epochs (root/subtree/fine-tune/final)":
                           [b.tree.epochs, b.tree.split_epochs, b.tree.finetune_epochs, b.tree.final_epochs],
                       "DDPM steps × batch": f"{d.steps} × {d.batch_size}", "UNet widths": list(d.channels),
                       "DDIM steps": d.diffusion.sample_steps, "generations (overall / per leaf)":
                           [b.n_generate, b.n_per_leaf]})


def tree_layout(tree: dict) -> tuple[dict, list]:
    """Positions for drawing ``TreeVAE.tree_``: ``{node id: (x, depth)}`` (leaves at x = 0, 1, … left to right,
    an inner node above the middle of its children) and the edges ``[(parent, child), …]``.

    >>> tree_layout({"id": 0, "depth": 0, "n": 2, "children": [
    ...     {"id": 1, "depth": 1, "n": 1, "children": []}, {"id": 2, "depth": 1, "n": 1, "children": []}]})
    ({1: (0.0, 1), 2: (1.0, 1), 0: (0.5, 0)}, [(0, 1), (0, 2)])
    """
    pos, edges, next_x = {}, [], [0.0]

    def walk(node):
        for child in node["children"]:
            walk(child)
            edges.append((node["id"], child["id"]))
        if node["children"]:
            xs = [pos[c["id"]][0] for c in node["children"]]
            pos[node["id"]] = (float(np.mean(xs)), node["depth"])
        else:
            pos[node["id"]] = (next_x[0], node["depth"])
            next_x[0] += 1.0

    walk(tree)
    return pos, edges


def leaves_of(tree: dict) -> list[dict]:
    """The leaf entries of ``TreeVAE.tree_``, left to right (cluster order)."""
    if not tree["children"]:
        return [tree]
    return [leaf for child in tree["children"] for leaf in leaves_of(child)]
