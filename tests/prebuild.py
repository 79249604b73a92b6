"""Builds every plugin configuration the test suite uses, so that the suite's fixtures find them
in the build cache ($NEURALSYNTH_CACHE): set-up, run by ci/test.sh before pytest.

    python3 tests/prebuild.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import build_bundles, plugin_builds  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="ns-prebuild-") as tmp:
        for which in plugin_builds():
            t0 = time.perf_counter()
            built = build_bundles(which, Path(tmp) / which)
            print(f"prebuild {which}: {', '.join(sorted(built))} in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
