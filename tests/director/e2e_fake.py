"""A copy of the project (tests.e2e_project) deploying dev1 through the fake director's HTTP API.

The fake director's backend is a local director in the copy's work dir, so what it deploys runs as
real redis-server processes on loopback, and is destroyed when the fake stops.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from boshpipe.director.local import LocalDirector
from tests.director.fake_director import WARDEN_STEMCELL, DirectorBackend, FakeDirector
from tests.e2e_project import E2EProject


@contextlib.contextmanager
def local_backed(
    e2e: E2EProject, secret: str, stemcells: Iterable[dict[str, str]] = (WARDEN_STEMCELL,), **options: Any
) -> Iterator[FakeDirector]:
    """A UAA-authenticated fake director over a local director; dev1 is destroyed when it stops."""
    backend = DirectorBackend(LocalDirector(e2e.workdir / "fake-bosh"), stemcell_rows=[dict(s) for s in stemcells])
    fake = FakeDirector(backend, auth="uaa", client_secret=secret, **options)
    with fake:
        yield fake
        # what the fake director runs is deleted here: the e2e fixture only knows the local director
        e2e.invoke("destroy", "--env", "dev1", check=False)


def point_at(e2e: E2EProject, director: FakeDirector, secret: str, env: str = "dev1", **variables: str) -> None:
    """Point ``env`` of the copy at the fake director: its URL in env.yml, the bosh CLI's client
    variables (no BOSH_ENVIRONMENT: env.yml says where), quick task polling, and ``variables``."""
    env_yml = e2e.root / env / "env.yml"
    env_yml.write_text(env_yml.read_text().replace("director: local", f"director: {director.url}"))
    e2e.env.update(
        BOSH_CLIENT="ci",
        BOSH_CLIENT_SECRET=secret,
        BOSH_CA_CERT=director.ca_pem,
        BOSHPIPE_POLL_INTERVAL="0.02",
        **variables,
    )
    e2e.env.pop("BOSH_ENVIRONMENT", None)
