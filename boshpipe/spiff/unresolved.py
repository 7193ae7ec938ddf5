"""Explain what stayed unresolved: every node with its YAML path, and reference cycles as cycles.

spiff lists unresolved nodes with tabs and Go paths (``jobs.[1].properties``); here each entry reads
``jobs.redis_z1.properties.redis.master: (( merge )) in template.yml: 'jobs.redis_z1...' not found
in any stub``. Nodes that only waited for each other are reported as the cycle they form.
"""

from __future__ import annotations

from boshpipe.spiff.binding import Context
from boshpipe.spiff.errors import DynamlSyntaxError, UnresolvedError
from boshpipe.spiff.nodes import Expr, Root, resolved
from boshpipe.spiff.parser import parse
from boshpipe.spiff.tree import DYNAML, Node


def _step(index: int, entry: Node) -> str:
    value = entry.value
    if type(value) is dict:
        name = value.get("name")
        if name is not None and type(name.value) is str:
            return name.value
    return f"[{index}]"


def collect(root: Node) -> list[tuple[str, Node]]:
    """(YAML path, node) of every expression or unparseable ``(( ))`` string, in document order."""
    found: list[tuple[str, Node]] = []
    stack: list[tuple[tuple[str, ...], Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        value = node.value
        if type(value) is dict:
            for key in sorted(value, reverse=True):
                stack.append(((*path, key), value[key]))
        elif type(value) is list:
            for index in range(len(value) - 1, -1, -1):
                stack.append(((*path, _step(index, value[index])), value[index]))
        elif isinstance(value, Expr) or (type(value) is str and DYNAML.match(value)):
            found.append((".".join(path) or "(document)", node))
    return found


def _cycles(entries: list[tuple[str, Node]], ctx: Context) -> dict[int, list[str]]:
    """For each node on a reference cycle, the cycle as a list of paths (first == last)."""
    index_of = {id(node): position for position, (_, node) in enumerate(entries)}
    edges: list[list[int]] = [[] for _ in entries]
    for position, (_, node) in enumerate(entries):
        for waited in ctx.waits.get(id(node), ()):
            stack = [waited]
            while stack:
                current = stack.pop()
                hit = index_of.get(id(current))
                if hit is not None:
                    edges[position].append(hit)
                value = current.value
                if type(value) is dict:
                    stack.extend(value.values())
                elif type(value) is list:
                    stack.extend(value)
    on_cycle: dict[int, list[str]] = {}
    state = [0] * len(entries)  # 0 new, 1 on the DFS stack, 2 done
    for start in range(len(entries)):
        if state[start]:
            continue
        trail: list[int] = []
        work: list[tuple[int, int]] = [(start, 0)]
        while work:
            vertex, next_edge = work.pop()
            if next_edge == 0:
                state[vertex] = 1
                trail.append(vertex)
            if next_edge < len(edges[vertex]):
                work.append((vertex, next_edge + 1))
                target = edges[vertex][next_edge]
                if state[target] == 0:
                    work.append((target, 0))
                elif state[target] == 1:
                    loop = [*trail[trail.index(target) :], target]
                    names = [entries[i][0] for i in loop]
                    for member in loop:
                        on_cycle.setdefault(member, names)
            else:
                state[vertex] = 2
                trail.pop()
    return on_cycle


def describe(path: str, node: Node, reason: str) -> str:
    value = node.value
    text = f"(( {value.text.strip()} ))" if isinstance(value, Root) else str(value)
    return f"{path}: {text} in {node.source}: {reason}"


def check(root: Node, ctx: Context, source: str | None = None) -> None:
    """Raise :class:`UnresolvedError` listing every unresolved node of a merged tree."""
    if resolved(root):  # cached on the containers by the merge: usually no walk at all
        return
    entries = collect(root)
    if not entries:
        return
    cycles = _cycles(entries, ctx)
    paths_by_id = {id(node): path for path, node in entries}
    messages: list[str] = []
    for position, (path, node) in enumerate(entries):
        value = node.value
        if type(value) is str:
            match = DYNAML.match(value)
            assert match is not None
            try:
                parse(match.group(1))
                reason = "unparseable expression"
            except DynamlSyntaxError as err:
                reason = f"unparseable expression: {err.render()}"
        elif position in cycles:
            reason = "reference cycle " + " -> ".join(cycles[position])
        elif node.issue:
            reason = node.issue
        else:
            waits = [paths_by_id.get(id(t), "") for t in ctx.waits.get(id(node), ())]
            waits = [w for w in waits if w]
            reason = "waits for " + ", ".join(waits) if waits else "depends on unresolved nodes"
        messages.append(describe(path, node, reason))
    raise UnresolvedError(messages, source)
