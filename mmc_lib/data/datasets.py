"""Real multi-view / multimodal benchmark data: find, verify, load, scale, subsample, make mixed-modal.

>>> ds = load("digits")
>>> ds.n_clusters, [v.shape for v in ds.views]
(10, [(1797, 64)])
>>> load("digits", max_samples=100).n_samples  # a class-stratified subset (seed 0), cached
100

Scaling: every view is min-max scaled feature by feature to [0, 1] (as
scikit-learn's ``MinMaxScaler``, the preprocessing of MFLVC/SCMVC-style code);
constant features become 0. Labels are remapped to 0..K-1.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from mmc_lib.data.loaders import LOADERS
from mmc_lib.data.registry import REGISTRY, DataFile, DatasetEntry
from mmc_lib.runtime import env_default, project_root


class DataMissingError(FileNotFoundError):
    """A registered dataset's file is not in the data directory."""


class ChecksumError(ValueError):
    """A data file exists but its sha256 differs from the registry's."""


@dataclass
class MultiViewDataset:
    name: str
    views: list[np.ndarray]  # float32, (n_samples, d_v) each, min-max scaled
    labels: np.ndarray  # int64, 0..n_clusters-1
    view_names: list[str]
    n_clusters: int
    modalities: list[str] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def dims(self) -> list[int]:
        return [int(v.shape[1]) for v in self.views]

    def __repr__(self) -> str:
        return f"MultiViewDataset({self.name!r}, n={self.n_samples}, dims={self.dims}, k={self.n_clusters})"


def resolve_data_dir(path: str | os.PathLike | None = None) -> Path:
    """The data directory: argument, else ``MMC_DATA_DIR``, else ``<repo>/data``."""
    chosen = path or env_default("MMC_DATA_DIR")
    return Path(chosen).expanduser().resolve() if chosen else project_root() / "data"


def get_entry(name: str) -> DatasetEntry:
    if name not in REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[name]


def available(name: str, *, data_dir: str | os.PathLike | None = None) -> bool:
    """True when every file of ``name`` is present (checksums are checked at load time)."""
    root = resolve_data_dir(data_dir)
    return all((root / f.path).is_file() for f in get_entry(name).files)


_VERIFIED: dict[tuple[str, int, float, str], str] = {}


def _digest(path: Path, algorithm: str = "sha256") -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime, algorithm)
    if key not in _VERIFIED:
        digest = hashlib.new(algorithm, usedforsecurity=False)
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _VERIFIED[key] = digest.hexdigest()
    return _VERIFIED[key]


def _sha256(path: Path) -> str:
    return _digest(path, "sha256")


def _resolve_files(entry: DatasetEntry, root: Path) -> list[Path]:
    paths = []
    for f in entry.files:
        path = root / f.path
        if not path.is_file():
            size = f"{f.size:,} bytes, " if f.size else ""
            raise DataMissingError(
                f"dataset {entry.name!r} needs {f.path} ({size}sha256 {f.sha256 or 'unpublished'}), "
                f"not found in data directory {root} (set MMC_DATA_DIR or pass data_dir=). "
                f"Where to get it: {entry.source}" + _hint(entry.name)
            )
        _verify(f, path, root)
        paths.append(path)
    return paths


def _hint(name: str) -> str:
    from mmc_lib.data.sources import fetch_hint

    hint = fetch_hint(name)
    return "" if hint is None else (f". Or run: {hint}" if hint.startswith("make data") else f". {hint}")


_UNVERIFIED_NOTICE: set[str] = set()


def _recorded_sha256(root: Path, rel: str) -> str | None:
    """The sha256 ``make data`` recorded for a file with no published checksum (``fetched.json``), if any."""
    import json

    record = root / "fetched.json"
    if not record.is_file():
        return None
    try:
        return json.loads(record.read_text()).get("files", {}).get(rel, {}).get("sha256")
    except (json.JSONDecodeError, AttributeError):
        return None


def _verify(f: DataFile, path: Path, root: Path | None = None) -> None:
    if f.sha256 is None and f.md5 is not None:  # the official MD5 is the only published checksum
        actual = _digest(path, "md5")
        if actual != f.md5:
            raise ChecksumError(f"{path}: md5 {actual} does not match the official {f.md5}; "
                                "the file is corrupt or a different version")
        return
    recorded = _recorded_sha256(root, f.path) if f.sha256 is None and root is not None else None
    if recorded is not None:  # trusted when it was fetched: it must not have changed since
        if _sha256(path) != recorded:
            raise ChecksumError(f"{path}: sha256 {_sha256(path)} differs from the {recorded} recorded in "
                                f"{root / 'fetched.json'} when it was fetched")
        return
    if f.sha256 is None:
        if str(path) not in _UNVERIFIED_NOTICE:  # say it once per file and process
            _UNVERIFIED_NOTICE.add(str(path))
            warnings.warn(f"{path}: no sha256 is registered for this file, so it was loaded without verification; "
                          "its shape and class count are still checked against the registry", UserWarning,
                          stacklevel=4)
        return
    actual = _sha256(path)
    if actual != f.sha256:
        raise ChecksumError(f"{path}: sha256 {actual} does not match the registry's {f.sha256}; "
                            "the file is corrupt or a different version")


def minmax_scale(view: np.ndarray) -> np.ndarray:
    """Feature-wise min-max scaling to [0, 1]; constant features map to 0."""
    view = np.asarray(view, dtype=np.float64)
    lo, hi = view.min(axis=0), view.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return ((view - lo) / span).astype(np.float32)


def _orient(view: np.ndarray, n_samples: int, name: str, i: int) -> np.ndarray:
    if view.ndim == 2 and view.shape[0] == n_samples:
        return view
    if view.ndim == 2 and view.shape[1] == n_samples:
        return view.T  # some .mat files store features × samples
    raise ValueError(f"{name}: view {i} has shape {view.shape}, which does not match {n_samples} labels")


def load(name: str, *, data_dir: str | os.PathLike | None = None, scale: bool = True,
         max_samples: int | None = None) -> MultiViewDataset:
    """Load a registered dataset, verifying checksums; see the module docstring for scaling.

    ``max_samples`` keeps a class-stratified subset of that many rows (seed 0: every study and every method
    sees the same rows). Loads are cached in memory per (name, folder, scale, max_samples): treat the
    returned arrays as read-only.
    """
    root = resolve_data_dir(data_dir)
    paths = _resolve_files(get_entry(name), root)  # a missing file is a DataMissingError first
    if get_entry(name).loader == "dm2c_mixed":
        raise ValueError(f"{name!r} is mixed-modal (each sample has one modality, there are no pairs to load): use "
                         f"mmc_lib.data.dm2c_split({name!r})")
    stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    return _load_cached(name, str(root), scale, max_samples, stamp)


@lru_cache(maxsize=32)
def _load_cached(name: str, folder: str, scale: bool, max_samples: int | None, stamp: tuple) -> MultiViewDataset:
    """``stamp`` (file sizes and mtimes) keys the cache, so a replaced file is read again."""
    if max_samples is not None:
        return subsample(_load_cached(name, folder, scale, None, stamp), max_samples, seed=0)
    return _read(name, Path(folder), scale)


def _check_against_registry(entry: DatasetEntry, paths: list[Path], views: list[np.ndarray], labels: np.ndarray):
    """A file that loads but is not the registered data set (wrong version, a truncated copy) is an error."""
    found = (len(views), int(labels.size), int(labels.max()) + 1)
    expected = (len(entry.view_names), entry.n_samples, entry.n_clusters)
    if found != expected:
        files = ", ".join(p.name for p in paths)
        raise ValueError(f"{files} does not hold the registered {entry.name!r}: expected {expected[0]} view(s), "
                         f"{expected[1]} samples and {expected[2]} classes, found {found[0]}, {found[1]} and "
                         f"{found[2]}; replace the file (source: {entry.source})")


def _read(name: str, root: Path, scale: bool) -> MultiViewDataset:
    entry = get_entry(name)
    paths = _resolve_files(entry, root)
    raw_views, raw_labels = LOADERS[entry.loader](paths, entry.options)
    raw_labels = np.asarray(raw_labels).ravel()
    _, labels = np.unique(raw_labels, return_inverse=True)
    views = [_orient(v, labels.size, name, i) for i, v in enumerate(raw_views)]
    _check_against_registry(entry, paths, views, labels)
    views = [minmax_scale(v) if scale else v.astype(np.float32) for v in views]
    return MultiViewDataset(name=name, views=views, labels=labels.astype(np.int64),
                            view_names=list(entry.view_names), n_clusters=int(labels.max() + 1),
                            modalities=list(entry.modalities))


def subsample(ds: MultiViewDataset, max_samples: int | None, *, seed: int = 0) -> MultiViewDataset:
    """A class-stratified random subset of at most ``max_samples`` rows (the dataset itself if smaller)."""
    if max_samples is None or ds.n_samples <= max_samples:
        return ds
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(np.arange(ds.n_samples), train_size=max_samples, stratify=ds.labels,
                              random_state=seed)
    idx = np.sort(idx)
    return MultiViewDataset(ds.name, [v[idx] for v in ds.views], ds.labels[idx], list(ds.view_names),
                            ds.n_clusters, list(ds.modalities))


@dataclass
class MixedModalDataset:
    """The DM2C setting: each sample is observed in exactly one of two modalities, unpaired."""

    name: str
    x_a: np.ndarray  # (n_a, d_a) samples that kept modality A
    x_b: np.ndarray  # (n_b, d_b) samples that kept modality B
    y_a: np.ndarray  # labels of x_a rows (for evaluation only)
    y_b: np.ndarray
    index_a: np.ndarray  # row indices into the paired source dataset
    index_b: np.ndarray
    modality_names: tuple[str, str]
    n_clusters: int

    @property
    def n_a(self) -> int:
        return int(self.x_a.shape[0])

    @property
    def n_b(self) -> int:
        return int(self.x_b.shape[0])

    @property
    def labels(self) -> np.ndarray:
        """Labels for ``x_a`` rows followed by ``x_b`` rows (the order DM2C predicts in)."""
        return np.concatenate([self.y_a, self.y_b])


def mixed_modal(dataset: MultiViewDataset, *, seed: int, fraction_a: float = 0.5,
                views: tuple[int, int] = (0, 1)) -> MixedModalDataset:
    """Split a paired dataset so each sample keeps exactly one modality (DM2C protocol).

    Each sample keeps modality A with probability ``fraction_a`` (exactly
    ``round(fraction_a * n)`` samples, chosen at random with ``seed``) and B otherwise;
    the pairing is discarded.
    """
    if not 0.0 < fraction_a < 1.0:
        raise ValueError(f"fraction_a must be strictly between 0 and 1, got {fraction_a}")
    a, b = views
    for v in (a, b):
        if not 0 <= v < len(dataset.views):
            raise ValueError(f"view index {v} out of range for {dataset.name!r} with {len(dataset.views)} views")
    if a == b:
        raise ValueError("the two modalities must be different views")
    rng = np.random.default_rng(seed)
    order = rng.permutation(dataset.n_samples)
    n_a = int(round(fraction_a * dataset.n_samples))
    if n_a == 0 or n_a == dataset.n_samples:
        raise ValueError(f"fraction_a={fraction_a} leaves one modality empty for n={dataset.n_samples}")
    index_a, index_b = np.sort(order[:n_a]), np.sort(order[n_a:])
    return MixedModalDataset(
        name=dataset.name, x_a=dataset.views[a][index_a], x_b=dataset.views[b][index_b],
        y_a=dataset.labels[index_a], y_b=dataset.labels[index_b], index_a=index_a, index_b=index_b,
        modality_names=(dataset.view_names[a], dataset.view_names[b]), n_clusters=dataset.n_clusters,
    )


def overview(*, data_dir: str | os.PathLike | None = None):
    """A table of every registered dataset: size, views, classes, and whether its files are here."""
    import pandas as pd

    rows = []
    for name, e in REGISTRY.items():
        rows.append({"dataset": name, "n_samples": e.n_samples, "n_clusters": e.n_clusters,
                     "views": " / ".join(e.view_names), "modalities": " / ".join(e.modalities),
                     "available": available(name, data_dir=data_dir), "citation": e.citation})
    return pd.DataFrame(rows)
