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


# The NeuralSynth instrument, named as the factory presets expect, with the bundled NAM model in
# its neural stage.
INSTRUMENT_NAME = "NeuralSynth"


def plugin_builds() -> dict[str, dict]:
    """Every plugin configuration the suite builds, by fixture. ci/test.sh builds them all before
    the suite (tests/prebuild.py) so the fixtures find them in the build cache."""
    from neuralsynth.synth import DEFAULT_MODEL

    return {
        "plugin_bundles": dict(model=STANDARD_MODEL, name=PLUGIN_NAME, formats="vst3,lv2,standalone"),
        "loader_bundles": dict(model=None, name="NS Test Loader", formats="vst3"),
        "vst2_bundle": dict(model=STANDARD_MODEL, name=PLUGIN_NAME, formats="vst2"),
        "instrument_bundles": dict(model=DEFAULT_MODEL, name=INSTRUMENT_NAME, formats="vst3,lv2,vst2,standalone",
                                   kind="instrument"),
        # test_plugins.py::test_cli_build_prints_bundle_paths, through the command line
        "cli_build": dict(model=NAM_DIR / "wavenet.nam", name="NS Tiny", formats="vst3"),
    }


def build_bundles(which: str, out: Path) -> dict[str, Path]:
    from neuralsynth.plugins.build import build

    cfg = plugin_builds()[which]
    built = build(cfg["model"], cfg["name"], formats=cfg["formats"], out=out, log=lambda *_: None,
                  **({"kind": cfg["kind"]} if "kind" in cfg else {}))
    return {b.format: b.path for b in built}


@pytest.fixture(scope="session")
def plugin_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_bundles("plugin_bundles", tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def loader_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_bundles("loader_bundles", tmp_path_factory.mktemp("dist-loader"))


@pytest.fixture(scope="session")
def vst2_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundles("vst2_bundle", tmp_path_factory.mktemp("dist-vst2"))["vst2"]


@pytest.fixture(scope="session")
def instrument_bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build_bundles("instrument_bundles", tmp_path_factory.mktemp("instrument"))
