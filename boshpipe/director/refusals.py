"""The v1-manifest refusals of directors since v270, word for word, and how to recognise them.

cloudfoundry/bosh checks a manifest in this order (``deployment_plan/manifest_validator.rb``):
top-level ``vm_types``, ``azs``, ``disk_types``, ``compilation`` (190014), ``networks`` (140026),
``disk_pools`` (140027), ``jobs`` (140023), ``resource_pools`` (140028); then, per instance group
(``instance_group_spec_parser.rb``), ``templates``/``template`` (140024) and ``resource_pool``
(140025). The texts below are the director's. A message is a v1 refusal only when it *is* one of
these texts (a canary failure naming "jobs" is not): the client says then, in one line, that the
director refuses v1 manifests and that ``manifest: v2`` (or ``auto``) fixes it.
"""

from __future__ import annotations

import re
from typing import Any

CLOUD_ONLY = ("vm_types", "azs", "disk_types", "compilation")
_TOP = (
    ("networks", 140026,
     "Deployment 'networks' are no longer supported. Network definitions must now be provided in a cloud-config."),
    ("disk_pools", 140027,
     "disk_pools is no longer supported. Disk definitions must now be provided as disk_types in a cloud-config"),
    ("jobs", 140023, "Jobs are no longer supported, please use instance groups instead"),
    ("resource_pools", 140028,
     "resource_pools is no longer supported. You must now define resources in a cloud-config"),
)  # fmt: skip
_TEMPLATES = "Instance group '{}' specifies template or templates. This is no longer supported, please use jobs instead"
_RESOURCE_POOL = "Instance groups no longer support resource_pool, please use 'vm_type' or 'vm_resources' keys"
_PATTERNS = [
    re.compile(r"Deployment manifest contains '(vm_types|azs|disk_types|compilation)' section, but this can only be"
               r" set in a cloud-config\."),
    *(re.compile(re.escape(text)) for _, _, text in _TOP),
    re.compile(re.escape(_TEMPLATES).replace(re.escape("{}"), "[^']*")),
    re.compile(re.escape(_RESOURCE_POOL)),
]  # fmt: skip


def cloud_only(key: str) -> str:
    return f"Deployment manifest contains '{key}' section, but this can only be set in a cloud-config."


def v1_refusal(manifest: dict[str, Any]) -> tuple[int, str] | None:
    """(code, text) of the first refusal a v270+ director gives this manifest, or None."""
    for key in CLOUD_ONLY:
        if key in manifest:
            return 190014, cloud_only(key)
    for key, code, text in _TOP:
        if key in manifest:
            return code, text
    for group in manifest.get("instance_groups") or []:
        if not isinstance(group, dict):
            continue
        if "templates" in group or "template" in group:
            return 140024, _TEMPLATES.format(group.get("name"))
        if "resource_pool" in group:
            return 140025, _RESOURCE_POOL
    return None


def is_v1_refusal(message: str) -> bool:
    """The message contains one of the director's v1 refusal texts (and nothing else counts)."""
    return any(p.search(message) for p in _PATTERNS)
