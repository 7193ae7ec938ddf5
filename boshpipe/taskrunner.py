"""What every invoke task shares: one-line errors instead of tracebacks, SIGTERM handled like Ctrl-C.

It lives in the package (not in tasks.py) so that tasks.py and pipeline_tasks.py both use it
without importing each other.

**Why SIGTERM is turned into an exception.** A Concourse abort, ``timeout`` and ``kill`` send
SIGTERM, whose default action ends the process at once: no ``finally`` runs, so the env's lock
stayed held for the lock TTL and the director task kept running unrecorded. While a task runs,
SIGTERM raises :class:`~boshpipe.errors.Interrupted` (a ``KeyboardInterrupt``), so it takes the
very path Ctrl-C takes: the director task is cancelled or marked, the deploy is recorded as
interrupted, the lock is released, and the process exits 143 (SIGINT: 130).

**Why notes.** A failure while cleaning up (a lock that cannot be released on a full disk, an
interrupted record that cannot be written) must not replace the error that caused it: cleanup
code adds a note to the exception in flight (``add_note``) and the note is shown after the error,
on the same line.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

from invoke.exceptions import Exit

from boshpipe.errors import BoshpipeError, Interrupted

F = TypeVar("F", bound=Callable[..., Any])

DEBUG = "show a traceback instead of a one-line error"


def one_line_errors(body: F) -> F:
    """Turn user-facing failures into one line on stderr and a non-zero exit.

    ``--debug`` (or ``BOSHPIPE_DEBUG=1``) lets the exception through with its traceback.
    """

    @functools.wraps(body)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = kwargs.get("debug") or os.environ.get("BOSHPIPE_DEBUG") == "1"
        try:
            with sigterm_interrupts():
                return body(*args, **kwargs)
        except BoshpipeError as err:
            if debug:
                raise
            raise Exit(f"error: {with_notes(str(err), err)}", code=err.exit_code) from None
        except KeyboardInterrupt as err:
            if debug:
                raise
            name = err.signal_name if isinstance(err, Interrupted) else "SIGINT"
            code = err.exit_code if isinstance(err, Interrupted) else 130
            raise Exit(f"error: {with_notes(f'interrupted by {name}', err)}", code=code) from None

    return wrapper  # type: ignore[return-value]


def with_notes(text: str, err: BaseException) -> str:
    """The error's line followed by its notes (what cleanup could not do), still one line."""
    notes = [" ".join(note.split()) for note in getattr(err, "__notes__", ())]
    return "; ".join([text, *notes])


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While the block runs, SIGTERM raises ``Interrupted("SIGTERM")`` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted("SIGTERM")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
