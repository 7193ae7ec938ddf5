"""The embedded default director: real redis-server processes on loopback twins of manifest IPs.

Owns planning (``plan``), addresses (``net``), state on disk (``state``), canaries and batches
(``rollout``), task ids and events (``task``), errands (``errand``) and the redis-server process
driver (``redisproc``); ``director`` ties them into ``LocalDirector``. It may import
``boshpipe.director.protocol``, ``redact``, ``groups`` and ``boshpipe.errors``; never
``boshpipe.director.bosh`` nor anything of the chain above it (steps, promotion, store, ledger).
"""

from __future__ import annotations

from boshpipe.director.local.director import LocalDirector

__all__ = ["LocalDirector"]
