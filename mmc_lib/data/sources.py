"""Where each paper data set can be fetched from, pinned, and what is verified once it arrives.

Every registered data set that is not shipped here has one entry in :data:`SOURCES`:

* a :class:`Source`: its files, each with a URL pinned to a commit (or a Git-LFS object id, or the official mirror
  of a file with an official checksum), the expected size and every checksum that is known (sha256, the official
  MD5, or git's blob id at the pinned commit), plus a structural check where a file's content can be checked
  against something independent (the label file beside it, the feature width the authors' code expects); or
* a :class:`NoPublicCopy`: no public copy is known, and what the user must supply, and where.

:mod:`mmc_lib.data.fetch` downloads and verifies; :func:`fetch_hint` is the one-line pointer the audit prints
next to ``not run: data absent``.

>>> fetch_hint("esp-game")
'make data NAME=esp-game'
>>> fetch_hint("iapr").startswith("no public copy known")
True
>>> fetch_hint("wikipedia") is None  # shipped in the shared data folder, nothing to fetch
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


class StructureError(ValueError):
    """A downloaded file does not have the structure the data set needs (keys, shapes, counts)."""


@dataclass(frozen=True)
class Remote:
    """One file to fetch. Its ``path`` is relative to the data directory, as in the registry."""

    path: str
    urls: tuple[str, ...]  # pinned; tried in order (mirrors)
    size: int | None = None  # bytes
    sha256: str | None = None
    md5: str | None = None  # the official MD5 (MNIST, Fashion-MNIST)
    git_blob: str | None = None  # git's blob id at the pinned commit: sha1(b"blob <size>\0" + content)
    check: tuple = ()  # a structural check: (function name in CHECKS, keyword arguments as a tuple of pairs)

    @property
    def checksums(self) -> dict[str, str]:
        """The checksums this file is verified against (name → expected hex digest)."""
        return {k: v for k, v in (("sha256", self.sha256), ("md5", self.md5), ("git-blob", self.git_blob)) if v}


@dataclass(frozen=True)
class Source:
    """A fetchable data set: its files and, in words, where they come from and what is verified."""

    name: str
    files: tuple[Remote, ...]
    origin: str  # repository @ commit, LFS object, or official mirror
    verifies: str  # what is verified, in words
    datasets: tuple[str, ...] = ()  # registry entries this source makes loadable (default: its own name)
    note: str = ""

    @property
    def provides(self) -> tuple[str, ...]:
        return self.datasets or (self.name,)


@dataclass(frozen=True)
class NoPublicCopy:
    """A data set with no public copy that we could confirm: what the user must supply, and where."""

    name: str
    supply: str
    datasets: tuple[str, ...] = field(default_factory=tuple)

    @property
    def provides(self) -> tuple[str, ...]:
        return self.datasets or (self.name,)


# ------------------------------------------------------------------ structural checks

def _loadmat(path: Path, label: str | None = None) -> dict:
    import scipy.io

    try:
        return scipy.io.loadmat(path)
    except NotImplementedError as exc:
        raise StructureError(f"{label or path.name} is a MATLAB v7.3 file; a v5 file was expected") from exc
    except Exception as exc:  # noqa: BLE001 — anything scipy cannot parse is not the file we want
        raise StructureError(f"{label or path.name} is not a readable MATLAB file ({type(exc).__name__}: {exc})") \
            from exc


def _first_key(mat: dict, keys, path: Path, label: str | None = None) -> np.ndarray:
    for key in keys:
        if key in mat:
            return np.asarray(mat[key])
    present = sorted(k for k in mat if not k.startswith("__"))
    raise StructureError(f"{label or path.name}: expected one of the keys {list(keys)}, found {present}")


def _label_count(data_dir: Path, label_file: str, label_key: str) -> int:
    path = data_dir / label_file
    if not path.is_file():
        raise StructureError(f"the label file {label_file} is needed to check the feature files; it is not in "
                             f"{data_dir}")
    return int(np.asarray(_loadmat(path)[label_key]).size)


def check_rows_match_labels(path: Path, data_dir: Path, *, keys: tuple[str, ...], label_file: str,
                            label_key: str, label: str | None = None) -> str:
    """A 2-D numeric matrix under one of ``keys`` with one row (or column) per label of ``label_file``.
    ``label``: the file's name in messages (default: ``path``'s)."""
    x = _first_key(_loadmat(path, label), keys, path, label)
    n = _label_count(data_dir, label_file, label_key)
    if x.ndim != 2 or x.dtype.kind not in "fiu" or n not in x.shape:
        raise StructureError(f"{label or path.name}: expected a numeric matrix with {n} rows (one per label in "
                             f"{label_file}), found {x.dtype} {x.shape}")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise StructureError(f"{label or path.name}: the features hold NaN or infinite values")
    return f"{x.shape} matches the {n} labels of {label_file}"


def check_dm2c_mixed(path: Path, data_dir: Path, *, dim: int, n_clusters: int, label: str | None = None) -> str:
    """DM2C's mixed-modal file (``train_file.mat`` / ``test_file.mat``): ``X`` one row per sample holding
    (features, [file name,] modality 0=image/1=text), ``y`` (1, n) labels 1..K — the authors' ``MFeatDataSet``."""
    mat, name = _loadmat(path, label), label or path.name
    if "X" not in mat or "y" not in mat:
        raise StructureError(f"{name}: expected the keys X and y (DM2C's MFeatDataSet), found "
                             f"{sorted(k for k in mat if not k.startswith('__'))}")
    x, y = np.asarray(mat["X"]), np.asarray(mat["y"]).ravel()
    if x.dtype != object or x.ndim != 2 or x.shape[1] not in (2, 3):
        raise StructureError(f"{name}: X must be a cell array of (features, [file,] modality) rows, found "
                             f"{x.dtype} {x.shape}")
    if y.size != x.shape[0]:
        raise StructureError(f"{name}: {x.shape[0]} samples in X but {y.size} labels in y")
    widths = {np.asarray(row[0]).size for row in x}
    if widths != {dim}:
        raise StructureError(f"{name}: features must be {dim}-d (the authors' input width), found widths "
                             f"{sorted(widths)}")
    modality = {int(np.asarray(row[-1]).ravel()[0]) for row in x}
    if not modality <= {0, 1} or len(modality) != 2:
        raise StructureError(f"{name}: modality labels must be 0 (image) and 1 (text), found {sorted(modality)}")
    classes = np.unique(y)
    if classes.size != n_clusters:
        raise StructureError(f"{name}: expected {n_clusters} classes, found {classes.size}")
    return f"{x.shape[0]} samples, {dim}-d, {n_clusters} classes, both modalities"


CHECKS = {"rows_match_labels": check_rows_match_labels, "dm2c_mixed": check_dm2c_mixed}


def run_check(remote: Remote, path: Path, data_dir: Path) -> str | None:
    """Run ``remote``'s structural check on ``path`` (a complete download); raises :class:`StructureError`."""
    if not remote.check:
        return None
    name, kwargs = remote.check
    return CHECKS[name](Path(path), Path(data_dir), **dict(kwargs), label=Path(remote.path).name)


# ------------------------------------------------------------------ the sources

_CALTECH_COMMIT = "33de6aa01c4d5980d61ad489363426faa6eddd73"  # liangsishan/CMSA-multi-view-datasets, "data"
_DCIB_COMMIT = "a0cdeb74eb3645cf6c08c16b477f5970e39f081c"  # Xiaoqiang-Yan/TNNLS-DCIB
_DM2C_COMMIT = "72230ba6ba03d0233df3d3ea242fac61657122f2"  # jiangyangby/DM2C
_MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")


def _raw(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def _esp(name: str, keys: tuple[str, ...], blob: str) -> Remote:
    url = _raw("Xiaoqiang-Yan/TNNLS-DCIB", _DCIB_COMMIT, f"dataset/esp/{name}")
    return Remote(f"multimodal/esp-game/{name}", (url,), git_blob=blob,
                  check=("rows_match_labels", (("keys", keys), ("label_file", "multimodal/esp-game/L.mat"),
                                               ("label_key", "L"))))


def _dm2c(folder: str, name: str, blob: str, dim: int) -> Remote:
    local = {"wikipedia": "wikipedia-dm2c", "nuswide": "nus-wide-10k"}[folder]
    return Remote(f"multimodal/{local}/{name}", (_raw("jiangyangby/DM2C", _DM2C_COMMIT, f"code/data/{folder}/{name}"),),
                  git_blob=blob, check=("dm2c_mixed", (("dim", dim), ("n_clusters", 10))))


def _idx(folder: str, mirrors: tuple[str, ...], name: str, size: int, md5: str, sha256: str | None = None) -> Remote:
    return Remote(f"mnist/{folder}/raw/{name}", tuple(m + name for m in mirrors), size=size, md5=md5, sha256=sha256)


_GIT_BLOB = "git's blob id of each file at the pinned commit (a SHA-1 of the exact bytes)"

SOURCES: dict[str, Source | NoPublicCopy] = {s.name: s for s in [
    Source(
        "caltech-5v",
        (Remote("multiview/Caltech-5V.mat",
                (f"https://media.githubusercontent.com/media/liangsishan/CMSA-multi-view-datasets/{_CALTECH_COMMIT}/"
                 "Caltech-5V.mat",),
                size=39_514_064, sha256="dd967b3b1fa3056d6748a0a98d88032b380238fc175d3407af887e53b8e6319b"),),
        origin=f"Git-LFS object of liangsishan/CMSA-multi-view-datasets @ {_CALTECH_COMMIT[:7]}, Caltech-5V.mat",
        verifies="size 39,514,064 B and sha256 (the LFS object id); the loader then checks X1..X5, Y, 1400 samples, "
                 "7 classes",
        datasets=("caltech-3v", "caltech-4v"),
    ),
    Source(
        "esp-game",
        (Remote("multimodal/esp-game/L.mat", (_raw("Xiaoqiang-Yan/TNNLS-DCIB", _DCIB_COMMIT, "dataset/esp/L.mat"),),
                size=378, sha256="f675443dd4afd0baddb9f6ed1ec9d80afc95a7d1330a5aa697c2dc097469d56b",
                git_blob="e783f5abeace50e0a170ac275b8ae6e3bec93650"),
         _esp("img_1.mat", ("img", "temp1"), "f76f6eea6da5d23bdb6864e732cbe9a44a5b8e97"),
         _esp("img_2.mat", ("img", "temp1"), "e5ddef1a97013a21c51f464e86e1af481c307fc7"),
         _esp("txt_1.mat", ("txt", "temp2"), "7722c8c7adb29592e855e970c96b4ae25a88cbe7")),
        origin=f"Xiaoqiang-Yan/TNNLS-DCIB @ {_DCIB_COMMIT[:7]}, dataset/esp/",
        verifies=f"{_GIT_BLOB}; no sha256 is published, so the sha256 seen is recorded in fetched.json (trusted on "
                 "first use); structure: key img/temp1 (images) or txt/temp2 (text), a numeric matrix with one row "
                 "per label of L.mat (11,032)",
    ),
    Source(
        "wikipedia-dm2c",
        tuple(_dm2c("wikipedia", n, b, 2048) for n, b in
              (("train_file.mat", "963d957432d09e5379a8c80f3d8f6864f579284d"),
               ("test_file.mat", "9a3b572c76700c51bcaca74e95240dc2a83f3fa9"))),
        origin=f"jiangyangby/DM2C @ {_DM2C_COMMIT[:7]}, code/data/wikipedia/",
        verifies=f"{_GIT_BLOB}; sha256 recorded in fetched.json (trusted on first use); structure: X cells of "
                 "(2048-d features, file, modality 0/1), y with one label per row, 10 classes",
        note="train_img.mat / train_txt.mat (the authors' autoencoder pretraining files) are not fetched: the study "
             "pretrains on the two modalities of train_file.mat",
    ),
    Source(
        "nus-wide-10k",
        tuple(_dm2c("nuswide", n, b, 1000) for n, b in
              (("train_file.mat", "5074668eb2ceeaa203ecb51da994ca76ba8c14ce"),
               ("test_file.mat", "f0521221b48b3eb97fbb66d7684e9d13b0b37f22"))),
        origin=f"jiangyangby/DM2C @ {_DM2C_COMMIT[:7]}, code/data/nuswide/",
        verifies=f"{_GIT_BLOB}; sha256 recorded in fetched.json (trusted on first use); structure: X cells of "
                 "(1000-d features, modality 0/1), y with one label per row, 10 classes",
    ),
    Source(
        "mnist",
        (_idx("MNIST", _MNIST_MIRRORS, "train-images-idx3-ubyte.gz", 9_912_422, "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
         _idx("MNIST", _MNIST_MIRRORS, "train-labels-idx1-ubyte.gz", 28_881, "d53e105ee54ea40749a09fcbcd1e9432",
              "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
         _idx("MNIST", _MNIST_MIRRORS, "t10k-images-idx3-ubyte.gz", 1_648_877, "9fb629c4189551a2d022fa330f9573f3",
              "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
         _idx("MNIST", _MNIST_MIRRORS, "t10k-labels-idx1-ubyte.gz", 4_542, "ec29112dd5afa0611ce80d1b7f02629c",
              "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")),
        origin="the mirrors torchvision.datasets.MNIST downloads from, into torchvision's MNIST/raw/ layout",
        verifies="size and the official MD5 of each file (torchvision's list); sha256 too where the shared folder "
                 "records one",
        datasets=("mnist", "mnist-train"),
        note="downloaded by our own fetcher, not torchvision: PyPI's torchvision does not import beside the pinned "
             "CPU torch 2.13.0; the URLs, MD5s and the raw/ layout are torchvision's, so torchvision reads the files",
    ),
    Source(
        "fashion-mnist",
        (_idx("FashionMNIST", _FASHION_MIRRORS, "train-images-idx3-ubyte.gz", 26_421_880,
              "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
         _idx("FashionMNIST", _FASHION_MIRRORS, "train-labels-idx1-ubyte.gz", 29_515,
              "25c81989df183df01b3e8a0aad5dffbe", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
         _idx("FashionMNIST", _FASHION_MIRRORS, "t10k-images-idx3-ubyte.gz", 4_422_102,
              "bef4ecab320f06d8554ea6380940ec79"),
         _idx("FashionMNIST", _FASHION_MIRRORS, "t10k-labels-idx1-ubyte.gz", 5_148, "bb300cfdad3c16e7a12a480ee83cd310",
              "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5")),
        origin="the mirrors torchvision.datasets.FashionMNIST downloads from (then zalandoresearch/fashion-mnist), "
               "into torchvision's FashionMNIST/raw/ layout",
        verifies="size and the official MD5 of each file (torchvision's list); sha256 too where the shared folder "
                 "records one",
        datasets=("fashion-mnist", "fashion-mnist-train"),
        note="downloaded by our own fetcher, not torchvision (see mnist)",
    ),
    NoPublicCopy(
        "flickr",
        "no public copy known: supply multimodal/flickr/flickr.mat in the data directory (MATLAB v5: X1, X2, X3 "
        "with 12,154 rows each, Y with 6 classes)",
    ),
    NoPublicCopy(
        "iapr",
        "no public copy known: supply multimodal/iapr/iapr.mat in the data directory (MATLAB v5: X1, X2 with "
        "7,855 rows each, Y with 6 classes)",
    ),
]}


def source_for(dataset: str) -> Source | NoPublicCopy | None:
    """The source that provides registry entry ``dataset`` (or a source's own name); None if nothing to fetch."""
    if dataset in SOURCES:
        return SOURCES[dataset]
    return next((s for s in SOURCES.values() if dataset in s.provides), None)


def fetch_hint(dataset: str) -> str | None:
    """What makes ``dataset``'s files present: ``make data NAME=<source>``, or "no public copy known: …" with what
    to supply; None when there is no source (the file ships in the shared data folder or with a library)."""
    src = source_for(dataset)
    if src is None:
        return None
    if isinstance(src, NoPublicCopy):
        return src.supply
    return f"make data NAME={src.name}"
