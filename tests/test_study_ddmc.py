"""Study 01 (DDMC): the grids follow the budget and the notebook's seed, the one dominant-view rule is used, a run
reports what the tables need, and the result rows carry their subsample note."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from mmc_lib.methods.shared import choose_dominant_view
from mmc_lib.studies import ddmc
from mmc_lib.studies.budgets import budget

CAP = 120  # rows of synthetic3d (600) the tests keep


@pytest.fixture
def tiny(shared_data_dir):
    """A smoke budget cut to a few rows and epochs, on the shared data."""
    b = replace(budget("01_ddmc", "smoke"), epochs=2, max_samples={"synthetic3d": CAP, "cub": CAP})
    return ddmc.DDMCStudy(b, seed=5, data_dir=str(shared_data_dir))


def test_dominant_choice_is_the_one_rule_on_the_capped_rows(tiny):
    ds = tiny.load("synthetic3d")
    assert ds.n_samples == CAP
    chosen, scores = ddmc.dominant_choice("synthetic3d", CAP, tiny.data_dir)
    expected, expected_scores = choose_dominant_view(ds.views, ds.n_clusters, seed=0)
    assert chosen == expected and np.allclose(scores, expected_scores)


def test_run_deep_reports_the_metrics_and_the_dominant_view(tiny):
    dm = ddmc.dominant_choice("synthetic3d", CAP, tiny.data_dir)[0]
    out = ddmc.run_deep("DDMC", "synthetic3d", 0, epochs=2, n_restarts=1, max_samples=CAP, data_dir=tiny.data_dir)
    assert set(ddmc.METRICS) <= set(out) and 0 <= out["acc"] <= 1
    assert out["n_samples"] == CAP and out["seconds_per_epoch"] > 0 and np.isfinite(out["objective"])
    assert out["dominant_view"] == tiny.load("synthetic3d").view_names[dm]
    simvc = ddmc.run_deep("SiMVC", "synthetic3d", 0, epochs=1, n_restarts=1, max_samples=CAP,
                          data_dir=tiny.data_dir)
    assert "dominant_view" not in simvc
    with pytest.raises(ValueError, match="unknown deep method"):
        ddmc.run_deep("DEC", "synthetic3d", 0, epochs=1, n_restarts=1)


def test_grids_follow_the_budget_and_the_notebook_seed(tiny):
    b = tiny.budget
    deep, classical = tiny.main_runs()
    assert {r["seed"] for r in deep} == {r["seed"] for r in classical} == {5, 6}
    assert len(deep) == len(ddmc.DEEP) * len(tiny.datasets) * b.n_seeds
    assert all(r["max_samples"] == b.cap(r["dataset"]) and r["epochs"] == 2 for r in deep)
    assert set(classical[0]) == {"method", "dataset", "seed", "max_samples", "data_dir"}  # classical_run's params
    ablation = tiny.ablation_runs()
    assert {r["variant"] for r in ablation} == set(ddmc.VARIANTS)
    assert {r["dataset"] for r in ablation} == {d for d in b.ablation_datasets if d in tiny.datasets}
    fusion = tiny.fusion_runs()
    assert len(fusion) == len(ablation) // len(ddmc.VARIANTS) and {r["combine"] for r in fusion} == {"fuse"}
    cells = tiny.grid_runs()
    assert len(cells) == len(b.grid_values) ** 2 * b.n_grid_seeds
    assert {r["seed"] for r in cells} == set(b.grid_seeds(5)) and 5 in b.grid_seeds(5)
    others = tiny.competitor_runs()
    assert {r["method"] for r in others} == set(ddmc.COMPETITORS)
    assert {r["seed"] for r in others} == set(b.competitor_seeds("SwMC", 5))
    assert all(r["options"] == b.competitor_config(r["method"], r["dataset"]) for r in others)
    dominant = tiny.dominant_runs()
    n_views = sum(len(tiny.load(d).views) for d in tiny.subset(b.dominant_datasets))
    assert sorted(r["dominant"] for r in dominant if r["dataset"] == "synthetic3d") == [0, 1, 2]
    assert len(dominant) == n_views * b.n_dominant_seeds


def _runs(**columns) -> pd.DataFrame:
    """Two seeds of made-up metrics per row of ``columns``."""
    base = pd.DataFrame(columns)
    frames = [base.assign(seed=s, **{m: 0.5 + 0.1 * s for m in ddmc.METRICS}) for s in (0, 1)]
    return pd.concat(frames, ignore_index=True)


def test_result_rows_carry_settings_and_the_subsample_note(tiny):
    main = _runs(method=["DDMC", "KM"], dataset=["synthetic3d", "synthetic3d"])
    ablation = _runs(method="DDMC", dataset="synthetic3d", variant=list(ddmc.VARIANTS))
    fusion = _runs(method="DDMC", dataset=["synthetic3d"], variant=["all"], combine=["fuse"])
    sweep = _runs(method="DDMC", dataset="synthetic3d", alpha=[0.1, 1.0], beta=[0.1, 0.1])
    rows = tiny.result_rows(main, ablation, fusion, sweep)
    settings = {r["setting"] for r in rows}
    assert settings == {"main", "enhancement", "fusion", *(f"ablation:{v}" for v in ddmc.VARIANTS),
                        "grid:alpha=0.1,beta=0.1", "grid:alpha=1,beta=0.1"}
    assert all(r["note"] == f"stratified subsample of {CAP} rows" and r["n_seeds"] == 2 for r in rows)
    assert len(rows) == (2 + 4 + 2 + 2) * len(ddmc.METRICS)
    uncapped = replace(tiny, budget=replace(tiny.budget, max_samples={}))
    assert not any("note" in r for r in uncapped.result_rows(main, ablation, fusion, sweep))


def test_paper_comparison_reads_the_ledger_and_writes_mean_std():
    assert ddmc.paper_names()["caltech-3v"] == "Caltech-3V"
    summary = pd.DataFrame({"method": ["DDMC"], "dataset": ["caltech-3v"], "acc_mean": [0.5], "acc_std": [0.01]})
    cmp = ddmc.compare_with_paper(summary, metric="acc", methods=["DDMC", "KM"]).set_index(["method", "dataset"])
    assert cmp.loc[("DDMC", "Caltech-3V"), "ours"] == "50.0 ± 1.0"
    assert cmp.loc[("DDMC", "Caltech-3V"), "diff"] == round(50.0 - cmp.loc[("DDMC", "Caltech-3V"), "paper"], 1)
    assert cmp.loc[("KM", "IAPR"), "ours"] == "not run"
    assert ddmc.paper_row("DDMC").shape == (2, 5)


def test_paper_table_ranked_from_the_ledger():
    acc = ddmc.paper_ranked("acc").data
    assert acc.loc["DDMC", "Caltech-3V"] == "76.7 (1)"  # the slides' best method ranks first
    assert not acc.isin(["not run"]).any().any()


def test_full_budget_runs_the_authors_schedules_and_names_every_cut():
    from mmc_lib.studies.budgets import budget

    full = budget("01_ddmc", "full")
    assert full.runs_competitor("SwMC", "mnist-usps") and not full.runs_competitor("MFLVC", "mnist-usps")
    assert full.runs_competitor("MFLVC", "synthetic3d") and full.runs_competitor("SCMVC", "prokaryotic")
    assert full.competitor_config("MFLVC", "synthetic3d") == {}  # the authors' defaults
    assert full.competitor_config("SCMVC", "prokaryotic") == {"config": {"epochs": 20}}  # their script's epochs
    assert full.schedule_note("DEMVC").startswith("reduced schedule: ") and "iterations=1000" in full.schedule_note("DEMVC")
    assert full.schedule_note("SwMC") == full.schedule_note("MFLVC") == full.schedule_note("DDMC") == ""
    assert len(full.competitor_seeds("MFLVC")) == 1 and len(full.competitor_seeds("SwMC")) == 3
    smoke = budget("01_ddmc", "smoke")
    assert smoke.schedule_note("DEMVC") == "" and smoke.competitor_config("SCMVC", "prokaryotic") == smoke.competitor_options["SCMVC"]
    assert full.encoder_option("cub") == {}  # the MLP default keeps the cache keys of MLP runs
    assert replace(full, encoders={"mnist-usps": "cnn"}).encoder_option("mnist-usps") == {"encoder": "cnn"}


def test_competitor_run_builds_each_method_from_its_options(tiny):
    out = ddmc.competitor_run("SCMVC", "synthetic3d", 0, max_samples=CAP, data_dir=tiny.data_dir,
                              options={"config": {"hidden": [8], "feature_dim": 4, "high_feature_dim": 3,
                                                  "fusion_hidden": 4, "pretrain_epochs": 1, "epochs": 1,
                                                  "kmeans_n_init": 1}})
    assert 0 <= out["acc"] <= 1 and out["n_samples"] == CAP and out["seconds"] > 0
    with pytest.raises(ValueError, match="unknown competitor"):
        ddmc.competitor_run("DEC", "synthetic3d", 0)


# ------------------------------------------------------------------ notebook 01's tables and figures as calls
def _summary():
    rows = [{"method": m, "dataset": d, "acc_mean": a, "nmi_mean": a / 2}
            for (m, d, a) in [("DDMC", "x", 0.9), ("KM", "x", 0.4), ("DDMC", "y", 0.6)]]
    return pd.DataFrame(rows)


def test_main_heatmap_draws_the_score_grid():
    import matplotlib.pyplot as plt

    fig = ddmc.main_heatmap(_summary(), ["x", "y"], reduced=lambda m: m == "KM")
    try:
        acc_ax, nmi_ax = fig.axes[:2]
        grid = ddmc.score_grid(_summary(), ["x", "y"])
        shown = acc_ax.images[0].get_array()
        assert np.allclose(np.ma.filled(shown, np.nan), grid.values, equal_nan=True)
        assert np.allclose(np.ma.filled(nmi_ax.images[0].get_array(), np.nan), grid.values / 2, equal_nan=True)
        assert grid.loc["DDMC", "y"] == pytest.approx(60.0) and np.isnan(grid.loc["KM", "y"])  # blank: not run
        assert list(grid.index) == list(ddmc.ORDER)
        texts = sorted(t.get_text() for t in acc_ax.texts)
        assert texts == ["40", "60", "90"]  # one number per run cell, none for blanks
        labels = [t.get_text() for t in acc_ax.get_yticklabels()]
        assert "KM *" in labels and "DDMC" in labels  # the reduced-schedule mark
    finally:
        plt.close(fig)


def test_per_seed_table_keeps_only_the_deep_methods_and_their_spread():
    runs = pd.DataFrame({"method": ["DDMC", "DDMC", "SiMVC", "SiMVC", "KM"], "seed": [0, 1, 0, 1, 0],
                         "dataset": ["x"] * 5, "acc": [0.5, 0.9, 0.3, 0.3, 0.99]})
    per_seed, spread = ddmc.per_seed_table(runs)
    assert set(per_seed.index.get_level_values("method")) == {"DDMC", "SiMVC"}
    assert per_seed.loc[("DDMC", 1), "x"] == pytest.approx(90.0)
    assert spread.loc["DDMC", "x"] == pytest.approx(20.0) and spread.loc["SiMVC", "x"] == 0.0


def test_own_paper_numbers_leave_out_the_slides_and_name_the_silent_competitors():
    numbers = pd.DataFrame({
        "paper": ["SCMVC (Wu et al. 2024)", "DDMC slides", "MFLVC (Xu et al. 2022)"], "kind": ["value"] * 3,
        "method": ["SCMVC", "SCMVC", "MFLVC"], "dataset": ["Synthetic3d"] * 3, "metric": ["acc"] * 3,
        "source": ["Table III", "slides", "Table 2"], "claimed_frac": [0.98, 0.5, 0.9], "ours_mean": [0.97, 0.5, 0.8],
        "ours_std": [0.01, 0.0, 0.02], "n_seeds": [3, 3, 3], "verdict": ["reproduced"] * 3, "detail": [""] * 3})
    numbers.loc[1, "paper"] = "DDMC"
    own, silent = ddmc.own_paper_numbers(numbers)
    assert list(own.method) == ["SCMVC", "MFLVC"] and "DDMC" not in set(own.paper)
    assert list(own["diff (points)"]) == [-1.0, -10.0]
    assert "SCMVC" not in silent and "MFLVC" not in silent and "EAMC" in silent


def _variant_summary():
    """Planted means/stds of two variants on two data sets (one variant absent on ``y``)."""
    rows = [{"variant": v, "dataset": d, "acc_mean": a, "acc_std": s, "nmi_mean": a / 2, "nmi_std": s / 2}
            for (v, d, a, s) in [("DDC", "x", 0.4, 0.02), ("all", "x", 0.8, 0.04), ("all", "y", 0.6, 0.0)]]
    return pd.DataFrame(rows)


def test_summary_table_orders_rows_as_the_notebook_and_rejects_unknown_keys():
    table = ddmc.summary_table(_variant_summary(), by="variant", metric="acc")
    assert list(table.index) == list(ddmc.VARIANTS) and list(table.columns) == ["x", "y"]
    assert table.loc["all", "x"] == "80.0 ± 4.0" and table.loc["DDC", "x"] == "40.0 ± 2.0"
    assert table.loc["DDC+FDL"].isna().all() and pd.isna(table.loc["DDC", "y"])  # not run: NaN, not a number
    methods = ddmc.summary_table(_summary().assign(acc_std=0.0), by="method", metric="acc")
    assert list(methods.index) == list(ddmc.ORDER) and methods.loc["DDMC", "y"] == "60.0 ± 0.0"
    with pytest.raises(ValueError, match="unknown row key 'seed'"):
        ddmc.summary_table(_variant_summary(), by="seed", metric="acc")


def test_schedule_notes_name_each_cut_competitor_of_the_profile():
    full = budget("01_ddmc", "full")
    lines = ddmc.schedule_notes(full).splitlines()
    cut = [m for m in ddmc.COMPETITORS if full.schedule_note(m)]
    assert cut and [line.split(":")[0].strip() for line in lines[1:]] == cut
    assert "iterations=1000" in next(line for line in lines if line.strip().startswith("DEMVC:"))
    assert not any("reduced schedule" in line for line in lines)  # the prefix is dropped
    assert ddmc.schedule_notes(budget("01_ddmc", "smoke")).splitlines() == lines[:1]  # smoke: the header only


def test_run_seconds_and_per_seed_tables_read_the_runs():
    runs = pd.DataFrame({"method": ["DDMC"] * 3 + ["KM"], "dataset": ["x"] * 4, "seconds": [1.0, 9.0, 2.0, 0.04]})
    seconds = ddmc.run_seconds_table(runs)
    assert list(seconds.index) == list(ddmc.ORDER)
    assert seconds.loc["DDMC", "x"] == 2.0 and seconds.loc["KM", "x"] == 0.0 and seconds.loc["SEM"].isna().all()
    ablation = pd.DataFrame({"seed": [0, 0, 1, 1], "dataset": ["x"] * 4, "variant": ["DDC", "all"] * 2,
                             "acc": [0.123, 0.5, 0.25, 0.75]})
    per_seed = ddmc.ablation_per_seed(ablation)
    assert list(per_seed.index) == [0, 1] and per_seed.loc[0, ("x", "DDC")] == 12.3
    assert per_seed.loc[1, ("x", "all")] == 75.0


def test_paper_ablation_table_is_the_ledger_in_percent():
    table = ddmc.paper_ablation_table()
    paper = ddmc.paper_table("ablation")
    assert set(table.index) == set(paper.method) and len(table.columns) == paper[["dataset", "metric"]].drop_duplicates().shape[0]
    for r in paper.itertuples():
        assert table.loc[r.method, (r.dataset, r.metric)] == pytest.approx(round(100 * r.paper, 1))


def _sweep():
    """Two seeds of a 2 × 2 α/β grid on one data set: ACC = α-row + seed jitter."""
    rows = [{"dataset": "x", "alpha": a, "beta": b, "seed": s, "acc": (0.3 if a == 10 else 0.8) + 0.1 * s}
            for a in (0.1, 10) for b in (0.1, 1) for s in (0, 1)]
    return pd.DataFrame(rows)


def test_alpha_beta_range_and_heatmaps_show_the_seed_means():
    import matplotlib.pyplot as plt

    assert ddmc.alpha_beta_range(_sweep()).loc["x"].tolist() == [35.0, 85.0]
    fig = ddmc.alpha_beta_heatmaps(_sweep(), ["x"])
    try:
        ax = fig.axes[0]
        assert np.allclose(ax.images[0].get_array(), [[85.0, 85.0], [35.0, 35.0]])  # rows α = 0.1, 10
        texts = [t.get_text() for t in ax.texts]
        assert texts.count("85\n±7") == 2 and texts.count("35\n±7") == 2  # ± the std over the two seeds
        assert "2 seeds" in ax.get_title() and [t.get_text() for t in ax.get_yticklabels()] == ["0.1", "10"]
        assert ax.get_xlabel().startswith("β") and ax.get_ylabel().startswith("α")
    finally:
        plt.close(fig)


def _bar_heights(ax) -> dict[str, list[float]]:
    from matplotlib.container import BarContainer

    return {c.get_label(): [p.get_height() for p in c.patches] for c in ax.containers if isinstance(c, BarContainer)}


def test_ablation_and_strategy_bars_draw_the_planted_means():
    import matplotlib.pyplot as plt

    fig = ddmc.ablation_bars(_variant_summary(), ["x", "y"])
    try:
        acc, nmi = fig.axes[:2]
        heights = _bar_heights(acc)
        assert list(heights) == list(ddmc.VARIANTS)
        assert heights["all"] == pytest.approx([80.0, 60.0]) and heights["DDC"][0] == pytest.approx(40.0)
        assert np.isnan(heights["DDC"][1])  # not run on y: no bar
        assert _bar_heights(nmi)["all"] == pytest.approx([40.0, 30.0])
        assert [t.get_text() for t in acc.get_xticklabels()] == ["x", "y"]
        assert [t.get_text() for t in fig.legends[0].get_texts()] == list(ddmc.VARIANTS)
    finally:
        plt.close(fig)
    ef = _variant_summary().replace({"variant": {"DDC": "fusion", "all": "enhancement"}}).rename(
        columns={"variant": "strategy"})
    fig = ddmc.strategy_bars(ef, ["x", "y"])
    try:
        heights = _bar_heights(fig.axes[0])
        assert heights["enhancement"] == pytest.approx([80.0, 60.0]) and heights["fusion"][0] == pytest.approx(40.0)
    finally:
        plt.close(fig)


def test_convergence_and_tsne_figures_draw_each_curve_set():
    import matplotlib.pyplot as plt
    from types import SimpleNamespace

    history = [{"epoch": e, **{t: float(i + e) for i, t in enumerate(ddmc.CURVE_TERMS)}, "acc": 0.1 * e,
                "nmi": 0.05 * e} for e in range(1, 4)]
    rng = np.random.default_rng(0)
    snapshots = {e: rng.normal(size=(24, 3)) + 5 * np.repeat([[0, 0, 0], [1, 1, 1]], 12, axis=0) for e in (0, 2)}
    curves = {name: SimpleNamespace(history_=history, snapshots_=snapshots) for name in ("a", "b")}
    fig = ddmc.convergence_figure(curves)
    try:
        assert len(fig.axes) == 4
        terms = fig.axes[0]
        assert [line.get_label() for line in terms.lines] == list(ddmc.CURVE_TERMS)
        assert list(terms.lines[1].get_ydata()) == [2.0, 3.0, 4.0]  # kl_dominant, the second term
        assert np.allclose(fig.axes[1].lines[0].get_ydata(), [10.0, 20.0, 30.0])  # ACC in percent
        assert fig.axes[2].get_title() == "b: loss terms per epoch"
    finally:
        plt.close(fig)
    labels = {name: np.repeat([0, 1], 12) for name in curves}
    fig = ddmc.tsne_epochs(curves, labels, (0, 2), seed=0, max_points=None)
    try:
        axes = np.array(fig.axes[:4]).reshape(2, 2)
        assert [[ax.get_title() for ax in row] for row in axes] == [["a, epoch 0", "a, epoch 2"],
                                                                    ["b, epoch 0", "b, epoch 2"]]
        # one class-colour legend per row, on its last map (issue 25)
        assert [[ax.get_legend() is not None for ax in row] for row in axes] == [[False, True], [False, True]]
        assert axes[0, 1].get_legend().get_title().get_text() == "class"
    finally:
        plt.close(fig)


def test_dominant_view_figure_joins_views_by_silhouette():
    import matplotlib.pyplot as plt

    views = pd.DataFrame({"dataset": ["x"] * 3 + ["y"] * 2, "silhouette": [0.5, 0.1, 0.3, 0.2, 0.4],
                          "ddmc_acc": [0.9, 0.2, 0.6, 0.7, 0.3]})
    fig = ddmc.dominant_view_figure(views)
    try:
        x, y = fig.axes[0].lines
        assert x.get_label() == "x" and list(x.get_xdata()) == [0.1, 0.3, 0.5]  # never by view index
        assert np.allclose(x.get_ydata(), [20.0, 60.0, 90.0]) and np.allclose(y.get_ydata(), [70.0, 30.0])
    finally:
        plt.close(fig)
