"""The merge itself: spiff's flow (fixpoint passes over one document) and cascade (the stubs).

One pass walks the document once: it parses ``(( ))`` strings, evaluates expressions whose inputs
are ready, splices ``<<`` merges, and lets a stub's value at the same path override a template
value (maps and lists are never overridden whole, only their leaves: the template's structure
wins). Passes repeat until one changes nothing; whatever expression is left then is unresolved.
Nodes are immutable and an unchanged subtree comes back as the same object, so "nothing changed"
is an identity check, not a tree comparison.

A container that a pass left unchanged and that holds no expression is *settled*: what a pass does
to it depends only on its value, its stub path and the stubs, none of which change, so later passes
skip it (the stub path is remembered because the same node object can be shared at two places after
a reference copied it). This keeps a merge close to one walk of the tree per reference level.
The facts are kept per merge: a stub's nodes reach the template (through overrides and ``<<``
merges) and are flowed again there against other stubs, as spiff does.

Flags follow spiff's node annotations (yaml/node.go): a node that came from a merge, a
``merge replace`` or a redirecting merge counts as *merged* and is never looked up in the stubs
again; a replaced one is not even evaluated again (its map or list is final).
"""

from __future__ import annotations

from boshpipe.spiff.binding import Context, Env
from boshpipe.spiff.errors import DynamlSyntaxError, SpiffError
from boshpipe.spiff.nodes import PENDING, Expr, Merge, Root, resolved
from boshpipe.spiff.parser import parse
from boshpipe.spiff.tree import DYNAML, Node, Path, list_step

TYPE_CHECKING = False  # see boshpipe.spiff.tree
if TYPE_CHECKING:
    from typing import Any

#: a merge needs one pass per link of its longest chain of references; no real one comes close.
MAX_PASSES = 1000


def flow_document(
    root: Node, stubs: list[Node], *, allow_exec: bool = False, source: str | None = None
) -> tuple[Node, Context]:
    """Run passes over ``root`` with ``stubs`` until nothing changes; returns the tree and context.

    The caller checks the result for unresolved nodes (see :mod:`unresolved`). ``source`` names
    the document (a stub) in the errors of a merge that never settles.
    """
    where = f"{source}: " if source else ""
    ctx = Context(stubs, allow_exec=allow_exec)
    env = Env(ctx)
    result = root
    for _ in range(MAX_PASSES):
        ctx.waits = {}
        try:
            following = flow(result, env, True)
        except RecursionError:
            raise SpiffError(where + _too_deep(root, result)) from None
        if following is result:
            return result, ctx
        result = following
    raise SpiffError(f"{where}merge did not settle after {MAX_PASSES} passes")


def _too_deep(root: Node, result: Node) -> str:
    """Why a pass ran out of stack: deep input, or a merge that nests deeper on every pass.

    The second happens when a stub's ``(( merge foo ))`` result (a node redirected to ``foo``)
    overrides a node below ``foo``: each pass finds the same stub value one level further down
    and nests it again. spiff never finishes such a merge; here it is an error.
    """
    if _depth(result) > _depth(root) + 10:
        return (
            "merge does not settle: a value merged by a redirecting merge (merge <path>) lands below "
            "that path and nests one level deeper on every pass (spiff never finishes this merge)"
        )
    return "input nested too deeply to merge"


def _depth(root: Node) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        value = node.value
        if type(value) is dict:
            stack.extend((child, depth + 1) for child in value.values())
        elif type(value) is list:
            stack.extend((child, depth + 1) for child in value)
    return deepest


def flow(node: Node, env: Env, override: bool) -> Node:
    """One pass over one node; ``override`` says whether a stub value may replace it."""
    if node.replace:
        # a replaced node (``merge replace``) counts as merged in spiff: neither evaluated nor
        # looked up in the stubs again, so ``<<: (( merge replace ))`` freezes its map or list
        return node
    replace = False
    redirect = node.redirect
    if redirect is not None:
        env = env.redirected(redirect)
    value = node.value
    kind = type(value)
    if kind is dict or kind is list:
        cache = node.cache
        settled_key = env.ctx.settled_key
        if cache is not None and cache.get(settled_key) == env.stub_path:
            return node
        flowed = flow_map(node, env) if kind is dict else flow_list(node, env)
        if flowed is node and resolved(node):
            # nothing left to evaluate and a pass changed nothing: the next pass would not
            # either, as long as the node stands at the same stub path (see module doc)
            cache = node.cache
            if cache is None:
                cache = node.cache = {}
            cache[settled_key] = env.stub_path
        return flowed
    # spiff's Merged(): a node that a merge produced or redirected is not looked up in the stubs
    merged = node.merged or redirect is not None
    key_name = node.key_name
    if kind is str:
        if value[:2] == "((":
            parsed = flow_string(node, env)
            if parsed is not node:
                return parsed
    elif isinstance(value, Expr):
        ctx = env.ctx
        waits: list[Node] = []
        ctx.waiting = waits
        ctx.or_pending = False
        result, info = value.evaluate(env)
        ctx.waiting = None
        if result is PENDING:
            if waits:
                ctx.waits[id(node)] = waits
            if not (ctx.or_pending and override and not merged):
                return node
            # spiff's ``a || b`` fails (rather than waits) while ``a`` is not resolved yet, and
            # a failed expression gives way to the stub value at its path at once: so
            # ``a: (( a || 4 ))`` takes a stub's ``a`` (without a stub it stays a cycle)
            found = env.find_in_stubs(env.stub_path)
            return node if found is None else found
        if result is None:
            if node.issue != info.issue:
                node = node.derive(value, issue=info.issue)
            if not override:
                return node
            # a failed expression gives way to a stub value at its own path: the redirect of a
            # failed ``merge foo`` (no stub has ``foo``) does not apply (spiff does the same)
            replace = replace or info.replace
        else:
            if type(result.value) is str and result.value[:2] == "((":
                result = flow_string(result, env)
            is_expr = isinstance(result.value, Expr)
            result = Node(
                result.value,
                result.source,
                replace=result.replace,
                redirect=result.redirect,
                preferred=result.preferred or node.preferred or info.preferred,
                merged=result.merged,
                key_name=info.key_name or result.key_name,
            )
            if info.redirect:
                redirect = info.redirect
            if redirect:
                result.redirect = redirect
            if replace or info.replace:
                result.replace = True
            elif merged or info.merged:
                result.merged = True
            if is_expr or result.merged or result.replace or result.redirect or not override or result.preferred:
                return result
            replace = result.replace
            node = result
            if redirect:
                env = env.redirected(redirect)
    if not merged and override:
        found = env.find_in_stubs(env.stub_path)
        if found is not None:
            if key_name or replace or redirect:
                candidate = found.derive(
                    found.value,
                    key_name=key_name or found.key_name,
                    replace=replace or found.replace,
                    redirect=redirect if (replace or redirect) else found.redirect,
                )
                if candidate.value is node.value and candidate.same_flags(node):
                    return node
                return candidate
            return found
    return node


def flow_string(node: Node, env: Env) -> Node:
    """Parse a ``(( ... ))`` string into an expression node; unparseable strings stay strings."""
    text = node.value
    match = DYNAML.match(text)
    if match is None:
        return node
    body = match.group(1)
    ctx = env.ctx
    if body in ctx.bad_strings:
        return node
    try:
        expr = parse(body, env.path, env.stub_path)
    except DynamlSyntaxError:
        ctx.bad_strings.add(body)
        return node
    return node.derive(expr)


def is_optional_merge(node: Node) -> bool:
    """``<<: (( merge ))`` that found nothing is dropped silently (spiff's compatibility rule)."""
    value = node.value
    return isinstance(value, Root) and isinstance(value.expr, Merge) and not value.expr.required


def flow_map(node: Node, env: Env) -> Node:
    """One pass over a map: splice a ``<<`` merge, flow the other entries.

    Entries that a pass left unchanged and that hold no expression are *settled*: flowing them
    again at the same stub path would give the same node. The map node remembers (with the stub
    path) which of its sorted keys are still pending, and the next pass at that stub path flows
    only those (:func:`_flow_pending`). A reference chain makes a merge take several passes, and
    without this every pass would revisit every entry next to a pending expression.
    """
    stub_path = env.stub_path
    cache = node.cache
    map_key = env.ctx.map_key
    if cache is not None:
        known = cache.get(map_key)
        if known is not None and known[0] == stub_path:
            return _flow_pending(node, env, known)
    mapping: dict[str, Node] = node.value
    env = env.with_scope(mapping)
    redirect = node.redirect
    replace = node.replace
    result: dict[str, Node] = {}
    processed = True
    changed = False
    spliced = False  # a ``<<`` entry may redirect the entries after it: then remember nothing
    keys = sorted(mapping)
    pending: list[str] = []
    for key in keys:
        child = mapping[key]
        if key == "<<":
            spliced = True
            initial = type(child.value) is str
            base = flow(child, env, False)
            if isinstance(base.value, Expr):
                if not initial and is_optional_merge(base):
                    changed = True
                    continue
                if base is not child:
                    changed = True
                child = base
                processed = False
            else:
                changed = True
                if base.redirect is not None:
                    redirect = base.redirect
                    env = env.redirected(redirect)
                if type(base.value) is dict:
                    result.update(base.value)
                replace = base.replace
                if replace:
                    break
                continue
        elif processed:
            flowed = _flow_entry(child, key, env)
            if flowed is not child:
                changed = True
                child = flowed
                pending.append(key)
            elif not _settled(child):
                pending.append(key)
        result[key] = child
    if not changed and replace == node.replace and redirect == node.redirect:
        following = node
    else:
        following = _derive_map(node, result, replace, redirect)
    if not spliced:
        cache = following.cache
        if cache is None:
            cache = following.cache = {}
        cache[map_key] = [stub_path, pending, keys]
    return following


def _flow_pending(node: Node, env: Env, known: list[Any]) -> Node:
    """:func:`flow_map` of a map without ``<<`` whose settled entries are known: flow the rest.

    ``known`` is ``[stub path, pending keys, all keys]`` as the last pass of this merge left them.
    """
    mapping: dict[str, Node] = node.value
    pending: list[str] = known[1]
    if not pending:
        return node
    env = env.with_scope(mapping)
    changes: dict[str, Node] = {}
    still: list[str] = []
    for key in pending:
        child = mapping[key]
        flowed = _flow_entry(child, key, env)
        if flowed is not child:
            changes[key] = flowed
            still.append(key)
        elif not _settled(child):
            still.append(key)
    if not changes:
        known[1] = still
        return node
    keys: list[str] = known[2]
    result = {key: changes[key] if key in changes else mapping[key] for key in keys}
    following = _derive_map(node, result, node.replace, node.redirect)
    following.cache = {env.ctx.map_key: [known[0], still, keys]}
    return following


def _flow_entry(child: Node, key: str, env: Env) -> Node:
    """:func:`flow` of one map entry (with ``env`` the map's), plain values inlined.

    Most entries are plain values without merge flags, for which flow() only looks for a stub
    value at their path; doing that here saves an Env and a call per entry.
    """
    inner = child.value
    kind = type(inner)
    if (
        ((kind is str and inner[:2] != "((") or kind is int or kind is bool or inner is None)
        and not child.merged
        and not child.replace
        and child.redirect is None
        and not child.key_name
    ):
        found = env.ctx.find_in_stubs((*env.stub_path, key))
        return child if found is None else found
    return flow(child, env.with_path(key), True)


def _settled(child: Node) -> bool:
    """Whether an entry that a pass left unchanged will stay so (no expression in it)."""
    inner = child.value
    kind = type(inner)
    if kind is dict or kind is list:
        return resolved(child)
    return not ((kind is str and inner[:2] == "((") or isinstance(inner, Expr))


def _derive_map(node: Node, value: dict[str, Node], replace: bool, redirect: Path | None) -> Node:
    return Node(
        value,
        node.source,
        replace=replace,
        redirect=redirect,
        preferred=node.preferred,
        merged=node.merged,
        key_name=node.key_name,
        issue=node.issue,
    )


def step_name(index: int, entry: Node, key_name: str) -> str:
    """The path step of a list entry: ``name:x`` (or ``key:x``) when it has one, else ``[i]``.

    An entry whose own ``<<`` is not resolved yet has no name (spiff does not look into a map
    with a pending merge): until its merge is done it is ``[i]``, and a ``merge`` parsed inside
    it meanwhile looks for ``[i]`` in the stubs.
    """
    key = key_name or "name"
    value = entry.value
    if type(value) is dict and "<<" not in value:
        named = value.get(key)
        if named is not None and type(named.value) is str:
            return f"{key}:{named.value}"
    return f"[{index}]"


def flow_list(node: Node, env: Env) -> Node:
    items: list[Node] = node.value
    key_name = node.key_name
    replaced = node.replace
    redirect = node.redirect
    process = True
    changed = False
    spliced: list[Node] = []
    for entry in items:
        inner = entry.value
        if type(inner) is dict and len(inner) == 1 and "<<" in inner:
            inline = inner["<<"]
            initial = type(inline.value) is str
            result = flow(inline, env, False)
            if result.key_name:
                key_name = result.key_name
            if isinstance(result.value, Expr):
                if not initial and is_optional_merge(inline):
                    changed = True
                    continue
                if result is not inline:
                    entry = entry.derive({"<<": result})
                    changed = True
                process = False
            else:
                changed = True
                if type(result.value) is list:
                    added = new_entries(result.value, items, key_name)
                    replaced = result.replace
                    redirect = result.redirect
                    if replaced:
                        spliced = added
                        process = False
                        break
                    spliced.extend(added)
                continue
        tagged, tag = process_key_tag(entry)
        if tagged is not entry:
            changed = True
            entry = tagged
        if tag:
            key_name = tag
        spliced.append(entry)
    if process:
        if redirect:
            env = env.redirected(redirect)
        flowed_items: list[Node] = []
        for index, entry in enumerate(spliced):
            flowed = flow(entry, env.with_path(step_name(index, entry, key_name)), False)
            if flowed is not entry:
                changed = True
            flowed_items.append(flowed)
        spliced = flowed_items
    if not changed and key_name == node.key_name and replaced == node.replace and redirect == node.redirect:
        return node
    return node.derive(spliced, key_name=key_name, replace=replaced, redirect=redirect)


def new_entries(merged: list[Node], template: list[Node], key_name: str) -> list[Node]:
    """Entries of a spliced-in list whose key is not already an entry of the template list."""
    key = key_name or "name"
    old = Node(template, "template", key_name=key)
    added = []
    for entry in merged:
        value = entry.value
        if type(value) is dict:
            named = value.get(key)
            if (
                named is not None
                and type(named.value) is str
                and list_step(old, named.value, raw=True) is not None
            ):
                continue
        added.append(entry)
    return added


def process_key_tag(entry: Node) -> tuple[Node, str]:
    """``key:field: value`` marks ``field`` as the list's key; the tag is removed from the key.

    A bare ``key:`` is a tag too (spiff: the text before the first colon is ``key``): it names no
    field, so the list keeps its key, but the entry's key is renamed to the empty string.
    """
    value = entry.value
    if type(value) is not dict:
        return entry, ""
    tag = None
    for key in value:
        if key[:4] == "key:":
            tag = key[4:]
    if tag is None:
        return entry, ""
    cleaned = {(key[4:] if key[:4] == "key:" else key): child for key, child in value.items()}
    return entry.derive(cleaned), tag
