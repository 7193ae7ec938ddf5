"""The pipeline model: the keys Concourse knows, jobs and steps as the checker walks them, problems.

Data and YAML reading; imports only ``catalogue`` of ``boshpipe.concourse``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from boshpipe.concourse.catalogue import InvokeCall

CREDENTIALS_EXAMPLE = "credentials.example.yml"
# Every pipeline file of the repository; `invoke pipeline.check` checks them all.
PIPELINE_FILES = ("pipeline/pipeline.yml", "ci_image/pipeline.yml")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


TOP_LEVEL_KEYS = _words("resources resource_types jobs groups display var_sources")
JOB_KEYS = _words(
    "name old_name plan serial serial_groups max_in_flight build_log_retention build_logs_to_retain "
    "public disable_manual_trigger interruptible on_success on_failure on_error on_abort ensure"
)
HOOKS = ("on_success", "on_failure", "on_error", "on_abort", "ensure")
MODIFIERS = frozenset({"timeout", "attempts", "tags", "across", *HOOKS})
STEP_KEYS = {
    "get": _words("get resource passed params trigger version"),
    "put": _words("put resource inputs params get_params no_get"),
    "task": _words(
        "task config file image privileged vars params input_mapping output_mapping container_limits hermetic"
    ),
    "set_pipeline": _words("set_pipeline file vars var_files instance_vars team"),
    "load_var": _words("load_var file format reveal"),
    "in_parallel": _words("in_parallel"),
    "do": _words("do"),
    "try": _words("try"),
}
TASK_CONFIG_KEYS = _words(
    "platform image_resource rootfs_uri inputs outputs caches params run container_limits"
)
CORE_RESOURCE_TYPES = _words(
    "git s3 registry-image docker-image time semver pool github-release hg bosh-io-release "
    "bosh-io-stemcell tracker cf mock"
)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong, printed as one line: ``file: yaml.path: message``."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


@dataclass
class Step:
    """A step of a job's plan (nested steps included), with the artifacts visible to it."""

    path: str
    body: dict[str, Any]
    kind: str
    available: frozenset[str]


@dataclass
class Job:
    name: str
    path: str
    body: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    calls: list[tuple[str, InvokeCall]] = field(default_factory=list)  # (yaml path, call)

    @property
    def serial_groups(self) -> list[str]:
        groups = self.body.get("serial_groups") or []
        return [g for g in groups if isinstance(g, str)] if isinstance(groups, list) else []

    def resources(self) -> set[str]:
        """Every resource this job gets or puts (what ``passed:`` may refer to)."""
        return {resource_of(step) for step in self.steps if step.kind in ("get", "put")}


def resource_of(step: Step) -> str:
    return str(step.body.get("resource") or step.body.get(step.kind))


def named(items: Any, label: str, path: str, out: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """``[{name: x, ...}]`` as ``{x: {...}}``; duplicates and nameless entries become messages."""
    found: dict[str, dict[str, Any]] = {}
    if items is None:
        return found
    if not isinstance(items, list):
        out.append((path, f"expected a list of {label}"))
        return found
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            out.append((f"{path}[{index}]", f"every {label[:-1]} needs a name"))
            continue
        if item["name"] in found:
            out.append((f"{path}[{item['name']}]", f"{label[:-1]} declared twice"))
        found[item["name"]] = item
    return found


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
