"""The real-time contract, proved in C++: no heap allocation in process() or reset().

A C++ test program (tests/cpp/alloc_test.cpp) replaces operator new and
malloc/calloc/realloc/free with counting versions, loads each model, prepares it
(max block 64), then counts allocations while processing blocks of 1, 7, 64, 65,
513, 4096 and 3 samples (the larger ones are split inside the core) and resetting.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import NAM_DIR, RTNEURAL_DIR
from neuralsynth import modelgen

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def alloc_test_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("cmake") is None:
        pytest.fail("cmake is required to build the C++ test program (ci/setup.sh installs it)")
    build = tmp_path_factory.mktemp("cpp-build")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(build), *gen, "-DCMAKE_BUILD_TYPE=Release", "-DNEURALSYNTH_TESTS=ON"],
        check=True,
        capture_output=True,
    )
    subprocess.run(["cmake", "--build", str(build), "--target", "alloc_test"], check=True, capture_output=True)
    return build / "alloc_test"


def _models(tmp: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    docs = {
        "standard.nam": modelgen.nam_wavenet_preset(rng, "standard"),
        "gated-multi-input.nam": modelgen.nam_wavenet(
            rng,
            [
                dict(
                    channels=6,
                    head_size=4,
                    kernel_size=3,
                    dilations=[1, 2, 512],
                    gated=True,
                    activation="Tanh",
                    head_bias=False,
                    input_size=2,
                    condition_size=2,
                ),
                dict(
                    channels=4,
                    head_size=2,
                    kernel_size=2,
                    dilations=[3],
                    gated=False,
                    activation="ReLU",
                    head_bias=True,
                    input_size=6,
                    condition_size=2,
                ),
            ],
        ),
        "lstm-stacked.nam": modelgen.nam_lstm(rng, 16, num_layers=2),
        "lstm-odd.nam": modelgen.nam_lstm(rng, 7, input_size=2),
        "linear.nam": modelgen.nam_linear(rng, 100),
        "every-layer.json": modelgen.rtneural_model(
            rng,
            2,
            [
                ("dense", 8, "tanh"),
                ("conv1d", 6, 3, 4, 2, "relu"),
                ("batchnorm", True),
                ("prelu", False),
                ("gru", 8),
                ("gru", 5),
                ("lstm", 16),
                ("lstm", 3),
                ("activation", "softmax"),
                ("dense", 4, "elu"),
                ("activation", "leakyrelu"),
                ("activation", "sigmoid"),
                ("dense", 1, ""),
            ],
        ),
    }
    paths = []
    for name, doc in docs.items():
        p = tmp / name
        p.write_text(json.dumps(doc))
        paths.append(p)
    return (
        paths + sorted(NAM_DIR.glob("*.nam")) + [RTNEURAL_DIR / f"{n}.json" for n in ("dense", "gru", "lstm", "conv")]
    )


def test_process_and_reset_never_allocate(alloc_test_binary: Path, tmp_path: Path) -> None:
    models = _models(tmp_path)
    proc = subprocess.run([str(alloc_test_binary), *map(str, models)], capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    plain = [ln for ln in lines if "[effect chain" not in ln]
    assert len(plain) == len(models), proc.stdout + proc.stderr
    for line in plain:
        assert "allocations=0 frees=0 finite=yes OK" in line, line
    # The effect chain (plugin and ns_effect_*), automated and bypassed, at the model's rate and at
    # 44.1 kHz through the resamplers (libsoxr, installed by ci/setup.sh), for every one-output model.
    chain = [ln for ln in lines if "[effect chain" in ln]
    resampled = [ln for ln in chain if "[effect chain 44100 Hz" in ln]
    assert len(resampled) >= 8 and len(chain) >= 2 * len(resampled), proc.stdout
    for line in chain:
        assert "allocations=0 frees=0 OK" in line, line
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_counting_hook_sees_allocations(alloc_test_binary: Path, tmp_path: Path) -> None:
    # A model that cannot load makes the program report and fail: the harness is not vacuous.
    bad = tmp_path / "bad.nam"
    bad.write_text("{")
    proc = subprocess.run([str(alloc_test_binary), str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1 and "load failed" in proc.stdout


def test_synth_engine_never_allocates(alloc_test_binary: Path) -> None:
    # Notes past the voice limit (stealing), sustain pedal, pitch bend, parameter changes, the
    # neural stage switching on and off, all-sound-off and reset: no heap allocation.
    model = NAM_DIR / "wavenet_a1_standard.nam"
    proc = subprocess.run([str(alloc_test_binary), "--synth", str(model)], capture_output=True, text=True)
    assert "synth: allocations=0 frees=0 finite=yes OK" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0
