"""A real BOSH director over its HTTP API: the Director protocol without the Go bosh CLI.

Requests are the ones the bosh CLI makes (bosh.io "Director API v1", the CLI's director package):
``GET /info`` (no auth) → basic or UAA auth; task-starting requests answer 302/303 whose
``Location`` only gives us the task id (never followed: we poll our own base URL); tasks are
followed by ``boshpipe.director.bosh.task``. Everything shown to a person (events, results, exception
texts) goes through the scrubber, which knows the client secret, every token and the manifest's
secret values.

Decisions worth knowing when calling it:

* ``deploy(dry_run=True)`` changes nothing. It returns ``TaskResult(id="", state="done")`` whose
  ``result`` is the redacted diff text (one line per change, ``+ ``/``- ``/``  `` prefixes) and also
  emits each diff line as an ``Event(stage="Diff", task=<line>)`` so a progress printer shows it.
* Before deploying, final releases the manifest names (``releases:`` entries with ``url`` and
  ``sha1``) that the director lacks are uploaded by URL (``POST /releases``), as ``bosh deploy``
  does. ``version: latest`` and missing dev releases are refused with one line.
* A v1 manifest refused by a v270+ director, as a 4xx or as a task error, gives one line saying
  so and what to do (``manifest: v2``); only the director's own refusal texts
  (``director/refusals.py``) count, so a canary failure naming "jobs" is reported as itself.
* Named cloud configs (``/configs``) and stemcells (``/stemcells``, uploaded by URL) serve the v2
  path; ``info()`` gives the version ``manifest: auto`` decides on.
* ``delete_deployment`` of a deployment that does not exist is done already (``id=""``): envs are
  destroyed and recreated at will. ``instances``/``run_errand`` of a missing deployment raise.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import requests
import yaml

from boshpipe.director.bosh.config import normalize_url, resolve
from boshpipe.director.bosh.diff import director_diff_lines, local_diff_lines, redacted
from boshpipe.director.bosh.http import DEFAULT_TIMEOUT, CaBundle, DirectorHttp, origin
from boshpipe.director.bosh.task import ConfirmCancel, TaskFollower, ask_on_terminal
from boshpipe.director.bosh.uaa import Auth, BasicAuth, Credentials, LoginPrompt, UaaAuth, terminal_login
from boshpipe.director.flags import DeployFlags
from boshpipe.director.protocol import (
    NO_SUCH_DEPLOYMENT,
    DirectorInfo,
    ErrandResult,
    Event,
    EventSink,
    Instance,
    Stemcell,
    TaskResult,
)
from boshpipe.director.redact import Scrubber, one_line, secret_values
from boshpipe.director.refusals import is_v1_refusal
from boshpipe.errors import DirectorError, TaskFailed

CREDHUB_ENV = "CREDHUB_SERVER"  # the config server's URL, as the credhub CLI names it
_TASK_PATH = re.compile(r"/tasks/(\d+)/?$")
_INSTANCE_STATES = {"running": "running", "failing": "failing", "stopped": "stopped"}


class DirectorRefused(DirectorError):
    """The director answered a request with an error status (its description is in the message)."""

    def __init__(self, message: str, status: int, description: str) -> None:
        super().__init__(message)
        self.status = status
        self.description = description


class BoshDirector:
    """The Director protocol over a director's HTTP API. Use as a context manager, or ``close()``."""

    def __init__(
        self,
        url: str,
        *,
        ca_cert: str | None = None,
        client: str | None = None,
        client_secret: str | None = None,
        poll_interval: float = 1.0,
        task_timeout: float | None = None,
        request_timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        confirm_cancel: ConfirmCancel = ask_on_terminal,
        login: LoginPrompt | None = terminal_login,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        credhub_url: str | None = None,
    ) -> None:
        self.url = normalize_url(url, source="director URL")
        self._credhub = normalize_url(credhub_url, source="CREDHUB_SERVER") if credhub_url else None
        self._scrub = Scrubber([client_secret] if client_secret else [])
        self._http = DirectorHttp(CaBundle.from_setting(ca_cert), {self.url}, timeout=request_timeout)
        self._client = Credentials(client, client_secret) if client and client_secret else None
        self._login = login
        self._clock = clock
        self._auth: Auth | None = None
        self._info: dict[str, Any] | None = None
        self._tasks = TaskFollower(
            call=self._call,
            scrub=self._scrub,
            where=self.url,
            poll_interval=poll_interval,
            timeout=task_timeout,
            confirm_cancel=confirm_cancel,
            clock=clock,
            sleep=sleep,
        )

    @classmethod
    def from_environment(
        cls, setting: str, environ: Mapping[str, str] | None = None, **options: Any
    ) -> BoshDirector:
        """The director an env names (see ``boshpipe.director.bosh.config`` for BOSH_* precedence)."""
        config = resolve(setting, environ)
        credhub = (environ if environ is not None else os.environ).get(CREDHUB_ENV) or None
        return cls(
            config.url,
            ca_cert=config.ca_cert,
            client=config.client,
            client_secret=config.client_secret,
            credhub_url=credhub,
            **options,
        )

    def __repr__(self) -> str:
        return f"BoshDirector({self.url!r})"

    def __enter__(self) -> BoshDirector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection(s) and remove the temporary CA file, if any."""
        self._http.close()

    def describe(self) -> str:
        return f"BOSH director at {self.url}"

    # -- the Director protocol -------------------------------------------------------------------

    def deploy(
        self, manifest: str, on_event: EventSink, *, dry_run: bool = False, flags: DeployFlags | None = None
    ) -> TaskResult:
        document = self._manifest_document(manifest)
        name = str(document["name"])
        if dry_run:
            return self._diff(name, manifest, document, on_event)
        failed_upload = self._upload_missing_releases(manifest, on_event)
        if failed_upload is not None:
            return failed_upload
        try:
            # the bosh CLI's query parameters (recreate, fix, skip_drain, canaries, max_in_flight), keys sorted
            query = sorted((flags or DeployFlags()).query().items())
            path = f"/deployments?{urlencode(query)}" if query else "/deployments"
            task_id = self._start_task("POST", path, headers={"Content-Type": "text/yaml"}, data=manifest.encode())
        except DirectorRefused as refused:
            if is_v1_refusal(refused.description):
                raise DirectorError(self._v1_line(refused.description)) from None
            raise
        result = self._tasks.follow(task_id, on_event)
        if result.state == "error" and is_v1_refusal(result.result):
            result = replace(result, result=self._v1_line(result.result))
        return result

    def deployed_manifest(self, deployment: str) -> str | None:
        response = self._call("GET", f"/deployments/{quote(deployment, safe='')}", ok=(200, 404))
        if response.status_code == 404:
            return None
        try:
            manifest = json.loads(response.text).get("manifest")
        except (ValueError, AttributeError):
            raise DirectorError(f"{self.describe()} sent an unreadable deployment {deployment!r}") from None
        if manifest is None:
            return ""
        with contextlib.suppress(DirectorError):  # an unparsable manifest has no values to learn
            self._scrub.add(*secret_values(_load(str(manifest))))
        return str(manifest)

    def instances(self, deployment: str) -> list[Instance]:
        manifest = self.deployed_manifest(deployment)
        if manifest is None:
            raise DirectorError(self._missing(deployment))
        document = _load(manifest)
        task_id = self._start_task(
            "GET", f"/deployments/{quote(deployment, safe='')}/instances?format=full", missing=deployment
        )
        result = self._tasks.follow(task_id, _ignore)
        if not result.ok:
            raise TaskFailed(self._task_line(f"listing instances of {deployment}", result), task_id)
        errands = _errand_groups(document)
        instances: list[Instance] = []
        for raw in _json_lines(self._tasks.result_output(task_id)):
            job = str(raw.get("job_name") or raw.get("job") or "")
            if not job or job in errands:
                continue
            ips = tuple(str(ip) for ip in raw.get("ips") or ())
            instances.append(
                Instance(
                    job=job,
                    index=_int(raw.get("index")),
                    ips=ips,
                    address=ips[0] if ips else "",
                    state=_INSTANCE_STATES.get(str(raw.get("job_state")), "unknown"),
                    properties=_properties(document, job),
                    bootstrap=raw.get("bootstrap") is True,
                )
            )
        return sorted(instances, key=lambda i: (i.job, i.index))

    def run_errand(self, deployment: str, errand: str, on_event: EventSink) -> ErrandResult:
        body = json.dumps({"keep-alive": False, "when-changed": False, "instances": []}).encode()
        task_id = self._start_task(
            "POST",
            f"/deployments/{quote(deployment, safe='')}/errands/{quote(errand, safe='')}/runs",
            headers={"Content-Type": "application/json"},
            data=body,
            missing=deployment,
        )
        result = self._tasks.follow(task_id, on_event)
        if not result.ok:
            raise TaskFailed(self._task_line(f"errand {errand} of {deployment}", result), task_id)
        runs = _json_lines(self._tasks.result_output(task_id))
        if not runs:
            raise TaskFailed(f"errand {errand} of {deployment} (task {task_id}) reported no result", task_id)
        codes = [_int(run.get("exit_code"), default=-1) for run in runs]
        return ErrandResult(
            task=result,
            exit_code=next((code for code in codes if code != 0), 0),
            stdout=self._scrub("".join(str(run.get("stdout") or "") for run in runs)),
            stderr=self._scrub("".join(str(run.get("stderr") or "") for run in runs)),
        )

    def delete_deployment(self, deployment: str, on_event: EventSink) -> TaskResult:
        path = f"/deployments/{quote(deployment, safe='')}"
        response = self._call("DELETE", path, ok=(200, 201, 302, 303, 404))
        if response.status_code == 404:
            description = f"delete deployment {deployment}"
            return TaskResult(id="", state="done", description=description, result=NO_SUCH_DEPLOYMENT)
        return self._tasks.follow(self._task_id("DELETE", path, response), on_event)

    # -- cloud configs and stemcells -----------------------------------------------------------------

    def cloud_configs(self) -> dict[str, str]:
        """``GET /configs?type=cloud&latest=true``: the latest content of each named cloud config."""
        response = self._call("GET", "/configs?type=cloud&latest=true")
        rows = _json(response.text)
        if not isinstance(rows, list):
            raise DirectorError(f"{self.describe()} sent an unreadable config list")
        return {
            str(row.get("name") or "default"): str(row.get("content") or "")
            for row in rows
            if isinstance(row, dict) and row.get("type", "cloud") == "cloud"
        }

    def diff_cloud_config(self, name: str, content: str) -> list[str]:
        """``POST /configs/diff``: the director's diff, [] when nothing would change (redacted)."""
        body = json.dumps({"type": "cloud", "name": name, "content": content}).encode()
        response = self._call("POST", "/configs/diff", headers={"Content-Type": "application/json"}, data=body)
        answer = _json(response.text)
        if isinstance(answer, dict) and answer.get("error"):
            raise DirectorError(
                f"{self.describe()} cannot diff cloud config {name!r}: {one_line(self._scrub(str(answer['error'])))}"
            )
        lines = redacted(director_diff_lines(answer), self._scrub)
        return lines if any(line.startswith(("+ ", "- ")) for line in lines) else []

    def update_cloud_config(self, name: str, content: str) -> None:
        """``POST /configs`` type cloud: a new latest version of the named config."""
        body = json.dumps({"type": "cloud", "name": name, "content": content}).encode()
        self._call("POST", "/configs", headers={"Content-Type": "application/json"}, data=body, ok=(200, 201))

    def prepare_stemcells(self, wanted: tuple[Stemcell, ...], on_event: EventSink) -> TaskResult | None:
        """Upload by URL (``POST /stemcells``) the stemcells the director lacks, as ``bosh upload-stemcell``."""
        if not wanted:
            return None
        have = self._stemcells()
        for stemcell in wanted:
            if any(_same_stemcell(stemcell, row) for row in have):
                continue
            if not stemcell.url:
                raise DirectorError(
                    f"{stemcell.label} is not on the director at {self.url} and env.yml gives no url to upload"
                    " it from: add it to stemcells: (name, version, url, sha1) in the env's env.yml"
                )
            upload = {"location": stemcell.url, **({"sha1": stemcell.sha1} if stemcell.sha1 else {})}
            headers = {"Content-Type": "application/json"}
            task_id = self._start_task("POST", "/stemcells", headers=headers, data=json.dumps(upload).encode())
            result = self._tasks.follow(task_id, on_event)
            if not result.ok:
                where = _public_url(stemcell.url)
                return replace(result, result=f"upload of {stemcell.label} from {where} failed: {result.result}")
        return None

    def _stemcells(self) -> list[dict[str, Any]]:
        rows = _json(self._call("GET", "/stemcells").text)
        if not isinstance(rows, list):
            raise DirectorError(f"{self.describe()} sent an unreadable stemcell list")
        return [row for row in rows if isinstance(row, dict)]

    # -- releases ----------------------------------------------------------------------------------

    def _upload_missing_releases(self, manifest: str, on_event: EventSink) -> TaskResult | None:
        """Upload by URL the final releases the manifest names and the director lacks.

        Returns the failed upload task, if one fails (the deploy is not attempted then).
        """
        try:  # BaseLoader: versions stay strings ("1.10" must not become 1.1)
            raw = yaml.load(manifest, Loader=yaml.BaseLoader)
        except yaml.YAMLError:
            raw = {}
        entries = raw.get("releases") if isinstance(raw, dict) else None
        wanted = [r for r in entries if isinstance(r, dict)] if isinstance(entries, list) else []
        if not wanted:
            return None
        have = self._releases()
        for release in wanted:
            name, version = str(release.get("name", "")), str(release.get("version", ""))
            label = f"release {name}/{version}"
            if version == "latest":
                raise DirectorError(
                    f"release {name}: version 'latest' cannot be deployed to a director; pin a final version"
                )
            if (name, version) in have:
                continue
            if "+dev." in version:
                raise DirectorError(
                    f"{label} is a dev release the director at {self.url} does not have; dev releases cannot"
                    " be uploaded by URL: upload it with bosh upload-release, or use a final release"
                )
            location, sha1 = release.get("url"), release.get("sha1")
            if not location:
                raise DirectorError(
                    f"{label} is not on the director at {self.url} and the manifest gives no url"
                    " to upload it from: add url (and sha1) to the release in env.yml"
                )
            # sha1 is optional for remote URLs (bosh.io's release-urls doc); the director verifies it when given
            upload = {"location": str(location), **({"sha1": str(sha1)} if sha1 else {})}
            body = json.dumps(upload).encode()
            json_type = {"Content-Type": "application/json"}
            task_id = self._start_task("POST", "/releases", headers=json_type, data=body)
            result = self._tasks.follow(task_id, on_event)
            if not result.ok:
                where = _public_url(str(location))
                return replace(result, result=f"upload of {label} from {where} failed: {result.result}")
        return None

    def _releases(self) -> set[tuple[str, str]]:
        response = self._call("GET", "/releases")
        try:
            releases = json.loads(response.text)
        except ValueError:
            raise DirectorError(f"{self.describe()} sent an unreadable release list") from None
        have: set[tuple[str, str]] = set()
        for release in releases if isinstance(releases, list) else []:
            for version in release.get("release_versions") or []:
                have.add((str(release.get("name")), str(version.get("version"))))
        return have

    # -- diff ----------------------------------------------------------------------------------------

    def _diff(self, name: str, manifest: str, document: Mapping[str, Any], on_event: EventSink) -> TaskResult:
        response = self._call(
            "POST",
            f"/deployments/{quote(name, safe='')}/diff?redact=true",
            headers={"Content-Type": "text/yaml"},
            data=manifest.encode(),
            ok=(200, 404),
            refused=lambda refusal: self._v1_line(refusal) if is_v1_refusal(refusal) else None,
        )
        body = _json(response.text) if response.status_code == 200 else None
        director_error = body.get("error") if isinstance(body, dict) else None
        if director_error and is_v1_refusal(str(director_error)):
            raise DirectorError(self._v1_line(str(director_error)))
        if isinstance(body, dict) and "diff" in body and not director_error:
            lines, source = director_diff_lines(body), "director diff"
        else:
            lines = local_diff_lines(self.deployed_manifest(name), manifest, name)
            source = "local diff against the deployed manifest"
        lines = redacted(lines, self._scrub)
        now = int(time.time())
        for line in lines:
            on_event(Event(time=now, stage="Diff", task=line))
        changes = sum(1 for line in lines if line.startswith(("+ ", "- ")))
        return TaskResult(
            id="",
            state="done",
            description=f"diff of deployment {name} ({source}, {changes} changed lines)",
            result="\n".join(lines),
        )

    # -- HTTP ----------------------------------------------------------------------------------------

    def variable(self, deployment: str, name: str) -> str | None:
        """A ``((name))`` the director's config server keeps for ``deployment`` (CredHub's API).

        CredHub is asked at ``CREDHUB_SERVER`` for ``/<director name>/<deployment>/<name>`` with the
        director's UAA token (the same client credentials), verified against the director's CA.
        The value goes to the scrubber before it is returned, so it can never be printed.
        """
        if self._credhub is None:
            raise DirectorError(
                f"(({name})) of {deployment} is kept by the config server of {self.url}: set {CREDHUB_ENV}"
                " to its CredHub URL (https://<director>:8844) so the checks can read it"
            )
        path = f"/{self.info().name}/{deployment}/{name}"
        self._http.allow(self._credhub)
        auth = self._authenticator()
        url = f"{self._credhub}/api/v1/data?{urlencode({'name': path, 'current': 'true'})}"
        response = self._http.request("GET", url, what="CredHub", headers={"Authorization": auth.header()})
        if response.status_code == 401 and auth.renew():
            response = self._http.request("GET", url, what="CredHub", headers={"Authorization": auth.header()})
        if response.status_code == 404:
            return None
        body = _json(response.text) if response.status_code == 200 else None
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            raise DirectorError(f"CredHub at {self._credhub} answered {response.status_code} for {path}")
        value = rows[0].get("value")
        if not isinstance(value, str):
            raise DirectorError(f"CredHub at {self._credhub}: {path} is not a string value (a {rows[0].get('type')})")
        self._scrub.add(value)
        return value

    def info(self) -> DirectorInfo:
        """Name and version from ``GET /info`` (``manifest: auto`` takes v2 from v270 on)."""
        body = self._info_body()
        return DirectorInfo(str(body.get("name") or ""), str(body.get("version") or ""))

    def _info_body(self) -> dict[str, Any]:
        """``GET /info`` (unauthenticated), asked once per client."""
        if self._info is not None:
            return self._info
        response = self._http.request("GET", self.url + "/info", what="director")
        body = _json(response.text) if response.status_code == 200 else None
        if not isinstance(body, dict):
            raise DirectorError(
                f"{self.url} does not look like a BOSH director: GET /info answered {response.status_code}"
            )
        self._info = body
        return body

    def _authenticator(self) -> Auth:
        if self._auth is not None:
            return self._auth
        kind = self._info_body().get("user_authentication") or {}
        auth_type = str(kind.get("type", "basic")) if isinstance(kind, dict) else "basic"
        if auth_type == "uaa":
            options = kind.get("options") or {}
            uaa_url = str(options.get("url", "")) if isinstance(options, dict) else ""
            if urlsplit(uaa_url).scheme != "https":
                raise DirectorError(f"the director at {self.url} names no https UAA URL in /info")
            self._http.allow(uaa_url)
            self._auth = UaaAuth(
                self._http,
                uaa_url,
                client=self._client,
                login=self._login,
                scrub=self._scrub,
                clock=self._clock,
            )
        elif auth_type == "basic":
            credentials = self._client
            if credentials is None:
                if self._login is None:
                    raise DirectorError(
                        f"the director at {self.url} uses basic auth and no credentials are set:"
                        " export BOSH_CLIENT and BOSH_CLIENT_SECRET"
                    )
                credentials = self._login(self.url)
                self._scrub.add(credentials.secret)
            self._auth = BasicAuth(credentials)
        else:
            raise DirectorError(f"the director at {self.url} wants {auth_type!r} authentication, unsupported")
        return self._auth

    def _call(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        ok: tuple[int, ...] = (200,),
        refused: Callable[[str], str | None] | None = None,
    ) -> requests.Response:
        """An authenticated request to our own director; one retry with fresh credentials after 401."""
        auth = self._authenticator()
        sent = dict(headers or {})
        sent["Authorization"] = auth.header()
        response = self._http.request(method, self.url + path, what="director", headers=sent, data=data)
        if response.status_code == 401 and auth.renew():
            sent["Authorization"] = auth.header()
            response = self._http.request(method, self.url + path, what="director", headers=sent, data=data)
        if response.status_code in ok:
            return response
        if response.status_code == 401:
            raise DirectorError(
                f"the director at {self.url} refused {auth.who()} (401 Unauthorized, also with fresh"
                " credentials): check BOSH_CLIENT and BOSH_CLIENT_SECRET"
            )
        description = self._description(response)
        if refused is not None and (line := refused(description)) is not None:
            raise DirectorError(line)
        where = urlsplit(path).path
        raise DirectorRefused(
            f"the director at {self.url} refused {method} {where} ({response.status_code}): {description}",
            response.status_code,
            description,
        )

    def _start_task(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        missing: str | None = None,
    ) -> str:
        """Start a director task; a 404 names the ``missing`` deployment when given."""
        response = self._call(method, path, headers=headers, data=data, ok=(200, 201, 302, 303, 404))
        if response.status_code == 404:
            description = self._description(response)
            if missing is not None:
                raise DirectorError(f"{self._missing(missing)} ({description})")
            message = f"the director at {self.url} has no {urlsplit(path).path}"
            raise DirectorRefused(message, 404, description)
        return self._task_id(method, path, response)

    def _task_id(self, method: str, path: str, response: requests.Response) -> str:
        """The task id from a 302/303 ``Location``, which is not followed (it may name another host)."""
        if response.status_code in (302, 303):
            match = _TASK_PATH.search(urlsplit(response.headers.get("Location", "")).path)
            if match is None:
                raise DirectorError(
                    f"the director at {self.url} answered {method} {path} without a task Location"
                )
            return match.group(1)
        body = _json(response.text)  # some front ends answer with the task itself
        if isinstance(body, dict) and body.get("id") is not None:
            return str(body["id"])
        raise DirectorError(f"the director at {self.url} answered {method} {path} without starting a task")

    def _description(self, response: requests.Response) -> str:
        body = _json(response.text)
        if isinstance(body, dict) and body.get("description"):
            text = str(body["description"])
        else:
            text = response.text.strip() or response.reason or ""
        return one_line(self._scrub(text), 300)

    # -- messages ------------------------------------------------------------------------------------

    def _missing(self, deployment: str) -> str:
        return f"deployment '{deployment}' does not exist on the director at {self.url}"

    def _task_line(self, what: str, result: TaskResult) -> str:
        return f"{what} failed: task {result.id} {result.state} on {self.url}: {result.result}"

    def _v1_line(self, message: str) -> str:
        return (
            f"the director at {self.url} refuses v1 manifests; set manifest: v2 (or auto) in the env's env.yml"
            f" (director said: {one_line(self._scrub(message), 200)})"
        )

    def _manifest_document(self, manifest: str) -> dict[str, Any]:
        document = _load(manifest)
        if not isinstance(document, dict) or not document.get("name"):
            raise DirectorError("the manifest has no top-level 'name': nothing to deploy")
        self._scrub.add(*secret_values(document))
        return document


def _ignore(event: Event) -> None:
    """Event sink for tasks whose progress nobody needs to see (instance listing)."""


def _load(manifest: str) -> Any:
    try:
        return yaml.safe_load(manifest)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise DirectorError(f"the manifest is not valid YAML{where}") from None


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_lines(text: str) -> list[dict[str, Any]]:
    rows = (_json(line) for line in text.splitlines() if line.strip())
    return [row for row in rows if isinstance(row, dict)]


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value) if isinstance(value, int | float) else int(str(value))
    except (TypeError, ValueError):
        return default


def _same_stemcell(wanted: Stemcell, row: dict[str, Any]) -> bool:
    """A director's stemcell row matches by name (or os) and version; ``latest`` takes any version and
    ``621.latest`` (as redis-boshrelease v15's manifest says) any ``621.x``."""
    if wanted.name and str(row.get("name")) != wanted.name:
        return False
    if not wanted.name and str(row.get("operating_system")) != wanted.os:
        return False
    version = str(row.get("version"))
    if wanted.version.endswith(".latest"):
        return version.startswith(wanted.version[: -len("latest")])
    return wanted.version == "latest" or version == wanted.version


def _errand_groups(document: Any) -> set[str]:
    groups = _groups(document)
    return {str(g.get("name")) for g in groups if g.get("lifecycle") == "errand"}


def _groups(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        return []
    groups = document.get("instance_groups")
    if groups is None:
        groups = document.get("jobs")  # v1
    return [g for g in groups if isinstance(g, dict)] if isinstance(groups, list) else []


def _properties(document: Any, job: str) -> dict[str, Any]:
    """Properties an instance group sees: global, then the group's, then its jobs' (deep merged)."""
    merged: dict[str, Any] = {}
    if isinstance(document, dict) and isinstance(document.get("properties"), dict):
        _merge(merged, document["properties"])
    for group in _groups(document):
        if str(group.get("name")) != job:
            continue
        if isinstance(group.get("properties"), dict):
            _merge(merged, group["properties"])
        for template in group.get("jobs") or group.get("templates") or []:
            if isinstance(template, dict) and isinstance(template.get("properties"), dict):
                _merge(merged, template["properties"])
    return merged


def _merge(into: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _public_url(url: str) -> str:
    """A release URL fit for a message: no user info, no query (pre-signed URLs carry tokens)."""
    parts = urlsplit(url)
    return f"{origin(url)}{parts.path}" if parts.scheme else "<url>"
