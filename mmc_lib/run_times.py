"""How long each notebook takes, read from the committed results' provenance — never typed by hand.

``python -m mmc_lib.run_times`` rewrites the table between the ``run-times`` markers in ``README.md`` and
``notebooks/README.md``; ``--check`` only reports drift (``tests/test_run_times.py`` fails on it). The wall time is
what :mod:`mmc_lib.run_all` measured around the whole notebook and wrote into ``provenance.wall_seconds``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmc_lib.results import load_results
from mmc_lib.runtime import project_root

START, END = "<!-- run-times:start -->", "<!-- run-times:end -->"
READMES = ("README.md", "notebooks/README.md")


def run_times(profile: str = "full", *, out_dir=None) -> list[dict]:
    """One record per notebook with stored results: seconds, cores, CPU, threads, device, date, commit."""
    records = []
    for payload in load_results(profile, out_dir=out_dir):
        prov = payload["provenance"]
        machine = prov.get("machine") or {}
        records.append({"notebook": payload["notebook"], "seconds": prov.get("wall_seconds"),
                        "source": prov.get("wall_seconds_source"), "cores": machine.get("cpu_cores"),
                        "cpu": machine.get("cpu"), "load": machine.get("load_1min"), "torch_threads": (machine.get("threads") or {}).get("torch"),
                        "device": prov.get("device"), "date": (prov.get("date") or "")[:10],
                        "commit": (prov.get("git_commit") or "")[:7]})
    return records


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "not measured"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min ({seconds:.0f} s)"


def markdown_table(records: list[dict]) -> str:
    """The generated block: one row per notebook and the total, with the machine each time was measured on."""
    lines = ["| notebook | full-profile wall time | measured on | date | commit |", "|---|---|---|---|---|"]
    for r in records:
        where = f"{r['device']}, {r['cores'] or '?'} cores" + (f" ({r['cpu']})" if r["cpu"] else "")
        if r.get("load") is not None and r["cores"] and r["load"] > r["cores"]:
            where += f", shared (load {r['load']:.0f})"
        if r["source"] and r["source"] != "run_all":
            where += f"; {r['source']}"
        lines.append(f"| `{r['notebook']}` | {_minutes(r['seconds'])} | {where} | {r['date']} | `{r['commit']}` |")
    measured = [r["seconds"] for r in records if r["seconds"] is not None]
    lines.append(f"| **total** | **{_minutes(sum(measured))}** | {len(measured)} of {len(records)} notebooks "
                 f"measured | | |")
    return "\n".join([START, *lines, END])


def replace_block(text: str, block: str) -> str:
    """``text`` with the marked block replaced; a ValueError when the markers are missing."""
    if START not in text or END not in text:
        raise ValueError(f"markers {START} … {END} not found")
    head, rest = text.split(START, 1)
    return head + block + rest.split(END, 1)[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a README's table differs; write nothing")
    args = parser.parse_args(argv)
    root = project_root()
    block = markdown_table(run_times("full", out_dir=root))
    stale = []
    for name in READMES:
        path = Path(root, name)
        text = path.read_text()
        new = replace_block(text, block)
        if new != text:
            stale.append(name)
            if not args.check:
                path.write_text(new)
    verb = "out of date" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "run-time tables up to date")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
