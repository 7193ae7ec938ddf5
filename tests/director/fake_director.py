"""A loopback HTTPS server that stands in for a BOSH director (and its UAA) in tests.

No real director can run here: it needs a CPI, a database, NATS and a blobstore, and boots VMs.
This server stands in for one so the director client can be tested over real HTTPS, real TLS
verification and real connection reuse. Its behaviour is kept to what the director documents
(bosh.io "Director API v1", and what the bosh CLI relies on), nothing more:

* ``GET /info`` needs no auth and says ``user_authentication: {type: basic}`` or
  ``{type: uaa, options: {url}}``; every other endpoint answers 401 without valid credentials;
* the UAA's ``POST /oauth/token`` takes the ``client_credentials``, ``password`` and
  ``refresh_token`` grants with the client in HTTP basic auth, and answers
  ``{access_token, token_type: bearer, expires_in, refresh_token?}``; tokens can be made to expire
  after a number of uses (``token_uses``), so a client meets a 401 it must recover from;
* task-starting requests (``POST /deployments``, ``DELETE /deployments/<name>``,
  ``GET /deployments/<name>/instances?format=full``, errand runs, ``POST /releases``) answer
  302 (or 303) with an absolute ``Location: <redirect_base>/tasks/<id>``. ``redirect_base`` can name
  another host, to prove the client does not follow it;
* ``GET /tasks/<id>`` → ``{id, state, description, timestamp, result, user}``;
  ``GET /tasks/<id>/output?type=event|result`` honours ``Range: bytes=N-`` with 206, answers 416
  when nothing lies beyond N, or ignores the range and answers 200 (``honor_range=False``);
* errors are ``{"code": ..., "description": ...}`` with the director's status codes (404 for a
  missing deployment, 400 for a request it cannot take); ``DELETE /task/<id>`` cancels.

What a deployment *does* is pluggable: a backend (``MemoryBackend`` by default: accepted manifests,
scripted event lines, task states) is called with a ``Task`` it fills with event lines, result
lines and a final state. A task's scripted steps are revealed one per ``GET /tasks/<id>`` poll, so
a test sees events arrive incrementally without sleeping; a backend may instead work in its own
thread (e.g. one that delegates to the local director to run real redis processes).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import json
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from boshpipe.director import Director, Event

# -- certificates ------------------------------------------------------------------------------------


# The stemcell every env.yml names (bosh-lite's warden stemcell), as GET /stemcells lists it: a fake
# director that should have it passes this in ``stemcell_rows``; without it, v2 deploys are refused.
WARDEN_STEMCELL: dict[str, str] = {
    "name": "bosh-warden-boshlite-ubuntu-trusty-go_agent",
    "operating_system": "ubuntu-trusty",
    "version": "3586.100",
    "cid": "stemcell-cid-1",
}


@dataclass(frozen=True)
class CertificateAuthority:
    """A throwaway CA generated at test time."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def generate(cls, name: str = "boshpipe test CA") -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def issue(self, hosts: Iterable[str]) -> tuple[str, str]:
        """(certificate PEM, key PEM) of a server certificate for ``hosts`` (names or IPs)."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake director")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


# -- tasks -------------------------------------------------------------------------------------------

FINAL = ("done", "error", "cancelled", "timeout")
Step = Callable[["Task"], None]


class Task:
    """A director task: its event and result output grow; scripted steps run one per state poll."""

    def __init__(self, task_id: int, description: str, deployment: str | None = None) -> None:
        self.id = task_id
        self.description = description
        self.deployment = deployment
        self.state = "queued"
        self.result: str | None = None
        self.events = bytearray()
        self.result_output = bytearray()
        self.steps: deque[Step] = deque()
        self.cancel_requested = False
        self.lock = threading.RLock()
        self.timestamp = int(time.time())

    # What backends call ------------------------------------------------------------------------
    def event(self, **fields: Any) -> None:
        fields.setdefault("time", int(time.time()))
        self.raw_event(json.dumps(fields) + "\n")

    def emit(self, event: Event) -> None:
        """A boshpipe ``Event`` as a director event line (for backends wrapping another Director)."""
        if event.error is not None and not event.stage:
            self.error(0, event.error)
            return
        fields: dict[str, Any] = {
            "time": event.time, "stage": event.stage, "tags": list(event.tags), "total": event.total,
            "task": event.task, "index": event.index, "state": event.state, "progress": event.progress,
        }  # fmt: skip
        if event.error is not None:
            fields["data"] = {"error": event.error}
        self.event(**fields)

    def raw_event(self, text: str) -> None:
        with self.lock:
            self.events += text.encode()
            if self.state == "queued":
                self.state = "processing"

    def error(self, code: int, message: str) -> None:
        self.raw_event(
            json.dumps({"time": int(time.time()), "error": {"code": code, "message": message}}) + "\n"
        )

    def result_line(self, row: dict[str, Any]) -> None:
        with self.lock:
            self.result_output += (json.dumps(row) + "\n").encode()

    def fail(self, code: int, message: str) -> None:
        """End in error the way the director does: an error event line, and the message as result."""
        self.error(code, message)
        self.finish("error", message)

    def finish(self, state: str, result: str | None = None) -> None:
        with self.lock:
            self.state = state
            self.result = result

    def script(self, steps: Iterable[Step]) -> None:
        """Steps revealed one per ``GET /tasks/<id>`` (deterministic incremental progress)."""
        with self.lock:
            self.steps.extend(steps)

    # What the server calls ---------------------------------------------------------------------
    def advance(self) -> None:
        with self.lock:
            if self.cancel_requested and self.state not in FINAL:
                self.steps.clear()
                self.finish("cancelled", "task cancelled")
                return
            if self.steps:
                self.steps.popleft()(self)
                if self.state == "queued":
                    self.state = "processing"

    def as_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                "id": self.id,
                "state": self.state,
                "description": self.description,
                "timestamp": self.timestamp,
                "result": self.result,
                "user": "admin",
                "deployment": self.deployment,
            }


class Backend(Protocol):
    """What a deployment does behind the fake director. Methods run in the request's thread."""

    def deploy(self, manifest: str, task: Task) -> None: ...

    def manifest(self, deployment: str) -> str | None: ...

    def diff(self, deployment: str, manifest: str) -> list[list[Any]] | None:
        """Diff lines ``[[text, "added"|"removed"|None], ...]``; None: no diff endpoint (404)."""
        ...

    def instances(self, deployment: str, task: Task) -> None: ...

    def run_errand(self, deployment: str, errand: str, task: Task) -> None: ...

    def delete(self, deployment: str, task: Task) -> None: ...

    def releases(self) -> list[dict[str, Any]]: ...

    def upload_release(self, location: str, sha1: str, task: Task) -> None: ...

    def stemcells(self) -> list[dict[str, Any]]: ...

    def upload_stemcell(self, location: str, sha1: str, task: Task) -> None: ...

    def cloud_config_changed(self, name: str, content: str) -> None:
        """A new latest version of a named cloud config was stored by the server."""
        ...


_RELEASE_URL = re.compile(
    r"/(?P<name>[a-z0-9_]+(?:-[a-z0-9_]+)*?)(?:-boshrelease|-release)?(?:\?v=|-)(?P<version>\d[\w.]*?)(?:\.tgz)?$"
)
_STEMCELL_URL = re.compile(r"/(?P<name>bosh-[a-z0-9_-]+?)(?:\?v=|-)(?P<version>\d[\w.]*?)(?:\.tgz)?$")


def _stemcell_from_url(location: str) -> dict[str, Any] | None:
    """A director reads name and version from the stemcell tarball; the fake reads them from a bosh.io URL."""
    match = _STEMCELL_URL.search(location)
    if match is None:
        return None
    name = match.group("name")
    os_name = "ubuntu-" + name.split("-ubuntu-", 1)[1].split("-", 1)[0] if "-ubuntu-" in name else "unknown"
    return {"name": name, "operating_system": os_name, "version": match.group("version"), "cid": f"cid-{name}"}


_SECRET_LINE = re.compile(r"^(\s*(?:- )?[\w-]*(?:password|secret|key|token|credential)[\w-]*:\s+).+$", re.I)


def _emit(text: str) -> Step:
    return lambda task: task.raw_event(text)


def _result_line(row: dict[str, Any]) -> Step:
    return lambda task: task.result_line(row)


# The v270+ director's refusals of v1 manifests, in its order (cloudfoundry/bosh
# deployment_plan/manifest_validator.rb, then instance_group_spec_parser.rb per instance group).
_CLOUD_ONLY = ("vm_types", "azs", "disk_types", "compilation")
_V1_TOP = (
    ("networks", 140026,
     "Deployment 'networks' are no longer supported. Network definitions must now be provided in a cloud-config."),
    ("disk_pools", 140027,
     "disk_pools is no longer supported. Disk definitions must now be provided as disk_types in a cloud-config"),
    ("jobs", 140023, "Jobs are no longer supported, please use instance groups instead"),
    ("resource_pools", 140028,
     "resource_pools is no longer supported. You must now define resources in a cloud-config"),
)  # fmt: skip


def _v1_refusal(document: dict[str, Any]) -> tuple[int, str] | None:
    """(code, message) a v270+ director's validators raise for a v1 manifest, or None."""
    for key in _CLOUD_ONLY:
        if key in document:
            return 190014, f"Deployment manifest contains '{key}' section, but this can only be set in a cloud-config."
    for key, code, message in _V1_TOP:
        if key in document:
            return code, message
    for group in document.get("instance_groups") or []:
        if "templates" in group or "template" in group:
            return 140024, (
                f"Instance group '{group.get('name')}' specifies template or templates."
                " This is no longer supported, please use jobs instead"
            )
        if "resource_pool" in group:
            return 140025, (
                "Instance groups no longer support resource_pool, please use 'vm_type' or 'vm_resources' keys"
            )
    return None


def _addresses(entries: Iterable[Any]) -> list[ipaddress.IPv4Address]:
    out: list[ipaddress.IPv4Address] = []
    for entry in entries:
        first, _, last = str(entry).partition("-")
        low = ipaddress.IPv4Address(first.strip())
        high = ipaddress.IPv4Address(last.strip()) if last else low
        out.extend(ipaddress.IPv4Address(n) for n in range(int(low), int(high) + 1))
    return out


def merged_cloud_config(configs: dict[str, str]) -> dict[str, Any]:
    """What the director merges from the latest named cloud configs: lists concatenated."""
    merged: dict[str, Any] = {"azs": [], "vm_types": [], "disk_types": [], "networks": [], "vm_extensions": []}
    for name in sorted(configs):
        doc = yaml.safe_load(configs[name]) or {}
        for section in merged:
            merged[section] += doc.get(section) or []
    return merged


def v2_error(document: dict[str, Any], cloud: dict[str, Any]) -> str | None:
    """The first error a director's deployment planner gives this v2 manifest with this cloud config."""
    if "update" not in document:
        return "Required property 'update' was not specified in object (deployment manifest)"
    names = {section: {str(e.get("name")) for e in cloud[section]} for section in cloud}
    stemcells = {str(s.get("alias")) for s in document.get("stemcells") or []}
    taken: dict[ipaddress.IPv4Address, str] = {}
    for group in document.get("instance_groups") or []:
        name = group.get("name")
        disk_type = group.get("persistent_disk_type")
        if disk_type is not None and disk_type not in names["disk_types"]:
            return f"Instance group '{name}' references an unknown disk type '{disk_type}'"
        vm_type = group.get("vm_type")
        if vm_type is None and "vm_resources" not in group:
            return f"Instance group '{name}' is missing either 'vm_type' or 'vm_resources' section."
        if vm_type is not None and vm_type not in names["vm_types"]:
            return f"Instance group '{name}' references an unknown vm type '{vm_type}'"
        if group.get("stemcell") not in stemcells:
            return f"Instance group '{name}' references an unknown stemcell '{group.get('stemcell')}'"
        for network in group.get("networks") or []:
            if network.get("name") not in names["networks"]:
                return f"Instance group '{name}' references an unknown network '{network.get('name')}'"
        for az in group.get("azs") or []:
            if az not in names["azs"]:
                return f"Instance group '{name}' references unknown availability zone '{az}'"
        for network in group.get("networks") or []:
            statics = _addresses(network.get("static_ips") or [])
            if not statics:
                continue
            if len(statics) != int(group.get("instances") or 0):
                return (
                    f"Instance group '{name}' has {group.get('instances')} instances but was allocated"
                    f" {len(statics)} static IPs in network '{network['name']}'"
                )
            definition = next(n for n in cloud["networks"] if n.get("name") == network["name"])
            subnets = definition.get("subnets") or []
            allowed = {ip for subnet in subnets for ip in _addresses(subnet.get("static") or [])}
            for index, ip in enumerate(statics):
                if ip not in allowed:
                    return (
                        f"Instance group '{name}' with network '{network['name']}' declares static ip '{ip}',"
                        " which belongs to no subnet"
                    )
                if ip in taken:
                    return (
                        f"Failed to reserve IP '{ip}' for instance '{name}/{index}': already reserved by"
                        f" instance '{taken[ip]}' of this deployment"
                    )
                taken[ip] = f"{name}/{index}"
    return None


@dataclass
class MemoryBackend:
    """In-memory deployments with scripted events (the default backend)."""

    deployments: dict[str, str] = field(default_factory=dict)
    release_versions: dict[str, set[str]] = field(default_factory=dict)
    has_diff_endpoint: bool = True
    deploy_outcome: tuple[str, str | None] = ("done", "/deployments/{name}")
    deploy_error: tuple[int, str] | None = None  # (code, message): the deploy task fails with it
    split_events: bool = False  # reveal event lines in two halves (tests partial-line handling)
    instance_rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    errand_runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    upload_fails: str | None = None
    uploads: list[tuple[str, str]] = field(default_factory=list)
    never_finishes: bool = False  # the deploy task stays 'processing' (client timeout, cancel)
    stemcell_rows: list[dict[str, Any]] = field(default_factory=list)  # GET /stemcells
    stemcell_uploads: list[tuple[str, str]] = field(default_factory=list)
    stemcell_upload_fails: str | None = None

    def stemcells(self) -> list[dict[str, Any]]:
        return list(self.stemcell_rows)

    def upload_stemcell(self, location: str, sha1: str, task: Task) -> None:
        self.stemcell_uploads.append((location, sha1))
        if self.stemcell_upload_fails is not None:
            message = self.stemcell_upload_fails
            task.script([lambda t: t.fail(50004, message)])
            return
        row = _stemcell_from_url(location)
        if row is None:
            message = f"Failed to download stemcell from '{location}'"
            task.script([lambda t: t.fail(50001, message)])
            return
        self.stemcell_rows.append(row)
        label = f"{row['name']}/{row['version']}"
        task.script([lambda t: t.finish("done", f"/stemcells/{label}")])

    def cloud_config_changed(self, name: str, content: str) -> None:
        """Configs live in the server; an in-memory deployment needs nothing else."""

    def deploy_events(self, name: str) -> list[dict[str, Any]]:
        return [
            {"stage": "Preparing deployment", "tags": [], "total": 1, "task": "Preparing deployment",
             "index": 1, "state": "started", "progress": 0},
            {"stage": "Preparing deployment", "tags": [], "total": 1, "task": "Preparing deployment",
             "index": 1, "state": "finished", "progress": 100},
            {"stage": "Updating instance", "tags": ["redis_leader_z1"], "total": 2,
             "task": "redis_leader_z1/0 (canary)", "index": 1, "state": "started", "progress": 0},
            {"stage": "Updating instance", "tags": ["redis_leader_z1"], "total": 2,
             "task": "redis_leader_z1/0 (canary)", "index": 1, "state": "finished", "progress": 100},
            {"stage": "Updating instance", "tags": ["redis_z1"], "total": 2,
             "task": "redis_z1/0", "index": 2, "state": "finished", "progress": 100},
        ]  # fmt: skip

    def deploy(self, manifest: str, task: Task) -> None:
        document = yaml.safe_load(manifest)
        name = str(document["name"])
        steps: list[Step] = []
        for event in self.deploy_events(name):
            line = json.dumps({"time": int(time.time()), **event}) + "\n"
            if self.split_events:
                half = len(line) // 2
                steps += [_emit(line[:half]), _emit(line[half:])]
            else:
                steps.append(_emit(line))
        if self.never_finishes:
            task.script(steps)
            return
        if self.deploy_error is not None:
            code, message = self.deploy_error
            steps.append(lambda t: t.fail(code, message))
        else:
            state, result = self.deploy_outcome

            def finish(t: Task) -> None:
                if state == "done":
                    self.deployments[name] = manifest
                t.finish(state, result.format(name=name) if result else result)

            steps.append(finish)
        task.script(steps)

    def manifest(self, deployment: str) -> str | None:
        return self.deployments.get(deployment)

    def diff(self, deployment: str, manifest: str) -> list[list[Any]] | None:
        if not self.has_diff_endpoint:
            return None
        old = yaml.safe_dump(yaml.safe_load(self.deployments.get(deployment, "{}")), sort_keys=True)
        new = yaml.safe_dump(yaml.safe_load(manifest), sort_keys=True)
        old_lines, new_lines = old.splitlines(), new.splitlines()
        rows: list[list[Any]] = [[line, None] for line in new_lines if line in old_lines]
        rows += [[line, "removed"] for line in old_lines if line not in new_lines]
        rows += [[line, "added"] for line in new_lines if line not in old_lines]
        return rows

    def instances(self, deployment: str, task: Task) -> None:
        for row in self.instance_rows.get(deployment, []):
            task.result_line(row)
        task.script([lambda t: t.finish("done", "retrieved instances")])

    def run_errand(self, deployment: str, errand: str, task: Task) -> None:
        runs = self.errand_runs.get(errand)
        if runs is None:
            missing = f"Errand '{errand}' doesn't exist"
            task.script([lambda t: t.fail(140010, missing)])
            return
        steps: list[Step] = [
            lambda t: t.event(stage="Running errand", tags=[], total=1, task=f"{errand}/0", index=1,
                              state="started", progress=0),
        ]  # fmt: skip
        for run in runs:
            steps.append(_result_line(run))
        exit_code = runs[0].get("exit_code", 0) if runs else 0
        steps.append(lambda t: t.finish("done", f"{len(runs)} errand(s) run, exit code {exit_code}"))
        task.script(steps)

    def delete(self, deployment: str, task: Task) -> None:
        self.deployments.pop(deployment, None)
        task.script([
            lambda t: t.event(stage="Deleting instances", tags=[], total=1, task="redis_z1/0", index=1,
                              state="finished", progress=100),
            lambda t: t.finish("done", f"/deployments/{deployment}"),
        ])  # fmt: skip

    def releases(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "release_versions": [{"version": v} for v in sorted(versions)]}
            for name, versions in sorted(self.release_versions.items())
        ]

    def upload_release(self, location: str, sha1: str, task: Task) -> None:
        self.uploads.append((location, sha1))
        if self.upload_fails is not None:
            message = self.upload_fails
            task.script([lambda t: t.fail(30011, message)])
            return
        # A director reads name and version from the tarball; the fake reads them from the URL
        # (bosh.io style ``.../redis-boshrelease?v=12`` or ``.../redis-12.tgz``).
        match = _RELEASE_URL.search(location)
        if match is None:
            message = f"Failed to download release from '{location}'"
            task.script([lambda t: t.fail(30001, message)])
            return
        name, version = match.group("name"), match.group("version")
        self.release_versions.setdefault(name, set()).add(version)
        task.script([lambda t: t.event(stage="Uploading release", tags=[], total=1, task=name, index=1,
                                       state="finished", progress=100),
                     lambda t: t.finish("done", f"Created release '{name}/{version}'")])  # fmt: skip


class DirectorBackend:
    """Delegates to any boshpipe ``Director`` (e.g. the local director running real redis processes).

    Each operation runs in its own thread, as a director worker would, and reports through the
    task: events via ``Task.emit``, then the final state. Instances are reported with the address
    the delegate can be reached at as the first IP (the client takes the first IP as address).
    Releases named by manifests are accepted by URL and only remembered.
    """

    def __init__(self, director: Director, stemcell_rows: list[dict[str, Any]] | None = None) -> None:
        self.director = director
        self.release_versions: dict[str, set[str]] = {}
        self.stemcell_rows: list[dict[str, Any]] = list(stemcell_rows or [])
        self.threads: list[threading.Thread] = []

    def stemcells(self) -> list[dict[str, Any]]:
        return list(self.stemcell_rows)

    def upload_stemcell(self, location: str, sha1: str, task: Task) -> None:
        row = _stemcell_from_url(location)
        if row is None:
            message = f"Failed to download stemcell from '{location}'"
            task.script([lambda t: t.fail(50001, message)])
            return
        self.stemcell_rows.append(row)
        task.script([lambda t: t.finish("done", f"/stemcells/{row['name']}/{row['version']}")])

    def cloud_config_changed(self, name: str, content: str) -> None:
        """The delegate runs the deployments, so it needs the network definitions too."""
        self.director.update_cloud_config(name, content)

    def _run(self, task: Task, work: Callable[[], None]) -> None:
        def target() -> None:
            try:
                work()
            except Exception as exc:  # a failing delegate is a failed task, as on a director
                task.fail(100, str(exc))

        thread = threading.Thread(target=target, name=f"fake-director-task-{task.id}", daemon=True)
        self.threads.append(thread)
        thread.start()

    def deploy(self, manifest: str, task: Task) -> None:
        def work() -> None:
            result = self.director.deploy(manifest, task.emit)
            task.finish(result.state, result.result or None)

        self._run(task, work)

    def manifest(self, deployment: str) -> str | None:
        return self.director.deployed_manifest(deployment)

    def diff(self, deployment: str, manifest: str) -> list[list[Any]] | None:
        return None  # like an older director: the client falls back to its local diff

    def instances(self, deployment: str, task: Task) -> None:
        def work() -> None:
            instances = self.director.instances(deployment)
            first = {}
            for instance in instances:
                first.setdefault(instance.job, min(i.index for i in instances if i.job == instance.job))
            for instance in instances:
                ips = [instance.address, *(ip for ip in instance.ips if ip != instance.address)]
                task.result_line(
                    {
                        "job_name": instance.job,
                        "index": instance.index,
                        "ips": ips,
                        "job_state": instance.state,
                        "process_state": instance.state,
                        "bootstrap": instance.index == first[instance.job],  # one per group, as the director marks
                    }
                )
            task.finish("done", "retrieved instances")

        self._run(task, work)

    def run_errand(self, deployment: str, errand: str, task: Task) -> None:
        def work() -> None:
            result = self.director.run_errand(deployment, errand, task.emit)
            task.result_line(
                {"exit_code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr}
            )
            task.finish(result.task.state, result.task.result or None)

        self._run(task, work)

    def delete(self, deployment: str, task: Task) -> None:
        def work() -> None:
            result = self.director.delete_deployment(deployment, task.emit)
            task.finish(result.state, result.result or None)

        self._run(task, work)

    def releases(self) -> list[dict[str, Any]]:
        return [
            {"name": name, "release_versions": [{"version": v} for v in sorted(versions)]}
            for name, versions in sorted(self.release_versions.items())
        ]

    def upload_release(self, location: str, sha1: str, task: Task) -> None:
        match = _RELEASE_URL.search(location)
        name, version = (match.group("name"), match.group("version")) if match else (location, "0")
        self.release_versions.setdefault(name, set()).add(version)
        task.script([lambda t: t.finish("done", f"Created release '{name}/{version}'")])


# -- UAA ---------------------------------------------------------------------------------------------


@dataclass
class UaaState:
    clients: dict[str, str]  # client id -> secret (the public bosh_cli client has "")
    users: dict[str, str]
    token_uses: int | None = None  # a token is refused by the director after this many uses
    expires_in: int = 3600
    issue_refresh_tokens: bool = True
    access_tokens: dict[str, int | None] = field(default_factory=dict)  # token -> uses left
    refresh_tokens: set[str] = field(default_factory=set)
    grants: list[str] = field(default_factory=list)
    counter: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token_endpoint(self, authorization: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client = _basic(authorization)
        if client is None or self.clients.get(client[0]) != client[1]:
            return 401, {"error": "unauthorized", "error_description": "Bad credentials"}
        grant = form.get("grant_type", "")
        with self.lock:
            self.grants.append(grant)
            if grant == "client_credentials":
                refresh = False
            elif grant == "password":
                if self.users.get(form.get("username", "")) != form.get("password"):
                    return 401, {"error": "unauthorized", "error_description": "Bad credentials"}
                refresh = self.issue_refresh_tokens
            elif grant == "refresh_token":
                if form.get("refresh_token") not in self.refresh_tokens:
                    return 401, {"error": "invalid_token", "error_description": "Invalid refresh token"}
                refresh = self.issue_refresh_tokens
            else:
                return 400, {"error": "unsupported_grant_type"}
            self.counter += 1
            access = f"access-{self.counter}-{'x' * 24}"
            self.access_tokens[access] = self.token_uses
            body: dict[str, Any] = {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "scope": "bosh.admin",
                "jti": f"jti-{self.counter}",
            }
            if refresh:
                token = f"refresh-{self.counter}-{'y' * 24}"
                self.refresh_tokens.add(token)
                body["refresh_token"] = token
            return 200, body

    def accept(self, token: str) -> bool:
        with self.lock:
            if token not in self.access_tokens:
                return False
            uses = self.access_tokens[token]
            if uses is None:
                return True
            if uses <= 0:
                return False
            self.access_tokens[token] = uses - 1
            return True


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        name, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
    except ValueError:
        return None
    return unquote(name), unquote(secret)


# -- HTTP plumbing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.context = context
        self.connections = 0
        self.requests: list[Recorded] = []
        self.app: Callable[[_Handler], tuple[int, dict[str, str], bytes]] = lambda h: (404, {}, b"")

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no Nagle/delayed-ACK stalls
        self.connections += 1
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _Server

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
            self.rfile = self.wfile = None  # type: ignore[assignment]

    def handle(self) -> None:
        if self.rfile is not None:
            with contextlib.suppress(ssl.SSLError, ConnectionError, TimeoutError):
                super().handle()

    def finish(self) -> None:
        if self.rfile is not None:
            with contextlib.suppress(ssl.SSLError, OSError):
                super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), self.body))
        status, headers, payload = self.server.app(self)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()


class _HttpsServer:
    """One loopback HTTPS server with a certificate from ``ca`` for 127.0.0.1 and localhost."""

    def __init__(self, ca: CertificateAuthority, host: str) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="fake-director-"))
        cert_pem, key_pem = ca.issue(["127.0.0.1", "localhost"])
        (self._dir / "cert.pem").write_text(cert_pem)
        (self._dir / "key.pem").write_text(key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self._dir / "cert.pem", self._dir / "key.pem")
        self.server = _Server(_Handler, context)
        self.host = host
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.server.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-director",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        shutil.rmtree(self._dir, ignore_errors=True)


class TrapServer(_HttpsServer):
    """An HTTPS server that only counts: nothing should ever connect to it."""

    def __init__(self, ca: CertificateAuthority) -> None:
        super().__init__(ca, "localhost")


# -- the director ------------------------------------------------------------------------------------


class FakeDirector:
    """The stand-in director. ``auth`` is ``"basic"`` or ``"uaa"`` (then a UAA server runs too)."""

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        auth: str = "basic",
        username: str = "admin",
        password: str = "director-admin-password-1",
        client: str = "ci",
        client_secret: str = "uaa-client-secret-2",
        users: dict[str, str] | None = None,
        token_uses: int | None = None,
        expires_in: int = 3600,
        issue_refresh_tokens: bool = True,
        redirect_base: str | None = None,
        redirect_status: int = 302,
        honor_range: bool = True,
        reject_v1_on_post: bool = False,
        redact_diff: bool = True,
        ca: CertificateAuthority | None = None,
        version: str = "280.0.0 (00000000)",
        cloud_configs: dict[str, str] | None = None,
        config_server: bool = False,
    ) -> None:
        self.backend: Backend = backend if backend is not None else MemoryBackend()
        # With a config server (CredHub, UAA auth only): ((vars)) of a posted manifest are generated
        # from its `variables:` and kept at /<director name>/<deployment>/<var>; the backend gets
        # the interpolated manifest, GET /deployments/<name> answers the one posted (placeholders).
        self.config_server = config_server
        self.credentials: dict[str, dict[str, str]] = {}  # CredHub path -> {type, value}
        self.posted: dict[str, str] = {}  # deployment -> manifest as posted
        self.version = version  # from 270 on, v1 manifests are refused inside the deploy task
        self.configs: list[dict[str, Any]] = []  # every version of every config, oldest first
        for config_name, content in (cloud_configs or {}).items():
            self._store_config("cloud", config_name, content)
        self.ca = ca or CertificateAuthority.generate()
        self.auth = auth
        self.username, self.password = username, password
        self.redirect_base = redirect_base
        self.redirect_status = redirect_status
        self.honor_range = honor_range
        self.reject_v1_on_post = reject_v1_on_post
        self.redact_diff = redact_diff  # False: an old or misconfigured director that leaks values
        self.tasks: dict[int, Task] = {}
        self._next_task = 1
        self._lock = threading.Lock()
        self._director = _HttpsServer(self.ca, "127.0.0.1")
        self._director.server.app = self._route
        self.uaa_state = UaaState(
            clients={client: client_secret, "bosh_cli": ""},
            users=users or {},
            token_uses=token_uses,
            expires_in=expires_in,
            issue_refresh_tokens=issue_refresh_tokens,
        )
        self._uaa: _HttpsServer | None = None
        if auth == "uaa":
            self._uaa = _HttpsServer(self.ca, "localhost")
            self._uaa.server.app = self._route_uaa
        self._credhub: _HttpsServer | None = None
        if config_server:
            assert auth == "uaa", "a config server takes UAA tokens"
            self._credhub = _HttpsServer(self.ca, "localhost")
            self._credhub.server.app = self._route_credhub

    # lifecycle
    def start(self) -> FakeDirector:
        self._director.start()
        if self._uaa is not None:
            self._uaa.start()
        if self._credhub is not None:
            self._credhub.start()
        return self

    def stop(self) -> None:
        self._director.stop()
        if self._uaa is not None:
            self._uaa.stop()
        if self._credhub is not None:
            self._credhub.stop()

    def __enter__(self) -> FakeDirector:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self._director.url

    @property
    def uaa_url(self) -> str:
        assert self._uaa is not None, "this fake director uses basic auth"
        return self._uaa.url

    @property
    def credhub_url(self) -> str:
        assert self._credhub is not None, "this fake director has no config server"
        return self._credhub.url

    @property
    def credhub_requests(self) -> list[Recorded]:
        return [] if self._credhub is None else list(self._credhub.server.requests)

    @property
    def ca_pem(self) -> str:
        return self.ca.pem

    @property
    def connections(self) -> int:
        return self._director.server.connections

    @property
    def uaa_connections(self) -> int:
        return 0 if self._uaa is None else self._uaa.server.connections

    @property
    def requests(self) -> list[Recorded]:
        return list(self._director.server.requests)

    @property
    def uaa_requests(self) -> list[Recorded]:
        return [] if self._uaa is None else list(self._uaa.server.requests)

    @property
    def refuses_v1(self) -> bool:
        return int(self.version.split(".", 1)[0]) >= 270

    def latest_configs(self, kind: str = "cloud") -> dict[str, str]:
        latest: dict[str, str] = {}
        for row in self.configs:
            if row["type"] == kind:
                latest[row["name"]] = row["content"]
        return latest

    def _store_config(self, kind: str, name: str, content: str) -> dict[str, Any]:
        row = {"id": str(len(self.configs) + 1), "type": kind, "name": name, "content": content,
               "created_at": "2026-01-01 00:00:00 UTC", "team": None, "current": True}  # fmt: skip
        self.configs.append(row)
        return row

    def new_task(self, description: str, deployment: str | None = None) -> Task:
        with self._lock:
            task = Task(self._next_task, description, deployment)
            self.tasks[task.id] = task
            self._next_task += 1
            return task

    # routing
    def _authorized(self, handler: _Handler) -> bool:
        header = handler.headers.get("Authorization")
        if self.auth == "basic":
            return _basic(header) == (self.username, self.password)
        if not header or not header.lower().startswith("bearer "):
            return False
        return self.uaa_state.accept(header[7:])

    def _redirect(self, task: Task) -> tuple[int, dict[str, str], bytes]:
        base = self.redirect_base or self.url
        return self.redirect_status, {"Location": f"{base}/tasks/{task.id}"}, b""

    def _route(self, h: _Handler) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(h.path)
        path, query = parts.path, parse_qs(parts.query)
        method = h.command
        if method == "GET" and path == "/info":
            auth: dict[str, Any] = {"type": "basic", "options": {}}
            if self.auth == "uaa":
                auth = {"type": "uaa", "options": {"url": self.uaa_url, "urls": [self.uaa_url]}}
            return _json(200, {"name": "fake", "uuid": "0000-fake", "version": self.version,
                               "user": None, "cpi": "warden_cpi", "user_authentication": auth,
                               "features": {}})  # fmt: skip
        if not self._authorized(h):
            return _json(
                401, {"code": 600000, "description": "Not authorized: '/' requires one of the scopes"}
            )
        if method == "POST" and path == "/deployments":
            if h.headers.get("Content-Type") != "text/yaml":
                return _json(400, {"code": 440001, "description": "Content-Type must be text/yaml"})
            manifest = h.body.decode()
            try:
                document = yaml.safe_load(manifest)
            except yaml.YAMLError:
                return _json(400, {"code": 440001, "description": "Manifest should be valid YAML"})
            if not isinstance(document, dict) or "name" not in document:
                return _json(400, {"code": 440001, "description": "Deployment manifest must have a name"})
            refusal = _v1_refusal(document) if self.refuses_v1 else None
            if self.reject_v1_on_post and refusal is not None:
                return _json(400, {"code": refusal[0], "description": refusal[1]})
            task = self.new_task("create deployment", str(document["name"]))
            invalid = v2_error(document, merged_cloud_config(self.latest_configs())) if refusal is None else None
            if "instance_groups" in document and invalid is not None:
                refusal = (190001, invalid)  # code not read by clients; the message is what counts
            if refusal is not None:
                code, message = refusal
                task.script([
                    lambda t: t.event(stage="Preparing deployment", tags=[], total=1, task="Preparing deployment",
                                      index=1, state="started", progress=0),
                    lambda t: t.fail(code, message),
                ])  # fmt: skip
                return self._redirect(task)
            if self.config_server:
                name = str(document["name"])
                interpolated, missing = self._interpolate(name, document, manifest)
                if missing:
                    message = f"Failed to find variable '/fake/{name}/{missing}' from config server: HTTP Code '404'"
                    task.script([lambda t: t.fail(100, message)])
                    return self._redirect(task)
                self.posted[name] = manifest
                manifest = interpolated
            self.backend.deploy(manifest, task)
            return self._redirect(task)
        if method == "GET" and path == "/configs":
            kind = (query.get("type") or [None])[0]
            rows = [r for r in self.configs if kind is None or r["type"] == kind]
            if query.get("latest") == ["true"]:
                newest: dict[tuple[str, str], dict[str, Any]] = {}
                for row in rows:
                    newest[(row["type"], row["name"])] = row
                rows = list(newest.values())
            return _json(200, rows)
        if method == "POST" and path in ("/configs", "/configs/diff"):
            body = json.loads(h.body or b"{}")
            kind, name, content = str(body.get("type")), str(body.get("name")), str(body.get("content", ""))
            try:
                new = yaml.safe_load(content) or {}
            except yaml.YAMLError:
                return _json(400, {"code": 440001, "description": "Config must be valid YAML"})
            old_text = self.latest_configs(kind).get(name)
            if path == "/configs/diff":
                return _json(200, {"diff": _config_diff(old_text, new)})
            if old_text is not None and yaml.safe_load(old_text) == new:
                return _json(200, next(r for r in reversed(self.configs) if (r["type"], r["name"]) == (kind, name)))
            row = self._store_config(kind, name, content)
            if kind == "cloud":
                self.backend.cloud_config_changed(name, content)
            return _json(201, row)
        if method == "GET" and path == "/stemcells":
            return _json(200, self.backend.stemcells())
        if method == "POST" and path == "/stemcells":
            body = json.loads(h.body or b"{}")
            task = self.new_task("create stemcell")
            self.backend.upload_stemcell(str(body.get("location")), str(body.get("sha1")), task)
            return self._redirect(task)
        if method == "GET" and path == "/releases":
            return _json(200, self.backend.releases())
        if method == "POST" and path == "/releases":
            body = json.loads(h.body or b"{}")
            task = self.new_task("create release")
            self.backend.upload_release(str(body.get("location")), str(body.get("sha1")), task)
            return self._redirect(task)
        if match := re.fullmatch(r"/deployments/([^/]+)", path):
            name = unquote(match.group(1))
            deployed = self.backend.manifest(name)
            if deployed is None:
                return _json(404, {"code": 70000, "description": f"Deployment '{name}' doesn't exist"})
            if method == "GET":
                return _json(200, {"manifest": self.posted.get(name, deployed)})
            if method == "DELETE":
                task = self.new_task(f"delete deployment {name}", name)
                self.backend.delete(name, task)
                return self._redirect(task)
        if method == "POST" and (match := re.fullmatch(r"/deployments/([^/]+)/diff", path)):
            rows = self.backend.diff(unquote(match.group(1)), h.body.decode())
            if rows is None:
                return 404, {"Content-Type": "text/html"}, b"<h1>Not Found</h1>"
            if self.redact_diff and query.get("redact") != ["false"]:
                rows = [[_SECRET_LINE.sub(r"\1<redacted>", str(text)), state] for text, state in rows]
            return _json(200, {"context": {"cloud_config_id": None, "runtime_config_ids": []}, "diff": rows})
        if method == "GET" and (match := re.fullmatch(r"/deployments/([^/]+)/instances", path)):
            name = unquote(match.group(1))
            if self.backend.manifest(name) is None:
                return _json(404, {"code": 70000, "description": f"Deployment '{name}' doesn't exist"})
            if query.get("format") != ["full"]:
                return _json(400, {"code": 1, "description": "this fake only serves format=full"})
            task = self.new_task("retrieve vm-stats", name)
            self.backend.instances(name, task)
            return self._redirect(task)
        if method == "POST" and (match := re.fullmatch(r"/deployments/([^/]+)/errands/([^/]+)/runs", path)):
            name, errand = unquote(match.group(1)), unquote(match.group(2))
            if self.backend.manifest(name) is None:
                return _json(404, {"code": 70000, "description": f"Deployment '{name}' doesn't exist"})
            task = self.new_task(f"run errand {errand} from deployment {name}", name)
            self.backend.run_errand(name, errand, task)
            return self._redirect(task)
        if match := re.fullmatch(r"/tasks/(\d+)", path):
            known = self.tasks.get(int(match.group(1)))
            if known is None:
                return _json(404, {"code": 10001, "description": "Task not found"})
            known.advance()
            return _json(200, known.as_json())
        if method == "GET" and (match := re.fullmatch(r"/tasks/(\d+)/output", path)):
            known = self.tasks.get(int(match.group(1)))
            if known is None:
                return _json(404, {"code": 10001, "description": "Task not found"})
            with known.lock:
                data = bytes(known.events if query.get("type") == ["event"] else known.result_output)
            return self._ranged(h.headers.get("Range"), data)
        if method == "DELETE" and (match := re.fullmatch(r"/task/(\d+)", path)):
            known = self.tasks.get(int(match.group(1)))
            if known is None:
                return _json(404, {"code": 10001, "description": "Task not found"})
            with known.lock:
                if known.state in FINAL:
                    return _json(
                        400, {"code": 10002, "description": f"Cannot cancel task {known.id}: invalid state"}
                    )
                known.cancel_requested = True
                known.state = "cancelling"
            return 204, {}, b""
        return _json(404, {"code": 0, "description": f"no route {method} {path}"})

    def _ranged(self, header: str | None, data: bytes) -> tuple[int, dict[str, str], bytes]:
        plain = {"Content-Type": "text/plain"}
        match = re.fullmatch(r"bytes=(\d+)-", header or "")
        if match is None or not self.honor_range:
            return 200, plain, data
        start = int(match.group(1))
        if start >= len(data):
            return 416, {**plain, "Content-Range": f"bytes */{len(data)}"}, b""
        return 206, {**plain, "Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"}, data[start:]

    def _interpolate(self, deployment: str, document: dict[str, Any], manifest: str) -> tuple[str, str | None]:
        """Generate the manifest's password variables (once) and put every ((var)) in; the first unknown name."""
        import secrets

        for variable in document.get("variables") or []:
            if isinstance(variable, dict) and variable.get("type") == "password":
                path = f"/fake/{deployment}/{variable['name']}"
                self.credentials.setdefault(path, {"type": "password", "value": secrets.token_urlsafe(24)})
        missing: list[str] = []

        def value(match: re.Match[str]) -> str:
            found = self.credentials.get(f"/fake/{deployment}/{match.group(1)}")
            if found is None:
                missing.append(match.group(1))
                return match.group(0)
            return found["value"]

        text = re.sub(r"\(\(([\w.-]+)\)\)", value, manifest)
        return text, (missing[0] if missing else None)

    def _route_credhub(self, h: _Handler) -> tuple[int, dict[str, str], bytes]:
        """CredHub's ``GET /api/v1/data?name=<path>&current=true`` with a UAA bearer token."""
        parts = urlsplit(h.path)
        header = h.headers.get("Authorization") or ""
        if not header.lower().startswith("bearer ") or not self.uaa_state.accept(header[7:]):
            return _json(401, {"error": "invalid_token"})
        if h.command != "GET" or parts.path != "/api/v1/data":
            return _json(404, {"error": "The request could not be fulfilled because the resource could not be found."})
        name = (parse_qs(parts.query).get("name") or [""])[0]
        found = self.credentials.get(name)
        if found is None:
            return _json(404, {"error": "The request could not be completed because the credential does not exist"})
        row = {"type": found["type"], "name": name, "value": found["value"], "id": "1",
               "version_created_at": "2026-01-01T00:00:00Z"}  # fmt: skip
        return _json(200, {"data": [row]})

    def _route_uaa(self, h: _Handler) -> tuple[int, dict[str, str], bytes]:
        if h.command != "POST" or urlsplit(h.path).path != "/oauth/token":
            return _json(404, {"error": "not_found"})
        form = {k: v[0] for k, v in parse_qs(h.body.decode()).items()}
        status, body = self.uaa_state.token_endpoint(h.headers.get("Authorization"), form)
        return _json(status, body)


def _config_diff(old_text: str | None, new: Any) -> list[list[Any]]:
    """``/configs/diff`` rows: [text, "added"|"removed"|None], as the director answers."""
    old = yaml.safe_load(old_text) if old_text else None
    before = yaml.safe_dump(old, sort_keys=True).splitlines() if old else []
    after = yaml.safe_dump(new, sort_keys=True).splitlines() if new else []
    if before == after:
        return []
    rows: list[list[Any]] = [[line, "removed"] for line in before if line not in after]
    rows += [[line, "added"] for line in after if line not in before]
    return rows


def closed_port() -> int:
    """A loopback port with nothing listening (for the unreachable-director test)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
