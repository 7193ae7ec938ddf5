"""S3 faults: the server going away mid-upload, bad credentials, a missing bucket, no endpoint.

Each failure must be one line (what, where, what to do), never contain a secret, and leave nothing
half-written behind; after the fault is gone the same call must succeed.

Two ways of "stopping the server mid-upload", because moto keeps its state in memory:

- ``CuttingProxy`` (see tcp_proxy.py) sits between the store and a moto server that keeps running.
  It drops every connection in the middle of a request body and then refuses connections, which
  is what the client sees when the server dies; since moto survives, the test can check that no
  candidate and no record became visible, then "restart" the proxy and repeat the same call.
- ``test_server_killed_between_multipart_parts`` really SIGKILLs a moto process between two parts
  of a multipart upload. The restarted moto is empty (in-memory state is lost), so that test only
  shows the clear error and that the same call succeeds on the restarted server.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator

import boto3
import pytest

from boshpipe.errors import AlreadyExists, StoreError
from boshpipe.ledger import Ledger, Record
from boshpipe.store.candidates import list_candidates, load_candidate, store_candidate
from boshpipe.store.s3 import S3Store
from tests.s3_fixtures import SMALL_PART, MotoServer, create_bucket, fake_aws_environment
from tests.store.conftest import MULTIPART_THRESHOLD, s3_store
from tests.store.tcp_proxy import CuttingProxy

pytestmark = pytest.mark.s3
NAME = "redis-templates"
SECRET = "testing-secret"


def one_clear_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and text.strip() == text and len(text) < 400, text
    assert SECRET not in text and "Traceback" not in text, text
    return text


def bucket_keys(url: str, endpoint: str) -> list[str]:
    """What is really in the bucket, read directly from moto (not through the proxy)."""
    bucket = url[5:].split("/", 1)[0]
    client = boto3.session.Session().client("s3", endpoint_url=endpoint)
    return [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.fixture
def proxy(s3_env: MotoServer) -> Iterator[CuttingProxy]:
    cutting = CuttingProxy(s3_env.port)
    yield cutting
    cutting.close()


def test_upload_cut_mid_part_leaves_no_candidate_and_the_same_call_then_succeeds(
    s3_url: str, s3_env: MotoServer, proxy: CuttingProxy
) -> None:
    url = s3_url
    store = S3Store.from_url(url, multipart_threshold=MULTIPART_THRESHOLD, part_size=SMALL_PART)
    store_via_proxy = _via(proxy, url)
    data = os.urandom(3 * SMALL_PART + 12_345)  # multipart: 4 parts
    proxy.cut_after(SMALL_PART + SMALL_PART // 2)  # in the middle of the second part's body
    started = time.monotonic()
    with pytest.raises(StoreError) as caught:
        store_candidate(store_via_proxy, NAME, data)
    elapsed = time.monotonic() - started
    text = one_clear_line(caught.value)
    assert text.startswith(f"cannot reach the S3 endpoint {proxy.endpoint}"), text
    assert "check AWS_ENDPOINT_URL_S3" in text
    assert proxy.cut.is_set() and elapsed < 15
    assert list_candidates(store, NAME) == []
    assert not [key for key in bucket_keys(url, s3_env.endpoint) if key.endswith(".tgz")]

    proxy.restore()
    stored = store_candidate(store_via_proxy, NAME, data)
    assert (stored.number, stored.created) == (1, True)
    assert load_candidate(store, NAME, 1) == data


def test_record_cut_mid_body_is_not_visible_and_the_same_append_then_succeeds(
    s3_url: str, s3_env: MotoServer, proxy: CuttingProxy
) -> None:
    ledger = Ledger(_via(proxy, s3_url))
    record = Record(
        kind="test",
        env="staging",
        outcome="succeeded",
        details={"test": "integration", "figures": {f"key{n}": n for n in range(2000)}},
    )
    assert len(record.to_json()) > 20_000
    proxy.cut_after(10_000)  # headers (~1.5 kB) and part of the body
    with pytest.raises(StoreError) as caught:
        ledger.append(record)
    one_clear_line(caught.value)
    assert proxy.cut.is_set()
    assert bucket_keys(s3_url, s3_env.endpoint) == []

    proxy.restore()
    stored = ledger.append(record)
    assert [r.id for r in ledger.history("staging")] == [stored.id]
    assert ledger.state("staging").last_tests == {"integration": stored.id}


def test_a_write_whose_reply_was_lost_is_retried_and_recognised(s3_url: str, proxy: CuttingProxy) -> None:
    """The conditional PUT landed but its response was lost: the retry gets 412, the read-back
    finds our own bytes, so the write succeeded. A real loser is still reported as such."""
    store = _via(proxy, s3_url)
    proxy.drop_responses(1)
    etag = store.create("locks/dev1.json", b"mine")
    assert store.get("locks/dev1.json").data == b"mine"
    proxy.drop_responses(1)
    store.replace("locks/dev1.json", b"mine, refreshed", etag)
    assert store.get("locks/dev1.json").data == b"mine, refreshed"
    proxy.drop_responses(1)  # this time the lost reply was a 412: someone else's object is there
    with pytest.raises(AlreadyExists):
        store.create("locks/dev1.json", b"theirs")
    assert store.get("locks/dev1.json").data == b"mine, refreshed"


def test_server_killed_between_multipart_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    server = MotoServer().start()
    try:
        fake_aws_environment(monkeypatch, server.endpoint)
        url = f"s3://{create_bucket(server.endpoint, 'killed')}/boshpipe"
        data = os.urandom(3 * SMALL_PART)

        def kill_after_first_part(key: str, done: int, total: int) -> None:
            if done == SMALL_PART:
                server.stop()

        store = S3Store.from_url(
            url, multipart_threshold=MULTIPART_THRESHOLD, part_size=SMALL_PART, progress=kill_after_first_part
        )
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            store_candidate(store, NAME, data)
        assert time.monotonic() - started < 15
        assert one_clear_line(caught.value).startswith(f"cannot reach the S3 endpoint {server.endpoint}")

        server.start()  # same port, empty state: moto keeps nothing across a restart
        create_bucket(server.endpoint, "killed")
        stored = store_candidate(s3_store(url), NAME, data)
        assert (stored.number, stored.created) == (1, True)
    finally:
        server.stop()


def test_unreachable_endpoint_fails_within_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    fake_aws_environment(monkeypatch, f"http://127.0.0.1:{port}")
    store = S3Store.from_url("s3://any-bucket/boshpipe")
    for call in (lambda: store.get("state/dev1.json"), lambda: store.create("records/dev1/x.json", b"{}")):
        started = time.monotonic()
        with pytest.raises(StoreError) as caught:
            call()
        assert time.monotonic() - started < 10
        text = one_clear_line(caught.value)
        assert text.startswith(f"cannot reach the S3 endpoint http://127.0.0.1:{port}"), text


def test_missing_bucket_is_one_clear_line(s3_env: MotoServer) -> None:
    store = S3Store.from_url("s3://no-such-bucket/boshpipe")
    for call in (
        lambda: store_candidate(store, NAME, b"x"),
        lambda: Ledger(store).append(Record(kind="deploy", env="dev1", outcome="failed")),
        lambda: list(store.list("records/")),
    ):
        with pytest.raises(StoreError) as caught:
            call()
        assert one_clear_line(caught.value).startswith("S3 bucket 'no-such-bucket' does not exist at http://")


def test_no_credentials_is_one_clear_line(s3_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(StoreError) as caught:
        S3Store.from_url("s3://bucket/boshpipe").get("state/dev1.json")
    assert one_clear_line(caught.value).startswith("no usable AWS credentials for s3://bucket/boshpipe")


def test_unknown_profile_is_one_clear_line(s3_env: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(StoreError) as caught:
        S3Store.from_url("s3://bucket/boshpipe")
    assert one_clear_line(caught.value).startswith("AWS profile 'nope' not found")


@pytest.fixture(scope="module")
def auth_server() -> Iterator[tuple[MotoServer, dict[str, str]]]:
    """A moto server that checks credentials (IAM) after the first 4 requests set it up.

    Those 4 unauthenticated requests create an IAM user with read-only S3 access, its access key
    and the bucket; everything after them is authenticated like real S3.
    """
    server = MotoServer(extra_env={"INITIAL_NO_AUTH_ACTION_COUNT": "4"}).start()
    monkeypatch = pytest.MonkeyPatch()
    try:
        fake_aws_environment(monkeypatch, server.endpoint)
        iam = boto3.session.Session().client("iam", endpoint_url=server.endpoint)
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
        }
        iam.put_user_policy(UserName="reader", PolicyName="read-only", PolicyDocument=json.dumps(policy))
        create_bucket(server.endpoint, "guarded")
        yield (
            server,
            {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]},
        )
    finally:
        monkeypatch.undo()
        server.stop()


def test_bad_credentials_are_one_clear_line(
    auth_server: tuple[MotoServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = auth_server
    fake_aws_environment(monkeypatch, server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG1")
    store = S3Store.from_url("s3://guarded/boshpipe")
    for call in (lambda: store.get("state/dev1.json"), lambda: store_candidate(store, NAME, b"x")):
        with pytest.raises(StoreError) as caught:
            call()
        text = one_clear_line(caught.value)
        assert text.startswith(f"S3 at {server.endpoint} rejected the credentials (InvalidAccessKeyId"), text
        assert "AKIAWRONG" not in text


def test_access_denied_is_one_clear_line(
    auth_server: tuple[MotoServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, reader = auth_server
    fake_aws_environment(monkeypatch, server.endpoint)
    for name, value in reader.items():
        monkeypatch.setenv(name, value)
    store = S3Store.from_url("s3://guarded/boshpipe")
    assert list(store.list("records/")) == []  # reading is allowed
    with pytest.raises(StoreError) as caught:
        Ledger(store).append(Record(kind="deploy", env="dev1", outcome="failed"))
    text = one_clear_line(caught.value)
    assert text.startswith("access denied: cannot write s3://guarded/boshpipe/records/dev1/"), text
    assert "the AWS_ACCESS_KEY_ID environment variables" in text
    assert reader["AWS_SECRET_ACCESS_KEY"] not in text


def _via(proxy: CuttingProxy, url: str) -> S3Store:
    """A store whose requests go through ``proxy`` (AWS_ENDPOINT_URL_S3 pointing at it)."""
    saved = os.environ["AWS_ENDPOINT_URL_S3"]
    os.environ["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
    try:
        return S3Store.from_url(url, multipart_threshold=MULTIPART_THRESHOLD, part_size=SMALL_PART)
    finally:
        os.environ["AWS_ENDPOINT_URL_S3"] = saved
