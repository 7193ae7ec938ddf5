"""A real BOSH director over its HTTP API: the Director protocol without the Go bosh CLI.

Owns the client (``client``), the HTTP session and CA handling (``http``), UAA and basic auth
(``uaa``), task following (``task``), the deploy diff (``diff``) and the client settings read from
the environment (``config``). It may import ``boshpipe.director.protocol``, ``redact``, ``groups``
and ``boshpipe.errors``; never ``boshpipe.director.local`` nor anything of the chain above it.
"""

from __future__ import annotations

from boshpipe.director.bosh.client import BoshDirector

__all__ = ["BoshDirector"]
