"""Fixed splits of the benchmark data. One Wikipedia split serves every notebook.

Wikipedia (Rasiwasia et al. 2010) ships as the full set (``wikipedia``, 2866 pairs) and its standard test
split (``wikipedia-test``, 693 pairs). The test rows are located inside the full file by exact equality of
their raw (unscaled) features; the train split is every other row.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from mmc_lib.data.datasets import MultiViewDataset, load, resolve_data_dir


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
