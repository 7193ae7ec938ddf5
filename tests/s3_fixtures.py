"""A real S3 API server on loopback for the tests: moto in server mode, in its own process.

Why a subprocess and not ``ThreadedMotoServer``: the store is then exercised over real HTTP from
real client processes (the concurrency tests fork 20 of them), and the fault tests can kill the
server like a crashed or unreachable S3.

Why a launcher (``python -m tests.s3_fixtures``) and not plain ``python -m moto.server``: moto
checks ``If-None-Match`` / ``If-Match`` and then writes, without a lock, in a threaded server. Two
racing conditional PUTs can both succeed there (measured: 1 trial in 15 with 20 racing processes
gave two winners), which real S3 never allows. The launcher reads each request body first, then
hands the request to moto under one lock, making moto's conditional writes atomic like S3's; a
request whose body was cut short is refused as S3 does (moto alone would store the truncated body).
It prints ``READY <port>`` once the socket is bound, so the fixture waits for that line, not a sleep.

Credentials, region and ``AWS_ENDPOINT_URL_S3`` are fake and set only inside fixtures
(``monkeypatch``: restored afterwards); ``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE`` point
nowhere so a developer's own AWS profile can never be used by a test.
"""

from __future__ import annotations

import io
import os
import select
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SMALL_PART = 256 * 1024
"""Minimum multipart part size the test server accepts (S3's is 5 MiB): keeps multipart tests fast."""


class MotoServer:
    """One moto S3 server process on 127.0.0.1; restartable on the same port (with empty state)."""

    def __init__(self, port: int = 0, extra_env: dict[str, str] | None = None) -> None:
        self.port = port
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        env = {**os.environ, "S3_UPLOAD_PART_MIN_SIZE": str(SMALL_PART), **self.extra_env}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.s3_fixtures", str(self.port)],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,  # closed when this process dies: the server then exits too
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"moto server did not start within {timeout}s (got {line!r})")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        """Kill the process (SIGKILL: like a crash, no graceful close of connections)."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=10)
            for pipe in (self.process.stdin, self.process.stdout):
                if pipe is not None:
                    pipe.close()
        self.process = None


def fake_aws_environment(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/boshpipe-tests/config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/boshpipe-tests/credentials")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "BOSHPIPE_STORE"):
        monkeypatch.delenv(name, raising=False)


def create_bucket(endpoint: str, name: str | None = None) -> str:
    """A fresh bucket on ``endpoint`` (with the fake credentials in the environment)."""
    import boto3

    bucket = name or f"boshpipe-{uuid.uuid4().hex[:12]}"
    boto3.session.Session().client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(scope="session")
def s3_server() -> Iterator[MotoServer]:
    """The session's moto server, killed at session end."""
    server = MotoServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_env(s3_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """Fake AWS settings pointing at the session's server, for this test only."""
    fake_aws_environment(monkeypatch, s3_server.endpoint)
    return s3_server


@pytest.fixture
def s3_url(s3_env: MotoServer) -> str:
    """``s3://<fresh bucket>/boshpipe``: each test starts from an empty bucket."""
    return f"s3://{create_bucket(s3_env.endpoint)}/boshpipe"


# -- the launcher ----------------------------------------------------------------------------------


class _Serialized:
    """WSGI middleware: read the whole request, then let moto handle one request at a time."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        stream = environ["wsgi.input"]
        if environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            expected = int(environ.get("CONTENT_LENGTH") or 0)
            body = stream.read(expected)
            if len(body) < expected:
                # The client went away mid-body: S3 discards such a request (IncompleteBody); moto
                # would store the truncated bytes, so it never sees it.
                start_response("400 Bad Request", [("Content-Type", "application/xml")])
                return [b"<Error><Code>IncompleteBody</Code></Error>"]
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            return list(self.app(environ, start_response))


def _serve(port: int) -> None:
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = _Serialized(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)
    print(f"READY {server.port}", flush=True)
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    server.serve_forever()


def _exit_with_parent() -> None:
    """stdin is a pipe from the test process: EOF means it is gone (even killed), so stop serving."""
    sys.stdin.buffer.read()
    os._exit(0)


if __name__ == "__main__":
    _serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
