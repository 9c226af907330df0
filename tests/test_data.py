"""Dataset registry and loaders on the real shared files."""

import hashlib
import shutil

import numpy as np
import pytest

from mmc_lib import data
from mmc_lib.data import REGISTRY

EXPECTED = {  # name: (n_samples, dims, n_clusters) from shared/data/MANIFEST.md
    "mnist-usps": (5000, [784, 784], 10),
    "synthetic3d": (600, [3, 3, 3], 3),
    "prokaryotic": (551, [393, 3, 438], 4),
    "wikipedia": (2866, [128, 10], 10),
    "wikipedia-test": (693, [128, 10], 10),
    "cub": (600, [1024, 300], 10),
    "mnist": (10000, [784], 10),
    "digits": (1797, [64], 10),
}


def test_canonical_names_registered():
    generalisation = {"3sources", "bbcsport", "bdgp", "100leaves", "ngs", "webkb"}  # tests/test_data_generalisation.py
    assert set(REGISTRY) == set(EXPECTED) | {"caltech-3v", "caltech-4v", "esp-game", "flickr", "iapr", "nus-wide-10k",
                                             "wikipedia-dm2c", "mnist-train", "fashion-mnist", "fashion-mnist-train"} \
        | generalisation
    for name, entry in REGISTRY.items():
        assert name == name.lower() and entry.name == name
        assert len(entry.view_names) == len(entry.modalities)
        assert set(entry.modalities) <= {"image", "text", "other"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_real_dataset(name, shared_data_dir):
    ds = data.load(name, data_dir=shared_data_dir)
    n, dims, k = EXPECTED[name]
    assert (ds.n_samples, ds.dims, ds.n_clusters) == (n, dims, k)
    assert ds.labels.min() == 0 and ds.labels.max() == k - 1 and ds.labels.dtype == np.int64
    for view in ds.views:
        assert view.dtype == np.float32 and view.min() >= 0.0 and view.max() <= 1.0  # min-max scaled
    assert REGISTRY[name].n_samples == n


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match=r"unknown dataset 'mnist_usps'; known: \[.*'mnist-usps'"):
        data.load("mnist_usps")


def test_missing_file_names_file_dir_and_source(tmp_path):
    with pytest.raises(data.DataMissingError) as err:
        data.load("caltech-3v", data_dir=tmp_path)
    message = str(err.value)
    assert "multiview/Caltech-5V.mat" in message and str(tmp_path) in message and "liangsishan" in message
    assert message.endswith("Or run: make data NAME=caltech-5v")
    assert not data.available("caltech-3v", data_dir=tmp_path)


def test_checksum_mismatch_is_reported(tmp_path, shared_data_dir):
    target = tmp_path / "multiview" / "synthetic3d.mat"
    target.parent.mkdir(parents=True)
    shutil.copy(shared_data_dir / "multiview" / "synthetic3d.mat", target)
    data.load("synthetic3d", data_dir=tmp_path)  # the intact copy loads
    with open(target, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(data.ChecksumError, match="does not match"):
        data.load("synthetic3d", data_dir=tmp_path)


def test_registry_checksums_match_the_manifest(shared_data_dir):
    manifest = (shared_data_dir / "MANIFEST.md").read_text()
    for entry in REGISTRY.values():
        for f in entry.files:
            if f.sha256:
                assert f.sha256 in manifest or entry.name.startswith("caltech"), f.path


def test_data_dir_comes_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MMC_DATA_DIR", str(tmp_path))
    assert data.resolve_data_dir() == tmp_path.resolve()
    assert data.resolve_data_dir("/elsewhere") == data.resolve_data_dir("/elsewhere").resolve()


def test_minmax_scaling_handles_constant_features():
    scaled = data.minmax_scale(np.array([[1.0, 5.0], [3.0, 5.0], [2.0, 5.0]]))
    np.testing.assert_allclose(scaled, [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]])


def test_subsample_is_stratified_and_seeded(shared_data_dir):
    ds = data.load("cub", data_dir=shared_data_dir)
    small = data.subsample(ds, 200, seed=0)
    assert small.n_samples == 200 and np.bincount(small.labels).tolist() == [20] * 10
    again = data.subsample(ds, 200, seed=0)
    np.testing.assert_array_equal(small.views[0], again.views[0])
    assert data.subsample(ds, None) is ds


def test_mixed_modal_keeps_exactly_one_modality_per_sample(shared_data_dir):
    ds = data.load("wikipedia-test", data_dir=shared_data_dir)
    mm = data.mixed_modal(ds, seed=3, fraction_a=0.3)
    assert mm.n_a + mm.n_b == ds.n_samples and mm.n_a == round(0.3 * ds.n_samples)
    assert set(mm.index_a).isdisjoint(mm.index_b)
    np.testing.assert_array_equal(mm.x_a, ds.views[0][mm.index_a])
    np.testing.assert_array_equal(mm.labels, np.r_[ds.labels[mm.index_a], ds.labels[mm.index_b]])
    assert data.mixed_modal(ds, seed=3, fraction_a=0.3).index_a.tolist() == mm.index_a.tolist()
    assert data.mixed_modal(ds, seed=4, fraction_a=0.3).index_a.tolist() != mm.index_a.tolist()
    with pytest.raises(ValueError, match="fraction_a"):
        data.mixed_modal(ds, seed=0, fraction_a=1.0)
    with pytest.raises(ValueError, match="out of range"):
        data.mixed_modal(ds, seed=0, views=(0, 5))


def test_wikipedia_test_rows_are_inside_wikipedia(shared_data_dir):
    full = data.load("wikipedia", data_dir=shared_data_dir, scale=False)
    test = data.load("wikipedia-test", data_dir=shared_data_dir, scale=False)
    rows = {hashlib.sha1(r.tobytes()).hexdigest() for r in np.c_[full.views[0], full.views[1]]}
    assert all(hashlib.sha1(r.tobytes()).hexdigest() in rows for r in np.c_[test.views[0], test.views[1]])


def test_load_with_max_samples_is_a_cached_stratified_subset(shared_data_dir):
    full = data.load("synthetic3d", data_dir=shared_data_dir)
    part = data.load("synthetic3d", data_dir=shared_data_dir, max_samples=90)
    assert part.n_samples == 90 and np.bincount(part.labels).tolist() == [30, 30, 30]  # 3 balanced classes
    assert data.load("synthetic3d", data_dir=shared_data_dir, max_samples=90) is part  # cached, not re-read
    assert part.n_clusters == full.n_clusters


def test_one_wikipedia_split(shared_data_dir):
    if not data.available("wikipedia-test", data_dir=shared_data_dir):
        pytest.skip("Wikipedia files absent")
    train, test = data.wikipedia_split(shared_data_dir)
    raw_train, raw_test = data.wikipedia_split(shared_data_dir, scale=False)
    assert (train.n_samples, test.n_samples) == (2173, 693) == (raw_train.n_samples, raw_test.n_samples)
    np.testing.assert_array_equal(test.labels, data.load("wikipedia-test", data_dir=shared_data_dir).labels)
    assert float(np.concatenate([train.views[0], test.views[0]]).max()) == 1.0  # scaled with the full set's ranges
    assert not np.allclose(raw_test.views[0], test.views[0])  # raw features, not rescaled
