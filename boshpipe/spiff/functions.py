"""Builtin functions callable from dynaml: join, static_ips, min_ip, max_ip, exec.

``exec`` runs a program, so it is refused unless the merge was started with ``allow_exec`` (the
``--allow-exec`` flag or ``BOSHPIPE_SPIFF_EXEC=1``): a template fetched from somewhere must not be
able to run commands on the machine that merges it. It lives in :mod:`execute`, imported only when
a template calls it, so that every other merge does not compile it at start-up.
"""

from __future__ import annotations

from collections.abc import Callable

from boshpipe.spiff import ipaddr
from boshpipe.spiff.nodes import Result, fail, is_text, pending, resolved, text_of, type_name, value_node
from boshpipe.spiff.tree import STATIC_IPS, Node

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
    """The network address of an IPv4 or IPv6 CIDR (Go's ``net.ParseCIDR``, as spiff's ip.go)."""
    span = _cidr(args, "min_ip")
    return fail(span) if isinstance(span, str) else value_node(ipaddr.format_ip(span[0]))


def max_ip(args: list[Node], env: Env) -> Result:
    """The last address of an IPv4 or IPv6 CIDR."""
    span = _cidr(args, "max_ip")
    return fail(span) if isinstance(span, str) else value_node(ipaddr.format_ip(span[1]))


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


def exec_(args: list[Node], env: Env) -> Result:
    """``exec(command, args...)``: see :mod:`boshpipe.spiff.execute` (imported only when used)."""
    from boshpipe.spiff.execute import execute

    return execute(args, env)


FUNCTIONS: dict[str, Function] = {
    "join": join,
    "static_ips": static_ips,
    "min_ip": min_ip,
    "max_ip": max_ip,
    "exec": exec_,
}
