"""Notebook 05's faithfulness section: the authors' TreeVAE code (lauramanduchi/treevae) beside ours.

The authors' code runs outside the project; ``results/external/treevae_authors_code.json`` holds what it measured.
These tests check the loader, the side-by-side table and the verdict on made-up documents, and that the committed
file matches the budget it claims and the committed full-profile results it quotes as ours.
"""

import json

import numpy as np
import pytest

from mmc_lib.runtime import project_root
from mmc_lib.studies import treediffusion as S
from mmc_lib.studies.budgets import budget

METRICS = ("acc", "nmi", "ari", "leaf_purity", "dendrogram_purity")


def _entry(seed: int, value: float) -> dict:
    return {"seed": seed, **{k: value for m in METRICS for k in (m, f"test_{m}")}}


def _doc(theirs, ours) -> dict:
    return {"source": "x", "per_seed": [_entry(s, v) for s, v in enumerate(theirs)],
            "ours": {"per_seed": [_entry(s, v) for s, v in enumerate(ours)]}}


def test_loader_reads_the_file_and_says_none_when_absent(tmp_path):
    assert S.authors_code(tmp_path / "missing.json") is None
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_doc([0.5], [0.4])))
    assert S.authors_code(path)["per_seed"][0]["acc"] == 0.5


def test_table_puts_both_implementations_side_by_side_per_seed():
    table = S.faithfulness_table(_doc([0.70, 0.60, 0.50], [0.40, 0.45]))
    assert list(table.index) == [0, 1, 2, "mean ± std"]
    assert list(table.columns) == ["authors' code, train", "ours, train", "authors' code, test", "ours, test"]
    assert table.loc[0, "authors' code, train"] == "70.0 / 70.0 / 70.0 / 70.0"
    assert table.loc[1, "ours, test"] == "45.0 / 45.0 / 45.0 / 45.0"
    assert table.loc[2, "ours, train"] == "—"  # ours has no seed 2 here
    assert table.loc["mean ± std", "ours, train"].startswith("42.5 ± 2.5")
    assert S.faithfulness_table(None).empty


@pytest.mark.parametrize("theirs, ours, start", [
    ([0.80, 0.82, 0.81], [0.50, 0.52, 0.51], "the authors' code beats ours"),
    ([0.50, 0.52, 0.51], [0.80, 0.82, 0.81], "ours beats the authors' code"),
    ([0.50, 0.70, 0.60], [0.55, 0.65, 0.58], "no significant difference"),
    ([0.80, 0.82], [0.50, 0.52], "undecided (too few seeds)"),
])
def test_verdict_uses_the_audit_welch_rule(theirs, ours, start):
    verdict = S.faithfulness_verdict(_doc(theirs, ours))
    assert verdict.startswith(start), verdict
    assert "Welch" in verdict


def test_verdict_without_a_file_or_a_finished_seed_says_not_run():
    assert S.faithfulness_verdict(None).startswith("not run")
    assert S.faithfulness_verdict(_doc([], [0.5, 0.5, 0.5])).startswith("not run: no finished seed of the authors'")
    table = S.faithfulness_table(_doc([], [0.5, 0.4, 0.6]))
    assert (table["authors' code, train"] == "—").all() and table.loc[2, "ours, train"].startswith("60.0")


@pytest.fixture(scope="module")
def committed():
    doc = S.authors_code()
    if doc is None:
        pytest.skip(f"{S.AUTHORS_CODE} not committed")
    return doc


def test_committed_file_is_complete_and_at_the_full_profile_budget(committed):
    b = budget(S.NOTEBOOK, "full")
    got = committed["budget"]
    assert (got["root_epochs"], got["subtree_epochs"], got["intermediate_epochs"], got["final_epochs"]) == \
        (b.tree.epochs, b.tree.split_epochs, b.tree.finetune_epochs, b.tree.final_epochs)
    assert (got["max_depth"], got["n_clusters"]) == (b.max_depth, b.n_clusters)
    assert committed["patches"] and committed["differences"]
    assert len({e["seed"] for e in committed["ours"]["per_seed"]}) == len(committed["ours"]["per_seed"]) >= 3
    # every seed the authors' code was started on is either finished (per_seed) or listed as unfinished
    finished, unfinished = [e["seed"] for e in committed["per_seed"]], [e["seed"] for e in committed["unfinished"]]
    assert (finished or unfinished) and not set(finished) & set(unfinished) and len(set(finished)) == len(finished)
    for who in (committed["per_seed"], committed["ours"]["per_seed"]):
        for e in who:
            for m in METRICS:
                assert 0.0 <= e[m] <= 1.0 and 0.0 <= e[f"test_{m}"] <= 1.0
    for e in committed["per_seed"]:  # every leaf path starts at the root and the leaves are those scored
        assert {p[0] for p in e["leaf_paths"]} == {0} and len(e["leaf_paths"]) == e["n_leaves"]
        assert sum(e["leaf_sizes"]) == 8000 and sum(e["test_leaf_sizes"]) == 2000
        assert max(len(p) - 1 for p in e["leaf_paths"]) <= b.max_depth
    # the authors' metric functions and ours agree on the same predictions
    if committed["per_seed"]:
        assert committed["metric_check"]["max_abs_difference"] < 1e-9


def test_our_seeds_in_the_file_are_the_committed_full_run(committed):
    results = project_root() / "results" / "full" / f"{S.NOTEBOOK}.json"
    if not results.is_file():
        pytest.skip("no committed full-profile results")
    rows = {r["metric"]: r for r in json.loads(results.read_text())["rows"] if r["method"] == "TreeVAE"}
    ours = {e["seed"]: e for e in committed["ours"]["per_seed"]}
    n = rows["acc"]["n_seeds"]
    if not set(range(n)) <= set(ours):
        pytest.skip("the committed full run used seeds the file does not hold")
    for m in METRICS:
        values = np.array([ours[s][m] for s in range(n)])
        assert values.mean() == pytest.approx(rows[m]["mean"], abs=1e-9), m
        assert values.std() == pytest.approx(rows[m]["std"], abs=1e-9), m
