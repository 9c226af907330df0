"""Fetch the papers' own data sets: ``python -m mmc_lib.data.fetch [NAME ...]`` (``make data [NAME=...]``).

For each file of each :data:`~mmc_lib.data.sources.SOURCES` entry: skip it if it is present and verifies; else
download it with a progress bar into ``<file>.part`` beside its final place (resuming a partial download with an
HTTP ``Range`` request), verify size and every known checksum, run the structural check, and only then move it
into place with one atomic rename. A file that fails verification is removed, and the error names the expected
and the actual value. One lock per file makes two fetches of the same file wait for each other: one downloads,
the other finds the verified file.

Every fetched file is recorded in ``fetched.json`` in the data directory (URL, size, sha256, what verified it).
A file with no published checksum is trusted on first use: a warning says so, and a later fetch must match the
sha256 recorded then.

Without network each data set is reported ``not reachable``; the exit status is non-zero only when a data set was
asked for by name (or a file failed verification). Nothing else in the project downloads: ``make reproduce``
never calls this.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import hashlib
import json
import os
import http.client
import sys
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from mmc_lib.data.sources import SOURCES, NoPublicCopy, Remote, Source, StructureError, run_check

RECORD = "fetched.json"
LOCKS = ".fetch-locks"  # one lock file per data file, in the data directory
CHUNK = 1 << 16


class VerificationError(ValueError):
    """A downloaded (or present) file differs from what its source pins."""


class NotReachable(OSError):
    """No URL of a file answered."""


@dataclass
class FileResult:
    path: str
    status: str  # "present", "fetched", "resumed", "not reachable", "failed"
    detail: str = ""


@dataclass
class SourceResult:
    name: str
    status: str  # "present", "fetched", "not reachable", "failed", "no public copy"
    files: list[FileResult]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("present", "fetched")


# ------------------------------------------------------------------ hashing and verification

def digests(path: Path) -> dict[str, str]:
    """sha256, md5 and git's blob id of ``path`` in one pass."""
    size = path.stat().st_size
    sha256, md5, blob = hashlib.sha256(), hashlib.md5(usedforsecurity=False), hashlib.sha1(usedforsecurity=False)
    blob.update(b"blob %d\0" % size)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha256.update(chunk)
            md5.update(chunk)
            blob.update(chunk)
    return {"sha256": sha256.hexdigest(), "md5": md5.hexdigest(), "git-blob": blob.hexdigest()}


def verify(remote: Remote, path: Path, data_dir: Path, recorded: dict | None = None) -> dict:
    """Check ``path`` against ``remote``'s size, checksums, the sha256 recorded on first use and its structure.

    Returns what was seen (size, digests, the structural finding); raises :class:`VerificationError` or
    :class:`~mmc_lib.data.sources.StructureError` naming expected and actual values.
    """
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        raise VerificationError(f"{remote.path}: size expected {remote.size:,} B, got {size:,} B")
    seen = digests(path)
    for name, expected in remote.checksums.items():
        if seen[name] != expected:
            raise VerificationError(f"{remote.path}: {name} expected {expected}, got {seen[name]}")
    previous = (recorded or {}).get("sha256")
    if not remote.checksums and previous and previous != seen["sha256"]:
        raise VerificationError(f"{remote.path}: sha256 expected {previous} (recorded in {RECORD} when it was first "
                                f"fetched), got {seen['sha256']}")
    structure = run_check(remote, path, data_dir)
    return {"size": size, **seen, "structure": structure}


# ------------------------------------------------------------------ locks and the record

@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive advisory lock on ``path`` (created if needed); POSIX ``flock``, one per open file. Where there is
    no ``fcntl`` (Windows) there is no lock: two racing fetches may then both download, and the atomic rename still
    leaves one verified file."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_record(data_dir: Path) -> dict:
    path = Path(data_dir) / RECORD
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text()).get("files", {})
    except (json.JSONDecodeError, AttributeError) as exc:
        raise VerificationError(f"{path} is not valid JSON ({exc}); move it aside to fetch again") from exc


def _write_record(data_dir: Path, rel: str, entry: dict) -> None:
    data_dir = Path(data_dir)
    with _locked(data_dir / LOCKS / f"{RECORD}.lock"):
        files = read_record(data_dir)
        files[rel] = entry
        tmp = data_dir / f".{RECORD}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"files": dict(sorted(files.items()))}, indent=1) + "\n")
        os.replace(tmp, data_dir / RECORD)


# ------------------------------------------------------------------ one download

def _progress(total: int | None, initial: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc,
                leave=False, disable=None if os.environ.get("TQDM_DISABLE") is None else True)


def _download(url: str, part: Path, *, timeout: float, desc: str) -> bool:
    """Download ``url`` into ``part``, resuming from its current size. Returns True when it resumed."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "mmc-companion data fetch"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 — pinned https/http URLs only
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the partial file is already complete
            return True
        raise
    with response:
        resumed = have > 0 and response.status == 206
        if have and not resumed:  # the server ignored the range: start again
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        part.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "ab" if resumed else "wb") as out, _progress(total, have, desc) as bar:
            for chunk in iter(lambda: response.read(CHUNK), b""):
                out.write(chunk)
                bar.update(len(chunk))
    got = part.stat().st_size
    if total is not None and got < total:  # the connection closed early: keep the part for the next try
        raise ConnectionError(f"interrupted after {got:,} of {total:,} bytes (the partial file is kept)")
    return resumed


def fetch_file(remote: Remote, data_dir: Path, *, timeout: float = 30.0) -> FileResult:
    """Bring one file into ``data_dir``: present and verified, or downloaded, verified and moved into place."""
    data_dir = Path(data_dir)
    dest = data_dir / remote.path
    with _locked(data_dir / LOCKS / (remote.path.replace("/", "__") + ".lock")):
        if dest.is_file():  # a file the user put there is never removed: it is reported
            try:
                verify(remote, dest, data_dir, read_record(data_dir).get(remote.path))
            except (VerificationError, StructureError) as exc:
                return FileResult(remote.path, "failed", f"present but does not verify, left as it is: {exc}")
            return FileResult(remote.path, "present")
        part = dest.with_name(dest.name + ".part")
        errors, resumed = [], False
        for url in remote.urls:
            try:
                resumed = _download(url, part, timeout=timeout, desc=dest.name)
                break
            except urllib.error.HTTPError as exc:
                errors.append(f"{url}: HTTP {exc.code} {exc.reason}")
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets, short reads
                errors.append(f"{url}: {getattr(exc, 'reason', None) or exc}")
        else:
            return FileResult(remote.path, "not reachable", "; ".join(errors))
        try:
            seen = verify(remote, part, data_dir, read_record(data_dir).get(remote.path))
        except (VerificationError, StructureError) as exc:
            part.unlink(missing_ok=True)
            return FileResult(remote.path, "failed", f"{exc}; the download was removed")
        os.replace(part, dest)
        trusted = not remote.checksums
        _write_record(data_dir, remote.path, {
            "url": url, "size": seen["size"], "sha256": seen["sha256"],
            "verified_by": sorted(remote.checksums) + (["structure"] if seen["structure"] else []),
            "structure": seen["structure"], "trusted_on_first_use": trusted,
            "fetched_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})
        if trusted:
            warnings.warn(f"{remote.path}: no checksum is published for this file; it was trusted on first use and "
                          f"its sha256 {seen['sha256']} is recorded in {data_dir / RECORD}", UserWarning, stacklevel=2)
        detail = f"sha256 {seen['sha256']}" + (f"; {seen['structure']}" if seen["structure"] else "")
        return FileResult(remote.path, "resumed" if resumed else "fetched", detail)


# ------------------------------------------------------------------ one data set, many

def fetch_source(source: Source | NoPublicCopy, data_dir: Path, *, timeout: float = 30.0) -> SourceResult:
    if isinstance(source, NoPublicCopy):
        return SourceResult(source.name, "no public copy", [], source.supply)
    results = []
    for remote in source.files:
        result = fetch_file(remote, data_dir, timeout=timeout)
        results.append(result)
        if result.status in ("failed", "not reachable"):  # later files may need this one (a label file)
            break
    statuses = {r.status for r in results}
    if "failed" in statuses:
        status = "failed"
    elif "not reachable" in statuses:
        status = "not reachable"
    elif statuses == {"present"}:
        status = "present"
    else:
        status = "fetched"
    detail = "; ".join(f"{r.path}: {r.detail}" for r in results if r.status in ("failed", "not reachable"))
    return SourceResult(source.name, status, results, detail)


def resolve(names: list[str]) -> list[Source | NoPublicCopy]:
    """Sources for ``names`` (source names or the registry entries they provide), each once, in order."""
    from mmc_lib.data.sources import source_for

    out: list[Source | NoPublicCopy] = []
    for name in names:
        src = source_for(name)
        if src is None:
            raise ValueError(f"nothing to fetch for {name!r}; fetchable: {sorted(SOURCES)}")
        if src not in out:
            out.append(src)
    return out


def fetch(names: list[str] | None = None, data_dir: str | os.PathLike | None = None, *,
          timeout: float = 30.0) -> list[SourceResult]:
    """Fetch ``names`` (default: every source) into ``data_dir`` (default: ``MMC_DATA_DIR``)."""
    from mmc_lib.data.datasets import resolve_data_dir

    root = resolve_data_dir(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    return [fetch_source(s, root, timeout=timeout) for s in resolve(list(names or SOURCES))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmc_lib.data.fetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"data sets to fetch (default: all): {', '.join(SOURCES)}")
    parser.add_argument("--data-dir", default=None, help="where the files go (default: MMC_DATA_DIR)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for a server (default 30)")
    parser.add_argument("--list", action="store_true", help="list every source and what it verifies, then exit")
    args = parser.parse_args(argv)
    if args.list:
        for s in SOURCES.values():
            what = s.supply if isinstance(s, NoPublicCopy) else f"{s.origin}; verifies {s.verifies}"
            print(f"{s.name} ({', '.join(s.provides)}): {what}")
        return 0
    try:
        results = fetch(args.names, args.data_dir, timeout=args.timeout)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for r in results:
        print(f"{r.name}: {r.status}" + (f" — {r.detail}" if r.detail else ""))
    failed = any(r.status == "failed" for r in results)
    missing = any(not r.ok for r in results)
    return 1 if failed or (args.names and missing) else 0


if __name__ == "__main__":
    sys.exit(main())
