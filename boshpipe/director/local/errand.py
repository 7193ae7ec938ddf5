"""The upstream ``acceptance-tests`` errand, run in-process by the local director.

Upstream's errand writes a key on ``redis.master``, reads it back there and on ``redis.slave``, and
exits non-zero when any step fails. The same steps here, with the replica read polled until a
deadline because replication is asynchronous.
"""

from __future__ import annotations

import time
import uuid

import redis

from boshpipe.director.local.redisproc import POLL, client, redact

Endpoint = tuple[str, int]


def acceptance_tests(
    master: Endpoint | None, slave: Endpoint | None, password: str | None, *, timeout: float = 10.0
) -> tuple[int, list[str]]:
    """(exit code, stdout lines). The password never appears in the lines."""
    lines: list[str] = []
    if master is None:
        return 1, ["FAIL: redis.master is not set in the errand's properties"]
    key = f"boshpipe:acceptance:{uuid.uuid4().hex[:12]}"
    value = uuid.uuid4().hex
    step = f"master {master[0]}:{master[1]}"
    try:
        with client(*master, password, timeout=2.0) as conn:
            conn.set(key, value, ex=600)
            lines.append(f"wrote {key} on {step}")
            if conn.get(key) != value:
                return 1, [*lines, f"FAIL: {step} did not return the value just written"]
            lines.append(f"read {key} back from {step}")
            if slave is None:
                return 1, [*lines, "FAIL: redis.slave is not set in the errand's properties"]
            step = f"slave {slave[0]}:{slave[1]}"
            with client(*slave, password, timeout=2.0) as replica:
                deadline = time.monotonic() + timeout
                while replica.get(key) != value:
                    if time.monotonic() > deadline:
                        return 1, [*lines, f"FAIL: {step} did not have {key} within {timeout:g} s"]
                    time.sleep(POLL)
            lines.append(f"read {key} from {step}")
            conn.delete(key)
    except redis.AuthenticationError:
        return 1, [*lines, f"FAIL: {step} refused the password"]
    except redis.RedisError as err:
        return 1, [*lines, redact(f"FAIL: {step}: {err}", password)]
    lines.append("acceptance tests passed")
    return 0, lines
