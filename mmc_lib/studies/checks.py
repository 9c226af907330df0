"""A small, fixed experiment per notebook whose numbers nbval compares with the stored output.

The notebooks' own tables differ between profiles (smoke subsamples, cuts epochs), so they cannot be compared with
the committed full-profile outputs. These checks run the notebook's methods the same way in every profile — a fixed
90-row subset of Synthetic3d (3 balanced classes), a few epochs, seed 0, one thread — or, for notebook 03, a real
result that no profile changes (CCA retrieval on the Wikipedia test split). Any change in behaviour flips a number
in CI. Values are rounded to 3 decimals; fits run on one thread, so the same seed gives the same numbers.
"""

from __future__ import annotations

import pandas as pd

CHECK_DATASET, CHECK_ROWS = "synthetic3d", 90


def _classical(data_dir) -> list[dict]:
    from mmc_lib.studies.data_and_baselines import classical_run

    return [{"method": m, **classical_run(m, CHECK_DATASET, 0, max_samples=CHECK_ROWS, data_dir=data_dir)}
            for m in ("KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC")]


def _deep_mvc(data_dir) -> list[dict]:
    from mmc_lib.studies.ddmc import run_deep

    return [{"method": m, **run_deep(m, CHECK_DATASET, 0, epochs=25, n_restarts=1, max_samples=CHECK_ROWS,
                                     data_dir=data_dir)} for m in ("DDMC", "SiMVC", "CoMVC")]


def _dm2c(data_dir) -> list[dict]:
    from mmc_lib.data import load, mixed_modal
    from mmc_lib.methods import DM2C, DM2CConfig
    from mmc_lib.metrics import clustering_report

    mix = mixed_modal(load(CHECK_DATASET, data_dir=data_dir, max_samples=CHECK_ROWS), seed=0)
    cfg = DM2CConfig(pretrain_epochs=2, epochs=2, batch_size=32, kmeans_n_init=2)
    labels = DM2C(mix.n_clusters, config=cfg, seed=0).fit_predict(mix.x_a, mix.x_b)
    return [{"method": "DM2C", **clustering_report(mix.labels, labels)}]


def _retrieval(data_dir) -> list[dict]:
    from mmc_lib.studies.joint_embedding import retrieval_run

    return [{"method": "cca", **retrieval_run("cca", 0, "smoke", data_dir)}]


def _generalisation(data_dir) -> list[dict]:
    """KM, AmKM and AmNcuts on fixed subsets of five sets (four of the generalisation suite; autorank needs five),
    then the notebook's statistics on that 5 × 3 table: average ranks, the Friedman p-value (autorank) and the
    Bayesian signed-rank probabilities (baycomp, seeded)."""
    from mmc_lib.studies.data_and_baselines import classical_run
    from mmc_lib.studies.generalisation import average_ranks, bayesian_signed_rank, rank_test

    sets = {CHECK_DATASET: CHECK_ROWS, "3sources": None, "ngs": 100, "bbcsport": 100, "webkb": 100}
    methods = ("KM", "AmKM", "AmNcuts")
    scores = pd.DataFrame({m: {d: classical_run(m, d, 0, max_samples=n, data_dir=data_dir)["acc"]
                               for d, n in sets.items()} for m in methods})
    ranks = average_ranks(scores)
    test = rank_test(scores)
    bayes = bayesian_signed_rank(scores, "AmKM", "KM", rope=0.01)
    return [{"method": m, **{f"acc_{d}": scores.loc[d, m] for d in sets}, "rank": ranks[m],
             "friedman_p": test["friedman_p"], "P(AmKM better)": bayes["P(AmKM better)"]} for m in methods]


_CHECKS = {"00_data_and_baselines": (_classical, ["acc", "nmi"]), "01_ddmc": (_deep_mvc, ["acc", "nmi"]),
           "02_dm2c": (_dm2c, ["acc", "nmi"]), "03_joint_embedding": (_retrieval, ["map_img2txt", "map_txt2img"]),
           "06_generalisation": (_generalisation, ["acc_synthetic3d", "acc_3sources", "acc_ngs", "acc_bbcsport",
                                                   "acc_webkb", "rank", "friedman_p", "P(AmKM better)"])}


def regression_check(notebook: str, *, data_dir=None) -> str:
    """The notebook's fixed check as text (what a ``# NBVAL_CHECK_OUTPUT`` cell prints)."""
    if notebook not in _CHECKS:
        raise ValueError(f"no regression check for {notebook!r}; known: {sorted(_CHECKS)}")
    run, metrics = _CHECKS[notebook]
    table = pd.DataFrame(run(data_dir)).set_index("method")[metrics].astype(float).round(3)
    return table.to_string()
