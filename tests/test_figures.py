"""Committed figures do not mislead by omission: every panel that shows data has a title or labelled axes.

``save_figure`` records each panel's labels at save time (``figures/<name>.axes.json``); this test reads them.
"""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from conftest import REPO  # noqa: E402
from mmc_lib.plotting import axes_labels, save_figure  # noqa: E402

FIGURES = REPO / "figures"
#: notebooks whose committed figures were all saved with the label record
RECORDED = ("00_", "01_", "02_", "03_", "04_", "05_", "06_", "99_")


def _unlabelled(panels: list[dict]) -> list[str]:
    bad = []
    for i, p in enumerate(panels):
        if p["colorbar"]:
            if not p["xlabel"] and not p["ylabel"]:
                bad.append(f"colorbar {i} has no label")
            continue
        for axis in ("xlabel", "ylabel"):
            if not p[axis]:
                bad.append(f"panel {i} ({p['title'] or 'untitled'}) has no {axis}")
    return bad


@pytest.mark.parametrize("png", sorted(p.name for p in FIGURES.glob("*.png")))
def test_committed_figure_has_labelled_axes(png):
    record = FIGURES / png.replace(".png", ".axes.json")
    if not record.is_file():
        assert not png.startswith(RECORDED), f"{png} was saved without its label record; re-run its notebook"
        pytest.skip(f"{png}: saved before labels were recorded")
    assert _unlabelled(json.loads(record.read_text())) == []


def test_the_label_check_catches_a_bare_axis(tmp_path):
    fig, (a, b) = plt.subplots(1, 2, sharey=True)
    a.bar([0, 1], [1, 2])
    a.set(xlabel="method", ylabel="ACC (%)")
    b.bar([0, 1], [2, 1])  # shares the y label with a; has no x label
    panels = axes_labels(fig)
    assert panels[1]["ylabel"] == "ACC (%)"
    assert _unlabelled(panels) == ["panel 1 (untitled) has no xlabel"]
    path = save_figure(fig, "test_fig", out_dir=tmp_path)
    assert json.loads(path.with_suffix(".axes.json").read_text()) == panels
    plt.close(fig)


def test_tsne_scatter_has_a_class_legend_off_the_data_and_keeps_the_modality_legend():
    import numpy as np

    from mmc_lib.plotting import scatter_embedding

    fig, ax = plt.subplots()
    emb = np.random.default_rng(0).normal(size=(40, 2))
    labels = np.repeat(np.arange(4), 10)
    scatter_embedding(ax, emb, labels, markers=np.array(["image", "text"] * 20), legend="digit", cmap="tab10")
    legends = [a for a in ax.get_children() if isinstance(a, matplotlib.legend.Legend)]
    texts = sorted([t.get_text() for t in legend.get_texts()] for legend in legends)
    assert texts == [["0", "1", "2", "3"], ["image", "text"]]
    assert ax.get_legend().get_title().get_text() == "digit"
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    assert box.x0 >= ax.get_window_extent().x1 - 1  # the class legend sits right of the axes, on no point
    plt.close(fig)


def _rows_without_class_legend(panels: list[dict]) -> list[str]:
    """Rows of t-SNE panels where no panel has a titled (colour = class) legend; old records count as missing."""
    rows: dict = {}
    for p in panels:
        if p["xlabel"] == "t-SNE 1":
            rows.setdefault(p.get("row"), []).append(p)
    return [f"row {r} ({ps[0]['title']})" for r, ps in rows.items()
            if not any(title for p in ps for title in p.get("legends", []))]


def test_the_tsne_legend_check_catches_a_missing_legend():
    import numpy as np

    from mmc_lib.plotting import scatter_embedding

    fig, axes = plt.subplots(2, 2)
    emb, labels = np.random.default_rng(0).normal(size=(20, 2)), np.repeat(np.arange(2), 10)
    for r, row in enumerate(axes):
        for c, ax in enumerate(row):
            scatter_embedding(ax, emb, labels, title=f"r{r}c{c}", legend="class" if (r, c) == (0, 1) else None,
                              markers=np.array(["image", "text"] * 10))
    panels = axes_labels(fig)
    assert [p["row"] for p in panels] == [0, 0, 1, 1]
    assert panels[1]["legends"] == ["", "class"] or sorted(panels[1]["legends"]) == ["", "class"]
    assert _rows_without_class_legend(panels) == ["row 1 (r1c0)"]
    plt.close(fig)


@pytest.mark.parametrize("record", sorted(p.name for p in FIGURES.glob("*.axes.json")))
def test_every_committed_tsne_row_has_a_class_legend(record):
    """Issue 25: a t-SNE map without a class-colour legend cannot be read; one titled legend per grid row."""
    assert _rows_without_class_legend(json.loads((FIGURES / record).read_text())) == []
