"""Copy the outputs of a full-profile run back into ``notebooks/`` so readers see them without running anything.

papermill writes an executed copy to ``build/full/NN_name.ipynb`` with an extra ``injected-parameters`` cell.
``publish_outputs`` drops that cell, checks that every code cell's source still equals the notebook in
``notebooks/`` (so stale outputs never land beside newer code; prose written from the run's numbers may change),
copies outputs and execution counts across, and puts a banner under the title saying which run produced them.
Running the published notebook as it stands (nbval, Jupyter) still uses the smoke profile: its parameters cell
reads ``MMC_PROFILE``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

BANNER_TAG = "published-outputs"
INJECTED_TAG = "injected-parameters"


class StaleExecutionError(RuntimeError):
    """The executed copy does not match the notebook's current source."""


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _banner(provenance: dict) -> nbformat.NotebookNode:
    text = ("> **Outputs below come from the `{profile}` profile** (`make reproduce PROFILE={profile}`), run on "
            "{date} at commit `{commit}` on `{device}`. Run as it stands, this notebook uses the profile in "
            "`MMC_PROFILE` (default `smoke`), so your numbers differ until you run the full profile too."
            ).format(profile=provenance.get("profile", "?"), date=provenance.get("date", "?"),
                     commit=(provenance.get("git_commit") or "?")[:10], device=provenance.get("device", "?"))
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata["tags"] = [BANNER_TAG]
    return cell


def strip_outputs(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove outputs, execution counts and the publication banner (the notebook as committed for smoke)."""
    nb.cells = [c for c in nb.cells if BANNER_TAG not in _tags(c)]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _code_of(cells) -> list[tuple[str, str]]:
    """Cell types with the code cells' sources: prose may be edited after a run, code may not."""
    return [(c.cell_type, c.source if c.cell_type == "code" else "") for c in cells]


def publish_outputs(executed: Path, target: Path, provenance: dict) -> None:
    """Write ``executed``'s outputs into ``target`` (same cells, minus papermill's injected parameters)."""
    run = nbformat.read(executed, as_version=4)
    book = strip_outputs(nbformat.read(target, as_version=4))
    run_cells = [c for c in run.cells if INJECTED_TAG not in _tags(c) and BANNER_TAG not in _tags(c)]
    if _code_of(run_cells) != _code_of(book.cells):
        raise StaleExecutionError(f"{target.name} changed since {executed} was executed; re-run it before publishing")
    for ran, cell in zip(run_cells, book.cells):
        if cell.cell_type == "code":
            cell.outputs = ran.outputs
            cell.execution_count = ran.execution_count
    book.cells.insert(1 if book.cells and book.cells[0].cell_type == "markdown" else 0, _banner(provenance))
    nbformat.write(book, target)


# ----------------------------------------------------------------- re-running only the verdict cells

VERDICTS_TAG = "verdicts"
#: cells that ``rerun_verdicts`` re-executes: the verdict cells, and cells that quote other notebooks' results
RERUN_TAGS = (VERDICTS_TAG, "from-results")
#: per notebook, the study module a re-run cell may call ``study``
_STUDY = {"00_data_and_baselines": "data_and_baselines", "04_dmvae": "dmvae", "05_treediffusion": "treediffusion"}


def _prelude(notebook: str, profile: str, out_dir) -> str:
    from mmc_lib.runtime import project_root

    out_dir = out_dir or project_root()  # the committed results, whatever MMC_OUT_DIR says
    """What a verdict cell needs, from the committed results instead of a full run: the notebook's result rows
    (under every name the notebooks use for them), the profile and the imports."""
    study = f"from mmc_lib.studies import {_STUDY[notebook]} as study" if notebook in _STUDY else ""
    return "\n".join([
        "import json",
        "import matplotlib.pyplot as plt",
        "import numpy as np",
        "import pandas as pd",
        "from mmc_lib.plotting import save_figure, use_style",
        "use_style()",
        study,
        "from IPython.display import Markdown, display",
        "from mmc_lib.audit import display_table, grade_notebook, own_paper_table, show_verdicts",
        "from mmc_lib.results import results_path",
        "from mmc_lib.studies import ddmc, dm2c as S",
        f"profile, data_dir, out_dir, NOTEBOOK = {profile!r}, None, {str(out_dir)!r}, "
        f"{notebook!r}",
        "rows = json.loads(results_path(NOTEBOOK, profile, out_dir).read_text())['rows']",
        "ALL_ROWS = result_rows = rows",
        "code_rows = [r for r in rows if r['method'] == \"DM2C (authors' code)\"]",
    ])


def rerun_verdicts(target: Path, *, profile: str = "full", out_dir=None, timeout: int = 600) -> int:
    """Re-execute only the cells tagged ``verdicts`` (or ``from-results``: cells quoting stored results, e.g. another
    notebook's) of ``target`` on the committed results of ``profile`` (a fresh kernel; nothing is trained) and write
    their outputs back, so every verdict a notebook shows is the audit's grader on the same results as AUDIT.md.
    Such a cell may use only the names the prelude defines (result rows as ``rows`` / ``ALL_ROWS`` /
    ``result_rows``, ``profile``, ``out_dir``, ``NOTEBOOK``, ``study``, pandas, numpy, pyplot, the audit).
    Returns the number of cells re-run."""
    from nbclient import NotebookClient

    from mmc_lib.runtime import project_root

    target = Path(target)
    book = nbformat.read(target, as_version=4)
    tagged = [c for c in book.cells if c.cell_type == "code" and set(RERUN_TAGS) & set(_tags(c))]
    if not tagged:
        raise ValueError(f"{target.name} has no cell tagged {' or '.join(RERUN_TAGS)}")
    run = nbformat.v4.new_notebook()
    run.metadata = book.metadata
    run.cells = [nbformat.v4.new_code_cell(_prelude(target.stem, profile, out_dir))]
    run.cells += [nbformat.v4.new_code_cell(c.source) for c in tagged]
    NotebookClient(run, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(project_root())}}).execute()
    for ran, cell in zip(run.cells[1:], tagged):
        cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
    nbformat.write(book, target)
    return len(tagged)


def _main(argv=None) -> None:
    import argparse

    from mmc_lib.runtime import project_root

    parser = argparse.ArgumentParser(prog="python -m mmc_lib.publish",
                                     description="Re-run only the verdict cells of notebooks on committed results.")
    parser.add_argument("notebooks", nargs="+", help="notebook stems or paths, e.g. 04_dmvae")
    parser.add_argument("--profile", default="full")
    args = parser.parse_args(argv)
    for name in args.notebooks:
        path = Path(name)
        if not path.suffix:
            path = project_root() / "notebooks" / f"{name}.ipynb"
        n = rerun_verdicts(path, profile=args.profile)
        print(f"{path.name}: {n} verdict cell(s) re-run on results/{args.profile}/")


if __name__ == "__main__":
    _main()
