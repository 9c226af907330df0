import subprocess
import sys

import numpy as np
import pytest
import torch

from mmc_lib import runtime
from mmc_lib.run_all import find_notebooks
from conftest import REPO


def test_profiles_and_unknown_profile():
    from mmc_lib.studies.budgets import budget

    for study in ("00_data_and_baselines", "01_ddmc", "02_dm2c", "03_joint_embedding"):
        assert len(budget(study, "smoke").seeds()) < len(budget(study, "full").seeds())
        assert budget(study, "full").seeds(seed=7)[0] == 7  # seeds start at the notebook's seed
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        runtime.check_profile("fast")
    with pytest.raises(ValueError, match="unknown study"):
        budget("42_nothing", "smoke")


def test_device_resolution():
    assert runtime.resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert runtime.resolve_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        runtime.resolve_device("tpu")


def test_seed_everything_is_reproducible():
    runtime.seed_everything(3)
    a = (np.random.rand(), torch.rand(1).item())
    runtime.seed_everything(3)
    assert (np.random.rand(), torch.rand(1).item()) == a


def test_batch_runs_are_not_interactive(monkeypatch):
    monkeypatch.setenv("MMC_NONINTERACTIVE", "1")
    assert not runtime.is_interactive()
    assert runtime.progress(range(3)).disable


def test_run_all_finds_numbered_notebooks_in_order():
    books = find_notebooks(REPO / "notebooks")
    assert books[0].name == "00_data_and_baselines.ipynb"
    assert [b.name for b in books] == sorted(b.name for b in books)
    assert [b.name for b in find_notebooks(REPO / "notebooks", ["00"])] == ["00_data_and_baselines.ipynb"]


def test_run_all_cli_rejects_unknown_profile():
    out = subprocess.run([sys.executable, "-m", "mmc_lib.run_all", "--profile", "huge"], capture_output=True, text=True)
    assert out.returncode != 0 and "invalid choice" in out.stderr


def test_every_notebook_has_a_parameters_cell_with_the_standard_names():
    import nbformat

    for book in find_notebooks(REPO / "notebooks") + sorted((REPO / "notebooks").glob("99_*.ipynb")):
        nb = nbformat.read(book, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{book.name}: expected one cell tagged 'parameters'"
        for name in ("profile", "seed", "device", "data_dir", "out_dir"):
            assert f"{name} =" in params[0].source, f"{book.name}: parameters cell lacks {name}"
        assert "MMC_PROFILE" in params[0].source
        tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
        assert "injected-parameters" not in tags, f"{book.name}: papermill's injected parameters were committed"
        if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            assert "published-outputs" in tags, f"{book.name}: outputs without the banner saying which run made them"


def test_single_threaded_sets_one_thread_and_restores():
    import torch

    from mmc_lib.runtime import single_threaded

    torch.set_num_threads(2)
    with single_threaded():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("estimator", ["mmc_lib.methods.crossmodal.dm2c:DM2C", "mmc_lib.methods.deep_multiview.ddmc:DDMC",
                                       "mmc_lib.methods.deep_multiview.mvc:SiMVC", "mmc_lib.methods.deep_multiview.deep_baselines:IDEC",
                                       "mmc_lib.methods.crossmodal.aligners:ContrastiveAligner",
                                       "mmc_lib.methods.crossmodal.aligners:CCAAligner"])
def test_training_estimators_fit_on_one_thread(estimator):
    """A fixed seed must give the same numbers whatever the machine's core count."""
    import importlib

    module, name = estimator.split(":")
    assert getattr(getattr(importlib.import_module(module), name).fit, "single_threaded", False)
