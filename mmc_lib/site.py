"""Read without running: the published notebooks as a course, with AUDIT.md and the figures (``make site``).

``python -m mmc_lib.site [--out build/site]`` renders every committed notebook with nbconvert through the
companion's template (``mmc_lib/site_templates/mmc``: the notebook's title as the page title, links to the contents
and to the previous and next notebook in reading order) and MathJax 3 copied from a pinned package, so equations
render offline. The contents page lists the notebooks of :data:`mmc_lib.catalog.NOTEBOOKS` in reading order with
their summary, paper and audit status. Nothing is executed.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
import warnings
from pathlib import Path

from mmc_lib.catalog import Notebook, present
from mmc_lib.runtime import project_root

TEMPLATES = Path(__file__).parent / "site_templates"
MATHJAX_SCRIPT = "mathjax/tex-chtml-full.js"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="icon" href="data:,">
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.5}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}figure{{display:inline-block;margin:1em;vertical-align:top;max-width:46%}}
ol.course>li{{margin:0 0 1.2em 0}}ol.course h2{{font-size:1.25em;margin:.3em 0}}ol.course .meta{{color:#444;font-size:92%}}
nav.mmc-nav{{border-bottom:1px solid #ddd;padding:.4em 0;margin-bottom:1em}}</style>
</head><body>
{nav}<div class="mmc-prose">
{body}
</div></body></html>
"""


def _nav() -> str:
    return '<nav class="mmc-nav"><a rel="index" href="index.html">← Contents</a></nav>'


def _write_page(out: Path, name: str, title: str, body: str, *, nav: bool = True) -> str:
    (out / name).write_text(_PAGE.format(title=html.escape(title), body=body, nav=_nav() if nav else ""))
    return name


def _markdown(path: Path) -> str:
    import mistune

    text = mistune.html(path.read_text())
    return re.sub(r'href="(?:\.\./)?([A-Za-z_]+)\.md"', r'href="\1.html"', text)


def copy_mathjax(out: Path) -> str:
    """Copy MathJax 3 (its ES5 build and CommonHTML fonts, from the pinned ``django-static-mathjax`` package) into
    ``out``/mathjax; return the script's URL relative to the pages."""
    try:
        import mathjax  # the package django-static-mathjax installs
    except ImportError as err:
        raise ImportError("MathJax is missing: install the notebooks extra (pip install -e '.[notebooks]')") from err
    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (source / "tex-chtml-full.js").is_file():
        raise FileNotFoundError(f"no tex-chtml-full.js under {source}: is django-static-mathjax 3.x installed?")
    shutil.copytree(source, out / "mathjax", ignore=shutil.ignore_patterns("sre", "*-speech.js", "node-main.js"))
    return MATHJAX_SCRIPT


def _link(nb: Notebook | None) -> dict | None:
    return None if nb is None else {"href": f"{nb.stem}.html", "title": nb.heading}


def render_notebook(path: Path, nb: Notebook, *, prev: Notebook | None, next_: Notebook | None,
                    mathjax_url: str = MATHJAX_SCRIPT) -> str:
    """One notebook as a complete HTML page (the companion's template)."""
    import nbformat
    from nbconvert import HTMLExporter

    node = nbformat.read(path, as_version=4)
    node.metadata["title"] = nb.heading
    exporter = HTMLExporter(template_name="mmc", extra_template_basedirs=[str(TEMPLATES)])
    resources = {"mmc": {"title": nb.heading, "index": "index.html", "prev": _link(prev), "next": _link(next_),
                         "mathjax": mathjax_url}}
    body, _ = exporter.from_notebook_node(node, resources=resources)
    return body


def status_by_notebook(readme: Path) -> dict[str, list[str]]:
    """The audit's status rows (README's generated status table) per notebook stem, as short lines."""
    if not readme.is_file():
        return {}
    block = re.search(r"<!-- status:start.*?-->(.*?)<!-- status:end -->", readme.read_text(), re.S)
    rows = [line.strip().strip("|").split(" | ") for line in (block.group(1) if block else "").splitlines()
            if line.strip().startswith("|") and not line.strip().startswith("|---")]
    if not rows:
        return {}
    header, status = [h.strip() for h in rows[0]], {}
    for cells in rows[1:]:
        row = dict(zip(header, (c.strip() for c in cells)))
        text = "; ".join(f"{k} {v}" for k, v in row.items() if k not in ("paper", "notebook", "data") and v
                         and v not in ("—", "0"))
        for stem in re.findall(r"\d\d_[a-z0-9_]+", row.get("notebook", "")):
            status.setdefault(stem, []).append(f"{row.get('paper', '')}: {text}")
    return status


def _index(notebooks: list[Notebook], status: dict[str, list[str]], extra: list[tuple[str, str]]) -> str:
    items = []
    for nb in notebooks:
        lines = status.get(nb.stem) or ["no paper number is graded here"]
        items.append(
            f'<li><h2><a href="{nb.stem}.html">{html.escape(nb.heading)}</a></h2>'
            f'<p class="meta"><b>Paper:</b> {html.escape(nb.paper)}</p><p>{html.escape(nb.summary)}</p>'
            f'<p class="meta"><b>Status</b> (from the audit): {html.escape(" · ".join(lines))}</p></li>')
    others = "".join(f'<li><a href="{href}">{html.escape(label)}</a></li>' for href, label in extra)
    return ("<h1>mmc-companion: multimodal clustering, reproduced</h1>"
            "<p>A course in notebooks, read in this order. Each page is the published full-profile run (nothing is "
            "executed here); the status line of each notebook comes from the audit.</p>"
            f'<ol class="course">{"".join(items)}</ol><h2>Also</h2><ul>{others}</ul>')


def build_site(out: str | Path | None = None, *, root: str | Path | None = None) -> Path:
    """Render the notebooks, AUDIT.md, README.md and figures of the checkout ``root`` (default: this one) into
    ``out`` (default ``build/site``); return the contents page."""
    root = Path(root) if root else project_root()
    out = Path(out) if out else root / "build" / "site"
    if out.exists():
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    mathjax_url = copy_mathjax(out)
    notebooks = present(root)
    unknown = sorted({p.name for p in (root / "notebooks").glob("*.ipynb")} - {nb.file for nb in notebooks})
    if unknown:  # a notebook outside the course (a scratch file): left out, said aloud
        warnings.warn(f"not in mmc_lib.catalog.NOTEBOOKS, left out of the site: {unknown}", stacklevel=2)
    for i, nb in enumerate(notebooks):
        page = render_notebook(root / "notebooks" / nb.file, nb, prev=notebooks[i - 1] if i else None,
                               next_=notebooks[i + 1] if i + 1 < len(notebooks) else None, mathjax_url=mathjax_url)
        (out / f"{nb.stem}.html").write_text(page)
    extra = []
    for md, label in (("AUDIT.md", "AUDIT.md: every claim and its verdict"), ("README.md", "README.md")):
        if (root / md).is_file():
            extra.append((_write_page(out, md.replace(".md", ".html"), md, _markdown(root / md)), label))
    figures = sorted((root / "figures").glob("*.png"))
    for fig in figures:
        shutil.copy(fig, out / "figures" / fig.name)
    gallery = "".join(f'<figure><img src="figures/{f.name}" alt="{f.stem}"><figcaption>{f.stem}</figcaption></figure>'
                      for f in figures)
    extra.append((_write_page(out, "figures.html", "Figures", f"<h1>Figures</h1>{gallery}"), "every figure"))
    _write_page(out, "index.html", "mmc-companion: contents",
                _index(notebooks, status_by_notebook(root / "README.md"), extra), nav=False)
    return out / "index.html"


#: (page, heading to scroll to or "", file name) of the screenshots in docs/screenshots/
SCREENSHOTS = (("index.html", "", "index.png"),
               ("01_ddmc.html", "", "01_ddmc_top.png"),
               ("01_ddmc.html", "The method, equation by equation", "01_ddmc_equations.png"),
               ("04_dmvae.html", "1. The method in equations", "04_dmvae_equations.png"),
               ("05_treediffusion.html", "1. The method", "05_treediffusion_equations.png"),
               ("00_data_and_baselines.html", "Exercise 1", "00_exercises_opened.png"))


def screenshots(site: Path, folder: str | Path) -> list[Path]:
    """Open the built ``site`` in headless Chromium and save the :data:`SCREENSHOTS` into ``folder``."""
    from mmc_lib.browser import Browser, serve

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    with serve(site) as base, Browser(width=1200, height=900) as browser:
        for page, heading, name in SCREENSHOTS:
            browser.visit(base + page)
            if heading.startswith("Exercise"):  # show a hint and a solution opened, as a student would
                browser.open_details()
            if heading:
                browser.scroll_to(heading)
            saved.append(browser.capture(folder / name))
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output folder (default: build/site)")
    parser.add_argument("--root", default=None, help="render another checkout (default: this one)")
    parser.add_argument("--screenshots", default=None, metavar="DIR",
                        help="also save screenshots of the contents, 01, 04 and 05 (headless Chromium) into DIR")
    args = parser.parse_args(argv)
    index = build_site(args.out, root=args.root)
    print(f"site written: {index}")
    if args.screenshots:
        for path in screenshots(index.parent, args.screenshots):
            print(f"screenshot: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
