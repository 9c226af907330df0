"""Notebook 06's study: the run plan, the tables, ranks, tests, cost and the generalisation findings."""

import json

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import friedmanchisquare  # noqa: E402

from conftest import REPO  # noqa: E402
from mmc_lib.results import check_rows  # noqa: E402
from mmc_lib.studies import generalisation as gen  # noqa: E402
from mmc_lib.studies.budgets import GENERALISATION_ALL, budget  # noqa: E402


def _summary(table: dict, std: float = 0.01, n: int = 3) -> pd.DataFrame:
    """A summarize()-shaped frame from {dataset: {method: acc}} (nmi = ari = acc, seconds = 1)."""
    rows = []
    for d, methods in table.items():
        for m, v in methods.items():
            row = {"dataset": d, "method": m}
            for metric in (*gen.METRICS, "seconds"):
                row |= {f"{metric}_mean": v if metric != "seconds" else 1.0, f"{metric}_std": std,
                        f"{metric}_count": n}
            rows.append(row)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- budget and plan

def test_full_budget_runs_every_set_and_names_its_cuts():
    b = budget("06_generalisation", "full")
    assert b.datasets == GENERALISATION_ALL and len(b.datasets) == 11
    assert b.seeds(0) == (0, 1, 2) and b.epochs == 100 and b.n_restarts == 1
    assert b.cap("mnist-usps") == 2000 and b.cap("3sources") is None
    assert set(b.ranked_methods) == {"KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC", "RMKMC", "SwMC", "ONMSC", "SMCMB",
                                     "SiMVC", "CoMVC", "DDMC"}
    assert b.deep_competitors == {"EAMC": ("3sources",), "DIVIDE": ("3sources",), "SCMVC": ("3sources",)}
    assert b.competitor_options == {}  # the authors' defaults


def test_smoke_budget_is_two_sets_and_one_seed():
    b = budget("06_generalisation", "smoke")
    assert len(b.datasets) == 2 and b.seeds(5) == (5,) and b.epochs < 10 and b.default_max_samples == 200


def test_the_plan_follows_the_budget(shared_data_dir):
    b = budget("06_generalisation", "full")
    study = gen.GeneralisationStudy(b, seed=4, data_dir=str(shared_data_dir))
    assert study.present == list(GENERALISATION_ALL) and study.absent == []
    classical, competitors, deep = study.classical_runs(), study.competitor_runs(), study.deep_runs()
    assert len(classical) == 5 * 11 * 3 and len(deep) == 3 * 11 * 3
    assert {r["seed"] for r in classical + deep} == {4, 5, 6}
    deep_comp = [r for r in competitors if r["method"] in b.deep_competitors]
    assert sorted((r["method"], r["dataset"], r["seed"]) for r in deep_comp) == \
        [("DIVIDE", "3sources", 4), ("EAMC", "3sources", 4), ("SCMVC", "3sources", 4)]
    assert all(r["max_samples"] == (2000 if r["dataset"] == "mnist-usps" else None) for r in classical + deep)
    assert all(r["epochs"] == 100 and r["n_restarts"] == 1 and r["alpha"] == 0.1 for r in deep)
    assert study.n_runs() == len(classical) + len(competitors) + len(deep) == 399


def test_run_needs_a_cache():
    study = gen.GeneralisationStudy(budget("06_generalisation", "smoke"))
    with pytest.raises(ValueError, match="cache"):
        study.run()


def test_datasets_table_describes_the_rows_clustered(shared_data_dir):
    study = gen.GeneralisationStudy(budget("06_generalisation", "smoke"), data_dir=str(shared_data_dir))
    table = study.datasets_table()
    assert table.loc["3sources", "n"] == 169 and table.loc["3sources", "views"] == 3
    assert table.loc["3sources", "features"] == "text" and table.loc["synthetic3d", "n"] == 200  # smoke cap
    assert table.loc["synthetic3d", "n (stored)"] == 600


# ----------------------------------------------------------------- ranks and tests

def test_average_ranks_by_hand_with_ties():
    scores = pd.DataFrame({"A": [0.9, 0.5, 0.7], "B": [0.8, 0.5, 0.9], "C": [0.1, 0.2, 0.3]},
                          index=["d1", "d2", "d3"])
    # d1: A1 B2 C3; d2: A and B tie for 1–2 → 1.5 each, C3; d3: B1 A2 C3
    ranks = gen.average_ranks(scores)
    assert ranks.to_dict() == pytest.approx({"A": (1 + 1.5 + 2) / 3, "B": (2 + 1.5 + 1) / 3, "C": 3.0})
    assert list(ranks.index) == ["A", "B", "C"] or list(ranks.index) == ["B", "A", "C"]
    assert ranks.sum() == pytest.approx(3 * 4 / 2)  # ranks of k methods always sum to k(k+1)/2


def test_average_ranks_refuse_a_missing_value():
    with pytest.raises(ValueError, match="B"):
        gen.average_ranks(pd.DataFrame({"A": [0.1, 0.2], "B": [0.3, np.nan]}))


def _random_scores(n_sets=8, methods=("A", "B", "C", "D"), seed=0):
    rng = np.random.default_rng(seed)
    base = np.array([0.8, 0.6, 0.55, 0.3])[: len(methods)]
    return pd.DataFrame(base + 0.1 * rng.random((n_sets, len(methods))), columns=list(methods),
                        index=[f"d{i}" for i in range(n_sets)])


def test_rank_test_is_the_friedman_test_and_the_nemenyi_cd():
    scores = _random_scores()
    test = gen.rank_test(scores, alpha=0.05)
    expected = friedmanchisquare(*[scores[c] for c in scores.columns])
    assert test["friedman_p"] == pytest.approx(expected.pvalue)
    assert test["friedman_statistic"] == pytest.approx(expected.statistic)
    k, n = 4, 8
    r = gen.average_ranks(scores)  # chi2_F from Demšar's formula (no ties here)
    assert test["friedman_statistic"] == pytest.approx(12 * n / (k * (k + 1)) * ((r ** 2).sum() - k * (k + 1) ** 2 / 4))
    assert test["critical_difference"] == pytest.approx(2.569 * np.sqrt(k * (k + 1) / (6 * n)), abs=2e-3)  # q_0.05, k=4
    assert test["mean_ranks"] == pytest.approx(r.to_dict())
    assert test["posthoc"] == "nemenyi" and test["friedman_p"] < 0.05


def test_rank_test_needs_five_sets():
    with pytest.raises(ValueError, match="at least 5"):
        gen.rank_test(_random_scores(n_sets=4))


def test_cd_diagram_draws_the_ranked_methods(tmp_path):
    ax = gen.cd_diagram(gen.rank_test(_random_scores()))
    texts = {t.get_text() for t in ax.texts}
    assert {"A", "B", "C", "D"} <= texts


def test_bayesian_signed_rank_is_seeded_and_sees_a_clear_winner():
    scores = _random_scores(n_sets=10)
    r1 = gen.bayesian_signed_rank(scores, "A", "D", rope=0.01, seed=0)
    r2 = gen.bayesian_signed_rank(scores, "A", "D", rope=0.01, seed=0)
    assert r1 == r2
    assert r1["P(A better)"] > 0.95 and r1["P(D better)"] < 0.01
    assert r1["P(A better)"] + r1["P(equivalent)"] + r1["P(D better)"] == pytest.approx(1.0)
    same = gen.bayesian_signed_rank(scores.assign(E=scores["A"] + 0.001), "A", "E", rope=0.01, seed=0)
    assert same["P(equivalent)"] > 0.9  # differences inside the ROPE are ties
    no_rope = gen.bayesian_signed_rank(scores, "A", "D", rope=0.0, seed=0)
    assert no_rope["P(equivalent)"] == 0.0 and no_rope["P(A better)"] + no_rope["P(D better)"] == pytest.approx(1.0)


def test_best_of_picks_the_lowest_rank_among_the_candidates():
    ranks = pd.Series({"DDMC": 1.0, "ONMSC": 2.0, "KM": 3.0})
    assert gen.best_of(ranks, ["KM", "ONMSC"]) == "ONMSC"
    with pytest.raises(ValueError):
        gen.best_of(ranks, ["SwMC"])


# ----------------------------------------------------------------- tables, cost, which method when

def test_metric_table_shows_mean_std_rank_and_bold_best():
    summary = _summary({"d1": {"A": 0.9, "B": 0.5}, "d2": {"A": 0.4, "B": 0.6}})
    styler = gen.metric_table(summary, "acc", methods=["A", "B"])
    assert styler.data.loc["A", "d1"] == "90.0 ± 1.0 (1)" and styler.data.loc["A", "d2"] == "40.0 ± 1.0 (2)"
    html = styler.to_html()
    assert "_row0_col0, #T_" in html and "_row1_col1 {\n  font-weight: bold" in html  # A on d1, B on d2


def test_score_matrix_orders_rows_and_columns():
    summary = _summary({"d1": {"A": 0.9, "B": 0.5}, "d2": {"A": 0.4, "B": 0.6}})
    m = gen.score_matrix(summary, "acc", ["B", "A"], ["d2", "d1"])
    assert list(m.columns) == ["B", "A"] and list(m.index) == ["d2", "d1"] and m.loc["d1", "A"] == 0.9


def test_pareto_front_and_cost_points():
    summary = _summary({"d1": {"A": 0.9, "B": 0.5, "C": 0.4}, "d2": {"A": 0.7, "B": 0.5, "C": 0.3}})
    summary.loc[summary.method == "A", "seconds_mean"] = 10.0
    points = gen.cost_points(summary, ["A", "B", "C"], ["d1", "d2"])
    assert points.loc["A", "acc"] == pytest.approx(0.8) and points.loc["A", "seconds"] == 10.0
    assert gen.pareto_front(points) == ["B", "A"]  # C is dominated by B (same cost, lower ACC)
    costs = gen.cost_table(summary, ["A", "B", "C"])
    assert costs.loc["A", "median"] == 10.0


def test_groups_and_which_method_when_cite_their_rows():
    table = pd.DataFrame({"n": [100, 200, 5000, 3000], "views": [2, 3, 2, 3],
                          "features": ["text", "text", "image", "other"]}, index=["s1", "s2", "s3", "s4"])
    groups = gen.dataset_groups(table)
    assert groups["small n (< 1000 rows)"] == ["s1", "s2"] and groups["two views"] == ["s1", "s3"]
    assert "image features among the views" not in groups  # one set is not a rank
    scores = pd.DataFrame({"A": [0.9, 0.8, 0.1, 0.2], "B": [0.5, 0.4, 0.9, 0.8]}, index=table.index)
    when = gen.which_method_when(scores, groups)
    assert when.loc["small n (< 1000 rows)", "best"] == "A" and when.loc["large n (≥ 1000 rows)", "best"] == "B"
    assert when.loc["small n (< 1000 rows)", "rows"] == "acc/s1/A = 90.0; acc/s2/A = 80.0"
    sentences = gen.summary_sentences(when)
    assert len(sentences) == len(groups) and all("rows: acc/" in s for s in sentences)


def test_feature_kind():
    assert gen.feature_kind(["text", "text", "text"]) == "text"
    assert gen.feature_kind(["image", "image"]) == "image"
    assert gen.feature_kind(["other", "other"]) == "other"


# ----------------------------------------------------------------- findings and results

def test_generalisation_findings_use_the_vocabulary_and_keep_every_set():
    summary = _summary({"d1": {"DDMC": 0.9, "KM": 0.5, "AmKM": 0.6, "Ncuts": 0.5, "AmNcuts": 0.4},
                        "d2": {"DDMC": 0.3, "KM": 0.5, "AmKM": 0.7, "Ncuts": 0.5, "AmNcuts": 0.6}})
    rows = gen.generalisation_findings(summary, ["d1", "d2"], "a note")
    assert all(r["kind"] == "generalisation" and r["setting"] == "generalisation" for r in rows)
    verdicts = {r["claim"]: r["verdict"] for r in rows if r["dataset"] == "all"}
    assert verdicts["ddmc.order.best-overall.acc"] == "does not carry over (to d2)"
    assert verdicts["mmcluster.order.multimodal-beats-single.acc"] == "carries over"
    assert verdicts["mmcluster.order.multimodal-beats-single-spectral.acc"] == "does not carry over (to d1)"
    d2 = next(r for r in rows if r["claim"] == "ddmc.order.best-overall.acc" and r["dataset"] == "d2")
    assert d2["rival"] == "AmKM" and d2["holds"] is False and d2["within_seed_spread"] is False
    table = gen.findings_table(rows)
    assert table.loc["ddmc.order.best-overall.acc", "holds on"] == "1 of 2 sets"
    assert check_rows(rows)  # valid result rows


def test_findings_refer_to_claims_in_the_ledgers():
    ids = set(gen._ledger_claims())
    assert set(gen.ORDERING_CLAIMS) <= ids


def test_result_rows_are_valid_and_note_the_subsample(shared_data_dir):
    b = budget("06_generalisation", "smoke")
    study = gen.GeneralisationStudy(b, data_dir=str(shared_data_dir))
    summary = _summary({"3sources": {"KM": 0.5, "AmKM": 0.6}, "synthetic3d": {"KM": 0.7, "AmKM": 0.9}}, n=1)
    ranks = {"acc": gen.average_ranks(gen.score_matrix(summary, "acc"))}
    rows = check_rows(gen.result_rows(summary, study, ranks, []))
    main = {(r["method"], r["dataset"], r["metric"]): r for r in rows if r["setting"] == "main"}
    assert main[("KM", "synthetic3d", "acc")]["note"] == "n_samples=200 (stratified subsample)"
    assert main[("KM", "3sources", "acc")]["note"] == "n_samples=169"
    assert main[("KM", "3sources", "seconds")]["scale"] == "seconds"
    rank_rows = {r["method"]: r["mean"] for r in rows if r["setting"] == "rank"}
    assert rank_rows == {"AmKM": 1.0, "KM": 2.0}


RESULTS = REPO / "results" / "full" / "06_generalisation.json"


@pytest.mark.skipif(not RESULTS.is_file(), reason="no committed full-profile results for notebook 06")
def test_committed_ranks_and_tests_follow_from_the_committed_table():
    """The stored average ranks, Friedman p-value and findings are what the stored ACC table gives."""
    payload = json.loads(RESULTS.read_text())
    rows = payload["rows"]
    main = pd.DataFrame([r for r in rows if r["setting"] == "main" and r["metric"] == "acc"])
    ranked = [r["method"] for r in rows if r["setting"] == "rank" and r["metric"] == "acc_rank"]
    scores = main.pivot(index="dataset", columns="method", values="mean")[ranked].dropna()
    assert len(scores) == len(payload["extra"]["datasets"]) == 11
    stored = {r["method"]: r["mean"] for r in rows if r["setting"] == "rank" and r["metric"] == "acc_rank"}
    assert gen.average_ranks(scores).to_dict() == pytest.approx(stored)
    assert payload["extra"]["friedman"]["p"] == pytest.approx(friedmanchisquare(*[scores[c] for c in scores]).pvalue)
    assert payload["provenance"]["profile"] == "full"
    assert {r["claim"] for r in rows if r.get("kind") == "generalisation"} == set(gen.ORDERING_CLAIMS)


@pytest.mark.skipif(not RESULTS.is_file(), reason="no committed full-profile results for notebook 06")
def test_the_measured_cost_in_the_intro_is_the_committed_runs():
    payload = json.loads(RESULTS.read_text())
    fit = sum(r["mean"] * r["n_seeds"] for r in payload["rows"] if r["setting"] == "main" and r["metric"] == "seconds")
    intro = "".join(json.loads((REPO / "notebooks" / "06_generalisation.ipynb").read_text())["cells"][0]["source"])
    assert f"{payload['extra']['wall_seconds']:.0f} s of wall clock" in intro
    assert f"{payload['extra']['n_runs']} fits summing to {fit:.0f} s of fitting" in intro


def test_datasets_table_without_any_set_names_the_missing_file(tmp_path):
    from mmc_lib.data import DataMissingError

    study = gen.GeneralisationStudy(budget("06_generalisation", "smoke"), data_dir=str(tmp_path))
    assert study.present == []
    with pytest.raises(DataMissingError, match=r"multiview/.*not found in data directory"):
        study.datasets_table()
