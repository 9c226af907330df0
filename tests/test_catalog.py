"""One list of notebooks (mmc_lib.catalog) feeds the README tables, the site's contents and its page titles."""

import json
import re

import pytest

from conftest import REPO
from mmc_lib import catalog
from mmc_lib.catalog import NOTEBOOKS, markdown_table, notebook_columns, render, update_readmes


def test_every_notebook_file_is_in_the_catalog():
    files = {p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert files - {nb.file for nb in NOTEBOOKS} == set(), "add the notebook to mmc_lib/catalog.py NOTEBOOKS"


def test_every_catalog_entry_exists_unless_in_preparation():
    missing = [nb.file for nb in NOTEBOOKS
               if nb.number not in catalog.IN_PREPARATION and not (REPO / "notebooks" / nb.file).is_file()]
    assert missing == []


def test_reading_order_and_unique_numbers():
    numbers = [nb.number for nb in NOTEBOOKS]
    assert numbers == ["00", "03", "01", "02", "04", "05", "06", "99"]
    assert all(nb.file.startswith(nb.number + "_") for nb in NOTEBOOKS)
    assert all(nb.summary and nb.paper and nb.title for nb in NOTEBOOKS)


@pytest.mark.parametrize("nb", [nb for nb in NOTEBOOKS if (REPO / "notebooks" / nb.file).is_file()],
                         ids=lambda nb: nb.stem)
def test_catalog_title_is_the_notebooks_heading(nb):
    first = json.loads((REPO / "notebooks" / nb.file).read_text())["cells"][0]
    heading = "".join(first["source"]).splitlines()[0]
    assert re.fullmatch(r"# \d\d — .+", heading), f"first line must read '# NN — Title', got {heading!r}"
    assert heading == f"# {nb.heading}"


def test_readme_tables_are_generated_from_the_catalog():
    assert update_readmes(REPO, check=True) == [], "run `python -m mmc_lib.catalog` and commit the READMEs"


def test_the_drift_check_can_fail(tmp_path):
    for name in catalog.READMES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((REPO / name).read_text())
    assert update_readmes(tmp_path, check=True) == []
    text = (tmp_path / "README.md").read_text()
    (tmp_path / "README.md").write_text(text.replace("[`04_dmvae`]", "[`04_old`]", 1))
    assert update_readmes(tmp_path, check=True) == ["README.md"]
    assert update_readmes(tmp_path) == ["README.md"] and update_readmes(tmp_path, check=True) == []


def test_table_lists_every_notebook_and_takes_a_new_column():
    columns = notebook_columns("notebooks/") + [catalog.Column("minutes", lambda nb: "?")]
    table = markdown_table(NOTEBOOKS, columns)
    assert table.splitlines()[0] == "| order | notebook | what it teaches and reproduces | paper | minutes |"
    assert len(table.splitlines()) == 2 + len(NOTEBOOKS)
    for nb in NOTEBOOKS:
        assert f"(notebooks/{nb.file})" in table


def test_render_needs_the_markers():
    with pytest.raises(ValueError, match="markers"):
        render("no markers here", "| a |", name="X.md")


def test_by_stem_names_the_known_stems():
    assert catalog.by_stem("01_ddmc").number == "01"
    with pytest.raises(ValueError, match="01_ddmc"):
        catalog.by_stem("07_nothing")
