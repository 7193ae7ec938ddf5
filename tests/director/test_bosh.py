"""The BOSH director client against a loopback HTTPS stand-in (``fake_director``).

Everything goes over real TLS with a CA generated for the test, through one requests session, so
authentication, redirects, Range reads, connection reuse and error lines are tested as they happen
on the wire.
"""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from boshpipe.director import ErrandResult, Event, Instance, TaskResult, open_director
from boshpipe.director.bosh import BoshDirector
from boshpipe.director.bosh.config import resolve
from boshpipe.director.bosh.http import CaBundle, DirectorHttp
from boshpipe.director.bosh.task import EventStream, ask_on_terminal
from boshpipe.director.bosh.uaa import Credentials
from boshpipe.director.redact import Scrubber, redact_yaml_lines, secret_values
from boshpipe.errors import ConfigError, DirectorError, Interrupted, TaskFailed
from tests.director.fake_director import (
    CertificateAuthority,
    DirectorBackend,
    MemoryBackend,
    TrapServer,
    closed_port,
)
from tests.director.fake_director import FakeDirector as _FakeDirector

ADMIN_PASSWORD = "director-admin-password-1"
CLIENT_SECRET = "uaa-client-secret-2"
REDIS_PASSWORD = "manifest-redis-password-3"
USER_PASSWORD = "alice-user-password-4"
RELEASE_URL = "https://bosh.io/d/github.com/cloudfoundry-community/redis-boshrelease?v=12"
RELEASE_SHA1 = "0f6bd0d9e9f1b1a3c6a0bde8b0f6f2c5c7e0aa11"


def placed() -> dict[str, Any]:
    return {"azs": ["z1"], "vm_type": "small", "stemcell": "default"}


# The operator's cloud-config the test manifests are placed with (a v270+ director checks every name).
CLOUD_CONFIG = yaml.safe_dump(
    {
        "azs": [{"name": "z1"}],
        "vm_types": [{"name": "small"}],
        "networks": [
            {"name": "redis1", "type": "manual",
             "subnets": [{"range": "10.244.2.0/24", "gateway": "10.244.2.1", "static": ["10.244.2.2 - 10.244.2.9"],
                          "azs": ["z1"]}]},
        ],
    }
)  # fmt: skip


class FakeDirector(_FakeDirector):
    """The stand-in director with the operator's cloud-config already in place (unless a test gives one)."""

    def __init__(self, *args: Any, **options: Any) -> None:
        options.setdefault("cloud_configs", {"default": CLOUD_CONFIG})
        super().__init__(*args, **options)


def manifest(
    name: str = "redis-dev1", *, password: str = REDIS_PASSWORD, slaves: int = 1, version: str = "12"
) -> str:
    return yaml.safe_dump(
        {
            "name": name,
            "releases": [{"name": "redis", "version": version, "url": RELEASE_URL, "sha1": RELEASE_SHA1}],
            "stemcells": [{"alias": "default", "os": "ubuntu-jammy", "version": "1.0"}],
            "update": {"canaries": 1, "max_in_flight": 1},
            "properties": {"redis": {"port": 6379, "password": password}},
            "instance_groups": [
                {"name": "redis_leader_z1", "instances": 1, "jobs": [{"name": "redis", "release": "redis"}],
                 **placed(), "networks": [{"name": "redis1", "static_ips": ["10.244.2.2"]}]},
                {"name": "redis_z1", "instances": slaves, "jobs": [{"name": "redis", "release": "redis"}],
                 **placed(), "networks": [{"name": "redis1"}], "properties": {"redis": {"master": "10.244.2.2"}}},
                {"name": "acceptance-tests", "lifecycle": "errand", "instances": 1, **placed(),
                 "networks": [{"name": "redis1"}], "jobs": [{"name": "acceptance-tests", "release": "redis"}]},
            ],
        }
    )  # fmt: skip


V1_MANIFEST = yaml.safe_dump(
    {
        "name": "redis-2015",
        "releases": [{"name": "redis", "version": "12"}],
        "networks": [{"name": "redis1", "subnets": []}],
        "resource_pools": [{"name": "small_z1", "network": "redis1"}],
        "jobs": [{"name": "redis_leader_z1", "templates": [{"name": "redis"}], "instances": 1}],
        "properties": {"redis": {"password": REDIS_PASSWORD}},
    }
)


class Events(list[Event]):
    def __call__(self, event: Event) -> None:
        self.append(event)


@pytest.fixture
def clients() -> Iterator[list[BoshDirector]]:
    made: list[BoshDirector] = []
    yield made
    for client in made:
        client.close()


@pytest.fixture
def connect(clients: list[BoshDirector]) -> Callable[..., BoshDirector]:
    def make(fake: FakeDirector, **options: Any) -> BoshDirector:
        if fake.auth == "uaa":
            options.setdefault("client", "ci")
            options.setdefault("client_secret", CLIENT_SECRET)
        else:
            options.setdefault("client", "admin")
            options.setdefault("client_secret", ADMIN_PASSWORD)
        options.setdefault("ca_cert", fake.ca_pem)
        options.setdefault("poll_interval", 0)
        options.setdefault("login", None)
        options.setdefault("confirm_cancel", lambda question: True)
        client = BoshDirector(fake.url, **options)
        clients.append(client)
        return client

    return make


def released(backend: MemoryBackend) -> MemoryBackend:
    backend.release_versions["redis"] = {"12"}
    return backend


@pytest.fixture
def fake() -> Iterator[FakeDirector]:
    with FakeDirector(released(MemoryBackend())) as server:
        yield server


@pytest.fixture
def uaa_fake() -> Iterator[FakeDirector]:
    with FakeDirector(released(MemoryBackend()), auth="uaa") as server:
        yield server


def paths(fake: FakeDirector, method: str | None = None) -> list[str]:
    return [r.path for r in fake.requests if method is None or r.method == method]


# -- deploy and events -------------------------------------------------------------------------------


def test_deploy_streams_events_incrementally_in_order_with_range_reads(fake, connect):
    director = connect(fake)
    events = Events()

    result = director.deploy(manifest(), events)

    assert result.ok and result.id == "1" and result.description == "create deployment"
    assert [(e.stage, e.task, e.state) for e in events] == [
        ("Preparing deployment", "Preparing deployment", "started"),
        ("Preparing deployment", "Preparing deployment", "finished"),
        ("Updating instance", "redis_leader_z1/0 (canary)", "started"),
        ("Updating instance", "redis_leader_z1/0 (canary)", "finished"),
        ("Updating instance", "redis_z1/0", "finished"),
    ]
    assert events[2].tags == ("redis_leader_z1",) and events[2].total == 2
    # one event revealed per poll, and each read asks only for the bytes after what we have
    lines = bytes(fake.tasks[1].events).splitlines(keepends=True)
    offsets = [sum(len(line) for line in lines[:n]) for n in range(len(lines) + 1)]
    sent = [r.headers["Range"] for r in fake.requests if r.path.startswith("/tasks/1/output")]
    assert sent == [f"bytes={offset}-" for offset in offsets]
    assert fake.backend.manifest("redis-dev1") == manifest()


def test_deploy_posts_text_yaml_and_polls_its_own_base_url(fake, connect):
    connect(fake).deploy(manifest(), Events())
    post = next(r for r in fake.requests if r.method == "POST" and r.path == "/deployments")
    assert post.headers["Content-Type"] == "text/yaml"
    assert post.body.decode() == manifest()
    assert "/tasks/1" in paths(fake, "GET")


@pytest.mark.parametrize("options", [{"split_events": True}, {}])
def test_lines_cut_across_reads_become_whole_events(options, connect):
    with FakeDirector(released(MemoryBackend(**options))) as fake:
        events = Events()
        assert connect(fake).deploy(manifest(), events).ok
    assert len(events) == 5 and events[-1].task == "redis_z1/0"


def test_a_server_that_ignores_range_gives_no_duplicate_events(connect):
    with FakeDirector(released(MemoryBackend()), honor_range=False) as fake:
        events = Events()
        assert connect(fake).deploy(manifest(), events).ok
    assert [e.state for e in events] == ["started", "finished", "started", "finished", "finished"]


def test_failed_task_is_returned_with_the_directors_message(connect):
    message = "Unable to render instance groups for deployment. Errors are: 'redis.port' is missing"
    with FakeDirector(released(MemoryBackend(deploy_error=(100, message)))) as fake:
        events = Events()
        result = connect(fake).deploy(manifest(), events)
    assert result.state == "error" and not result.ok
    assert result.result == message
    assert events[-1].error == message and events[-1].task == "Error 100"


@pytest.mark.parametrize("state", ["timeout", "cancelled"])
def test_task_ending_in_timeout_or_cancelled_is_reported(state, connect):
    with FakeDirector(released(MemoryBackend(deploy_outcome=(state, None)))) as fake:
        result = connect(fake).deploy(manifest(), Events())
    assert result.state == state and result.result == f"task {state}"


def test_client_side_wait_limit_raises_one_line_and_leaves_the_task(connect):
    now = [0.0]

    def tick(seconds: float) -> None:
        now[0] += 5

    with FakeDirector(released(MemoryBackend(never_finishes=True))) as fake:
        director = connect(fake, task_timeout=30, clock=lambda: now[0], sleep=tick)
        with pytest.raises(TaskFailed) as caught:
            director.deploy(manifest(), Events())
        assert "DELETE" not in {r.method for r in fake.requests}
    assert str(caught.value).startswith("task 1 is still processing on https://127.0.0.1:")
    assert "after 30s" in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.task_id == "1"


def test_ctrl_c_asks_then_cancels_the_task_and_follows_it_to_the_end(connect):
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return True

    def interrupt_once(events: Events) -> Callable[[Event], None]:
        def sink(event: Event) -> None:
            events.append(event)
            if len(events) == 2:
                raise KeyboardInterrupt

        return sink

    with FakeDirector(released(MemoryBackend(never_finishes=True))) as fake:
        events = Events()
        with pytest.raises(Interrupted) as caught:
            connect(fake, confirm_cancel=confirm).deploy(manifest(), interrupt_once(events))
        assert ("DELETE", "/task/1") in [(r.method, r.path) for r in fake.requests]
        assert fake.tasks[1].state == "cancelled"
    assert asked == [f"cancel task 1 on {fake.url}? [y/N] "]
    # followed to the end, then the interrupt goes on up, naming the task and how it ended
    assert (caught.value.signal_name, caught.value.task_id, caught.value.task_state) == ("SIGINT", "1", "cancelled")


def test_sigterm_cancels_without_asking_then_raises(connect):
    def asked(question: str) -> bool:
        raise AssertionError(f"asked {question!r} after SIGTERM: nobody is there to answer")

    def terminate(event: Event) -> None:
        raise Interrupted("SIGTERM")

    with FakeDirector(released(MemoryBackend(never_finishes=True))) as fake:
        with pytest.raises(Interrupted) as caught:
            connect(fake, confirm_cancel=asked).deploy(manifest(), terminate)
        assert fake.tasks[1].state == "cancelled"
    assert (caught.value.signal_name, caught.value.task_id, caught.value.task_state) == ("SIGTERM", "1", "cancelled")


def test_ctrl_c_answered_no_stops_following_and_leaves_the_task_running(connect):
    def sink(event: Event) -> None:
        raise KeyboardInterrupt

    with FakeDirector(released(MemoryBackend(never_finishes=True))) as fake:
        with pytest.raises(KeyboardInterrupt):
            connect(fake, confirm_cancel=lambda q: False).deploy(manifest(), sink)
        assert "DELETE" not in {r.method for r in fake.requests}
        assert fake.tasks[1].state == "processing"


def test_without_a_terminal_ctrl_c_cancels_without_asking(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert ask_on_terminal("cancel task 1? [y/N] ") is True


# -- authentication ----------------------------------------------------------------------------------


def test_basic_auth_on_every_call_but_info(fake, connect):
    connect(fake).deploy(manifest(), Events())
    info = [r for r in fake.requests if r.path == "/info"]
    assert len(info) == 1 and "Authorization" not in info[0].headers
    others = [r for r in fake.requests if r.path != "/info"]
    assert others and all(r.headers["Authorization"].startswith("Basic ") for r in others)


def test_uaa_client_credentials_bearer_token(uaa_fake, connect):
    assert connect(uaa_fake).deploy(manifest(), Events()).ok
    assert uaa_fake.uaa_state.grants == ["client_credentials"]
    token = next(iter(uaa_fake.uaa_state.access_tokens))
    others = [r for r in uaa_fake.requests if r.path != "/info"]
    assert all(r.headers["Authorization"] == f"bearer {token}" for r in others)
    token_request = uaa_fake.uaa_requests[0]
    assert token_request.body == b"grant_type=client_credentials"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_expired_token_gets_one_retry_with_a_new_token(connect):
    with FakeDirector(released(MemoryBackend()), auth="uaa", token_uses=3) as fake:
        events = Events()
        result = connect(fake).deploy(manifest(), events)
        statuses = [r for r in fake.requests if r.path != "/info"]
    assert result.ok and len(events) == 5
    # client_credentials gives no refresh token: the grant is repeated on each expiry
    assert set(fake.uaa_state.grants) == {"client_credentials"} and len(fake.uaa_state.grants) > 2
    # a request answered 401 is sent again exactly once, with the next token
    tokens = [r.headers["Authorization"] for r in statuses]
    assert len(set(tokens)) == len(fake.uaa_state.grants)


def test_password_grant_for_people_then_refresh_token(connect):
    asked: list[str] = []

    def login(where: str) -> Credentials:
        asked.append(where)
        return Credentials("alice", USER_PASSWORD)

    with FakeDirector(
        released(MemoryBackend()), auth="uaa", users={"alice": USER_PASSWORD}, token_uses=4
    ) as fake:
        director = connect(fake, client=None, client_secret=None, login=login)
        assert director.deploy(manifest(), Events()).ok
    assert asked == [fake.uaa_url]
    assert fake.uaa_state.grants[0] == "password"
    assert set(fake.uaa_state.grants[1:]) == {"refresh_token"}
    first = fake.uaa_requests[0]
    assert first.headers["Authorization"].startswith("Basic ")  # the public bosh_cli client
    assert b"username=alice" in first.body


def test_token_known_to_be_expired_is_renewed_before_use(connect):
    now = [1000.0]
    with FakeDirector(
        released(MemoryBackend()), auth="uaa", users={"alice": USER_PASSWORD}, expires_in=60
    ) as fake:
        director = connect(
            fake, client=None, client_secret=None, login=lambda w: Credentials("alice", USER_PASSWORD),
            clock=lambda: now[0],
        )  # fmt: skip
        assert director.deployed_manifest("redis-dev1") is None
        now[0] += 3600
        assert director.deployed_manifest("redis-dev1") is None
        unauthorized = fake.uaa_state.grants
    assert unauthorized == ["password", "refresh_token"]


def test_401_even_after_a_fresh_token_is_one_line(connect):
    with (
        FakeDirector(released(MemoryBackend()), auth="uaa", token_uses=0) as fake,
        pytest.raises(DirectorError) as caught,
    ):
        connect(fake).deploy(manifest(), Events())
    assert str(caught.value) == (
        f"the director at {fake.url} refused client 'ci' (UAA) (401 Unauthorized, also with fresh"
        " credentials): check BOSH_CLIENT and BOSH_CLIENT_SECRET"
    )
    assert len(fake.uaa_state.grants) == 2  # the first token, and exactly one retry


def test_wrong_basic_password_is_one_line(fake, connect):
    with pytest.raises(DirectorError, match=r"refused user 'admin' \(basic auth\) \(401"):
        connect(fake, client_secret="wrong-password").deploy(manifest(), Events())


def test_uaa_refusing_the_client_is_one_line(uaa_fake, connect):
    with pytest.raises(DirectorError) as caught:
        connect(uaa_fake, client_secret="not-the-secret").deployed_manifest("x")
    assert str(caught.value) == (
        f"UAA at {uaa_fake.uaa_url}/oauth/token refused client 'ci' (UAA) (401: Bad credentials):"
        " check BOSH_CLIENT and BOSH_CLIENT_SECRET"
    )


def test_no_credentials_and_no_terminal_says_what_to_set(uaa_fake, connect):
    with pytest.raises(DirectorError, match="export BOSH_CLIENT and BOSH_CLIENT_SECRET"):
        connect(uaa_fake, client=None, client_secret=None).deployed_manifest("x")


# -- transport failures ------------------------------------------------------------------------------


def test_unreachable_director_is_one_line(connect, clients):
    director = BoshDirector(f"https://127.0.0.1:{closed_port()}", poll_interval=0, login=None)
    clients.append(director)
    with pytest.raises(DirectorError) as caught:
        director.deploy(manifest(), Events())
    port = director.url.rsplit(":", 1)[1]
    assert str(caught.value) == (
        f"cannot reach the director at https://127.0.0.1:{port}: connection refused (check the URL,"
        " network and BOSH_ENVIRONMENT)"
    )


def test_wrong_ca_is_one_line(fake, connect):
    other = CertificateAuthority.generate("unrelated CA")
    with pytest.raises(DirectorError) as caught:
        connect(fake, ca_cert=other.pem).deploy(manifest(), Events())
    assert str(caught.value) == (
        f"TLS verification of the director at {fake.url} failed: its certificate is not signed by the"
        " CA in BOSH_CA_CERT (check BOSH_CA_CERT)"
    )
    assert fake.requests == []


def test_without_a_ca_the_system_trust_store_still_verifies(fake, connect):
    with pytest.raises(DirectorError, match="not signed by a CA of the system trust store"):
        connect(fake, ca_cert=None).deployed_manifest("x")


def test_ca_given_as_a_path(fake, connect, tmp_path):
    (tmp_path / "ca.pem").write_text(fake.ca_pem)
    assert connect(fake, ca_cert=str(tmp_path / "ca.pem")).deployed_manifest("nope") is None


# -- 404s, v1 manifests ------------------------------------------------------------------------------


def test_missing_deployment(fake, connect):
    director = connect(fake)
    assert director.deployed_manifest("nope") is None
    with pytest.raises(DirectorError) as caught:
        director.instances("nope")
    assert str(caught.value) == f"deployment 'nope' does not exist on the director at {fake.url}"
    with pytest.raises(
        DirectorError, match=r"^deployment 'nope' does not exist on the director at .*doesn't"
    ):
        director.run_errand("nope", "acceptance-tests", Events())
    deleted = director.delete_deployment("nope", Events())
    assert deleted.ok and deleted.id == "" and deleted.result == "no such deployment"


def test_v1_manifest_refused_in_the_task_gives_one_clear_line(fake, connect):
    result = connect(fake).deploy(V1_MANIFEST, Events())
    assert result.state == "error"
    assert result.result.startswith(
        f"the director at {fake.url} refuses v1 manifests; set manifest: v2 (or auto) in the env's env.yml"
    )
    assert "director said: Deployment 'networks' are no longer supported" in result.result
    assert "\n" not in result.result


def test_v1_manifest_refused_with_a_400_gives_the_same_line(connect):
    with (
        FakeDirector(released(MemoryBackend()), reject_v1_on_post=True) as fake,
        pytest.raises(DirectorError) as caught,
    ):
        connect(fake).deploy(V1_MANIFEST, Events())
    assert str(caught.value).startswith(f"the director at {fake.url} refuses v1 manifests; set manifest: v2")


def test_other_400_is_one_line_with_the_directors_description(fake, connect):
    with pytest.raises(DirectorError) as caught:
        connect(fake).deploy("name: x\nreleases: []\n" + "bad: [", Events())
    assert str(caught.value) == "the manifest is not valid YAML (line 3)"


# -- diff / dry run ----------------------------------------------------------------------------------


def test_dry_run_uses_the_directors_diff_redacted(fake, connect):
    director = connect(fake)
    director.deploy(manifest(), Events())
    before = len(fake.requests)
    events = Events()

    result = director.deploy(manifest(password="a-new-redis-password-5", slaves=2), events, dry_run=True)

    assert result.ok and result.id == ""
    assert result.description.startswith("diff of deployment redis-dev1 (director diff")
    new = [r for r in fake.requests[before:] if r.method == "POST"]
    assert [r.path for r in new] == ["/deployments/redis-dev1/diff?redact=true"]
    assert new[0].headers["Content-Type"] == "text/yaml"
    lines = result.result.splitlines()
    assert "+     password: <redacted>" in lines and "-     password: <redacted>" in lines
    assert "+   instances: 2" in lines
    assert REDIS_PASSWORD not in result.result and "a-new-redis-password-5" not in result.result
    assert [e.task for e in events] == lines and {e.stage for e in events} == {"Diff"}


def test_dry_run_falls_back_to_a_local_diff_when_the_director_has_none(connect):
    with FakeDirector(released(MemoryBackend(has_diff_endpoint=False))) as fake:
        director = connect(fake)
        director.deploy(manifest(), Events())
        result = director.deploy(
            manifest(password="a-new-redis-password-5", slaves=2), Events(), dry_run=True
        )
        unchanged = director.deploy(manifest(password="a-new-redis-password-5"), Events(), dry_run=True)
        assert "/deployments/redis-dev1" in paths(fake, "GET")
    assert "local diff against the deployed manifest" in result.description
    lines = result.result.splitlines()
    assert lines[0].startswith("@@")
    assert [line for line in lines if line.startswith(("+ ", "- "))] == [
        "-   instances: 1",
        "+   instances: 2",
    ]
    # a change of secret alone is redacted on both sides: nothing to show
    assert unchanged.result == "" and "0 changed lines" in unchanged.description
    assert "a-new-redis-password-5" not in result.result and REDIS_PASSWORD not in result.result


def test_local_diff_of_a_new_deployment_is_all_added(connect):
    with FakeDirector(released(MemoryBackend(has_diff_endpoint=False))) as fake:
        result = connect(fake).deploy(manifest(), Events(), dry_run=True)
    body = [line for line in result.result.splitlines() if not line.startswith("@@")]
    assert body and all(line.startswith("+ ") for line in body)
    assert "+     password: <redacted>" in body


# -- instances, errands, delete ----------------------------------------------------------------------


def test_instances_with_ips_states_and_manifest_properties(fake, connect):
    director = connect(fake)
    director.deploy(manifest(), Events())
    fake.backend.instance_rows["redis-dev1"] = [
        {"job_name": "redis_z1", "index": 0, "ips": ["10.244.2.6"], "job_state": "failing", "id": "b"},
        {
            "job_name": "redis_leader_z1",
            "index": 0,
            "ips": ["10.244.2.2", "10.0.0.9"],
            "job_state": "running",
        },
        {"job_name": "acceptance-tests", "index": 0, "ips": [], "job_state": None},
    ]
    instances = director.instances("redis-dev1")
    assert [(i.job, i.index, i.address, i.state) for i in instances] == [
        ("redis_leader_z1", 0, "10.244.2.2", "running"),
        ("redis_z1", 0, "10.244.2.6", "failing"),
    ]
    assert instances[0].ips == ("10.244.2.2", "10.0.0.9")
    assert instances[1].properties == {
        "redis": {"port": 6379, "password": REDIS_PASSWORD, "master": "10.244.2.2"}
    }
    assert "/deployments/redis-dev1/instances?format=full" in paths(fake, "GET")


def test_a_director_diff_that_leaks_values_is_redacted_by_us(connect):
    with FakeDirector(released(MemoryBackend()), redact_diff=False) as fake:
        director = connect(fake)
        director.deploy(manifest(), Events())
        result = director.deploy(manifest(password="a-new-redis-password-5"), Events(), dry_run=True)
    assert "+     password: <redacted>" in result.result.splitlines()
    assert REDIS_PASSWORD not in result.result and "a-new-redis-password-5" not in result.result


@pytest.mark.parametrize("exit_code", [0, 1])
def test_errand_exit_code_with_task_done_either_way(exit_code, fake, connect):
    director = connect(fake)
    director.deploy(manifest(), Events())
    fake.backend.errand_runs["acceptance-tests"] = [
        {"exit_code": exit_code, "stdout": "wrote key\n", "stderr": "" if exit_code == 0 else "slave lags\n",
         "logs": {"blobstore_id": "x"}}
    ]  # fmt: skip
    events = Events()
    result = director.run_errand("redis-dev1", "acceptance-tests", events)
    assert result.task.ok and result.exit_code == exit_code
    assert result.stdout == "wrote key\n"
    assert events and events[0].stage == "Running errand"
    post = next(r for r in fake.requests if r.path.endswith("/runs"))
    assert post.path == "/deployments/redis-dev1/errands/acceptance-tests/runs"
    assert json.loads(post.body) == {"keep-alive": False, "when-changed": False, "instances": []}


def test_errand_that_cannot_run_raises_task_failed(fake, connect):
    director = connect(fake)
    director.deploy(manifest(), Events())
    with pytest.raises(TaskFailed) as caught:
        director.run_errand("redis-dev1", "nonesuch", Events())
    assert str(caught.value) == (
        f"errand nonesuch of redis-dev1 failed: task 2 error on {fake.url}: Errand 'nonesuch' doesn't exist"
    )


def test_delete_deployment(fake, connect):
    director = connect(fake)
    director.deploy(manifest(), Events())
    events = Events()
    result = director.delete_deployment("redis-dev1", events)
    assert result.ok and events[0].stage == "Deleting instances"
    assert director.deployed_manifest("redis-dev1") is None


# -- releases ----------------------------------------------------------------------------------------


def test_missing_final_release_is_uploaded_by_url_before_deploying(connect):
    with FakeDirector(MemoryBackend()) as fake:
        events = Events()
        assert connect(fake).deploy(manifest(), events).ok
        posts = [r for r in fake.requests if r.method == "POST"]
    assert [r.path for r in posts] == ["/releases", "/deployments"]
    assert json.loads(posts[0].body) == {"location": RELEASE_URL, "sha1": RELEASE_SHA1}
    assert posts[0].headers["Content-Type"] == "application/json"
    assert events[0].stage == "Uploading release"


def test_release_without_sha1_is_uploaded_by_url_alone(connect):
    """bosh.io's release-urls doc: sha1 is optional for remote URLs; the director checks it when given."""
    doc = yaml.safe_load(manifest())
    del doc["releases"][0]["sha1"]
    with FakeDirector(MemoryBackend()) as fake:
        assert connect(fake).deploy(yaml.safe_dump(doc), Events()).ok
        posts = [r for r in fake.requests if r.method == "POST"]
    assert json.loads(posts[0].body) == {"location": RELEASE_URL}


def test_release_the_director_has_is_not_uploaded(fake, connect):
    connect(fake).deploy(manifest(), Events())
    assert "/releases" not in paths(fake, "POST")


def test_failed_release_upload_stops_before_the_deploy(connect):
    with FakeDirector(MemoryBackend(upload_fails="Release SHA1 does not match")) as fake:
        result = connect(fake).deploy(manifest(), Events())
        assert "/deployments" not in paths(fake, "POST")
    assert result.state == "error"
    assert result.result == (
        "upload of release redis/12 from https://bosh.io:443/d/github.com/cloudfoundry-community/"
        "redis-boshrelease failed: Release SHA1 does not match"
    )


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("latest", "release redis: version 'latest' cannot be deployed to a director; pin a final version"),
        ("12+dev.3", "release redis/12+dev.3 is a dev release the director at"),
    ],
)
def test_unuploadable_releases_are_refused_with_one_line(version, message, connect):
    with FakeDirector(MemoryBackend()) as fake:
        with pytest.raises(DirectorError) as caught:
            connect(fake).deploy(manifest(version=version), Events())
        assert "POST" not in {r.method for r in fake.requests}
    assert str(caught.value).startswith(message)


# -- one connection, credentials stay home -----------------------------------------------------------


def test_one_connection_is_reused_for_everything(fake, connect):
    director = connect(fake)
    director.deploy(manifest(), Events())
    fake.backend.errand_runs["acceptance-tests"] = [{"exit_code": 0, "stdout": "", "stderr": ""}]
    director.run_errand("redis-dev1", "acceptance-tests", Events())
    director.instances("redis-dev1")
    director.deploy(manifest(slaves=2), Events(), dry_run=True)
    assert len(fake.requests) > 20
    assert fake.connections == 1


def test_one_connection_each_to_director_and_uaa(connect):
    with FakeDirector(released(MemoryBackend()), auth="uaa", token_uses=5) as fake:
        connect(fake).deploy(manifest(), Events())
        assert len(fake.uaa_state.grants) > 1
        assert (fake.connections, fake.uaa_connections) == (1, 1)


@pytest.mark.parametrize("status", [302, 303])
def test_task_redirect_to_another_host_is_not_followed(status, connect):
    with FakeDirector(
        released(MemoryBackend()), redirect_base="https://director.example:25555", redirect_status=status
    ) as fake:
        assert connect(fake).deploy(manifest(), Events()).ok
        assert "/tasks/1" in paths(fake, "GET")


def test_credentials_never_reach_a_host_named_by_a_redirect(connect):
    ca = CertificateAuthority.generate()
    trap = TrapServer(ca)
    trap.start()
    try:
        with FakeDirector(released(MemoryBackend()), auth="uaa", redirect_base=trap.url, ca=ca) as fake:
            assert connect(fake).deploy(manifest(), Events()).ok
            assert connect(fake).delete_deployment("redis-dev1", Events()).ok
    finally:
        trap.stop()
    assert trap.server.connections == 0 and trap.server.requests == []
    # the director never sees the client secret; the UAA never sees a bearer token
    assert all(CLIENT_SECRET not in json.dumps(r.headers) + r.body.decode() for r in fake.requests)
    assert all("bearer" not in r.headers.get("Authorization", "").lower() for r in fake.uaa_requests)


def test_netrc_never_replaces_our_credentials(uaa_fake, connect, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text(
        "machine 127.0.0.1 login intruder password from-netrc\nmachine localhost login x password y\n"
    )
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert connect(uaa_fake).deploy(manifest(), Events()).ok
    assert all(not r.headers.get("Authorization", "").startswith("Basic ") for r in uaa_fake.requests)
    assert uaa_fake.uaa_state.grants == ["client_credentials"]


def test_the_http_channel_refuses_other_origins_before_sending():
    http = DirectorHttp(CaBundle(None), {"https://10.0.0.6:25555"})
    with pytest.raises(DirectorError, match=r"refusing to send a request to https://evil\.example:25555"):
        http.request(
            "GET", "https://evil.example:25555/tasks/1", what="director", headers={"Authorization": "x"}
        )
    http.close()


def test_requests_ca_bundle_neither_replaces_nor_widens_the_director_ca(fake, connect, tmp_path, monkeypatch):
    bundle = tmp_path / "corporate.pem"
    bundle.write_text(fake.ca_pem)  # a corporate bundle that happens to trust the fake director
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.setenv(name, str(bundle))
    assert connect(fake).deployed_manifest("x") is None
    with pytest.raises(DirectorError, match="TLS verification"):
        connect(fake, ca_cert=CertificateAuthority.generate().pem).deployed_manifest("x")


class StubDirector:
    """A minimal Director, to show the fake can delegate to any implementation (e.g. the local one)."""

    def __init__(self) -> None:
        self.deployed: dict[str, str] = {}

    def describe(self) -> str:
        return "stub"

    def deploy(
        self, manifest: str, on_event: Callable[[Event], None], *, dry_run: bool = False
    ) -> TaskResult:
        on_event(
            Event(time=1, stage="Updating instance", task="redis_z1/0", state="started", total=1, index=1)
        )
        on_event(
            Event(time=2, stage="Updating instance", task="redis_z1/0", state="finished", total=1, index=1)
        )
        self.deployed[yaml.safe_load(manifest)["name"]] = manifest
        return TaskResult(id="local-1", state="done", description="deploy", result="ok")

    def deployed_manifest(self, deployment: str) -> str | None:
        return self.deployed.get(deployment)

    def instances(self, deployment: str) -> list[Instance]:
        return [Instance("redis_z1", 0, ("10.244.2.6",), "127.0.0.6", "running")]

    def run_errand(self, deployment: str, errand: str, on_event: Callable[[Event], None]) -> ErrandResult:
        on_event(Event(time=3, stage="Running errand", task=f"{errand}/0", state="finished"))
        return ErrandResult(TaskResult("local-2", "done"), exit_code=0, stdout="ok\n")

    def delete_deployment(self, deployment: str, on_event: Callable[[Event], None]) -> TaskResult:
        self.deployed.pop(deployment, None)
        return TaskResult("local-3", "done")


def test_the_fake_can_delegate_to_another_director_running_in_task_threads(connect):
    with FakeDirector(DirectorBackend(StubDirector())) as fake:
        director = connect(fake)
        events = Events()
        assert director.deploy(manifest(), events).ok
        assert [(e.task, e.state) for e in events] == [("redis_z1/0", "started"), ("redis_z1/0", "finished")]
        [instance] = director.instances("redis-dev1")
        assert (instance.address, instance.ips, instance.state) == (
            "127.0.0.6",
            ("127.0.0.6", "10.244.2.6"),
            "running",
        )
        assert director.run_errand("redis-dev1", "acceptance-tests", Events()).exit_code == 0
        assert "local diff" in director.deploy(manifest(slaves=2), Events(), dry_run=True).description
        assert director.delete_deployment("redis-dev1", Events()).ok
        assert director.deployed_manifest("redis-dev1") is None


# -- configuration -----------------------------------------------------------------------------------


def test_env_url_names_the_director_and_bosh_environment_may_agree():
    config = resolve("10.0.0.6", {"BOSH_ENVIRONMENT": "https://10.0.0.6:25555/"})
    assert config.url == "https://10.0.0.6:25555"
    assert resolve("https://d.example", {}).url == "https://d.example:25555"


def test_bosh_environment_naming_another_director_is_refused():
    with pytest.raises(
        ConfigError, match=r"the env names director https://10\.0\.0\.6:25555 but BOSH_ENVIRONMENT is"
    ):
        resolve("https://10.0.0.6:25555", {"BOSH_ENVIRONMENT": "10.0.0.7"})


def test_env_setting_defers_to_bosh_environment():
    config = resolve(
        "env", {"BOSH_ENVIRONMENT": "10.0.0.7:443", "BOSH_CLIENT": "ci", "BOSH_CLIENT_SECRET": "s3cr3t"}
    )
    assert (config.url, config.client, config.client_secret) == ("https://10.0.0.7:443", "ci", "s3cr3t")
    assert "s3cr3t" not in repr(config)
    with pytest.raises(ConfigError, match="BOSH_ENVIRONMENT is not set"):
        resolve("env", {})


@pytest.mark.parametrize(
    ("setting", "environ", "message"),
    [
        ("http://10.0.0.6:25555", {}, "must be reached over https"),
        ("https://admin:pw@10.0.0.6", {}, "not in the URL"),
        ("10.0.0.6", {"BOSH_CLIENT": "ci"}, "BOSH_CLIENT_SECRET is not set"),
    ],
)
def test_bad_settings_are_config_errors(setting, environ, message):
    with pytest.raises(ConfigError, match=message):
        resolve(setting, environ)


def test_from_environment_and_open_director(fake, tmp_path, clients):
    environ = {"BOSH_CLIENT": "admin", "BOSH_CLIENT_SECRET": ADMIN_PASSWORD, "BOSH_CA_CERT": fake.ca_pem}
    director = BoshDirector.from_environment(fake.url, environ, poll_interval=0, login=None)
    clients.append(director)
    assert director.deployed_manifest("nope") is None
    assert director.describe() == f"BOSH director at {fake.url}"
    assert repr(director) == f"BoshDirector({fake.url!r})"


def test_open_director_selects_the_bosh_client_for_a_url(fake, monkeypatch, tmp_path):
    monkeypatch.delenv("BOSH_ENVIRONMENT", raising=False)
    monkeypatch.setenv("BOSH_CA_CERT", fake.ca_pem)
    monkeypatch.setenv("BOSH_CLIENT", "admin")
    monkeypatch.setenv("BOSH_CLIENT_SECRET", ADMIN_PASSWORD)
    director = open_director(fake.url, tmp_path)
    assert isinstance(director, BoshDirector)
    director.close()


def test_pem_ca_goes_to_a_private_temp_file_removed_on_close(fake):
    bundle = CaBundle.from_setting(fake.ca_pem)
    assert bundle.path is not None
    assert os.stat(bundle.path).st_mode & 0o777 == 0o600
    bundle.close()
    assert not Path(bundle.path).exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("/no/such/ca.pem", "neither PEM text nor an existing file"),
        ("-----BEGIN JUNK-----", "no CERTIFICATE"),
    ],
)
def test_bad_ca_setting(value, message):
    with pytest.raises(ConfigError, match=message):
        CaBundle.from_setting(value)


# -- events and redaction units ----------------------------------------------------------------------


def test_event_lines_of_every_kind():
    stream = EventStream(Scrubber([REDIS_PASSWORD]))
    lines = [
        {"time": 1, "stage": "Updating instance", "tags": ["redis_z1"], "total": 1, "task": "redis_z1/0",
         "index": 1, "state": "failed", "progress": 100, "data": {"error": f"bad {REDIS_PASSWORD}"}},
        {"time": 2, "type": "deprecation", "message": "Global 'properties' are deprecated"},
        {"time": 3, "error": {"code": 100, "message": "Unable to render"}},
    ]  # fmt: skip
    body = "".join(json.dumps(line) + "\n" for line in lines).encode() + b"not json\n"
    events = list(stream.read((206, body, 0)))
    assert events[0].error == "bad <redacted>" and events[0].state == "failed"
    assert (events[1].stage, events[1].task) == ("Deprecation", "Global 'properties' are deprecated")
    assert (events[2].stage, events[2].error) == ("Error", "Unable to render")
    assert stream.last_error == "Unable to render" and stream.offset == len(body)
    assert list(stream.read((416, b"", 0))) == []


def test_redaction_rules():
    lines = [
        "+     password: hunter22",
        "  - private_key: |",
        "      -----BEGIN PRIVATE KEY-----",
        "      MIIEvQ",
        "    name: kept",
        "  redis:",
        "    port: 6379",
        "- credentials:",
        "-   user: u",
        "-   pass: p",
        "@@ -1 +1 @@",
        "  tokens: []",
    ]
    assert redact_yaml_lines(lines) == [
        "+     password: <redacted>",
        "  - private_key: <redacted>",
        "    name: kept",
        "  redis:",
        "    port: 6379",
        "- credentials: <redacted>",
        "@@ -1 +1 @@",
        "  tokens: <redacted>",
    ]
    document = {"a": {"client_secret": "x1x1x1", "nested": {"Token": 1234567}}, "password": {"deep": "yyyy"}}
    assert sorted(secret_values(document)) == ["1234567", "x1x1x1", "yyyy"]
    scrub = Scrubber(["abc", "longer-secret"])
    assert scrub("abc longer-secret") == "abc <redacted>"  # too short to scrub safely


# -- the grep: no secret anywhere --------------------------------------------------------------------


def _every_path(fake: FakeDirector, connect: Callable[..., BoshDirector], texts: list[str]) -> None:
    """Run every operation, successful and failing, recording everything a person could see."""

    def collect(event: Event) -> None:
        texts.append(repr(event))

    def attempt(action: Callable[[], Any]) -> None:
        try:
            texts.append(repr(action()))
        except DirectorError as exc:
            texts.append(f"{type(exc).__name__}: {exc!s} {exc!r}")

    secret_manifest = manifest(password=REDIS_PASSWORD)
    director = connect(fake)
    texts.append(repr(director))
    attempt(lambda: director.deploy(secret_manifest, collect))
    attempt(lambda: director.deploy(manifest(password="changed-pass-6"), collect, dry_run=True))
    attempt(lambda: director.instances("redis-dev1"))
    attempt(lambda: director.run_errand("redis-dev1", "acceptance-tests", collect))
    attempt(lambda: director.run_errand("redis-dev1", "nonesuch", collect))
    attempt(lambda: director.deploy(V1_MANIFEST, collect))
    attempt(lambda: director.delete_deployment("redis-dev1", collect))
    attempt(lambda: director.instances("redis-dev1"))
    attempt(lambda: connect(fake, client_secret="wrong-secret-7").deploy(secret_manifest, collect))
    attempt(lambda: connect(fake, ca_cert=CertificateAuthority.generate().pem).deployed_manifest("x"))
    if fake.auth == "uaa":
        person = connect(
            fake, client=None, client_secret=None, login=lambda w: Credentials("alice", USER_PASSWORD)
        )
        attempt(lambda: person.deploy(secret_manifest, collect))
        texts.append(repr(person))


def test_no_secret_appears_in_any_output_event_result_exception_or_log(connect, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    tokens: set[str] = set()
    leaky = f"Error filling in template: password {REDIS_PASSWORD} rejected"
    for options in ({}, {"deploy_error": (100, leaky)}, {"has_diff_endpoint": False}):
        for auth in ("basic", "uaa"):
            backend = MemoryBackend(**options)
            backend.errand_runs["acceptance-tests"] = [{"exit_code": 1, "stdout": f"auth {REDIS_PASSWORD}"}]
            backend.instance_rows["redis-dev1"] = [{"job_name": "redis_z1", "index": 0, "ips": ["10.0.0.1"]}]
            with FakeDirector(backend, auth=auth, token_uses=3, users={"alice": USER_PASSWORD}) as fake:
                _every_path(fake, connect, texts)
            tokens |= set(fake.uaa_state.access_tokens) | set(fake.uaa_state.refresh_tokens)
    captured = capsys.readouterr()
    haystack = "\n".join([*texts, captured.out, captured.err, *(r.getMessage() for r in caplog.records)])
    assert "redis_z1" in haystack and "<redacted>" in haystack  # we did look at real output
    assert "refuses v1 manifests" in haystack and "TLS verification" in haystack
    assert len(tokens) > 10
    for secret in [ADMIN_PASSWORD, CLIENT_SECRET, REDIS_PASSWORD, USER_PASSWORD, "changed-pass-6", *tokens]:
        assert secret not in haystack, f"a secret leaked: {secret[:8]}..."


# -- v270+: every v1 refusal text is one line; nothing else is --------------------------------------


CLOUD_ONLY = "Deployment manifest contains '%s' section, but this can only be set in a cloud-config."


def _group(**extra: Any) -> dict[str, Any]:
    return {"name": "redis_leader_z1", "instances": 1, "jobs": [{"name": "redis", "release": "redis"}], **extra}


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ({"vm_types": [], "jobs": []}, f"{CLOUD_ONLY % 'vm_types'}"),
        ({"azs": []}, f"{CLOUD_ONLY % 'azs'}"),
        ({"disk_types": []}, f"{CLOUD_ONLY % 'disk_types'}"),
        ({"compilation": {}, "networks": [], "jobs": []},
         "Deployment manifest contains 'compilation' section, but this can only be set in a cloud-config."),
        ({"networks": [], "jobs": []}, "Deployment 'networks' are no longer supported."),
        ({"disk_pools": [], "jobs": []}, "disk_pools is no longer supported."),
        ({"jobs": [], "resource_pools": []}, "Jobs are no longer supported, please use instance groups instead"),
        ({"resource_pools": []}, "resource_pools is no longer supported."),
        ({"instance_groups": [_group(templates=[{"name": "redis"}])]},
         "Instance group 'redis_leader_z1' specifies template or templates."),
        ({"instance_groups": [_group(resource_pool="small_z1")]}, "Instance groups no longer support resource_pool"),
    ],
    ids=["vm_types", "azs", "disk_types", "compilation", "networks", "disk_pools", "jobs", "resource_pools",
         "templates", "resource_pool"],
)  # fmt: skip
def test_every_v1_refusal_of_a_v270_director_is_one_line(document: dict[str, Any], said: str, fake, connect):
    text = yaml.safe_dump({"name": "redis-2015", "releases": [{"name": "redis", "version": "12"}], **document})
    result = connect(fake).deploy(text, Events())
    assert result.state == "error"
    assert result.result.startswith(f"the director at {fake.url} refuses v1 manifests; set manifest: v2 (or auto)")
    assert f"director said: {said}" in result.result and "\n" not in result.result


def test_a_canary_failure_naming_jobs_is_not_a_v1_refusal(connect):
    reason = "'redis_z1/0 (5d1c)' is not running after update. Review logs for failed jobs: redis"
    with FakeDirector(released(MemoryBackend(deploy_error=(400007, reason))), version="262.3.0 (0)") as fake:
        result = connect(fake).deploy(V1_MANIFEST, Events())
    assert (result.state, result.result) == ("error", reason)


def test_a_pre_v270_director_takes_v1_and_says_its_version(connect):
    with FakeDirector(released(MemoryBackend()), version="262.3.0 (00000000)") as fake:
        director = connect(fake)
        assert director.info().major == 262
        assert director.deploy(V1_MANIFEST, Events()).ok


def test_named_cloud_configs_diffed_then_uploaded_only_when_changed(fake, connect):
    director = connect(fake)
    content = yaml.safe_dump({"vm_types": [{"name": "redis-dev1-small"}]})
    assert director.diff_cloud_config("redis-dev1", content) == ["+ vm_types:", "+ - name: redis-dev1-small"]
    director.update_cloud_config("redis-dev1", content)
    assert director.diff_cloud_config("redis-dev1", content) == []
    assert director.cloud_configs() == {"default": CLOUD_CONFIG, "redis-dev1": content}
    posts = [json.loads(r.body) for r in fake.requests if r.path == "/configs" and r.method == "POST"]
    assert posts == [{"type": "cloud", "name": "redis-dev1", "content": content}]


def test_a_failed_stemcell_upload_stops_before_the_deploy(connect):
    from boshpipe.director import Stemcell

    backend = released(MemoryBackend(stemcell_upload_fails="Stemcell sha1 mismatch"))
    with FakeDirector(backend) as fake:
        wanted = (Stemcell(name="bosh-warden-x", url="https://bosh.io/d/stemcells/bosh-warden-x?v=1", sha1="b" * 40),)
        result = connect(fake).prepare_stemcells(wanted, Events())
    assert result is not None and result.state == "error"
    assert result.result == (
        "upload of stemcell bosh-warden-x/latest from https://bosh.io:443/d/stemcells/bosh-warden-x failed:"
        " Stemcell sha1 mismatch"
    )
