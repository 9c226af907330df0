"""The runs behind notebook 04 (D-MVAE): one fit per (data set, seed), read out three ways.

A fit trains the three phases once; the table's rows are its read-outs (:data:`READOUTS`): **M-VAE** = the model at
the end of phase 2, **M-VAE+adv** = after phase 3 without the denoiser, **D-MVAE** = after phase 3 with the DDIM
refinement. Encoders are frozen in phase 3, so the latent scores (clusters, probe, pair cosines) are shared by the
three read-outs; the generative scores (FID, translation) differ.

Data (:func:`paired_data`):

* ``mnist`` — **MNIST-Text** (:mod:`mmc_lib.data.mnist_text`): MNIST test digits (8000 / 2000 split) paired with
  the spelled-out digit name. Stored under the registry name ``mnist`` (the images it is built from).
* ``cub`` — CUB 10-class features: 1024-d GoogLeNet (= Inception v1) image features and 300-d doc2vec text, split
  480 / 120 (stratified, seed 0).
* ``mnist-usps`` — 5000 MNIST/USPS image pairs (28×28), split 4000 / 1000; image-to-image.

Scores (:func:`latent_scores`, :func:`generative_scores`):

* clustering of ``labels_`` (ACC/NMI/ARI) and of k-means on the joint latent, silhouette of ``labels_``;
* **semantic-alignment F1**: a logistic-regression probe trained on the training pairs' joint latents, predicting
  the class of held-out pairs, macro-F1 (and accuracy, macro precision and recall);
* **cross-modal similarity**: mean cosine between the image and text posterior means of true held-out pairs, and of
  random pairs (the gap is what alignment adds; a shared offset inflates the raw cosine);
* **FID and KID** of text→image translations against the real **held-out** images only (never a training pair):
  in our digit CNN's 128-d features on MNIST-Text (1000 held-out pairs in the full profile: FID is defined and
  decides), in the 1024-d GoogLeNet (Inception-v1) features on CUB (its 120 held-out pairs: fewer samples than
  dimensions, so the covariance is singular and KID — unbiased at any sample size — decides;
  :func:`mmc_lib.fid.generation_scores`);
* translation similarity (cosine of the text latent and the image encoder's latent of the generated image) and,
  on the digit sets, translation accuracy (our digit CNN reads the generated digit and agrees with the pair's class).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from mmc_lib.data import load, mnist_split
from mmc_lib.data.mnist_text import mnist_text
from mmc_lib.fid import DigitFeatures, cached_digit_features, generation_scores
from mmc_lib.methods.generative.dmvae import DMVAE
from mmc_lib.methods.generative.dmvae import PHASES as DMVAE_PHASES
from mmc_lib.metrics import clustering_report, silhouette
from mmc_lib.retrieval import pair_cosines
from mmc_lib.studies.budgets import budget
from mmc_lib.studies.grid import summarize, to_result_rows

NOTEBOOK = "04_dmvae"
DATASETS = ("mnist", "cub", "mnist-usps")
DISPLAY = {"mnist": "MNIST-Text", "cub": "CUB", "mnist-usps": "MNIST-USPS"}
READOUTS = {"M-VAE": "align", "M-VAE+adv": "adversarial", "D-MVAE": "diffusion"}
LATENT_METRICS = ("acc", "nmi", "ari", "kmeans_acc", "kmeans_nmi", "kmeans_ari", "silhouette", "f1", "probe_acc",
                  "probe_precision", "probe_recall", "cross_modal_similarity", "cross_modal_similarity_random",
                  "similarity_gap")
GEN_METRICS = ("fid", "kid", "translation_similarity", "translation_similarity_random", "translation_acc")
#: the feature space of each data set's FID/KID (named in notebook 04's generation table)
FID_FEATURES = {"mnist": "digit CNN (mmc_lib.fid.DigitFeatures), 128-d", "mnist-usps": "digit CNN, 128-d",
                "cub": "GoogLeNet (Inception-v1) image features, 1024-d (the data set's own)"}
STAND_IN = {
    "mnist": "substituted: MNIST-Text (MNIST test digits paired with their spelled names, character-level; "
             "FID with our digit-CNN features)",
    "cub": "substituted: CUB 10-class GoogLeNet-1024 / doc2vec-300 features, 600 pairs; FID/KID in GoogLeNet space "
           "on the 120 held-out pairs",
    "mnist-usps": "substituted: MNIST-USPS 5000 image pairs",
}


@dataclass(frozen=True)
class Pairs:
    """A paired data set split into training pairs (what the model sees) and held-out pairs (probe, FID)."""

    name: str
    train: tuple[np.ndarray, np.ndarray]
    y_train: np.ndarray
    test: tuple[np.ndarray, np.ndarray]
    y_test: np.ndarray
    n_clusters: int


@lru_cache(maxsize=6)
def paired_data(dataset: str, mnist_train: int | None = None, data_dir: str | None = None) -> Pairs:
    """The pairs of ``dataset`` (see the module docstring); ``mnist_train`` caps MNIST-Text's training pairs."""
    from sklearn.model_selection import train_test_split

    if dataset == "mnist":
        d = mnist_text(data_dir, max_samples=mnist_train)
        return Pairs(dataset, (d.x_train, d.t_train), d.y_train, (d.x_test, d.t_test), d.y_test, d.n_clusters)
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {DATASETS}")
    ds = load(dataset, data_dir=data_dir)
    views = [np.clip(v.reshape(-1, 1, 28, 28), 0, 1) for v in ds.views] if dataset == "mnist-usps" else ds.views
    tr, te = train_test_split(np.arange(ds.n_samples), test_size=0.2, stratify=ds.labels, random_state=0)
    tr, te = np.sort(tr), np.sort(te)
    return Pairs(dataset, tuple(v[tr] for v in views), ds.labels[tr], tuple(v[te] for v in views), ds.labels[te],
                 ds.n_clusters)


def digit_extractor(*, epochs: int, max_samples: int | None = None, data_dir: str | None = None,
                    cache_dir=None) -> tuple[DigitFeatures, float]:
    """Our FID feature extractor: the digit CNN trained on the MNIST training split (8000 images, or a stratified
    ``max_samples``; seed 0), and its accuracy on the 2000 held-out images. Cached on disk in ``cache_dir``."""
    path = Path(cache_dir) / f"digit_features_e{epochs}_n{max_samples or 'all'}.pt" if cache_dir else None
    return cached_digit_features(path, lambda: mnist_split(data_dir, max_samples=max_samples), epochs=epochs)


def latent_scores(model: DMVAE, pairs: Pairs, *, seed: int) -> dict[str, float]:
    """Clusters, probe and pair cosines of a fitted model (the same for every read-out)."""
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    z_tr, z_te = model.embedding_, model.transform(list(pairs.test))
    out = dict(clustering_report(pairs.y_train, model.labels_))
    km = KMeans(pairs.n_clusters, n_init=10, random_state=seed).fit_predict(z_tr)
    km_report = clustering_report(pairs.y_train, km)
    out.update({f"kmeans_{k}": km_report[k] for k in ("acc", "nmi", "ari")})
    out["silhouette"] = silhouette(z_tr, model.labels_, seed=seed) if len(np.unique(model.labels_)) > 1 else np.nan
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(z_tr, pairs.y_train)
    pred = probe.predict(z_te)
    p, r, f, _ = precision_recall_fscore_support(pairs.y_test, pred, average="macro", zero_division=0)
    out.update(f1=f, probe_acc=accuracy_score(pairs.y_test, pred), probe_precision=p, probe_recall=r)
    (mu_a, _), (mu_b, _) = model.encode(list(pairs.test))
    cos = pair_cosines(mu_a, mu_b, seed=seed)
    out.update(cross_modal_similarity=cos["true_pairs"], cross_modal_similarity_random=cos["random_pairs"],
               similarity_gap=cos["true_pairs"] - cos["random_pairs"])
    return {k: float(v) for k, v in out.items() if k in LATENT_METRICS}


def translation_inputs(pairs: Pairs, fid_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(real images, texts, labels) whose texts are translated for FID/KID: the first ``fid_samples`` **held-out**
    pairs (CUB: all 120 of them). Training pairs never enter: the model saw them."""
    n = min(fid_samples, len(pairs.y_test))
    return pairs.test[0][:n], pairs.test[1][:n], pairs.y_test[:n]


@torch.no_grad()
def fid_features(x: np.ndarray, extractor: DigitFeatures | None) -> np.ndarray:
    """The FID feature space: the digit CNN's 128-d features of images, or the vectors themselves (CUB's GoogLeNet
    features, ``extractor=None``)."""
    if extractor is None:
        return np.asarray(x, dtype=np.float64)
    return extractor.features(torch.as_tensor(x, dtype=torch.float32)).numpy()


def generative_scores(model: DMVAE, pairs: Pairs, stage: str, *, seed: int, fid_samples: int,
                      extractor: DigitFeatures | None) -> dict[str, float]:
    """FID, KID and translation scores of view 1 → view 0 generation (text → image; USPS → MNIST) at one ``stage``,
    against held-out pairs; ``fid_n`` / ``fid_dims`` say how many samples in how many feature dimensions."""
    real, text, labels = translation_inputs(pairs, fid_samples)
    fake = model.translate(text, source=1, target=0, stage=stage, seed=seed)
    g = generation_scores(fid_features(real, extractor), fid_features(fake, extractor), held_out=True, seed=seed)
    out = {"fid": g["fid"], "kid": g["kid"], "fid_n": g["n"], "fid_dims": g["dims"]}
    (mu_fake, _), (mu_text, _) = model.encode([fake, text])
    cos = pair_cosines(mu_fake, mu_text, seed=seed)
    out.update(translation_similarity=cos["true_pairs"], translation_similarity_random=cos["random_pairs"])
    if extractor is not None:  # our digit CNN reads the generated digit
        with torch.no_grad():
            read = extractor(torch.as_tensor(fake, dtype=torch.float32)).argmax(1).numpy()
        out["translation_acc"] = float((read == labels).mean())
    return out


def dmvae_run(dataset: str, seed: int, profile: str, *, device: str = "cpu", data_dir: str | None = None,
              cache_dir: str | None = None, changes: dict | None = None) -> dict:
    """Fit D-MVAE on ``dataset`` with ``seed`` under ``profile``'s budget; scores of the three read-outs.

    ``changes`` are the notebook's ``budget_changes`` (:func:`mmc_lib.studies.budgets.budget`).
    Returns flat keys ``"<metric>"`` (latent, shared) and ``"<read-out>/<metric>"`` (generative), plus timings.
    With ``cache_dir`` the run's curves, latent snapshots and sample grids go to ``<cache_dir>/artifacts``.
    """
    b = budget(NOTEBOOK, profile, **(changes or {}))
    pairs = paired_data(dataset, b.mnist_train if dataset == "mnist" else None, data_dir)
    extractor = digit_extractor(epochs=b.digit_epochs, max_samples=b.digit_train, data_dir=data_dir,
                                cache_dir=cache_dir)[0] if dataset != "cub" else None
    start = time.perf_counter()
    model = DMVAE(pairs.n_clusters, seed=seed, device=device, config=b.config(dataset)).fit(list(pairs.train))
    out: dict = {"fit_seconds": time.perf_counter() - start, "n_train": len(pairs.y_train)}
    out.update(latent_scores(model, pairs, seed=seed))
    start = time.perf_counter()
    for method, stage in READOUTS.items():
        for k, v in generative_scores(model, pairs, stage, seed=seed, fid_samples=b.fid_samples,
                                      extractor=extractor).items():
            out[f"{method}/{k}"] = v
    out["score_seconds"] = time.perf_counter() - start
    if cache_dir:
        save_artifacts(model, pairs, Path(cache_dir) / "artifacts" / f"{dataset}_{seed}.npz",
                       per_cluster=b.grid_per_cluster, seed=seed)
    return out


# ------------------------------------------------------------------ artifacts for the figures
def cluster_order(labels: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Cluster ids ordered by the class each is matched to (Hungarian) — for laying out figures only."""
    from scipy.optimize import linear_sum_assignment

    counts = np.zeros((k, k))
    np.add.at(counts, (labels, y), 1)
    rows, cols = linear_sum_assignment(-counts)
    return rows[np.argsort(cols)]


def save_artifacts(model: DMVAE, pairs: Pairs, path: Path, *, per_cluster: int, seed: int) -> None:
    """Curves, per-phase latents and (for image sets) per-cluster and text→image grids of one fit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"history": np.array(json.dumps(model.history_)),
              "snapshot_labels": pairs.y_train[model.snapshot_rows_]}
    for phase, (mu_a, mu_b) in model.snapshots_.items():
        arrays[f"snap_{phase}_a"], arrays[f"snap_{phase}_b"] = mu_a, mu_b
    if model.kinds_[0] == "image":
        order = cluster_order(model.labels_, pairs.y_train, pairs.n_clusters)
        clusters = np.repeat(order, per_cluster)
        rows = np.concatenate([np.flatnonzero(pairs.y_test == c)[:per_cluster] for c in range(pairs.n_clusters)])
        arrays["real"] = pairs.test[0][rows]
        for stage in ("align", "adversarial", "diffusion"):
            arrays[f"prior_{stage}"] = model.generate(clusters, view=0, stage=stage, seed=seed)
            arrays[f"text_{stage}"] = model.translate(pairs.test[1][rows], source=1, target=0, stage=stage, seed=seed)
    np.savez_compressed(path, **arrays)


def load_artifacts(cache_dir, dataset: str, seed: int) -> dict:
    with np.load(Path(cache_dir) / "artifacts" / f"{dataset}_{seed}.npz") as f:
        out = {k: f[k] for k in f.files}
    out["history"] = json.loads(str(out["history"]))
    return out


# ------------------------------------------------------------------ tables
def tidy(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, dataset, seed) with every metric as a column (latent ones repeated per read-out)."""
    frames = []
    for method in READOUTS:
        cols = {f"{method}/{m}": m for m in GEN_METRICS if f"{method}/{m}" in raw}
        part = raw[["dataset", "seed", *[m for m in LATENT_METRICS if m in raw], *cols]].rename(columns=cols)
        frames.append(part.assign(method=method))
    return pd.concat(frames, ignore_index=True)


def summary(raw: pd.DataFrame) -> pd.DataFrame:
    """Mean / std / count of every metric per (method, dataset)."""
    table = tidy(raw)
    metrics = [m for m in (*LATENT_METRICS, *GEN_METRICS) if m in table]
    return summarize(table, ["method", "dataset"], metrics)


def result_rows(stats: pd.DataFrame) -> list[dict]:
    """Rows for the results store (NaN cells dropped), each naming its stand-in data."""
    metrics = [c[:-5] for c in stats.columns if c.endswith("_mean")]
    rows = [r for r in to_result_rows(stats, metrics=metrics) if np.isfinite(r["mean"])]
    for r in rows:
        r["note"] = STAND_IN[r["dataset"]]
        r["scale"] = "raw" if r["metric"] in ("fid", "kid") or "similarity" in r["metric"] else "fraction"
    return rows


def other_notebooks_on_cub(profile: str, *, out_dir=None) -> pd.DataFrame:
    """ACC / NMI on CUB from notebooks 01 (DDMC, CoMVC, AmKM) and 03 (k-means in the contrastive joint space), as
    stored in the results store (not re-run)."""
    from mmc_lib.results import results_frame

    frame = results_frame(profile, out_dir=out_dir)
    if not len(frame):
        return frame
    wanted = {("01_ddmc", "DDMC", "main"), ("01_ddmc", "CoMVC", "main"), ("01_ddmc", "AmKM", "main"),
              ("03_joint_embedding", "kmeans:contrastive", "clustering")}
    setting = frame["setting"].fillna("main") if "setting" in frame else "main"
    keep = np.array([(nb, m, s) in wanted for nb, m, s in zip(frame.notebook, frame.method, setting)])
    hit = frame[keep & (frame.dataset == "cub") & frame.metric.isin(["acc", "nmi"])]
    return hit[["notebook", "method", "metric", "mean", "std", "n_seeds"]].reset_index(drop=True)


def paper_beside_ours(stats: pd.DataFrame) -> pd.DataFrame:
    """Every number of the D-MVAE ledger (restatements left out) beside our mean ± std on its stand-in, read from
    ``claims/d_mvae.yaml`` — the verdicts themselves come from the grader, not from this table."""
    from mmc_lib.audit.ledger import load_ledgers
    from mmc_lib.results import mean_std

    ledger = load_ledgers()["D-MVAE"]
    rows = []
    for c in ledger.claims:
        if c.kind != "value" or c.restates:
            continue
        ours_method, hit = ledger.methods.get(c.method), None
        for ds in ledger.datasets[c.dataset].ours:
            found = stats[(stats.method == ours_method) & (stats.dataset == ds)] if ours_method else stats.iloc[0:0]
            if len(found) and f"{c.metric}_mean" in found and np.isfinite(found[f"{c.metric}_mean"].iloc[0]):
                hit = (ds, float(found[f"{c.metric}_mean"].iloc[0]), float(found[f"{c.metric}_std"].iloc[0]))
                break
        rows.append({"paper data": c.dataset, "method": c.method, "metric": c.metric, "paper": c.value,
                     "ours on": DISPLAY.get(hit[0], hit[0]) if hit else "—",
                     "ours": mean_std(hit[1], hit[2], scale="fraction") if hit else "not run",
                     "ours − paper": round(hit[1] - c.fraction, 3) if hit else np.nan})
    return pd.DataFrame(rows)


#: the main table's columns: (metric, heading, scale for mean_std)
MAIN_COLUMNS = (("acc", "ACC", "percent"), ("nmi", "NMI", "percent"), ("ari", "ARI", "percent"),
                ("kmeans_acc", "k-means ACC", "percent"), ("silhouette", "silhouette", "fraction"),
                ("f1", "probe F1", "percent"), ("probe_acc", "probe acc", "percent"),
                ("probe_precision", "probe prec", "percent"), ("probe_recall", "probe rec", "percent"),
                ("cross_modal_similarity", "cos true", "fraction"),
                ("cross_modal_similarity_random", "cos random", "fraction"), ("fid", "FID", "fraction"),
                ("kid", "KID", "fraction"),
                ("translation_acc", "text→image acc", "percent"))


def main_table(stats: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """``mean ± std`` of the main table's columns for the three read-outs on one data set (ACC-type in %)."""
    from mmc_lib.results import mean_std

    part = stats[stats.dataset == dataset].set_index("method").reindex(list(READOUTS))
    out = {}
    for metric, heading, scale in MAIN_COLUMNS:
        if f"{metric}_mean" in part and part[f"{metric}_mean"].notna().any():
            out[heading] = [mean_std(m, s, scale=scale) for m, s in zip(part[f"{metric}_mean"], part[f"{metric}_std"])]
    return pd.DataFrame(out, index=part.index)


def generation_table(raw: pd.DataFrame, stats: pd.DataFrame, extractor_acc: float | None) -> pd.DataFrame:
    """FID and KID of every read-out against held-out pairs, with the sample count, the feature space and its
    extractor's held-out accuracy, and which score decides (FID only with at least as many samples as dimensions)."""
    from mmc_lib.results import mean_std

    rows = []
    for name in stats.dataset.unique():
        for method in READOUTS:
            s = stats[(stats.dataset == name) & (stats.method == method)].iloc[0]
            r = raw[raw.dataset == name].iloc[0]
            n, dims = int(r[f"{method}/fid_n"]), int(r[f"{method}/fid_dims"])
            acc = f"{100 * extractor_acc:.1f} %" if name != "cub" and extractor_acc is not None else "—"
            rows.append({"data": DISPLAY[name], "read-out": method,
                         "FID": mean_std(s["fid_mean"], s["fid_std"], scale="fraction"),
                         "KID": mean_std(s["kid_mean"], s["kid_std"], scale="fraction"),
                         "held-out samples × dims": f"{n} × {dims}", "features": FID_FEATURES[name],
                         "extractor held-out acc": acc, "decides": "FID" if n >= dims else "KID"})
    return pd.DataFrame(rows).set_index(["data", "read-out"])


#: the budget fields a student is most likely to change (``budget_changes`` keys) and what each sets
BUDGET_FIELDS = (
    ("n_seeds", "seeds per table cell"),
    ("mnist_train", "MNIST-Text training pairs (None: all 8000)"),
    ("fid_samples", "held-out pairs translated text → image for FID"),
    ("image__epochs_recon", "MNIST-Text phase 1 epochs (single-modal reconstruction)"),
    ("image__epochs_align", "MNIST-Text phase 2 epochs (cross-modal alignment)"),
    ("image__epochs_refine", "MNIST-Text phase 3 epochs (adversarial + diffusion, encoders frozen)"),
    ("image__posterior", "joint posterior: 'poe' (product) or 'moe' (mixture) of experts"),
    ("image__adversarial", "weight of the hinge adversarial term in phase 3"),
    ("image__refine_strength", "refinement starts from the decode noised to this fraction of T"),
    ("image__diffusion__train_steps", "T, the DDPM's noise steps"),
    ("image__diffusion__sample_steps", "DDIM steps when refining"),
    ("features__epochs_recon", "CUB phase 1 epochs"),
    ("features__epochs_align", "CUB phase 2 epochs"),
    ("features__epochs_refine", "CUB phase 3 epochs"),
)


def budget_table(plan) -> pd.DataFrame:
    """The fields of :data:`BUDGET_FIELDS` in ``plan`` (a ``DMVAEBudget``): key, value and meaning — the short
    version of the budget a student reads (every field: ``print(plan)``)."""
    rows = []
    for key, meaning in BUDGET_FIELDS:
        value = plan
        for part in key.split("__"):
            value = getattr(value, part)
        rows.append({"budget_changes key": key, "value": value, "what it sets": meaning})
    return pd.DataFrame(rows).set_index("budget_changes key")


#: what each logged loss term is (notebook 04's training curves); modality 0 is the image (MNIST-Text) or image
#: features (CUB), modality 1 the text
TERM_LABELS = {
    "rec_a": "rec_a: −log p(x_a | z), image",
    "rec_b": "rec_b: −log p(x_b | z), text",
    "kl_a": "kl_a: KL(q_a ‖ N(0, I))",
    "kl_b": "kl_b: KL(q_b ‖ N(0, I))",
    "kl": "kl: KL(q ‖ N(0, I)), warm-up",
    "kl_mog": "kl_mog: KL to the mixture prior (VaDE)",
    "consistency": "consistency: KL(q_a‖q_b) + KL(q_b‖q_a)",
    "cross_ab": "cross_ab: −log p(x_b | z_a), text from image",
    "cross_ba": "cross_ba: −log p(x_a | z_b), image from text",
    "adv_0": "adv_0: −E[D_0(x̂_a)], decoder vs critic, image",
    "adv_1": "adv_1: −E[D_1(x̂_b)], decoder vs critic, text",
    "diffusion_0": "diffusion_0: DDPM ε-MSE, image",
    "diffusion_1": "diffusion_1: DDPM ε-MSE, text",
    "disc": "disc: critics' hinge loss",
}
#: terms that can be negative (hinge losses of the decoders): drawn on a linear axis, apart from the others
SIGNED_TERMS = ("adv_0", "adv_1", "disc")

