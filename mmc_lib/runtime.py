"""Run-time settings shared by every notebook: device, seeds, profile names, paths, threads, progress bars.

A notebook's ``parameters`` cell reads its defaults from the environment
(``MMC_PROFILE``, ``MMC_SEED``, ``MMC_DEVICE``, ``MMC_DATA_DIR``, ``MMC_OUT_DIR``)
so that nbval (which runs a notebook as it stands) and papermill (which injects
values) go through the same code path.
"""

from __future__ import annotations

import functools
import os
import random
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

PROFILES = ("smoke", "full")


def check_profile(name: str) -> str:
    """Return ``name`` if it is a known profile; fail loudly otherwise. What a profile runs is in
    :mod:`mmc_lib.studies.budgets`."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; known: {sorted(PROFILES)}")
    return name


def env_default(name: str, default: str | None = None) -> str | None:
    """Value of environment variable ``name`` (empty counts as unset)."""
    value = os.environ.get(name, "")
    return value if value else default


def project_root() -> Path:
    """The repository root (the folder holding ``pyproject.toml``).

    Found from the package location (editable install) or else the working
    directory and its parents.
    """
    candidates = [Path(__file__).resolve().parents[1], *[Path.cwd(), *Path.cwd().parents]]
    for folder in candidates:
        if (folder / "pyproject.toml").is_file() and (folder / "mmc_lib").is_dir():
            return folder
    return Path.cwd()


def out_root(out_dir: str | os.PathLike | None = None) -> Path:
    """Where ``figures/``, ``results/`` and ``cache/`` go: argument, ``MMC_OUT_DIR``, or the repo root."""
    chosen = out_dir or env_default("MMC_OUT_DIR")
    return Path(chosen).expanduser().resolve() if chosen else project_root()


def resolve_device(device: str = "auto") -> str:
    """``"auto"`` → ``"cuda"`` when a GPU is visible, else ``"cpu"``; other values pass through after a check."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available; use 'auto' or 'cpu'")
    if not (device == "cpu" or device.startswith("cuda") or device == "mps"):
        raise ValueError(f"unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) so a fixed seed gives fixed numbers on CPU."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


@contextmanager
def single_threaded():
    """Run the block on one CPU thread (torch intra-op, BLAS and OpenMP), restoring the counts afterwards.

    A multi-threaded reduction sums in an order that depends on the thread count, and training amplifies the last
    bits: DM2C on Wikipedia gave 34.4 % ACC on one thread and 31.9 % on two, same seed. One thread makes a fixed seed
    give the same numbers on any CPU machine; parallelism comes from running several fits at once
    (``run_grid(n_jobs=...)``).
    """
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


def one_thread(fit):
    """Decorator: the estimator's ``fit`` runs under :func:`single_threaded`."""

    @functools.wraps(fit)
    def wrapper(*args, **kwargs):
        with single_threaded():
            return fit(*args, **kwargs)

    wrapper.single_threaded = True
    return wrapper


def is_interactive() -> bool:
    """True when a person is watching: a Jupyter kernel or a terminal, and no batch run flagged.

    Batch runs (CI, ``make test``, ``python -m mmc_lib.run_all``) set ``CI``,
    ``MMC_NONINTERACTIVE`` or ``TQDM_DISABLE``, which silences progress bars so
    executed notebooks stay clean and comparable.
    """
    if any(env_default(flag) for flag in ("CI", "MMC_NONINTERACTIVE", "TQDM_DISABLE")):
        return False
    return _in_notebook() or sys.stderr.isatty()


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with the notebooks extra
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


def progress(iterable=None, **kwargs):
    """A ``tqdm.auto`` bar that is silent unless someone is watching (keeps nbval/papermill logs stable).

    A silent bar is a plain ``tqdm`` (the notebook widget would warn "IProgress not found" into the executed
    notebook's stderr in batch runs, where no widget is wanted anyway).
    """
    kwargs.setdefault("disable", not is_interactive())
    if kwargs["disable"]:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(iterable, **kwargs)


def describe_runtime(profile: str, device: str) -> str:
    """One line for the top of a notebook: library version, device, profile."""
    import torch

    import mmc_lib

    return f"mmc_lib {mmc_lib.__version__} | torch {torch.__version__} | device {device} | profile {profile}"
