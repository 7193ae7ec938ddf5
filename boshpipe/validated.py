"""Settings validated once per content: the schema (pydantic) is imported only when a file changed.

Why: importing pydantic and building the models of :mod:`boshpipe.schema` costs about 130 ms, a
third of an unchanged ``invoke deploy``; every task validates ``boshpipe.yml``, the env files it
reads and each candidate's ``candidate.json``, and those texts rarely change between two runs.

How: a text that validated is recorded under the digest of (model, the schema's own source, the
text), with the values the model produced, defaults filled in, as JSON. A later run with the same
text and the same schema reads those values back without importing pydantic. A changed text or
schema, or a damaged, missing or unwritable record, means: validate again. Only successes are
recorded, so every refusal is still the schema's, with its line. Values the schema passes through
untouched (``dict`` fields such as ``freeze:``, which may hold YAML timestamps JSON cannot) are not
copied: they are taken from the freshly loaded data, which the same text always gives again.

Either way the caller gets the same thing: a read-only attribute view (:class:`Settings`) of the
validated values, never a pydantic object, so a cache hit cannot behave differently from a miss.
The records hold settings only (no secret is ever in a settings file) and live in the work dir.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from boshpipe.errors import BoshpipeError, ConfigError

SCHEMA_SOURCE = Path(__file__).with_name("schema.py")
MAX_RECORDS = 256
"""Records kept; beyond that the oldest go (a record is a few hundred bytes)."""

_cache_dir: Path | None = None
_schema_digest: bytes | None = None


def use_cache(directory: Path | None) -> None:
    """Where records go for this process (the project's work dir); None turns the cache off."""
    global _cache_dir
    _cache_dir = directory


class Settings:
    """Validated values by attribute, as the model names them (``accepts.succeeded_in.any_of``)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"settings are read-only: {name}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Settings({vars(self)!r})"


def validated(
    model: str,
    data: Any,
    text: str | bytes | None,
    where: str,
    doc: Any = None,
    error: type[BoshpipeError] = ConfigError,
) -> Any:
    """``data`` (loaded from ``text``) validated as ``schema.<model>``, as a :class:`Settings` view.

    ``text`` is what ``data`` was loaded from; without it nothing is recorded or looked up.
    """
    key = _key(model, text) if text is not None and _cache_dir is not None else None
    if key is not None:
        record = _read(key)
        if record is not None:
            try:
                return _decode(record, data)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                pass  # a record that does not fit the data: validate again
    from boshpipe import schema

    result = schema.validate(getattr(schema, model), data, where, doc, error)
    record = _encode(result, data, [])
    if key is not None:
        _write(key, record)
    return _decode(record, data)


# -- records -------------------------------------------------------------------------------------


def _key(model: str, text: str | bytes) -> str:
    global _schema_digest
    if _schema_digest is None:
        _schema_digest = hashlib.sha256(SCHEMA_SOURCE.read_bytes()).digest()
    digest = hashlib.sha256(_schema_digest)
    digest.update(model.encode() + b"\0")
    digest.update(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
    return digest.hexdigest()


def _read(key: str) -> Any:
    """The record's values, or None when there is none or it is not one this module wrote whole."""
    assert _cache_dir is not None
    try:
        with open(_cache_dir / f"{key}.json", encoding="utf-8") as handle:
            stored = json.load(handle)
        body = stored["values"]
        if stored["sha256"] != _digest(body) or not isinstance(body, dict) or not isinstance(body.get("m"), dict):
            return None
        return body
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        return None


def _digest(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _write(key: str, record: Any) -> None:
    """Atomically (temporary file, then rename); any failure only means no record."""
    assert _cache_dir is not None
    target = _cache_dir / f"{key}.json"
    temporary = target.with_name(f".{key}.{os.getpid()}.tmp")
    try:
        _cache_dir.mkdir(parents=True, exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump({"sha256": _digest(record), "values": record}, handle, separators=(",", ":"))
        os.replace(temporary, target)
        _prune()
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _prune() -> None:
    assert _cache_dir is not None
    records = list(_cache_dir.glob("*.json"))
    if len(records) <= MAX_RECORDS:
        return
    records.sort(key=lambda p: p.stat().st_mtime)
    for old in records[: len(records) - MAX_RECORDS // 2]:
        old.unlink(missing_ok=True)


# -- values --------------------------------------------------------------------------------------
#
# A record mirrors the model: {"m": {field: value}} for a model, a list for a list, a scalar for a
# scalar. A dict field is {"d": [keys...]}: where it sits in the loaded data, read from there (the
# schema passes dicts through as they were loaded); a dict field the file leaves out is its
# default, recorded as {"v": {...}}.


def _encode(value: Any, data: Any, at: list[str | int]) -> Any:
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:
        out: dict[str, Any] = {}
        for name, info in fields.items():
            key = info.alias or name
            item = getattr(value, name)
            given = isinstance(data, dict) and key in data
            if isinstance(item, dict):
                if not given:
                    out[name] = {"v": json.loads(json.dumps(item))}
                elif data[key] != item:
                    raise AssertionError(f"{key}: a dict field that is not the loaded data's own")
                else:
                    out[name] = {"d": [*at, key]}
            else:
                out[name] = _encode(item, data[key] if given else None, [*at, key])
        return {"m": out}
    if isinstance(value, list):
        raw = data if isinstance(data, list) and len(data) == len(value) else [None] * len(value)
        return [_encode(item, raw[i], [*at, i]) for i, item in enumerate(value)]
    if value is None or isinstance(value, (str, int, float)):
        return value
    raise AssertionError(f"cannot record a {type(value).__name__}")


def _decode(record: Any, data: Any) -> Any:
    if isinstance(record, list):
        return [_decode(item, data) for item in record]
    if not isinstance(record, dict):
        return record
    if "m" in record:
        return Settings({name: _decode(item, data) for name, item in record["m"].items()})
    if "v" in record:
        return dict(record["v"])
    found = data
    for step in record["d"]:
        found = found[step]
    if not isinstance(found, dict):
        raise TypeError("not a mapping")
    return found
