"""The first user with the papers' own files gets numbers, not a crash: a tiny generated file shaped like each paper
data set's real file (:mod:`paper_files`) goes through the registry, the loader and notebook 01's or 02's study code
to a result row."""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import paper_files
from mmc_lib import data
from mmc_lib.studies import budgets
from mmc_lib.studies import dm2c as S2
from mmc_lib.studies.data_and_baselines import classical_run
from mmc_lib.studies.ddmc import METRICS, DDMCStudy, run_deep, summarize_by
from mmc_lib.studies.grid import to_result_rows

DDMC_FILES = {"caltech-3v": paper_files.caltech, "caltech-4v": paper_files.caltech, "esp-game": paper_files.esp,
              "flickr": paper_files.flickr, "iapr": paper_files.iapr}
CAP = 140  # rows per run: the budget's stratified cap, as the smoke profile caps every data set


@pytest.fixture(autouse=True)
def _quiet_unverified():
    with warnings.catch_warnings():  # fixture files have no registered checksum; the loader says so once per file
        warnings.filterwarnings("ignore", message=".*no sha256 is registered.*")
        yield


def _unpinned(monkeypatch, name: str):
    """The registry entry without its published checksums (a generated file cannot match them)."""
    entry = data.REGISTRY[name]
    monkeypatch.setitem(data.REGISTRY, name, replace(entry, files=tuple(replace(f, sha256=None, md5=None)
                                                                        for f in entry.files)))
    return entry


@pytest.mark.parametrize("name", list(DDMC_FILES))
def test_ddmc_paper_data_set_runs_to_a_result_row(name, tmp_path, monkeypatch):
    DDMC_FILES[name](tmp_path)
    entry = _unpinned(monkeypatch, name)
    ds = data.load(name, data_dir=tmp_path)
    assert (ds.n_samples, len(ds.views), ds.n_clusters) == (entry.n_samples, len(entry.view_names), entry.n_clusters)

    b = replace(budgets.budget("01_ddmc", "smoke"), n_seeds=1, epochs=2, max_samples={name: CAP})
    study = DDMCStudy(b, data_dir=str(tmp_path), cache=tmp_path / "cache")
    assert name in study.paper_present and name in study.datasets  # the notebook's grids now include it
    deep, classical = study.main_runs()
    deep, classical = ([r for r in runs if r["dataset"] == name] for runs in (deep, classical))
    runs = [dict(r, **run_deep(**{k: v for k, v in r.items()})) for r in deep if r["method"] == "DDMC"]
    runs += [dict(r, **classical_run(**r)) for r in classical if r["method"] == "KM"]
    rows = to_result_rows(summarize_by(pd.DataFrame(runs), "method"), metrics=list(METRICS), setting="main")
    got = {(r["method"], r["metric"]): r for r in rows}
    assert set(got) == {(m, k) for m in ("DDMC", "KM") for k in METRICS}
    assert all(r["dataset"] == name and r["n_seeds"] == 1 and 0.0 <= r["mean"] <= 1.0 for r in rows)
    assert all(r["n_samples"] == CAP for r in runs)
    assert got[("KM", "acc")]["mean"] > 2.0 / entry.n_clusters  # the fixture's classes are there to be found


@pytest.mark.parametrize("name", S2.PAPER_DATA)
def test_dm2c_paper_data_set_runs_to_a_result_row(name, tmp_path):
    paper_files.dm2c(tmp_path, name, n_train=200, n_test=80)
    assert S2.present_datasets(str(tmp_path)) == [name]
    with pytest.warns(UserWarning, match="the files hold 280 samples"):
        train, test = data.dm2c_split(name, tmp_path)
    dim = data.REGISTRY[name].options["dim"]
    assert train.x_a.shape[1] == train.x_b.shape[1] == dim and train.n_a + train.n_b == 200
    assert test.n_a + test.n_b == 80 and train.n_clusters == 10
    assert 0.0 <= min(train.x_a.min(), test.x_b.min()) and max(train.x_a.max(), test.x_b.max()) <= 1.0

    out = S2.dm2c_run(name, 0, profile="smoke", data_dir=str(tmp_path), baselines=["k-means"])
    assert out["n_a"] + out["n_b"] == 200 and not out["diverged"], out["error"]
    main = pd.DataFrame([{"dataset": name, "seed": 0, "fraction_a": 0.5, "variant": "full", **out}])
    rows = S2.main_rows(main)
    methods = {r["method"] for r in rows}
    assert {"DM2C", "k-means"} <= methods
    assert all(r["dataset"] == name and r["note"].startswith("the paper's data") for r in rows)
    assert all(0.0 <= r["mean"] <= 1.0 for r in rows)
    assert "DM2C" in S2.paper_vs_ours(rows, name, substituted=False).to_html()
    table = S2.paper_comparison(rows, name)  # the notebook's paper-vs-ours table: the paper's numbers for this set
    assert table.query("method == 'DM2C' and metric == 'acc'")["paper"].item() == S2.paper_values(name, "acc")["DM2C"]


def test_dm2c_files_are_not_paired_data(tmp_path):
    paper_files.dm2c(tmp_path, "nus-wide-10k", n_train=40, n_test=20)
    with pytest.raises(ValueError, match=r"mixed-modal .* use mmc_lib.data.dm2c_split\('nus-wide-10k'\)"):
        data.load("nus-wide-10k", data_dir=tmp_path)
    b = budgets.budget("02_dm2c", "smoke")
    with pytest.raises(ValueError, match="fix every sample's modality"):
        S2.mixed_splits("nus-wide-10k", seed=0, fraction_a=0.2, budget=b, data_dir=str(tmp_path))
    with pytest.raises(data.DataMissingError, match="make data NAME=wikipedia-dm2c"):
        data.dm2c_split("wikipedia-dm2c", tmp_path)


def test_cap_keeps_a_stratified_subset_of_both_modalities(tmp_path):
    paper_files.dm2c(tmp_path, "nus-wide-10k", n_train=300, n_test=20)
    with pytest.warns(UserWarning):
        train, _ = data.dm2c_split("nus-wide-10k", tmp_path)
    capped = S2.cap_mixed(train, 100)
    assert capped.n_a + capped.n_b == 100 and capped.n_a > 30 and capped.n_b > 30
    assert np.bincount(capped.labels, minlength=10).min() == 10  # 300 balanced rows → 10 per class
    assert set(capped.index_a) <= set(train.index_a) and set(capped.index_b) <= set(train.index_b)
    assert np.array_equal(capped.x_a, train.x_a[np.searchsorted(train.index_a, capped.index_a)])


def test_recorded_sha256_pins_a_fetched_file(tmp_path, monkeypatch):
    """A file fetched without a published checksum is pinned by the sha256 ``make data`` recorded."""
    import json

    from mmc_lib.data.fetch import digests

    _unpinned(monkeypatch, "esp-game")
    paths = paper_files.esp(tmp_path)
    record = {"files": {f"multimodal/esp-game/{p.name}": {"sha256": digests(p)["sha256"]} for p in paths}}
    (tmp_path / "fetched.json").write_text(json.dumps(record))
    assert data.load("esp-game", data_dir=tmp_path).n_samples == 11032
    img = tmp_path / "multimodal/esp-game/img_2.mat"
    img.write_bytes(img.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(data.ChecksumError, match="recorded in .*fetched.json"):
        data.load("esp-game", data_dir=tmp_path)


def test_audit_grades_the_paper_copy_as_the_papers_data(tmp_path):
    """DM2C's Wikipedia claims: rows on ``wikipedia-dm2c`` (the paper's files) are graded as the paper's data, rows
    on the 128-d stand-in stay a generalisation, and the paper's copy wins when both ran."""
    import json

    from mmc_lib.audit import load_profile_results
    from mmc_lib.audit.grade import audit_claims
    from mmc_lib.audit.ledger import load_ledgers

    def graded(datasets):
        folder = tmp_path / "results" / "full"
        folder.mkdir(parents=True, exist_ok=True)
        rows = [{"method": "DM2C", "dataset": d, "metric": "acc", "mean": 0.272, "std": 0.01, "n_seeds": 5,
                 "setting": "main", "scale": "fraction", "note": S2.NOTES[d]} for d in datasets]
        (folder / "02_dm2c.json").write_text(json.dumps({"notebook": "02_dm2c", "profile": "full",
                                                         "provenance": {}, "rows": rows}))
        table = audit_claims(load_ledgers(), load_profile_results("full", out_dir=tmp_path)[0], profile="full",
                             data_dir=tmp_path)
        return table.set_index("id").loc["dm2c.wikipedia.dm2c.acc"]

    paper = graded(["wikipedia-dm2c"])
    stand_in = graded(["wikipedia"])
    both = graded(["wikipedia", "wikipedia-dm2c"])
    assert paper.ours_dataset == both.ours_dataset == "wikipedia-dm2c" and stand_in.ours_dataset == "wikipedia"
    assert (paper.kind, both.kind, stand_in.kind) == ("replication", "replication", "generalisation")
    assert paper.verdict == both.verdict == "reproduced" and stand_in.verdict == "carries over"
    assert "128-d" not in paper.protocol and "128-d" in stand_in.protocol


def test_notebook_00_leaves_fetched_image_sets_and_mixed_modal_files_out(tmp_path):
    """After `make data`, notebook 00 still clusters only the paired sets: not DM2C's mixed-modal files (no pairs)
    and not the 60,000-image MNIST / Fashion-MNIST sets (beyond its spectral baselines)."""
    from mmc_lib.studies.data_and_baselines import present_datasets

    names = ("mnist-train", "fashion-mnist", "fashion-mnist-train", "nus-wide-10k", "iapr")
    for name in names:
        for f in data.REGISTRY[name].files:
            (tmp_path / f.path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / f.path).write_bytes(b"")
    assert all(data.available(n, data_dir=tmp_path) for n in names)
    assert present_datasets(str(tmp_path)) == ["digits", "iapr"]  # digits ships with scikit-learn
