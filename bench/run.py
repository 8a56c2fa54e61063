"""Run every benchmark in bench/ (files named bench_*.py), each in its own process.

Each benchmark measures the studio against a peer or a raw limit in the same run and writes its figures
to bench/results/<name>.json; docs/benchmarks.md explains them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"=== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
