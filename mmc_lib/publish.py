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
