"""The generalisation suite (notebook 06): six real multi-view sets in several stored layouts."""

import hashlib
import shutil
from dataclasses import replace

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

from mmc_lib import data
from mmc_lib.data import REGISTRY, loaders
from mmc_lib.studies.data_and_baselines import present_datasets

#: name: (file, n_samples, dims, n_clusters, smallest and largest class) from shared/data/MANIFEST.md
EXPECTED = {
    "3sources": ("3Sources.mat", 169, [3560, 3631, 3068], 6, 11, 56),
    "bbcsport": ("BBCSport.mat", 544, [3183, 3203], 5, 61, 193),
    "bdgp": ("BDGP.mat", 2500, [1000, 500], 5, 500, 500),
    "100leaves": ("100Leaves.mat", 1600, [64, 64, 64], 100, 16, 16),
    "ngs": ("NGs.mat", 500, [2000, 2000, 2000], 5, 100, 100),
    "webkb": ("webkb.mat", 1051, [1840, 3000], 2, 230, 821),
}
FEATURES_BY_SAMPLES = {"bbcsport", "bdgp", "ngs"}  # stored as features × samples (MANIFEST)


def test_the_six_sets_are_registered_as_the_generalisation_suite():
    suite = {n for n, e in REGISTRY.items() if e.suite == "generalisation"}
    assert suite == set(EXPECTED)
    for name in EXPECTED:
        entry = REGISTRY[name]
        assert entry.files[0].path == f"multiview/{EXPECTED[name][0]}"
        layout = entry.options["layout"]
        assert layout == ("features_x_samples" if name in FEATURES_BY_SAMPLES else "samples_x_features")


def test_notebook_00_does_not_run_the_generalisation_suite(shared_data_dir):
    assert not set(present_datasets(shared_data_dir)) & set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_loads_with_the_stored_shape_classes_and_scaling(name, shared_data_dir):
    _, n, dims, k, smallest, largest = EXPECTED[name]
    ds = data.load(name, data_dir=shared_data_dir)
    assert (ds.n_samples, ds.dims, ds.n_clusters) == (n, dims, k)
    counts = np.bincount(ds.labels)
    assert (counts.min(), counts.max()) == (smallest, largest)
    assert ds.labels.dtype == np.int64 and ds.labels.min() == 0
    assert len(ds.view_names) == len(ds.modalities) == len(dims)
    for view in ds.views:
        assert view.dtype == np.float32 and view.min() == 0.0 and view.max() == 1.0  # min-max scaled
        assert np.isfinite(view).all()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_checksum_is_the_manifests(name, shared_data_dir):
    f = REGISTRY[name].files[0]
    assert hashlib.sha256((shared_data_dir / f.path).read_bytes()).hexdigest() == f.sha256
    assert (shared_data_dir / f.path).stat().st_size == f.size


def test_features_by_samples_views_are_transposed_not_reshaped(shared_data_dir):
    """Row i of a loaded view is column i of the stored matrix (BBCSport: sparse; NGs: dense uint8)."""
    for name, key in (("bbcsport", "data"), ("ngs", "data")):
        stored = scipy.io.loadmat(shared_data_dir / REGISTRY[name].files[0].path)[key].ravel()[0]
        stored = stored.toarray() if sp.issparse(stored) else np.asarray(stored, dtype=np.float64)
        raw = data.load(name, data_dir=shared_data_dir, scale=False).views[0]
        np.testing.assert_array_equal(raw[:5], stored[:, :5].T.astype(np.float32))


def test_sparse_views_are_densified(tmp_path):
    path = tmp_path / "s.mat"
    view = sp.random(7, 4, density=0.5, format="csc", random_state=0)  # features × samples
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = view
    scipy.io.savemat(path, {"data": cell, "y": np.arange(4)[None, :]})
    views, labels = loaders.load_mat_cell([path], {"cell_key": "data", "label_key": "y",
                                                   "layout": "features_x_samples"})
    assert views[0].shape == (4, 7)
    np.testing.assert_array_equal(views[0], view.toarray().T)


def test_wrong_shaped_file_is_a_clear_error(tmp_path, monkeypatch):
    """A file with the right keys but a view of the wrong orientation / size is refused, naming the view."""
    name = "ngs"
    cell = np.empty((1, 3), dtype=object)
    for i in range(3):
        cell[0, i] = np.ones((500, 2000), dtype=np.uint8)  # samples × features: the wrong layout for NGs
    labels = np.empty((1, 3), dtype=object)
    for i in range(3):
        labels[0, i] = np.repeat(np.arange(1, 6), 100)[None, :].astype(np.uint8)
    (tmp_path / "multiview").mkdir()
    scipy.io.savemat(tmp_path / "multiview" / "NGs.mat", {"data": cell, "truelabel": labels})
    entry = REGISTRY[name]
    fake = replace(entry, files=(replace(entry.files[0], sha256=None),))  # the checksum would refuse it first
    monkeypatch.setitem(REGISTRY, name, fake)
    with pytest.warns(UserWarning, match="without verification"), \
            pytest.raises(ValueError, match=r"view 0 has shape \(500, 2000\).*features_x_samples"):
        data.load(name, data_dir=tmp_path)


def test_disagreeing_label_copies_are_refused(tmp_path):
    path = tmp_path / "l.mat"
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = np.ones((3, 4)), np.ones((3, 4))
    labels = np.empty((1, 2), dtype=object)
    labels[0, 0], labels[0, 1] = np.array([[1, 2, 1, 2]]), np.array([[1, 1, 2, 2]])
    scipy.io.savemat(path, {"data": cell, "truelabel": labels})
    with pytest.raises(ValueError, match="disagree"):
        loaders.load_mat_cell([path], {"cell_key": "data", "label_key": "truelabel", "label_cell": True,
                                       "layout": "features_x_samples"})


def test_a_changed_file_fails_the_checksum(tmp_path, shared_data_dir):
    (tmp_path / "multiview").mkdir()
    copy = tmp_path / "multiview" / "3Sources.mat"
    shutil.copy(shared_data_dir / "multiview" / "3Sources.mat", copy)
    with open(copy, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(data.ChecksumError, match="3Sources.mat"):
        data.load("3sources", data_dir=tmp_path)
