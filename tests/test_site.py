"""The static site is a course a student can use: it opens in a real browser with no failed request, its equations
are typeset by the MathJax it ships (no raw TeX left), and every page has its title and links to the contents and to
the previous and next notebook (headless Chromium through mmc_lib.browser; skipped where there is none)."""

import re
import shutil

import pytest

from mmc_lib.browser import Browser, find_chromium, serve
from mmc_lib.catalog import present
from mmc_lib.runtime import project_root
from mmc_lib.site import MATHJAX_SCRIPT, build_site

BROWSER = find_chromium()
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no Chromium here (`make browser` installs it)")
NOTEBOOKS = present(project_root())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site") / "site").parent


@pytest.fixture(scope="module")
def visited(site):
    """Every page of the site as the browser saw it: {file name: PageReport}."""
    if BROWSER is None:
        pytest.skip("no Chromium here (`make browser` installs it)")
    with serve(site) as base, Browser(BROWSER) as browser:
        return {p.name: browser.visit(base + p.name) for p in sorted(site.glob("*.html"))}


def test_contents_page_lists_every_notebook_in_reading_order(site):
    index = (site / "index.html").read_text()
    positions = [index.index(f'href="{nb.stem}.html"') for nb in NOTEBOOKS]
    assert positions == sorted(positions), "the contents must follow mmc_lib.catalog's reading order"
    for nb in NOTEBOOKS:
        for text in (nb.summary, nb.paper):
            assert text.replace("&", "&amp;").replace("“", "“") in index.replace("&#x27;", "'").replace("&quot;", '"')
    assert index.count("<b>Status</b>") == len(NOTEBOOKS)
    assert 'href="AUDIT.html"' in index and 'href="figures.html"' in index


def _rel(page: str, rel: str) -> list[str]:
    """The href of every <a rel=...> link of that kind, in page order."""
    tags = re.findall(r"<a\s[^>]*>", page)
    return [re.search(r'href="([^"]+)"', a).group(1) for a in tags if f'rel="{rel}"' in a]


def test_each_notebook_page_has_its_title_and_neighbours(site):
    for i, nb in enumerate(NOTEBOOKS):
        page = (site / f"{nb.stem}.html").read_text()
        assert re.search(r"<title>(.*?)</title>", page).group(1) == nb.heading.replace("&", "&amp;")
        assert _rel(page, "index") == ["index.html", "index.html"]
        prev, nxt = _rel(page, "prev"), _rel(page, "next")
        assert prev == ([f"{NOTEBOOKS[i - 1].stem}.html"] * 2 if i else [])
        assert nxt == ([f"{NOTEBOOKS[i + 1].stem}.html"] * 2 if i + 1 < len(NOTEBOOKS) else [])


def test_mathjax_and_its_fonts_are_shipped_no_cdn(site):
    assert (site / MATHJAX_SCRIPT).is_file()
    assert len(list((site / "mathjax/output/chtml/fonts/woff-v2").glob("MathJax_*.woff"))) >= 20
    for nb in NOTEBOOKS:
        page = (site / f"{nb.stem}.html").read_text()
        assert f'src="{MATHJAX_SCRIPT}"' in page
        assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', page), f"{nb.stem} loads from the web"


@needs_browser
def test_no_page_has_a_failed_request_or_a_broken_image(visited):
    assert {name: r.failed for name, r in visited.items() if r.failed} == {}
    assert {name: r.broken_images for name, r in visited.items() if r.broken_images} == {}
    assert visited["figures.html"].images == len(list(project_root().glob("figures/*.png")))


@needs_browser
def test_equations_are_typeset_and_no_raw_tex_is_left(visited):
    for nb in NOTEBOOKS:
        report = visited[f"{nb.stem}.html"]
        assert report.raw_tex == [], f"{nb.stem}: raw TeX or an unrendered table in the prose: {report.raw_tex}"
        assert report.math_errors == 0, f"{nb.stem}: MathJax reported {report.math_errors} TeX errors"
    for stem in ("01_ddmc", "04_dmvae", "05_treediffusion"):  # the equation-heavy notebooks
        assert visited[f"{stem}.html"].equations >= 20, f"{stem}: only {visited[f'{stem}.html'].equations} equations"


@needs_browser
def test_navigation_links_lead_to_pages_that_exist(visited, site):
    for nb in NOTEBOOKS:
        nav = visited[f"{nb.stem}.html"].nav
        assert nav["index"].endswith("/index.html")
        for target in nav.values():
            assert (site / target.rsplit("/", 1)[1]).is_file()


@needs_browser
def test_a_missing_font_is_caught(site, tmp_path):
    broken = tmp_path / "site"
    shutil.copytree(site, broken, ignore=shutil.ignore_patterns("figures"))
    font = broken / "mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
    font.unlink()
    with serve(broken) as base, Browser(BROWSER) as browser:
        report = browser.visit(base + "01_ddmc.html")
    assert any(f.startswith("404 ") and f.endswith("/MathJax_Main-Regular.woff") for f in report.failed), report.failed
