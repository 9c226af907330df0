"""Fixed splits of the benchmark data. One Wikipedia split serves every notebook.

Wikipedia (Rasiwasia et al. 2010) ships as the full set (``wikipedia``, 2866 pairs) and its standard test
split (``wikipedia-test``, 693 pairs). The test rows are located inside the full file by exact equality of
their raw (unscaled) features; the train split is every other row.
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from mmc_lib.data.datasets import (MixedModalDataset, MultiViewDataset, _resolve_files, get_entry, load,
                                   resolve_data_dir)
from mmc_lib.data.loaders import read_dm2c_mixed


def _row_keys(ds: MultiViewDataset) -> list[bytes]:
    return [ds.views[0][i].tobytes() + ds.views[1][i].tobytes() for i in range(ds.n_samples)]


def wikipedia_test_rows(data_dir: str | os.PathLike | None = None) -> np.ndarray:
    """Row indices of the ``wikipedia-test`` pairs inside ``wikipedia`` (each must match exactly one row)."""
    return _test_rows(str(resolve_data_dir(data_dir)))


@lru_cache(maxsize=2)
def _test_rows(folder: str) -> np.ndarray:
    full = load("wikipedia", data_dir=folder, scale=False)
    test = load("wikipedia-test", data_dir=folder, scale=False)
    where: dict[bytes, list[int]] = {}
    for i, key in enumerate(_row_keys(full)):
        where.setdefault(key, []).append(i)
    matches = [where.get(key, []) for key in _row_keys(test)]
    bad = [j for j, m in enumerate(matches) if len(m) != 1]
    if bad:
        raise ValueError(f"{len(bad)} wikipedia-test rows do not match exactly one wikipedia row (first: {bad[0]}); "
                         "the two files are not the expected versions")
    test_idx = np.array([m[0] for m in matches])
    if not np.array_equal(full.labels[test_idx], test.labels):
        raise ValueError("wikipedia-test labels disagree with the matching wikipedia rows")
    return test_idx


def _part(full: MultiViewDataset, idx: np.ndarray, name: str) -> MultiViewDataset:
    return MultiViewDataset(name, [v[idx] for v in full.views], full.labels[idx], list(full.view_names),
                            full.n_clusters, list(full.modalities))


def wikipedia_split(data_dir: str | os.PathLike | None = None, *,
                    scale: bool = True) -> tuple[MultiViewDataset, MultiViewDataset]:
    """``(train, test)``: the standard split of Wikipedia.

    ``scale=True`` min-max scales both parts with the ranges of the whole file (what DM2C's protocol
    uses); ``scale=False`` returns raw features (the joint-embedding aligners standardise on the train
    pairs themselves).
    """
    test_idx = wikipedia_test_rows(data_dir)
    full = load("wikipedia", data_dir=data_dir, scale=scale)
    train_idx = np.setdiff1d(np.arange(full.n_samples), test_idx)
    return _part(full, train_idx, "wikipedia-train"), _part(full, test_idx, "wikipedia-test")


def mnist_split(data_dir: str | os.PathLike | None = None, *, test_size: int = 2000, seed: int = 0,
                max_samples: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST's test set (10k digits) as images for generative models: ``(x_train, y_train, x_test, y_test)``.

    Images are ``(n, 1, 28, 28)`` float32 in [0, 1] (pixel / 255 — not min-max scaled per pixel); the split is
    class-stratified with ``seed`` (8000 / 2000 by default). ``max_samples`` caps the train part (stratified).
    """
    from sklearn.model_selection import train_test_split

    ds = load("mnist", data_dir=data_dir, scale=False)
    images = (ds.views[0] / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
    train_idx, test_idx = train_test_split(np.arange(ds.n_samples), test_size=test_size, stratify=ds.labels,
                                           random_state=seed)
    train_idx, test_idx = np.sort(train_idx), np.sort(test_idx)
    if max_samples is not None and max_samples < len(train_idx):
        train_idx, _ = train_test_split(train_idx, train_size=max_samples, stratify=ds.labels[train_idx],
                                        random_state=seed)
        train_idx = np.sort(train_idx)
    return images[train_idx], ds.labels[train_idx], images[test_idx], ds.labels[test_idx]


def dm2c_split(name: str, data_dir: str | os.PathLike | None = None, *,
               scale: bool = True) -> tuple[MixedModalDataset, MixedModalDataset]:
    """``(train, test)`` of one of DM2C's own mixed-modal data sets (``wikipedia-dm2c``, ``nus-wide-10k``): the
    authors' split and the authors' modality of every sample (A = image, B = text), from ``train_file.mat`` and
    ``test_file.mat``.

    ``scale=True`` min-max scales each modality with the ranges of its train and test rows together (as
    :func:`wikipedia_split`); labels become 0..K-1 over both files.
    """
    entry = get_entry(name)
    if entry.loader != "dm2c_mixed":
        raise ValueError(f"{name!r} is not one of DM2C's mixed-modal files; paired data sets split with mixed_modal()")
    paths = _resolve_files(entry, resolve_data_dir(data_dir))
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    return _dm2c_split_cached(name, stamp, scale)


@lru_cache(maxsize=4)
def _dm2c_split_cached(name: str, stamp: tuple, scale: bool) -> tuple[MixedModalDataset, MixedModalDataset]:
    """``stamp`` (paths, sizes, mtimes) keys the cache, so a replaced file is read again; treat arrays as read-only."""
    entry = get_entry(name)
    paths = [Path(p) for p, _, _ in stamp]
    parts = [read_dm2c_mixed(p) for p in paths]
    dim = entry.options["dim"]
    for (feats, _, _), f in zip(parts, entry.files):
        widths = {x.size for x in feats}
        if widths != {dim}:
            raise ValueError(f"{f.path}: features must be {dim}-d, found widths {sorted(widths)}")
    _, codes = np.unique(np.concatenate([p[2] for p in parts]), return_inverse=True)
    n_train = parts[0][2].size
    labels = (codes[:n_train], codes[n_train:])
    n_total = sum(p[2].size for p in parts)
    if n_total != entry.n_samples:
        warnings.warn(f"{name}: the files hold {n_total} samples, the registry (from the paper's poster) "
                      f"{entry.n_samples}; the files' own counts are used", UserWarning, stacklevel=3)
    ranges = {}
    for m in (0, 1):
        rows = np.vstack([np.vstack([x for x, mm in zip(p[0], p[1]) if mm == m]) for p in parts])
        lo, hi = rows.min(axis=0), rows.max(axis=0)
        ranges[m] = (lo, np.where(hi > lo, hi - lo, 1.0))
    out = []
    for (feats, modality, _), y, split in zip(parts, labels, ("train", "test")):
        views = []
        for m in (0, 1):
            idx = np.flatnonzero(modality == m)
            x = np.vstack([feats[i] for i in idx])
            if scale:
                x = (x - ranges[m][0]) / ranges[m][1]
            views.append((x.astype(np.float32), y[idx].astype(np.int64), idx))
        (x_a, y_a, i_a), (x_b, y_b, i_b) = views
        out.append(MixedModalDataset(f"{name}-{split}", x_a, x_b, y_a, y_b, i_a, i_b,
                                     tuple(entry.view_names), int(codes.max()) + 1))
    return out[0], out[1]
