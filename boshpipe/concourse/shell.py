"""The ``invoke`` command lines a pipeline's tasks run: ``run.path invoke`` or inside ``sh -c``.

Enough of a POSIX shell reader for the one-liners task configs hold, not a shell.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from boshpipe.concourse.pipeline import read_yaml

SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env"})
INVOKE = frozenset({"invoke", "inv"})
SHELL_SUBST = re.compile(r"\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`")
SHELL_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
SUBST_PLACEHOLDER = "$(...)"


def invoke_argvs(path: Path, root: Path) -> list[list[str]]:
    """Every ``invoke`` command line (argv after ``invoke``) the tasks of a pipeline file run.

    Reads inline configs and task files alike, without judging them: what an image must be able to
    run, whatever ``check`` thinks of it.
    """
    found: list[list[str]] = []
    for node in _task_steps(read_yaml(path)):
        config = node.get("config")
        if isinstance(node.get("file"), str) and "/" in node["file"]:
            config = read_yaml(root / node["file"].split("/", 1)[1])
        if isinstance(config, dict) and isinstance(config.get("run"), dict):
            found.extend(invoke_commands(config["run"]))
    return found


def _task_steps(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "task" in node and ("config" in node or "file" in node):
            yield node
        for value in node.values():
            yield from _task_steps(value)
    elif isinstance(node, list):
        for item in node:
            yield from _task_steps(item)


def invoke_commands(run: dict[str, Any]) -> list[list[str]]:
    """The ``invoke`` command lines a task runs: run.path invoke, or inside ``sh -c SCRIPT``."""
    path = run.get("path")
    args = [str(a) for a in run.get("args") or []]
    if path in INVOKE or str(path).endswith("/invoke"):
        return [args]
    if path not in SHELLS:
        return []
    if path == "/usr/bin/env":
        return invoke_commands({"path": args[0], "args": args[1:]}) if args else []
    commands = []
    for index, arg in enumerate(args[:-1]):
        if arg.startswith("-") and "c" in arg:
            commands.extend(shell_commands(args[index + 1]))
            break
    return [argv[1:] for argv in commands if argv and (argv[0] in INVOKE or argv[0].endswith("/invoke"))]


def shell_commands(script: str) -> list[list[str]]:
    """The simple commands of a POSIX shell script, split on ``&&``, ``||``, ``;``, ``|`` and lines.

    Command substitutions become one placeholder word; ``$VAR`` is left for ``_expand``. Enough for
    the one-liners task configs hold, not a shell.
    """
    script = SHELL_SUBST.sub(SUBST_PLACEHOLDER.replace("$", "\0"), script.replace("\\\n", " "))
    commands: list[list[str]] = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        current: list[str] = []
        try:
            tokens = list(lexer)
        except ValueError:
            tokens = line.split()
        for token in tokens:
            if token and set(token) <= set(";&|"):
                commands.append(current)
                current = []
            elif not current and re.fullmatch(r"\w+=.*", token):
                continue  # FOO=bar cmd
            elif not current and token == "exec":
                continue
            else:
                current.append(token.replace("\0", "$"))
        commands.append(current)
    return [c for c in commands if c]


def expand(token: str, params: Mapping[str, str]) -> str:
    """``$VAR``/``${VAR}`` from the task's params, so ``--env "$ENV"`` is checked with its value."""
    return SHELL_VAR.sub(lambda m: params.get(m.group(1) or m.group(2), m.group(0)), token)
