"""Crash safety through real `invoke` processes: signals, a full disk, damaged files, a wiped work dir.

Every case is driven the way it happens: a real `invoke` process gets a real signal, a real write
error or a damaged file, and the test then looks at what it left (exit code, the one stderr line,
the lock file, the records, `invoke status`, running processes).

Synchronisation is on what the process printed or on kernel state, never on sleeps:

- a deploy against the loopback fake BOSH director (tests/director/fake_director.py) whose task
  stays ``processing`` until the test finishes it: the test acts once the process printed the
  director's "Updating instance" events, i.e. while it follows the task mid-rollout;
- a deploy against the local director while the test holds the director's own lock
  (``director/deploy.lock``, as a concurrent deploy of another env would): the test acts once
  ``/proc/locks`` shows the process waiting for it.

**The full disk.** Tests run as root here, so a read-only directory stops nothing, and no small
file system can be mounted. What a full disk does to a writer is make its writes fail; the test
gets the same from the kernel by lowering the running process's ``RLIMIT_FSIZE`` to 0 with
``prlimit`` at the chosen moment: from then on every write to a file fails with ``EFBIG`` ("File too
large"), the store reports it like ENOSPC, and nothing else about the process changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from boshpipe.ledger import Ledger, Record
from boshpipe.store.local import LocalStore
from tests.director.e2e_fake import point_at
from tests.director.fake_director import WARDEN_STEMCELL, FakeDirector, MemoryBackend, Task
from tests.e2e_project import INVOKE, E2EProject

pytestmark = pytest.mark.e2e
SECRET = "uaa-client-secret-crash"
WAIT = 120.0  # a guard against a hung process, never a synchronisation


class HeldBackend(MemoryBackend):
    """Accepts any manifest, reveals the rollout's events, and leaves the task ``processing``."""

    def deploy(self, manifest: str, task: Task) -> None:
        name = str(yaml.safe_load(manifest)["name"])
        task.script([lambda t, line=line: t.raw_event(line) for line in self._lines(name)])

    def _lines(self, name: str) -> list[str]:
        return [json.dumps({"time": int(time.time()), **event}) + "\n" for event in self.deploy_events(name)]


class Running:
    """A real `invoke` process whose output is read line by line as it comes."""

    def __init__(self, e2e: E2EProject, *args: str) -> None:
        self.process = subprocess.Popen(
            [*INVOKE, *args],
            cwd=e2e.root,
            env=e2e.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.put(line)

    def wait_for(self, pattern: str) -> str:
        """Block until the process prints a line matching ``pattern``."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            self.seen.append(line)
            if re.search(pattern, line):
                return line
        self.process.kill()
        raise AssertionError(f"never printed {pattern!r}; printed:\n{''.join(self.seen)}")

    def finish(self) -> tuple[int, str, str]:
        assert self.process.stderr is not None
        code = self.process.wait(timeout=WAIT)
        err = self.process.stderr.read()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen), err


@pytest.fixture
def held_director(e2e: E2EProject) -> Iterator[FakeDirector]:
    """dev1 pointed at a fake BOSH director whose deploy tasks never finish by themselves."""
    backend = HeldBackend(stemcell_rows=[dict(WARDEN_STEMCELL)])
    backend.release_versions["redis"] = {"12"}
    fake = FakeDirector(backend, auth="uaa", client_secret=SECRET)
    with fake:
        point_at(e2e, fake, SECRET)
        yield fake


def deploy_task(fake: FakeDirector) -> Task:
    return next(task for task in fake.tasks.values() if task.description == "create deployment")


def records(e2e: E2EProject, env: str = "dev1") -> list[dict[str, Any]]:
    folder = e2e.workdir / "store" / "records" / env
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


def lock_file(e2e: E2EProject, env: str = "dev1") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((e2e.workdir / "store" / "locks" / f"{env}.json").read_text())
    return data


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def status(e2e: E2EProject, env: str = "dev1") -> dict[str, Any]:
    rows = json.loads(e2e.invoke("status", "--env", env, "--json").stdout)
    row: dict[str, Any] = rows[0]
    return row


# -- signals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_mid_rollout_cancels_the_task_records_the_interruption_and_releases_the_lock(
    e2e: E2EProject, held_director: FakeDirector, sig: signal.Signals, code: int
) -> None:
    run = Running(e2e, "deploy", "--env", "dev1")
    run.wait_for(r"Updating instance.*redis_leader_z1/0 \(canary\)")  # the director is rolling out
    run.process.send_signal(sig)
    exit_code, out, err = run.finish()

    line = one_error_line(err)
    assert exit_code == code, (out, err)
    task = deploy_task(held_director)
    assert line == (
        f"error: interrupted by {sig.name}; deploy of dev1 with redis-templates-1 recorded as interrupted"
        f" (task {task.id} cancelled) [record {records(e2e)[-1]['id']}]"
    )
    # the director task was cancelled (no question asked: nobody is at a terminal), not left running
    assert task.state == "cancelled" and task.cancel_requested
    # the lock is released, not left for the TTL
    assert lock_file(e2e)["released"] is not None
    # the ledger: a started record written before the director was touched, then the interruption
    started, interrupted = [(r["kind"], r["outcome"]) for r in records(e2e)][-2:]
    assert (started, interrupted) == (("deploy", "started"), ("deploy", "interrupted"))
    last = records(e2e)[-1]
    assert last["task_id"] == str(task.id) and last["details"]["description"] == f"interrupted by {sig.name}"
    row = status(e2e)
    assert row["unknown"].startswith("unknown, last deploy interrupted") and row["locked_by"] is None


def _waiting_on_flock(pid: int, path: Path) -> bool:
    """True when /proc/locks shows ``pid`` blocked on a flock of ``path`` (a "->" waiter line)."""
    inode = os.stat(path).st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and "FLOCK" in fields:
            rest = fields[fields.index("->") + 1 :]
            if len(rest) >= 5 and rest[3] == str(pid) and rest[4].rsplit(":", 1)[-1] == str(inode):
                return True
    return False


def _sigterm_while_the_local_director_is_busy(e2e: E2EProject) -> tuple[int, str, str]:
    """A deploy of dev1 that blocks on the local director's lock (another deploy holds it), then SIGTERM."""
    director = e2e.workdir / "director"
    director.mkdir(parents=True)
    busy = director / "deploy.lock"
    with open(busy, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another deploy on this director is under way
        run = Running(e2e, "deploy", "--env", "dev1")
        run.wait_for(r"deploying redis-dev1 with redis-templates-1")
        deadline = time.monotonic() + WAIT
        while not _waiting_on_flock(run.process.pid, busy):
            assert run.process.poll() is None and time.monotonic() < deadline, "the deploy never waited"
            time.sleep(0.01)  # polling kernel state, which has no notification to wait on
        run.process.send_signal(signal.SIGTERM)
        return run.finish()


def test_sigterm_while_the_local_director_waits_to_update_the_cloud_config_records_nothing(
    e2e: E2EProject,
) -> None:
    """v2 (the default): the named cloud config comes first; stopped there, nothing was deployed."""
    exit_code, out, err = _sigterm_while_the_local_director_is_busy(e2e)
    assert exit_code == 143, (out, err)
    assert one_error_line(err) == "error: interrupted by SIGTERM"
    assert lock_file(e2e)["released"] is not None
    assert records(e2e) == []
    assert e2e.redis_pids() == []


def test_sigterm_while_the_local_director_waits_marks_its_task_cancelled(e2e: E2EProject) -> None:
    env_yml = e2e.root / "dev1" / "env.yml"  # v1: no cloud config, the wait is inside the deploy task
    env_yml.write_text(env_yml.read_text().replace("manifest: auto", "manifest: v1"))
    exit_code, out, err = _sigterm_while_the_local_director_is_busy(e2e)

    assert exit_code == 143, (out, err)
    line = one_error_line(err)
    assert (
        "interrupted by SIGTERM; deploy of dev1 with redis-templates-1 recorded as interrupted (task 1 cancelled)"
        in line
    )
    task = json.loads((e2e.workdir / "director" / "tasks" / "1.json").read_text())
    assert task["state"] == "cancelled"
    assert lock_file(e2e)["released"] is not None
    assert [r["outcome"] for r in records(e2e)] == ["started", "interrupted"]
    assert e2e.redis_pids() == []
    assert status(e2e)["unknown"].startswith("unknown, last deploy interrupted")


# -- a full disk -----------------------------------------------------------------------------------------


def test_full_disk_when_the_final_record_is_due_keeps_the_real_error_and_leaves_a_lock_others_can_take(
    e2e: E2EProject, held_director: FakeDirector
) -> None:
    run = Running(e2e, "deploy", "--env", "dev1")
    run.wait_for(r"Updating instance.*redis_z1/0")
    started = records(e2e)[-1]
    assert started["outcome"] == "started"
    # From now on every file write of that process fails, as on a full disk; then the director finishes.
    resource.prlimit(run.process.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
    task = deploy_task(held_director)
    task.finish("done", "/deployments/redis-dev1")
    exit_code, _, err = run.finish()

    line = one_error_line(err)
    assert exit_code == 1
    # the real error first: the deploy ran, its record could not be written, and what names it
    assert line.startswith(
        f"error: deploy of dev1 with redis-templates-1 ended succeeded (task {task.id}) but its record could"
        " not be written: cannot create records/dev1/"
    ), line
    assert "File too large" in line
    assert f"the started record {started['id']} names deployment redis-dev1" in line
    # then, on the same line, what cleanup could not do: the lock release failed too
    assert "; the lock of dev1 was not released (" in line and "`invoke unlock --env dev1`" in line
    # the started record names what may be running: the deployment, the director, the instance groups
    assert started["details"]["deployment"] == "redis-dev1"
    assert started["details"]["director"] == f"BOSH director at {held_director.url}"
    assert started["details"]["instance_groups"] == {
        "redis_leader_z1": 1,
        "redis_z1": 1,
        "redis_test_slave_z1": 1,
        "acceptance-tests": 1,
    }
    assert [r["outcome"] for r in records(e2e)] == ["started"]
    # the lock stays as it was (valid, held by the dead process) ...
    lock = lock_file(e2e)
    assert lock["released"] is None and lock["holder"]["pid"] == str(run.process.pid)
    row = status(e2e)
    assert row["unknown"].startswith("unknown, last deploy interrupted")
    assert "its process is gone, the next run takes it over" in row["locked_by"]
    # ... and the next run takes it over instead of waiting for the TTL
    repaired = e2e.invoke("ledger-repair", "--env", "dev1")
    assert "dev1: pointers recomputed from 1 record(s)" in repaired.stdout
    assert lock_file(e2e)["released"] is not None and lock_file(e2e)["purpose"] == "ledger-repair"


def test_unlock_frees_a_lock_whose_holder_is_alive_when_a_person_says_so(e2e: E2EProject) -> None:
    store = LocalStore(e2e.workdir / "store")
    Ledger(store).acquire("dev1", "deploy")  # this test process holds it and stays alive
    refused = e2e.invoke("ledger-repair", "--env", "dev1", check=False)
    assert refused.returncode == 1 and "dev1 is locked by" in one_error_line(refused.stderr)
    done = e2e.invoke("unlock", "--env", "dev1")
    assert done.stdout.startswith("dev1 unlocked (was held by")
    e2e.invoke("ledger-repair", "--env", "dev1")


# -- damaged ledger files ---------------------------------------------------------------------------------


def _ledger_with_two_deploys(e2e: E2EProject) -> tuple[Ledger, list[Record]]:
    ledger = Ledger(LocalStore(e2e.workdir / "store"))
    written = [
        ledger.append(Record(kind="deploy", env="dev1", outcome="succeeded", candidate=f"redis-templates-{n}"))
        for n in (1, 2)
    ]
    return ledger, written


def test_a_truncated_state_pointer_is_one_line_until_ledger_repair(e2e: E2EProject) -> None:
    _, written = _ledger_with_two_deploys(e2e)
    pointer = e2e.workdir / "store" / "state" / "dev1.json"
    pointer.write_bytes(pointer.read_bytes()[:40])
    for args in (("status",), ("status", "--env", "dev1"), ("deploy", "--env", "dev1"), ("rollback", "--env", "dev1")):
        done = e2e.invoke(*args, check=False)
        line = one_error_line(done.stderr)
        assert done.returncode == 1, args
        assert f"{pointer} is unreadable (" in line and "run `invoke ledger-repair --env dev1`" in line, line
    assert e2e.redis_pids() == [] and not (e2e.workdir / "director" / "deployments").exists()
    assert len(records(e2e)) == 2  # the refused deploy wrote nothing: it read the pointer first
    repaired = e2e.invoke("ledger-repair", "--env", "dev1")
    assert f"replaced unreadable {pointer}" in repaired.stdout
    assert "pointers recomputed from 2 record(s) (0 unreadable skipped)" in repaired.stdout
    assert status(e2e)["candidate"] == "redis-templates-2"
    assert json.loads(pointer.read_text())["last_deploy"] == written[1].id


@pytest.mark.parametrize("content", [b"{}", b"", b"[1, 2]", b'{"env": "dev1", "token": 7}', b"\x00\xff garbage"])
def test_an_unreadable_lock_file_is_one_line_and_unlock_replaces_it(e2e: E2EProject, content: bytes) -> None:
    _ledger_with_two_deploys(e2e)
    lock = e2e.workdir / "store" / "locks" / "dev1.json"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_bytes(content)
    for args in (("status", "--env", "dev1"), ("smoke-test", "--env", "dev1"), ("destroy", "--env", "dev1")):
        done = e2e.invoke(*args, check=False)
        line = one_error_line(done.stderr)
        assert done.returncode == 1
        assert f"{lock} is unreadable (" in line and "`invoke unlock --env dev1` replaces it" in line, line
    unlocked = e2e.invoke("unlock", "--env", "dev1")
    assert unlocked.stdout.startswith("dev1 unlocked (replaced a lock file that was unreadable")
    assert status(e2e)["locked_by"] is None
    assert json.loads(lock.read_text())["released"] is not None


def test_a_garbage_record_is_listed_skipped_by_ledger_repair_and_kept(e2e: E2EProject) -> None:
    _, written = _ledger_with_two_deploys(e2e)
    bad = e2e.workdir / "store" / "records" / "dev1" / f"{written[1].id}.json"
    bad.write_bytes(b'{"id": "' + written[1].id.encode() + b'", "kind": "deploy", "env": "dev1", "outc')
    done = e2e.invoke("status", "--env", "dev1", check=False)
    line = one_error_line(done.stderr)
    assert done.returncode == 1 and f"{bad} is unreadable (" in line and "ledger-repair --env dev1" in line
    history = e2e.invoke("history", "--env", "dev1", "--json")
    assert [("unreadable" in r, r["id"]) for r in json.loads(history.stdout)] == [
        (True, written[1].id),
        (False, written[0].id),
    ]
    repaired = e2e.invoke("ledger-repair", "--env", "dev1")
    assert f"skipped {bad} is unreadable (" in repaired.stdout
    assert "pointers recomputed from 1 record(s) (1 unreadable skipped)" in repaired.stdout
    assert status(e2e)["candidate"] == "redis-templates-1"
    assert bad.exists()  # records are evidence: never deleted


# -- destroy after the work dir was wiped ------------------------------------------------------------------


def test_destroy_after_the_work_dir_was_wiped_stops_the_processes_it_left(e2e: E2EProject) -> None:
    e2e.invoke("deploy", "--env", "dev1")
    running = e2e.redis_pids()
    assert len(running) == 3
    shutil.rmtree(e2e.workdir)  # store, director state, secrets: all gone; the processes are not
    done = e2e.invoke("destroy", "--env", "dev1")
    assert "had no state for it; stopped 3 redis-server process(es)" in done.stdout
    assert "redis-dev1 deleted" in done.stdout
    assert e2e.redis_pids() == []
    again = e2e.invoke("destroy", "--env", "dev1")
    assert "redis-dev1: nothing to delete" in again.stdout and "deleted (" not in again.stdout


# -- a damaged stored candidate ------------------------------------------------------------------------------


def test_a_damaged_stored_candidate_is_replaced_only_on_request_and_only_when_damaged(
    e2e: E2EProject, tmp_path: Path
) -> None:
    tgz = tmp_path / "c.tgz"
    e2e.invoke("tarball", "--env", "dev1", "--output", str(tgz))
    e2e.invoke("upload", "--env", "dev1", "--file", str(tgz))
    stored = e2e.workdir / "store" / "candidates" / "redis-templates-1.tgz"
    healthy = stored.read_bytes()
    stored.write_bytes(healthy[:-100] + bytes(100))  # bit rot at the end

    refused = e2e.invoke("spiff-merge", "--env", "dev1", "--candidate", "1", check=False)
    assert "is tampered" in one_error_line(refused.stderr) and "--replace-damaged" in refused.stderr
    plain = e2e.invoke("upload", "--env", "dev1", "--file", str(tgz), check=False)
    line = one_error_line(plain.stderr)
    assert plain.returncode == 1 and "its stored copy is damaged (its bytes have sha256" in line
    assert f"`invoke upload --env dev1 --file {tgz} --replace-damaged`" in line

    fixed = e2e.invoke("upload", "--env", "dev1", "--file", str(tgz), "--replace-damaged")
    assert "redis-templates-1.tgz was damaged" in fixed.stdout
    assert stored.read_bytes() == healthy
    e2e.invoke("spiff-merge", "--env", "dev1", "--candidate", "1")  # verified and readable again

    healthy_again = e2e.invoke("upload", "--env", "dev1", "--file", str(tgz), "--replace-damaged", check=False)
    assert "redis-templates-1 in" in healthy_again.stderr and "is not damaged: nothing replaced" in healthy_again.stderr
    other = tmp_path / "other.tgz"
    e2e.root.joinpath("dev1", "pipeline", "scaling-dev1.yml").write_text(
        e2e.root.joinpath("dev1", "pipeline", "scaling-dev1.yml").read_text() + "# changed\n"
    )
    e2e.invoke("tarball", "--env", "dev1", "--output", str(other))
    never = e2e.invoke("upload", "--env", "dev1", "--file", str(other), "--replace-damaged", check=False)
    assert "was ever stored" in one_error_line(never.stderr) and "nothing to replace" in never.stderr
    assert sorted(p.name for p in stored.parent.iterdir()) == ["redis-templates-1.tgz"]


# -- other one-liners --------------------------------------------------------------------------------------


def test_a_non_numeric_task_counter_is_one_line_and_the_deploy_is_recorded_failed(e2e: E2EProject) -> None:
    counter = e2e.workdir / "director" / "task_counter"
    counter.parent.mkdir(parents=True)
    counter.write_text("twelve\n")
    done = e2e.invoke("deploy", "--env", "dev1", check=False)
    line = one_error_line(done.stderr)
    assert done.returncode == 1
    assert f"the local director task counter {counter} holds 'twelve', not a task number: delete it" in line
    assert [r["outcome"] for r in records(e2e)] == ["started", "failed"]
    assert lock_file(e2e)["released"] is not None


def test_fetch_upstream_from_a_missing_directory_says_so(e2e: E2EProject) -> None:
    done = e2e.invoke("fetch-upstream", "--env", "dev1", "--source", "/no/such/dir", check=False)
    line = one_error_line(done.stderr)
    assert done.returncode == 1
    assert line == (
        "error: upstream source /no/such/dir (--source): no such file or directory; give a redis-boshrelease"
        " checkout, a git repository or a git URL"
    )
    e2e.env["BOSHPIPE_UPSTREAM"] = "file:///no/such/repo.git"
    done = e2e.invoke("fetch-upstream", "--env", "dev1", check=False)
    assert "upstream source file:///no/such/repo.git (BOSHPIPE_UPSTREAM): no such file" in one_error_line(done.stderr)
