"""Repository-wide pytest hooks (loaded for ``tests/`` and ``notebooks/`` alike)."""

from __future__ import annotations

import re

import pytest


def _cell_number(item) -> int:
    match = re.search(r"Cell (\d+)", item.name)
    return int(match.group(1)) if match else -1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items) -> None:
    """Keep each notebook's cells in notebook order.

    ``pytest-randomly`` (``make test-random``) shuffles test files and the tests inside them, which is what shows a
    hidden dependency between tests; but nbval's items are one notebook's cells, and a cell needs the ones above it.
    The notebooks themselves still run in a random order among the other test files.
    """
    slots: dict[str, list[int]] = {}
    for pos, item in enumerate(items):
        if str(item.path).endswith(".ipynb"):
            slots.setdefault(str(item.path), []).append(pos)
    for positions in slots.values():
        cells = sorted((items[p] for p in positions), key=_cell_number)
        for pos, cell in zip(positions, cells):
            items[pos] = cell
