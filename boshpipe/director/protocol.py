"""The Director protocol and the values that cross it: events, task results, instances, errands.

It lives apart from ``boshpipe.director`` (which re-exports it and adds ``open_director``) so the
backends in ``director/local/`` and ``director/bosh/`` depend on the protocol alone, never on the
package that picks between them. It imports nothing from ``boshpipe`` but ``director/flags.py`` (the
deploy flags, a value both backends take).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from boshpipe.director.flags import DeployFlags


@dataclass(frozen=True)
class Event:
    """One director task event, shaped like the director's ``output?type=event`` lines."""

    time: int
    stage: str
    task: str = ""
    tags: tuple[str, ...] = ()
    index: int = 0
    total: int = 0
    state: str = ""  # started | finished | failed | in_progress
    progress: int = 0
    error: str | None = None  # set for {"time", "error": {...}} lines


EventSink = Callable[[Event], None]

NO_SUCH_DEPLOYMENT = "no such deployment"
"""What ``delete_deployment``'s result contains when there was nothing to delete, so ``destroy``
never says "deleted" about something that was not there."""


@dataclass(frozen=True)
class TaskResult:
    """How a director task ended. ``state`` is the director's: done, error, cancelled, timeout."""

    id: str
    state: str
    description: str = ""
    result: str = ""

    @property
    def ok(self) -> bool:
        return self.state == "done"


@dataclass(frozen=True)
class Instance:
    """One VM/process of a deployment.

    ``ips`` are the manifest's addresses; ``address`` is where this machine can reach the instance
    (the same IP on a real director, the loopback twin on the local director).
    """

    job: str
    index: int
    ips: tuple[str, ...]
    address: str
    state: str  # running | failing | stopped | unknown
    properties: dict[str, Any] = field(default_factory=dict, repr=False)  # may hold passwords
    bootstrap: bool = False  # the director's one bootstrap instance of the group (v15: the master)


@dataclass(frozen=True)
class ErrandResult:
    task: TaskResult
    exit_code: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class DirectorInfo:
    """What ``GET /info`` says: the director's name and version (``280.0.0 (00000000)``)."""

    name: str
    version: str

    @property
    def major(self) -> int:
        """The leading number of the version (0 when there is none): v270+ refuses v1 manifests."""
        digits = ""
        for char in self.version.strip():
            if not char.isdigit():
                break
            digits += char
        return int(digits) if digits else 0


@dataclass(frozen=True)
class Stemcell:
    """A stemcell a v2 manifest names (``name`` or ``os``, ``version``), and where to get it from."""

    name: str = ""
    os: str = ""
    version: str = "latest"
    url: str | None = None
    sha1: str | None = None

    @property
    def label(self) -> str:
        return f"stemcell {self.name or self.os}/{self.version}"


class Director(Protocol):
    """What the chain asks of a director. Implementations raise ``DirectorError`` subclasses."""

    def describe(self) -> str:
        """A short human label, e.g. ``local director at .boshpipe/director`` or the URL."""
        ...

    def deploy(
        self, manifest: str, on_event: EventSink, *, dry_run: bool = False, flags: DeployFlags | None = None
    ) -> TaskResult:
        """Deploy ``manifest`` (YAML text). Returns the finished task; never raises on a failed task.

        ``flags`` are the bosh CLI's deploy flags (recreate, fix, skip_drain, canaries, max_in_flight).
        """
        ...

    def deployed_manifest(self, deployment: str) -> str | None:
        """The manifest currently deployed, or None when the deployment does not exist."""
        ...

    def instances(self, deployment: str) -> list[Instance]:
        """Instances with their addresses and states (errand jobs excluded)."""
        ...

    def variable(self, deployment: str, name: str) -> str | None:
        """The value of a ``((name))`` the director's config server keeps for ``deployment`` (None: unknown)."""
        ...

    def run_errand(self, deployment: str, errand: str, on_event: EventSink) -> ErrandResult:
        """Run an errand; ``exit_code`` tells whether it passed (the task itself is done either way)."""
        ...

    def delete_deployment(self, deployment: str, on_event: EventSink) -> TaskResult:
        """Delete the deployment and everything it owns (processes, disks)."""
        ...

    def info(self) -> DirectorInfo:
        """Name and version (``GET /info``): ``manifest: auto`` picks v2 from v270 on."""
        ...

    def cloud_configs(self) -> dict[str, str]:
        """The latest content of every cloud config by name (``default`` is the unnamed one)."""
        ...

    def diff_cloud_config(self, name: str, content: str) -> list[str]:
        """What uploading ``content`` as cloud config ``name`` would change: ``+ ``/``- `` lines, [] if nothing."""
        ...

    def update_cloud_config(self, name: str, content: str) -> None:
        """Upload ``content`` as the latest version of cloud config ``name`` (``POST /configs``)."""
        ...

    def prepare_stemcells(self, wanted: tuple[Stemcell, ...], on_event: EventSink) -> TaskResult | None:
        """Upload by URL the stemcells the director lacks; raise naming one it lacks with no URL.

        Returns the failed upload task if one fails (the deploy is not attempted then), else None.
        """
        ...
