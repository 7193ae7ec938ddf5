"""boshpipe: compose, pack, gate and deploy the Redis BOSH release across dev1, dev2, staging, production."""

from __future__ import annotations

__version__ = "0.1.0"
