"""Concourse: checks the pipelines against the repository, and sets them with fly.

Pipeline YAML rots quietly: a task renamed in ``tasks.py``, a resource nobody declared, a ``passed:``
naming a removed job, a credential pasted in. Concourse only notices some of that when a build
runs. ``check`` reads the pipeline files the way Concourse and ``fly -l`` will and compares them
with what the repository actually holds:

- the invoke tasks, introspected from the real ``tasks.py`` collection (names, flags, positionals),
  so a new or renamed task is seen without editing this module;
- the envs and their gate rules, from ``boshpipe.yml`` and ``<env>/env.yml``;
- the credentials people may supply, from ``credentials.example.yml``.

Every problem is one line naming the file and the YAML path, e.g.
``pipeline/pipeline.yml: jobs[deploy-dev1].plan[0].get: resource 'candidat' is not declared``.

Rooms: ``catalogue`` (the invoke tasks), ``pipeline`` (the model: keys, jobs, steps, ``Problem``),
``shell`` (the invoke command lines a task runs), ``checker`` (``check``), ``fly``
(``set_pipeline``). This package sits beside the chain, not in it: it may import ``project``,
``environments`` and ``errors``, never ``steps``, ``promotion`` or a director.
"""

from __future__ import annotations

from boshpipe.concourse.catalogue import InvokeCall, TaskCatalogue, load_tasks
from boshpipe.concourse.checker import check
from boshpipe.concourse.fly import set_pipeline
from boshpipe.concourse.pipeline import CREDENTIALS_EXAMPLE, PIPELINE_FILES, Problem
from boshpipe.concourse.shell import invoke_argvs, shell_commands

__all__ = [
    "CREDENTIALS_EXAMPLE",
    "PIPELINE_FILES",
    "InvokeCall",
    "Problem",
    "TaskCatalogue",
    "check",
    "invoke_argvs",
    "load_tasks",
    "set_pipeline",
    "shell_commands",
]
