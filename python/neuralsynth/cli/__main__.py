"""``python -m neuralsynth.cli``: the same as ``python -m neuralsynth``."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
