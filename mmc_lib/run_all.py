"""Run every notebook through papermill, in order: ``python -m mmc_lib.run_all --profile smoke``.

Executed copies go to ``build/<profile>/``; figures and results land where the
notebooks write them (``figures/``, ``results/<profile>/``). A failing notebook is
reported and the run continues; the exit code is non-zero if any failed. In the full
profile the outputs of every notebook that succeeded are published back into
``notebooks/`` (see ``mmc_lib.publish``) once all have run.

Grids of runs fan out over local processes by default. To run them on a Dask cluster instead, install the
``dask`` extra and pass ``--grid-backend dask --dask-scheduler tcp://host:8786`` (no address: a local cluster);
the notebooks see it as ``MMC_GRID_BACKEND`` / ``MMC_DASK_SCHEDULER`` (:mod:`mmc_lib.studies.grid`).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from mmc_lib.results import record_wall_time
from mmc_lib.runtime import PROFILES, project_root


def children_cpu_seconds() -> float:
    """CPU seconds (user + system) of every finished child process: the notebook's kernel and the grid workers it
    reaped. On a shared machine the wall time grows with the load; this does not, so both are recorded."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def find_notebooks(folder: Path, only: list[str] | None = None) -> list[Path]:
    """``NN_*.ipynb`` in ``folder`` sorted by number; ``only`` keeps those whose number or stem matches."""
    books = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        books = [p for p in books if any(p.stem == o or p.stem.split("_")[0] == o for o in only)]
        if not books:
            raise SystemExit(f"--only {only}: no notebook matches in {folder}")
    return books


# The kernel's own start-up log (e.g. ipykernel's "Kernel is running over TCP without encryption" warning about a
# loopback socket that only this process talks to) is noise on a user's terminal; errors still reach the caller.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def _quiet_libraries() -> None:
    """Silence papermill's informational logging (e.g. "Black is not installed"); failures still raise."""
    import logging

    for name in ("papermill", "traitlets", "nbclient"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run_notebook(path: Path, output: Path, parameters: dict, timeout: int) -> None:
    import papermill as pm

    output.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(path), str(output), parameters=parameters, kernel_name="python3",
                        cwd=str(path.parent), execution_timeout=timeout, progress_bar=False, log_output=False,
                        extra_arguments=KERNEL_ARGUMENTS)


def _failure(exc: Exception) -> tuple[str, str]:
    """A one-line status and the full error text (papermill's includes the failing cell's traceback)."""
    text = str(exc).strip()
    return f"FAILED: {type(exc).__name__}", text or repr(exc)


def run_one(book: Path, output: Path, params: dict, timeout: int) -> tuple[str, float]:
    """Run a notebook; print one line (name, status, seconds) and, on failure, the full error below it."""
    print(f"{book.name:<32} ", end="", flush=True)
    start = time.perf_counter()
    status, error = "ok", ""
    try:
        run_notebook(book, output, params, timeout)
    except Exception as exc:  # keep going; report at the end
        status, error = _failure(exc)
    seconds = time.perf_counter() - start
    print(f"{status:<28} {seconds:8.1f} s", flush=True)
    if error:
        print(error, flush=True)
    return status, seconds


def print_summary(summary: list[tuple[str, str, float]]) -> None:
    print(f"\n{'notebook':<32} {'status':<28} {'seconds':>10}")
    for name, status, seconds in summary:
        print(f"{name:<32} {status:<28} {seconds:10.1f}")
    print(f"{'total':<32} {'':<28} {sum(s for _, _, s in summary):10.1f}")


def run_provenance(profile: str, device: str) -> dict:
    """Provenance taken when the run starts (the commit the notebooks ran at)."""
    from mmc_lib.results import provenance
    from mmc_lib.runtime import resolve_device

    return provenance(profile=profile, device=resolve_device(device))


def publish_all(root: Path, names: list[str], started: dict) -> None:
    from mmc_lib.publish import StaleExecutionError, publish_outputs

    for name in names:
        try:
            publish_outputs(root / "build" / started["profile"] / name, root / "notebooks" / name, started)
            print(f"published the outputs of {name} into notebooks/")
        except StaleExecutionError as exc:
            print(f"not published: {exc}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="smoke")
    parser.add_argument("--only", nargs="*", help="notebook numbers or stems, e.g. 00 01")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-dir", default=os.environ.get("MMC_DATA_DIR") or None)
    parser.add_argument("--out-dir", default=None, help="root for figures/, results/, cache/ (default: repo)")
    parser.add_argument("--cell-timeout", type=int, default=7200)
    parser.add_argument("--grid-backend", default=None,
                        help="joblib backend for the run grids, e.g. dask (default: local processes)")
    parser.add_argument("--dask-scheduler", default=None, help="with --grid-backend dask: the scheduler's address")
    parser.add_argument("--no-publish", action="store_true",
                        help="full profile: leave notebooks/ untouched (outputs stay in build/full/)")
    args = parser.parse_args(argv)

    root = project_root()
    os.environ.setdefault("MMC_NONINTERACTIVE", "1")  # quiet progress bars in the executed copies
    for var, value in (("MMC_GRID_BACKEND", args.grid_backend), ("MMC_DASK_SCHEDULER", args.dask_scheduler)):
        if value:
            os.environ[var] = value  # the notebook kernels inherit the environment
    out_dir = str(Path(args.out_dir).resolve()) if args.out_dir else str(root)
    params = {"profile": args.profile, "seed": args.seed, "device": args.device,
              "data_dir": str(Path(args.data_dir).resolve()) if args.data_dir else None, "out_dir": out_dir}
    summary = []
    publish = args.profile == "full" and not args.no_publish
    started = run_provenance(args.profile, args.device) if publish else None
    books = find_notebooks(root / "notebooks", args.only)
    _quiet_libraries()
    print(f"{len(books)} notebook(s), profile {args.profile}; executed copies in build/{args.profile}/", flush=True)
    for book in books:
        since, cpu_before = time.time(), children_cpu_seconds()
        status, seconds = run_one(book, root / "build" / args.profile / book.name, params, args.cell_timeout)
        if status == "ok":
            record_wall_time(book.stem, args.profile, seconds, since=since, out_dir=args.out_dir,
                             cpu_seconds=children_cpu_seconds() - cpu_before)
        summary.append((book.name, status, seconds))
    print_summary(summary)
    failed = [s for s in summary if s[1] != "ok"]
    if publish:
        publish_all(root, [name for name, status, _ in summary if status == "ok"], started)
    print(f"\n{len(summary) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
