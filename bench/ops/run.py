"""Time ``python -m boshpipe.ops interpolate`` on the corpus' scale case and generated ones.

For each input it measures the whole command (``python -m boshpipe.ops interpolate base.yml -o
ops1.yml -l vars.yml``, process start and output included; median of --runs), the same with
Python's bytecode cache enabled (a temporary ``PYTHONPYCACHEPREFIX``: the dev container sets
``PYTHONDONTWRITEBYTECODE``, so every run compiles this package again, which an installed package
never does), and the in-process work alone (reading, ops, variables, writing; timed inside a fresh
process because the YAML layer keeps per-process caches). Inputs:

* ``scale-300-groups-760-ops`` from ``../shared/ops-conformance`` (skipped, with a note, when
  ``../shared`` is not there): 333 KB, 760 ops, 304 variables; the bosh CLI takes 0.63 s;
* generated cases of 300 and 600 groups (``generate.py``): the same shape, and twice the size.

Certificate generation is timed apart: a fresh vars store per run, a CA and a leaf certificate
(two 3072-bit keys), against the CLI's 0.9 s.

Usage: python bench/ops/run.py [--runs 11] [--groups 300 600] [--cert-runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from generate import write

from bench.timing import command_runner, interleaved_medians, seconds

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("BOSHPIPE_SHARED", REPO.parent / "shared"))
SCALE_CASE = SHARED / "ops-conformance" / "cases" / "scale-300-groups-760-ops"
BOSH_CLI_SECONDS = 0.63  # bosh CLI v7.9.13 on the scale case, quiet machine of this class
BOSH_CLI_CERT_SECONDS = 0.9  # the same CLI generating two 3072-bit certificates

IN_PROCESS = """
import sys, time
from boshpipe.ops.cli import parse_command, run
start = time.perf_counter()
run(parse_command(["interpolate", *sys.argv[1:]]))
print(time.perf_counter() - start)
"""

CERTS = """\
ca: ((ca.certificate))
server: ((server.certificate))
variables:
- name: ca
  type: certificate
  options: {is_ca: true, common_name: bench-ca}
- name: server
  type: certificate
  options: {ca: ca, common_name: server.internal, alternative_names: [server.internal, 10.0.0.5]}
"""


def runner(args: list[str], env: dict[str, str], cwd: Path = REPO) -> Callable[[], object]:
    return command_runner([sys.executable, "-m", "boshpipe.ops", "interpolate", *args], cwd, env)


def in_process(args: list[str]) -> float:
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, *args], cwd=REPO, check=True, capture_output=True, text=True
    )
    return float(done.stdout)


def inputs(tmp: Path, groups: list[int]) -> list[tuple[str, list[Path]]]:
    cases = []
    if SCALE_CASE.is_dir():
        cases.append(("scale-300-groups-760-ops", [SCALE_CASE / n for n in ("base.yml", "ops1.yml", "vars.yml")]))
    else:
        print(f"note: {SCALE_CASE} not found (../shared beside the checkout, or BOSHPIPE_SHARED): skipped")
    for count in groups:
        cases.append((f"generated {count} groups", write(tmp / f"groups{count}", count)))
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--groups", type=int, nargs="+", default=[300, 600])
    parser.add_argument("--cert-runs", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        cached_env = {**env, "PYTHONPYCACHEPREFIX": str(tmp / "pycache")}
        cached_env.pop("PYTHONDONTWRITEBYTECODE", None)
        print(
            f"{'input':<26} {'size':>8} {'command (s)':>12} {'vs CLI 0.63s':>13} {'with .pyc (s)':>14} "
            f"{'work only (s)':>14}"
        )
        rows = []
        for label, (base, ops, variables) in inputs(tmp, args.groups):
            argv = [str(base), "-o", str(ops), "-l", str(variables)]
            variants = {"command": runner(argv, env), "cached": runner(argv, cached_env)}
            medians = interleaved_medians(variants, args.runs)
            work = statistics.median(in_process(argv) for _ in range(args.runs))
            size = base.stat().st_size
            rows.append((label, size, work))
            print(
                f"{label:<26} {size // 1024:>6}KB {medians['command']:>12.3f} "
                f"{BOSH_CLI_SECONDS / medians['command']:>12.1f}x {medians['cached']:>14.3f} {work:>14.3f}"
            )
        generated = [row for row in rows if row[0].startswith("generated")]
        if len(generated) > 1:
            (_, s0, w0), (_, s1, w1) = generated[0], generated[-1]
            print(f"scaling: {s1 / s0:.1f}x the input took {w1 / w0:.2f}x the work")

        store_dir = tmp / "certs"
        store_dir.mkdir()
        (store_dir / "base.yml").write_text(CERTS)
        cert_times = []
        for _ in range(args.cert_runs):
            (store_dir / "creds.yml").unlink(missing_ok=True)
            cert_times.append(seconds(runner(["base.yml", "--vars-store", "creds.yml"], env, store_dir)))
        cert = statistics.median(cert_times)
        print(
            f"certificates (CA + leaf, 3072-bit, fresh store): {cert:.3f} s median of {args.cert_runs} "
            f"(min {min(cert_times):.3f}), CLI {BOSH_CLI_CERT_SECONDS} s"
        )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
