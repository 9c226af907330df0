"""The project's layout rules, checked on the source: imports go downwards only, and no notebook types a paper's number.

Layers (lowest first): runtime/validation/metrics/results → data, nn, losses → methods → audit → studies → notebooks.
"""

import ast
import json
import math

import pytest

from conftest import REPO
from mmc_lib.audit.ledger import load_ledgers

PACKAGE = REPO / "mmc_lib"
#: package -> the mmc_lib packages it must never import
FORBIDDEN = {
    "data": ("methods", "studies", "audit", "nn", "losses"),
    "nn": ("methods", "studies", "audit", "data"),
    "losses": ("methods", "studies", "audit", "data"),
    "methods": ("studies", "audit"),
    "audit": ("studies", "methods", "nn", "losses"),
}


def _imports(path) -> list[str]:
    """Every module a file imports, anywhere in it (function-level imports included)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _violations(package: str) -> list[str]:
    bad = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for name in _imports(path):
            for other in FORBIDDEN[package]:
                if name == f"mmc_lib.{other}" or name.startswith(f"mmc_lib.{other}."):
                    bad.append(f"{path.relative_to(REPO)} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_go_downwards_only(package):
    assert (PACKAGE / package).is_dir()
    assert _violations(package) == []


def test_the_import_check_can_fail(tmp_path, monkeypatch):
    fake = tmp_path / "mmc_lib" / "methods"
    fake.mkdir(parents=True)
    (fake / "leaky.py").write_text("def f():\n    from mmc_lib.studies.grid import run_grid\n")
    monkeypatch.setattr("test_layout.PACKAGE", tmp_path / "mmc_lib")
    monkeypatch.setattr("test_layout.REPO", tmp_path)
    assert _violations("methods") == ["mmc_lib/methods/leaky.py imports mmc_lib.studies.grid"]



# ------------------------------------------------------------------ estimator families

#: subpackages of mmc_lib.methods, one per family of estimators
FAMILIES = ("classical", "graph", "deep_multiview", "crossmodal", "generative")
#: what every family may import from mmc_lib.methods besides itself
SHARED = ("mmc_lib.methods.shared", "mmc_lib.methods.base")


def _family_violations(methods_dir) -> list[str]:
    """Imports from a family into another family (or into the package that re-exports them all), and imports of any
    family from the shared modules."""
    bad = []
    for path in sorted(methods_dir.rglob("*.py")):
        rel = path.relative_to(methods_dir).parts
        own = rel[0] if len(rel) > 1 else None
        if own is None and path.stem not in ("shared", "base"):
            continue  # the package's __init__ re-exports every family
        for name in _imports(path):
            if not name.startswith("mmc_lib.methods") or name.startswith(SHARED):
                continue
            parts = name.split(".")
            target = parts[2] if len(parts) > 2 else None
            if target != own or own is None:
                bad.append(f"{path.relative_to(methods_dir.parent.parent)} imports {name}")
    return bad


def test_families_are_folders_with_a_docstring():
    for family in FAMILIES:
        init = PACKAGE / "methods" / family / "__init__.py"
        assert init.is_file(), f"mmc_lib/methods/{family}/ is not a package"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 30, f"mmc_lib/methods/{family}/__init__.py needs a paragraph saying what the family shares"
    assert not list((PACKAGE / "methods").glob("*.py")) or {p.stem for p in (PACKAGE / "methods").glob("*.py")} <= {
        "__init__", "shared", "base"}, "every estimator module lives in a family folder"


def test_families_never_import_each_other():
    assert _family_violations(PACKAGE / "methods") == []


def test_the_family_check_can_fail(tmp_path):
    methods = tmp_path / "mmc_lib" / "methods"
    for family in ("graph", "classical"):
        (methods / family).mkdir(parents=True)
    (methods / "graph" / "ok.py").write_text("from mmc_lib.methods.shared import gaussian_affinity\n"
                                             "from mmc_lib.methods.graph.other import f\n")
    (methods / "graph" / "leaky.py").write_text("def f():\n    from mmc_lib.methods.classical.baselines import KM\n")
    (methods / "classical" / "up.py").write_text("from mmc_lib.methods import KM\n")
    (methods / "shared.py").write_text("from mmc_lib.methods.graph import SwMC\n")
    assert _family_violations(methods) == [
        "mmc_lib/methods/classical/up.py imports mmc_lib.methods",
        "mmc_lib/methods/graph/leaky.py imports mmc_lib.methods.classical.baselines",
        "mmc_lib/methods/shared.py imports mmc_lib.methods.graph"]


def test_flat_module_paths_import_the_family_modules():
    import importlib

    from mmc_lib.methods import FLAT_PATHS

    for old, new in FLAT_PATHS.items():
        assert importlib.import_module(f"mmc_lib.methods.{old}") is importlib.import_module(f"mmc_lib.methods.{new}")


def test_every_family_estimator_is_exported_under_its_table_name():
    """``from mmc_lib.methods import X`` works for every name a family exports (D-MVAE, TreeVAE and TreeDiffusion
    included), and gives the family's object."""
    import importlib

    import mmc_lib.methods as methods

    for family in FAMILIES:
        module = importlib.import_module(f"mmc_lib.methods.{family}")
        for name in module.__all__:
            assert name in methods.__all__ and getattr(methods, name) is getattr(module, name), name
    assert {"DMVAE", "TreeVAE", "TreeDiffusion", "VAEKMeans"} <= set(methods.__all__)


def _python_source(path) -> str:
    """A .py file's text, or a notebook's code cells joined (IPython magics and shell lines dropped)."""
    if path.suffix != ".ipynb":
        return path.read_text()
    cells = [c["source"] for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    cells = ["".join(c) if isinstance(c, list) else c for c in cells]
    return "\n".join(line for c in cells for line in c.splitlines() if not line.lstrip().startswith(("%", "!")))


def _flat_imports(path, flat: set[str]) -> list[str]:
    """Imports of a flat-layout module path (``mmc_lib.methods.treevae``, ``from mmc_lib.methods import dmvae``)."""
    found = []
    for node in ast.walk(ast.parse(_python_source(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        found += [name for name in names if name.startswith("mmc_lib.methods.") and name.split(".")[2] in flat]
    return found


def test_the_project_imports_the_family_paths():
    """The flat paths are kept for code outside the project; the library, its tests, benchmarks and notebooks import
    the family modules, so :data:`FLAT_PATHS` can go without breaking them."""
    from mmc_lib.methods import FLAT_PATHS

    flat = set(FLAT_PATHS)
    files = [p for folder in ("mmc_lib", "tests", "benchmarks") for p in sorted((REPO / folder).rglob("*.py"))]
    files += sorted((REPO / "notebooks").glob("*.ipynb"))
    used = {f"{p.relative_to(REPO)}: {name}" for p in files for name in _flat_imports(p, flat)}
    assert not used, sorted(used)


def test_the_flat_path_check_can_fail(tmp_path):
    src = tmp_path / "x.py"
    src.write_text("from mmc_lib.methods import dmvae as d\nimport mmc_lib.methods.treevae\n"
                   "from mmc_lib.methods.generative.treevae import TreeVAE\nfrom mmc_lib.methods import TreeVAE\n")
    assert _flat_imports(src, {"dmvae", "treevae"}) == ["mmc_lib.methods.dmvae", "mmc_lib.methods.treevae"]


# ------------------------------------------------------------------ one training loop

#: files outside mmc_lib/nn that may back-propagate themselves, and why
OWN_LOOPS = {
    "mmc_lib/methods/crossmodal/dm2c.py": "DM2C's alternating generator/critic loop (critic steps between generator "
                                          "steps, weight clipping): the one justified exception",
}


def _backward_calls(root) -> list[str]:
    """``file:line`` of every ``.backward(`` call in ``root/mmc_lib`` outside ``mmc_lib/nn`` and :data:`OWN_LOOPS`."""
    found = []
    for path in sorted((root / "mmc_lib").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("mmc_lib/nn/") or rel in OWN_LOOPS:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "backward":
                found.append(f"{rel}:{node.lineno}")
    return found


def test_every_model_trains_on_the_shared_loop():
    assert _backward_calls(REPO) == [], "train on mmc_lib.nn.trainer (train, train_stages, step) instead"
    for rel in OWN_LOOPS:
        assert (REPO / rel).is_file(), f"{rel} is gone: drop it from OWN_LOOPS"


def test_the_loop_check_can_fail(tmp_path):
    for rel, text in {"mmc_lib/nn/trainer.py": "loss.backward()\n",
                      "mmc_lib/methods/generative/own.py": "def fit(loss):\n    loss.backward()\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert _backward_calls(tmp_path) == ["mmc_lib/methods/generative/own.py:2"]

# ------------------------------------------------------------------ no paper number typed into a notebook

def _significant_digits(x: float) -> int:
    text = f"{abs(x):.10g}".replace(".", "").lstrip("0")
    return len(text.rstrip("0")) if "." in f"{abs(x):.10g}" else len(text.rstrip("0")) or 1


def _claimed_values() -> set[float]:
    """Every number the ledger claims, on its own scale and converted (percent ↔ fraction)."""
    values = set()
    for ledger in load_ledgers().values():
        for c in ledger.claims:
            for v in (c.value if isinstance(c.value, list) else [c.value]):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    values |= {round(float(v), 6), round(float(v) / 100, 6), round(float(v) * 100, 6)}
    return values


#: keyword arguments that set a figure's geometry or style: their numbers are layout, never results
_LAYOUT_KEYWORDS = {"figsize", "fontsize", "alpha", "width", "height", "lw", "linewidth", "s", "markersize", "capsize",
                    "pad", "bbox_to_anchor", "dpi", "rotation", "labelspacing", "columnspacing", "wspace", "hspace",
                    "markerscale", "zorder", "shrink", "aspect", "ms", "size"}


#: drawing calls whose positional numbers are coordinates (a framework diagram's boxes and arrows)
_DRAWING = {"text", "annotate", "arrow", "Rectangle", "FancyBboxPatch", "FancyArrowPatch", "Circle", "set_xlim",
            "set_ylim", "figure", "subplots"}


def _call_name(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


def _literals(source: str) -> list[float]:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]  # IPython magics
    tree = ast.parse("\n".join(lines))
    layout = {id(n) for kw in ast.walk(tree) if isinstance(kw, ast.keyword) and kw.arg in _LAYOUT_KEYWORDS
              for n in ast.walk(kw.value)}
    layout |= {id(n) for call in ast.walk(tree) if isinstance(call, ast.Call) and _call_name(call) in _DRAWING
               for n in ast.walk(call)}
    return [float(n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)
            and id(n) not in layout]


def paper_numbers_in(source: str, claimed: set[float]) -> list[float]:
    """Literals with 3+ significant digits that equal a claimed value (small round numbers such as 0.1 or 100 are
    settings, not claims)."""
    return [v for v in _literals(source)
            if math.isfinite(v) and _significant_digits(v) >= 3 and round(v, 6) in claimed]


def test_detector_flags_a_typed_paper_number():
    claimed = _claimed_values()
    assert paper_numbers_in("published = {'map_img2txt': 0.249}\nx = 0.1 * 100", claimed) == [0.249]
    assert paper_numbers_in("fig = plt.figure(figsize=(12, 3.75))", claimed) == []  # layout, not a result
    assert paper_numbers_in("ax.text(3.0, 3.75, 'L1')", claimed) == []  # a diagram's coordinates


@pytest.mark.parametrize("notebook", sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb")))
def test_no_notebook_types_a_paper_number(notebook):
    claimed = _claimed_values()
    cells = json.loads((REPO / "notebooks" / notebook).read_text())["cells"]
    found = {v for c in cells if c["cell_type"] == "code" for v in paper_numbers_in("".join(c["source"]), claimed)}
    assert not found, f"{notebook} types these claimed values; read them from claims/*.yaml instead: {sorted(found)}"
