"""IP addresses for the local director: manifest networks -> one address per instance and network.

A real director hands out static IPs as listed and dynamic ones from each subnet's range minus the
network/broadcast addresses, ``gateway``, ``reserved`` and ``static``. Doing the same here keeps the
addresses of a local deployment equal to what BOSH would give it, so the env's networking stub is
exercised for real. Each address ``a.b.c.d`` is served on its loopback twin ``127.b.c.d``: Linux
routes all of 127/8 to ``lo``, and distinct manifest ranges stay distinct on loopback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from boshpipe.director.groups import JobSpec
from boshpipe.errors import DirectorError

IP = ipaddress.IPv4Address
Assignments = dict[str, dict[str, str]]  # "job/index" -> {network name: ip}


@dataclass(frozen=True)
class Subnet:
    range: ipaddress.IPv4Network
    not_dynamic: frozenset[IP]  # gateway, reserved and static: never handed out dynamically
    reserved: frozenset[IP]  # gateway and reserved: never handed out at all


@dataclass(frozen=True)
class Network:
    name: str
    type: str
    subnets: tuple[Subnet, ...]

    def contains(self, ip: IP) -> bool:
        return any(ip in s.range for s in self.subnets)


def loopback(ip: str) -> str:
    """The loopback twin of a manifest address: ``10.244.12.2`` -> ``127.244.12.2``."""
    parts = ip.split(".")
    return ".".join(["127", *parts[1:]])


MAX_SUBNET_ADDRESSES = 65_536
"""The local director hands out addresses from subnets of at most a /16 (what BOSH users deploy)."""
MAX_SUBNETS = 256
"""Subnets of one network (each env's networking stub has 8)."""
MAX_LISTED_ADDRESSES = 65_536
"""Addresses one ``reserved``/``static``/``static_ips`` list may name once clipped to its subnet."""


def expand(entries: Iterable[Any], where: str, within: ipaddress.IPv4Network | None = None) -> list[IP]:
    """Addresses from a list whose entries are single IPs or ranges ``a - b``.

    With ``within``, ranges are clipped to that subnet first (a ``reserved`` range may cover more
    than its subnet, even the whole address space); either way a list naming more than
    :data:`MAX_LISTED_ADDRESSES` addresses is refused instead of being expanded.
    """
    out: list[IP] = []
    for entry in entries:
        text = str(entry).strip()
        try:
            if "-" in text:
                first, last = (int(IP(p.strip())) for p in text.split("-", 1))
                if last < first:
                    raise ValueError(text)
            else:
                first = last = int(IP(text))
        except ValueError:
            raise DirectorError(f"{where}: '{text}' is not an IPv4 address or range 'a - b'") from None
        if within is not None:
            first = max(first, int(within.network_address))
            last = min(last, int(within.broadcast_address))
        if last - first + 1 + len(out) > MAX_LISTED_ADDRESSES:
            raise DirectorError(
                f"{where}: '{text}' makes more than {MAX_LISTED_ADDRESSES:,} addresses: "
                "list only the addresses the deployment uses"
            )
        out.extend(IP(n) for n in range(first, last + 1))
    return out


def read_networks(manifest: dict[str, Any]) -> dict[str, Network]:
    networks: dict[str, Network] = {}
    for raw in manifest.get("networks") or []:
        if not isinstance(raw, dict) or not raw.get("name"):
            raise DirectorError("manifest: every entry of `networks` needs a `name`")
        name = str(raw["name"])
        listed = raw.get("subnets") or []
        if not isinstance(listed, list) or len(listed) > MAX_SUBNETS:
            raise DirectorError(f"network '{name}': `subnets` must be a list of at most {MAX_SUBNETS} subnets")
        subnets = tuple(_subnet(s, name) for s in listed)
        networks[name] = Network(name, str(raw.get("type") or "manual"), subnets)
    return networks


def allocate(jobs: list[JobSpec], networks: dict[str, Network], previous: Assignments) -> Assignments:
    """Addresses for every instance of every non-errand job.

    ``previous`` holds the last deploy's assignments: a dynamic address that is still valid is kept,
    so redeploying never moves an instance (a director keeps its reservations the same way).
    """
    used: dict[IP, str] = {}
    out: Assignments = {}
    statics_by_net: dict[str, set[IP]] = {}
    dynamic: list[tuple[str, str]] = []  # (instance key, network) needing a dynamic address
    for job in jobs:
        for ref in job.networks:
            net = networks.get(ref.name)
            where = f"job '{job.name}' network '{ref.name}'"
            statics = expand(ref.static_ips, f"{where} static_ips")
            statics_by_net.setdefault(ref.name, set()).update(statics)
            if job.errand or job.instances == 0:
                continue
            if statics and len(statics) != job.instances:
                raise DirectorError(
                    f"{where}: {job.instances} instance(s) but {len(statics)} static IP(s): "
                    "give one static IP per instance, or none for dynamic addresses"
                )
            for index in range(job.instances):
                key = f"{job.name}/{index}"
                if not statics:
                    if net is None or not net.subnets:
                        raise DirectorError(_no_subnets(where, net))
                    dynamic.append((key, ref.name))
                    continue
                ip = statics[index]
                _check_static(ip, net, where)
                if ip in used:
                    raise DirectorError(f"{where}: static IP {ip} is also given to {used[ip]}")
                used[ip] = key
                out.setdefault(key, {})[ref.name] = str(ip)
    for key, name in dynamic:
        net = networks[name]
        keep = previous.get(key, {}).get(name)
        got = IP(keep) if keep else None
        if got is None or got in used or got in statics_by_net[name] or not _dynamic_ok(got, net):
            got = next(_free(net, used, statics_by_net[name]), None)
        if got is None:
            raise DirectorError(
                f"network '{name}' has no free dynamic IP left for {key}: widen its subnets or lower the instance count"
            )
        used[got] = key
        out.setdefault(key, {})[name] = str(got)
    return out


def _subnet(raw: Any, network: str) -> Subnet:
    where = f"network '{network}'"
    if not isinstance(raw, dict) or not raw.get("range"):
        raise DirectorError(f"{where}: every subnet needs a `range` (CIDR)")
    try:
        cidr = ipaddress.IPv4Network(str(raw["range"]), strict=False)
    except ValueError:
        raise DirectorError(f"{where}: subnet range '{raw['range']}' is not an IPv4 CIDR") from None
    if cidr.num_addresses > MAX_SUBNET_ADDRESSES:
        raise DirectorError(
            f"{where}: subnet {cidr} has {cidr.num_addresses:,} addresses; the local director takes subnets "
            f"of at most {MAX_SUBNET_ADDRESSES:,} (a /16): use a smaller range"
        )
    reserved = set(expand(raw.get("reserved") or [], f"{where} reserved", cidr))
    if raw.get("gateway"):
        reserved.update(expand([raw["gateway"]], f"{where} gateway"))
    static = set(expand(raw.get("static") or [], f"{where} static", cidr))
    return Subnet(cidr, frozenset(reserved | static), frozenset(reserved))


def _check_static(ip: IP, net: Network | None, where: str) -> None:
    if net is None or not net.subnets:
        return  # vip-like network without subnets: nothing to check against
    for subnet in net.subnets:
        if ip in subnet.range:
            if ip in subnet.reserved or not _is_host(ip, subnet.range):
                raise DirectorError(f"{where}: static IP {ip} is reserved in subnet {subnet.range}")
            return
    ranges = ", ".join(str(s.range) for s in net.subnets)
    raise DirectorError(f"{where}: static IP {ip} is outside the network's subnets ({ranges})")


def _dynamic_ok(ip: IP, net: Network) -> bool:
    return any(ip in s.range and ip not in s.not_dynamic and _is_host(ip, s.range) for s in net.subnets)


def _is_host(ip: IP, cidr: ipaddress.IPv4Network) -> bool:
    return cidr.prefixlen >= 31 or ip not in (cidr.network_address, cidr.broadcast_address)


def _free(net: Network, used: dict[IP, str], statics: set[IP]) -> Iterator[IP]:
    for subnet in net.subnets:
        for ip in subnet.range.hosts():
            if ip not in subnet.not_dynamic and ip not in used and ip not in statics:
                yield ip


def _no_subnets(where: str, net: Network | None) -> str:
    if net is None:
        return f"{where}: the network is not defined in the manifest's `networks`: add it with subnets"
    return (
        f"{where}: network type '{net.type}' has no subnets, and the local director can only hand out "
        "addresses from subnet ranges: give the network subnets or the job static_ips"
    )
