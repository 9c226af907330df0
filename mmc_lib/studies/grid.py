"""Experiment grids that survive interruption, and the summaries every study shares.

Each run (one dict of parameters) is written to its own JSON file the moment it
finishes; re-running a grid loads finished runs and computes only the rest.

Runs go through joblib, so ``n_jobs`` fans them out over local processes, and the backend is configuration:
inside ``joblib.parallel_config(backend="dask")`` (with a ``dask.distributed`` client connected), or with
``MMC_GRID_BACKEND=dask`` and ``MMC_DASK_SCHEDULER=tcp://host:8786`` in the environment, the same grid runs
on a Dask cluster. Every fit runs on one thread, so results do not depend on where a run lands.

>>> import tempfile
>>> def square(x, seed):
...     return {"y": x * x}
>>> runs = grid(x=[1, 2], seed=[0])
>>> df = run_grid(square, runs, cache_dir=tempfile.mkdtemp())
>>> df["y"].tolist()
[1, 4]
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import itertools
import json
import os
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from mmc_lib.results import mean_std
from mmc_lib.runtime import env_default, out_root, progress

#: loky respawns a worker that hit its idle timeout and resubmits its jobs; the warning it prints then (naming the
#: local virtual environment's path) says nothing about the results and leaked into a published notebook twice.
LOKY_RESPAWN_WARNING = "A worker stopped while some jobs were given to the executor"
warnings.filterwarnings("ignore", message=LOKY_RESPAWN_WARNING, category=UserWarning)


def grid(**axes: Iterable) -> list[dict]:
    """Cartesian product of the keyword axes as a list of dicts (in the given order)."""
    keys = list(axes)
    return [dict(zip(keys, values)) for values in itertools.product(*(list(axes[k]) for k in keys))]


#: parameters that say WHERE a run computes or reads, not WHAT it computes: left out of the cache key, so a cell
#: made on a GPU (``device="cuda"``), from another data folder or cache folder is found by the same run elsewhere
#: (the GPU run's cells are loaded by the CPU re-run of the notebook). Each cell still records them in its params,
#: and the run functions report the device they actually used (a ``device`` column of the tables).
UNKEYED = ("device", "data_dir", "cache_dir")


def run_key(params: dict, salt: str = "") -> str:
    """A stable file name for a run: readable prefix + hash of the sorted JSON parameters (and ``salt``); the
    parameters in :data:`UNKEYED` do not count.

    >>> run_key({"seed": 0, "device": "cuda", "data_dir": "/a"}) == run_key({"seed": 0, "device": "cpu"})
    True
    """
    keyed = {k: v for k, v in params.items() if k not in UNKEYED}
    text = json.dumps(keyed, sort_keys=True, default=str) + salt
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    prefix = "_".join(str(params[k]) for k in sorted(params) if k in ("method", "dataset", "seed"))
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in prefix)[:60]
    return f"{safe}_{digest}" if safe else digest


#: modules whose code cannot change a run's result (presentation, publishing, grading)
_NOT_RESULT_CODE = ("plotting.py", "publish.py", "run_all.py", "audit", "studies/gpu_runner.py", "catalog.py", "site.py",
                    "browser.py")


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A hash of the library code that can change a result: every ``mmc_lib`` module except presentation,
    publishing and grading, as parsed code (docstrings and comments do not count, so prose edits keep the cache)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(_NOT_RESULT_CODE):
            continue
        digest.update(rel.encode())
        digest.update(_code_only(path.read_text()).encode())
    return digest.hexdigest()[:12]


def _code_only(source: str) -> str:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]  # drop the docstring
    return ast.dump(tree)


def _fn_identity(fn: Callable) -> str:
    """Name and (for code outside mmc_lib, e.g. a test's function) source of the run function."""
    name = f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
    if isinstance(fn, functools.partial):
        return _fn_identity(fn.func) + json.dumps([fn.args, fn.keywords], sort_keys=True, default=str)
    if not name.startswith("mmc_lib."):
        try:
            name += inspect.getsource(fn)
        except (OSError, TypeError):
            pass
    return name


def study_cache(notebook: str, profile: str, out_dir=None) -> Path:
    """``<out>/cache/<profile>/<notebook>``: where a study's finished runs are kept."""
    return out_root(out_dir) / "cache" / profile / notebook


def _configured_backend(backend: str | None) -> str | None:
    """``backend``, else ``MMC_GRID_BACKEND``; for ``dask``, connect a client (``MMC_DASK_SCHEDULER`` or a local
    cluster) if none is connected yet. ``None`` leaves the choice to ``joblib.parallel_config``."""
    backend = backend or env_default("MMC_GRID_BACKEND")
    if backend == "dask":
        from distributed import Client, get_client

        try:
            get_client()
        except ValueError:
            Client(env_default("MMC_DASK_SCHEDULER"))  # None: a LocalCluster on this machine
    return backend


def _to_builtin(value):
    if isinstance(value, dict):
        return {k: _to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_builtin(v) for v in value]
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


_WATCHDOG: list[threading.Thread] = []


def _stop_with_parent(parent_pid: int) -> None:
    """In a worker process started by ``parent_pid``: exit at once when that parent dies (a killed run must not
    leave workers computing and writing on their own). Does nothing in-process or on a remote (Dask) worker."""
    if _WATCHDOG or os.getpid() == parent_pid or os.getppid() != parent_pid:
        return

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(70)

    _WATCHDOG.append(threading.Thread(target=watch, name="mmc-parent-watchdog", daemon=True))
    _WATCHDOG[0].start()


def cell_path(fn: Callable[..., dict], params: dict, cache_dir: str | os.PathLike) -> Path:
    """Where :func:`run_grid` keeps (and looks for) the finished run ``fn(**params)`` under ``cache_dir``."""
    return Path(cache_dir) / f"{run_key(params, code_version() + _fn_identity(fn))}.json"


def write_cell(path: Path, params: dict, result: dict) -> dict:
    """Write one finished run atomically (a unique temporary name, then a rename); return its record."""
    if not isinstance(result, dict):
        raise TypeError(f"a run must return a dict of results, got {type(result).__name__}")
    record = {"params": _to_builtin(params), "result": _to_builtin(result)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")  # unique: writers never collide
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)  # atomic: an interrupted write never leaves a half file
    return record


def _run_one(fn: Callable[..., dict], params: dict, path: Path, parent_pid: int) -> dict:
    _stop_with_parent(parent_pid)
    result = fn(**params)
    if not isinstance(result, dict):
        raise TypeError(f"{getattr(fn, '__name__', fn)} must return a dict of results, got {type(result).__name__}")
    return write_cell(path, params, result)


def read_cell(path: Path) -> dict | None:
    """A finished run from the cache, or None (with a warning naming the file) when the file is unreadable."""
    try:
        record = json.loads(path.read_text())
        if not isinstance(record, dict) or not {"params", "result"} <= set(record):
            raise ValueError("not a run record")
        return record
    except (OSError, ValueError) as exc:
        warnings.warn(f"cache cell {path} is unreadable ({type(exc).__name__}: {exc}); recomputing it",
                      RuntimeWarning, stacklevel=3)
        return None


def run_grid(fn: Callable[..., dict], runs: list[dict], *, cache_dir: str | os.PathLike, n_jobs: int = 1,
             desc: str = "runs", backend: str | None = None):
    """Run ``fn(**params)`` for every ``params`` in ``runs``, caching each result on disk.

    A cell's file name hashes the run's parameters, the run function and :func:`code_version`, so changed
    code or settings never reuse an old result; an unreadable cell is recomputed with a warning.
    Returns a tidy DataFrame: one row per run, parameter columns then result columns.
    """
    import pandas as pd
    from joblib import Parallel, delayed

    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    paths = [cell_path(fn, p, cache) for p in runs]
    records: dict[int, dict] = {}
    todo = []
    for i, path in enumerate(paths):
        record = read_cell(path) if path.is_file() else None
        if record is None:
            todo.append(i)
        else:
            records[i] = record
    bar = progress(total=len(runs), initial=len(records), desc=desc)
    if todo:
        jobs = (delayed(_run_one)(fn, runs[i], paths[i], os.getpid()) for i in todo)
        parallel = Parallel(n_jobs=n_jobs, backend=_configured_backend(backend), return_as="generator")
        for i, record in zip(todo, parallel(jobs)):
            records[i] = record
            bar.update(1)
    bar.close()
    rows = [{**records[i]["params"], **records[i]["result"]} for i in range(len(runs))]
    return pd.DataFrame(rows)


def summarize(df, by: list[str], metrics: list[str]):
    """Mean, std (ddof=0: the spread of the seeds we ran) and count of ``metrics`` per ``by`` group."""
    stats = df.groupby(by, sort=False)[metrics].agg(["mean", lambda s: float(np.std(s)), "count"])
    stats.columns = [f"{m}_{'std' if stat == '<lambda_0>' else stat}" for m, stat in stats.columns]
    return stats.reset_index()


def to_result_rows(summary, *, metrics: list[str], setting: str = "main", method_col: str = "method",
                   dataset_col: str = "dataset") -> list[dict]:
    """Long-format rows for :func:`mmc_lib.results.save_results` from a :func:`summarize` table (its ``device``
    column, where it has one, is kept on every row)."""
    rows = []
    for _, r in summary.iterrows():
        device = {"device": r["device"]} if "device" in summary.columns and isinstance(r["device"], str) else {}
        for m in metrics:
            rows.append({"method": r[method_col], "dataset": r[dataset_col], "metric": m,
                         "mean": float(r[f"{m}_mean"]), "std": float(r[f"{m}_std"]),
                         "n_seeds": int(r[f"{m}_count"]), "setting": setting, **device})
    return rows


def mean_std_table(summary, *, index: str, columns: str, metric: str, scale: str = "percent"):
    """A pivot of ``"mean ± std"`` strings (:func:`mmc_lib.results.mean_std`; percent like the papers)."""
    text = summary.assign(cell=[mean_std(m, s, scale=scale)
                                for m, s in zip(summary[f"{metric}_mean"], summary[f"{metric}_std"])])
    return text.pivot(index=index, columns=columns, values="cell")
