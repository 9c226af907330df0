"""The static site opens in a real browser: every notebook page and every figure loads (headless Chromium)."""

import re
import shutil
import subprocess

import pytest

from mmc_lib.site import build_site

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site") / "site")


def _dom_after_load(page) -> str:
    return subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120).stdout


def _title_after_load(page) -> str:
    dom = _dom_after_load(page)
    match = re.search(r"<title>(.*?)</title>", dom, re.S)
    return match.group(1) if match else ""


def test_site_links_every_notebook_and_the_audit(site):
    index = site.read_text()
    for name in ("00_data_and_baselines", "01_ddmc", "02_dm2c", "03_joint_embedding", "99_audit"):
        assert f'href="{name}.html"' in index and (site.parent / f"{name}.html").stat().st_size > 10_000
    assert 'href="AUDIT.html"' in index and 'href="figures.html"' in index


@pytest.mark.skipif(BROWSER is None, reason="no Chromium here (make test installs it where it can)")
def test_every_page_and_figure_loads_in_a_browser(site):
    pages = [site] + sorted(p for p in site.parent.glob("*.html") if p.name != "index.html")
    for page in pages:
        title = _title_after_load(page)
        match = re.search(r"images (\d+) broken (\d+)", title)
        assert match, f"{page.name} did not finish loading in the browser (title {title!r})"
        assert match.group(2) == "0", f"{page.name}: {match.group(2)} of {match.group(1)} images failed to load"
    gallery = _title_after_load(site.parent / "figures.html")
    assert int(re.search(r"images (\d+)", gallery).group(1)) == len(list((site.parent / "figures").glob("*.png")))


@pytest.mark.skipif(BROWSER is None, reason="no Chromium here (make test installs it where it can)")
def test_equations_render_offline(site):
    assert (site.parent / "mathjax" / "MathJax.js").is_file()  # shipped with the site, no CDN needed
    dom = _dom_after_load(site.parent / "01_ddmc.html")
    assert "MathJax" in dom and 'class="MathJax' in dom  # MathJax typeset the LaTeX of notebook 01
