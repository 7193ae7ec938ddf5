"""Write a large manifest, ops file and vars file shaped like the corpus' scale case.

``--groups N`` instance groups of three jobs each (six plain properties, a password variable and a
URL built from two variables per job), N password definitions in ``variables:``, N+4 values in
the vars file, and an ops file of about 2.5 ops per group: a replace of ``instances`` found by
``name=``, a replace through ``extra?`` (creating a key), a remove every third group and an append
to ``azs`` every fifth. ``--groups 300`` is the size of ``scale-300-groups-760-ops`` (760 ops);
600 is twice it.

Usage: python bench/ops/generate.py DIR [--groups 600]
"""

from __future__ import annotations

import argparse
from pathlib import Path


def manifest(groups: int) -> str:
    lines = ["name: big-deployment", "releases:"]
    lines += [f'- name: release-{r}\n  version: "{r}.1.{r * 7 % 100}"' for r in range(20)]
    lines += ["stemcells:", "- alias: default\n  os: ubuntu-jammy\n  version: latest", "instance_groups:"]
    for g in range(groups):
        lines.append(f"- name: group-{g:03d}\n  azs: [z1, z2, z3]\n  instances: {g % 5 + 1}")
        lines.append("  vm_type: ((vm_type))\n  stemcell: default\n  networks:\n  - name: ((network))\n  jobs:")
        for j in range(3):
            lines.append(f"  - name: job-{j}\n    release: release-{(g + j) % 20}\n    properties:")
            lines += [f"      prop_{p}: value-{g}-{j}-{p}" for p in range(6)]
            lines.append(f"      password: ((pw_{g:03d}))")
            lines.append(f"      url: https://group-{g:03d}.((domain)):((port))/")
    lines.append("variables:")
    lines += [f"- name: pw_{g:03d}\n  type: password" for g in range(groups)]
    lines.append(
        "update:\n  canaries: 1\n  max_in_flight: 10\n  canary_watch_time: 1000-30000\n  update_watch_time: 1000-30000"
    )
    return "\n".join(lines) + "\n"


def ops(groups: int) -> str:
    out = []
    for g in range(groups):
        group = f"/instance_groups/name=group-{g:03d}"
        out.append(f"- type: replace\n  path: {group}/instances\n  value: {g % 7 + 1}\n")
        out.append(f"- type: replace\n  path: {group}/jobs/name=job-1/properties/extra?/level\n  value: {g}\n")
        if g % 3 == 0:
            out.append(f"- type: remove\n  path: {group}/jobs/name=job-2/properties/prop_5\n")
        if g % 5 == 0:
            out.append(f"- type: replace\n  path: {group}/azs/-\n  value: z4\n")
    return "\n".join(out)


def variables(groups: int) -> str:
    lines = ["vm_type: default", "network: default", "domain: example.com", "port: 8443"]
    lines += [f"pw_{g:03d}: secret-{g:03d}" for g in range(groups)]
    return "\n".join(lines) + "\n"


def write(directory: Path, groups: int) -> list[Path]:
    """Write base.yml, ops1.yml and vars.yml; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {"base.yml": manifest(groups), "ops1.yml": ops(groups), "vars.yml": variables(groups)}
    for name, text in files.items():
        (directory / name).write_text(text)
    return [directory / name for name in files]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--groups", type=int, default=600)
    arguments = parser.parse_args()
    print("\n".join(str(p) for p in write(arguments.directory, arguments.groups)))
