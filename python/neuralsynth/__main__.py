"""``python -m neuralsynth``: run the command line."""

from __future__ import annotations

import sys

from neuralsynth.cli import main

if __name__ == "__main__":
    sys.exit(main())
