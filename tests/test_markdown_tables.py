"""Every markdown table a reader sees renders as a table: each row has as many cells as its header.

An unescaped ``|`` inside a cell (``q(z|x)`` in inline code, say) splits the cell and silently shifts the rest of the
row — the failure the issue found in notebook 01's design-choice table.
"""

import json
import re

import pytest

from conftest import REPO

_PIPE = re.compile(r"(?<!\\)\|")


def table_errors(markdown: str) -> list[str]:
    errors, table = [], []
    for line in markdown.splitlines() + [""]:
        if line.strip().startswith("|"):
            table.append(line.strip())
            continue
        if len(table) >= 2:
            width = len(_PIPE.split(table[0].strip("|")))
            for row in table[1:]:
                n = len(_PIPE.split(row.strip("|")))
                if n != width:
                    errors.append(f"{n} cells instead of {width}: {row[:90]}")
        table = []
    return errors


def test_the_check_catches_a_pipe_in_a_cell():
    bad = "| term | meaning |\n|---|---|\n| L1 | `q(z|x)` fitted |\n| L2 | `q(z\\|x)` escaped |"
    assert table_errors(bad) == ["3 cells instead of 2: | L1 | `q(z|x)` fitted |"]


@pytest.mark.parametrize("notebook", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_notebook_markdown_tables_are_well_formed(notebook):
    cells = json.loads((REPO / "notebooks" / notebook).read_text())["cells"]
    errors = [e for c in cells if c["cell_type"] == "markdown" for e in table_errors("".join(c["source"]))]
    assert errors == []


@pytest.mark.parametrize("doc", ["README.md", "AUDIT.md", "notebooks/README.md", "claims/README.md",
                                 "benchmarks/README.md"])
def test_document_tables_are_well_formed(doc):
    assert table_errors((REPO / doc).read_text()) == []
