"""Run every ``benchmarks/bench_*.py`` script in turn (``make benchmark``).

Benchmarks time things; tests never do. Each script prints its own table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    folder = Path(__file__).resolve().parent
    failed = 0
    for script in sorted(folder.glob("bench_*.py")):
        print(f"=== {script.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], cwd=folder.parent).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
