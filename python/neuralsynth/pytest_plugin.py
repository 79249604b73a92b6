"""pytest plugin: put a built audio plugin under regression tests.

Registered through the ``pytest11`` entry point, so installing neuralsynth makes it available::

    def test_my_amp(plugin_regression):
        plugin_regression.check("dist/Tweed Drive.vst3", reference="amp.nam",
                                golden="tests/golden/tweed.npz")

``reference`` runs `neuralsynth test`'s comparison against the Python reference (every signal
must pass). ``golden`` compares the plugin's outputs with stored ones (max abs difference at
most ``golden_tolerance``); run pytest with ``--update-golden`` to (re)write the golden file,
which is also written when it does not exist yet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("neuralsynth")
    group.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files of plugin_regression checks",
    )


@dataclass
class PluginRegression:
    update_golden: bool

    def check(
        self,
        plugin: str | os.PathLike,
        reference: str | os.PathLike | None = None,
        golden: str | os.PathLike | None = None,
        host: str = "pedalboard",
        sample_rate: float | None = None,
        tolerance: float | None = None,
        golden_tolerance: float = 1e-6,
        signals: dict[str, np.ndarray] | None = None,
    ) -> list:
        from .plugins.files import check_plugin_path
        from .plugins.hosts import open_plugin
        from .plugins.regress import run_tests
        from .plugins.signals import standard_signals, to_stereo

        check_plugin_path(Path(plugin))
        results = []
        if reference is not None:
            results = run_tests(
                plugin,
                reference,
                host=host,
                sample_rate=sample_rate,
                tolerance=tolerance,
                signals=signals,
                log=lambda *_: None,
            )
            failed = [r for r in results if not r.passed]
            if failed:
                lines = [
                    f"{r.name}: max abs error {r.max_abs_error:.3g} (limit {r.effective_tolerance:.3g}) "
                    f"{'; '.join(r.notes)}"
                    for r in failed
                ]
                pytest.fail("plugin differs from the reference:\n" + "\n".join(lines), pytrace=False)
        if golden is not None:
            rate = float(sample_rate or 48000.0)
            sigs = signals if signals is not None else standard_signals(rate)
            h = open_plugin(plugin, host, rate, 512)
            outputs = {name: h.process(to_stereo(x), rate, block_size=512) for name, x in sigs.items()}
            path = Path(golden)
            if self.update_golden or not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(path.name + ".tmp.npz")
                np.savez_compressed(tmp, **outputs)
                os.replace(tmp, path)
            else:
                stored = np.load(path)
                problems = []
                for name, y in outputs.items():
                    if name not in stored:
                        problems.append(f"{name}: not in the golden file (run with --update-golden)")
                        continue
                    g = stored[name]
                    if g.shape != y.shape:
                        problems.append(f"{name}: shape {y.shape}, golden {g.shape}")
                        continue
                    d = float(np.max(np.abs(y - g))) if y.size else 0.0
                    if not d <= golden_tolerance:
                        problems.append(
                            f"{name}: differs from the golden output by {d:.3g} (limit {golden_tolerance:g})"
                        )
                if problems:
                    pytest.fail(f"{plugin} no longer matches {path}:\n" + "\n".join(problems), pytrace=False)
        return results


@pytest.fixture
def plugin_regression(request: pytest.FixtureRequest) -> PluginRegression:
    return PluginRegression(update_golden=bool(request.config.getoption("--update-golden")))
