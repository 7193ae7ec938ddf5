"""Entry point of ``python -m boshpipe.ops``."""

from __future__ import annotations

import sys

from boshpipe.ops.cli import main

sys.exit(main())
