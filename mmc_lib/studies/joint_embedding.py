"""Notebook 03: clustering in joint embedding spaces, and cross-modal retrieval on Wikipedia.

The budget (seeds, subsample caps, aligner settings) is ``budget("03_joint_embedding", profile)``
(:class:`~mmc_lib.studies.budgets.JointBudget`). The two ``*_run`` functions take plain parameters and return a
flat dict of numbers, so :func:`~mmc_lib.studies.grid.run_grid` caches them run by run; the other functions turn
those runs into the notebook's tables, plot data and result rows.

Representations of a paired dataset ``(x_a, x_b)`` (A = image, B = text; for MNIST-USPS A = MNIST, B = USPS):

* ``view_a`` / ``view_b`` — one modality alone, as loaded (min-max scaled);
* ``concat`` — both, each z-scored and divided by ``sqrt(d_v)`` so that each view
  carries the same total variance whatever its width;
* ``cca`` / ``contrastive`` — the pair's two projections into the joint space,
  L2-normalised and averaged (:func:`joint_vectors`, ``how="mean"``).

The aligners are fitted on the very pairs that are clustered: pairing is the only
supervision, class labels are used for scoring only. For retrieval they are fitted on the
Wikipedia train pairs and scored on the test pairs (:func:`mmc_lib.data.wikipedia_split`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from mmc_lib.audit.ledger import load_ledgers
from mmc_lib.data import MultiViewDataset, available, load, wikipedia_split
from mmc_lib.methods.crossmodal.aligners import CCAAligner, ContrastiveAligner, joint_vectors
from mmc_lib.methods.classical.knee_dbscan import KneeDBSCAN, eps_sweep, score_labels
from mmc_lib.metrics import clustering_report
from mmc_lib.plotting import tsne
from mmc_lib.results import mean_std
from mmc_lib.retrieval import chance_map, pair_cosines, precision_recall_curve, retrieval_report
from mmc_lib.studies.budgets import JointBudget, budget
from mmc_lib.studies.grid import grid, mean_std_table, run_grid, study_cache, summarize, to_result_rows

STUDY = "03_joint_embedding"
CLUSTER_DATASETS = ("cub", "wikipedia", "mnist-usps")
REPRESENTATIONS = ("view_a", "view_b", "concat", "cca", "contrastive")
ALIGNERS = ("cca", "contrastive")
ALGORITHMS = ("kmeans", "dbscan")
CLUSTER_METRICS = ("acc", "nmi", "ari")
MAP_METRICS = ("map_img2txt", "map_txt2img", "map_mean")
RECALL_METRICS = tuple(f"recall_at_{k}_{d}" for d in ("img2txt", "txt2img") for k in (1, 5, 10))
RETRIEVAL_METRICS = MAP_METRICS + RECALL_METRICS
COSINE_METRICS = ("cos_true_pairs", "cos_random_pairs")
DIRECTIONS = {"img2txt": "image → text", "txt2img": "text → image"}

RETRIEVAL_NOTE = ("Wikipedia test split (693 pairs), aligner fitted on the 2173 train pairs; mAP@all, "
                  "relevance = same class; recall@k = true pair in top k")
CHANCE_NOTE = "mAP of a random ranking (Σ_c p_c² over the test classes); no seed"
DBSCAN_NOTE = "DBSCAN eps = knee of the k-distance curve; noise scored as one extra cluster"


# ------------------------------------------------------------------ data


def present_datasets(data_dir: str | None = None) -> list[str]:
    """The clustering data sets whose files are here."""
    return [d for d in CLUSTER_DATASETS if available(d, data_dir=data_dir)]


def clustering_data(dataset: str, b: JointBudget, data_dir: str | None = None) -> MultiViewDataset:
    """``dataset`` as clustered here: class-stratified subsample to ``b.max_samples`` (seed 0)."""
    if dataset not in CLUSTER_DATASETS:
        raise ValueError(f"unknown clustering dataset {dataset!r}; known: {CLUSTER_DATASETS}")
    return load(dataset, data_dir=data_dir, max_samples=b.max_samples)


def data_table(datasets: list[str], b: JointBudget, data_dir: str | None = None) -> pd.DataFrame:
    """Pairs, classes and the two views of each clustering data set; with none present, the loader's error names
    the first missing file and where to get it."""
    if not datasets:
        clustering_data(CLUSTER_DATASETS[0], b, data_dir)  # raises DataMissingError (file, checksum, source)
    rows = []
    for name in datasets:
        ds = clustering_data(name, b, data_dir)
        views = {f"view {v}": f"{ds.view_names[i]} ({ds.dims[i]}-d)" for i, v in enumerate("AB")}
        rows.append({"dataset": name, "pairs": ds.n_samples, "classes": ds.n_clusters, **views})
    return pd.DataFrame(rows).set_index("dataset")


# ------------------------------------------------------------------ representations and clustering


def fit_aligner(method: str, x_a, x_b, *, seed: int, b: JointBudget):
    """A fitted CCA or contrastive aligner on paired rows."""
    if method == "cca":
        return CCAAligner(b.cca_components, pca_components=b.cca_pca).fit(x_a, x_b)
    if method == "contrastive":
        return ContrastiveAligner(b.contrastive, seed=seed).fit(x_a, x_b)
    raise ValueError(f"unknown aligner {method!r}; known: {ALIGNERS}")


def representation(x_a: np.ndarray, x_b: np.ndarray, name: str, *, seed: int, b: JointBudget) -> np.ndarray:
    """The vectors that get clustered, one row per pair (see the module docstring)."""
    if name == "view_a":
        return np.asarray(x_a, dtype=np.float32)
    if name == "view_b":
        return np.asarray(x_b, dtype=np.float32)
    if name == "concat":
        parts = [(x - x.mean(0)) / np.maximum(x.std(0), 1e-8) / np.sqrt(x.shape[1]) for x in (x_a, x_b)]
        return np.hstack(parts).astype(np.float32)
    if name in ALIGNERS:
        z_a, z_b = fit_aligner(name, x_a, x_b, seed=seed, b=b).transform(x_a, x_b)
        return joint_vectors(z_a, z_b, how=b.joint)
    raise ValueError(f"unknown representation {name!r}; known: {REPRESENTATIONS}")


def _dbscan_scores(X: np.ndarray, labels: np.ndarray, b: JointBudget) -> dict[str, float]:
    db = KneeDBSCAN(b.dbscan_min_samples).fit(X)
    report = clustering_report(labels, score_labels(db.labels_, noise=b.dbscan_noise))
    out = {f"dbscan_{m}": report[m] for m in CLUSTER_METRICS}
    out.update(dbscan_eps=db.eps_, dbscan_n_clusters=db.n_clusters_, dbscan_noise_frac=db.n_noise_ / len(X))
    return out


def cluster_scores(X: np.ndarray, labels: np.ndarray, n_clusters: int, *, seed: int, b: JointBudget,
                   dbscan: dict | None = None) -> dict[str, float]:
    """K-Means and knee-eps DBSCAN on ``X``: ACC/NMI/ARI of each, plus DBSCAN's eps, clusters and noise.

    ``dbscan`` passes DBSCAN scores already computed on the same ``X`` (DBSCAN has no seed).
    """
    km = KMeans(n_clusters=n_clusters, n_init=b.kmeans_n_init, random_state=seed).fit_predict(X)
    report = clustering_report(labels, km)
    out = {f"kmeans_{m}": report[m] for m in CLUSTER_METRICS}
    out.update(dbscan if dbscan is not None else _dbscan_scores(X, labels, b))
    return out


@lru_cache(maxsize=4)
def _seedless(dataset: str, name: str, data_dir: str | None, b: JointBudget):
    """Representation and DBSCAN scores of the seed-free representations, computed once for all seeds."""
    ds = clustering_data(dataset, b, data_dir)
    X = representation(ds.views[0], ds.views[1], name, seed=0, b=b)
    return X, _dbscan_scores(X, ds.labels, b)


def clustering_run(dataset: str, representation_name: str, seed: int, profile: str,
                   data_dir: str | None = None) -> dict[str, float]:
    """One cell of the clustering table: build a representation of ``dataset`` and cluster it twice."""
    b = budget(STUDY, profile)
    ds = clustering_data(dataset, b, data_dir)
    if representation_name == "contrastive":  # the only representation that depends on the seed
        X, dbscan = representation(ds.views[0], ds.views[1], representation_name, seed=seed, b=b), None
    else:
        X, dbscan = _seedless(dataset, representation_name, data_dir, b)
    return cluster_scores(X, ds.labels, ds.n_clusters, seed=seed, b=b, dbscan=dbscan)


def clustering_runs(datasets: list[str], seeds, *, profile: str, data_dir: str | None = None,
                    out_dir=None) -> pd.DataFrame:
    """Every (dataset, representation, seed) run, one row each, cached under the study's cache."""
    runs = grid(dataset=datasets, representation_name=list(REPRESENTATIONS), seed=list(seeds), profile=[profile],
                data_dir=[data_dir])
    return run_grid(clustering_run, runs, cache_dir=study_cache(STUDY, profile, out_dir) / "clustering",
                    desc="clustering")


def clustering_summary(clu: pd.DataFrame) -> pd.DataFrame:
    """Mean/std/count of ACC/NMI/ARI per dataset and ``<algorithm>:<representation>`` method."""
    metrics = list(CLUSTER_METRICS)
    long = pd.concat([clu.assign(method=f"{algo}:" + clu.representation_name,
                                 **{m: clu[f"{algo}_{m}"] for m in metrics}) for algo in ALGORITHMS])
    return summarize(long, ["dataset", "method"], metrics)


def clustering_methods() -> list[str]:
    """``kmeans:view_a`` … ``dbscan:contrastive``, in table order."""
    return [f"{a}:{r}" for a in ALGORITHMS for r in REPRESENTATIONS]


def clustering_tables(summary: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per metric, the method × dataset table of ``mean ± std`` (percent)."""
    return {m: mean_std_table(summary, index="method", columns="dataset", metric=m).reindex(clustering_methods())
            for m in CLUSTER_METRICS}


def dbscan_table(clu: pd.DataFrame, b: JointBudget, data_dir: str | None = None) -> pd.DataFrame:
    """What knee-eps DBSCAN found in each representation: clusters beside the classes, noise, eps (seed means)."""
    diag = summarize(clu, ["dataset", "representation_name"], ["dbscan_eps", "dbscan_n_clusters", "dbscan_noise_frac"])
    classes = {d: clustering_data(d, b, data_dir).n_clusters for d in diag.dataset.unique()}
    table = pd.DataFrame({"dataset": diag.dataset, "representation": diag.representation_name,
                          "classes": diag.dataset.map(classes), "clusters found": diag.dbscan_n_clusters_mean,
                          "noise %": (100 * diag.dbscan_noise_frac_mean).round(1),
                          "eps": diag.dbscan_eps_mean.round(3)})
    return table.set_index(["dataset", "representation"])


SWEEP_QUANTILES = tuple(np.linspace(0.05, 1.0, 20))


def kdistance_diagnostics(dataset: str, b: JointBudget, *, seed: int, data_dir: str | None = None,
                          quantiles=SWEEP_QUANTILES) -> dict:
    """Knee-eps DBSCAN in the CCA space of ``dataset`` (``model``, ``knee_quantile``) and, in ``sweep``, what eps at
    other quantiles ``q`` of the k-distance curve would give; its NMI uses labels for the plot only."""
    ds = clustering_data(dataset, b, data_dir)
    X = representation(ds.views[0], ds.views[1], "cca", seed=seed, b=b)
    model = KneeDBSCAN(b.dbscan_min_samples).fit(X)
    sweep = eps_sweep(X, min_samples=b.dbscan_min_samples, quantiles=quantiles)
    nmi = [clustering_report(ds.labels, score_labels(r["labels"]))["nmi"] for r in sweep]
    return {"model": model, "knee_quantile": model.knee_index_ / (len(X) - 1),
            "sweep": pd.DataFrame({"q": [r["quantile"] for r in sweep], "noise_frac": [r["noise_frac"] for r in sweep],
                                   "nmi": nmi, "n_clusters": [r["n_clusters"] for r in sweep]})}


# ------------------------------------------------------------------ Wikipedia retrieval


def retrieval_embeddings(method: str, seed: int, b: JointBudget, data_dir: str | None = None):
    """Fit ``method`` on the Wikipedia train pairs; return test ``(z_img, z_txt, labels, aligner)``."""
    train, test = wikipedia_split(data_dir, scale=False)
    aligner = fit_aligner(method, train.views[0], train.views[1], seed=seed, b=b)
    z_img, z_txt = aligner.transform(test.views[0], test.views[1])
    return z_img, z_txt, test.labels, aligner


def wikipedia_embeddings(b: JointBudget, *, seed: int,
                         data_dir: str | None = None) -> tuple[dict, np.ndarray, dict]:
    """Both aligners fitted on the Wikipedia train pairs (one seed), for the plots: method -> test
    ``(z_img, z_txt)``, the test labels, and method -> fitted aligner."""
    embeddings, aligners, labels = {}, {}, None
    for method in ALIGNERS:
        z_img, z_txt, labels, aligners[method] = retrieval_embeddings(method, seed, b, data_dir)
        embeddings[method] = (z_img, z_txt)
    return embeddings, labels, aligners


def retrieval_run(method: str, seed: int, profile: str, data_dir: str | None = None) -> dict[str, float]:
    """Test-split retrieval scores (mAP@all, recall@k) and true- vs random-pair cosines for one aligner."""
    z_img, z_txt, labels, _ = retrieval_embeddings(method, seed, budget(STUDY, profile), data_dir)
    out = retrieval_report(z_img, z_txt, labels)
    cos = pair_cosines(z_img, z_txt, seed=seed)
    out.update(cos_true_pairs=cos["true_pairs"], cos_random_pairs=cos["random_pairs"])
    return out


def retrieval_runs(seeds, *, profile: str, data_dir: str | None = None, out_dir=None) -> pd.DataFrame:
    """Every (aligner, seed) retrieval run, one row each, cached under the study's cache."""
    runs = grid(method=list(ALIGNERS), seed=list(seeds), profile=[profile], data_dir=[data_dir])
    return run_grid(retrieval_run, runs, cache_dir=study_cache(STUDY, profile, out_dir) / "retrieval",
                    desc="retrieval")


def retrieval_summary(ret: pd.DataFrame) -> pd.DataFrame:
    """Mean/std/count of every retrieval and cosine metric per aligner (dataset ``wikipedia``)."""
    return summarize(ret, ["method"], list(RETRIEVAL_METRICS + COSINE_METRICS)).assign(dataset="wikipedia")


def retrieval_chance(data_dir: str | None = None) -> float:
    """mAP of a random ranking on the Wikipedia test pairs."""
    return chance_map(wikipedia_split(data_dir, scale=False)[1].labels)


def _cells(summary: pd.DataFrame, metrics) -> pd.DataFrame:
    """Methods × metrics table of ``mean ± std`` (fractions, three decimals)."""
    s = summary.set_index("method")
    return pd.DataFrame({k: [mean_std(s.loc[m, f"{k}_mean"], s.loc[m, f"{k}_std"], scale="fraction") for m in s.index]
                         for k in metrics}, index=s.index)


def retrieval_table(summary: pd.DataFrame, chance: float) -> pd.DataFrame:
    """mAP and recall@k of each aligner, with the chance mAP as a last row."""
    table = _cells(summary, RETRIEVAL_METRICS)
    table.loc["chance (random ranking)"] = [mean_std(chance, scale="fraction") if k in MAP_METRICS else ""
                                            for k in RETRIEVAL_METRICS]
    return table


def alignment_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Mean cosine of the true test pairs and of random pairs, per aligner."""
    return _cells(summary, COSINE_METRICS).rename(columns={"cos_true_pairs": "true pairs",
                                                           "cos_random_pairs": "random pairs"})


def published_retrieval(summary: pd.DataFrame, chance: float, claims_folder=None) -> pd.DataFrame:
    """The ledger's published Wikipedia retrieval mAPs (aligners' ``@retrieval`` rows) beside ours."""
    ours = summary.set_index("method")
    rows = []
    for ledger in load_ledgers(claims_folder).values():
        for c in ledger.claims:
            term = ledger.methods.get(c.method) if c.kind == "value" else None
            method, _, setting = (term or "").partition("@")
            if setting != "retrieval" or method not in ALIGNERS or c.metric not in MAP_METRICS:
                continue
            rows.append({"direction": DIRECTIONS.get(c.metric.removeprefix("map_"), c.metric),
                         "as reported": f"{c.paper}, {c.method}: {c.fraction:.3f}"
                                        + (" (unverified)" if c.unverified else ""),
                         **{f"ours {m}": mean_std(ours.loc[m, f"{c.metric}_mean"], ours.loc[m, f"{c.metric}_std"],
                                                  scale="fraction") for m in ALIGNERS},
                         "chance": mean_std(chance, scale="fraction")})
    return pd.DataFrame(rows).set_index("direction") if rows else pd.DataFrame()


def pr_curves(embeddings: dict[str, tuple], labels: np.ndarray) -> dict[tuple[str, str], tuple]:
    """``(method, direction) -> (recall, precision)`` over the test ranking, for each aligner and direction."""
    out = {}
    for method, (z_img, z_txt) in embeddings.items():
        out[(method, "img2txt")] = precision_recall_curve(z_img, z_txt, labels, labels)
        out[(method, "txt2img")] = precision_recall_curve(z_txt, z_img, labels, labels)
    return out


# ------------------------------------------------------------------ t-SNE of the joint space


def tsne_panels(datasets: list[str], b: JointBudget, *, seed: int, wiki: dict[str, tuple], wiki_labels: np.ndarray,
                data_dir: str | None = None) -> list[dict]:
    """One t-SNE map per (data set, aligner) holding both modalities: CUB (aligner fitted on its pairs) and the
    Wikipedia test pairs (``wiki``: method -> test ``(z_img, z_txt)``). Each: title, emb, labels, modality."""
    sources = []
    if "cub" in datasets:
        cub = clustering_data("cub", b, data_dir)
        for method in ALIGNERS:
            aligner = fit_aligner(method, cub.views[0], cub.views[1], seed=seed, b=b)
            sources.append((f"CUB, {method}", *aligner.transform(cub.views[0], cub.views[1]), cub.labels))
    sources += [(f"Wikipedia test, {m}", *wiki[m], wiki_labels) for m in ALIGNERS]
    panels = []
    for title, z_a, z_b, labels in sources:
        Z = np.vstack([z_a / np.linalg.norm(z_a, axis=1, keepdims=True),
                       z_b / np.linalg.norm(z_b, axis=1, keepdims=True)])
        emb, idx = tsne(Z, seed=seed, max_points=b.tsne_max_points)
        modality = np.array(["image"] * len(z_a) + ["text"] * len(z_b))[idx]
        panels.append({"title": title, "emb": emb, "labels": np.concatenate([labels, labels])[idx],
                       "modality": modality})
    return panels


# ------------------------------------------------------------------ result rows


def _dbscan_rows(clu: pd.DataFrame) -> list[dict]:
    dbs = summarize(clu.assign(method="dbscan:" + clu.representation_name), ["dataset", "method"],
                    ["dbscan_noise_frac", "dbscan_n_clusters"])
    rows = []
    for _, r in dbs.iterrows():
        for metric, extra in (("noise_frac", {}), ("n_clusters", {"scale": "count"})):
            rows.append({"method": r.method, "dataset": r.dataset, "metric": metric,
                         "mean": r[f"dbscan_{metric}_mean"], "std": r[f"dbscan_{metric}_std"],
                         "n_seeds": int(r[f"dbscan_{metric}_count"]), "setting": "clustering", **extra,
                         "note": DBSCAN_NOTE})
    return rows


def chance_rows(chance: float) -> list[dict]:
    """The random ranking as a method (``chance``), so orderings can compare the aligners with it."""
    return [{"method": "chance", "dataset": "wikipedia", "metric": m, "mean": chance, "std": 0.0, "n_seeds": 1,
             "setting": "retrieval", "note": CHANCE_NOTE} for m in MAP_METRICS]


def result_rows(clu: pd.DataFrame, ret_summary: pd.DataFrame, chance: float) -> list[dict]:
    """Every row notebook 03 stores: clustering (``<algorithm>:<representation>``, plus DBSCAN's noise and
    clusters), retrieval (aligners and chance) and alignment cosines."""
    rows = to_result_rows(clustering_summary(clu), metrics=list(CLUSTER_METRICS), setting="clustering")
    rows += _dbscan_rows(clu)
    rows += [dict(r, note=RETRIEVAL_NOTE)
             for r in to_result_rows(ret_summary, metrics=list(RETRIEVAL_METRICS), setting="retrieval")]
    rows += chance_rows(chance)
    rows += [dict(r, scale="raw") for r in to_result_rows(ret_summary, metrics=list(COSINE_METRICS),
                                                           setting="alignment")]
    return rows


def clustering_tables_ranked(summary: pd.DataFrame) -> dict:
    """:func:`clustering_tables` with each method's rank per data set in brackets and the best in bold (Stylers)."""
    from mmc_lib.studies.data_and_baselines import ours_ranked_table

    return {m: ours_ranked_table(summary, metric=m, methods=clustering_methods()) for m in CLUSTER_METRICS}


def retrieval_table_styled(summary: pd.DataFrame, chance: float):
    """:func:`retrieval_table` with the better aligner's value in each column in bold (a Styler)."""
    table = retrieval_table(summary, chance)
    means = summary.set_index("method")[[f"{k}_mean" for k in RETRIEVAL_METRICS]]
    means.columns = list(RETRIEVAL_METRICS)
    best = pd.DataFrame("", index=table.index, columns=table.columns)
    for k in RETRIEVAL_METRICS:
        best.loc[means[k].idxmax(), k] = "font-weight: bold"
    return table.style.apply(lambda _: best, axis=None)
