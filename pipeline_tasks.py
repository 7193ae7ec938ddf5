"""`invoke pipeline.*`: check the Concourse pipelines in this repository and set them with fly.

Thin like tasks.py: each task parses its flags and calls one function of boshpipe.concourse.
"""

from __future__ import annotations

from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from boshpipe.project import Project
from boshpipe.taskrunner import DEBUG, one_line_errors


@task(help={"debug": DEBUG})
@one_line_errors
def check(c: Context, debug: bool = False) -> None:
    """Check every pipeline file against tasks.py, the env folders and credentials.example.yml."""
    from boshpipe import concourse

    root = Project.discover().root
    problems = concourse.check([root / path for path in concourse.PIPELINE_FILES], root)
    for problem in problems:
        print(problem)
    if problems:
        raise Exit(f"pipeline.check: {len(problems)} problem(s)", code=1)
    print(f"pipeline.check: {', '.join(concourse.PIPELINE_FILES)} ok")


@task(
    name="set",
    help={
        "target": "fly target (as in `fly -t TARGET login`)",
        "name": "pipeline name in Concourse (default: redis-pipeline, or redis-pipeline-image with --image)",
        "file": "pipeline file (default: pipeline/pipeline.yml, or ci_image/pipeline.yml with --image)",
        "credentials": "vars file for `fly -l` (default: credentials.yml; see credentials.example.yml)",
        "image": "set the task image's pipeline (ci_image/pipeline.yml) instead",
        "non_interactive": "do not ask fly for confirmation of the diff",
        "debug": DEBUG,
    },
)
@one_line_errors
def set_pipeline(
    c: Context,
    target: str,
    name: str | None = None,
    file: str | None = None,
    credentials: str | None = None,
    image: bool = False,
    non_interactive: bool = False,
    debug: bool = False,
) -> None:
    """Set a pipeline with `fly -t TARGET set-pipeline -p NAME -c FILE -l credentials.yml`."""
    from boshpipe import concourse

    root = Project.discover().root
    default_name, default_file = (
        ("redis-pipeline-image", "ci_image/pipeline.yml") if image else ("redis-pipeline", "pipeline/pipeline.yml")
    )
    concourse.set_pipeline(
        target,
        name or default_name,
        Path(file) if file else root / default_file,
        Path(credentials) if credentials else root / "credentials.yml",
        non_interactive=non_interactive,
    )
