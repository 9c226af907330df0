"""Notebook 05: TreeVAE clustering, then cluster-conditioned diffusion (TreeDiffusion), on MNIST test images.

One seed = one :func:`tree_run`: fit TreeVAE on the 8k training images, score its leaves, fit the conditional DDPM
while its FID/KID curve is measured every ``eval_every`` steps, generate from both (overall and per leaf), and score
the generations against the **held-out** 2k images only (:func:`generation_scores`): FID and KID in our digit
classifier's 128-d feature space (KID decides where a sample has fewer rows than 128), the share of generations the
classifier recognises (confidence ≥ :data:`RECOGNISED_CONFIDENCE`), and the classifier-predicted purity of each
leaf's generations. :func:`curve_flattened` applies the fair-budget rule to the curve. The fitted models are kept in the study
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
from mmc_lib.fid import DigitFeatures, cached_digit_features, generation_scores
from mmc_lib.methods.generative.treediffusion import TreeDiffusion
from mmc_lib.methods.generative.treevae import TreeVAE, VAEKMeans
from mmc_lib.metrics import clustering_report, dendrogram_purity, leaf_purity
from mmc_lib.studies.budgets import budget

NOTEBOOK = "05_treediffusion"
CLUSTER_METRICS = ["acc", "nmi", "ari", "leaf_purity", "dendrogram_purity"]
RECOGNISED_CONFIDENCE = 0.9  # a generation is "recognised" when the digit classifier's top probability reaches this
#: the fair-budget rule: the FID curve has flattened when its last third of training lowered FID by less than this
FLAT_TOLERANCE = 0.10


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


@torch.no_grad()
def features(net: DigitFeatures, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """(n, 128) penultimate-layer features of the digit classifier: the space every FID/KID here is measured in."""
    return np.concatenate([net.features(torch.as_tensor(x[i:i + batch_size])).numpy()
                           for i in range(0, len(x), batch_size)])


@torch.no_grad()
def recognised(net: DigitFeatures, x: np.ndarray, confidence: float = RECOGNISED_CONFIDENCE) -> float:
    """Share of images the digit classifier labels with top probability ≥ ``confidence`` (a reader-like test that a
    generation is a digit at all, whichever digit)."""
    prob = torch.softmax(net(torch.as_tensor(x)), dim=1).max(1).values.numpy()
    return float((prob >= confidence).mean())


def consistency(net: DigitFeatures, generations: list[np.ndarray]) -> float:
    """Intra-cluster consistency: mean over leaves of the share of a leaf's generations in its most predicted class."""
    shares = [np.bincount(predicted_classes(net, g)).max() / len(g) for g in generations if len(g)]
    return float(np.mean(shares))


def image_scores(net: DigitFeatures, real_features: np.ndarray, fake: np.ndarray, *, seed: int = 0) -> dict:
    """FID, KID (± its std over subsets), sample counts and the deciding score of generated images ``fake`` against
    held-out ``real_features`` (:func:`mmc_lib.fid.generation_scores`), and the recognised share of ``fake``."""
    out = generation_scores(real_features, features(net, fake), held_out=True, seed=seed)
    out.update(n_real=len(real_features), n_fake=len(fake), recognised=recognised(net, fake))
    return out


def curve_flattened(curve: list[dict], *, metric: str = "fid", tolerance: float = FLAT_TOLERANCE) -> bool:
    """The fair-budget rule: True when ``metric`` fell by less than ``tolerance`` (relative) over the last third of
    training — the last point against the point closest to two thirds of the steps. Needs three points or more.

    >>> curve_flattened([{"step": s, "fid": f} for s, f in [(100, 90), (200, 40), (300, 30)]])
    False
    >>> curve_flattened([{"step": s, "fid": f} for s, f in [(100, 90), (200, 31), (300, 30)]])
    True
    """
    if len(curve) < 3:
        return False
    steps = np.array([c["step"] for c in curve], dtype=float)
    k = int(np.argmin(np.abs(steps[:-1] - 2 * steps[-1] / 3)))
    before, last = curve[k][metric], curve[-1][metric]
    return bool(before > 0 and (before - last) / before < tolerance)


def tree_run(seed: int, profile: str, data_dir: str | None, cache_dir: str, device: str = "cpu",
             changes: dict | None = None) -> dict:
    """One seed of TreeVAE + TreeDiffusion: clustering metrics, the denoiser's FID/KID curve, FID/KID/recognised
    share of both models' generations against the held-out images (overall and per leaf, with sample counts),
    consistency, timings (models cached).

    ``profile`` names the budget (a profile, or ``"gpu"`` for the denoiser at the authors' schedule); ``device`` is
    where TreeVAE and the denoiser train (not part of the cache key: :data:`mmc_lib.studies.grid.UNKEYED`); the FID
    extractor stays on the CPU. ``changes``: the notebook's ``budget_changes``."""
    b = plan(profile, changes)
    x_tr, y_tr, x_te, y_te = images(profile, data_dir, changes)
    net, _ = extractor(profile, data_dir, cache_dir, changes)
    real = features(net, x_te)  # held-out images only: never seen by TreeVAE, the denoiser or the extractor
    start = time.perf_counter()
    tree = TreeVAE(b.n_clusters, max_depth=b.max_depth, seed=seed, config=b.tree, device=device).fit(x_tr)
    t_tree = time.perf_counter() - start
    out = {f"treevae_{k}": v for k, v in scores(tree, x_tr, y_tr).items()}
    out.update({f"treevae_test_{k}": v for k, v in scores(tree, x_te, y_te).items()})

    def evaluate(model: TreeDiffusion, step: int) -> dict:
        g = model.sample(b.n_curve, seed=seed + 7)
        s = image_scores(net, real, g["images"], seed=seed)
        return {k: s[k] for k in ("fid", "kid", "kid_std", "recognised")}

    start = time.perf_counter()
    diff = TreeDiffusion(tree, seed=seed, config=b.diffusion, device=device).fit(x_tr, evaluate=evaluate)
    t_diff = time.perf_counter() - start
    start = time.perf_counter()
    gen = diff.sample(b.n_generate, seed=seed)
    for name, key in (("treevae", "vae_images"), ("treediffusion", "images")):
        for k, v in image_scores(net, real, gen[key], seed=seed).items():
            out[f"{k}_{name}" if k != "why" else f"fid_why_{name}"] = v
    # TreeVAE at the curve's sample size: the horizontal line of the convergence figure (FID depends on n)
    out["fid_treevae_curve_n"] = image_scores(net, real, gen["vae_images"][:b.n_curve], seed=seed)["fid"]
    test_leaf = tree.predict(x_te)
    per_leaf = {"treevae": [], "treediffusion": [], "treevae_kid": [], "treediffusion_kid": [], "n_real": [],
                "n_fake": []}
    leaf_gens = {"treevae": [], "treediffusion": []}
    for k in range(tree.n_leaves_):
        g = diff.sample(b.n_per_leaf, seed=seed + 1000 * (k + 1), leaf_index=k)
        leaf_gens["treevae"].append(g["vae_images"])
        leaf_gens["treediffusion"].append(g["images"])
        leaf_real = real[test_leaf == k]
        per_leaf["n_real"].append(int(len(leaf_real)))
        per_leaf["n_fake"].append(int(b.n_per_leaf))
        for name, key in (("treevae", "vae_images"), ("treediffusion", "images")):
            s = (generation_scores(leaf_real, features(net, g[key]), held_out=True, seed=seed)
                 if len(leaf_real) >= 2 else {"fid": float("nan"), "kid": float("nan")})
            per_leaf[name].append(s["fid"])
            per_leaf[f"{name}_kid"].append(s["kid"])
    for name in ("treevae", "treediffusion"):
        out[f"fid_leaf_{name}"] = float(np.nanmean(per_leaf[name]))
        out[f"kid_leaf_{name}"] = float(np.nanmean(per_leaf[f"{name}_kid"]))
        out[f"consistency_{name}"] = consistency(net, leaf_gens[name])
    out.update(per_leaf_fid=per_leaf, n_leaves=tree.n_leaves_, seconds_treevae=t_tree, seconds_ddpm=t_diff,
               seconds_sampling=time.perf_counter() - start, ddpm_final_loss=diff.history_[-1]["loss"],
               ddpm_steps=b.diffusion.steps, curve=diff.curve_, curve_flattened=curve_flattened(diff.curve_),
               ddpm_history=diff.history_, device=next(diff.unet_.parameters()).device.type)
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
    if getattr(diff, "ema_", None) is not None:
        diff.ema_.module.to("cpu")
    return tree, diff


def clustering_table(tree_df, base_df):
    """Tidy rows (method, seed, metric columns) of TreeVAE and the baselines, for :func:`summarize`."""
    import pandas as pd

    tree = tree_df.assign(method="TreeVAE").rename(columns={f"treevae_{m}": m for m in CLUSTER_METRICS})
    keep = ["method", "seed", *CLUSTER_METRICS]
    return pd.concat([tree[keep], base_df[["method", "seed", "acc", "nmi", "ari", "leaf_purity"]]],
                     ignore_index=True).assign(dataset="mnist")


GENERATION_METRICS = ["fid", "kid", "fid_leaf", "kid_leaf", "recognised", "consistency"]


def generation_table(tree_df):
    """Tidy rows (method, seed, fid, kid, fid_leaf, kid_leaf, recognised, consistency) of TreeVAE vs TreeDiffusion
    generations, all against the held-out images."""
    import pandas as pd

    parts = [tree_df.assign(method=label, **{m: tree_df[f"{m}_{key}"] for m in GENERATION_METRICS})
             for label, key in (("TreeVAE", "treevae"), ("TreeDiffusion", "treediffusion"))]
    return pd.concat(parts, ignore_index=True)[["method", "seed", *GENERATION_METRICS]].assign(dataset="mnist")


def curve_table(tree_df):
    """One row per (seed, evaluation step) of the denoisers' curves: step, seconds, fid, kid, kid_std, recognised."""
    import pandas as pd

    return pd.DataFrame([{"seed": s, **c} for s, curve in zip(tree_df.seed, tree_df.curve) for c in curve])


def describe(profile: str, changes: dict | None = None) -> str:
    """One line of what this profile runs (printed at the top of the notebook)."""
    b = plan(profile, changes)
    d = b.diffusion
    return json.dumps({"seeds": b.n_seeds, "train images": b.max_train or 8000, "held-out images": b.max_test or 2000,
                       "leaves": b.n_clusters, "max depth": b.max_depth,
                       "TreeVAE epochs (root/subtree/fine-tune/final)":
                           [b.tree.epochs, b.tree.split_epochs, b.tree.finetune_epochs, b.tree.final_epochs],
                       "DDPM steps × batch": f"{d.steps} × {d.batch_size}", "UNet widths": list(d.channels),
                       "lr (warm-up steps)": f"{d.lr:g} ({d.lr_warmup})", "EMA decay": d.ema_decay,
                       "DDIM steps": d.diffusion.sample_steps, "FID curve every (samples)":
                           f"{d.eval_every} steps ({b.n_curve})", "generations (overall / per leaf)":
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


# ------------------------------------------------------------ faithfulness: the authors' TreeVAE code on our images
AUTHORS_CODE = "results/external/treevae_authors_code.json"  # lauramanduchi/treevae run outside the project
#: what the faithfulness table shows per implementation and image set, in this order
FAITHFULNESS_METRICS = ("acc", "nmi", "dendrogram_purity", "leaf_purity")


def authors_code(path: str | Path | None = None) -> dict | None:
    """The authors' TreeVAE code (``lauramanduchi/treevae``) run on our MNIST images at notebook 05's full-profile
    TreeVAE budget, OUTSIDE the project (its code is not committed): per-seed scores of their code and of ours, the
    budget, the patch list and the differences between the two implementations — or None where the file is absent
    (:func:`mmc_lib.studies.faithfulness.load_external`, as notebooks 01 and 02 read theirs)."""
    from mmc_lib.studies.faithfulness import load_external

    return load_external(path or AUTHORS_CODE)


def _scores(doc: dict, who: str, part: str) -> "pd.DataFrame":
    """Per-seed scores of ``who`` ("authors" or "ours") on ``part`` ("train" or "test"): columns seed + metrics."""
    import pandas as pd

    prefix = "" if part == "train" else "test_"
    entries = doc["per_seed"] if who == "authors" else doc["ours"]["per_seed"]  # the DM2C file's shape, plus ours
    return pd.DataFrame([{"seed": e["seed"], **{m: e[prefix + m] for m in FAITHFULNESS_METRICS}} for e in entries],
                        columns=["seed", *FAITHFULNESS_METRICS])


def faithfulness_table(doc: dict | None):
    """Per seed, percent, ``ACC / NMI / DP / LP`` of the authors' code and of ours, on the 8k training images (the
    notebook's headline) and on the 2k held-out images; a last row with mean ± std (ddof 0). Empty without ``doc``.

    >>> entry = lambda s, a: {"seed": s, **{k: a for m in FAITHFULNESS_METRICS for k in (m, "test_" + m)}}
    >>> doc = {"per_seed": [entry(0, 0.7), entry(1, 0.5)], "ours": {"per_seed": [entry(0, 0.6)]}}
    >>> t = faithfulness_table(doc)
    >>> t.loc[0, "authors' code, train"], t.loc[1, "ours, train"], t.loc["mean ± std", "authors' code, train"]
    ('70.0 / 70.0 / 70.0 / 70.0', '—', '60.0 ± 10.0 / 60.0 ± 10.0 / 60.0 ± 10.0 / 60.0 ± 10.0')
    """
    import pandas as pd

    from mmc_lib.results import mean_std

    if not doc:
        return pd.DataFrame()
    columns = {}
    for part in ("train", "test"):
        for who, label in (("authors", "authors' code"), ("ours", "ours")):
            scores = _scores(doc, who, part).set_index("seed")
            per = {s: " / ".join(f"{100 * r[m]:.1f}" for m in FAITHFULNESS_METRICS) for s, r in scores.iterrows()}
            per["mean ± std"] = " / ".join(mean_std(scores[m].mean(), scores[m].std(ddof=0))
                                           for m in FAITHFULNESS_METRICS) if len(scores) else "—"
            columns[f"{label}, {part}"] = per
    table = pd.DataFrame(columns)
    seeds = sorted(s for s in table.index if s != "mean ± std")
    table = table.reindex([*seeds, "mean ± std"]).fillna("—")
    table.index.name = "seed"
    return table


def faithfulness_verdict(doc: dict | None, *, part: str = "train") -> str:
    """One line: is our TreeVAE faithful to the authors' code at the same budget? Decided per metric (ACC, NMI) on
    ``part`` by the rule every faithfulness section uses (:func:`mmc_lib.studies.faithfulness.faithfulness_verdict`:
    the audit's tolerance band and Welch's test at 5 %, at least 3 seeds a side); the line starts with the overall
    word: ``faithful`` (both metrics), ``ours below the authors' code`` (either below), ``ours above the authors'
    code``, or ``undecided (too few seeds)``.

    >>> entry = lambda s, a: {"seed": s, **{k: a for m in FAITHFULNESS_METRICS for k in (m, "test_" + m)}}
    >>> same = {"per_seed": [entry(s, 0.5 + s / 100) for s in range(3)],
    ...         "ours": {"per_seed": [entry(s, 0.5 - s / 100) for s in range(3)]}}
    >>> faithfulness_verdict(same).split(":")[0]
    'faithful'
    """
    from mmc_lib.results import mean_std
    from mmc_lib.studies.faithfulness import faithfulness_verdict as rule

    if not doc:
        return "not run: the authors' code has not been run on our images (results/external file absent)"
    theirs, ours = _scores(doc, "authors", part), _scores(doc, "ours", part)
    if theirs.empty or ours.empty:
        return "not run: no finished seed of " + ("the authors' code" if theirs.empty else "ours") + " in the file"
    verdicts, parts = {}, []
    for m in ("acc", "nmi"):
        v = rule(ours[m].to_numpy(), theirs[m].to_numpy())
        verdicts[m] = v["verdict"]
        band = f", band ±{100 * v['band']:.1f}" if np.isfinite(v["band"]) else ""
        parts.append(f"{m.upper()} {v['verdict']} (ours {mean_std(v['ours_mean'], v['ours_std'])} vs the authors' "
                     f"code {mean_std(v['theirs_mean'], v['theirs_std'])}, gap {100 * v['gap']:+.1f} points{band})")
    words = set(verdicts.values())
    overall = ("faithful" if words == {"faithful"} else "ours below the authors' code" if "below" in words
               else "ours above the authors' code" if "above" in words else "undecided (too few seeds)")
    where = "training images" if part == "train" else "held-out images"
    return (f"{overall}: {'; '.join(parts)}; {len(ours)} vs {len(theirs)} seeds, {where}, the audit's tolerance and "
            "Welch's test at 5 %")
