"""`make data` (mmc_lib.data.fetch) against a loopback HTTP server: no internet is needed or used."""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import socket
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import paper_files
from mmc_lib.data import REGISTRY
from mmc_lib.data import fetch as F
from mmc_lib.data import sources as S
from mmc_lib.data.sources import NoPublicCopy, Remote, Source


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` with Range support; ``server.cut`` truncates one path's next response, ``server.delay``
    slows every chunk; every GET is logged with its Range header."""

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802
        srv = self.server
        body = srv.files.get(self.path)
        rng = self.headers.get("Range")
        with srv.lock:
            srv.log.append((self.path, rng))
        if body is None:
            self.send_error(404)
            return
        start = int(re.fullmatch(r"bytes=(\d+)-", rng).group(1)) if rng else 0
        if start >= len(body):
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        cut = srv.cut.pop(self.path, None)
        if cut is not None:  # send part of the body, then drop the connection
            self.wfile.write(payload[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        for i in range(0, len(payload), 4096):
            self.wfile.write(payload[i:i + 4096])
            if srv.delay:
                time.sleep(srv.delay)


@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.files, srv.cut, srv.delay, srv.log, srv.lock = {}, {}, 0.0, [], threading.Lock()
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(server, name: str, body: bytes, **kw) -> Remote:
    server.files[f"/{name}"] = body
    return Remote(f"sub/{name}", (f"{server.url}/{name}",), **kw)


def _sha(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


BODY = np.random.default_rng(0).bytes(300_000)


# ------------------------------------------------------------------ one file

def test_fetch_verifies_moves_into_place_and_records(server, tmp_path):
    remote = _serve(server, "a.bin", BODY, size=len(BODY), sha256=_sha(BODY),
                    md5=hashlib.md5(BODY).hexdigest())
    result = F.fetch_file(remote, tmp_path)
    assert result.status == "fetched", result
    assert (tmp_path / "sub/a.bin").read_bytes() == BODY
    assert not list((tmp_path / "sub").glob("*.part"))
    record = json.loads((tmp_path / F.RECORD).read_text())["files"]["sub/a.bin"]
    assert record["sha256"] == _sha(BODY) and record["size"] == len(BODY)
    assert record["verified_by"] == ["md5", "sha256"] and record["trusted_on_first_use"] is False
    # a second fetch finds the verified file and downloads nothing
    n_gets = len(server.log)
    assert F.fetch_file(remote, tmp_path).status == "present"
    assert len(server.log) == n_gets


def test_interrupted_download_is_kept_and_resumed_with_a_range_request(server, tmp_path):
    remote = _serve(server, "b.bin", BODY, size=len(BODY), sha256=_sha(BODY))
    server.cut["/b.bin"] = 100_000
    first = F.fetch_file(remote, tmp_path)
    assert first.status == "not reachable" and "interrupted after 100,000" in first.detail
    part = tmp_path / "sub/b.bin.part"
    assert part.stat().st_size == 100_000 and not (tmp_path / "sub/b.bin").exists()
    second = F.fetch_file(remote, tmp_path)
    assert second.status == "resumed", second
    assert server.log[-1] == ("/b.bin", "bytes=100000-")
    assert (tmp_path / "sub/b.bin").read_bytes() == BODY and not part.exists()


def test_partial_file_from_an_earlier_run_is_resumed(server, tmp_path):
    remote = _serve(server, "c.bin", BODY, size=len(BODY), sha256=_sha(BODY))
    part = tmp_path / "sub/c.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(BODY[:123_456])
    assert F.fetch_file(remote, tmp_path).status == "resumed"
    assert server.log == [("/c.bin", "bytes=123456-")]
    assert (tmp_path / "sub/c.bin").read_bytes() == BODY


def test_checksum_mismatch_removes_the_file_and_names_expected_and_actual(server, tmp_path):
    wrong = "0" * 64
    remote = _serve(server, "d.bin", BODY, sha256=wrong)
    result = F.fetch_file(remote, tmp_path)
    assert result.status == "failed"
    assert f"sha256 expected {wrong}, got {_sha(BODY)}" in result.detail and "removed" in result.detail
    assert list((tmp_path / "sub").iterdir()) == []


def test_size_and_git_blob_mismatch_are_caught(server, tmp_path):
    r1 = _serve(server, "e.bin", BODY, size=len(BODY) + 1)
    assert F.fetch_file(r1, tmp_path).detail.startswith(f"sub/e.bin: size expected {len(BODY) + 1:,} B, got")
    blob = hashlib.sha1(b"blob %d\0" % len(BODY) + BODY).hexdigest()
    r2 = _serve(server, "f.bin", BODY, git_blob=blob)
    assert F.fetch_file(r2, tmp_path).status == "fetched"  # git's blob id of the exact bytes verifies
    r3 = _serve(server, "g.bin", BODY[:-1], git_blob=blob)
    assert "git-blob expected" in F.fetch_file(r3, tmp_path).detail and not (tmp_path / "sub/g.bin").exists()


def test_git_blob_ids_match_the_shared_copies(shared_data_dir):
    """The pinned blob ids are git's own hash: checked on the DCIB label file we hold byte-for-byte."""
    esp = S.SOURCES["esp-game"].files[0]
    assert F.digests(shared_data_dir / esp.path)["git-blob"] == esp.git_blob
    assert F.digests(shared_data_dir / esp.path)["sha256"] == esp.sha256


def test_pinned_files_we_already_hold_verify(shared_data_dir):
    """Every pinned file that the shared folder already holds passes its own verification (sizes, official MD5s,
    sha256s, blob ids): the pins are the files' real values, not typos."""
    held = [(s.name, f) for s in S.SOURCES.values() if isinstance(s, Source) for f in s.files
            if (shared_data_dir / f.path).is_file()]
    assert {name for name, _ in held} == {"esp-game", "mnist", "fashion-mnist"} and len(held) == 6
    for _, remote in held:
        seen = F.verify(remote, shared_data_dir / remote.path, shared_data_dir)
        assert seen["size"] == remote.size


def test_present_file_that_does_not_verify_is_left_alone(server, tmp_path):
    remote = _serve(server, "h.bin", BODY, sha256=_sha(BODY))
    dest = tmp_path / "sub/h.bin"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"the user's own file")
    result = F.fetch_file(remote, tmp_path)
    assert result.status == "failed" and "left as it is" in result.detail
    assert dest.read_bytes() == b"the user's own file" and server.log == []


# ------------------------------------------------------------------ structure and trust on first use

def _esp_source(server, root: Path, rows: int | None = None) -> Source:
    """An ESP-Game-shaped source (labels with a sha256, features without) served from generated files."""
    label_path, y = paper_files.esp_labels(root / "gen", n=60)
    feats = paper_files.esp_features(root / "gen", y, rows=rows)
    files = []
    for path in [label_path, *feats]:
        body = path.read_bytes()
        real = next(f for f in S.SOURCES["esp-game"].files if f.path.endswith(path.name))
        server.files[f"/{path.name}"] = body
        pin = dict(sha256=_sha(body), size=len(body)) if path.name == "L.mat" else {}
        files.append(Remote(real.path, (f"{server.url}/{path.name}",), check=real.check, **pin))
    return Source("esp-game", tuple(files), origin="loopback", verifies="test")


def test_structural_check_and_trust_on_first_use(server, tmp_path):
    data = tmp_path / "data"
    source = _esp_source(server, tmp_path)
    with pytest.warns(UserWarning, match="trusted on first use"):
        result = F.fetch_source(source, data)
    assert result.status == "fetched", result
    record = json.loads((data / F.RECORD).read_text())["files"]
    feat = record["multimodal/esp-game/img_1.mat"]
    assert feat["trusted_on_first_use"] is True and feat["verified_by"] == ["structure"]
    assert "matches the 60 labels" in feat["structure"]
    assert record["multimodal/esp-game/L.mat"]["trusted_on_first_use"] is False
    # the recorded sha256 now pins the file: a different file at the same URL is refused on the next fetch
    (data / "multimodal/esp-game/txt_1.mat").unlink()
    server.files["/txt_1.mat"] = server.files["/img_2.mat"].replace(b"img", b"txt")
    again = F.fetch_source(source, data)
    assert again.status == "failed" and "recorded in fetched.json" in again.detail
    assert not (data / "multimodal/esp-game/txt_1.mat").exists()


def test_wrong_shaped_file_is_refused_by_the_structural_check(server, tmp_path):
    data = tmp_path / "data"
    source = _esp_source(server, tmp_path, rows=59)  # one row short of the label file
    result = F.fetch_source(source, data)
    assert result.status == "failed"
    assert "img_1.mat: expected a numeric matrix with 60 rows (one per label in multimodal/esp-game/L.mat), " \
           "found float64 (59, 6)" in result.detail
    assert (data / "multimodal/esp-game/L.mat").is_file()
    assert not list((data / "multimodal/esp-game").glob("img_*"))


def test_dm2c_check_refuses_the_wrong_feature_width(tmp_path):
    path = paper_files.dm2c_mixed(tmp_path / "train_file.mat", n=40, dim=1000, with_file=False, seed=0)
    assert "40 samples, 1000-d" in S.check_dm2c_mixed(path, tmp_path, dim=1000, n_clusters=10)
    with pytest.raises(S.StructureError, match=r"features must be 2048-d .* found widths \[1000\]"):
        S.check_dm2c_mixed(path, tmp_path, dim=2048, n_clusters=10)


# ------------------------------------------------------------------ no network, races, the command

def test_unreachable_host_is_reported_and_exit_status_depends_on_the_ask(monkeypatch, tmp_path):
    port = _closed_port()
    dead = Source("dead", (Remote("x/dead.bin", (f"http://127.0.0.1:{port}/dead.bin",), sha256="0" * 64),),
                  origin="nowhere", verifies="nothing")
    flickr = NoPublicCopy("flickr", "supply flickr.mat")
    monkeypatch.setattr(S, "SOURCES", {"dead": dead, "flickr": flickr})
    monkeypatch.setattr(F, "SOURCES", S.SOURCES)
    [result] = F.fetch(["dead"], tmp_path, timeout=5)
    assert result.status == "not reachable" and f"127.0.0.1:{port}/dead.bin" in result.detail
    assert not (tmp_path / "x").exists()  # nothing is created for a file that could not be fetched
    assert F.main(["--data-dir", str(tmp_path), "--timeout", "5"]) == 0  # everything, nothing reachable: exit 0
    assert F.main(["dead", "--data-dir", str(tmp_path), "--timeout", "5"]) == 1  # asked by name: exit 1
    assert F.main(["flickr", "--data-dir", str(tmp_path)]) == 1
    assert F.main(["no-such-set", "--data-dir", str(tmp_path)]) == 2


def test_second_mirror_is_used_when_the_first_is_down(server, tmp_path):
    server.files["/m.bin"] = BODY
    remote = Remote("sub/m.bin", (f"http://127.0.0.1:{_closed_port()}/m.bin", f"{server.url}/m.bin"),
                    sha256=_sha(BODY))
    assert F.fetch_file(remote, tmp_path).status == "fetched"


def test_two_racing_fetches_one_downloads_nothing_is_corrupt(server, tmp_path):
    remote = _serve(server, "r.bin", BODY, sha256=_sha(BODY))
    server.delay = 0.002  # ~74 chunks: the download takes long enough for the second fetch to arrive during it
    results, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        results.append(F.fetch_file(remote, tmp_path))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(r.status for r in results) == ["fetched", "present"]
    assert [p for p, _ in server.log] == ["/r.bin"]  # one download
    assert (tmp_path / "sub/r.bin").read_bytes() == BODY
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["r.bin"]  # no partial file left behind
    assert json.loads((tmp_path / F.RECORD).read_text())["files"]["sub/r.bin"]["sha256"] == _sha(BODY)


# ------------------------------------------------------------------ the pinned sources themselves

def test_every_paper_data_set_has_a_pinned_source_or_says_no_public_copy():
    from mmc_lib.studies.budgets import DDMC_PAPER_DATASETS

    for name in (*DDMC_PAPER_DATASETS, "wikipedia-dm2c", "nus-wide-10k", "mnist-train", "fashion-mnist"):
        src = S.source_for(name)
        assert src is not None, name
        if isinstance(src, NoPublicCopy):
            assert src.supply.startswith("no public copy known") and any(f.path in src.supply
                                                                          for f in REGISTRY[name].files)
            continue
        paths = {f.path for f in src.files}
        assert {f.path for f in REGISTRY[name].files} <= paths, name  # the fetch brings what the loader reads
        for f in src.files:
            assert f.checksums or f.check, f"{f.path}: neither a checksum nor a structural check"
            for url in f.urls:
                assert url.startswith(("https://", "http://"))
                if "github" in url and "zalandoresearch" not in url:  # pinned to a full commit id
                    assert re.search(r"/[0-9a-f]{40}/", url), url


def test_fetch_hint_names_the_command_or_the_missing_copy():
    assert S.fetch_hint("esp-game") == "make data NAME=esp-game"
    assert S.fetch_hint("caltech-3v") == S.fetch_hint("caltech-4v") == "make data NAME=caltech-5v"
    assert S.fetch_hint("nus-wide-10k") == "make data NAME=nus-wide-10k"
    assert "multimodal/iapr/iapr.mat" in S.fetch_hint("iapr")
    assert S.fetch_hint("cub") is None


def test_list_prints_every_source(capsys):
    assert F.main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in lines] == list(S.SOURCES)
    assert all("verifies" in line or "no public copy known" in line for line in lines)


def test_make_data_runs_the_fetcher_with_the_names():
    import shutil
    import subprocess

    from conftest import REPO

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "-o", ".venv/.installed", "data",
                          "NAME=esp-game caltech-5v"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert "-m mmc_lib.data.fetch esp-game caltech-5v" in out
