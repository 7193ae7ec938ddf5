"""Entry point of ``python -m boshpipe.spiff``."""

from __future__ import annotations

import sys

from boshpipe.spiff.cli import main

sys.exit(main())
