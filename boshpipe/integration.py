"""The staging integration test: data written before an upgrade is all there after it.

It wraps an upgrade (``upgrade`` is the caller's deploy of the new candidate):

1. seed: a few thousand keys on the master, persisted (SAVE) and replicated (WAIT);
2. traffic: while the rolling update runs, a thread keeps writing to the master and reading from
   every instance, counting requests that fail (the cluster should keep answering);
3. verify: after the update, every seeded key is present on the master and on every replica.

Only the Director protocol and redis-py are used, so the test runs the same against the local
director and a real one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from boshpipe.director import Director, Instance
from boshpipe.director.groups import JobSpec, load_manifest, read_jobs
from boshpipe.director.variables import resolve as resolve_variables
from boshpipe.errors import CheckFailed

CHUNK = 1000


@dataclass
class Figures:
    keys_written: int = 0
    keys_found: dict[str, int] = field(default_factory=dict)  # instance → seeded keys present
    requests: int = 0
    failed_requests: int = 0
    failures: list[str] = field(default_factory=list)  # first few failure reasons, for the report

    def as_dict(self) -> dict[str, Any]:
        return {
            "keys_written": self.keys_written,
            "keys_found": dict(self.keys_found),
            "requests_during_update": self.requests,
            "failed_requests_during_update": self.failed_requests,
        }


def redis_instances(director: Director, deployment: str) -> tuple[Instance, list[Instance], str, int]:
    """The master, its replicas, the password and the port, from the deployed manifest and instances."""
    text = director.deployed_manifest(deployment)
    if text is None:
        raise CheckFailed(f"integration test: {deployment} is not deployed")
    manifest = resolve_variables(load_manifest(text), director, deployment)  # ((vars)) from a config server
    jobs = {job.name: job for job in read_jobs(manifest) if job.runs_redis}
    instances = [i for i in director.instances(deployment) if i.job in jobs]
    masters = [i for i in instances if _is_master(jobs[i.job], i)]
    if len(masters) != 1:
        raise CheckFailed(f"integration test: {deployment} has {len(masters)} redis masters, expected one")
    props = jobs[masters[0].job].redis()
    return masters[0], [i for i in instances if i is not masters[0]], props.password or "", props.port


def _client(address: str, port: int, password: str, timeout: float = 1.0, *, retry: bool = True) -> redis.Redis:
    """``retry=False``: no silent redis-py retries (its default retries a failed request 3 times)."""
    extra: dict[str, Any] = {} if retry else {"retry": Retry(NoBackoff(), 0)}
    return redis.Redis(
        host=address,
        port=port,
        password=password or None,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        **extra,
    )


def _is_master(job: JobSpec, instance: Instance) -> bool:
    """v15: the bootstrap instance the director reports; 2015: the instance without ``redis.master``."""
    if job.bootstrap_master:
        return instance.bootstrap
    return job.redis().master is None


def seed(master: Instance, port: int, password: str, prefix: str, count: int, replicas: int) -> int:
    client = _client(master.address, port, password, timeout=10)
    with client:
        for start in range(0, count, CHUNK):
            pipe = client.pipeline(transaction=False)
            for n in range(start, min(start + CHUNK, count)):
                pipe.set(f"{prefix}:{n}", f"value-{n}")
            pipe.execute()
        client.save()  # persisted on the master's disk before the upgrade begins
        if replicas:
            client.wait(replicas, 10_000)
    return count


class Traffic(threading.Thread):
    """Requests against the cluster while it is being updated; bounded in time and stopped by ``stop``."""

    def __init__(self, master: Instance, others: list[Instance], port: int, password: str, limit_s: float = 600):
        super().__init__(name="integration-traffic", daemon=True)
        self.targets = [master, *others]
        self.port, self.password, self.limit_s = port, password, limit_s
        self.halt = threading.Event()
        self.figures = Figures()

    def run(self) -> None:
        # No silent client retries: a request that fails is counted, not hidden behind a retry.
        clients = [_client(i.address, self.port, self.password, timeout=0.5, retry=False) for i in self.targets]
        deadline = time.monotonic() + self.limit_s
        n = 0
        while not self.halt.is_set() and time.monotonic() < deadline:
            target = n % len(clients)
            try:
                if target == 0:
                    clients[0].set(f"traffic:{n}", n)
                else:
                    clients[target].get(f"traffic:{n - 1}")
            except redis.RedisError as err:
                self.figures.failed_requests += 1
                if len(self.figures.failures) < 5:
                    self.figures.failures.append(f"{self.targets[target].job}/{self.targets[target].index}: {err}")
                self.halt.wait(0.01)  # a restarting instance: do not spin on it
            self.figures.requests += 1
            n += 1
        for client in clients:
            client.close()

    def stop(self) -> Figures:
        self.halt.set()
        self.join()
        return self.figures


def count_present(instance: Instance, port: int, password: str, prefix: str, count: int, wait_s: float) -> int:
    """Seeded keys present on ``instance``; replicas get ``wait_s`` to finish resyncing."""
    deadline = time.monotonic() + wait_s
    found = 0
    while True:
        try:
            with _client(instance.address, port, password, timeout=5) as client:
                found = 0
                for start in range(0, count, CHUNK):
                    keys = [f"{prefix}:{n}" for n in range(start, min(start + CHUNK, count))]
                    values = client.mget(keys)
                    found += sum(
                        1
                        for n, v in zip(range(start, start + len(keys)), values, strict=True)
                        if v == f"value-{n}".encode()
                    )
        except redis.RedisError:
            found = 0
        if found == count or time.monotonic() >= deadline:
            return found
        time.sleep(0.05)  # polling a replica's resync, bounded by the deadline


def around_upgrade(
    director: Director,
    deployment: str,
    upgrade: Callable[[], None],
    *,
    keys: int = 5000,
    wait_s: float = 30.0,
) -> Figures:
    """Seed, run ``upgrade`` under traffic, and count what survived."""
    master, replicas, password, port = redis_instances(director, deployment)
    prefix = f"integration:{int(time.time() * 1000)}"
    written = seed(master, port, password, prefix, keys, len(replicas))
    traffic = Traffic(master, replicas, port, password)
    traffic.start()
    try:
        upgrade()
    finally:
        figures = traffic.stop()
    figures.keys_written = written
    master, replicas, password, port = redis_instances(director, deployment)
    for instance in [master, *replicas]:
        figures.keys_found[f"{instance.job}/{instance.index}"] = count_present(
            instance, port, password, prefix, keys, wait_s
        )
    return figures
