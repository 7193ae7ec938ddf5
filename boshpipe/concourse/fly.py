"""``fly set-pipeline``: the user's own fly (it must match their Concourse), looked up on PATH."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from boshpipe.concourse.pipeline import CREDENTIALS_EXAMPLE
from boshpipe.errors import ConfigError


def set_pipeline(
    target: str, name: str, file: Path, credentials: Path, *, non_interactive: bool = False
) -> None:
    """``fly -t TARGET set-pipeline -p NAME -c FILE -l CREDENTIALS``, with fly's output passed through.

    fly is the user's own install (it must match their Concourse's version), so it is looked up on
    PATH rather than shipped; its absence and a missing credentials file are one-line errors.
    """
    fly = shutil.which("fly")
    if fly is None:
        raise ConfigError(
            "fly not found on PATH: download it from your Concourse (the bottom-right links of its web UI) "
            "and run `fly -t TARGET login` first"
        )
    if not file.is_file():
        raise ConfigError(f"{file}: pipeline file not found")
    if not credentials.is_file():
        raise ConfigError(
            f"{credentials}: file not found: copy {CREDENTIALS_EXAMPLE} to it and fill in the values"
        )
    argv = [fly, "-t", target, "set-pipeline", "-p", name, "-c", str(file), "-l", str(credentials)]
    if non_interactive:
        argv.append("--non-interactive")
    result = subprocess.run(argv, check=False)
    if result.returncode != 0:
        raise ConfigError(
            f"`fly -t {target} set-pipeline -p {name}` failed (exit {result.returncode}); see above"
        )
