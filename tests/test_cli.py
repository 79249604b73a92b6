"""Tests of the ``neuralsynth`` command line (neuralsynth.cli)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import soxr

from neuralsynth.cli import main, model_cmds

NAM = Path(__file__).parent / "fixtures" / "nam"
RTNEURAL = Path(__file__).parent / "fixtures" / "rtneural"
PYTHON_DIR = Path(__file__).resolve().parent.parent / "python"
INPUT_WAV = NAM / "input.wav"
NAM_MODELS = ["wavenet", "lstm", "wavenet_a1_standard"]
SHORT = 12000  # 0.25 s at 48 kHz, for tests that do not need the whole fixture


ENGINES = ["numpy", "cpp"]


def run(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_clean_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2, err
    assert err.startswith("neuralsynth: error: "), err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"


@pytest.fixture(scope="module")
def mono() -> np.ndarray:
    data, rate = soundfile.read(str(INPUT_WAV), dtype="float32")
    assert rate == 48000 and data.ndim == 1
    return data


@pytest.fixture
def short_wav(tmp_path: Path, mono: np.ndarray) -> Path:
    path = tmp_path / "short.wav"
    soundfile.write(str(path), mono[:SHORT], 48000, subtype="FLOAT")
    return path


def read(path: Path) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return data, rate


# --------------------------------------------------------------------------- process


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("model", NAM_MODELS)
def test_process_matches_official_nam_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, engine: str, model: str
) -> None:
    out = tmp_path / "out.wav"
    code, stdout, err = run(
        capsys, "process", NAM / f"{model}.nam", INPUT_WAV, out, "--engine", engine
    )
    assert code == 0, err
    assert "96000 samples x 1 channel" in stdout and "real-time factor" in stdout
    assert soundfile.info(str(out)).subtype == "FLOAT"
    y, rate = read(out)
    assert rate == 48000
    expected = np.load(NAM / f"{model}.out.npy")
    assert y.shape == (expected.shape[0], 1)
    assert np.max(np.abs(y[:, 0] - expected)) < 1e-5


@pytest.mark.parametrize("engine", ENGINES)
def test_process_npy_in_and_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mono: np.ndarray, engine: str
) -> None:
    src = tmp_path / "in.npy"
    np.save(src, mono)  # .npy has no rate: the model's rate is assumed
    out = tmp_path / "out.npy"
    code, _, err = run(
        capsys, "process", NAM / "wavenet.nam", src, out, "--engine", engine
    )
    assert code == 0, err
    y = np.load(out)
    assert y.dtype == np.float32 and y.shape == mono.shape
    assert np.max(np.abs(y - np.load(NAM / "wavenet.out.npy"))) < 1e-5


def test_process_npy_input_written_at_model_rate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, mono: np.ndarray
) -> None:
    src = tmp_path / "in.npy"
    np.save(src, mono[:SHORT])
    out = tmp_path / "out.flac"
    code, _, err = run(
        capsys, "process", NAM / "wavenet.nam", src, out, "--engine", "numpy"
    )
    assert code == 0, err
    y, rate = read(out)
    assert rate == 48000 and y.shape == (SHORT, 1)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("model", ["wavenet", "lstm"])
def test_stereo_channels_processed_independently(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    mono: np.ndarray,
    engine: str,
    model: str,
) -> None:
    left = mono[:SHORT]
    right = (0.5 * mono[SHORT : 2 * SHORT][::-1]).astype(np.float32)
    stereo = tmp_path / "stereo.wav"
    soundfile.write(
        str(stereo), np.stack([left, right], axis=1), 48000, subtype="FLOAT"
    )
    out = tmp_path / "out.wav"
    code, stdout, err = run(
        capsys, "process", NAM / f"{model}.nam", stereo, out, "--engine", engine
    )
    assert code == 0, err
    assert "2 channels" in stdout
    y, rate = read(out)
    assert rate == 48000 and y.shape == (SHORT, 2)

    # Each channel equals the mono processing of that channel from a fresh state.
    for ch, signal in enumerate([left, right]):
        mono_in = tmp_path / f"ch{ch}.npy"
        mono_out = tmp_path / f"ch{ch}_out.npy"
        np.save(mono_in, signal)
        code, _, err = run(
            capsys,
            "process",
            NAM / f"{model}.nam",
            mono_in,
            mono_out,
            "--engine",
            engine,
        )
        assert code == 0, err
        np.testing.assert_allclose(y[:, ch], np.load(mono_out), rtol=0, atol=1e-6)
    # The first channel is the start of the fixture input (causal model).
    expected = np.load(NAM / f"{model}.out.npy")[:SHORT]
    assert np.max(np.abs(y[:, 0] - expected)) < 1e-5


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("model", ["wavenet", "lstm"])
def test_block_size_does_not_change_output(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    mono: np.ndarray,
    engine: str,
    model: str,
) -> None:
    src = tmp_path / "in.npy"
    np.save(src, mono[:1500])
    outputs = []
    for block in ["1", "7", "1000", "4096"]:
        out = tmp_path / f"out{block}.npy"
        code, _, err = run(
            capsys,
            "process",
            NAM / f"{model}.nam",
            src,
            out,
            "--engine",
            engine,
            "--block-size",
            block,
        )
        assert code == 0, err
        outputs.append(np.load(out))
    for other in outputs[1:]:
        np.testing.assert_allclose(other, outputs[0], rtol=0, atol=1e-6)
    expected = np.load(NAM / f"{model}.out.npy")[:1500]
    assert np.max(np.abs(outputs[0] - expected)) < 1e-5


@pytest.mark.parametrize("block", ["0", "-3", "abc"])
def test_block_size_must_be_positive(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short_wav: Path, block: str
) -> None:
    code, _, err = run(
        capsys,
        "process",
        NAM / "wavenet.nam",
        short_wav,
        tmp_path / "o.wav",
        f"--block-size={block}",
    )
    assert code == 2
    assert "--block-size" in err and "Traceback" not in err
    assert not (tmp_path / "o.wav").exists()


@pytest.fixture
def wav_44k(tmp_path: Path, mono: np.ndarray) -> Path:
    path = tmp_path / "in44.wav"
    x = soxr.resample(mono[:SHORT], 48000, 44100, quality="VHQ")
    soundfile.write(str(path), x, 44100, subtype="FLOAT")
    return path


def test_sample_rate_mismatch_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, wav_44k: Path
) -> None:
    out = tmp_path / "out.wav"
    code, _, err = run(
        capsys, "process", NAM / "wavenet.nam", wav_44k, out, "--engine", "numpy"
    )
    assert_clean_error(
        code,
        err,
        f"{wav_44k} is 44100 Hz but the model runs at 48000 Hz",
        "pass --resample to convert with soxr (the output is written at 44100 Hz)",
    )
    assert not out.exists()


def test_sample_rate_mismatch_notes_assumed_model_rate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, wav_44k: Path
) -> None:
    out = tmp_path / "out.wav"
    code, _, err = run(
        capsys,
        "process",
        NAM / "wavenet_a1_standard.nam",
        wav_44k,
        out,
        "--engine",
        "numpy",
    )
    assert_clean_error(code, err, "48000 Hz (assumed", "--resample")


@pytest.mark.parametrize("engine", ENGINES)
def test_resample_flag(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    wav_44k: Path,
    mono: np.ndarray,
    engine: str,
) -> None:
    out = tmp_path / "out.wav"
    code, stdout, err = run(
        capsys,
        "process",
        NAM / "wavenet.nam",
        wav_44k,
        out,
        "--engine",
        engine,
        "--resample",
    )
    assert code == 0, err
    x, _ = read(wav_44k)
    y, rate = read(out)
    assert rate == 44100
    assert y.shape == x.shape
    assert "44100 Hz" in stdout
    # Close to the 48 kHz reference output brought to 44.1 kHz (the model is
    # nonlinear and the input band-limited, so not exactly equal).
    expected = soxr.resample(
        np.load(NAM / "wavenet.out.npy")[:SHORT], 48000, 44100, "VHQ"
    )
    middle = slice(500, -500)
    error = y[middle, 0] - expected[middle]
    assert np.sqrt(np.mean(error**2)) < 0.05 * np.sqrt(np.mean(expected[middle] ** 2))


def test_resample_flag_is_harmless_at_model_rate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short_wav: Path
) -> None:
    out = tmp_path / "out.npy"
    code, _, err = run(
        capsys,
        "process",
        NAM / "wavenet.nam",
        short_wav,
        out,
        "--engine",
        "numpy",
        "--resample",
    )
    assert code == 0, err
    expected = np.load(NAM / "wavenet.out.npy")[:SHORT]
    assert np.max(np.abs(np.load(out) - expected)) < 1e-5


def test_output_replaces_existing_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, short_wav: Path
) -> None:
    out = tmp_path / "out.wav"
    out.write_bytes(b"old")
    code, _, err = run(
        capsys, "process", NAM / "wavenet.nam", short_wav, out, "--engine", "numpy"
    )
    assert code == 0, err
    assert read(out)[0].shape == (SHORT, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav", "short.wav"]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("command", ["info", "process"])
def test_bad_model_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    bad = tmp_path / "broken.nam"
    bad.write_text('{"version": "0.5.4", "architecture": "WaveNet", "config": ')
    extra = [INPUT_WAV, tmp_path / "o.wav"] if command == "process" else []
    code, _, err = run(capsys, command, bad, *extra, "--engine", "numpy")
    assert_clean_error(code, err, "broken.nam")
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_model_with_wrong_weights(
    capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    code, _, err = run(capsys, "info", RTNEURAL / "bad_lstm.json", "--engine", engine)
    assert_clean_error(code, err, "bad_lstm.json")


def test_missing_model_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "info", tmp_path / "nope.nam", "--engine", "numpy")
    assert_clean_error(code, err, "nope.nam", "no such")


def test_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "missing.wav"
    out = tmp_path / "o.wav"
    code, _, err = run(
        capsys, "process", NAM / "wavenet.nam", missing, out, "--engine", "numpy"
    )
    assert_clean_error(code, err, str(missing), "no such file")
    assert not out.exists()


def test_unsupported_output_type_fails_before_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(engine: str, path: str) -> None:
        raise AssertionError("the model must not be loaded")

    monkeypatch.setattr(model_cmds, "load_with_engine", no_model)
    code, _, err = run(
        capsys, "process", NAM / "wavenet.nam", INPUT_WAV, tmp_path / "o.mp3"
    )
    assert_clean_error(code, err, "o.mp3", ".wav, .flac, .npy")


def test_cpp_engine_unavailable_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import neuralsynth

    monkeypatch.delattr(neuralsynth, "load_model", raising=False)
    monkeypatch.setitem(sys.modules, "neuralsynth.model", None)  # import fails
    code, _, err = run(capsys, "info", NAM / "wavenet.nam", "--engine", "cpp")
    assert_clean_error(code, err, "C++ engine is not available", "--engine numpy")


def test_unexpected_failure_has_no_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(engine: str, path: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(model_cmds, "load_with_engine", broken)
    monkeypatch.delenv("NEURALSYNTH_TRACEBACK", raising=False)
    code, _, err = run(capsys, "info", NAM / "wavenet.nam")
    assert code == 1
    assert "internal error: RuntimeError: boom" in err and "Traceback" not in err


def test_usage_errors_return_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "process", NAM / "wavenet.nam")
    assert code == 2 and "usage:" in err
    code, _, err = run(capsys, "info", NAM / "wavenet.nam", "--engine", "torch")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys)
    assert code == 2


def test_help_returns_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "process", "--help")
    assert code == 0 and "--block-size" in out and "--controls" in out


# --------------------------------------------------------------------------- controls


class FakeModel:
    """A stand-in model with control inputs and several outputs (records its input)."""

    architecture = "Fake"
    format = "rtneural"
    sample_rate = 48000.0
    sample_rate_known = True
    num_weights = 3
    receptive_field = 1

    def __init__(self, num_inputs: int, num_outputs: int = 1) -> None:
        self.num_inputs = num_inputs
        self.num_outputs = num_outputs
        self.blocks: list[np.ndarray] = []
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def process(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self.blocks.append(x.copy())
        audio = x if self.num_inputs == 1 else x[0]
        extra = 0.0 if self.num_inputs == 1 else x[1:].sum(axis=0)
        y = audio + extra
        if self.num_outputs == 1:
            return y
        return np.stack([y * (k + 1) for k in range(self.num_outputs)])


class FakeLoader:
    """Replaces the process/info commands' load_with_engine so that it returns FakeModel instances."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.made: list[FakeModel] = []

    def install(self, num_inputs: int, num_outputs: int = 1) -> None:
        def load(engine: str, path: str) -> FakeModel:
            self.made.append(FakeModel(num_inputs, num_outputs))
            return self.made[-1]

        self.monkeypatch.setattr(model_cmds, "load_with_engine", load)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeLoader:
    return FakeLoader(monkeypatch)


def test_controls_fill_extra_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeLoader
) -> None:
    fake.install(3)
    src = tmp_path / "in.npy"
    x = np.linspace(-0.5, 0.5, 100, dtype=np.float32)
    np.save(src, x)
    out = tmp_path / "o.npy"
    code, _, err = run(
        capsys,
        "process",
        "m.json",
        src,
        out,
        "--controls=-0.25,0.75",
        "--block-size",
        "30",
    )
    assert code == 0, err
    model = fake.made[0]
    assert [b.shape for b in model.blocks] == [(3, 30), (3, 30), (3, 30), (3, 10)]
    joined = np.concatenate(model.blocks, axis=1)
    np.testing.assert_array_equal(joined[0], x)
    assert np.all(joined[1] == np.float32(-0.25)) and np.all(
        joined[2] == np.float32(0.75)
    )
    np.testing.assert_allclose(np.load(out), x + 0.5, atol=1e-7)


def test_controls_default_to_zero_with_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeLoader
) -> None:
    fake.install(3)
    src = tmp_path / "in.npy"
    np.save(src, np.ones(10, dtype=np.float32))
    code, _, err = run(capsys, "process", "m.json", src, tmp_path / "o.npy")
    assert code == 0, err
    assert "2 control input(s)" in err and "0.0" in err and "--controls" in err
    assert np.all(fake.made[0].blocks[0][1:] == 0.0)


@pytest.mark.parametrize(
    ("inputs", "controls", "fragment"),
    [
        (3, "1", "has 2 control input(s), but --controls gives 1 value(s)"),
        (2, "1,2", "has 1 control input(s), but --controls gives 2 value(s)"),
        (1, "0.5", "takes audio only"),
    ],
)
def test_controls_count_must_match(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    fake: FakeLoader,
    inputs: int,
    controls: str,
    fragment: str,
) -> None:
    fake.install(inputs)
    src = tmp_path / "in.npy"
    np.save(src, np.ones(10, dtype=np.float32))
    code, _, err = run(
        capsys, "process", "m.json", src, tmp_path / "o.npy", "--controls", controls
    )
    assert_clean_error(code, err, fragment)
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("bad", ["a,b", "1,,2", "nan", "1,inf"])
def test_controls_must_be_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: str
) -> None:
    code, _, err = run(
        capsys,
        "process",
        NAM / "wavenet.nam",
        INPUT_WAV,
        tmp_path / "o.wav",
        f"--controls={bad}",
    )
    assert code == 2 and "--controls" in err


def test_multichannel_reset_and_multiple_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: FakeLoader
) -> None:
    fake.install(1, 2)
    src = tmp_path / "in.npy"
    x = np.stack([np.full(8, 0.1), np.full(8, 0.2)], axis=1).astype(np.float32)
    np.save(src, x)
    code, _, err = run(capsys, "process", "m.json", src, tmp_path / "o.npy")
    assert code == 0, err
    assert fake.made[0].resets == 2
    y = np.load(tmp_path / "o.npy")
    assert y.shape == (8, 4)
    np.testing.assert_allclose(y[0], [0.1, 0.2, 0.2, 0.4], atol=1e-7)
    assert "4 channels" in err


def test_controls_with_real_rtneural_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A dense 2 -> 1 RTNeural model: y = 0.5 * audio - 2 * control + 0.125."""
    model = tmp_path / "knob.json"
    model.write_text(
        json.dumps(
            {
                "in_shape": [None, 2],
                "layers": [
                    {
                        "type": "dense",
                        "activation": "",
                        "shape": [None, 1],
                        "weights": [[[0.5], [-2.0]], [0.125]],
                    }
                ],
            }
        )
    )
    code, out, err = run(capsys, "info", model, "--engine", "numpy", "--json")
    if code != 0:
        pytest.skip(f"the numpy engine does not load a 2-input dense model: {err}")
    assert json.loads(out)["inputs"] == ["audio", "control 1"]
    src = tmp_path / "in.npy"
    x = np.linspace(-1, 1, 50, dtype=np.float32)
    np.save(src, x)
    code, _, err = run(
        capsys,
        "process",
        model,
        src,
        tmp_path / "o.npy",
        "--engine",
        "numpy",
        "--controls",
        "0.1",
    )
    assert code == 0, err
    np.testing.assert_allclose(
        np.load(tmp_path / "o.npy"), 0.5 * x - 0.2 + 0.125, atol=1e-6
    )


# --------------------------------------------------------------------------- info


@pytest.mark.parametrize("engine", ENGINES)
def test_info_json_wavenet(capsys: pytest.CaptureFixture[str], engine: str) -> None:
    code, out, err = run(
        capsys, "info", NAM / "wavenet.nam", "--engine", engine, "--json"
    )
    assert code == 0, err
    info = json.loads(out)
    doc = json.loads((NAM / "wavenet.nam").read_text())
    assert info["file"] == str(NAM / "wavenet.nam")
    assert info["engine"] == engine
    assert info["format"] == "nam"
    assert info["architecture"] == "WaveNet"
    assert info["nam_version"] == "0.5.4"
    assert info["num_weights"] == len(doc["weights"]) == 131
    assert isinstance(info["receptive_field"], int) and info["receptive_field"] > 1
    assert info["receptive_field_ms"] == pytest.approx(info["receptive_field"] / 48.0)
    assert info["recurrent"] is False
    assert isinstance(info["latency"], int) and info["latency"] >= 0
    assert info["sample_rate"] == 48000 and info["sample_rate_known"] is True
    assert info["num_inputs"] == 1 and info["inputs"] == ["audio"]
    assert info["num_outputs"] == 1
    assert info["metadata"] == {
        "name": "Test Model",
        "modeled_by": "Steve",
        "gear_make": "Darkglass Electronics",
        "gear_model": "Microtubes 900 v2",
        "gear_type": "amp",
        "tone_type": "clean",
        "loudness": pytest.approx(-20.020729064941406),
    }
    if engine == "cpp":
        assert isinstance(info["macs_per_sample"], int)


def test_info_json_lstm_and_unstated_rate(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "info", NAM / "lstm.nam", "--engine", "numpy", "--json")
    info = json.loads(out)
    assert code == 0
    assert info["architecture"] == "LSTM" and info["receptive_field"] is None
    assert info["recurrent"] is True and info["num_weights"] == 70

    code, out, _ = run(
        capsys, "info", NAM / "wavenet_a1_standard.nam", "--engine", "numpy", "--json"
    )
    info = json.loads(out)
    assert code == 0
    assert info["num_weights"] == 13802 and info["nam_version"] == "0.5.0"
    assert info["sample_rate"] == 48000 and info["sample_rate_known"] is False
    assert info["metadata"] == {}


@pytest.mark.parametrize("engine", ENGINES)
def test_info_text(capsys: pytest.CaptureFixture[str], engine: str) -> None:
    code, out, err = run(capsys, "info", NAM / "wavenet.nam", "--engine", engine)
    assert code == 0, err
    lines = {
        line.split(":", 1)[0]: line.split(":", 1)[1].strip()
        for line in out.splitlines()
    }
    assert lines["format"] == "nam"
    assert lines["architecture"] == "WaveNet"
    assert lines["NAM version"] == "0.5.4"
    assert lines["weights"] == "131"
    assert lines["receptive field"].endswith("ms at 48000 Hz)")
    assert lines["sample rate"] == "48000 Hz"
    assert lines["inputs"] == "1 (audio)"
    assert lines["outputs"] == "1"
    assert lines["gear_make"] == "Darkglass Electronics"
    assert lines["loudness"] == "-20.02 dB"
    assert "latency" in lines


def test_info_text_recurrent_and_assumed_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = run(capsys, "info", NAM / "lstm.nam", "--engine", "numpy")
    assert "recurrent (unbounded)" in out
    _, out, _ = run(
        capsys, "info", NAM / "wavenet_a1_standard.nam", "--engine", "numpy"
    )
    assert "48000 Hz (not stated in the file; assumed)" in out
    assert "13,802" in out


def test_info_control_inputs_listed(
    capsys: pytest.CaptureFixture[str], fake: FakeLoader
) -> None:
    fake.install(3)
    code, out, _ = run(capsys, "info", "m.json")
    assert code == 0
    assert "3 (audio, control 1, control 2)" in out


# --------------------------------------------------------------------------- bench


def test_bench_passes_arguments(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_main(**kwargs: Any) -> int:
        calls.append(kwargs)
        return 0

    module = types.ModuleType("neuralsynth.bench")
    module.main = fake_main
    monkeypatch.setitem(sys.modules, "neuralsynth.bench", module)

    assert run(capsys, "bench", "a.nam", "b.nam", "--seconds", "2.5", "--json")[0] == 0
    assert calls[-1] == {
        "models": ["a.nam", "b.nam"],
        "block_size": 64,
        "seconds": 2.5,
        "as_json": True,
    }
    assert run(capsys, "bench", "--block-size", "128")[0] == 0
    assert calls[-1]["models"] == [] and calls[-1]["block_size"] == 128
    assert calls[-1]["as_json"] is False
    assert calls[-1].get("seconds") is None
    assert run(capsys, "bench", "--seconds", "0")[0] == 2


# --------------------------------------------------------------------------- subprocess


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in [str(PYTHON_DIR), env.get("PYTHONPATH", "")] if p
    )
    return env


def test_python_dash_m(tmp_path: Path, short_wav: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuralsynth",
            "info",
            str(NAM / "wavenet.nam"),
            "--engine",
            "numpy",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=_subprocess_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["architecture"] == "WaveNet"

    out = tmp_path / "o.wav"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuralsynth",
            "process",
            str(NAM / "wavenet.nam"),
            str(short_wav),
            str(out),
            "--engine",
            "numpy",
        ],
        capture_output=True,
        text=True,
        env=_subprocess_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert read(out)[0].shape == (SHORT, 1)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuralsynth",
            "process",
            str(NAM / "wavenet.nam"),
            str(tmp_path / "missing.wav"),
            str(out),
            "--engine",
            "numpy",
        ],
        capture_output=True,
        text=True,
        env=_subprocess_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("neuralsynth: error: ")
    assert "missing.wav" in result.stderr and "Traceback" not in result.stderr
