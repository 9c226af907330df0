"""Publishing a full-profile run's outputs back into notebooks/."""

import copy

import nbformat
import pytest

from mmc_lib.publish import BANNER_TAG, INJECTED_TAG, StaleExecutionError, publish_outputs, strip_outputs

PROV = {"profile": "full", "date": "2026-11-25", "git_commit": "0123456789abcdef", "device": "cpu"}


def _notebook():
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('profile = "smoke"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# 07 — title"), params, nbformat.v4.new_code_cell("print(profile)")]
    return nb


def _executed(nb):
    run = copy.deepcopy(nb)
    injected = nbformat.v4.new_code_cell('profile = "full"')
    injected.metadata["tags"] = [INJECTED_TAG]
    run.cells.insert(2, injected)
    run.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="full\n")]
    run.cells[3].execution_count = 3
    return run


@pytest.fixture()
def paths(tmp_path):
    nb = _notebook()
    target, executed = tmp_path / "07_demo.ipynb", tmp_path / "executed.ipynb"
    nbformat.write(nb, target)
    nbformat.write(_executed(nb), executed)
    return target, executed


def test_outputs_copied_injected_cell_dropped_banner_once(paths):
    target, executed = paths
    publish_outputs(executed, target, PROV)
    publish_outputs(executed, target, PROV)  # re-publishing replaces the banner, never stacks it
    book = nbformat.read(target, as_version=4)
    assert [c.source for c in book.cells if INJECTED_TAG in c.metadata.get("tags", [])] == []
    banners = [c for c in book.cells if BANNER_TAG in c.metadata.get("tags", [])]
    assert len(banners) == 1 and book.cells[1] is banners[0]
    assert "`full` profile" in banners[0].source and "0123456789" in banners[0].source
    assert book.cells[-1].outputs[0]["text"] == "full\n"
    assert book.cells[2].source == 'profile = "smoke"'  # the parameters cell keeps its smoke default


def test_stale_execution_is_refused(paths):
    target, executed = paths
    nb = nbformat.read(target, as_version=4)
    nb.cells[-1].source = "print(profile, 1)"
    nbformat.write(nb, target)
    with pytest.raises(StaleExecutionError, match="07_demo.ipynb changed"):
        publish_outputs(executed, target, PROV)


def test_strip_outputs_gives_back_the_source_notebook(paths):
    target, executed = paths
    before = nbformat.read(target, as_version=4)
    publish_outputs(executed, target, PROV)
    after = strip_outputs(nbformat.read(target, as_version=4))
    assert [c.source for c in after.cells] == [c.source for c in before.cells]
    assert all(c.outputs == [] for c in after.cells if c.cell_type == "code")


def test_prose_may_change_after_the_run(paths):
    target, executed = paths
    nb = nbformat.read(target, as_version=4)
    nb.cells[0].source = "# 07 — title, with findings written from the run"
    nbformat.write(nb, target)
    publish_outputs(executed, target, PROV)
    book = nbformat.read(target, as_version=4)
    assert book.cells[0].source.endswith("from the run") and book.cells[-1].outputs
