"""YAML in and out the way the bosh CLI reads and writes it (``gopkg.in/yaml.v2`` v2.4).

Reading: libyaml (PyYAML's C parser when present) composes the nodes; the values are built here,
because yaml.v2 types plain scalars differently from PyYAML (``y``/``n`` are booleans, ``1e3`` and
``08`` floats, ``0o17``/``0b101``/``+12`` ints, ``1:30`` and timestamps stay strings, ``1e400`` is
a string), merges ``<<`` keys in document order, accepts ``!!str``/``!!int``/``!!float`` tags with
its own rules, and reads only the first document of a stream.

Writing: yaml.v2's encoder and emitter (a Go port of libyaml's), re-done for the data this package
handles: keys in yaml.v2's "natural" order, strings plain when they read back as strings (else
double-quoted), strings with a newline as literal blocks, libyaml's scalar analysis to pick
between plain, single- and double-quoted, the folding of long plain and quoted strings at 80
columns, Go's float formatting. The output is byte-for-byte the CLI's on the conformance corpus.
Scalar analysis is memoized per text: manifests repeat the same keys and values thousands of times.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from boshpipe.ops.errors import InputError
from boshpipe.ops.values import go_float

try:
    from yaml._yaml import CParser as _Parser

    LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeLoader as _Parser  # type: ignore[assignment]

    LIBYAML = False

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_BINARY = "tag:yaml.org,2002:binary"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_PLAIN = "!plain"  # marker for untagged plain scalars, typed by resolve_plain
_RESOLVABLE = {_STR, _BOOL, _INT, _FLOAT, _TIMESTAMP}

# ------------------------------------------------------------------------------------------------
# plain scalars (yaml.v2 resolve.go)

_WORDS: dict[str, tuple[str, Any]] = {}
for _w in ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"):
    _WORDS[_w] = (_BOOL, True)
for _w in ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"):
    _WORDS[_w] = (_BOOL, False)
for _w in ("", "~", "null", "Null", "NULL"):
    _WORDS[_w] = (_NULL, None)
for _w in (".nan", ".NaN", ".NAN"):
    _WORDS[_w] = (_FLOAT, math.nan)
for _w in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"):
    _WORDS[_w] = (_FLOAT, math.inf)
for _w in ("-.inf", "-.Inf", "-.INF"):
    _WORDS[_w] = (_FLOAT, -math.inf)
_WORDS["<<"] = (_MERGE, "<<")

_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.?[0-9]*)([eE][-+]?[0-9]+)?")
_TIMESTAMPS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?"),
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})()()()"),
)
_DIGITS = {
    16: frozenset("0123456789abcdefABCDEF"),
    10: frozenset("0123456789"),
    8: frozenset("01234567"),
    2: frozenset("01"),
}
_INT64_MIN, _INT64_MAX, _UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


def _is_timestamp(text: str) -> bool:
    """yaml.v2's parseTimestamp: one of its four layouts, with Go's range checks."""
    for pattern in _TIMESTAMPS:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        import calendar

        year, month, day = int(match[1]), int(match[2]), int(match[3])
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
            return False
        if match[4]:
            return int(match[4]) < 24 and int(match[5]) < 60 and int(match[6]) < 60
        return True
    return False


def _parse_int(text: str, unsigned: bool) -> int | None:
    """Go's ``strconv.ParseInt(s, 0, 64)`` (``ParseUint`` when ``unsigned``), or None."""
    body, negative = text, False
    if body[:1] in ("+", "-"):
        if unsigned:
            return None
        negative, body = body[0] == "-", body[1:]
    prefix = body[:2].lower()
    if prefix == "0x":
        base, digits = 16, body[2:]
    elif prefix == "0o":
        base, digits = 8, body[2:]
    elif prefix == "0b":
        base, digits = 2, body[2:]
    elif body[:1] == "0" and len(body) > 1:
        base, digits = 8, body[1:]
    else:
        base, digits = 10, body
    if not digits or not _DIGITS[base].issuperset(digits):
        return None
    value = -int(digits, base) if negative else int(digits, base)
    if unsigned:
        return value if value <= _UINT64_MAX else None
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _parse_float(text: str) -> float | None:
    """Go's ``strconv.ParseFloat`` for decimal text; out of range is an error (None)."""
    if _GO_FLOAT.fullmatch(text) is None:
        return None
    value = float(text)
    return None if math.isinf(value) else value


@functools.lru_cache(maxsize=65536)
def resolve(text: str) -> tuple[str, Any]:
    """yaml.v2's ``resolve("", text)``: the tag and value of an untagged plain scalar.

    Timestamps come back with the timestamp tag and their text as the value: yaml.v2 decodes them
    into ``interface{}`` as strings, but writes such strings quoted.
    """
    known = _WORDS.get(text)
    if known is not None:
        return known
    first = text[0]
    if first == ".":
        value = _parse_float(text)
        if value is not None:
            return _FLOAT, value
    elif first in "+-0123456789":
        if _is_timestamp(text):
            return _TIMESTAMP, text
        plain = text.replace("_", "")
        for unsigned in (False, True):
            number = _parse_int(plain, unsigned)
            if number is not None:
                return _INT, number
        if _YAML_FLOAT.fullmatch(plain):
            value = _parse_float(plain)
            if value is not None:
                return _FLOAT, value
    return _STR, text


def plain_value(text: str) -> Any:
    """The value yaml.v2 decodes from an untagged plain scalar into ``interface{}``."""
    return resolve(text)[1]


def _tagged_value(tag: str, text: str, line: int) -> Any:
    """A scalar with an explicit tag, as yaml.v2 decodes it (``!!str 1`` is ``"1"``...)."""
    if tag == _BINARY:
        import base64

        try:
            return base64.b64decode(text, validate=False).decode("utf-8", "replace")
        except ValueError:
            raise InputError("yaml: !!binary value contains invalid base64 data") from None
    if tag not in _RESOLVABLE:
        return text  # unknown and non-resolvable tags (!!null, !custom) leave the text
    if tag == _STR:
        return text
    rtag, value = resolve(text)
    if rtag == tag or (tag == _TIMESTAMP and rtag == _TIMESTAMP):
        return value
    if tag == _FLOAT and rtag == _INT:
        return float(value)
    raise InputError(f"yaml: line {line}: cannot decode {_short(rtag)} `{text}` as a {_short(tag)}")


def _short(tag: str) -> str:
    return "!!" + tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag


# ------------------------------------------------------------------------------------------------
# reading


class _Composer(_Parser):
    """libyaml's composer; plain scalars are marked for :func:`resolve`, others keep their tag."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


class _Builder:
    """Plain data from composed nodes, as yaml.v2 decodes into ``interface{}``.

    Each alias is decoded again (a copy, like yaml.v2); an alias inside its own anchor is refused.
    """

    def __init__(self) -> None:
        self.active: set[int] = set()

    def build(self, node: Node) -> Any:
        kind = type(node)
        if kind is ScalarNode:
            tag = node.tag
            if tag == _PLAIN:
                return resolve(node.value)[1]
            if tag == _STR:
                return node.value
            return _tagged_value(tag, node.value, node.start_mark.line + 1)
        key = id(node)
        if key in self.active:
            raise InputError(f"yaml: anchor value contains itself (line {node.start_mark.line + 1})")
        self.active.add(key)
        try:
            if kind is SequenceNode:
                return [self.build(child) for child in node.value]
            mapping: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if type(key_node) is ScalarNode and key_node.value == "<<" and key_node.tag in (_PLAIN, _MERGE):
                    self.merge(value_node, mapping)
                    continue
                name = self.build(key_node)
                if type(name) in (dict, list):
                    raise InputError(f"yaml: line {key_node.start_mark.line + 1}: invalid map key: {name!r}")
                mapping[name] = self.build(value_node)
            return mapping
        finally:
            self.active.discard(key)

    def merge(self, node: Node, into: dict[Any, Any]) -> None:
        """``<<: *map`` or ``<<: [*a, *b]`` (earlier maps win), setting keys in document order."""
        if type(node) is MappingNode:
            into.update(self.build(node))
            return
        if type(node) is SequenceNode and all(type(item) is MappingNode for item in node.value):
            for item in reversed(node.value):
                into.update(self.build(item))
            return
        raise InputError("yaml: map merge requires map or sequence of maps as the value")


def compose(text: str) -> Node | None:
    """The composed nodes of the first document of ``text`` (``None`` when there is none).

    Raises :class:`InputError` with yaml.v2's wording: ``yaml: line N: <problem>``.
    """
    parser = _Composer(text)
    try:
        if not parser.check_node():
            return None
        return parser.get_node()
    except yaml.MarkedYAMLError as err:
        raise InputError(yaml_error(err)) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def build(node: Node | None) -> Any:
    """Plain data from composed nodes, as yaml.v2 decodes them into ``interface{}``."""
    if node is None:
        return None
    try:
        return _Builder().build(node)
    except RecursionError:
        raise InputError("yaml: document nested too deeply") from None


def load(text: str) -> Any:
    """The first document of ``text`` as plain data (``None`` when empty).

    Built straight from libyaml's events, which is about twice as fast as composing nodes first
    (the node graph is only needed for messages; see :func:`compose`).
    """
    parser = _Parser(text)
    try:
        return _from_events(parser)
    except yaml.MarkedYAMLError as err:
        raise InputError(yaml_error(err)) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


_IN_PROGRESS = object()
_MERGE_KEY = object()
_NO_KEY = object()


def copy_data(value: Any) -> Any:
    """A deep copy of plain data (an alias is decoded afresh by yaml.v2: a copy, not a share)."""
    kind = type(value)
    if kind is dict:
        return {k: copy_data(v) for k, v in value.items()}
    if kind is list:
        return [copy_data(item) for item in value]
    return value


def _from_events(parser: Any) -> Any:
    get = parser.get_event
    get()  # stream start
    if type(get()) is yaml.StreamEndEvent:
        return None
    anchors: dict[str, Any] = {}
    saved: list[tuple[Any, bool, Any, Any]] = []  # enclosing (container, is map, pending key, anchor)
    container: Any = None  # the innermost open collection
    in_map = False
    key: Any = _NO_KEY  # the key read in ``container`` whose value comes next
    anchor: Any = None
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    seq_start, map_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
    seq_end, map_end = yaml.SequenceEndEvent, yaml.MappingEndEvent
    while True:
        event = get()
        kind = type(event)
        if kind is scalar_event:
            tag = event.tag
            if tag is None or tag == "!":
                if event.implicit[0]:
                    value = event.value
                    value = _MERGE_KEY if value == "<<" and in_map and key is _NO_KEY else resolve(value)[1]
                else:
                    value = event.value
            elif tag == _MERGE and event.value == "<<" and in_map and key is _NO_KEY:
                value = _MERGE_KEY
            else:
                value = _tagged_value(tag, event.value, event.start_mark.line + 1)
            if event.anchor is not None:
                anchors[event.anchor] = value
        elif kind is map_start or kind is seq_start:
            saved.append((container, in_map, key, anchor))
            anchor = event.anchor
            if anchor is not None:
                anchors[anchor] = _IN_PROGRESS
            in_map = kind is map_start
            container = {} if in_map else []
            key = _NO_KEY
            continue
        elif kind is map_end or kind is seq_end:
            value = container
            if anchor is not None:
                anchors[anchor] = value
            container, in_map, key, anchor = saved.pop()
        elif kind is alias_event:
            value = anchors.get(event.anchor, _NO_KEY)
            if value is _NO_KEY:
                raise InputError(f"yaml: unknown anchor '{event.anchor}' referenced")
            if value is _IN_PROGRESS:
                raise InputError(f"yaml: anchor '{event.anchor}' value contains itself")
            value = copy_data(value)
        else:  # document end: nothing else of the stream is read
            return container
        if not in_map:
            if container is None:
                container = value  # the document itself; returned at its end
                continue
            container.append(value)
        elif key is _NO_KEY:
            if type(value) in (dict, list):
                raise InputError(f"yaml: line {event.start_mark.line + 1}: invalid map key")
            key = value
        else:
            if key is _MERGE_KEY:
                _merge(container, value)
            else:
                container[key] = value
            key = _NO_KEY


def _merge(target: dict[Any, Any], value: Any) -> None:
    """``<<: *map`` or ``<<: [*a, *b]`` (earlier maps win), setting keys in document order."""
    if type(value) is dict:
        target.update(value)
    elif type(value) is list and all(type(item) is dict for item in value):
        for item in reversed(value):
            target.update(item)
    else:
        raise InputError("yaml: map merge requires map or sequence of maps as the value")


def node_tag(node: Node) -> str:
    """The short tag yaml.v2 reports for a node in "cannot unmarshal" messages."""
    if type(node) is ScalarNode:
        tag = resolve(node.value)[0] if node.tag == _PLAIN else node.tag
    else:
        tag = _SEQ if type(node) is SequenceNode else _MAP
    return _short(tag)


def unmarshal_error(node: Node, target: str) -> str:
    """One of yaml.v2's "unmarshal errors": ``line N: cannot unmarshal !!str `text` into T``."""
    tag = node_tag(node)
    shown = ""
    if type(node) is ScalarNode:
        value = node.value
        shown = f" `{value[:7]}...`" if len(value) > 10 else f" `{value}`"
    return f"line {node.start_mark.line + 1}: cannot unmarshal {tag}{shown} into {target}"


def unmarshal_errors(errors: list[str]) -> str:
    """yaml.v2's ``yaml: unmarshal errors:`` report, on one line."""
    return "yaml: unmarshal errors: " + "; ".join(errors)


def is_null(node: Node) -> bool:
    """A scalar yaml.v2 decodes as null (``~``, ``null``, empty) into a Go value."""
    return type(node) is ScalarNode and node.tag == _PLAIN and resolve(node.value)[0] == _NULL


def mapping_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """The key/value node pairs of a mapping with ``<<`` merges spelled out, as a struct decode sees them."""
    pairs: list[tuple[Node, Node]] = []
    for key_node, value_node in node.value:
        if type(key_node) is ScalarNode and key_node.value == "<<" and key_node.tag in (_PLAIN, _MERGE):
            merged = value_node.value if type(value_node) is SequenceNode else [value_node]
            for item in reversed(merged):
                if type(item) is not MappingNode:
                    raise InputError("yaml: map merge requires map or sequence of maps as the value")
                pairs.extend(mapping_pairs(item))
            continue
        pairs.append((key_node, value_node))
    return pairs


def yaml_error(err: yaml.MarkedYAMLError) -> str:
    """yaml.v2's ``yaml: line N: problem`` for a libyaml parse error."""
    mark = err.problem_mark or err.context_mark
    line = 0
    if err.problem_mark is not None and err.problem_mark.line:
        line = err.problem_mark.line + (1 if isinstance(err, yaml.scanner.ScannerError) else 0)
    elif err.context_mark is not None and err.context_mark.line:
        line = err.context_mark.line
    if line == 0 and mark is not None and isinstance(err, yaml.scanner.ScannerError):
        line = mark.line + 1
    where = f"line {line}: " if line else ""
    return f"yaml: {where}{err.problem or err.context or 'unknown problem parsing YAML content'}"


# ------------------------------------------------------------------------------------------------
# key order (yaml.v2 sorter.go)

_SIMPLE_KEY = re.compile(r"[a-z\x20-\x2f\x3a-\x40\x5b-\x60]*")


def _is_letter(char: str) -> bool:
    return char.isalpha()


def _compare_strings(a: str, b: str) -> int:
    """yaml.v2's "natural" string order: digit runs as numbers, non-letters before letters."""
    for i in range(min(len(a), len(b))):
        ca, cb = a[i], b[i]
        if ca == cb:
            continue
        la, lb = _is_letter(ca), _is_letter(cb)
        if la and lb:
            return -1 if ca < cb else 1
        if la or lb:
            return 1 if la else -1
        an = bn = 0
        if ca == "0" or cb == "0":
            j = i - 1
            while j >= 0 and a[j].isdecimal():
                if a[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        # Go's unicode.IsDigit (category Nd) and ``rune - '0'``, even for digits beyond ASCII
        ai = i
        while ai < len(a) and a[ai].isdecimal():
            an = an * 10 + ord(a[ai]) - 48
            ai += 1
        bi = i
        while bi < len(b) and b[bi].isdecimal():
            bn = bn * 10 + ord(b[bi]) - 48
            bi += 1
        if an != bn:
            return -1 if an < bn else 1
        if ai != bi:
            return -1 if ai < bi else 1
        return -1 if ca < cb else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def _kind_rank(key: Any) -> int:
    """reflect.Kind order of yaml.v2's key kinds: numbers/bools first, then nil, then strings."""
    if key is None:
        return 20  # reflect.Interface (a nil interface{})
    return 24 if type(key) is str else 2  # reflect.String; numbers compare as floats first


def _compare_keys(a: Any, b: Any) -> int:
    na, nb = type(a) in (int, float, bool), type(b) in (int, float, bool)
    if na and nb:
        fa, fb = float(a), float(b)
        if fa != fb:
            return -1 if fa < fb else 1
        ra, rb = _numeric_kind(a), _numeric_kind(b)
        return (ra > rb) - (ra < rb)
    if type(a) is str and type(b) is str:
        return _compare_strings(a, b)
    ra, rb = (2 if na else _kind_rank(a)), (2 if nb else _kind_rank(b))
    return (ra > rb) - (ra < rb)


def _numeric_kind(value: Any) -> int:
    return 1 if type(value) is bool else 14 if type(value) is float else 2


_ORDER_MEMO: dict[tuple[Any, ...], list[Any]] = {}


def sorted_keys(mapping: dict[Any, Any]) -> list[Any]:
    """The keys of ``mapping`` in the order yaml.v2 writes them (memoized per key tuple)."""
    keys = tuple(mapping)
    known = _ORDER_MEMO.get(keys)
    if known is not None:
        return known
    if all(type(k) is str and _SIMPLE_KEY.fullmatch(k) for k in keys):
        order = sorted(keys)  # no digits, capitals or letters beyond ASCII: code point order agrees
    else:
        order = sorted(keys, key=functools.cmp_to_key(_compare_keys))
    if len(_ORDER_MEMO) > 50_000:
        _ORDER_MEMO.clear()
    _ORDER_MEMO[keys] = order
    return order


# ------------------------------------------------------------------------------------------------
# writing (yaml.v2 encode.go and emitterc.go)

_WIDTH = 80
_BREAKS = frozenset("\n\r\x85\u2028\u2029")
_BLANK_OR_BREAK = frozenset(" \t\n\r\x85\u2028\u2029")
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_ESCAPES = {
    "\0": "0",
    "\a": "a",
    "\b": "b",
    "\t": "t",
    "\n": "n",
    "\v": "v",
    "\f": "f",
    "\r": "r",
    "\x1b": "e",
    '"': '"',
    "\\": "\\",
    "\x85": "N",
    "\xa0": "_",
    "\u2028": "L",
    "\u2029": "P",
}
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")

PLAIN, SINGLE, DOUBLE, LITERAL = 0, 1, 2, 3

#: texts whose analysis is trivially "anything goes": printable ASCII starting with a character
#: that is no indicator (``-``, ``?`` and ``:`` excluded too: they are when a space follows)
_QUIET = re.compile(r"[A-Za-z0-9_./$(=+^~<;\\][\x20-\x7e]*")


def _printable(char: str) -> bool:
    code = ord(char)
    return (
        code == 0x0A or 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xD7FF or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


@functools.lru_cache(maxsize=65536)
def _analyze(text: str) -> tuple[bool, bool, bool, bool]:
    """libyaml's scalar analysis: (multiline, block plain allowed, single quotes allowed, block allowed)."""
    if not text:
        return False, True, True, False
    if _QUIET.fullmatch(text) and ": " not in text and " #" not in text and text[-1] not in " :":
        return False, True, True, True  # printable ASCII, no indicator where it would matter
    block_indicators = text.startswith(("---", "...")) and len(text) >= 3
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = previous_space = previous_break = False
    special = line_breaks = False
    preceded_by_ws = True
    last = len(text) - 1
    for i, char in enumerate(text):
        followed_by_ws = i == last or text[i + 1] in " \t"
        if i == 0:
            if char in _FIRST_INDICATORS or ((char in "?:" or char == "-") and followed_by_ws):
                block_indicators = True
        elif (char == ":" and followed_by_ws) or (char == "#" and preceded_by_ws):
            block_indicators = True
        if not _printable(char):
            special = True
        if char == " ":
            if i == 0:
                leading_space = True
            if i == last:
                trailing_space = True
            if previous_break:
                break_space = True
            previous_space, previous_break = True, False
        elif char in _BREAKS:
            line_breaks = True
            if i == 0:
                leading_break = True
            if i == last:
                trailing_break = True
            if previous_space:
                space_break = True
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_by_ws = char in _BLANK_OR_BREAK
    block_plain = single = block = True
    if leading_space or leading_break or trailing_space or trailing_break:
        block_plain = False
    if trailing_space:
        block = False
    if break_space:
        block_plain = single = False
    if space_break or special:
        block_plain = single = block = False
    if line_breaks or block_indicators:
        block_plain = False
    return line_breaks, block_plain, single, block


@functools.lru_cache(maxsize=65536)
def string_style(text: str, simple_key: bool) -> int:
    """The style yaml.v2 ends up writing ``text`` in (its encoder's request, then the emitter's veto)."""
    multiline, block_plain, single, block = _analyze(text)
    if "\n" in text:
        style = LITERAL
    elif text and resolve(text)[0] == _STR and not _BASE60.fullmatch(text):
        style = PLAIN
    else:
        style = DOUBLE
    if simple_key and multiline:
        style = DOUBLE
    if style == PLAIN and (not block_plain or (not text and simple_key)):
        style = SINGLE
    if style == SINGLE and not single:
        style = DOUBLE
    if style == LITERAL and (not block or simple_key):
        style = DOUBLE
    return style


def scalar_text(value: Any) -> str | None:
    """The plain text of a non-string scalar (``None`` for strings and collections)."""
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return go_float(value)
    if value is None:
        return "null"
    return None


_PLAIN_KEYS: dict[str, str] = {}  # key text -> "key:" for keys written plain as simple keys
_VALUE_STYLES: dict[str, int] = {}  # value text -> style (string_style's answer, without its call)


def _plain_key(key: str) -> bool:
    """Whether ``key`` is written as a plain simple key; remembers its ``key:`` text if so."""
    if not key or len(key) > 128 or _analyze(key)[0] or string_style(key, True) != PLAIN:
        return False
    if not key.isascii() and len(key.encode("utf-8")) > 128:
        return False
    if len(_PLAIN_KEYS) > 100_000:
        _PLAIN_KEYS.clear()
    _PLAIN_KEYS[key] = key + ":"
    return True


class _Emitter:
    """The parts of libyaml's emitter state a block-style document needs."""

    __slots__ = ("column", "indention", "out", "whitespace")

    def __init__(self) -> None:
        self.out: list[str] = []
        self.column = 0
        self.whitespace = True
        self.indention = True

    def write_indent(self, indent: int) -> None:
        indent = max(indent, 0)
        if not self.indention or self.column > indent or (self.column == indent and not self.whitespace):
            self.out.append("\n")
            self.column = 0
        if self.column < indent:
            self.out.append(" " * (indent - self.column))
            self.column = indent
        self.whitespace = True
        self.indention = True

    def indicator(self, text: str, need_whitespace: bool, is_whitespace: bool, is_indention: bool) -> None:
        if need_whitespace and not self.whitespace:
            self.out.append(" ")
            self.column += 1
        self.out.append(text)
        self.column += len(text)
        self.whitespace = is_whitespace
        self.indention = self.indention and is_indention

    # -- nodes

    def node(self, value: Any, indent: int, mapping_context: bool, simple_key: bool) -> None:
        kind = type(value)
        if kind is dict:
            if not value:
                self.indicator("{", True, True, False)
                self.indicator("}", False, False, False)
                return
            inner = 0 if indent < 0 else indent + 2
            out = self.out
            for key in sorted_keys(value):
                self.write_indent(inner)
                text = _PLAIN_KEYS.get(key) if type(key) is str else None
                if text is not None:
                    out.append(text)  # "key:" (a plain simple key, the usual case)
                    self.column += len(text)
                    self.whitespace = self.indention = False
                elif type(key) is str and _plain_key(key):
                    text = _PLAIN_KEYS[key]
                    out.append(text)
                    self.column += len(text)
                    self.whitespace = self.indention = False
                elif self.simple_key(key):
                    self.node(key, inner, True, True)
                    self.indicator(":", False, False, False)
                else:
                    self.indicator("?", True, False, True)
                    self.node(key, inner, True, False)
                    self.write_indent(inner)
                    self.indicator(":", True, False, True)
                self.node(value[key], inner, True, False)
        elif kind is list:
            if not value:
                self.indicator("[", True, True, False)
                self.indicator("]", False, False, False)
                return
            if indent < 0:
                inner = 0
            elif mapping_context and not self.indention:
                inner = indent
            else:
                inner = indent + 2
            for item in value:
                self.write_indent(inner)
                self.indicator("-", True, False, True)
                self.node(item, inner, False, False)
        elif kind is str:
            self.string(value, 2 if indent < 0 else indent + 2, simple_key)
        else:
            text = scalar_text(value)
            if text is None:
                raise TypeError(f"cannot write a {kind.__name__} as YAML")
            self.plain(text, 2 if indent < 0 else indent + 2, False)

    @staticmethod
    def simple_key(key: Any) -> bool:
        if type(key) is str:
            if _analyze(key)[0]:
                return False
            return len(key) <= 128 and (key.isascii() or len(key.encode("utf-8")) <= 128)
        return True

    # -- scalars

    def string(self, text: str, indent: int, simple_key: bool) -> None:
        style = _VALUE_STYLES.get(text) if not simple_key else None
        if style is None:
            style = string_style(text, simple_key)
            if not simple_key:
                if len(_VALUE_STYLES) > 100_000:
                    _VALUE_STYLES.clear()
                _VALUE_STYLES[text] = style
        if style == PLAIN:
            self.plain(text, indent, not simple_key)
        elif style == SINGLE:
            self.single(text, indent, not simple_key)
        elif style == DOUBLE:
            self.double(text, indent, not simple_key)
        else:
            self.literal(text, indent)

    def plain(self, text: str, indent: int, allow_breaks: bool) -> None:
        if not self.whitespace:
            self.out.append(" ")
            self.column += 1
        if not allow_breaks or " " not in text or self.column + len(text) <= _WIDTH + 1:
            self.out.append(text)
            self.column += len(text)
        else:
            self.folded(text, indent)
        self.whitespace = False
        self.indention = False

    def folded(self, text: str, indent: int) -> None:
        """A plain scalar's characters, breaking lines at spaces past 80 columns (libyaml's rule)."""
        spaces = False
        last = len(text) - 1
        start = 0  # pending run of characters not yet appended
        column = self.column
        out = self.out
        for i, char in enumerate(text):
            if char == " ":
                if not spaces and column > _WIDTH and (i == last or text[i + 1] != " "):
                    out.append(text[start:i])
                    self.column = column
                    self.write_indent(indent)
                    column = self.column
                    start = i + 1
                else:
                    column += 1
                spaces = True
            else:
                column += 1
                spaces = False
        out.append(text[start:])
        self.column = column
        self.indention = False

    def single(self, text: str, indent: int, allow_breaks: bool) -> None:
        self.indicator("'", True, False, False)
        if allow_breaks and " " in text and self.column + len(text) > _WIDTH:
            self.column_fold_single(text, indent)
        else:
            self.out.append(text.replace("'", "''"))
            self.column += len(text) + text.count("'")
        self.indicator("'", False, False, False)
        self.whitespace = False
        self.indention = False

    def column_fold_single(self, text: str, indent: int) -> None:
        spaces = False
        last = len(text) - 1
        for i, char in enumerate(text):
            if char == " ":
                if not spaces and self.column > _WIDTH and i != 0 and i != last and text[i + 1] != " ":
                    self.write_indent(indent)
                else:
                    self.out.append(" ")
                    self.column += 1
                spaces = True
            else:
                if char == "'":
                    self.out.append("'")
                    self.column += 1
                self.out.append(char)
                self.column += 1
                self.indention = False
                spaces = False

    def double(self, text: str, indent: int, allow_breaks: bool) -> None:
        self.indicator('"', True, False, False)
        spaces = False
        last = len(text) - 1
        out = self.out
        for i, char in enumerate(text):
            if char in '"\\' or char in _BREAKS or char == "\ufeff" or not _printable(char):
                escape = _ESCAPES.get(char)
                if escape is None:
                    code = ord(char)
                    if code <= 0xFF:
                        escape = f"x{code:02X}"
                    elif code <= 0xFFFF:
                        escape = f"u{code:04X}"
                    else:
                        escape = f"U{code:08X}"
                out.append("\\" + escape)
                self.column += 1 + len(escape)
                spaces = False
            elif char == " ":
                if allow_breaks and not spaces and self.column > _WIDTH and i != 0 and i != last:
                    self.write_indent(indent)
                    if text[i + 1] == " ":
                        out.append("\\")
                        self.column += 1
                else:
                    out.append(" ")
                    self.column += 1
                spaces = True
            else:
                out.append(char)
                self.column += 1
                spaces = False
        self.indicator('"', False, False, False)
        self.whitespace = False
        self.indention = False

    def literal(self, text: str, indent: int) -> None:
        self.indicator("|", True, False, False)
        if text[0] in " \n\r\x85\u2028\u2029":
            self.indicator("2", False, False, False)
        if text[-1] not in _BREAKS:
            self.indicator("-", False, False, False)
        elif len(text) == 1 or text[-2] in _BREAKS:
            self.indicator("+", False, False, False)
        self.out.append("\n")
        self.column = 0
        self.indention = True
        self.whitespace = True
        breaks = True
        out = self.out
        for line in _split_breaks(text):
            if line in _BREAKS:
                out.append(line)
                self.column = 0
                self.indention = True
                breaks = True
            else:
                if breaks:
                    self.write_indent(indent)
                out.append(line)
                self.column += len(line)
                self.indention = False
                breaks = False


_BREAK_SPLIT = re.compile("([\n\r\x85\u2028\u2029])")


def _split_breaks(text: str) -> list[str]:
    return [part for part in _BREAK_SPLIT.split(text) if part]


def dump(data: Any) -> str:
    """``yaml.Marshal(data)`` of yaml.v2: the text the bosh CLI prints for a document."""
    emitter = _Emitter()
    emitter.node(data, -1, False, False)
    emitter.write_indent(0)
    text = "".join(emitter.out)
    return text if text.endswith("\n") else text + "\n"
