"""Run every benchmark in bench/ (each `bench/<name>/run.py`) and print its figures.

    python -m bench            all of them
    python -m bench spiff      only bench/spiff
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(names: list[str]) -> int:
    scripts = sorted(HERE.glob("*/run.py"))
    chosen = [s for s in scripts if not names or s.parent.name in names]
    if not chosen:
        print(f"no benchmark named {', '.join(names)}; have: {', '.join(s.parent.name for s in scripts)}")
        return 2
    failed = 0
    for script in chosen:
        print(f"== bench/{script.parent.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
