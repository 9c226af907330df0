"""DDMC against k-means on all views, per data set, from notebook 06's committed results (issue 24, item 4)."""

import pytest

from mmc_lib.studies import generalisation as gen


def _rows(table: dict, std: float = 0.01) -> list[dict]:
    return [{"method": m, "dataset": d, "metric": "acc", "mean": v, "std": std, "n_seeds": 3, "setting": "main"}
            for d, methods in table.items() for m, v in methods.items()]


def test_planted_findings_follow_the_seed_spread_rule():
    rows = _rows({"webkb": {"DDMC": .58, "AmKM": .90, "KM": .85}, "bdgp": {"DDMC": .49, "AmKM": .44},
                  "cub": {"DDMC": .805, "AmKM": .80}, "ngs": {"DDMC": .3}})  # ngs: no baseline row → left out
    rows.append({"method": "DDMC", "dataset": "webkb", "metric": "nmi", "mean": .99, "std": 0, "n_seeds": 3})
    table = gen.deep_vs_kmeans(rows).set_index("dataset")
    assert list(table.index) == ["bdgp", "webkb", "cub"]  # the suite's order, then the stand-ins
    assert table.loc["webkb", "finding"] == "below" and table.loc["webkb", "diff"] == pytest.approx(-.32)
    assert table.loc["bdgp", "finding"] == "above" and table.loc["cub", "finding"] == "within the seed spread"
    assert table.loc["webkb", "KM_mean"] == .85 and table.loc["webkb", "suite"] == "new"
    assert table.loc["cub", "suite"] == "stand-in"


def test_the_committed_table_is_read_from_the_committed_rows():
    try:
        rows = gen.committed_rows()
    except FileNotFoundError:
        pytest.skip("no committed notebook-06 results")
    table = gen.deep_vs_kmeans()
    acc = {(r["dataset"], r["method"]): r for r in rows if r["metric"] == "acc" and r.get("setting", "main") == "main"}
    assert len(table) == len({d for d, m in acc if m == "DDMC" and (d, "AmKM") in acc}) > 0
    for _, row in table.iterrows():
        ddmc, amkm = acc[(row.dataset, "DDMC")], acc[(row.dataset, "AmKM")]
        assert row.DDMC_mean == ddmc["mean"] and row.AmKM_mean == amkm["mean"]
        assert row["diff"] == pytest.approx(ddmc["mean"] - amkm["mean"])
        spread = max(ddmc["std"], amkm["std"])
        expected = "below" if row["diff"] < -spread else "above" if row["diff"] > spread else "within the seed spread"
        assert row.finding == expected


def test_other_methods_and_baselines_can_be_compared():
    rows = _rows({"3sources": {"CoMVC": .25, "KM": .35, "AmKM": .45}})
    table = gen.deep_vs_kmeans(rows, method="CoMVC", baseline="KM", others=("AmKM",))
    assert table.loc[0, "finding"] == "below" and table.loc[0, "AmKM_mean"] == .45
