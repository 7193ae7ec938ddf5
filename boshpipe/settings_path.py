"""How a place in a settings file is written in messages: ``accepts.succeeded_in.any_of[0]``.

Its own module because the schema (pydantic) and the checks beyond it (``environments``) both name
places the same way, and the latter must not import pydantic to do so (see ``boshpipe.validated``).
"""

from __future__ import annotations

import json
import re


def render_path(loc: tuple[str | int, ...]) -> str:
    """``accepts.succeeded_in.any_of[0]``; a key that is not a plain word is quoted: ``files["a b"]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
