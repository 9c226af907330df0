"""Open pages in headless Chromium, as a reader would, and report what went wrong (``tests/test_site.py``).

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: no port, no extra package).
:func:`serve` serves a folder on the loopback interface, so a missing file is a real 404, as on any web server.
For each page, :meth:`Browser.visit` records every request that failed (a 4xx/5xx answer or a load error), waits
for MathJax to finish typesetting, and reads from the DOM how many equations were rendered and whether raw TeX
delimiters are left in the prose. Chromium comes from Debian's package (``make browser``); :func:`find_chromium`
returns None where there is none.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def find_chromium() -> str | None:
    """The Chromium (or Chrome) executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(folder: str | Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) for the duration of the block; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class PageReport:
    """What one page did in the browser."""

    url: str
    title: str = ""
    failed: list[str] = field(default_factory=list)  # "<status or error> <url>" for every failed request
    equations: int = 0  # rendered MathJax elements (mjx-container)
    math_errors: int = 0  # MathJax's own error boxes (mjx-merror)
    raw_tex: list[str] = field(default_factory=list)  # prose still holding $$, \(, \[ or a table's |---
    broken_images: int = 0
    images: int = 0
    links: list[str] = field(default_factory=list)  # every <a href> (resolved)
    nav: dict = field(default_factory=dict)  # rel=prev/next/index targets


_PAGE_SCRIPT = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const prose = Array.from(document.querySelectorAll('.jp-RenderedMarkdown, .mmc-prose'))
                     .map(e => e.innerText);
  const raw = [];
  for (const text of prose) {
    for (const token of ['$$', '\\(', '\\[', '|---']) {
      const i = text.indexOf(token);
      if (i >= 0) raw.push(text.slice(Math.max(0, i - 40), i + 40));
    }
  }
  const imgs = Array.from(document.images);
  const nav = {};
  for (const rel of ['prev', 'next', 'index']) {
    const a = document.querySelector('a[rel="' + rel + '"]');
    if (a) nav[rel] = a.href;
  }
  return JSON.stringify({
    title: document.title,
    equations: document.querySelectorAll('mjx-container').length,
    math_errors: document.querySelectorAll('mjx-merror').length,
    raw_tex: raw,
    images: imgs.length,
    broken_images: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length,
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    nav: nav,
  });
})()
"""


class Browser:
    """One headless Chromium, driven over a DevTools pipe. Use as a context manager."""

    def __init__(self, executable: str | None = None, *, width: int = 1280, height: int = 900, timeout: float = 90):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise FileNotFoundError("no Chromium on PATH: `make browser` installs Debian's package")
        self.width, self.height, self.timeout = width, height, timeout
        self._next_id = 0
        self._events: list[dict] = []

    # ---------------------------------------------------------------- process and pipe

    def __enter__(self) -> Browser:
        self._profile = tempfile.mkdtemp(prefix="mmc-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4
        def _fds():  # in the child: move both ends out of the way first, then onto 3 and 4 (inheritable)
            r, w = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)
        self._proc = subprocess.Popen(
            [self.executable, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-dev-shm-usage",
             "--hide-scrollbars", "--mute-audio", f"--user-data-dir={self._profile}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=_fds)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._reader = os.fdopen(self._from_browser, "rb", buffering=0)
        self._buffer = b""
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Runtime"):
            self._send(f"{domain}.enable", session=True)
        self._send("Network.setCacheDisabled", {"cacheDisabled": True}, session=True)
        self._send("Emulation.setDeviceMetricsOverride",
                   {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        return self

    def __exit__(self, *exc) -> None:
        with contextlib.suppress(Exception):
            self._send("Browser.close")
        with contextlib.suppress(Exception):
            self._proc.wait(timeout=10)
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._to_browser)
        with contextlib.suppress(OSError):
            self._reader.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = self._reader.read(1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe (did it crash?)")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _send(self, method: str, params: dict | None = None, *, session: bool = False) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self._events.append(answer)

    def _wait_for(self, event: str, deadline: float) -> None:
        while not any(e["method"] == event for e in self._events):
            self._events.append(self._read_message(deadline))

    # ---------------------------------------------------------------- pages

    def visit(self, url: str, *, settle: float = 0.5) -> PageReport:
        """Load ``url``; wait for the load event and for MathJax; return what the page did."""
        self._events.clear()
        deadline = time.monotonic() + self.timeout
        self._send("Page.navigate", {"url": url}, session=True)
        self._wait_for("Page.loadEventFired", deadline)
        result = self._send("Runtime.evaluate", {"expression": _PAGE_SCRIPT, "awaitPromise": True,
                                                 "returnByValue": True}, session=True)
        time.sleep(settle)  # late requests (fonts asked for by the typeset maths)
        self._send("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => 1)", "awaitPromise": True},
                   session=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{url}: the page script failed: {result['exceptionDetails']}")
        data = json.loads(result["result"]["value"])
        report = PageReport(url=url, **data)
        report.failed = self._failed_requests()
        return report

    def _failed_requests(self) -> list[str]:
        urls, failed = {}, []
        for e in self._events:
            p = e.get("params", {})
            if e["method"] == "Network.requestWillBeSent":
                urls[p["requestId"]] = p["request"]["url"]
            elif e["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
                failed.append(f"{p['response']['status']} {p['response']['url']}")
            elif e["method"] == "Network.loadingFailed" and not p.get("canceled"):
                failed.append(f"{p.get('errorText', 'failed')} {urls.get(p['requestId'], p['requestId'])}")
        return sorted(set(failed))

    def screenshot(self, url: str, path: str | Path, *, full_page: bool = False) -> Path:
        """Load ``url`` (waiting for MathJax) and save a PNG of the viewport (or the whole page) to ``path``."""
        self.visit(url)
        params = {"format": "png"}
        if full_page:
            size = self._send("Page.getLayoutMetrics", session=True)["cssContentSize"]
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}
        data = self._send("Page.captureScreenshot", params, session=True)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path

    def scroll_to(self, selector_text: str) -> None:
        """Scroll the current page so the first heading containing ``selector_text`` is at the top."""
        expr = ("(() => { const h = Array.from(document.querySelectorAll('h1,h2,h3')).find(e => e.innerText"
                f".includes({json.dumps(selector_text)})); if (h) h.scrollIntoView(); return !!h; }})()")
        self._send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=True)

    def open_details(self) -> None:
        """Open every collapsed ``<details>`` block (hints, solutions) of the current page."""
        self._send("Runtime.evaluate", {"expression": "document.querySelectorAll('details').forEach(d => d.open = true)"},
                   session=True)

    def capture(self, path: str | Path) -> Path:
        """Save a PNG of the current viewport."""
        data = self._send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path
