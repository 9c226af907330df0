"""run_grid caches each finished run and resumes; summaries are correct; results carry provenance."""

import json

import numpy as np
import pandas as pd
import pytest

from mmc_lib import results
from mmc_lib.studies import grid as experiments

CALLS = []


def _work(x, seed):
    CALLS.append((x, seed))
    if x == "boom":
        raise RuntimeError("interrupted")
    return {"value": x * 10 + seed}


def test_grid_is_the_cartesian_product():
    assert experiments.grid(a=[1, 2], b=["x"]) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]


def test_run_grid_resumes_without_recomputing(tmp_path):
    CALLS.clear()
    runs = experiments.grid(x=[1, 2], seed=[0, 1])
    with pytest.raises(RuntimeError):  # a crash after two finished runs ...
        experiments.run_grid(_work, runs[:2] + [{"x": "boom", "seed": 0}], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2  # ... keeps them on disk
    CALLS.clear()
    df = experiments.run_grid(_work, runs, cache_dir=tmp_path)
    assert CALLS == [(2, 0), (2, 1)]  # only the unfinished runs are computed
    assert df["value"].tolist() == [10, 11, 20, 21]
    CALLS.clear()
    experiments.run_grid(_work, runs, cache_dir=tmp_path)
    assert CALLS == []


def test_run_key_depends_on_every_parameter():
    assert experiments.run_key({"a": 1, "seed": 0}) != experiments.run_key({"a": 1, "seed": 1})
    assert experiments.run_key({"a": 1, "b": 2}) == experiments.run_key({"b": 2, "a": 1})


def test_summarize_mean_std_count():
    df = pd.DataFrame({"method": ["m"] * 3, "dataset": ["d"] * 3, "acc": [0.1, 0.2, 0.3]})
    s = experiments.summarize(df, ["method", "dataset"], ["acc"])
    assert s.loc[0, "acc_mean"] == pytest.approx(0.2)
    assert s.loc[0, "acc_std"] == pytest.approx(np.std([0.1, 0.2, 0.3]))
    assert s.loc[0, "acc_count"] == 3
    rows = experiments.to_result_rows(s, metrics=["acc"], setting="main")
    assert rows == [{"method": "m", "dataset": "d", "metric": "acc", "mean": pytest.approx(0.2),
                     "std": pytest.approx(np.std([0.1, 0.2, 0.3])), "n_seeds": 3, "setting": "main"}]
    assert experiments.mean_std_table(s, index="dataset", columns="method", metric="acc").loc["d", "m"] == "20.0 ± 8.2"


def test_results_store_round_trip_with_provenance(tmp_path):
    rows = [{"method": "KM", "dataset": "cub", "metric": "acc", "mean": np.float32(0.5), "std": 0.01, "n_seeds": 2}]
    path = results.save_results("00_test", rows, profile="smoke", device="cpu", out_dir=tmp_path)
    assert path == tmp_path / "results" / "smoke" / "00_test.json"
    payload = json.loads(path.read_text())
    prov = payload["provenance"]
    assert {"git_commit", "device", "date", "packages", "profile", "python"} <= set(prov)
    assert prov["packages"]["torch"].startswith("2.13.0")
    assert payload["rows"][0]["setting"] == "main" and payload["rows"][0]["mean"] == pytest.approx(0.5)
    assert results.results_frame("smoke", out_dir=tmp_path).loc[0, "notebook"] == "00_test"
    with pytest.raises(ValueError, match="lacks"):
        results.save_results("00_test", [{"method": "KM"}], profile="smoke", device="cpu", out_dir=tmp_path)
