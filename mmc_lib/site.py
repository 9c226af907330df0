"""Read without running: the published notebooks, AUDIT.md and the figures as a static HTML folder (``make site``).

``python -m mmc_lib.site [--out build/site]`` renders every committed notebook with nbconvert (their outputs are the
published full-profile run), AUDIT.md and README.md with mistune, and a figure gallery, behind one index page.
Nothing is executed.
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
from pathlib import Path

from mmc_lib.runtime import project_root

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}}
table{{border-collapse:collapse;font-size:90%}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}figure{{display:inline-block;margin:1em;vertical-align:top;max-width:46%}}</style>
</head><body>
{body}
<script>
/* the page reports in its title whether every image loaded (read by tests/test_site.py) */
window.addEventListener("load", () => {{
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length;
  document.title = document.title + " | images " + imgs.length + " broken " + broken;
}});
</script>
</body></html>
"""


def _markdown(path: Path) -> str:
    import mistune

    return mistune.html(path.read_text())


def _mathjax(out: Path) -> str | None:
    """Copy MathJax (shipped by the ``jupyter-server-mathjax`` package) into the site so equations render offline;
    return its URL relative to the pages, or None (nbconvert's CDN default) when the package is absent."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", out / "mathjax")
    return "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"


def _notebook(path: Path, mathjax_url: str | None) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="classic", **({"mathjax_url": mathjax_url} if mathjax_url else {}))
    body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    return body


def _write_page(out: Path, name: str, title: str, body: str, *, full_html: bool = False) -> str:
    text = body if full_html else _PAGE.format(title=html.escape(title), body=body)
    if full_html:  # nbconvert pages are complete documents: add the image report before </body>
        script = _PAGE.split("</body>")[0].split("{body}")[1]
        text = text.replace("</body>", script + "</body>", 1)
    (out / name).write_text(text)
    return name


def build_site(out: str | Path | None = None, *, root: str | Path | None = None) -> Path:
    """Render notebooks, AUDIT.md, README.md and figures of the checkout ``root`` (default: this one) into ``out``
    (default ``build/site``); return the index page."""
    root = Path(root) if root else project_root()
    out = Path(out) if out else root / "build" / "site"
    if out.exists():
        shutil.rmtree(out)
    (out / "figures").mkdir(parents=True)
    mathjax_url = _mathjax(out)
    links = []
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        links.append((_write_page(out, f"{nb.stem}.html", nb.stem, _notebook(nb, mathjax_url), full_html=True),
                      nb.stem))
    for md in ("README.md", "AUDIT.md"):
        if (root / md).is_file():
            page = _write_page(out, md.replace(".md", ".html"), md, _markdown(root / md).replace('href="AUDIT.md"',
                                                                                                 'href="AUDIT.html"'))
            links.append((page, md))
    figures = sorted((root / "figures").glob("*.png"))
    for fig in figures:
        shutil.copy(fig, out / "figures" / fig.name)
    gallery = "".join(f'<figure><img src="figures/{f.name}" alt="{f.stem}"><figcaption>{f.stem}</figcaption></figure>'
                      for f in figures)
    links.append((_write_page(out, "figures.html", "figures", f"<h1>Figures</h1>{gallery}"), "figures"))
    items = "".join(f'<li><a href="{href}">{html.escape(label)}</a></li>' for href, label in links)
    _write_page(out, "index.html", "mmc-companion",
                "<h1>mmc-companion</h1><p>The published notebooks (full-profile outputs), the audit and every "
                f"figure, rendered without running anything.</p><ul>{items}</ul>")
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output folder (default: build/site)")
    parser.add_argument("--root", default=None, help="render another checkout (default: this one)")
    args = parser.parse_args(argv)
    index = build_site(args.out, root=args.root)
    print(f"site written: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
