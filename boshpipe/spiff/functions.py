"""Builtin functions callable from dynaml: join, static_ips, min_ip, max_ip, exec.

``exec`` runs a program, so it is refused unless the merge was started with ``allow_exec`` (the
``--allow-exec`` flag or ``BOSHPIPE_SPIFF_EXEC=1``): a template fetched from somewhere must not be
able to run commands on the machine that merges it.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from boshpipe import yamlsafe
from boshpipe.errors import BoshpipeError
from boshpipe.spiff import ipaddr
from boshpipe.spiff.nodes import Info, Result, fail, is_text, pending, resolved, text_of, type_name, value_node
from boshpipe.spiff.tree import STATIC_IPS, Node, unwrap, wrap

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from boshpipe.spiff.binding import Env

Function = Callable[[list[Node], "Env"], Result]


def join(args: list[Node], env: Env) -> Result:
    """``join(separator, values...)``: strings, integers and booleans (and lists of them).

    As in spiff the separator may itself be an integer or a boolean, nil arguments are skipped
    and floats are refused. A nil separator is refused here; spiff skips it and takes the next
    argument as the separator (or crashes when there is none).
    """
    if not args:
        return fail("join needs a separator")
    separator = args[0].value
    if separator is None:
        return fail("the separator of join is nil")
    if not is_text(separator):
        return fail("first argument for join must be a string")
    parts: list[str] = []
    for position, arg in enumerate(args[1:], start=1):
        value = arg.value
        if type(value) is list:
            for entry in value:
                if not is_text(entry.value):
                    return fail(f"elements of list(arg {position}) to join must be simple values")
                parts.append(text_of(entry.value))
        elif is_text(value):
            parts.append(text_of(value))
        elif value is None:
            continue
        else:
            return fail(f"argument {position} to join must be simple value or list")
    return value_node(text_of(separator).join(parts))


def _cidr(args: list[Node], name: str) -> tuple[int, int] | str:
    """(network, broadcast) of the single CIDR argument, or the issue text."""
    if len(args) != 1:
        return f"{name} takes exactly one argument"
    value = args[0].value
    span = ipaddr.parse_cidr(value) if type(value) is str else None
    return "CIDR argument required" if span is None else span


def min_ip(args: list[Node], env: Env) -> Result:
    span = _cidr(args, "min_ip")
    return fail(span) if isinstance(span, str) else value_node(ipaddr.format(span[0]))


def max_ip(args: list[Node], env: Env) -> Result:
    span = _cidr(args, "max_ip")
    return fail(span) if isinstance(span, str) else value_node(ipaddr.format(span[1]))


def static_ips(args: list[Node], env: Env) -> Result:
    """The job's static IPs: the given indices into its network's ``static`` ranges.

    As in spiff: the job is found through the scope (the nearest ``instances`` and ``name``),
    every index must lie inside the pool (also those past the instance count), there must be at
    least as many indices as instances, and the first ``instances`` addresses are returned. Every
    subnet of the network must have a ``static`` list. Where spiff crashes (a negative index) or
    hangs (a range whose end lies before its start), this gives an error.
    """
    offsets: list[int] = []
    for arg in args:
        if type(arg.value) is not int:
            return fail(f"static_ips takes integer indices, got {type_name(arg.value)}")
        if arg.value < 0:
            return fail(f"static_ips: negative index {arg.value}")
        offsets.append(arg.value)
    name = env.find_reference(("name",))
    if name is None:
        return fail("static_ips: no network name found")
    if not resolved(name):
        return pending()
    if type(name.value) is not str:
        return fail("static_ips: the network's name must be a string")
    subnets_path = ("networks", name.value, "subnets")
    subnets = env.find_from_root(subnets_path)
    if subnets is None:
        return fail(f"'.{'.'.join(subnets_path)}' not found")
    if not resolved(subnets):
        return pending()
    if type(subnets.value) is not list:
        return fail(f"'.{'.'.join(subnets_path)}' must be a list")
    instances = env.find_reference(("instances",))
    if instances is None:
        return fail("static_ips: no instances found for the job")
    if not resolved(instances):
        return pending()
    if type(instances.value) is not int or not 0 <= instances.value <= ipaddr.MAX_RANGE:
        wanted = f"a whole number from 0 to {ipaddr.MAX_RANGE}"
        return fail(f"static_ips: instances must be {wanted}, not {instances.value!r}")
    addresses = _static_addresses(subnets, name.value)
    if isinstance(addresses, str):
        return fail(addresses)
    for offset in offsets:
        if offset >= len(addresses):
            return fail(f"static_ips: index {offset} is outside the {len(addresses)} static IPs of {name.value}")
    count = instances.value
    if len(offsets) < count:
        return fail(f"static_ips: {len(offsets)} indices for {count} instances")
    return value_node([Node(ipaddr.format(addresses[offset]), "dynaml") for offset in offsets[: max(count, 0)]])


def _static_addresses(subnets: Node, network: str) -> list[int] | str:
    """All static addresses of a network's subnets in order (cached: nodes never change)."""
    cache = subnets.cache
    if cache is None:
        cache = subnets.cache = {}
    known = cache.get(STATIC_IPS)
    if known is not None:
        return known  # type: ignore[no-any-return]
    addresses: list[int] = []
    for subnet in subnets.value:
        if type(subnet.value) is not dict:
            return f"a subnet of network {network} is not a map"
        static = subnet.value.get("static")
        if static is None:
            return f"no static ips for network {network}"
        if type(static.value) is not list:
            return f"static ips for network {network} must be a list"
        for entry in static.value:
            text = entry.value if type(entry.value) is str else None
            if text is not None and ipaddr.range_size(text) + len(addresses) > ipaddr.MAX_RANGE:
                return f"static IP range {text!r}: more than {ipaddr.MAX_RANGE:,} static IPs in a network"
            expanded = ipaddr.expand_range(text) if text is not None else None
            if expanded is None:
                return f"invalid static IP range {text_of(entry.value)!r} in network {network}"
            addresses.extend(expanded)
    cache[STATIC_IPS] = addresses
    return addresses


def _argument_text(node: Node) -> str:
    if type(node.value) in (list, dict):
        return yaml.safe_dump(unwrap(node), default_flow_style=False, sort_keys=True)
    return text_of(node.value)


def exec_(args: list[Node], env: Env) -> Result:
    """Run a command and use its output: YAML when it starts with ``---``, else text or integer."""
    if not env.ctx.allow_exec:
        return fail("exec is disabled (enable it with --allow-exec or BOSHPIPE_SPIFF_EXEC=1)")
    if len(args) == 1 and type(args[0].value) is list:
        argv = tuple(_argument_text(entry) for entry in args[0].value)
    else:
        argv = tuple(_argument_text(arg) for arg in args)
    if not argv:
        return fail("exec needs a command")
    cache = env.ctx.exec_cache
    if argv not in cache:
        try:
            cache[argv] = _run(argv)
        except _ExecFailed as err:
            return fail(str(err))
    output: str = cache[argv]
    try:
        yamlsafe.check(output, f"exec {argv[0]!r} output")  # aliases and size bounded, as for any input
    except BoshpipeError as err:
        return fail(str(err))
    document = _yaml_document(output)
    if document is not None:
        return document, Info()
    if output.startswith("---"):
        return fail(f"exec {argv[0]!r} printed invalid YAML")
    text = output[:-1] if output.endswith("\n") else output
    try:
        return value_node(int(text))
    except ValueError:
        return value_node(text)


def _yaml_document(output: str) -> Node | None:
    """The command's output as a YAML list or map, read like a stub; None when it is not one.

    spiff parses what the command prints as YAML, so ``- a`` lines make a list. Scalar output
    keeps spiff's text rule (an integer when it is one, else the text without the final newline).
    """
    from boshpipe.spiff.errors import InputError
    from boshpipe.spiff.yamlio import load

    try:
        data = load(output, "exec")
    except InputError:
        return None
    return wrap(data, "exec")


EXEC_TIMEOUT = 60.0
"""Seconds an ``exec`` command may run; ``BOSHPIPE_SPIFF_EXEC_TIMEOUT`` (1 to 3600) changes it."""
EXEC_OUTPUT_BYTES = 1024 * 1024
"""Output an ``exec`` command may print: a value for a manifest, not a data set."""


class _ExecFailed(Exception):
    """Why a command gave no usable output (timeout, status, size, bytes); the merge fails with it."""


def _run(argv: tuple[str, ...]) -> str:
    """The command's output as text, or :class:`_ExecFailed`."""
    import os
    import subprocess  # here, not at the top: it is slow to import and exec is rare
    import tempfile

    timeout = _exec_timeout()
    if isinstance(timeout, str):
        raise _ExecFailed(timeout)
    with tempfile.TemporaryFile() as out:
        try:
            # stdout goes to a file the child may not grow past the limit (RLIMIT_FSIZE), so neither
            # memory nor disk is at the mercy of a command that prints without end
            done = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
                preexec_fn=_limit_output,
            )
        except subprocess.TimeoutExpired:
            why = f"did not finish within {timeout:g} s (BOSHPIPE_SPIFF_EXEC_TIMEOUT)"
            raise _ExecFailed(f"exec {argv[0]!r} {why}") from None
        except OSError as err:
            raise _ExecFailed(f"exec {argv[0]!r} failed: {err.strerror}") from None
        size = os.fstat(out.fileno()).st_size
        if size >= EXEC_OUTPUT_BYTES:
            raise _ExecFailed(f"exec {argv[0]!r} printed {EXEC_OUTPUT_BYTES:,} bytes or more: too much for a value")
        if done.returncode != 0:
            raise _ExecFailed(f"exec {argv[0]!r} exited with status {done.returncode}")
        out.seek(0)
        data = out.read(EXEC_OUTPUT_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _ExecFailed(f"exec {argv[0]!r} printed bytes that are not UTF-8 text") from None
    if "\0" in text:
        raise _ExecFailed(f"exec {argv[0]!r} printed a NUL byte: not text")
    return text


def _limit_output() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_FSIZE, (EXEC_OUTPUT_BYTES, EXEC_OUTPUT_BYTES))


def _exec_timeout() -> float | str:
    import math
    import os

    text = os.environ.get("BOSHPIPE_SPIFF_EXEC_TIMEOUT")
    if not text:
        return EXEC_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 1 <= value <= 3600:
        return f"BOSHPIPE_SPIFF_EXEC_TIMEOUT={text!r} must be a number of seconds from 1 to 3600"
    return value


FUNCTIONS: dict[str, Function] = {
    "join": join,
    "static_ips": static_ips,
    "min_ip": min_ip,
    "max_ip": max_ip,
    "exec": exec_,
}
