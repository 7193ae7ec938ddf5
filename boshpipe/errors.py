"""User-facing failures.

Every failure a person can act on is a ``BoshpipeError``: ``str(err)`` is the one line the task
prints (what went wrong, where, and what to do). Anything else escaping to the task layer is a bug
and is shown with a traceback.
"""

from __future__ import annotations


class BoshpipeError(Exception):
    """A failure with a one-line explanation meant for the person running the task."""

    exit_code = 1

    def __str__(self) -> str:
        """Always one line: a line break that came in with the input (a file or key name, a YAML
        key, a member of an archive) is shown escaped instead of splitting the message."""
        return super().__str__().replace("\r", "\\r").replace("\n", "\\n")


class ConfigError(BoshpipeError):
    """An env.yml, stub, or environment variable is missing or wrong."""


class UpstreamError(BoshpipeError):
    """The upstream templates could not be fetched or resolved."""


class ManifestError(BoshpipeError):
    """The templates of an env could not be merged into a manifest."""


class CandidateError(BoshpipeError):
    """A candidate tgz is malformed, tampered with, or unsafe to unpack."""


class StoreError(BoshpipeError):
    """The artifact store failed (unreachable, denied, missing bucket...)."""


class NotFound(StoreError):
    """The object asked for does not exist."""


class AlreadyExists(StoreError):
    """A create-if-absent write found the object already there."""


class PreconditionFailed(StoreError):
    """A compare-and-swap write lost its race: someone else changed the object first."""


class DirectorError(BoshpipeError):
    """The director refused a request, or could not be reached."""


class TaskFailed(DirectorError):
    """A director task ended in error, cancelled or timeout."""

    def __init__(self, message: str, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


class CheckFailed(BoshpipeError):
    """A smoke, acceptance or integration check found the deployment wrong."""


class GateRefused(BoshpipeError):
    """A candidate does not satisfy the promotion rules of the target env."""


class LockHeld(BoshpipeError):
    """Another run holds the env's lock."""


class CorruptLedger(StoreError):
    """A ledger file (state pointer, lock, record) cannot be read as what it should be.

    The message names the file and what to do (``invoke ledger-repair`` for pointers and records,
    ``invoke unlock`` for a lock), so a damaged file never turns into a traceback.
    """


class Interrupted(KeyboardInterrupt):
    """SIGINT (Ctrl-C) or SIGTERM (a Concourse abort, ``timeout``, ``kill``) stopped the run.

    A ``KeyboardInterrupt`` so that every ``finally`` and ``except KeyboardInterrupt`` treats both
    signals alike: the env's lock is released, the director task is cancelled (or marked), and the
    deploy's record says interrupted. ``task_id``/``task_state`` are set by a director that was
    following a task when the signal came, so the record can name it.
    """

    def __init__(self, signal_name: str = "SIGINT", task_id: str | None = None, task_state: str | None = None):
        super().__init__(signal_name)
        self.signal_name = signal_name
        self.task_id = task_id
        self.task_state = task_state

    @classmethod
    def of(cls, err: KeyboardInterrupt, task_id: str | None, task_state: str | None) -> Interrupted:
        """``err`` (a plain Ctrl-C or an ``Interrupted``) as an ``Interrupted`` naming the task."""
        name = err.signal_name if isinstance(err, Interrupted) else "SIGINT"
        return cls(name, task_id, task_state)

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process the signal killed."""
        return 143 if self.signal_name == "SIGTERM" else 130
