"""Tiny generated files shaped like each paper data set's real files (same names, keys, layout, row counts where
the registry checks them; feature widths cut down except where the authors' code fixes them), for the fetch and
fixture tests. Every feature matrix carries its class: a class mean plus noise, so a clustering finds it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io


def _blobs(labels: np.ndarray, dim: int, rng: np.random.Generator, sep: float = 3.0) -> np.ndarray:
    k = int(labels.max()) + 1
    centres = rng.normal(0.0, sep, size=(k, dim))
    return centres[labels] + rng.normal(0.0, 1.0, size=(labels.size, dim))


def _labels(counts: list[int], rng: np.random.Generator) -> np.ndarray:
    y = np.concatenate([np.full(c, i) for i, c in enumerate(counts)])
    return rng.permutation(y)


def _balanced(n: int, k: int) -> list[int]:
    return [n // k + (i < n % k) for i in range(k)]


def write(path: Path, **arrays) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, arrays)
    return path


def caltech(root: Path, seed: int = 0) -> list[Path]:
    """multiview/Caltech-5V.mat: X1..X5 (1400 rows; widths cut from 40/254/1984/512/928), Y (1400, 1), 7 classes."""
    rng = np.random.default_rng(seed)
    y = _labels(_balanced(1400, 7), rng)
    views = {f"X{i}": _blobs(y, d, rng) for i, d in enumerate((4, 6, 8, 5, 7), start=1)}
    return [write(root / "multiview/Caltech-5V.mat", **views, Y=(y + 1).reshape(-1, 1).astype(np.uint8))]


def esp_labels(root: Path, n: int = 11032, seed: int = 0) -> tuple[Path, np.ndarray]:
    """multimodal/esp-game/L.mat: L (n, 1) int32, labels 1..7 (the real file's class counts when n = 11032)."""
    rng = np.random.default_rng(seed)
    counts = [1719, 1192, 1462, 1631, 1579, 1755, 1694] if n == 11032 else _balanced(n, 7)
    y = _labels(counts, rng)
    return write(root / "multimodal/esp-game/L.mat", L=(y + 1).reshape(-1, 1).astype(np.int32)), y


def esp_features(root: Path, y: np.ndarray, *, rows: int | None = None, seed: int = 1) -> list[Path]:
    """multimodal/esp-game/{img_1,img_2,txt_1}.mat with keys img / img / txt, one row per label (``rows`` to lie)."""
    rng = np.random.default_rng(seed)
    y = y if rows is None else np.resize(y, rows)
    return [write(root / f"multimodal/esp-game/{name}", **{key: _blobs(y, d, rng)})
            for name, key, d in (("img_1.mat", "img", 6), ("img_2.mat", "img", 5), ("txt_1.mat", "txt", 4))]


def esp(root: Path, seed: int = 0) -> list[Path]:
    path, y = esp_labels(root, seed=seed)
    return [path, *esp_features(root, y, seed=seed + 1)]


def flickr(root: Path, seed: int = 0) -> list[Path]:
    """multimodal/flickr/flickr.mat: X1, X2, X3 (12154 rows), Y, 6 classes (the registry's layout)."""
    rng = np.random.default_rng(seed)
    y = _labels(_balanced(12154, 6), rng)
    return [write(root / "multimodal/flickr/flickr.mat", X1=_blobs(y, 5, rng), X2=_blobs(y, 5, rng),
                  X3=_blobs(y, 4, rng), Y=(y + 1).reshape(-1, 1))]


def iapr(root: Path, seed: int = 0) -> list[Path]:
    """multimodal/iapr/iapr.mat: X1, X2 (7855 rows), Y, 6 classes."""
    rng = np.random.default_rng(seed)
    y = _labels(_balanced(7855, 6), rng)
    return [write(root / "multimodal/iapr/iapr.mat", X1=_blobs(y, 5, rng), X2=_blobs(y, 4, rng),
                  Y=(y + 1).reshape(-1, 1))]


def dm2c_mixed(path: Path, *, n: int, dim: int, with_file: bool, seed: int, k: int = 10) -> Path:
    """DM2C's train_file.mat / test_file.mat: X an (n, 3|2) cell array of (1×dim features, [file name,] [[modality]])
    rows, y (1, n) labels 1..k — what the authors' MFeatDataSet reads."""
    rng = np.random.default_rng(seed)
    y = _labels(_balanced(n, k), rng)
    modality = rng.permutation(np.arange(n) % 2)  # 0 = image, 1 = text
    x_img, x_txt = _blobs(y, dim, rng), _blobs(y, dim, rng)
    cells = np.empty((n, 3 if with_file else 2), dtype=object)
    for i in range(n):
        cells[i, 0] = (x_img if modality[i] == 0 else x_txt)[i].reshape(1, -1)
        if with_file:
            cells[i, 1] = f"sample_{i:05d}.jpg"
        cells[i, -1] = np.array([[modality[i]]], dtype=np.uint8)
    return write(path, X=cells, y=(y + 1).reshape(1, -1).astype(np.uint8))


def dm2c(root: Path, name: str, *, n_train: int = 200, n_test: int = 80, seed: int = 0) -> list[Path]:
    """multimodal/<name>/{train,test}_file.mat for ``wikipedia-dm2c`` (2048-d, with file names) or ``nus-wide-10k``
    (1000-d, without), fewer rows than the real files (1910/256 and 7500/2500 in the poster)."""
    dim, with_file = {"wikipedia-dm2c": (2048, True), "nus-wide-10k": (1000, False)}[name]
    return [dm2c_mixed(root / f"multimodal/{name}/{split}_file.mat", n=n, dim=dim, with_file=with_file,
                       seed=seed + i)
            for i, (split, n) in enumerate((("train", n_train), ("test", n_test)))]
