"""One plotting style, one way to save figures, and a t-SNE helper."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib

if not os.environ.get("DISPLAY") and "ipykernel" not in __import__("sys").modules:
    matplotlib.use("Agg")  # headless scripts and tests

import matplotlib.pyplot as plt
import numpy as np

from mmc_lib.runtime import out_root

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 130,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.frameon": False,
}


def use_style() -> None:
    """Apply the companion's matplotlib style (call once per notebook)."""
    plt.rcParams.update(STYLE)


def figures_dir(out_dir=None) -> Path:
    folder = out_root(out_dir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_figure(fig, name: str, *, out_dir=None) -> Path:
    """Save ``fig`` as ``figures/<name>.png`` (``name`` like ``"00_tsne"``); return the path.

    Beside it, ``figures/<name>.axes.json`` records each panel's title and axis labels at save time, so a test can
    fail on an unlabelled axis in a committed figure (``tests/test_figures.py``).
    """
    if not name or "/" in name or name.endswith(".png"):
        raise ValueError(f"figure name must be a bare stem like '00_tsne', got {name!r}")
    path = figures_dir(out_dir) / f"{name}.png"
    fig.savefig(path, bbox_inches="tight")
    path.with_suffix(".axes.json").write_text(json.dumps(axes_labels(fig), indent=1, ensure_ascii=False) + "\n")
    return path


def axes_labels(fig) -> list[dict]:
    """Title and x/y labels of every visible panel that shows data (colorbars marked as such), its grid row and
    the titles of its legends.

    An axis shared with a labelled sibling (``sharey=True`` panels, ``twinx``) counts as labelled.
    """
    panels = []
    for ax in fig.axes:
        if not ax.axison or not (ax.lines or ax.collections or ax.patches or ax.images):
            continue
        siblings_x = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
        siblings_y = [a for a in ax.get_shared_y_axes().get_siblings(ax) if a is not ax]
        panels.append({"title": ax.get_title(), "xlabel": ax.get_xlabel() or next(
            (a.get_xlabel() for a in [*siblings_x, *_twins(ax)] if a.get_xlabel()), ""),
            "ylabel": ax.get_ylabel() or next((a.get_ylabel() for a in siblings_y if a.get_ylabel()), ""),
            "colorbar": hasattr(ax, "_colorbar"), "row": _row(ax), "legends": _legend_titles(ax)})
    return panels


def _row(ax) -> int | None:
    """The grid row of a subplot (``None`` for a free-standing axes such as a colorbar)."""
    spec = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
    return None if spec is None else int(spec.rowspan.start)


def _legend_titles(ax) -> list[str]:
    """The title of every legend drawn in ``ax`` (``""`` for an untitled one, e.g. the modality markers)."""
    from matplotlib.legend import Legend

    return [a.get_title().get_text() for a in ax.get_children() if isinstance(a, Legend)]


def _twins(ax) -> list:
    """Axes drawn on top of ``ax`` at the same position (``twinx`` / ``twiny``)."""
    return [a for a in ax.figure.axes if a is not ax and a.get_position().bounds == ax.get_position().bounds]


def tsne(X: np.ndarray, *, seed: int = 0, max_points: int | None = 2000, perplexity: float = 30.0):
    """2-D t-SNE of ``X``; returns ``(embedding, index)`` where ``index`` are the rows used.

    Rows are subsampled uniformly at random (seeded) to ``max_points`` to keep it fast.
    """
    from sklearn.manifold import TSNE

    X = np.asarray(X, dtype=np.float32)
    rng = np.random.default_rng(seed)
    index = np.arange(len(X))
    if max_points is not None and len(X) > max_points:
        index = np.sort(rng.choice(len(X), size=max_points, replace=False))
    perplexity = min(perplexity, max(2.0, (len(index) - 1) / 3))
    emb = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(X[index])
    return emb, index


def scatter_embedding(ax, emb: np.ndarray, labels: np.ndarray, *, title: str = "", markers=None, s: float = 6,
                      cmap: str | None = None, legend: str | None = None, names=None):
    """Scatter a 2-D embedding coloured by ``labels``; optional per-point marker groups (e.g. modality).

    ``cmap`` names the palette (default ``tab10``/``tab20``; give different meanings different palettes).
    ``legend`` (a title such as ``"digit"``) adds a colour legend outside the axes on the right, one entry per label
    (``names`` maps a label to its text). The marker legend goes under the axes, off the data.
    """
    labels = np.asarray(labels)
    values = np.unique(labels)
    palette = plt.get_cmap(cmap or ("tab10" if len(values) <= 10 else "tab20"))
    norm = plt.Normalize(vmin=labels.min(), vmax=labels.max())
    if markers is None:
        ax.scatter(emb[:, 0], emb[:, 1], c=labels, cmap=palette, norm=norm, s=s, linewidths=0)
    else:
        from matplotlib.lines import Line2D

        handles = []
        for marker, group in zip("o^sD", np.unique(markers)):
            m = markers == group
            ax.scatter(emb[m, 0], emb[m, 1], c=labels[m], cmap=palette, norm=norm, s=s, marker=marker, linewidths=0)
            # grey proxy markers: this legend names the group (modality); colours stand for classes
            handles.append(Line2D([], [], marker=marker, linestyle="", color="0.35", markersize=6, label=str(group)))
        groups = ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(handles),
                           fontsize=8)
        if legend:
            ax.add_artist(groups)  # keep it when the colour legend below replaces ax.legend_
    if legend:
        from matplotlib.lines import Line2D

        entries = [Line2D([], [], marker="o", linestyle="", markersize=6, color=palette(norm(v)),
                          label=str(names[v] if names is not None else v)) for v in values]
        ax.legend(handles=entries, title=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
                  title_fontsize=8, borderaxespad=0)
    ax.set_title(title)
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
