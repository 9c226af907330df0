"""Every notebook's exercises follow the shared format, and every worked solution's code runs.

Format (SHARED_FORMATS.md): a markdown heading ``### Exercise K — <title>`` (K = 1, 2, … in order), the task, then
``<details><summary>Hint</summary>`` … ``</details>`` and ``<details><summary>Solution</summary>`` … ``</details>``.
No exercise asks the student to edit a library file: knobs are notebook parameters or function arguments.
"""

import ast
import json
import re

import pytest

from conftest import REPO

NOTEBOOKS = sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"^### Exercise (\d+) — (\S.*)$")
HINT = "<details><summary>Hint</summary>"
SOLUTION = "<details><summary>Solution</summary>"
CODE = re.compile(r"```python\n(.*?)```", re.S)
EDIT_LIBRARY = re.compile(r"\b(edit|change|modify|open and change|set)\b[^.\n]{0,80}`?mmc_lib/[\w/]+\.py", re.I)


def exercises(markdown: str) -> list[dict]:
    """The exercises of a notebook's markdown: number, title and the text up to the next heading of level ≤ 3."""
    found, current = [], None
    for line in markdown.splitlines():
        match = HEADING.match(line)
        if match:
            current = {"number": int(match.group(1)), "title": match.group(2), "text": ""}
            found.append(current)
        elif re.match(r"^#{1,3} ", line):
            current = None
        elif current is not None:
            current["text"] += line + "\n"
    return found


def problems(exercise: dict) -> list[str]:
    """What is wrong with one exercise (empty when it follows the format)."""
    text, bad = exercise["text"], []
    if text.count(HINT) != 1 or text.count(SOLUTION) != 1:
        return [f"needs exactly one '{HINT}' and one '{SOLUTION}' block"]
    task, after = text.split(HINT, 1)
    hint, solution = after.split(SOLUTION, 1)
    if len(task.strip()) < 20:
        bad.append("the task must come before the hint")
    if "</details>" not in hint or len(hint.split("</details>")[0].strip()) < 20:
        bad.append("the hint is empty or not closed with </details>")
    if "</details>" not in solution or len(solution.rsplit("</details>", 1)[0].strip()) < 40:
        bad.append("the solution is empty or not closed with </details>")
    if EDIT_LIBRARY.search(text):
        bad.append(f"asks to edit a library file: {EDIT_LIBRARY.search(text).group(0)!r}")
    return bad


def _markdown(notebook: str) -> str:
    cells = json.loads((REPO / "notebooks" / notebook).read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _solution_code(notebook: str) -> list[tuple[str, str]]:
    out = []
    for ex in exercises(_markdown(notebook)):
        if SOLUTION in ex["text"]:
            for i, code in enumerate(CODE.findall(ex["text"].split(SOLUTION, 1)[1])):
                out.append((f"{notebook.split('_')[0]}-ex{ex['number']}-{i}", code))
    return out


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_exercises_have_a_hint_and_a_solution(notebook):
    found = exercises(_markdown(notebook))
    assert found, f"{notebook} has no '### Exercise K — title' heading"
    assert [e["number"] for e in found] == list(range(1, len(found) + 1)), "exercises are numbered 1, 2, …"
    assert {f"{e['number']}. {e['title']}": problems(e) for e in found if problems(e)} == {}


def test_the_format_check_catches_a_missing_solution_and_a_library_edit():
    good = exercises(f"### Exercise 1 — ok\nDo this and predict that.\n{HINT}\nLook at the toy cell first.\n"
                     f"</details>\n{SOLUTION}\nThe answer is 3, because the table has three rows here.\n</details>")
    assert problems(good[0]) == []
    no_solution = exercises(f"### Exercise 1 — bad\nDo this and predict that.\n{HINT}\nA hint that helps you start.\n</details>")
    assert problems(no_solution[0]) == [f"needs exactly one '{HINT}' and one '{SOLUTION}' block"]
    edit = exercises(f"### Exercise 2 — edit\nChange `steps=100` in `mmc_lib/studies/budgets.py` and rerun.\n"
                     f"{HINT}\nA hint that helps you start.\n</details>\n{SOLUTION}\nIt rises, because fewer steps train "
                     f"less.\n</details>")
    assert problems(edit[0]) and "edit a library file" in problems(edit[0])[0]


SOLUTIONS = [case for nb in NOTEBOOKS for case in _solution_code(nb)]


def notebook_names(notebook: str) -> set[str]:
    """Names the notebook's code cells define at top level (assignments, imports, functions)."""
    names: set[str] = set()
    for cell in json.loads((REPO / "notebooks" / notebook).read_text())["cells"]:
        if cell["cell_type"] != "code":
            continue
        try:
            tree = ast.parse("".join(cell["source"]))
        except SyntaxError:  # IPython magics
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


@pytest.mark.parametrize("name,code", SOLUTIONS, ids=[name for name, _ in SOLUTIONS])
def test_solution_code_runs(name, code, tmp_path, monkeypatch):
    """A solution's code runs as it stands; one that continues the notebook (it reads a variable the notebook
    defines) is compiled here and runs with the notebook itself."""
    compiled = compile(code, f"<solution {name}>", "exec")
    monkeypatch.chdir(tmp_path)  # a solution that writes files writes them here
    try:
        exec(compiled, {"__name__": f"solution_{name.replace('-', '_')}"})
    except NameError as err:
        notebook = next(nb for nb in NOTEBOOKS if nb.startswith(name.split("-")[0] + "_"))
        if err.name not in notebook_names(notebook):
            raise
        pytest.skip(f"continues notebook {notebook} (uses its {err.name!r})")
