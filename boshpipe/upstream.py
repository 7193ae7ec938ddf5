"""Fetches the upstream redis-boshrelease templates at a pinned ref and records what was resolved.

Sources: a git URL (https, ssh, ``file://``) fetched into a cache under the work dir, or a local
directory. ``BOSHPIPE_UPSTREAM`` (or ``--source``) overrides the env's URL for offline use; the ref
is always the env's pin for git sources. A pinned commit already in the cache needs no network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from boshpipe.environments import Upstream
from boshpipe.errors import UpstreamError

ENV_OVERRIDE = "BOSHPIPE_UPSTREAM"
OPS_ENV_OVERRIDE = "BOSHPIPE_OPS_UPSTREAM"
"""Overrides the upstream of envs with ``composition: ops`` (the v2 release), as BOSHPIPE_UPSTREAM does for spiff."""
# The files a candidate takes from upstream: the spiff templates, the v2 manifest and its ops files,
# and the job specs they configure.
WANTED = re.compile(r"^(templates/[^/]+\.yml|manifests/[^/]+\.yml|manifests/operators/[^/]+\.yml|jobs/[^/]+/spec)$")
GIT_TIMEOUT = 120


@dataclass(frozen=True)
class UpstreamTree:
    source: str  # URL (credentials stripped) or absolute path
    ref: str | None
    commit: str | None  # resolved git commit; None for a plain directory
    files: dict[str, bytes]

    @property
    def tree_sha256(self) -> str:
        digest = hashlib.sha256()
        for path in sorted(self.files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(self.files[path]).digest())
        return digest.hexdigest()


def fetch_upstream(
    pin: Upstream, cache: Path, override: str | None = None, env_var: str = ENV_OVERRIDE
) -> UpstreamTree:
    """The upstream files for ``pin``, from ``override``, ``$<env_var>`` or the pinned URL."""
    source = override or os.environ.get(env_var) or pin.url
    overridden = source != pin.url
    if _is_local_dir(source):
        return _from_directory(
            Path(source.removeprefix("file://") if source.startswith("file://") else source)
        )
    try:
        return _from_git(source, pin.ref, cache / "git")
    except UpstreamError as err:
        if overridden:
            # git's own words for a missing path end in advice ("and the repository exists."): say it plainly
            _check_local_path(source, "--source" if override else env_var)
            raise
        raise UpstreamError(
            f"cannot fetch upstream {_safe(source)} ({err}); without network, set {env_var} to a local "
            "redis-boshrelease checkout or file:// URL (e.g. ../shared/upstream/redis-boshrelease) or pass --source"
        ) from None


def _check_local_path(source: str, origin: str) -> None:
    """A source naming a local path that does not exist: say so, instead of git's last stderr line."""
    if "://" in source and not source.startswith("file://"):
        return
    if re.match(r"^[^/]+:", source) and not source.startswith("file://"):
        return  # scp-like git address: user@host:path or host:path
    path = Path(source.removeprefix("file://"))
    if not path.exists():
        raise UpstreamError(
            f"upstream source {source} ({origin}): no such file or directory; give a redis-boshrelease"
            " checkout, a git repository or a git URL"
        )


def _is_local_dir(source: str) -> bool:
    if "://" in source and not source.startswith("file://"):
        return False
    path = Path(source.removeprefix("file://"))
    return path.is_dir() and not (path / ".git").exists() and not path.name.endswith(".git")


def _has_manifests(files: dict[str, bytes]) -> bool:
    """spiff templates (the 2015 layout) or a v2 manifest (v13 on): something to compose."""
    return any(name.startswith(("templates/", "manifests/")) for name in files)


def _from_directory(path: Path) -> UpstreamTree:
    path = path.resolve()
    files = {}
    for file in sorted(path.rglob("*")):
        rel = file.relative_to(path).as_posix()
        if WANTED.match(rel) and file.is_file() and not file.is_symlink():
            files[rel] = file.read_bytes()
    if not _has_manifests(files):
        raise UpstreamError(
            f"{path}: no templates/*.yml or manifests/*.yml here: point at a redis-boshrelease checkout"
        )
    return UpstreamTree(source=str(path), ref=None, commit=None, files=files)


def _from_git(url: str, ref: str, cache_root: Path) -> UpstreamTree:
    if shutil.which("git") is None:
        raise UpstreamError(f"git not found: install git to fetch {_safe(url)}, or set {ENV_OVERRIDE}")
    repo = cache_root / hashlib.sha256(url.encode()).hexdigest()[:16]
    if not (repo / "HEAD").exists():
        repo.mkdir(parents=True, exist_ok=True)
        _git(repo, "init", "--quiet", "--bare")
    commit = _resolve(repo, ref) if re.fullmatch(r"[0-9a-f]{40}", ref) else None
    if commit is None:
        _fetch(repo, url, ref)
        commit = _resolve(repo, "FETCH_HEAD" if not re.fullmatch(r"[0-9a-f]{40}", ref) else ref)
        if commit is None:
            raise UpstreamError(f"{_safe(url)}: ref {ref} not found after fetching: check upstream.ref")
    names = _git(repo, "ls-tree", "-r", "--name-only", commit).decode().splitlines()
    files = {name: _git(repo, "cat-file", "blob", f"{commit}:{name}") for name in names if WANTED.match(name)}
    if not _has_manifests(files):
        raise UpstreamError(f"{_safe(url)}@{commit[:12]}: no templates/*.yml or manifests/*.yml at that commit")
    return UpstreamTree(source=_safe(url), ref=ref, commit=commit, files=files)


def _fetch(repo: Path, url: str, ref: str) -> None:
    """Fetch ``ref`` (a branch, tag or commit). A bare commit id may be refused by servers that
    do not allow fetching unadvertised objects, so fall back to fetching every branch and tag."""
    try:
        _git(repo, "fetch", "--quiet", "--depth", "1", url, ref)
        return
    except UpstreamError:
        pass
    _git(repo, "fetch", "--quiet", url, "+refs/heads/*:refs/remotes/upstream/*", "+refs/tags/*:refs/tags/*")


def _resolve(repo: Path, ref: str) -> str | None:
    try:
        return _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip() or None
    except UpstreamError:
        return None


def _git(repo: Path, *args: str) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}
    try:
        done = subprocess.run(
            ["git", "--git-dir", str(repo), *args],
            capture_output=True,
            env=env,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise UpstreamError(f"git {args[0]} timed out after {GIT_TIMEOUT}s") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        # git's first "fatal:" line says what failed; the lines after it are advice
        fatal = [line.removeprefix("fatal: ") for line in lines if line.startswith("fatal:")]
        reason = _scrub(fatal[0] if fatal else lines[-1] if lines else f"exit status {done.returncode}")
        raise UpstreamError(f"git {args[0]} failed: {reason}")
    return done.stdout


def _safe(url: str) -> str:
    """The URL without any user:password part, fit for messages and records."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return url


def _scrub(text: str) -> str:
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1", text)


def materialize(tree: UpstreamTree, target: Path) -> None:
    """Write the fetched files under ``target`` (replacing what was there) for people to inspect."""
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for rel, data in tree.files.items():
        dest = tmp / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
