"""The results store: what a notebook measured, with provenance.

One JSON file per notebook and profile, ``results/<profile>/<notebook>.json``::

    {"notebook": "00_data_and_baselines", "profile": "full",
     "provenance": {"git_commit": ..., "git_dirty": ..., "device": ..., "date": ...,
                    "python": ..., "packages": {...}, "mmc_lib": ...,
                    "machine": {"cpu": ..., "cpu_cores": ..., "threads": {...}},
                    "wall_seconds": ...},   # the whole notebook's run, written by run_all when it finishes
     "rows": [{"method": "KM", "dataset": "cub", "metric": "acc", "mean": 0.61,
               "std": 0.02, "n_seeds": 5, "setting": "main", "scale": "fraction"}, ...]}

``setting`` names the experiment a row belongs to (``main``, ``ablation``,
``fusion``, …); clustering metrics are stored as fractions in [0, 1].
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import numpy as np

from mmc_lib.runtime import out_root, project_root

ROW_KEYS = ("method", "dataset", "metric", "mean", "std", "n_seeds")
_OUTPUTS = ("figures", "results", "AUDIT.md")
_PACKAGES = ("torch", "numpy", "scipy", "scikit-learn", "pandas", "matplotlib")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=project_root(), capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def provenance(*, profile: str, device: str) -> dict:
    """Git commit (and whether the tree was dirty), device, date, Python and package versions."""
    import mmc_lib

    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    # What a run rewrites (figures, results, the audit) does not make the tree "dirty"; notebooks are published
    # only after the whole run, so they still count.
    status = _git("status", "--porcelain", "--untracked-files=no", "--", ".", *(f":(exclude){p}" for p in _OUTPUTS))
    return {
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(status) if status is not None else None,
        "device": device,
        "profile": profile,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": packages,
        "mmc_lib": mmc_lib.__version__,
        "machine": machine(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """What a time was measured on: CPU model, the cores this process may use, and the thread counts in force."""
    import torch
    from threadpoolctl import threadpool_info

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    blas = sorted({(p["internal_api"], p["num_threads"]) for p in threadpool_info()})
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # > cores: the time was measured while shared
    return {"cpu": _cpu_model(), "cpu_cores": cores, "load_1min": None if load is None else round(load, 1),
            "threads": {"torch": torch.get_num_threads(), "blas_openmp": [f"{api}:{n}" for api, n in blas],
                        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}}


def record_wall_time(notebook: str, profile: str, seconds: float, *, since: float, out_dir=None,
                     cpu_seconds: float | None = None) -> bool:
    """Write a finished notebook's wall time (and, when measured, the CPU seconds its processes used) into its
    results provenance, if the notebook wrote that file during the run that started at ``since`` (epoch seconds);
    return whether it did."""
    path = results_path(notebook, profile, out_dir)
    if not path.exists() or path.stat().st_mtime < since:
        return False
    payload = json.loads(path.read_text())
    payload["provenance"].update(wall_seconds=round(float(seconds), 1), wall_seconds_source="run_all")
    if cpu_seconds is not None:
        payload["provenance"]["cpu_seconds"] = round(float(cpu_seconds), 1)
    _write(path, payload)
    return True


def mean_std(mean: float, std: float | None = None, *, scale: str = "percent") -> str:
    """The one way a ``mean ± std`` is written: percent points with one decimal for ``percent`` (a fraction
    shown as a percentage, as the papers print), three decimals for ``fraction`` and ``raw``.

    >>> mean_std(0.4567, 0.0123), mean_std(0.2201, 0.004, scale="fraction"), mean_std(0.25, None)
    ('45.7 ± 1.2', '0.220 ± 0.004', '25.0')
    """
    if mean is None or not np.isfinite(mean):
        return "—"
    factor, digits = (100.0, 1) if scale == "percent" else (1.0, 3)
    text = f"{mean * factor:.{digits}f}"
    if std is not None and np.isfinite(std):
        text += f" ± {std * factor:.{digits}f}"
    return text


def results_path(notebook: str, profile: str, out_dir=None) -> Path:
    return out_root(out_dir) / "results" / profile / f"{notebook}.json"


def _clean(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def check_rows(rows: list[dict]) -> list[dict]:
    """Every row has method, dataset, metric, mean, std, n_seeds; numbers become plain Python."""
    out = []
    for i, row in enumerate(rows):
        missing = [k for k in ROW_KEYS if k not in row]
        if missing:
            raise ValueError(f"result row {i} lacks {missing}: {row}")
        clean = {k: _clean(v) for k, v in row.items()}
        clean.setdefault("setting", "main")
        clean.setdefault("scale", "fraction")
        out.append(clean)
    return out


def save_results(notebook: str, rows, *, profile: str, device: str, out_dir=None, extra: dict | None = None) -> Path:
    """Write ``rows`` (list of dicts or a DataFrame) for ``notebook`` with provenance; return the path."""
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict(orient="records")
    payload = {"notebook": notebook, "profile": profile, "provenance": provenance(profile=profile, device=device),
               "rows": check_rows(list(rows))}
    if extra:
        payload["extra"] = extra
    path = results_path(notebook, profile, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, payload)
    return path


def _write(path: Path, payload: dict) -> None:
    path.write_text(json.dumps(payload, indent=1, default=_clean) + "\n")


def load_results(profile: str, *, out_dir=None, notebook: str | None = None) -> list[dict]:
    """Every stored payload for ``profile`` (or just ``notebook``'s), as dicts."""
    folder = out_root(out_dir) / "results" / profile
    pattern = f"{notebook}.json" if notebook else "*.json"
    return [json.loads(p.read_text()) for p in sorted(folder.glob(pattern))]


def results_frame(profile: str, *, out_dir=None):
    """All rows of ``profile`` as one pandas DataFrame with a ``notebook`` column."""
    import pandas as pd

    frames = [pd.DataFrame(p["rows"]).assign(notebook=p["notebook"]) for p in load_results(profile, out_dir=out_dir)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*ROW_KEYS, "notebook"])
