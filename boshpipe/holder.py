"""Which process holds a lock, and whether it still lives: so a lock left by a dead run is taken over.

A lock carries its holder: host name, kernel boot id, pid and the process's start time (from
``/proc/<pid>/stat``). On the same host and boot, a holder whose pid is gone, or now belongs to a
process started at another time (a recycled pid), is dead for certain: its lock protects nothing,
and the next run takes it over instead of waiting out the TTL. That covers runs killed by SIGKILL
or the OOM killer, and runs whose lock release failed (a full disk). A holder on another host (or
where ``/proc`` is missing) is never judged: its lock lasts until it expires or ``invoke unlock``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

Holder = dict[str, str]


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def _start_time(pid: int) -> str | None:
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    # after the command: state is field 3, starttime field 22 (man 5 proc)
    return fields[19] if len(fields) > 19 and fields[0] not in ("Z", "X") else None


def this_process() -> Holder:
    """The identity of the running process, as a lock records it."""
    pid = os.getpid()
    return {
        "host": socket.gethostname(),
        "boot": _read("/proc/sys/kernel/random/boot_id") or "",
        "pid": str(pid),
        "start": _start_time(pid) or "",
    }


def is_dead(holder: Holder | None) -> bool:
    """True only when ``holder`` ran on this host and boot and that process no longer exists."""
    if not holder or not holder.get("boot") or not holder.get("start") or not str(holder.get("pid", "")).isdigit():
        return False
    here = this_process()
    if holder.get("host") != here["host"] or holder.get("boot") != here["boot"]:
        return False
    return _start_time(int(holder["pid"])) != holder["start"]
