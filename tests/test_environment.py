"""pyproject.toml is the single source of truth; environment.yml must agree with it."""

import re
import tomllib

import yaml

from conftest import REPO


def _pyproject():
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def test_every_dependency_is_pinned_exactly():
    project = _pyproject()["project"]
    deps = project["dependencies"] + [d for extra in project["optional-dependencies"].values() for d in extra]
    loose = [d for d in deps if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+]*", d)]
    assert not loose, f"unpinned dependencies: {loose}"


def test_torch_pinned_to_2_13_0():
    assert "torch==2.13.0" in _pyproject()["project"]["dependencies"]


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    extras = set(_pyproject()["project"]["optional-dependencies"])
    assert f"-e .[{','.join(sorted(extras, key=['notebooks', 'test', 'dask'].index))}]" in pip_section
    pinned_here = {p.split("==")[0]: p for p in pip_section if "==" in p}
    project = _pyproject()["project"]
    pinned_there = {d.split("==")[0]: d for d in project["dependencies"]
                    + [d for extra in project["optional-dependencies"].values() for d in extra]}
    for name, spec in pinned_here.items():
        assert pinned_there.get(name) == spec, f"environment.yml pins {spec}, pyproject has {pinned_there.get(name)}"


def test_ci_runs_exactly_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in readme and "make reproduce" in readme
    assert [line for line in ci.splitlines() if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))] \
        == ["make test"]
