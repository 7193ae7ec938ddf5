"""One racing process of tests/test_concurrency.py: ``python -m tests.race_worker MODE SYNC_DIR INDEX``.

It opens the env exactly as a task does (``steps.Context.open``), says it is ready, waits for the
``go`` file, then races: ``deploy`` runs ``chain.deploy(ctx, 1)`` on dev1 (the director is wrapped
so that whoever gets into it announces itself and waits for the ``release`` file before deploying
for real, which keeps the lock held while every other racer tries); ``append`` appends ``APPENDS``
test records through ``steps.append``. The outcome goes to ``result-<INDEX>.json``.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

APPENDS = 10
DEADLINE_S = 300.0


def wait_for(path: Path, deadline_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {deadline_s:g} s")
        time.sleep(0.01)


class GatedDirector:
    """Delegates to the real director; ``deploy`` first announces itself and waits for ``release``."""

    def __init__(self, real: Any, sync: Path, index: int) -> None:
        self._real, self._sync, self._index = real, sync, index

    def deploy(self, manifest: str, on_event: Any, **options: Any) -> Any:
        (self._sync / f"entered-{self._index}").touch()
        wait_for(self._sync / "release")
        return self._real.deploy(manifest, on_event, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def main(mode: str, sync: Path, index: int) -> None:
    from boshpipe import chain, steps
    from boshpipe.errors import BoshpipeError
    from boshpipe.ledger import Record
    from boshpipe.ui import Reporter

    ctx = steps.Context.open("dev1", out=Reporter(io.StringIO(), quiet=True))
    if mode == "deploy":
        ctx.__dict__["director"] = GatedDirector(ctx.director, sync, index)
    ctx.store.describe()  # opened before the start line, so the race is the steps' own work
    (sync / f"ready-{index}").touch()
    wait_for(sync / "go")
    result: dict[str, Any]
    try:
        if mode == "deploy":
            chain.deploy(ctx, 1)
            result = {"outcome": "deployed"}
        else:
            ids = [
                steps.append(
                    ctx,
                    Record(
                        kind="test",
                        env="dev1",
                        outcome="succeeded",
                        candidate="redis-templates-1",
                        details={"test": f"racer{index}", "n": n},
                    ),
                ).id
                for n in range(APPENDS)
            ]
            result = {"outcome": "appended", "ids": ids}
    except BoshpipeError as err:
        result = {"outcome": "refused", "type": type(err).__name__, "error": str(err)}
    tmp = sync / f".result-{index}.tmp"
    tmp.write_text(json.dumps(result))
    os.replace(tmp, sync / f"result-{index}.json")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
