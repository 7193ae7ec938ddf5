"""The invoke tasks, as the ``invoke`` command line sees them: names, flags, aliases, positionals.

Read from the real ``tasks.py`` collection, so a new or renamed task is seen without editing the
checker. Imports nothing else of ``boshpipe.concourse``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.exceptions import ParseError
from invoke.loader import FilesystemLoader
from invoke.parser.argument import Argument
from invoke.parser.context import ParserContext
from invoke.parser.parser import Parser
from invoke.program import Program

from boshpipe.errors import BoshpipeError, ConfigError


@dataclass(frozen=True)
class InvokeCall:
    """One task of one ``invoke`` command line, with the flag values it was given."""

    task: str
    values: dict[str, Any]


class TaskCatalogue:
    """The tasks of an invoke collection, with the flags each accepts.

    Built from invoke's own parser contexts (``Collection.to_contexts``), i.e. from each task's
    argument spec, so names get invoke's dashes, aliases work, and short flags are known.
    """

    def __init__(self, collection: Collection) -> None:
        self.contexts: dict[str, ParserContext] = {}
        self.primary: dict[str, str] = {}
        self._unique = collection.to_contexts()
        for context in self._unique:
            primary = str(context.name)
            for name in (primary, *context.aliases):
                self.contexts[name] = context
                self.primary[name] = primary
        program = Program()
        self._core = [*program.core_args(), *program.task_args()]

    @property
    def names(self) -> list[str]:
        return sorted(set(self.primary.values()))

    def parse(self, argv: Sequence[str]) -> tuple[list[InvokeCall], list[str]]:
        """The tasks an ``invoke`` argv runs, and what is wrong with it (one message each)."""
        errors: list[str] = []
        context: ParserContext | None = None
        index = 0
        while index < len(argv):
            token = argv[index]
            index += 1
            if token == "--":
                break
            if context is None:
                if token.startswith("-"):
                    continue  # a core flag such as --echo: invoke's parser judges those below
                if token not in self.contexts:
                    errors.append(f"unknown invoke task {token!r}; tasks.py has: {', '.join(self.names)}")
                    return [], errors
                context = self.contexts[token]
                continue
            if token.startswith("-") and not _is_number(token):
                flag, _, inline = token.partition("=")
                arg = _flag(context, flag)
                if arg is None:
                    accepted = ", ".join(_flags_of(context))
                    errors.append(f"task {context.name!r} has no flag {flag}; it accepts {accepted}")
                    continue
                if arg.takes_value and not inline and flag not in context.inverse_flags:
                    index += 1  # its value
            elif token in self.contexts:
                context = self.contexts[token]
        if context is None and not errors:
            errors.append("runs no task")
        if errors:
            return [], errors
        try:
            parser = Parser(contexts=self._unique, initial=ParserContext(args=self._core))
            result = parser.parse_argv(list(argv))
        except ParseError as err:
            return [], [f"invoke would refuse it: {err}"]
        calls = [
            InvokeCall(self.primary[str(ctx.name)], {name: arg.value for name, arg in ctx.args.items()})
            for ctx in result[1:]
        ]
        return calls, []


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"-\d+(\.\d+)?", token))


def _flag(context: ParserContext, flag: str) -> Argument | None:
    if flag in context.inverse_flags:
        return context.flags[context.inverse_flags[flag]]  # type: ignore[no-any-return]
    if flag not in context.flags:  # `in` and [] see short aliases such as -e; .get() does not
        return None
    found: Argument = context.flags[flag]
    return found


def _flags_of(context: ParserContext) -> list[str]:
    return sorted({f for f in context.flags if f.startswith("--")} | set(context.inverse_flags))


def load_tasks(root: Path) -> TaskCatalogue:
    """The invoke collection of ``root/tasks.py``, loaded the way the ``invoke`` command loads it.

    Reuses the module when ``invoke`` already imported it (``invoke pipeline.check``), so the
    tasks are never executed twice in one process.
    """
    tasks_file = (root / "tasks.py").resolve()
    module = sys.modules.get("tasks")
    try:
        if module is None or Path(getattr(module, "__file__", "") or "").resolve() != tasks_file:
            if not tasks_file.is_file():
                raise ConfigError(f"{tasks_file}: file not found: the invoke tasks live there")
            module, _ = FilesystemLoader(start=str(root.resolve())).load("tasks")
        return TaskCatalogue(Collection.from_module(module))
    except BoshpipeError:
        raise
    except Exception as err:  # any import failure of tasks.py is the user's to fix: say which
        raise ConfigError(
            f"{tasks_file}: cannot load the invoke tasks: {type(err).__name__}: {err}"
        ) from None
