"""Shared fixtures: paths to the outside oracles and the model generators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep numpy's BLAS single-threaded: the reference models do many small products
# and the CI machine has two cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

FIXTURES = Path(__file__).parent / "fixtures"
NAM_DIR = FIXTURES / "nam"
RTNEURAL_DIR = FIXTURES / "rtneural"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


# --------------------------------------------------------------------------------------------
# Plugins built by the project (CMake + JUCE), shared by the plugin tests. Building takes a
# few minutes the first time on a fresh machine (the JUCE modules), seconds after that.

PLUGIN_NAME = "NS Test Drive"
STANDARD_MODEL = NAM_DIR / "wavenet_a1_standard.nam"


@pytest.fixture(scope="session")
def plugin_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from neuralsynth.plugins.build import build

    out = tmp_path_factory.mktemp("dist")
    built = build(STANDARD_MODEL, PLUGIN_NAME, formats="vst3,lv2,standalone", out=out, log=lambda *_: None)
    return {b.format: b.path for b in built}


@pytest.fixture(scope="session")
def loader_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from neuralsynth.plugins.build import build

    out = tmp_path_factory.mktemp("dist-loader")
    built = build(None, "NS Test Loader", formats="vst3", out=out, log=lambda *_: None)
    return {b.format: b.path for b in built}


@pytest.fixture(scope="session")
def vst2_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from neuralsynth.plugins.build import build

    out = tmp_path_factory.mktemp("dist-vst2")
    (built,) = build(STANDARD_MODEL, PLUGIN_NAME, formats="vst2", out=out, log=lambda *_: None)
    return built.path


# The NeuralSynth instrument, named as the factory presets expect, with the bundled NAM model in
# its neural stage.
INSTRUMENT_NAME = "NeuralSynth"


@pytest.fixture(scope="session")
def instrument_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from neuralsynth.plugins.build import build
    from neuralsynth.synth import DEFAULT_MODEL

    out = tmp_path_factory.mktemp("instrument")
    built = build(DEFAULT_MODEL, INSTRUMENT_NAME, formats="vst3,lv2,vst2,standalone", out=out,
                  log=lambda *_: None, kind="instrument")
    return {b.format: b.path for b in built}
