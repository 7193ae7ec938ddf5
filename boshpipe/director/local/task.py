"""Director-style tasks for the local director: an id, events as they happen, a recorded outcome.

The chain prints events and keeps task ids in its records the same way for both directors, so the
local director numbers its tasks and shapes its events like a real one (stage, task, tags,
index/total, state).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from boshpipe.director.local.state import StateDir
from boshpipe.director.protocol import Event, EventSink, TaskResult


class Task:
    def __init__(self, state: StateDir, sink: EventSink, kind: str) -> None:
        self.id = state.next_task_id()
        self.kind = kind
        self._state = state
        self._sink = sink
        self._started = time.time()

    def event(
        self,
        stage: str,
        task: str = "",
        *,
        tags: Iterable[str] = (),
        index: int = 1,
        total: int = 1,
        state: str = "started",
        error: str | None = None,
    ) -> None:
        progress = 100 if state == "finished" else 0
        self._sink(Event(int(time.time()), stage, task, tuple(tags), index, total, state, progress, error))

    def error_line(self, message: str) -> None:
        """The task's closing ``{"time", "error": ...}`` line."""
        self._sink(Event(int(time.time()), "", error=message))

    def end(self, state: str, description: str, result: str) -> TaskResult:
        self._state.record_task(
            {
                "id": self.id,
                "kind": self.kind,
                "state": state,
                "description": description,
                "result": result,
                "started_at": self._started,
                "ended_at": time.time(),
            }
        )
        return TaskResult(self.id, state, description, result)
