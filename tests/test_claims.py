"""The ledger holds every number of the seeds, and a malformed entry is rejected by name."""

from __future__ import annotations

import shutil
from collections import Counter

import pytest
import yaml

from mmc_lib.audit.ledger import claims_dir, load_ledger, load_ledgers


@pytest.fixture(scope="module")
def ledgers():
    return load_ledgers()


def _count(ledger, *, kind="value", source_has=""):
    return sum(c.kind == kind and source_has in c.source for c in ledger.claims)


SEED_PAPERS = ["D-MVAE", "DDMC", "DM2C", "Multimodal clusters", "TreeDiffusion"]  # the five documents


def _yardsticks(ledgers) -> set[str]:
    """Ledgers of published numbers outside the five documents (references.yaml, each competitor's own paper):
    their ``seed`` says "none (...)"."""
    return {name for name, lg in ledgers.items() if str(lg.seed).startswith("none")}


def test_one_ledger_per_seed(ledgers):
    yardsticks = _yardsticks(ledgers)
    assert "Rasiwasia et al. 2010" in yardsticks
    assert sorted(set(ledgers) - yardsticks) == SEED_PAPERS
    seeds = sorted(p.name for p in (claims_dir().parent.parent / "shared" / "seeds").glob("*.txt"))
    if seeds:  # the seeds live beside the checkout on the project's machines
        assert sorted(lg.seed for name, lg in ledgers.items() if name not in yardsticks) == seeds


def test_unverified_transcriptions_are_marked(ledgers):
    refs = ledgers["Rasiwasia et al. 2010"]
    assert [c.value for c in refs.claims] == [0.249, 0.196] and all(c.unverified for c in refs.claims)
    assert not any(c.unverified for name, lg in ledgers.items() if name not in _yardsticks(ledgers) for c in lg.claims)


def test_ddmc_tables_complete(ledgers):
    ddmc = ledgers["DDMC"]
    main = [c for c in ddmc.claims if c.kind == "value" and "Clustering results" in c.source]
    assert len(main) == 19 * 5 * 2  # 19 methods x 5 datasets x ACC/NMI
    assert Counter(c.method for c in main) == Counter({m: 10 for m in {c.method for c in main}})
    assert len({c.method for c in main}) == 19
    assert _count(ddmc, kind="derived", source_has="Ours vs BestCompared") == 10
    assert _count(ddmc, source_has="Ablation") == 4 * 5 * 2
    assert _count(ddmc, kind="derived", source_has="integration") == 1  # ESP-Game ACC +~11
    assert _count(ddmc, kind="dataset") == 5 * 3  # samples, clusters, dims per dataset
    assert {c.dataset for c in main} == set(ddmc.datasets)


def test_ddmc_spot_values(ledgers):
    by_id = {c.id: c for c in ledgers["DDMC"].claims}
    assert by_id["ddmc.main.caltech-4v.ddmc.acc"].value == 90.3
    assert by_id["ddmc.main.esp-game.swmc.nmi"].value == 44.2
    assert by_id["ddmc.ablation.iapr.l-ddc.nmi"].value == 18.0
    assert by_id["ddmc.main.caltech-3v.km.acc"].fraction == pytest.approx(0.463)
    assert by_id["ddmc.fusion.esp-game.enhancement-minus-fusion.acc"].value == 11.0


def test_dm2c_tables_complete(ledgers):
    dm2c = ledgers["DM2C"]
    for ds in ("Wikipedia", "NUS-WIDE-10K"):
        cells = [c for c in dm2c.claims if c.kind == "value" and c.dataset == ds]
        assert len(cells) == 6 * 5
        assert {c.metric for c in cells} == {"acc", "ari", "nmi", "f_score", "purity"}
        assert all(c.scale == "fraction" for c in cells)
    by_id = {c.id: c for c in dm2c.claims}
    assert by_id["dm2c.nus-wide-10k.imsat.f_score"].value == 0.4822
    assert _count(dm2c, kind="dataset") == 6
    assert dm2c.datasets["Wikipedia"].substitute and "128-d" in dm2c.datasets["Wikipedia"].stand_in


def test_d_mvae_and_treediffusion_numbers(ledgers):
    dmvae = {(c.dataset, c.method, c.metric): c.value for c in ledgers["D-MVAE"].claims if c.kind == "value"
             and not c.restates}
    assert dmvae[("CelebA-HQ", "D-MVAE", "f1")] == 0.91 and dmvae[("CUB-200-2011", "M-VAE", "f1")] == 0.65
    assert dmvae[("unspecified", "M-VAE", "fid")] == 25.74 and dmvae[("unspecified", "D-MVAE", "fid")] == 15.11
    assert dmvae[("unspecified", "D-MVAE", "attribute_acc")] == 0.99
    assert len(dmvae) == 6 + 2 + 2 + 1  # F1 table, FID row, similarity row, attribute accuracy
    tree = [c for c in ledgers["TreeDiffusion"].claims if c.kind == "derived"]
    assert [(c.value, c.scale) for c in tree] == [(-22.0, "percent")]
    assert ledgers["Multimodal clusters"].claims and all(
        c.kind in ("ordering", "qualitative") for c in ledgers["Multimodal clusters"].claims)


def test_every_paper_has_orderings(ledgers):
    for name, ledger in ledgers.items():
        assert name in _yardsticks(ledgers) or any(c.kind == "ordering" for c in ledger.claims), name


def test_methods_map_to_notebook_names(ledgers):
    ours = {v for v in ledgers["DDMC"].methods.values() if v}
    assert {"DDMC", "SiMVC", "CoMVC", "KM", "Ncuts", "AmKM", "AmNcuts", "CoregMVSC"} <= ours
    competitors = {"RMKMC", "SwMC", "ONMSC", "SMCMB", "EAMC", "DEMVC", "MFLVC", "SEM", "DIVIDE", "SCMVC", "SSLNMVC"}
    assert competitors <= ours  # all 19 rows of the slides' main table run in notebook 01
    assert {"DM2C", "k-means", "DKM", "DCN", "IDEC", "IMSAT"} == set(ledgers["DM2C"].methods.values())


def _broken_copy(tmp_path, mutate):
    folder = tmp_path / "claims"
    shutil.copytree(claims_dir(), folder)
    path = folder / "dm2c.yaml"
    doc = yaml.safe_load(path.read_text())
    mutate(doc["claims"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return folder, path


@pytest.mark.parametrize("mutate, message", [
    (lambda cl: cl[0].pop("metric"), "needs ['metric']"),
    (lambda cl: cl[0].update(scale="percentage"), "unknown scale 'percentage'"),
    (lambda cl: cl[0].update(value="0.2291"), "value must be a number"),
    (lambda cl: cl[0].update(value=22.91), "outside [0, 1]"),
    (lambda cl: cl[0].update(method="KMeans"), "method 'KMeans' is not in the file's methods map"),
    (lambda cl: cl[0].update(dataset="Wiki"), "dataset 'Wiki'"),
    (lambda cl: cl[0].update(colour="red"), "unknown field(s) ['colour']"),
    (lambda cl: cl[1].update(id=cl[0]["id"]), "duplicate id"),
    (lambda cl: cl[0].update(kind="guess"), "unknown kind 'guess'"),
])
def test_malformed_entry_is_named(tmp_path, mutate, message):
    folder, path = _broken_copy(tmp_path, mutate)
    with pytest.raises(ValueError) as err:
        load_ledger(path)
    assert "dm2c.yaml" in str(err.value) and "dm2c.wikipedia.k-means.acc" in str(err.value)
    assert message in str(err.value)
    with pytest.raises(ValueError, match="dm2c.yaml"):
        load_ledgers(folder)


def test_ids_unique_across_files(tmp_path):
    folder = tmp_path / "claims"
    shutil.copytree(claims_dir(), folder)
    doc = yaml.safe_load((folder / "treediffusion.yaml").read_text())
    doc["claims"][0]["id"] = "dm2c.wikipedia.dm2c.acc"
    (folder / "treediffusion.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ValueError, match="also used in dm2c.yaml"):
        load_ledgers(folder)
