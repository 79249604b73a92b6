"""The pytest plugin (plugin_regression fixture, --update-golden), run by pytest itself on a real plugin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import STANDARD_MODEL

pytest_plugins = ["pytester"]

INNER = """
import numpy as np
from neuralsynth.plugins.signals import log_sweep, guitar_di

SIGNALS = {{"sweep": log_sweep(48000, 0.5, -12.0), "di": guitar_di(48000)[48000:72000]}}

def test_plugin(plugin_regression):
    plugin_regression.check({plugin!r}, reference={reference!r}, golden={golden!r}, signals=SIGNALS)
"""


def test_golden_files_are_written_then_enforced(pytester: pytest.Pytester, plugin_bundles: dict[str, Path]) -> None:
    golden = pytester.path / "golden" / "drive.npz"
    pytester.makepyfile(
        test_inner=INNER.format(plugin=str(plugin_bundles["vst3"]), reference=str(STANDARD_MODEL), golden=str(golden))
    )
    first = pytester.runpytest_subprocess("-q")
    first.assert_outcomes(passed=1)
    assert golden.is_file()
    second = pytester.runpytest_subprocess("-q")
    second.assert_outcomes(passed=1)

    # Tamper with the golden file: the check must now fail, naming the signal.
    stored = dict(np.load(golden))
    stored["di"] = stored["di"] + 1e-3
    np.savez(golden, **stored)
    third = pytester.runpytest_subprocess("-q")
    third.assert_outcomes(failed=1)
    assert "di: differs from the golden output" in third.stdout.str()

    # --update-golden rewrites it, and the check passes again.
    fourth = pytester.runpytest_subprocess("-q", "--update-golden")
    fourth.assert_outcomes(passed=1)
    pytester.runpytest_subprocess("-q").assert_outcomes(passed=1)
