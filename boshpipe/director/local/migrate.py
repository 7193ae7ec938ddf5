"""v2 ``migrated_from``: instances of old instance groups become instances of a new one, disks kept.

This is how BOSH renames groups (and how a deployment leaves the v1 jobs of the 2015 templates for
release v15's single ``redis`` group) without losing data: the old instances, in the order the
``migrated_from`` list names their groups and then by index, become ``<group>/0``, ``/1``... and
keep their persistent disks. The first of them (the 2015 leader, when listed first) becomes the
bootstrap instance, i.e. v15's master, so the data the old master held is what the new one serves.
Pure: the caller moves the disk directories once the new plan is known to be valid.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def migrated(record: Record, manifest: dict[str, Any], deployment_dir: Path) -> tuple[Record, list[tuple[Path, Path]]]:
    """The state record with migrated instances renamed, and the disk directories to move (old, new)."""
    out = copy.deepcopy(record)
    instances: dict[str, Record] = out.get("instances") or {}
    assignments: dict[str, Any] = out.get("assignments") or {}
    moves: list[tuple[Path, Path]] = []
    for group in manifest.get("instance_groups") or []:
        if not isinstance(group, dict):
            continue
        name, sources = str(group.get("name") or ""), group.get("migrated_from") or []
        count = group.get("instances") if isinstance(group.get("instances"), int) else 0
        if not sources or not isinstance(sources, list) or any(r.get("job") == name for r in instances.values()):
            continue  # nothing to migrate from, or the group exists already (migration done)
        old: list[str] = []
        for source in sources:
            source_name = source.get("name") if isinstance(source, dict) else None
            keys = [k for k, r in instances.items() if r.get("job") == source_name]
            old.extend(sorted(keys, key=lambda k: int(instances[k].get("index", 0))))
        for index, key in enumerate(old[:count]):
            rec = instances.pop(key)
            new_disk = deployment_dir / "disks" / f"{name}-{index}"
            if rec.get("disk_dir"):
                moves.append((Path(rec["disk_dir"]), new_disk))
            rec.update(job=name, index=index, disk_dir=str(new_disk))
            instances[f"{name}/{index}"] = rec
            if key in assignments:
                assignments[f"{name}/{index}"] = assignments.pop(key)
    if "order" in out and moves:
        out["order"] = [k for k in out.get("order") or [] if k in instances]
    return out, moves


def move_disks(moves: list[tuple[Path, Path]]) -> None:
    """Rename the disks (a running process keeps its directory: a rename keeps the inode)."""
    for old, new in moves:
        if old.exists() and not new.exists():
            new.parent.mkdir(parents=True, exist_ok=True)
            old.rename(new)
