"""Each notebook's ``# NBVAL_CHECK_OUTPUT`` regression check gives its stored numbers whatever ran before it.

nbval already runs every check after the notebook's earlier cells and compares with the stored output. These tests
add the other sides: the same call alone in a fresh interpreter, again in that interpreter after the global state a
notebook touches (RNG seeds, thread counts, the data cache) has been disturbed, and under a second OpenBLAS kernel.
Together they fail when a number depends on process history or on the BLAS kernel, the leak that once made notebook
03's check pass on one machine and fail on another.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mmc_lib.runtime import project_root
from mmc_lib.studies.checks import _CHECKS

ROOT = project_root()

PROBE = """
import random, sys
import numpy as np, torch
from mmc_lib.studies.checks import regression_check
name = sys.argv[1]
print(regression_check(name))
print("=====")
random.seed(123); np.random.seed(123); torch.manual_seed(123); torch.set_num_threads(2)  # disturb global state
np.random.default_rng(5).normal(size=(500, 500)) @ np.ones(500)  # warm the BLAS with another shape
print(regression_check(name))
"""


def stored_check_output(notebook: str) -> str:
    """The stdout stored under the notebook's regression-check cell."""
    nb = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and src.startswith("# NBVAL_CHECK_OUTPUT") and "regression_check(" in src:
            return "".join("".join(o.get("text", "")) for o in cell["outputs"] if o.get("name") == "stdout")
    raise AssertionError(f"{notebook} has no regression-check cell")


def run_check(notebook: str, **env: str) -> list[str]:
    environ = {**os.environ, "MMC_PROFILE": "smoke", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "PYTHONHASHSEED": "0", **env}
    out = subprocess.run([sys.executable, "-c", PROBE, notebook], cwd=ROOT, env=environ, capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    return [part.strip("\n") for part in out.stdout.split("=====")]


@pytest.mark.parametrize("notebook", sorted(_CHECKS))
def test_check_alone_and_after_disturbance_matches_stored_output(notebook):
    stored = stored_check_output(notebook).strip("\n")
    fresh, disturbed = run_check(notebook)
    assert fresh == stored, f"{notebook}: alone in a fresh process\n{fresh}\n!= stored\n{stored}"
    assert disturbed == fresh, f"{notebook}: the same call after disturbing global state\n{disturbed}\n!= {fresh}"


@pytest.mark.parametrize("notebook", ["00_data_and_baselines", "03_joint_embedding"])
def test_check_does_not_depend_on_the_blas_kernel(notebook):
    """Haswell is OpenBLAS's AVX2 kernel, the default on many CI machines; the check must print the same there."""
    stored = stored_check_output(notebook).strip("\n")
    assert run_check(notebook, OPENBLAS_CORETYPE="Haswell")[0] == stored
