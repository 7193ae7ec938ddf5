"""YAML in and out, the way spiff reads and writes it.

spiff parses YAML 1.1 with candiedyaml, which differs from PyYAML's safe loader in ways templates
depend on:

* ``<<`` is always an ordinary key: candiedyaml knows no YAML merge keys. ``<<: (( merge ))`` is
  an expression, and ``<<: *base`` a key holding a copy of ``base``, which spiff's merge then
  splices into the map (:func:`flow.flow_map`): in sorted key order, so a key sorting before
  ``<<`` (``1x``) is overwritten by the spliced one, a list (``<<: [*a, *b]``) splices nothing,
  and a list entry that is only ``- <<: *base`` is a list splice of a map, which drops it;
* plain scalars are typed by candiedyaml's rules (:func:`scalars.resolve_plain`): ``y``/``n`` are
  booleans like ``yes``/``no``/``on``/``off`` in any letter case, ``1e3``, ``08`` and ``1.5e3``
  are floats, ``0o17`` and ``0x1F`` integers, and sexagesimal ``1:20`` is a string;
* an explicit tag changes nothing but quoting: candiedyaml types a tagged scalar by its text, as
  if it were plain (``!!str 123`` is 123, ``!!str ""`` null), and ignores tags on collections;
* map keys must be strings (``on: 1`` fails), timestamps are refused, an empty document is an
  error rather than ``null``, and only the first document of a stream is read (as spiff does).

On the way out, :func:`scalars.must_quote` decides which strings need quotes so that YAML 1.1
and 1.2 readers alike read them back as strings (``n``, ``1e3``, ``0123``, ``1:20``...); both the
direct writer and the PyYAML path ask it.

libyaml's C parser and emitter are used when PyYAML was built with them: loading and dumping are
most of the time of a large merge. :func:`load_tree` goes further: libyaml composes the document
and the merge tree is built straight from its nodes, skipping PyYAML's generic (and slow) Python
constructor and the second pass that wrapping plain data took; anything unusual (aliases, keys
that are not strings) takes the ordinary loader instead, so results stay identical, and a text
with explicit tags goes to the one loader that can drop them (:class:`_TaggedLoader`).
"""

from __future__ import annotations

import re

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from boshpipe.spiff import tree
from boshpipe.spiff.errors import InputError
from boshpipe.spiff.scalars import must_quote, resolve_plain
from boshpipe.yamlsafe import one_line

# typing only for the type checker (see boshpipe.spiff.tree)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

try:
    from yaml._yaml import CParser as _CParser

    _LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _LIBYAML = False

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class _Refused(Exception):
    """Raised inside the constructor for input spiff refuses; turned into an InputError."""


class _SpiffRules:
    """spiff's YAML reading (see the module docstring), shared by both loaders below."""

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode and implicit[0]:
            return resolve_plain(value)[0]
        return yaml.resolver.Resolver.resolve(self, kind, value, implicit)  # type: ignore[arg-type, no-untyped-call, no-any-return]

    def flatten_mapping(self, node: MappingNode) -> None:
        """No YAML merge keys: ``<<`` stays a key whose value spiff's merge splices (see above)."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        mapping = SafeConstructor.construct_mapping(self, node, deep=deep)  # type: ignore[arg-type]
        for key in mapping:
            if type(key) is not str:
                raise _Refused(f"map key must be a string: {_go_text(key)}")
        return mapping

    def construct_spiff_scalar(self, node: Node) -> Any:
        """The value spiff's reader gives the text of a scalar typed by :func:`resolve_plain`."""
        text = self.construct_scalar(node)  # type: ignore[attr-defined]
        tag, value = resolve_plain(text)
        if tag == _TIMESTAMP_TAG:
            raise _Refused(f"timestamps are not supported (quote it to keep it as text): {text}")
        return value


class SpiffLoader(_SpiffRules, _BaseLoader):
    """PyYAML's safe loader (libyaml's when available) reading YAML as spiff does."""


class _TaggedLoader(_SpiffRules, yaml.SafeLoader):
    """The loader for texts with explicit tags. candiedyaml types a tagged scalar by its text, as
    if it were plain (``!!str 123`` is 123, quoted or not; ``!!str`` alone is null; any ``!tag``
    is accepted), and a tag on a collection changes nothing. PyYAML's composer keeps tags, and
    libyaml's composes in C, so this one composes in Python and drops the tags as events arrive."""

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if event.tag is not None:
            event.tag = None
            event.implicit = (True, False)
        return super().compose_scalar_node(anchor)

    def compose_sequence_node(self, anchor: Any) -> SequenceNode:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        event.tag = None
        return super().compose_sequence_node(anchor)

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        event.tag = None
        return super().compose_mapping_node(anchor)


for _loader in (SpiffLoader, _TaggedLoader):
    for _tag in (_INT_TAG, _FLOAT_TAG, _BOOL_TAG, _NULL_TAG, _TIMESTAMP_TAG):
        _loader.add_constructor(_tag, _SpiffRules.construct_spiff_scalar)  # type: ignore[type-var]

#: a ``!`` where YAML may start a tag (at the start, after a blank or a flow indicator); texts
#: without one are read by the fast loaders, the others by :class:`_TaggedLoader`
_TAG_START = re.compile(r"(?:\A|[ \t\r\n,\[{])!")


def _has_tags(text: str) -> bool:
    return "!" in text and _TAG_START.search(text) is not None


class _Fallback(Exception):
    """The fast loader met something only the ordinary loader handles exactly; use that."""


def _plain_tag(resolver: yaml.resolver.BaseResolver, text: str) -> str:
    """The tag ``resolver`` gives ``text`` written as a plain (unquoted) scalar."""
    return resolver.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call, no-any-return]


#: the resolver PyYAML's dumpers use to decide whether a plain text would read back as a string
_DUMP_RESOLVER = yaml.resolver.Resolver()

#: (tag, value) of plain scalars by text: templates repeat the same keys and values thousands of
#: times (both per-text memos below are emptied past _MEMO_MAX entries, for long-lived processes)
_PLAIN_TAGS: dict[str, tuple[str, Any]] = {}
_MEMO_MAX = 100_000

if _LIBYAML:

    class _Composer(_CParser):
        """libyaml's composer with SpiffLoader's implicit typing, memoized per scalar text.

        libyaml calls ``resolve`` (Python) for every node; the answer for a plain scalar depends
        only on its text, so it is looked up in a dict instead of running the regexes again.
        No path resolvers are registered, so the path-tracking hooks do nothing.
        """

        def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
            if kind is ScalarNode:
                if implicit[0]:
                    known = _PLAIN_TAGS.get(value)
                    if known is None:
                        if len(_PLAIN_TAGS) >= _MEMO_MAX:
                            _PLAIN_TAGS.clear()
                        known = _PLAIN_TAGS[value] = resolve_plain(value)
                    return known[0]
                return _STR_TAG
            return _SEQ_TAG if kind is SequenceNode else _MAP_TAG

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass


def _scalar(node: ScalarNode) -> Any:
    """The Python value of a scalar, as SpiffLoader would construct it."""
    tag = node.tag
    if tag == _STR_TAG:
        return node.value
    known = _PLAIN_TAGS.get(node.value)
    if known is not None and known[0] == tag:
        if tag == _TIMESTAMP_TAG:
            raise _Refused(f"timestamps are not supported (quote it to keep it as text): {node.value}")
        return known[1]
    raise _Fallback  # the memo was emptied meanwhile (texts with tags never get here)


def _build(root: Node, name: str) -> tree.Node:
    """The merge tree of a composed document, iteratively; raises :class:`_Fallback`."""
    Tree = tree.Node
    result = Tree(None, name)
    seen: set[int] = set()  # collection nodes met so far: a second visit is an alias
    stack: list[tuple[Node, tree.Node]] = [(root, result)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, target = pop()
        kind = type(node)
        if id(node) in seen:
            raise _Fallback
        if kind is MappingNode:
            if node.tag != _MAP_TAG:
                raise _Fallback
            seen.add(id(node))
            mapping: dict[str, tree.Node] = {}
            for key_node, value_node in node.value:
                if key_node.tag != _STR_TAG:
                    raise _Fallback  # a key that is no string: the ordinary loader refuses it
                if type(value_node) is ScalarNode:
                    child = Tree(_scalar(value_node), name)
                else:
                    child = Tree(None, name)
                    push((value_node, child))
                mapping[key_node.value] = child
            target.value = mapping
        elif kind is SequenceNode:
            if node.tag != _SEQ_TAG:
                raise _Fallback
            seen.add(id(node))
            items: list[tree.Node] = []
            for value_node in node.value:
                if type(value_node) is ScalarNode:
                    child = Tree(_scalar(value_node), name)
                else:
                    child = Tree(None, name)
                    push((value_node, child))
                items.append(child)
            target.value = items
        else:
            raise _Fallback  # a scalar document: the ordinary loader explains the problem
    return result


def load_tree(text: str, name: str = "<string>") -> tree.Node:
    """Parse one spiff input document straight into a merge tree (see the module docstring).

    Same results and errors as ``tree.wrap(load(text, name), name)``, without the detour through
    plain data.
    """
    if not _LIBYAML or _has_tags(text):  # pragma: no branch
        return tree.wrap(load(text, name), name)
    parser = _Composer(text)
    try:
        # the first document only: spiff reads one and ignores what follows it
        root = parser.get_node() if parser.check_node() else None
        if root is None:
            raise InputError(f"{name}: empty document (spiff needs a YAML mapping)")
        return _build(root, name)
    except _Fallback:
        return tree.wrap(load(text, name), name)
    except _Refused as err:
        raise InputError(f"{name}: {err}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{name}: invalid YAML: {one_line(err)}") from None
    finally:
        parser.dispose()


def _go_text(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def load_value(text: str, name: str = "<string>") -> Any:
    """Parse one YAML document of any kind (a scalar too) as spiff reads it; InputError if bad."""
    loader = (_TaggedLoader if _has_tags(text) else SpiffLoader)(text)
    try:
        # the first document only: spiff reads one and ignores what follows it
        return loader.get_data() if loader.check_data() else None  # type: ignore[no-untyped-call]
    except _Refused as err:
        raise InputError(f"{name}: {err}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{name}: invalid YAML: {one_line(err)}") from None
    finally:
        loader.dispose()


def load(text: str, name: str = "<string>") -> Any:
    """Parse one spiff input document; raises :class:`InputError` naming ``name``."""
    data = load_value(text, name)
    if data is None:
        raise InputError(f"{name}: empty document (spiff needs a YAML mapping)")
    if type(data) not in (dict, list):
        raise InputError(
            f"{name}: the document is a {type(data).__name__}, not a mapping: a template or stub "
            "must be a YAML mapping (or a list)"
        )
    return data


class _Dumper(_BaseDumper):
    """PyYAML's safe dumper, quoting every string that some reader would not read as a string.

    PyYAML writes a string plain when *its* resolver reads the text back as a string; this
    widens that test to :func:`scalars.must_quote` (``n``, ``1e3``, ``0o17`` ... get quotes).
    """

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        tag: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        if tag == _STR_TAG and implicit[0] and kind is ScalarNode and must_quote(value):
            return _BOOL_TAG  # any tag but str: the emitter then quotes the text
        return tag


def dump(data: Any) -> str:
    """spiff's output format: block style, keys sorted, followed by an empty line."""
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=True, allow_unicode=True) + "\n"


#: strings the emitter may write as they are (plain style) when the resolver also reads them back
#: as strings: letters, digits and a few punctuation marks, single inner spaces, no leading
#: indicator character (``-`` ``:`` ``?`` ``@`` ...). Anything else goes through PyYAML.
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_/+=.][A-Za-z0-9_./+=:,-]*(?: [A-Za-z0-9_./+=:,-]+)*")

#: libyaml breaks plain scalars at spaces past this column; texts with spaces must end before it
_WIDTH = 80
_SIMPLE_KEY_MAX = 127

#: how a text is written by :func:`_written` (memoized per text; None: not by the direct writer)
_WRITTEN: dict[str, str | None] = {}
_UNSEEN = ""  # never a value of _WRITTEN (an empty text is written quoted)


def _written(text: str) -> str | None:
    """The text as PyYAML (with :class:`_Dumper`) writes it, for the texts written directly.

    Within the character set of :data:`_PLAIN_TEXT` (no quote, backslash or indicator
    character), PyYAML writes a text plain unless libyaml's analysis forbids it (``...``, ``: ``,
    a trailing ``:``) or the text would be read back as something else than a string; in the
    latter case it writes it in single quotes, which here is done directly too for texts without
    spaces (with spaces, the line width would decide where PyYAML breaks it). Memoized per text.
    """
    if text in _WRITTEN:
        return _WRITTEN[text]
    form: str | None = None
    if (
        _PLAIN_TEXT.fullmatch(text) is not None
        and not text.startswith("...")
        and not (":" in text and (text[-1] == ":" or ": " in text))
    ):
        # must_quote says yes wherever PyYAML's own resolver types a text (tested), and more
        form = (None if " " in text else f"'{text}'") if must_quote(text) else text
    if len(_WRITTEN) >= _MEMO_MAX:
        _WRITTEN.clear()
    _WRITTEN[text] = form
    return form


def _plain_ok(text: str) -> bool:
    """True when PyYAML would write ``text`` as a plain scalar (see :func:`_written`)."""
    return _written(text) == text


class _NotPlain(Exception):
    """A value :func:`dump_tree` does not write itself; the whole document goes through PyYAML."""


def _scalar_text(value: Any, column: int) -> str:
    """A scalar as PyYAML's safe dumper writes it at ``column``, or :class:`_NotPlain`."""
    kind = type(value)
    if kind is str:
        form = _WRITTEN.get(value, _UNSEEN)
        if form is _UNSEEN:
            form = _written(value)
        if form is not None and (column + len(form) <= _WIDTH or " " not in form):
            return form
        raise _NotPlain
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is float:
        if value.is_integer() and abs(value) < tree.GO_FLOAT_AS_INT:
            return str(int(value))
        text = repr(value).lower()
        if "." not in text and "e" in text:
            text = text.replace("e", ".0e", 1)
        if _plain_tag(_DUMP_RESOLVER, text) == _FLOAT_TAG:
            return text
    raise _NotPlain


def dump_tree(root: tree.Node) -> str:
    """:func:`dump` of a merged tree, written directly (same text as ``dump(unwrap(root))``).

    PyYAML's representer spends most of an output's time building an intermediate node graph in
    Python; block YAML of plain scalars is simple enough to write line by line. The first value
    that needs quoting, or any other special form, hands the whole document to :func:`dump`, so
    the output stays byte-for-byte PyYAML's.
    """
    try:
        return _write(root)
    except _NotPlain:
        return dump(tree.unwrap(root))


def _write(root: tree.Node) -> str:
    lines: list[str] = []
    add = lines.append
    # (node, lead, indent, is_key): ``lead`` starts the node's first line: "  key:" (is_key),
    # "  - " (a list item) or "" (the document); ``indent`` is the column of that key or item.
    stack: list[tuple[tree.Node, str, int, bool]] = [(root, "", 0, False)]
    pop = stack.pop
    push = stack.append
    written = _WRITTEN.get
    while stack:
        node, lead, indent, is_key = pop()
        value = node.value
        kind = type(value)
        if kind is dict:
            if not value:
                add(lead + " {}" if is_key else lead + "{}")
                continue
            keys = sorted(value)
            for key in keys:
                if written(key) != key and (type(key) is not str or not key or not _plain_ok(key)):
                    raise _NotPlain  # quoted keys too: rare, and PyYAML's key rules differ
                if len(key) > _SIMPLE_KEY_MAX:
                    raise _NotPlain  # a long key is written as a complex key ("? ...")
            if is_key:  # keys on the following lines, indented
                add(lead)
                inner = indent + 2
                pad = " " * inner
                for key in reversed(keys):
                    push((value[key], f"{pad}{key}:", inner, True))
            else:  # the first key continues a "- " line (or starts the document)
                inner = len(lead)
                pad = " " * inner
                for key in reversed(keys[1:]):
                    push((value[key], f"{pad}{key}:", inner, True))
                push((value[keys[0]], f"{lead}{keys[0]}:", inner, True))
        elif kind is list:
            if not value:
                add(lead + " []" if is_key else lead + "[]")
                continue
            if is_key:  # items at the key's own column (PyYAML's indentless sequences)
                add(lead)
                pad = " " * indent
                for item in reversed(value):
                    push((item, pad + "- ", indent, False))
            else:  # the first item continues the current line: "- - x"
                inner = len(lead)
                pad = " " * inner
                for item in reversed(value[1:]):
                    push((item, pad + "- ", inner, False))
                push((value[0], lead + "- ", inner, False))
        elif is_key:
            add(f"{lead} {_scalar_text(value, len(lead) + 1)}")
        else:
            add(lead + _scalar_text(value, len(lead)))
    return "\n".join(lines) + "\n\n"
