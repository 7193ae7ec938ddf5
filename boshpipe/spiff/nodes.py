"""Expression nodes of dynaml and how each one evaluates.

Evaluation has three outcomes, as in spiff: a value (a :class:`Node`), :data:`PENDING` when
something it needs is not resolved yet (the merge loop retries it on the next pass), or a failure
(``None`` plus an issue text) which ``||`` turns into its right-hand side and which is reported if
nothing catches it. Keeping "not yet" apart from "never" is what makes ``(( a || 1 ))`` wait for
``a`` instead of taking the default too early.
"""

from __future__ import annotations

from boshpipe.spiff import ipaddr
from boshpipe.spiff.tree import DYNAML, LOCALLY_RESOLVED, RESOLVED, Node, Path, display_path, list_step

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from boshpipe.spiff.binding import Env

#: "not resolvable yet": the expression stays in the tree and is evaluated again next pass.
PENDING = Node(None, "dynaml")


class Info:
    """What an evaluation says besides its value: the issue and flags for the merge."""

    __slots__ = ("flagged", "issue", "key_name", "merged", "preferred", "redirect", "replace")

    def __init__(self, issue: str | None = None) -> None:
        self.issue = issue
        self.redirect: Path | None = None
        self.replace = False
        self.merged = False
        self.preferred = False
        self.key_name = ""
        #: set by whoever sets one of the flags above (merge, prefer, join): most evaluations
        #: carry nothing for the merge, and operators only join infos that do
        self.flagged = False

    def join(self, other: Info) -> Info:
        """spiff's ``EvaluationInfo.Join``: what an expression passes on from its operands.

        So ``(( "x" merge ))`` or ``(( merge + 1 ))`` is a merged value (a stub does not replace
        it afterwards), as a plain ``(( merge ))`` is. ``replace`` is the later operand's alone.
        """
        joined = Info(other.issue or self.issue)
        joined.redirect = other.redirect if other.redirect is not None else self.redirect
        joined.replace = other.replace
        joined.merged = self.merged or other.merged
        joined.preferred = self.preferred or other.preferred
        joined.key_name = other.key_name or self.key_name
        joined.flagged = True
        return joined


Result = tuple[Node | None, Info]


def fail(issue: str) -> Result:
    return None, Info(issue)


def pending() -> Result:
    return PENDING, Info()


def value_node(value: Any) -> Result:
    return Node(value, "dynaml"), Info()


def is_text(value: Any) -> bool:
    """A value spiff turns into text (concatenation, join): string, integer or boolean.

    Floats are not among them: spiff's Go code formats only these three, so ``"a" 1.5`` and
    ``join(",", [1.5])`` are errors there, and here too.
    """
    return type(value) in (str, int, bool)


INT64_MIN = -(1 << 63)
_UINT64 = 1 << 64


def int64(value: int) -> int:
    """``value`` wrapped to a signed 64-bit integer, as Go's int64 arithmetic wraps."""
    if INT64_MIN <= value < -INT64_MIN:
        return value
    value %= _UINT64
    return value - _UINT64 if value >= -INT64_MIN else value


def text_of(value: Any) -> str:
    """A scalar as spiff's Go ``%v`` prints it (``true``, not ``True``)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def locally_resolved(node: Node) -> bool:
    """False while the node is an expression or a container with a pending ``<<`` merge."""
    value = node.value
    if isinstance(value, Expr):
        return False
    if type(value) is dict:
        return "<<" not in value
    if type(value) is list:
        cache = node.cache
        if cache is None:
            cache = node.cache = {}
        known = cache.get(LOCALLY_RESOLVED)
        if known is None:
            known = True
            for entry in value:
                inner = entry.value
                if type(inner) is dict and len(inner) == 1 and "<<" in inner:
                    known = False
                    break
            cache[LOCALLY_RESOLVED] = known
        return bool(known)
    return True


def resolved(node: Node) -> bool:
    """True when no expression (and no unparsed ``(( ))`` string) is left anywhere below.

    The answer is cached on container nodes (their values never change) and built from the
    children's cached answers: a pass replaces a container whose child changed by a new node that
    shares the other children, so re-checking it costs its own entries, not its whole subtree.
    """
    value = node.value
    kind = type(value)
    if kind is dict:
        children = value.values()
    elif kind is list:
        children = value
    else:
        return not (isinstance(value, Expr) or (kind is str and value[:2] == "((" and DYNAML.match(value)))
    cache = node.cache
    if cache is None:
        cache = node.cache = {}
    known = cache.get(RESOLVED)
    if known is None:
        known = True
        for child in children:
            inner = child.value
            kind = type(inner)
            if kind is dict or kind is list:
                if not resolved(child):  # recursion as deep as the tree, like the merge's own
                    known = False
                    break
            elif isinstance(inner, Expr) or (kind is str and inner[:2] == "((" and DYNAML.match(inner)):
                known = False
                break
        cache[RESOLVED] = known
    return bool(known)


def evaluate_all(exprs: list[Expr], env: Env) -> tuple[list[Node] | None, Info | None, Result | None]:
    """Evaluate operands left to right: (values, their joined info or None when none carries a
    flag, None) when all have a value, else (None, an info, the failure or pending result)."""
    values: list[Node] = []
    waiting = False
    joined: Info | None = None
    for expr in exprs:
        node, info = expr.evaluate(env)
        if node is None:
            return None, info, (None, info)
        if node is PENDING:
            waiting = True
        elif info.flagged:
            joined = info if joined is None else joined.join(info)
        values.append(node)
    if waiting:
        result = pending()
        return None, result[1], result
    return values, joined, None


class Expr:
    """Base of all expression nodes."""

    __slots__ = ()

    def evaluate(self, env: Env) -> Result:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple[Expr, ...]:
        return ()


class Literal(Expr):
    """An integer, string, boolean or nil written in the expression."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, env: Env) -> Result:
        return value_node(self.value)


class Reference(Expr):
    """``a.b.[0].c`` relative to the enclosing maps, or ``.a.b`` from the document root."""

    __slots__ = ("from_root", "path")

    def __init__(self, path: Path, from_root: bool = False) -> None:
        self.path = path
        self.from_root = from_root

    @property
    def text(self) -> str:
        return ("." if self.from_root else "") + ".".join(self.path)

    def evaluate(self, env: Env) -> Result:
        path = self.path
        if self.from_root:
            # spiff steps from the document itself, which must be resolved first: ``.a`` waits
            # while the root map still has its ``<<`` (so ``<<: (( .a ))`` at the root never
            # resolves)
            splice = env.scope[0].get("<<") if env.scope else None
            if splice is not None:
                return self._wait(env, splice)
            node = env.find_from_root(path[:1])
        else:
            node = env.find_reference(path[:1])
        for index in range(1, len(path) + 1):
            if node is None:
                return fail(f"'{self.text}' not found")
            if not locally_resolved(node):
                return self._wait(env, node)
            if index < len(path):
                step = path[index]
                value = node.value
                if type(value) is dict:
                    node = value.get(step)
                elif type(value) is list:
                    node = list_step(node, step)
                else:
                    node = None
        assert node is not None
        if not resolved(node):
            return self._wait(env, node)
        return Node(node.value, node.source, key_name=node.key_name), Info()

    @staticmethod
    def _wait(env: Env, node: Node) -> Result:
        if env.ctx.waiting is not None:
            env.ctx.waiting.append(node)
        return pending()


class Merge(Expr):
    """``merge`` with its modifiers: ``replace``, ``required``, ``on key`` and a redirect path."""

    __slots__ = ("key_name", "path", "redirect", "replace", "required")

    def __init__(self, path: Path, *, redirect: bool, replace: bool, required: bool, key_name: str) -> None:
        self.path = path
        self.redirect = redirect
        self.replace = replace
        self.required = required
        self.key_name = key_name

    def evaluate(self, env: Env) -> Result:
        info = Info()
        if self.redirect:
            info.redirect = self.path
            info.flagged = True
        if self.key_name:
            info.key_name = self.key_name
            info.flagged = True
        found = env.find_in_stubs(self.path)
        if found is None:
            info.issue = f"'{display_path(self.path)}' not found in any stub"
            return None, info
        info.replace = self.replace
        info.merged = info.flagged = True
        return found, info


class Auto(Expr):
    """``auto``: a resource pool's size as the sum of the instances of the jobs using it."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def evaluate(self, env: Env) -> Result:
        """Waits until the whole ``jobs`` list is resolved, as spiff does.

        Only then are jobs spliced in by ``<<: (( merge ))`` (and their ``instances`` from the
        stubs) part of the list; summing earlier counted the template's jobs alone. A job in the
        pool without an integer ``instances`` is an error, not zero.
        """
        path = self.path
        if len(path) != 3 or path[0] != "resource_pools" or path[2] != "size":
            return fail("auto only allowed for size entry in resource pools")
        # spiff's yaml.PathComponent: the part after the first ':' (``name:small``, ``id:small``)
        colon = path[1].find(":")
        pool = path[1][colon + 1 :] if colon > 0 else path[1]
        jobs, info = _JOBS.evaluate(env)
        if jobs is None:
            return fail("auto: no jobs found")
        if jobs is PENDING:
            return jobs, info
        if type(jobs.value) is not list:
            return fail("auto: jobs must be a list")
        size = 0
        for job in jobs.value:
            fields = job.value
            if type(fields) is not dict:
                continue
            pool_node = fields.get("resource_pool")
            if pool_node is None or pool_node.value != pool:
                continue
            instances = fields.get("instances")
            count = None if instances is None else instances.value
            if type(count) is not int:
                name = fields.get("name")
                job_name = text_of(name.value) if name is not None and is_text(name.value) else "?"
                return fail(f"auto: job '{job_name}' in resource pool '{pool}' has no integer instances")
            size = int64(size + count)
        return value_node(size)


#: ``.jobs``: what ``auto`` sums up
_JOBS = Reference(("jobs",), from_root=True)


class Or(Expr):
    """``a || b``: b when a fails; waits (does not fall back) while a is only pending.

    While ``a`` waits, spiff's ``||`` *fails* (``dynaml/or.go``), and a failed expression gives
    way to a stub value at its path; a plain pending expression never does. So the wait is
    recorded on the context (``or_pending``) for :func:`flow.flow` to tell the two apart.
    """

    __slots__ = ("left", "right")

    def __init__(self, left: Expr, right: Expr) -> None:
        self.left = left
        self.right = right

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def evaluate(self, env: Env) -> Result:
        node, info = self.left.evaluate(env)
        if node is not None:
            if node is PENDING:
                env.ctx.or_pending = True
            return node, info
        other, other_info = self.right.evaluate(env)
        if info.flagged:  # spiff joins both sides' info (the failed left side's redirect and
            return other, info.join(other_info)  # ``on`` key stay); a plain failure adds nothing
        return other, other_info


class Concat(Expr):
    """Juxtaposition ``a b``: strings and numbers join as text, lists append."""

    __slots__ = ("left", "right")

    def __init__(self, left: Expr, right: Expr) -> None:
        self.left = left
        self.right = right

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def evaluate(self, env: Env) -> Result:
        values, info, problem = evaluate_all([self.left, self.right], env)
        if values is None:
            assert problem is not None
            return problem
        left, right = values[0].value, values[1].value
        if type(left) is list:
            if type(right) is list:
                return Node(left + right, "dynaml"), info or Info()
            if right is None:
                return Node(left, "dynaml"), info or Info()
            return Node([*left, values[1]], "dynaml"), info or Info()
        if is_text(left) and is_text(right):
            return Node(text_of(left) + text_of(right), "dynaml"), info or Info()
        if type(left) is dict:
            return fail("first argument must be list or simple value")
        return fail(
            f"simple value can only be concatenated with simple values ({type_name(left)} and {type_name(right)})"
        )


def type_name(value: Any) -> str:
    if type(value) is dict:
        return "map"
    if type(value) is list:
        return "list"
    if value is None:
        return "nil"
    if type(value) is bool:
        return "boolean"
    if type(value) is int:
        return "integer"
    if type(value) is float:
        return "float"
    return "string" if type(value) is str else type(value).__name__


def _truncated_div(left: int, right: int) -> int:
    quotient = abs(left) // abs(right)
    return quotient if (left >= 0) == (right >= 0) else -quotient


class Arithmetic(Expr):
    """``+ - * / %`` on int64 integers; ``+``/``-`` also move an IP address by an integer.

    As in spiff (``dynaml/addition.go`` and its siblings): an operand that must be an integer (the
    right one of ``+``/``-``, both of ``* / %``) may be nil, which counts as 0, and is checked as
    soon as it is known, so ``"a" * x`` fails even while ``x`` waits. The left operand of ``+`` and
    ``-`` is an integer or an IPv4/IPv6 address; nil there is an error. Results wrap around like Go's
    int64. Where spiff goes wrong, this does not follow it: an address moved out of its IPv4 (or
    IPv6) range is an error (spiff prints an IPv6 address, or wraps), and subtraction borrows once
    (spiff borrows twice across an octet boundary). ``IP - IP`` is an error, as in spiff.
    """

    __slots__ = ("left", "op", "right")

    NAMES = {"+": "PLUS", "-": "MINUS", "*": "MULTIPLICATION", "/": "DIVISION", "%": "MODULO"}

    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        self.op = op
        self.left = left
        self.right = right

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def _not_integer(self, value: Any) -> Result:
        return fail(f"integer operand required for {self.NAMES[self.op]}, got {type_name(value)}")

    def evaluate(self, env: Env) -> Result:
        op = self.op
        additive = op in "+-"
        left_node, left_info = self.left.evaluate(env)
        if left_node is None:
            return None, left_info
        left = left_node.value
        if not additive and left_node is not PENDING and left is not None and type(left) is not int:
            return self._not_integer(left)
        right_node, right_info = self.right.evaluate(env)
        if right_node is None:
            return None, right_info
        right = right_node.value
        if right_node is not PENDING and right is not None and type(right) is not int:
            return self._not_integer(right)
        if left_node is PENDING or right_node is PENDING:
            return pending()
        result, info = self._compute(left, 0 if right is None else right)
        if result is None or not (left_info.flagged or right_info.flagged):
            return result, info
        return result, left_info.join(right_info)  # a merged operand makes a merged result

    def _compute(self, left: Any, right: int) -> Result:
        op = self.op
        if op in "+-":
            if type(left) is int:
                return value_node(int64(left + right if op == "+" else left - right))
            if type(left) is str:
                return _move_address(left, right if op == "+" else -right, f"{left} {op} {right}", self.NAMES[op])
            return fail(f"first argument of {self.NAMES[op]} must be IP address or integer, got {type_name(left)}")
        if left is None:
            left = 0
        if op == "*":
            return value_node(int64(left * right))
        if right == 0:
            return fail("division by zero")
        quotient = _truncated_div(left, right)
        return value_node(int64(quotient) if op == "/" else int64(left - right * quotient))


def _move_address(text: str, offset: int, shown: str, name: str) -> Result:
    """``text`` (an IP address, as Go's ``net.ParseIP`` reads it) moved by ``offset``."""
    address = ipaddr.parse_ip(text)
    if address is None:
        return fail(f"string argument for {name} must be an IP address")
    if ipaddr.is_v4(address):
        moved = (address & ipaddr.MASK) + offset
        if not 0 <= moved <= ipaddr.MASK:
            return fail(f"{shown} is outside the IPv4 address range")
        return value_node(ipaddr.format(moved))
    moved = address + offset
    if not 0 <= moved <= ipaddr.MASK6:
        return fail(f"{shown} is outside the IPv6 address range")
    return value_node(ipaddr.format_ip(moved))


class ListExpr(Expr):
    """``[a, b, ...]``: a list whose entries are evaluated."""

    __slots__ = ("items",)

    def __init__(self, items: list[Expr]) -> None:
        self.items = items

    def children(self) -> tuple[Expr, ...]:
        return tuple(self.items)

    def evaluate(self, env: Env) -> Result:
        values, info, problem = evaluate_all(self.items, env)
        if values is None:
            assert problem is not None
            return problem
        return Node([Node(v.value, "dynaml") for v in values], "dynaml"), info or Info()


class Call(Expr):
    """``name(args...)``: a builtin function (join, static_ips, min_ip, max_ip, exec).

    The parser looks the function up (``functions.FUNCTIONS``) and hands it in, so this module
    never imports the functions that are built on it; ``None`` is an unknown name, which fails
    when evaluated, as spiff does.
    """

    __slots__ = ("args", "function", "name")

    def __init__(self, name: str, args: list[Expr], function: Callable[[list[Node], Env], Result] | None) -> None:
        self.name = name
        self.args = args
        self.function = function

    def children(self) -> tuple[Expr, ...]:
        return tuple(self.args)

    def evaluate(self, env: Env) -> Result:
        # the arguments first, as spiff's call.go: an unknown name fails only once they are known
        values, info, problem = evaluate_all(self.args, env)
        if values is None:
            assert problem is not None
            return problem
        function = self.function
        if function is None:
            return fail(f"unknown function '{self.name}'")
        node, result_info = function(values, env)
        if node is None or node is PENDING or info is None:
            return node, result_info
        return node, result_info.join(info)  # call.go: the function's info joined with the arguments


class Mapping(Expr):
    """``map[list|x|->expr]`` / ``map[m|k,v|->expr]``: a list of the expression per entry.

    With two names the first is the index (list) or key (map, in sorted key order), the second
    the entry, as spiff's parser binds them.
    """

    __slots__ = ("body", "names", "source")

    def __init__(self, source: Expr, names: list[str], body: Expr) -> None:
        self.source = source
        self.names = names
        self.body = body

    def children(self) -> tuple[Expr, ...]:
        return (self.source, self.body)

    def evaluate(self, env: Env) -> Result:
        node, info = self.source.evaluate(env)
        if node is None or node is PENDING:
            return node, info
        value = node.value
        pairs: list[tuple[Node, Node]]
        if type(value) is list:
            pairs = [(Node(index, "dynaml"), item) for index, item in enumerate(value)]
        elif type(value) is dict:
            pairs = [(Node(key, "dynaml"), value[key]) for key in sorted(value)]
        else:
            return fail(f"map[] needs a list or map, got {type_name(value)}")
        results: list[Node] = []
        for first, item in pairs:
            names = {self.names[0]: item} if len(self.names) == 1 else {self.names[0]: first, self.names[1]: item}
            result, result_info = self.body.evaluate(env.with_locals(names))
            if result is None:
                return None, result_info
            if result is PENDING:
                # spiff (mapping.go) stops at the first entry that waits: later entries are not
                # looked at, so one that would fail does not make the whole mapping fail yet
                return result, result_info
            results.append(Node(result.value, "dynaml"))
        return value_node(results)


class Prefer(Expr):
    """``prefer expr``: the value wins over a stub's value at the same path."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)

    def evaluate(self, env: Env) -> Result:
        node, info = self.expr.evaluate(env)
        if node is not None and node is not PENDING:
            info.preferred = info.flagged = True
        return node, info


class Root(Expr):
    """The parsed contents of one ``(( ... ))``; keeps the source text for messages."""

    __slots__ = ("expr", "text")

    def __init__(self, expr: Expr, text: str) -> None:
        self.expr = expr
        self.text = text

    def children(self) -> tuple[Expr, ...]:
        return (self.expr,)

    def evaluate(self, env: Env) -> Result:
        return self.expr.evaluate(env)

    def __repr__(self) -> str:
        return f"(( {self.text.strip()} ))"
