"""What a run prints: progress lines as the director reports them, and short summaries.

Kept apart so that every step prints the same way whichever director or store is behind it.
Nothing here ever receives a secret: events and records are built without them.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from boshpipe.director import Event


class Reporter:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.quiet = quiet
        self._started: dict[tuple[str, str, int], float] = {}

    def line(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def event(self, event: Event) -> None:
        """One director event, formatted like the bosh CLI's task output."""
        clock = time.strftime("%H:%M:%S", time.localtime(event.time or time.time()))
        if event.error:
            self.line(f"  {clock} | Error: {event.error}")
            return
        tags = [t for t in event.tags if not event.task.startswith(t)]
        what = " ".join([f"{event.stage}:", *tags, event.task]).rstrip()
        key = (event.stage, event.task, event.index)
        progress = f" ({event.index}/{event.total})" if event.total > 1 else ""
        if event.state == "started":
            self._started[key] = time.monotonic()
            self.line(f"  {clock} | {what}{progress}")
        elif event.state in ("finished", "failed"):
            began = self._started.pop(key, None)
            took = f" ({time.monotonic() - began:.2f}s)" if began is not None else ""
            verdict = "done" if event.state == "finished" else "FAILED"
            self.line(f"  {clock} | {what}{progress}: {verdict}{took}")
        elif event.state:
            self.line(f"  {clock} | {what}{progress}: {event.state}")
