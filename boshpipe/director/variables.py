"""``((name))`` placeholders in a deployed manifest, filled from the director's config server.

A v2 manifest deployed to a director with a config server keeps ``((redis-password))`` (the
director asks CredHub when it renders jobs); the checks need the value to talk to Redis, so they
ask the director's config server through ``Director.variable``. Only whole-value placeholders are
resolved (the only kind the release's properties use); the values never leave the checks.
"""

from __future__ import annotations

import re
from typing import Any

from boshpipe.director.protocol import Director
from boshpipe.errors import DirectorError

_PLACEHOLDER = re.compile(r"^\(\(!?([\w./-]+)\)\)$")


def resolve(doc: Any, director: Director, deployment: str) -> Any:
    """``doc`` with every ``((name))`` value replaced by the config server's value (asked once per name)."""
    found: dict[str, str] = {}

    def value(name: str) -> str:
        if name not in found:
            got = director.variable(deployment, name)
            if got is None:
                raise DirectorError(
                    f"(({name})) of {deployment} has no value on {director.describe()}'s config server:"
                    " deploy again so the director generates it"
                )
            found[name] = got
        return found[name]

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str) and (match := _PLACEHOLDER.match(node)):
            return value(match.group(1))
        return node

    return walk(doc)
