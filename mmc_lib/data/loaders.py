"""File readers, one per layout. Each takes the resolved file paths and the entry's
options and returns ``(views, labels)`` as raw arrays (no scaling, labels as stored)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import scipy.io


def _loadmat(path: Path) -> dict:
    try:
        return scipy.io.loadmat(path)
    except NotImplementedError as exc:  # MATLAB v7.3 (HDF5) files
        raise ValueError(f"{path} is a MATLAB v7.3 file; re-save it with -v7 (scipy.io cannot read v7.3)") from exc


def _pick(mat: dict, keys, path: Path) -> np.ndarray:
    keys = [keys] if isinstance(keys, str) else list(keys)
    for key in keys:
        if key in mat:
            return np.asarray(mat[key])
    present = sorted(k for k in mat if not k.startswith("__"))
    raise KeyError(f"{path.name}: none of the keys {keys} found; the file holds {present}")


def _as_rows(view) -> np.ndarray:
    """A dense float64 array; scipy sparse matrices (e.g. BBCSport's term counts) are densified first
    (``np.asarray`` of a sparse matrix would give a 0-d object array)."""
    if hasattr(view, "toarray"):
        view = view.toarray()
    return np.asarray(view, dtype=np.float64)


def _samples_first(view: np.ndarray, layout: str, n_samples: int, path: Path, i: int) -> np.ndarray:
    """``view`` as samples × features, given the file's declared ``layout``; a view whose sample axis does not
    hold ``n_samples`` rows (one per label) is an error naming the file, the view and the shapes."""
    if layout not in ("samples_x_features", "features_x_samples"):
        raise ValueError(f"unknown layout {layout!r}; use 'samples_x_features' or 'features_x_samples'")
    axis = 1 if layout == "features_x_samples" else 0
    if view.ndim != 2 or view.shape[axis] != n_samples:
        raise ValueError(f"{path.name}: view {i} has shape {view.shape}, but the file's layout is {layout} with "
                         f"{n_samples} labels, so axis {axis} should have {n_samples} entries; "
                         "the file is not the registered data set")
    return view.T if axis == 1 else view


def load_mat_keys(paths: list[Path], options: dict):
    """One .mat file with one key per view (``X1``, ``X2``, …) and a label key."""
    mat = _loadmat(paths[0])
    views = [_as_rows(_pick(mat, key, paths[0])) for key in options["view_keys"]]
    return views, _pick(mat, options["label_key"], paths[0])


def _cell_labels(mat: dict, options: dict, path: Path) -> np.ndarray:
    """The label vector; with ``label_cell`` the key holds a cell of per-view copies, which must agree."""
    labels = _pick(mat, options["label_key"], path)
    if not options.get("label_cell"):
        return labels
    copies = [np.asarray(c).ravel() for c in labels.ravel()]
    if not copies or any(not np.array_equal(copies[0], c) for c in copies[1:]):
        raise ValueError(f"{path.name}: the per-view label copies in {options['label_key']!r} disagree")
    return copies[0]


def load_mat_cell(paths: list[Path], options: dict):
    """One .mat file whose ``X`` (or ``options["cell_key"]``) is a MATLAB cell array of views.

    Without ``options["layout"]`` each view may be either orientation (``datasets.load`` orients it by the label
    count). With ``layout="samples_x_features"`` or ``"features_x_samples"`` the file's stated layout is applied
    and checked: a view of any other shape raises ``ValueError``. ``label_cell=True``: the labels are a cell of
    identical per-view copies (BBCSport, BDGP, NGs)."""
    mat = _loadmat(paths[0])
    cell = _pick(mat, options.get("cell_key", "X"), paths[0]).ravel()
    views = [_as_rows(v) for v in cell]
    labels = _cell_labels(mat, options, paths[0])
    if "layout" in options:
        n = int(np.asarray(labels).size)
        views = [_samples_first(v, options["layout"], n, paths[0], i) for i, v in enumerate(views)]
    return views, labels


def load_mat_separate(paths: list[Path], options: dict):
    """One .mat file per view; labels from whichever file holds the label key."""
    view_keys = options["view_keys"]
    views = [_as_rows(_pick(_loadmat(p), keys, p)) for p, keys in zip(paths, view_keys)]
    label_keys = options["label_key"]
    for path in paths[len(view_keys):] + paths[: len(view_keys)]:
        mat = _loadmat(path)
        try:
            return views, _pick(mat, label_keys, path)
        except KeyError:
            continue
    raise KeyError(f"no file among {[p.name for p in paths]} holds a label key {label_keys}")


def _read_idx(path: Path) -> np.ndarray:
    """Read an idx file (MNIST format): magic, dims as big-endian int32, then uint8 data."""
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    n_dims = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=n_dims, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * n_dims).reshape(tuple(dims))


def load_mnist_idx(paths: list[Path], options: dict):
    images, labels = _read_idx(paths[0]), _read_idx(paths[1])
    return [images.reshape(len(images), -1).astype(np.float64)], labels


def load_sklearn_digits(paths: list[Path], options: dict):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return [bunch.data.astype(np.float64)], bunch.target


LOADERS = {
    "mat_keys": load_mat_keys,
    "mat_cell": load_mat_cell,
    "mat_separate": load_mat_separate,
    "mnist_idx": load_mnist_idx,
    "sklearn_digits": load_sklearn_digits,
}


def read_dm2c_mixed(path: Path) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """DM2C's mixed-modal file (the authors' ``MFeatDataSet``): ``X`` one cell row per sample holding
    (features, [file name,] modality), ``y`` (1, n). Returns (per-sample feature rows, modality 0=image/1=text,
    labels as stored)."""
    mat = _loadmat(path)
    cells, labels = _pick(mat, "X", path), _pick(mat, "y", path).ravel()
    if cells.dtype != object or cells.ndim != 2 or cells.shape[1] not in (2, 3):
        raise ValueError(f"{path.name}: X must be a cell array of (features, [file,] modality) rows, found "
                         f"{cells.dtype} {cells.shape}")
    feats = [np.asarray(row[0], dtype=np.float64).ravel() for row in cells]
    modality = np.array([int(np.asarray(row[-1]).ravel()[0]) for row in cells])
    if labels.size != len(feats):
        raise ValueError(f"{path.name}: {len(feats)} samples in X but {labels.size} labels in y")
    return feats, modality, labels
