"""The runs behind notebook 02 (DM2C): data protocol, one cached run per (dataset, seed, setting), tables.

Protocol
--------
* Every paired set is made mixed-modal with :func:`mmc_lib.data.mixed_modal`: each pair
  keeps one side (A with probability ``fraction_a``, chosen with the run's seed).
* Wikipedia has the standard train/test split: the 693 ``wikipedia-test`` rows are found
  inside ``wikipedia`` (exact feature match); models are fitted on the other 2173 rows
  (mixed-modal) and scored on the test rows (mixed-modal with the same seed), which they
  never saw: DM2C's test samples are encoded, translated and assigned to the nearest
  k-means centre fitted on the training rows, the baselines' likewise. Training-split
  scores are stored too (``split="train"``).
* CUB and MNIST-USPS have no split: the models cluster all rows and are scored on them.
* Baselines cannot put the two modalities in one input space without translation, so
  each baseline gets each sample's OWN-modality latent from the same pretrained
  autoencoders DM2C starts from (stacked: A rows, then B rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from sklearn.cluster import KMeans

from mmc_lib.baselines.deep import DCN, DKM, IDEC, IMSAT, DeepClusterConfig
from mmc_lib.data import MixedModalDataset, MultiViewDataset, load, mixed_modal, subsample
from mmc_lib.methods.dm2c import DM2C, diverged
from mmc_lib.methods.dm2c_parts import DM2CConfig
from mmc_lib.metrics import clustering_report
from mmc_lib.runtime import get_profile

DATASETS = ("wikipedia", "cub", "mnist-usps")
METRICS = ["acc", "ari", "nmi", "f_score", "purity"]
BASELINES = ("k-means", "DKM", "DCN", "IDEC", "IMSAT")
ABLATIONS = {"no_cycle": {"lambda_cyc": 0.0}, "no_adv": {"lambda_adv": 0.0}}  # "no_translation": see dm2c_run

# The paper's Tables (NeurIPS 2019, as printed on the poster), fractions.
PAPER = {
    "wikipedia": {
        "k-means": (0.2291, 0.0166, 0.1003, 0.1857, 0.2301), "DKM": (0.2173, 0.0108, 0.1170, 0.1729, 0.2429),
        "DCN": (0.2215, 0.0137, 0.1172, 0.1688, 0.2465), "IDEC": (0.2158, 0.0375, 0.0849, 0.1645, 0.2606),
        "IMSAT": (0.2521, 0.0573, 0.1093, 0.1738, 0.2720), "DM2C": (0.2720, 0.0558, 0.1543, 0.1878, 0.3075)},
    "nus-wide-10k": {
        "k-means": (0.2744, 0.0044, 0.0469, 0.3000, 0.5208), "DKM": (0.2932, 0.0130, 0.0116, 0.2901, 0.5036),
        "DCN": (0.3036, 0.0144, 0.0512, 0.2949, 0.5296), "IDEC": (0.3045, 0.0006, 0.0802, 0.3048, 0.5036),
        "IMSAT": (0.3080, 0.0038, 0.0064, 0.4822, 0.5036), "DM2C": (0.3300, 0.0710, 0.0951, 0.3043, 0.5492)},
}
PAPER_METRIC_ORDER = ("acc", "ari", "nmi", "f_score", "purity")

NOTES = {
    "wikipedia": "substituted: 128-d SIFT / 10-d LDA features instead of the paper's 2048-d; fitted on the "
                 "train split (2173 rows, fewer under a profile's max_samples), scored on the 693-row test split",
    "cub": "not in the paper: CUB 10-class (1024-d GoogLeNet image / 300-d doc2vec text), all 600 rows",
    "mnist-usps": "not in the paper: MNIST vs USPS digits as the two modalities",
}


@dataclass(frozen=True)
class DM2CSettings:
    """Everything a run needs besides dataset and seed, per profile."""

    profile: str  # "smoke" | "full"
    dm2c: DM2CConfig  # DM2C networks and schedule
    deep: DeepClusterConfig  # DKM/DCN/IDEC/IMSAT networks and schedule
    max_samples: dict = field(default_factory=dict)  # per-dataset cap on (training) rows; missing → profile's
    kmeans_n_init: int = 10  # k-means baseline restarts

    @classmethod
    def preset(cls, profile: str) -> DM2CSettings:
        prof = get_profile(profile)
        dm2c = DM2CConfig.preset(profile)
        caps = {"mnist-usps": 1000} if prof.name == "full" else {}  # CPU budget: MNIST-USPS is not a paper set
        return cls(profile=prof.name, dm2c=dm2c, deep=DeepClusterConfig.preset(profile), max_samples=caps,
                   kmeans_n_init=10 if prof.name == "full" else 3)

    def cap(self, dataset: str) -> int | None:
        return self.max_samples.get(dataset, get_profile(self.profile).max_samples)


# ---------------------------------------------------------------------- data
def wikipedia_split(data_dir=None) -> tuple[MultiViewDataset, MultiViewDataset]:
    """Wikipedia's train and test splits, both min-max scaled with the full set's ranges.

    The test rows are located in the full file by exact match of the raw features.
    """
    full, raw, raw_test = load("wikipedia", data_dir=data_dir), load("wikipedia", data_dir=data_dir, scale=False), \
        load("wikipedia-test", data_dir=data_dir, scale=False)
    position: dict[bytes, list[int]] = {}
    for i, (a, b) in enumerate(zip(*raw.views)):
        position.setdefault(a.tobytes() + b.tobytes(), []).append(i)
    test_idx = []
    for a, b in zip(*raw_test.views):
        rows = position.get(a.tobytes() + b.tobytes())
        if not rows:
            raise ValueError("a wikipedia-test row is not in wikipedia; the files are not the expected versions")
        test_idx.append(rows.pop(0))
    test_idx = np.asarray(test_idx)
    train_idx = np.setdiff1d(np.arange(full.n_samples), test_idx)

    def part(idx, name):
        return MultiViewDataset(name, [v[idx] for v in full.views], full.labels[idx], full.view_names,
                                full.n_clusters, full.modalities)

    return part(train_idx, "wikipedia-train"), part(test_idx, "wikipedia-test")


@lru_cache(maxsize=8)
def paired_splits(dataset: str, max_samples: int | None = None,
                  data_dir: str | None = None) -> tuple[MultiViewDataset, MultiViewDataset | None]:
    """(fit set, held-out set or None) for ``dataset``; the fit set is subsampled to ``max_samples`` (seed 0)."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown DM2C dataset {dataset!r}; known: {DATASETS}")
    if dataset == "wikipedia":
        train, test = wikipedia_split(data_dir)
        return subsample(train, max_samples, seed=0), test
    return subsample(load(dataset, data_dir=data_dir), max_samples, seed=0), None


def mixed_splits(dataset: str, *, seed: int, fraction_a: float, settings: DM2CSettings,
                 data_dir=None) -> tuple[MixedModalDataset, MixedModalDataset | None]:
    """The run's mixed-modal fit set and (Wikipedia) held-out set."""
    fit, held_out = paired_splits(dataset, settings.cap(dataset), data_dir)
    mix = mixed_modal(fit, seed=seed, fraction_a=fraction_a)
    return mix, (mixed_modal(held_out, seed=seed, fraction_a=fraction_a) if held_out is not None else None)


# ---------------------------------------------------------------------- one run
def _scores(prefix: str, y, pred) -> dict:
    rep = clustering_report(y, pred)
    return {f"{prefix}|{m}": rep[m] for m in METRICS}


def _baseline(name: str, k: int, seed: int, settings: DM2CSettings):
    if name == "k-means":
        return KMeans(k, n_init=settings.kmeans_n_init, random_state=seed)
    cls = {"DKM": DKM, "DCN": DCN, "IDEC": IDEC, "IMSAT": IMSAT}[name]
    return cls(k, config=settings.deep, seed=seed)


def dm2c_run(dataset: str, seed: int, *, profile: str, fraction_a: float = 0.5, variant: str = "full",
             baselines=True, data_dir: str | None = None) -> dict:
    """One DM2C fit (plus, for ``variant="full"``, the no-translation read-out and the baselines).

    ``baselines``: True (all of :data:`BASELINES`), False, or a list of names.
    Returns a flat dict: ``n_a``, ``n_b``, ``diverged``, ``error``, final losses, and scores
    keyed ``"<method>|<split>|<metric>"`` (split ``eval`` = what the tables report: the
    Wikipedia test split, all rows elsewhere; ``train`` = the fit rows).
    """
    if variant != "full" and variant not in ABLATIONS:
        raise ValueError(f"unknown variant {variant!r}; known: {['full', *ABLATIONS]}")
    settings = DM2CSettings.preset(profile)
    mix, held = mixed_splits(dataset, seed=seed, fraction_a=fraction_a, settings=settings, data_dir=data_dir)
    out: dict = {"n_a": mix.n_a, "n_b": mix.n_b, "diverged": False, "error": ""}
    name = "DM2C" if variant == "full" else f"DM2C-{variant}"
    model = DM2C(mix.n_clusters, config=settings.dm2c, seed=seed, **ABLATIONS.get(variant, {}))
    try:
        model.fit(mix.x_a, mix.x_b)
        if diverged(model.history_):
            raise FloatingPointError("reconstruction loss exploded during joint training")
    except FloatingPointError as exc:  # reported, never kept: the run's scores stay missing
        return {**out, "diverged": True, "error": f"{name}: {exc}"}
    out.update({f"final_{k}": v for k, v in model.history_[-1].items() if k != "epoch"})
    readouts = {name: dict(unify="a")}
    if variant == "full":
        readouts["DM2C-no_translation"] = dict(unify="none")
    for method, kw in readouts.items():
        emb = model.transform(mix.x_a, mix.x_b, **kw)
        km = model.kmeans_ if method == name else KMeans(mix.n_clusters, n_init=settings.dm2c.kmeans_n_init,
                                                         random_state=seed).fit(emb)
        out.update(_scores(f"{method}|train", mix.labels, km.labels_))
        test_pred = km.predict(model.transform(held.x_a, held.x_b, **kw)) if held is not None else km.labels_
        out.update(_scores(f"{method}|eval", (held or mix).labels, test_pred))
    names = BASELINES if baselines is True else tuple(baselines or ())
    unknown = sorted(set(names) - set(BASELINES))
    if unknown:
        raise ValueError(f"unknown baselines {unknown}; known: {BASELINES}")
    if variant == "full" and names:
        out.update(_run_baselines(model, mix, held, seed, settings, names))
    return out


def _run_baselines(model: DM2C, mix: MixedModalDataset, held, seed: int, settings: DM2CSettings,
                   names=BASELINES) -> dict:
    """Baselines on own-modality latents of the pretrained autoencoders (no translation possible)."""
    out = {}
    x_fit = model.transform(mix.x_a, mix.x_b, unify="none", pretrained=True)  # (n_a + n_b, L)
    x_eval = model.transform(held.x_a, held.x_b, unify="none", pretrained=True) if held is not None else x_fit
    for name in names:
        est = _baseline(name, mix.n_clusters, seed, settings)
        try:
            train_pred = est.fit_predict(x_fit)
        except FloatingPointError as exc:
            out[f"{name}|diverged"] = True
            out["error"] = (out.get("error", "") + f" {name}: {exc}").strip()
            continue
        out.update(_scores(f"{name}|train", mix.labels, train_pred))
        out.update(_scores(f"{name}|eval", (held or mix).labels, est.predict(x_eval)))
    return out


# ---------------------------------------------------------------------- tables
def long_scores(df, *, split: str = "eval"):
    """Runs (one row each, from ``run_grid``) → one row per (run, method, metric) for ``split``."""
    import pandas as pd

    id_cols = [c for c in ("dataset", "seed", "fraction_a", "variant") if c in df.columns]
    records = []
    for _, run in df.iterrows():
        for col, value in run.items():
            parts = str(col).split("|")
            if len(parts) == 3 and parts[1] == split and pd.notna(value):
                records.append({**{c: run[c] for c in id_cols}, "method": parts[0], "metric": parts[2],
                                "value": float(value)})
    return pd.DataFrame(records)


def summary_rows(long, *, setting: str, by=("method", "dataset"), note_extra: str = "") -> list[dict]:
    """Results-store rows (mean, std over seeds, n_seeds) with the dataset's protocol note."""
    rows = []
    for keys, grp in long.groupby([*by, "metric"], sort=False):
        rec = dict(zip([*by, "metric"], keys))
        note = NOTES.get(rec.get("dataset", ""), "")
        rows.append({"method": rec["method"], "dataset": rec["dataset"], "metric": rec["metric"],
                     "mean": float(grp["value"].mean()), "std": float(np.std(grp["value"])),
                     "n_seeds": int(grp["value"].size), "setting": setting,
                     "note": (note + note_extra).strip("; ")})
    return rows


def paper_comparison(rows: list[dict], dataset: str = "wikipedia", paper_dataset: str | None = None):
    """Paper value, ours (mean ± std) and ours − paper for each method × metric of ``dataset``."""
    import pandas as pd

    paper = PAPER[paper_dataset or dataset]
    ours = {(r["method"], r["metric"]): r for r in rows if r["dataset"] == dataset and r["setting"] == "main"}
    table = []
    for method, values in paper.items():
        for metric, value in zip(PAPER_METRIC_ORDER, values):
            r = ours.get((method, metric))
            table.append({"method": method, "metric": metric, "paper": value,
                          "ours": f"{r['mean']:.4f} ± {r['std']:.4f}" if r else "—",
                          "ours - paper": round(r["mean"] - value, 4) if r else np.nan})
    return pd.DataFrame(table)


def _mean(rows, method, dataset, metric, setting="main"):
    for r in rows:
        if (r["method"], r["dataset"], r["metric"], r["setting"]) == (method, dataset, metric, setting):
            return r["mean"], r["std"]
    return None


def claims_table(rows: list[dict], *, nus_available: bool = False):
    """The paper's claims beside our numbers, with a verdict computed from ``rows`` (results-store rows).

    Verdicts: ``holds`` / ``does not hold`` (on our data), prefixed ``substituted:`` for
    Wikipedia (different features), ``not run`` where the data are absent, and suffixed
    ``(within seed spread)`` when the two means differ by less than the larger std.
    """
    import pandas as pd

    out = []

    def add(claim, dataset, ours, ok, prefix="", pair=None):
        verdict = "not run" if ok is None else ("holds" if ok else "does not hold")
        if pair is not None and abs(pair[0][0] - pair[1][0]) < max(pair[0][1], pair[1][1]):
            verdict += " (within seed spread)"
        out.append({"claim": claim, "dataset": dataset, "ours": ours,
                    "verdict": f"{prefix}{verdict}" if ok is not None else verdict})

    for dataset in DATASETS:
        prefix = "substituted: " if dataset == "wikipedia" else ("" if dataset in PAPER else "extra data set: ")
        for metric in ("acc", "nmi", "purity"):
            dm2c = _mean(rows, "DM2C", dataset, metric)
            base = {b: _mean(rows, b, dataset, metric) for b in BASELINES}
            base = {b: v for b, v in base.items() if v is not None}
            if dm2c is None or not base:
                continue
            best = max(base, key=lambda b: base[b][0])
            add(f"DM2C beats every baseline ({metric})", dataset,
                f"DM2C {dm2c[0]:.3f} ± {dm2c[1]:.3f} vs best {best} {base[best][0]:.3f} ± {base[best][1]:.3f}",
                dm2c[0] > base[best][0], prefix, (dm2c, base[best]))
        for variant, label in (("no_translation", "modality unifying (translation) helps"),
                               ("no_cycle", "the cycle-consistency loss helps"),
                               ("no_adv", "the adversarial loss helps")):
            full = _mean(rows, "DM2C", dataset, "acc", "ablation:full")
            abl = _mean(rows, f"DM2C-{variant}", dataset, "acc", f"ablation:{variant}")
            if full is None or abl is None:
                continue
            add(f"ablation: {label} (acc)", dataset,
                f"full {full[0]:.3f} ± {full[1]:.3f} vs without {abl[0]:.3f} ± {abl[1]:.3f}", full[0] > abl[0], prefix,
                (full, abl))
    if not nus_available:
        add("DM2C beats every baseline on NUS-WIDE-10K", "nus-wide-10k", "data not on this machine", None)
    return pd.DataFrame(out)
