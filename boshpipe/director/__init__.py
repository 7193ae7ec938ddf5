"""Directors: everything the chain needs from a BOSH director, and the backends that provide it.

Layout (each room imports only from the rooms listed before it):

* ``protocol.py`` — the ``Director`` protocol and the values crossing it (``Event``, ``TaskResult``,
  ``Instance``, ``ErrandResult``), re-exported here.
* ``redact.py``, ``groups.py`` — what both backends and the checks share: the one redaction rule for
  everything shown, and the reader that turns v1/v2 manifests into instance groups (``JobSpec``).
* ``local/`` — the embedded default: real redis-server processes on loopback twins of manifest IPs.
* ``bosh/`` — a real director over its HTTP API (UAA, task following, diff, client config).

``local`` and ``bosh`` never import each other (a test enforces it); the chain never asks which one
it has, ``open_director`` picks it from the env's ``director`` setting.
"""

from __future__ import annotations

import os
from pathlib import Path

from boshpipe.director.protocol import (
    NO_SUCH_DEPLOYMENT,
    Director,
    DirectorInfo,
    ErrandResult,
    Event,
    EventSink,
    Instance,
    Stemcell,
    TaskResult,
)

__all__ = [
    "NO_SUCH_DEPLOYMENT",
    "Director",
    "DirectorInfo",
    "ErrandResult",
    "Event",
    "EventSink",
    "Instance",
    "Stemcell",
    "TaskResult",
    "open_director",
]


def open_director(setting: str | None, workdir: Path) -> Director:
    """The director for an env's ``director`` setting.

    ``None``/``"local"`` selects the embedded local director keeping its state in ``workdir``;
    an ``https://`` URL selects the BOSH director client (BOSH_* variables give credentials).
    """
    if setting in (None, "", "local"):
        from boshpipe.director.local import LocalDirector

        return LocalDirector(workdir / "director")
    from boshpipe import envvars
    from boshpipe.director.bosh import BoshDirector

    if not os.environ.get("BOSHPIPE_POLL_INTERVAL", "").strip():
        return BoshDirector.from_environment(setting)
    seconds = envvars.seconds("BOSHPIPE_POLL_INTERVAL", 1.0, 0.001, 600)
    return BoshDirector.from_environment(setting, poll_interval=seconds)
