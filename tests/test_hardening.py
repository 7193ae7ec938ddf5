"""Issue 13 (part A): no unauthenticated Redis, no silently ignored rule, bounded memory, one line
for every bad input. Cases about the command line run the real `invoke` or spiff CLI in a child
process; cases about memory run that child under an address-space cap (tests/hardening.py) and
expect a clean one-line refusal, never a MemoryError or the OOM killer.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from boshpipe import candidate as cand
from boshpipe import schema, secrets, yamlsafe
from boshpipe.director.groups import MAX_INSTANCES, read_jobs
from boshpipe.director.local.net import allocate, read_networks
from boshpipe.environments import load_env
from boshpipe.errors import BoshpipeError, CandidateError, ConfigError, DirectorError
from boshpipe.project import Project
from tests.e2e_project import E2EProject, make_project
from tests.hardening import INVOKE, SPIFF, one_line, run, tgz

BILLION_LAUGHS = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 10)
)
RECURSIVE = "a: &a {b: *a}\n"
BOMBS = [(BILLION_LAUGHS, "aliases expand to more than"), (RECURSIVE, "recursive")]


@pytest.fixture
def project(tmp_path: Path) -> E2EProject:
    """A copy of the project (no deployment, no upstream needed) and an environment pointing at it."""
    return make_project(tmp_path, tmp_path / "no-upstream")


def invoke(project: E2EProject, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run([*INVOKE, *args], cwd=project.root, env={**project.env, **env})


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, path)
    path.write_text(text.replace(old, new))


# -- passwords -----------------------------------------------------------------------------------


@pytest.fixture
def no_password_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secrets.ENV_VAR, raising=False)


@pytest.mark.usefixtures("no_password_env")
def test_generated_password_is_long_private_and_complete(tmp_path: Path) -> None:
    password = secrets.redis_password(tmp_path, "dev1")
    path = tmp_path / "secrets" / "dev1.redis-password"
    assert len(password) >= 32 and path.read_text() == password + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    assert secrets.redis_password(tmp_path, "dev1") == password  # kept, not regenerated
    assert secrets.redis_password(tmp_path, "dev2") != password


@pytest.mark.usefixtures("no_password_env")
@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "is empty"), (b"\n  \n", "is empty"), (b"short\n", "shorter than 16"), (b"\xff" * 20, "is empty")],
)
def test_bad_password_file_is_refused(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "secrets" / "dev1.redis-password"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=needle) as err:
        secrets.redis_password(tmp_path, "dev1")
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    assert path.read_bytes() == content  # refused, never repaired behind the person's back


@pytest.mark.usefixtures("no_password_env")
def test_unreadable_password_file_is_refused(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode: an unreadable file cannot be made here")
    path = tmp_path / "secrets" / "dev1.redis-password"
    path.parent.mkdir()
    path.write_text("x" * 40)
    path.chmod(0)
    with pytest.raises(ConfigError, match="cannot read the Redis password"):
        secrets.redis_password(tmp_path, "dev1")


@pytest.mark.parametrize("value", ["", "tooshort"])
def test_empty_or_short_password_variable_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(secrets.ENV_VAR, value)
    with pytest.raises(ConfigError, match=secrets.ENV_VAR):
        secrets.redis_password(tmp_path, "dev1")


def test_password_generation_on_a_full_disk_leaves_nothing(tmp_path: Path) -> None:
    """The disk "fills" (RLIMIT_FSIZE 0) while the password is written: one line, and no empty file
    that a later run would take for a password."""
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from boshpipe.secrets import redis_password\n"
        "from boshpipe.errors import BoshpipeError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))\n"
        "try:\n"
        "    redis_password(Path(sys.argv[1]), 'dev1')\n"
        "except BoshpipeError as err:\n"
        "    print(err, file=sys.stderr); sys.exit(1)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != secrets.ENV_VAR}
    done = run([sys.executable, "-c", script, str(tmp_path)], env=env)
    one_line(done, "cannot write the generated Redis password")
    assert not (tmp_path / "secrets" / "dev1.redis-password").exists()
    assert list((tmp_path / "secrets").iterdir()) == []


def test_redis_server_does_not_inherit_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from boshpipe.director.local.redisproc import alive, find_binary, spawn, stop
    from tests.director.localcluster import wait_for

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-that-must-not-leak")
    monkeypatch.setenv(secrets.ENV_VAR, "redis-password-that-must-not-leak")
    conf = tmp_path / "redis.conf"
    sock = tmp_path / "redis.sock"
    conf.write_text(f'port 0\nunixsocket "{sock}"\ndaemonize no\nset-proc-title no\ndir "{tmp_path}"\nsave ""\n')
    log = tmp_path / "redis.log"
    pid = spawn(find_binary(), conf, log)
    try:
        # the socket exists once the server image runs (the exec is over): its environ is final
        assert wait_for(lambda: sock.exists() or not alive(pid, conf), timeout=10), "redis-server never started"
        assert sock.exists(), log.read_text()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        names = {entry.split(b"=", 1)[0] for entry in environ.split(b"\0") if entry}
        assert names == {b"PATH", b"LC_ALL"}, names
    finally:
        stop([(pid, conf, "", 0, None)], save=False)


# -- config: schema, unknown keys, accepts: open -------------------------------------------------


def test_misspelt_accepts_in_production_is_refused_with_a_suggestion(project: E2EProject) -> None:
    env_yml = project.root / "production" / "env.yml"
    _edit(env_yml, "\naccepts:\n", "\nacepts:\n")
    line = one_line(invoke(project, "deploy", "--env", "production"), "acepts: unknown key; did you mean accepts?")
    assert line.startswith(f"error: {env_yml}:")  # file and line
    assert not (project.workdir / "store").exists()  # nothing built, stored or recorded


def test_env_without_accepts_must_say_open(project: E2EProject) -> None:
    _edit(project.root / "dev1" / "env.yml", "accepts: open\n", "")
    one_line(invoke(project, "gates", "--env", "dev1", "--candidate", "1"), "dev1/env.yml: accepts: missing (required)")


def test_empty_rules_are_not_open_by_accident(project: E2EProject) -> None:
    _edit(project.root / "dev1" / "env.yml", "accepts: open\n", "accepts: {}\n")
    one_line(invoke(project, "gates", "--env", "dev1", "--candidate", "1"), "say `accepts: open` if that is meant")


@pytest.mark.parametrize("env", ["staging", "production"])
def test_protected_env_refuses_open_unless_boshpipe_yml_allows_it(project: E2EProject, env: str) -> None:
    env_yml = project.root / env / "env.yml"
    env_yml.write_text(env_yml.read_text().split("\naccepts:")[0] + "\naccepts: open\n")
    one_line(invoke(project, "gates", "--env", env, "--candidate", "1"), f"{env} is a protected env")
    with (project.root / "boshpipe.yml").open("a") as handle:
        handle.write("allow_open_protected_envs: true\n")
    assert load_env(Project.load(project.root), env).rules.declared_open


def test_unknown_key_in_boshpipe_yml_is_refused(project: E2EProject) -> None:
    _edit(project.root / "boshpipe.yml", "candidate_name:", "candidate_nmae:")
    one_line(invoke(project, "status"), "boshpipe.yml:", "candidate_nmae: unknown key; did you mean candidate_name?")


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("deployment", "redis dev1", "is not a valid name"),
        ("tests", "[smoke, load]", "tests[1]: 'load' is not allowed"),
        ("releases", "[{name: redis, version: -1}]", "releases[0].version:"),
        ("releases", "[]", "releases: at least 1 entry needed"),
        ("templates", "[" + ", ".join(["generated"] * 65) + "]", "at most 64 entries"),
        ("upstream", "{url: x, ref: main, branch: b}", "upstream.branch: unknown key"),
    ],
)
def test_env_values_have_types_and_ranges(project: E2EProject, key: str, value: str, needle: str) -> None:
    env_yml = project.root / "dev1" / "env.yml"
    lines = env_yml.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{key}:"))
    nested = (" ", "-")
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i].startswith(nested)), len(lines))
    env_yml.write_text("\n".join([*lines[:start], f"{key}: {value}", *lines[end:]]) + "\n")
    with pytest.raises(ConfigError) as err:
        load_env(Project.load(project.root), "dev1")
    assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


@pytest.mark.parametrize("key", ["A", "Accepts", "EnvFile", "literal['open']", "str"])
def test_an_unknown_key_shaped_like_a_pydantic_label_is_named(tmp_path: Path, key: str) -> None:
    """pydantic puts union-branch labels (class names, ``str``) in locations; a key may look like one."""
    (tmp_path / "boshpipe.yml").write_text(f"candidate_name: x\nenvironments: [dev1]\n{json.dumps(key)}: 1\n")
    with pytest.raises(ConfigError) as err:
        Project.load(tmp_path)
    assert f"boshpipe.yml:3: {key}: unknown key" in str(err.value) or f'boshpipe.yml:3: ["{key}"]: unknown key' in str(
        err.value
    ), str(err.value)


def test_did_you_mean_is_computed_from_the_schema() -> None:
    assert schema.known_keys(schema.EnvFile, ("accepts",)) == list(schema.Accepts.model_fields)
    assert schema.known_keys(schema.EnvFile, ("releases", 0)) == list(schema.ReleaseEntry.model_fields)
    assert schema.known_keys(schema.EnvFile, ("accepts", "succeeded_in")) == ["any_of", "all_of"]


# -- YAML bounds: aliases, size, characters ------------------------------------------------------


@pytest.mark.parametrize(("text", "needle"), BOMBS)
def test_alias_bombs_are_refused_by_spiff_merge(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bomb.yml"
    path.write_text(text)
    one_line(run([*SPIFF, str(path)]), f"{path}:", needle)


@pytest.mark.parametrize(("text", "needle"), BOMBS)
def test_alias_bombs_are_refused_by_the_config_loaders(project: E2EProject, text: str, needle: str) -> None:
    with (project.root / "dev1" / "env.yml").open("a") as handle:
        handle.write(text.replace("a", "x_a"))
    one_line(invoke(project, "gates", "--env", "dev1", "--candidate", "1"), "dev1/env.yml:", needle)
    (project.root / "boshpipe.yml").write_text((project.root / "boshpipe.yml").read_text() + text)
    one_line(invoke(project, "status"), "boshpipe.yml:", needle)


def test_too_many_aliases_are_refused() -> None:
    text = "a: &a x\nb: [" + ", ".join(["*a"] * (yamlsafe.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(ConfigError, match="more than 10000 aliases"):
        yamlsafe.check(text, "many.yml")


def test_ordinary_aliases_still_load() -> None:
    doc = yamlsafe.load_text("base: &b {x: 1}\none: *b\ntwo: [*b, *b]\n", Path("ok.yml"))
    assert doc.data == {"base": {"x": 1}, "one": {"x": 1}, "two": [{"x": 1}, {"x": 1}]}


def test_oversized_document_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yml"
    with path.open("w") as handle:
        handle.write("a: '")
        handle.write("x" * (yamlsafe.MAX_DOCUMENT_BYTES + 1))
        handle.write("'\n")
    one_line(run([*SPIFF, str(path)]), "larger than the 16,777,216-byte limit")
    one_line(run([*SPIFF, "/dev/zero"]), "/dev/zero: more than 16,777,216 bytes")


def test_nul_byte_in_boshpipe_yml_is_one_line(project: E2EProject) -> None:
    with (project.root / "boshpipe.yml").open("ab") as handle:
        handle.write(b"extra: a\x00b\n")
    one_line(invoke(project, "status"), "boshpipe.yml:", "a NUL byte is not allowed")


def test_non_utf8_env_yml_is_one_line(project: E2EProject) -> None:
    with (project.root / "dev1" / "env.yml").open("ab") as handle:
        handle.write(b"# caf\xe9\n")
    one_line(invoke(project, "gates", "--env", "dev1", "--candidate", "1"), "dev1/env.yml:", "not UTF-8 text")


def test_non_utf8_template_to_spiff_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_bytes(b"a: caf\xe9\n")
    one_line(run([*SPIFF, str(path)]), f"{path}:1: not UTF-8 text (byte 0xe9")


# -- the chain's inputs: stubs, outputs, variables, stores ---------------------------------------


@pytest.fixture
def chain_project(tmp_path: Path, upstream_dir: Path) -> E2EProject:
    """A project copy that can compose manifests (needs ../shared's upstream templates)."""
    return make_project(tmp_path, upstream_dir)


def test_non_utf8_stub_is_one_line(chain_project: E2EProject) -> None:
    with (chain_project.root / "dev1" / "pipeline" / "scaling-dev1.yml").open("ab") as handle:
        handle.write(b"# \xff\n")
    one_line(invoke(chain_project, "spiff-merge", "--env", "dev1"), "env:pipeline/scaling-dev1.yml", "not UTF-8 text")


def test_unresolved_node_names_the_stub_file(chain_project: E2EProject) -> None:
    _edit(chain_project.root / "dev1" / "pipeline" / "scaling-dev1.yml", "slaves: 1", "slaves: (( no.such.value ))")
    line = one_line(invoke(chain_project, "spiff-merge", "--env", "dev1"), "env:pipeline/scaling-dev1.yml")
    assert "stub" not in line.replace("scaling", "")


def test_empty_password_file_stops_the_chain(chain_project: E2EProject) -> None:
    path = chain_project.workdir / "secrets" / "dev1.redis-password"
    path.parent.mkdir(parents=True)
    path.write_text("")
    one_line(invoke(chain_project, "spiff-merge", "--env", "dev1"), "the Redis password is empty")


@pytest.mark.parametrize("where", ["a directory", "an unwritable path"])
def test_output_to_a_directory_or_unwritable_path(chain_project: E2EProject, tmp_path: Path, where: str) -> None:
    target = tmp_path if where == "a directory" else Path("/proc/no-such-dir/manifest.yml")
    for task in ("spiff-merge", "tarball"):
        one_line(invoke(chain_project, task, "--env", "dev1", "--output", str(target)), str(target))
    assert list(tmp_path.glob(".*.tmp")) == []


@pytest.mark.parametrize("ttl", ["nan", "1e400", "1e12", "-5", "inf"])
def test_lock_ttl_must_be_a_sane_number(project: E2EProject, ttl: str) -> None:
    one_line(invoke(project, "smoke-test", "--env", "dev1", BOSHPIPE_LOCK_TTL=ttl), f"BOSHPIPE_LOCK_TTL={ttl!r}")


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({"BOSHPIPE_STORE": "s3://Not_A_Bucket/x"}, "is not a valid bucket name"),
        ({"BOSHPIPE_STORE": "s3://ab"}, "is not a valid bucket name"),
        ({"BOSHPIPE_STORE": "s3://good-bucket", "AWS_ENDPOINT_URL_S3": "not a url"}, "is not a URL"),
    ],
)
def test_bad_s3_settings_are_one_line(project: E2EProject, extra: dict[str, str], needle: str) -> None:
    one_line(invoke(project, "status", **extra), needle)


# -- candidates: files, sizes, metadata ----------------------------------------------------------


def _metadata(files: dict[str, bytes], releases: list[dict[str, object]]) -> bytes:
    listed = {name: cand.sha256(data) for name, data in files.items()}
    return json.dumps({"format": 1, "files": listed, "releases": releases}).encode()


@pytest.mark.parametrize("path", ["/dev/zero", "a directory"])
def test_upload_file_must_be_a_regular_file(project: E2EProject, path: str) -> None:
    target = str(project.root) if path == "a directory" else path
    one_line(invoke(project, "upload", "--env", "dev1", "--file", target), target)


def test_upload_file_size_is_checked_before_reading(project: E2EProject, tmp_path: Path) -> None:
    big = tmp_path / "big.tgz"
    with big.open("wb") as handle:
        handle.truncate(cand.MAX_ARCHIVE_BYTES + 1)  # sparse: large on paper, nothing on disk
    one_line(invoke(project, "upload", "--env", "dev1", "--file", str(big)), "larger than a candidate can be")


def test_gzip_bomb_candidate_is_refused_under_a_memory_cap(project: E2EProject, tmp_path: Path) -> None:
    """Members each under the per-file limit, together far over the total: 80 MiB of zeros."""
    members = {f"upstream/templates/f{i}.yml": b"\0" * (cand.MAX_MEMBER_BYTES - 1) for i in range(5)}
    path = tmp_path / "bomb.tgz"
    path.write_bytes(tgz(members))
    assert path.stat().st_size < 1024 * 1024
    one_line(invoke(project, "upload", "--env", "dev1", "--file", str(path)), "more than 10,000 members or 67,108,864")


def test_too_many_members_are_refused() -> None:
    data = tgz({f"envs/dev1/pipeline/{i}.yml": b"" for i in range(cand.MAX_MEMBERS + 1)})
    with pytest.raises(CandidateError, match="more than 10,000 members"):
        cand.read(data, None)


def test_release_without_name_is_refused_at_upload(project: E2EProject, tmp_path: Path) -> None:
    files = {"upstream/templates/deployment.yml": b"name: x\n"}
    path = tmp_path / "noname.tgz"
    path.write_bytes(tgz({**files, "candidate.json": _metadata(files, [{"version": "12"}])}))
    one_line(invoke(project, "upload", "--env", "dev1", "--file", str(path)), "releases[0].name: missing (required)")
    assert not (project.workdir / "store" / "candidates").exists()


# -- manifests: numbers and ranges the directors read --------------------------------------------


def _v1(instances: object, reserved: list[str] | None = None, cidr: str = "10.9.0.0/24") -> dict[str, object]:
    return {
        "name": "d",
        "jobs": [
            {"name": "redis_z1", "templates": [{"name": "redis"}], "instances": instances, "networks": [{"name": "n"}]}
        ],
        "networks": [{"name": "n", "subnets": [{"range": cidr, "reserved": reserved or []}]}],
    }


@pytest.mark.parametrize("instances", [-1, MAX_INSTANCES + 1, 10**12, 1.5, "3", True])
def test_instance_counts_are_bounded(instances: object) -> None:
    with pytest.raises(DirectorError, match=r"`instances` is .* whole number from 0 to 1000"):
        read_jobs(_v1(instances))


def test_reserved_range_covering_everything_is_clipped_not_expanded() -> None:
    manifest = _v1(1, ["0.0.0.0 - 255.255.255.255"], "10.9.0.0/16")
    with pytest.raises(DirectorError, match="no free dynamic IP"):
        allocate(read_jobs(manifest), read_networks(manifest), {})


def test_huge_subnets_are_refused() -> None:
    with pytest.raises(DirectorError, match="the local director takes subnets of at most"):
        read_networks(_v1(1, cidr="10.0.0.0/8"))


def test_negative_slaves_are_refused_by_the_deploy(tmp_path: Path, upstream_dir: Path) -> None:
    from tests.e2e_project import claim_net

    with claim_net() as net:
        e2e = make_project(tmp_path, upstream_dir, net)
        _edit(e2e.root / "dev1" / "pipeline" / "scaling-dev1.yml", "\n  slaves: 1", "\n  slaves: -1")
        line = one_line(invoke(e2e, "deploy", "--env", "dev1"), "`instances` is -1", "meta.slaves")
        assert "redis_z1" in line and e2e.redis_pids() == []


def test_negative_instances_never_reach_static_ips(tmp_path: Path) -> None:
    """spiff sliced the static IPs with a negative count (``ips[:-1]``) and went on silently."""
    path = tmp_path / "t.yml"
    path.write_text(
        "networks:\n- name: net1\n  subnets:\n  - static: [10.0.0.2 - 10.0.0.9]\n"
        "jobs:\n- name: j\n  instances: -1\n  networks:\n  - name: net1\n    static_ips: (( static_ips(0, 1) ))\n"
    )
    one_line(run([*SPIFF, str(path)]), "instances must be a whole number from 0")


def test_static_ip_range_of_the_whole_address_space_is_refused_by_spiff(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text(
        "networks:\n- name: net1\n  subnets:\n  - static: [0.0.0.0 - 255.255.255.255]\n"
        "jobs:\n- name: j\n  instances: 1\n  networks:\n  - name: net1\n    static_ips: (( static_ips(0) ))\n"
    )
    one_line(run([*SPIFF, str(path)]), "more than 65,536 static IPs")


# -- spiff exec ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        ('"sleep", "30"', "did not finish within 1 s"),
        (f'"{sys.executable}", "-c", "import sys; sys.stdout.buffer.write(bytes([255]))"', "not UTF-8 text"),
        ('"yes"', "bytes or more"),
    ],
)
def test_exec_is_bounded(tmp_path: Path, command: str, needle: str) -> None:
    path = tmp_path / "t.yml"
    path.write_text(f"a: (( exec({command}) ))\n")
    env = {**os.environ, "BOSHPIPE_SPIFF_EXEC_TIMEOUT": "1"}
    one_line(run([*SPIFF, "--allow-exec", str(path)], env=env), needle)


def test_exec_timeout_variable_has_a_range(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text('a: (( exec("true") ))\n')
    env = {**os.environ, "BOSHPIPE_SPIFF_EXEC_TIMEOUT": "nan"}
    one_line(run([*SPIFF, "--allow-exec", str(path)], env=env), "BOSHPIPE_SPIFF_EXEC_TIMEOUT='nan'")


# -- memory caps are real ------------------------------------------------------------------------


def test_the_memory_cap_really_caps(tmp_path: Path) -> None:
    """Proof the cap bites: without yamlsafe, spiff expanding the bomb into its tree runs out of memory."""
    path = tmp_path / "bomb.yml"
    path.write_text(BILLION_LAUGHS)
    script = "import sys; from boshpipe.spiff import yamlio; yamlio.load_tree(open(sys.argv[1]).read())"
    done = run([sys.executable, "-c", script, str(path)])
    assert done.returncode != 0 and "MemoryError" in done.stderr


def test_errors_are_boshpipe_errors() -> None:
    """yamlsafe raises the caller's class, so each tool reports it as its other input errors."""
    with pytest.raises(DirectorError):
        yamlsafe.check(RECURSIVE, "m", error=DirectorError)
    assert issubclass(ConfigError, BoshpipeError)


@pytest.fixture(autouse=True)
def _no_core_dumps() -> Iterator[None]:
    """A capped child that does crash must not leave a core file in the checkout."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    yield
    resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))


def test_line_breaks_from_the_input_never_split_a_message() -> None:
    """Found by the property test: a candidate.json key holding a newline made a two-line error."""
    files = {"a.yml": b"x"}
    meta = json.dumps({"files": {"\n": None}, "releases": [{"name": "r", "version": "1"}]}).encode()
    with pytest.raises(CandidateError) as err:
        cand.read(tgz({**files, "candidate.json": meta}), None)
    assert str(err.value) == 'candidate: candidate.json: files["\\n"]: expected a string, got nothing (null)'
    assert str(ConfigError("x\ny")) == "x\\ny"
