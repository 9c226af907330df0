"""Fault injection: kill a grid mid-run and resume, corrupt the cache, change code, race writers, feed bad input.

Each test injects a fault and checks that nothing finished is lost, nothing stale is served, no worker outlives its
parent, and every bad input gives a clear error naming the problem.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch

from conftest import REPO
from mmc_lib.studies import grid as G

# ----------------------------------------------------------------------------- a killed grid


GRID_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from mmc_lib.studies.grid import grid, run_grid

    LOG = Path(sys.argv[1])

    def slow(i: int, seed: int) -> dict:
        with open(LOG / "started.txt", "a") as fh:
            fh.write(f"{os.getpid()} {i}\\n")
        t0 = time.time()
        while time.time() - t0 < 0.6:  # work, and keep writing while working (an orphan would keep going)
            (LOG / f"alive_{os.getpid()}").write_text(str(time.time()))
            time.sleep(0.05)
        return {"y": i * i}

    run_grid(slow, grid(i=list(range(12)), seed=[0]), cache_dir=LOG / "cache", n_jobs=int(sys.argv[2]))
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("n_jobs", [1, 2], ids=["in-process", "two-workers"])
def test_killed_grid_resumes_without_loss_or_orphans(tmp_path, n_jobs):
    script = tmp_path / "grid_script.py"
    script.write_text(GRID_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO), "MMC_NONINTERACTIVE": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(n_jobs)], env=env)
    cache = tmp_path / "cache"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(cache.glob("*.json"))) < 3:  # let a few cells finish
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    # no orphans: every process that ran a cell is gone within a few seconds, and stops writing
    pids = {int(line.split()[0]) for line in (tmp_path / "started.txt").read_text().splitlines()}
    time.sleep(3.0)
    assert [p for p in pids if _alive(p)] == []
    stamps = {p: p.read_text() for p in tmp_path.glob("alive_*")}
    time.sleep(1.0)
    assert {p: p.read_text() for p in tmp_path.glob("alive_*")} == stamps  # nobody writes any more
    # the finished cells, counted once no worker is left (a worker may complete its cell in the watchdog's
    # 0.5 s before it exits: that cell is finished, and the resume must keep it)
    finished = {p.name for p in cache.glob("*.json")}
    assert 3 <= len(finished) < 12, "the kill must land mid-grid"

    # resume (the same command, in-process): only the missing cells run, the finished ones are kept as they were
    before = {name: (cache / name).read_text() for name in finished}
    n_started = len((tmp_path / "started.txt").read_text().splitlines())
    subprocess.run([sys.executable, str(script), str(tmp_path), "1"], env=env, check=True, timeout=300)
    rerun = [int(line.split()[1]) for line in (tmp_path / "started.txt").read_text().splitlines()[n_started:]]
    assert len(rerun) == 12 - len(finished)
    assert len(list(cache.glob("*.json"))) == 12
    assert all((cache / name).read_text() == text for name, text in before.items())  # data lost: 0
    assert sorted(json.loads(p.read_text())["result"]["y"] for p in cache.glob("*.json")) == sorted(
        i * i for i in range(12))
    assert not list(cache.glob("*.tmp"))


# ----------------------------------------------------------------------------- corrupt, stale, racing cells

def _square(x: int, seed: int) -> dict:
    return {"y": x * x}


def test_corrupt_cache_cell_is_recomputed_with_a_warning(tmp_path):
    runs = G.grid(x=[1, 2, 3], seed=[0])
    G.run_grid(_square, runs, cache_dir=tmp_path)
    victim = sorted(tmp_path.glob("*.json"))[0]
    victim.write_text('{"params": {"x": ')  # truncated mid-write by a crash of some other tool
    empty = sorted(tmp_path.glob("*.json"))[1]
    empty.write_text("")
    with pytest.warns(RuntimeWarning, match=victim.name):
        df = G.run_grid(_square, runs, cache_dir=tmp_path)
    assert df["y"].tolist() == [1, 4, 9]
    assert json.loads(victim.read_text())["result"] == {"y": json.loads(victim.read_text())["params"]["x"] ** 2}


def _code_version_of(root: Path) -> str:
    out = subprocess.run([sys.executable, "-c", "from mmc_lib.studies.grid import code_version; print(code_version())"],
                         env={**os.environ, "PYTHONPATH": str(root)}, cwd=root, capture_output=True, text=True,
                         check=True)
    return out.stdout.strip()


def test_changed_code_or_settings_change_the_cache_key_but_prose_does_not(tmp_path):
    lib = tmp_path / "mmc_lib"
    shutil.copytree(REPO / "mmc_lib", lib, ignore=shutil.ignore_patterns("__pycache__"))
    base = _code_version_of(tmp_path)
    ddmc = lib / "methods" / "deep_multiview" / "ddmc.py"
    text = ddmc.read_text()
    ddmc.write_text(text.replace('"""DDMC', '"""DDMC (a docstring edit)', 1) + "\n# a comment\n")
    assert _code_version_of(tmp_path) == base  # prose only: cached runs stay valid
    ddmc.write_text(text.replace("logvar.clamp(-8.0, 8.0)", "logvar.clamp(-9.0, 9.0)") if "logvar.clamp" in text
                    else text + "\nEXTRA = 1\n")
    assert _code_version_of(tmp_path) != base  # a line of a method: recompute
    ddmc.write_text(text)
    budgets = lib / "studies" / "budgets.py"
    budgets.write_text(budgets.read_text().replace("epochs: int = 100", "epochs: int = 99"))
    assert _code_version_of(tmp_path) != base  # a setting outside the run's parameters: recompute


def test_a_changed_run_function_is_not_served_from_the_cache(tmp_path):
    runs = G.grid(x=[3], seed=[0])
    assert G.run_grid(_square, runs, cache_dir=tmp_path)["y"].tolist() == [9]

    def other(x: int, seed: int) -> dict:  # same name and module as _square, other code
        return {"y": -x}

    other.__qualname__ = other.__name__ = "_square"
    assert G.run_grid(other, runs, cache_dir=tmp_path)["y"].tolist() == [-3]


def _write_same_cell(args) -> int:
    path, i = args
    G._run_one(_square, {"x": i % 3, "seed": 0}, Path(path), os.getppid())
    return i


def test_concurrent_writers_of_one_cell_never_fail(tmp_path):
    target = tmp_path / "cell.json"
    with Pool(4) as pool:
        done = pool.map(_write_same_cell, [(str(target), i) for i in range(200)])
    assert len(done) == 200
    assert json.loads(target.read_text())["result"]["y"] in (0, 1, 4)
    assert not list(tmp_path.glob("*.tmp"))


# ----------------------------------------------------------------------------- bad input, clearly refused

def _views(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.random((n, 4)).astype(np.float32), rng.random((n, 3)).astype(np.float32)]


@pytest.mark.parametrize("make", [
    lambda: __import__("mmc_lib.methods", fromlist=["MVCConfig"]).MVCConfig(n_restarts=0),
    lambda: __import__("mmc_lib.methods", fromlist=["MVCConfig"]).MVCConfig(epochs=0),
    lambda: __import__("mmc_lib.methods", fromlist=["MVCConfig"]).MVCConfig(batch_size=1),
    lambda: __import__("mmc_lib.methods", fromlist=["DeepClusterConfig"]).DeepClusterConfig(epochs=0),
    lambda: __import__("mmc_lib.methods", fromlist=["DeepClusterConfig"]).DeepClusterConfig(batch_size=1),
    lambda: __import__("mmc_lib.methods", fromlist=["DM2CConfig"]).DM2CConfig(batch_size=1),
    lambda: __import__("mmc_lib.methods", fromlist=["DM2CConfig"]).DM2CConfig(critic_every=0),
], ids=["mvc-restarts", "mvc-epochs", "mvc-batch", "deep-epochs", "deep-batch", "dm2c-batch", "dm2c-critic"])
def test_bad_configs_are_refused_naming_the_field(make):
    with pytest.raises(ValueError, match=r"\.(n_restarts|epochs|batch_size|critic_every) must be >="):
        make()


def test_as_many_clusters_as_samples_is_refused():
    from mmc_lib.methods import DKM, KM, SiMVC

    views = _views(n=6)
    for est, data in ((KM(6), views), (SiMVC(6), views), (DKM(6), views[0])):
        with pytest.raises(ValueError, match="must be smaller than the number of samples"):
            est.fit(data)


def test_dm2c_needs_two_rows_per_modality():
    from mmc_lib.methods import DM2C

    with pytest.raises(ValueError, match="modality x_b has 1 sample"):
        DM2C(2).fit(np.random.rand(10, 3), np.random.rand(1, 3))


def test_string_views_name_the_view():
    from mmc_lib.methods import AmKM

    views = _views()
    views[1] = np.array([["a"] * 3] * 40)
    with pytest.raises(ValueError, match=r"views\[1\] is not numeric"):
        AmKM(2).fit(views)


def test_transform_before_fit_is_a_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    from mmc_lib.methods import DCN, DM2C, CCAAligner, ContrastiveAligner

    x = np.random.rand(5, 3)
    for call in (lambda: CCAAligner(2).transform(x, x), lambda: ContrastiveAligner().transform_a(x),
                 lambda: DM2C(2).predict(x, x), lambda: DCN(2).predict(x)):
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            call()


def test_fitting_never_moves_the_callers_random_state():
    from mmc_lib.methods import DCN, DDMC, DM2C, ContrastiveAligner, ContrastiveConfig, DeepClusterConfig, MVCConfig

    views = _views(n=64)
    fits = [lambda: DDMC(2, dominant=0, config=MVCConfig(hidden=(8,), latent_dim=4, epochs=1, n_restarts=1,
                                                         batch_size=32)).fit(views),
            lambda: DCN(2, config=DeepClusterConfig(hidden=(8,), pretrain_epochs=1, epochs=1, n_init=1)).fit(views[0]),
            lambda: DM2C(2, config=__import__("mmc_lib.methods", fromlist=["DM2CConfig"]).DM2CConfig(
                hidden=(8,), latent_dim=4, gen_hidden=(4,), pretrain_epochs=1, epochs=1, kmeans_n_init=1)).fit(*views),
            lambda: ContrastiveAligner(ContrastiveConfig(embed_dim=4, hidden=(8,), epochs=1, batch_size=32)).fit(*views)]
    for fit in fits:
        torch.manual_seed(123)
        fit()
        after = torch.rand(1).item()
        torch.manual_seed(123)
        assert after == torch.rand(1).item()


def test_a_wrong_file_is_refused_against_the_registry(tmp_path):
    from mmc_lib import data

    target = tmp_path / "multimodal" / "flickr" / "flickr.mat"
    target.parent.mkdir(parents=True)
    rng = np.random.default_rng(0)
    scipy.io.savemat(target, {"X1": rng.random((30, 100)), "X2": rng.random((30, 100)), "X3": rng.random((30, 100)),
                              "Y": np.arange(30) % 6})
    with pytest.warns(UserWarning, match="no sha256 is registered"), \
            pytest.raises(ValueError, match=r"flickr.mat does not hold the registered 'flickr'.*12154 samples.*30"):
        data.load("flickr", data_dir=tmp_path)
