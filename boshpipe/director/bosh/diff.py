"""What a deploy would change, as text lines with secrets redacted.

Preferred source: the director's ``POST /deployments/<name>/diff?redact=true`` (it knows the
cloud-config and runtime-config context). Directors without it answer 404; then we diff the
deployed manifest (``GET /deployments/<name>``) against the new one ourselves. Both manifests are
parsed, redacted structurally and dumped with sorted keys first, so the local diff shows real
changes, not key order, and never a secret value.

Line format for both sources: ``+ `` added, ``- `` removed, ``  `` context, like ``bosh deploy``
prints; the local diff keeps unified-diff ``@@`` hunk headers.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

import yaml

from boshpipe.director.redact import Scrubber, redact_document, redact_yaml_lines


def director_diff_lines(body: Any) -> list[str]:
    """Lines of the director's diff response ``{"diff": [[text, "added"|"removed"|null], ...]}``."""
    entries = body.get("diff") if isinstance(body, dict) else None
    lines: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, Sequence) or isinstance(entry, str) or not entry:
            continue
        text = str(entry[0])
        state = entry[1] if len(entry) > 1 else None
        prefix = {"added": "+ ", "removed": "- "}.get(str(state), "  ")
        lines.append(prefix + text)
    return lines


def local_diff_lines(deployed: str | None, new: str, name: str) -> list[str]:
    """Unified diff of two manifests (``deployed`` None: a new deployment), secrets redacted."""
    before = _normalized(deployed) if deployed is not None else []
    after = _normalized(new)
    lines: list[str] = []
    for line in difflib.unified_diff(before, after, f"deployed {name}", f"new {name}", lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("@@"):
            lines.append(line)
        else:
            lines.append(f"{line[:1]} {line[1:]}" if line[:1] in "+-" else f"  {line[1:]}")
    return lines


def redacted(lines: Iterable[str], scrub: Scrubber) -> list[str]:
    """Apply both redaction rules to diff lines (key-based, then known secret values)."""
    return [scrub(line) for line in redact_yaml_lines(lines)]


def _normalized(manifest: str) -> list[str]:
    try:
        document = yaml.safe_load(manifest)
    except yaml.YAMLError:
        return ["<manifest is not valid YAML>"]
    text = yaml.safe_dump(redact_document(document), sort_keys=True, default_flow_style=False)
    return text.splitlines()
