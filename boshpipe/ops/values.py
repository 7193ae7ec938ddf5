"""Go's view of the plain data a manifest holds (YAML maps, lists and scalars).

go-patch and the bosh CLI work on ``interface{}`` values decoded by ``gopkg.in/yaml.v2``. Python's
``dict``/``list``/``str``/``int``/``float``/``bool``/``None`` carry the same information, but their
equality is looser (``1 == 1.0 == True``) and their printed forms differ. The helpers here give
Go's answers: strict equality (``reflect.DeepEqual``), ``%T`` type names and ``%v`` text for
messages, and the YAML round trip go-patch applies to every value it inserts.
"""

from __future__ import annotations

import math
from typing import Any

_INT64_MAX = (1 << 63) - 1


def go_type(value: Any) -> str:
    """``fmt.Sprintf("%T", value)`` for a value decoded by yaml.v2 into ``interface{}``."""
    kind = type(value)
    if kind is str:
        return "string"
    if kind is bool:
        return "bool"
    if kind is int:
        return "int" if value <= _INT64_MAX else "uint64"
    if kind is float:
        return "float64"
    if kind is dict:
        return "map[interface {}]interface {}"
    if kind is list:
        return "[]interface {}"
    if value is None:
        return "<nil>"
    return kind.__name__


def go_float(value: float, yaml_words: bool = True) -> str:
    """``strconv.FormatFloat(f, 'g', -1, 64)``: shortest digits, exponent from 1e-05 and 1e+06.

    yaml.v2 then writes infinities and NaN as ``.inf``/``-.inf``/``.nan``; ``%v`` keeps Go's
    ``+Inf``/``NaN`` (``yaml_words=False``).
    """
    if math.isnan(value):
        return ".nan" if yaml_words else "NaN"
    if math.isinf(value):
        if yaml_words:
            return ".inf" if value > 0 else "-.inf"
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    from decimal import Decimal

    sign = "-" if value < 0 else ""
    _, digit_tuple, exp = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    assert isinstance(exp, int)
    trimmed = digits.rstrip("0")
    exp += len(digits) - len(trimmed)
    digits = trimmed
    point = len(digits) + exp  # where the decimal point goes, counted from the first digit
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{body}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if len(digits) <= point:
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def go_text(value: Any) -> str:
    """``fmt.Sprintf("%v", value)``: what the CLI shows of a value inside a message."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is float:
        return go_float(value, yaml_words=False)
    if value is None:
        return "<nil>"
    if kind is list:
        return "[" + " ".join(go_text(item) for item in value) + "]"
    if kind is dict:
        keys = sorted(value, key=_fmt_order)
        return "map[" + " ".join(f"{go_text(k)}:{go_text(value[k])}" for k in keys) + "]"
    return str(value)


def _fmt_order(key: Any) -> tuple[int, Any]:
    """fmt's order for ``interface{}`` map keys: by kind, then by value."""
    if key is None:
        return (0, 0)
    if type(key) is bool:
        return (1, int(key))
    if type(key) in (int, float):
        return (2, key)
    return (3, str(key))


def deep_equal(a: Any, b: Any) -> bool:
    """``reflect.DeepEqual``: same types all the way down (``1`` is not ``1.0`` nor ``True``)."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        if len(a) != len(b):
            return False
        for key, item in a.items():
            match = _find_key(b, key)
            if match is _MISSING or not deep_equal(item, match):
                return False
        return True
    if kind is list:
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if kind is float and math.isnan(a):
        return False
    return bool(a == b)


_MISSING = object()


def _find_key(mapping: dict[Any, Any], key: Any) -> Any:
    """``mapping[key]`` where the stored key also has ``key``'s type (``1`` is not ``True``)."""
    for stored, item in mapping.items():
        if type(stored) is type(key) and stored == key:
            return item
    return _MISSING


def clone(value: Any) -> Any:
    """The value after go-patch's ``yaml.Marshal`` + ``yaml.Unmarshal`` copy of an op's value.

    A fresh copy (later ops may change the document in place), in which floats with an integral
    value printed without a point or exponent (``1.0`` prints ``1``) come back as ints.
    """
    kind = type(value)
    if kind is dict:
        return {clone(k): clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(item) for item in value]
    if kind is float and value.is_integer():
        text = go_float(value)
        if text.lstrip("-").isdigit():
            return int(text)
    return value
