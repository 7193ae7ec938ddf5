"""The local director when its run is cut short: a signal mid-rollout, a damaged task counter, lost state.

Real redis-server processes (10.253.x twins on loopback, as in test_local.py). The interrupt is
raised from the event sink, which the rollout calls synchronously at a known point: exactly what
the SIGTERM handler does when the signal lands there (tests/test_crash_safety.py sends the real
signal to a real `invoke` process).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from boshpipe.director import Event
from boshpipe.director.local import LocalDirector
from boshpipe.director.local.redisproc import processes_under
from boshpipe.director.local.state import StateDir
from boshpipe.errors import DirectorError, Interrupted
from tests.director.localcluster import Events, dump, v1_manifest


def test_sigterm_mid_rollout_marks_the_task_and_keeps_started_instances_findable(
    director: LocalDirector, tmp_path: Path
) -> None:
    seen = Events()

    def sink(event: Event) -> None:
        seen.append(event)
        if event.stage == "Updating instance" and event.task == "redis_z1/0 (canary)" and event.state == "started":
            raise Interrupted("SIGTERM")  # the leader is up, the first replica is being started

    with pytest.raises(Interrupted) as caught:
        director.deploy(dump(v1_manifest("lt-crash", "10.253.9")), sink)
    assert (caught.value.signal_name, caught.value.task_id, caught.value.task_state) == ("SIGTERM", "1", "cancelled")
    task = json.loads((tmp_path / "director" / "tasks" / "1.json").read_text())
    assert (task["state"], task["result"]) == ("cancelled", "lt-crash: interrupted, rollout stopped")
    # what was started is in the state, so later runs find it; the leader keeps serving
    state = StateDir(tmp_path / "director").load("lt-crash")
    assert state is not None and "redis_leader_z1/0" in state["instances"]
    leader = [i for i in director.instances("lt-crash") if i.job == "redis_leader_z1"]
    assert [i.state for i in leader] == ["running"]
    deleted = director.delete_deployment("lt-crash", Events())
    assert deleted.ok
    assert processes_under(tmp_path / "director" / "deployments" / "lt-crash") == []


def test_delete_without_state_stops_the_processes_and_says_so(director: LocalDirector, tmp_path: Path) -> None:
    assert director.deploy(dump(v1_manifest("lt-wiped", "10.253.10")), Events()).ok
    home = tmp_path / "director" / "deployments" / "lt-wiped"
    assert len(processes_under(home)) == 3
    shutil.rmtree(tmp_path / "director")
    result = director.delete_deployment("lt-wiped", Events())
    assert result.ok and "had no state for it; stopped 3 redis-server process(es)" in result.result
    assert processes_under(home) == []
    again = director.delete_deployment("lt-wiped", Events())
    assert again.ok and "no such deployment, nothing to delete" in again.result


@pytest.mark.parametrize("content", ["twelve\n", "1e3\n", "-4\n", "\x00\x01", "9" * 40 + "x"])
def test_a_damaged_task_counter_is_one_line_naming_the_file(tmp_path: Path, content: str) -> None:
    state = StateDir(tmp_path)
    (tmp_path / "task_counter").write_text(content)
    with pytest.raises(DirectorError) as caught:
        state.next_task_id()
    text = str(caught.value)
    assert "\n" not in text and f"task counter {tmp_path / 'task_counter'} holds" in text and "delete it" in text


def test_without_a_counter_task_ids_resume_after_the_highest_recorded(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    for task_id in ("3", "41", "7"):
        state.record_task({"id": task_id, "state": "done"})
    assert state.next_task_id() == "42"
    assert state.next_task_id() == "43"
