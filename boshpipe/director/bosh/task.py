"""Following one director task: poll its state, stream its events, cancel it on Ctrl-C.

The director runs long operations as tasks. Like the bosh CLI, we poll ``GET /tasks/<id>`` and,
*after* each state read (so the output is complete once the state is final), fetch only the new
part of ``GET /tasks/<id>/output?type=event`` with ``Range: bytes=<offset>-``:

* ``206`` carries the bytes from ``offset``; ``200`` means the server ignored the range and sent
  everything (we skip what we already have); ``416`` means nothing new yet;
* a chunk may end in the middle of a line: the partial line waits for the next chunk, so every
  ``Event`` handed to the sink comes from one complete JSON line, in order, as soon as it exists.

Ctrl-C while following asks "cancel task N?" on a terminal (and cancels without asking when there
is no terminal, e.g. in CI); SIGTERM (a Concourse abort, ``timeout``) cancels without asking, since
nobody is there to answer. Yes sends ``DELETE /task/<id>`` and keeps following until the director
reports the task finished (a second signal stops at once); no stops following and leaves the task
running on the director. Either way the interrupt is then raised again as
:class:`~boshpipe.errors.Interrupted` naming the task and how it ended, so the caller records the
deploy as interrupted and stops (a task that finished ``done`` after the signal does not let the
chain carry on to its tests).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from boshpipe.director.protocol import Event, EventSink, TaskResult
from boshpipe.director.redact import Scrubber, one_line
from boshpipe.errors import DirectorError, Interrupted, TaskFailed

log = logging.getLogger(__name__)

RUNNING_STATES = frozenset({"queued", "processing", "cancelling"})
FINAL_STATES = frozenset({"done", "error", "cancelled", "timeout"})


class Caller(Protocol):
    """An authenticated director request against our own base URL (see ``BoshDirector._call``)."""

    def __call__(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> requests.Response: ...


ConfirmCancel = Callable[[str], bool]


def ask_on_terminal(question: str) -> bool:
    """Ask on a terminal; without one (CI), answer yes: an unattended run should not leave work behind."""
    if not sys.stdin.isatty():
        return True
    try:
        answer = input(question)
    except EOFError:
        return True
    return answer.strip().lower() in ("y", "yes")


@dataclass
class TaskFollower:
    """Follows tasks of one director. ``poll_interval`` and ``timeout`` are in seconds."""

    call: Caller
    scrub: Scrubber
    where: str
    poll_interval: float = 1.0
    timeout: float | None = None
    confirm_cancel: ConfirmCancel = ask_on_terminal
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def follow(self, task_id: str, on_event: EventSink) -> TaskResult:
        """Wait for the task to finish, streaming its events; returns how it ended (never raises for it)."""
        stream = EventStream(self.scrub)
        deadline = None if self.timeout is None else self.clock() + self.timeout
        cancelling: KeyboardInterrupt | None = None
        state = "queued"
        while True:
            try:
                task = self._state(task_id)
                state = str(task.get("state"))
                for event in stream.read(self._output_chunk(task_id, stream.offset)):
                    on_event(event)
                if task.get("state") in FINAL_STATES:
                    for event in stream.flush():
                        on_event(event)
                    if cancelling is not None:
                        raise Interrupted.of(cancelling, task_id, state)
                    return self._result(task_id, task, stream)
                if deadline is not None and self.clock() >= deadline:
                    raise TaskFailed(
                        f"task {task_id} is still {task.get('state')} on {self.where} after"
                        f" {self.timeout:g}s; it keeps running there"
                        f" (cancel it with bosh cancel-task {task_id})",
                        task_id,
                    )
                self.sleep(self.poll_interval)
            except Interrupted as err:
                if err.task_id is not None:
                    raise  # ours, raised above once the cancelled task ended
                self._interrupted(task_id, err, state, cancelling)
                cancelling = err
            except KeyboardInterrupt as err:
                self._interrupted(task_id, err, state, cancelling)
                cancelling = err

    def _interrupted(self, task_id: str, err: KeyboardInterrupt, state: str, cancelling: object) -> None:
        """Cancel the task (asking first on Ctrl-C at a terminal), or raise to stop following now."""
        if cancelling is not None:
            raise Interrupted.of(err, task_id, "cancelling") from None
        unattended = isinstance(err, Interrupted) and err.signal_name == "SIGTERM"
        if not unattended and not self.confirm_cancel(f"cancel task {task_id} on {self.where}? [y/N] "):
            raise Interrupted.of(err, task_id, f"{state}, left running") from None
        self.cancel(task_id)

    def cancel(self, task_id: str) -> None:
        """``DELETE /task/<id>``; a task that already finished is not an error."""
        self.call("DELETE", f"/task/{task_id}", ok=(200, 202, 204, 302, 400, 404))

    def result_output(self, task_id: str) -> str:
        """``GET /tasks/<id>/output?type=result``: what instances and errand tasks produce."""
        return self.call("GET", f"/tasks/{task_id}/output?type=result", ok=(200, 204)).text

    def _state(self, task_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/tasks/{task_id}")
        try:
            task = json.loads(response.text)
        except ValueError:
            task = None
        if not isinstance(task, dict):
            raise DirectorError(f"{self.where} sent an unreadable state for task {task_id}")
        return task

    def _output_chunk(self, task_id: str, offset: int) -> tuple[int, bytes, int]:
        """(status, body, start offset of body) of the event output from ``offset`` on."""
        response = self.call(
            "GET",
            f"/tasks/{task_id}/output?type=event",
            headers={"Range": f"bytes={offset}-"},
            ok=(200, 204, 206, 416),
        )
        start = 0
        if response.status_code == 206:
            start = _content_range_start(response.headers.get("Content-Range"), offset)
        return response.status_code, response.content, start

    def _result(self, task_id: str, task: Mapping[str, Any], stream: EventStream) -> TaskResult:
        state = str(task.get("state"))
        result = task.get("result")
        text = str(result) if result else ""
        if state != "done" and not text:
            text = stream.last_error or f"task {state}"
        return TaskResult(
            id=task_id,
            state=state,
            description=one_line(self.scrub(str(task.get("description") or ""))),
            result=one_line(self.scrub(text)),
        )


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-")


def _content_range_start(header: str | None, default: int) -> int:
    match = _CONTENT_RANGE.match(header or "")
    return int(match.group(1)) if match else default


class EventStream:
    """Turns successive chunks of the event output into Events, one per complete JSON line."""

    def __init__(self, scrub: Scrubber) -> None:
        self.offset = 0
        self._partial = b""
        self._scrub = scrub
        self.last_error = ""

    def read(self, chunk: tuple[int, bytes, int]) -> Iterator[Event]:
        status, body, start = chunk
        if status == 200:  # whole output: keep only what we have not seen
            new = body[self.offset :]
        elif status == 206:
            new = body[max(0, self.offset - start) :]
        else:  # 204 / 416: nothing new yet
            new = b""
        self.offset += len(new)
        *lines, self._partial = (self._partial + new).split(b"\n")
        for line in lines:
            yield from self._parse(line)

    def flush(self) -> Iterator[Event]:
        """At the end of a task, a last line without newline is still an event."""
        line, self._partial = self._partial, b""
        yield from self._parse(line)

    def _parse(self, line: bytes) -> Iterator[Event]:
        if not line.strip():
            return
        try:
            raw = json.loads(line)
        except ValueError:
            log.debug("skipping an event line that is not JSON (%d bytes)", len(line))
            return
        if isinstance(raw, dict):
            event = parse_event(raw, self._scrub)
            if event.error:
                self.last_error = event.error
            yield event


def parse_event(raw: Mapping[str, Any], scrub: Scrubber) -> Event:
    """One director event line → Event (stage/task events, error lines, warnings, deprecations)."""

    def text(value: object) -> str:
        return one_line(scrub(str(value))) if value is not None else ""

    def number(value: object) -> int:
        try:
            return int(value) if isinstance(value, int | float) else int(str(value))
        except (TypeError, ValueError):
            return 0

    error = raw.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        message = text(error.get("message"))
        return Event(
            time=number(raw.get("time")),
            stage="Error",
            task=f"Error {code}" if code is not None else "Error",
            state="failed",
            error=message or "the director reported an error",
        )
    kind = raw.get("type")
    if kind in ("warning", "deprecation") and "stage" not in raw:
        message = text(raw.get("message"))
        return Event(time=number(raw.get("time")), stage=str(kind).capitalize(), task=message)
    data = raw.get("data")
    data_error = data.get("error") if isinstance(data, Mapping) else None
    tags = raw.get("tags")
    return Event(
        time=number(raw.get("time")),
        stage=text(raw.get("stage")),
        task=text(raw.get("task")),
        tags=tuple(text(t) for t in tags) if isinstance(tags, list) else (),
        index=number(raw.get("index")),
        total=number(raw.get("total")),
        state=text(raw.get("state")),
        progress=number(raw.get("progress")),
        error=text(data_error) if data_error else None,
    )
