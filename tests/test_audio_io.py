"""Tests of neuralsynth.audio_io: reading, atomic writing and resampling."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from neuralsynth import audio_io
from neuralsynth.audio_io import read_audio, resample, write_audio
from neuralsynth.errors import AudioError

INPUT_WAV = Path(__file__).parent / "fixtures" / "nam" / "input.wav"


def _signal(frames: int = 2000, channels: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.9, 0.9, size=(frames, channels)).astype(np.float32)


# --------------------------------------------------------------------------- round trips


def test_read_fixture_wav() -> None:
    data, rate = read_audio(INPUT_WAV)
    assert rate == 48000
    assert data.dtype == np.float32
    assert data.shape == (96000, 1)
    assert np.max(np.abs(data)) <= 1.0


@pytest.mark.parametrize("channels", [1, 2])
def test_wav_round_trip_is_exact_float32(tmp_path: Path, channels: int) -> None:
    x = _signal(channels=channels)
    x[0, 0] = 1.75  # 32-bit float keeps values beyond full scale
    path = tmp_path / "a.wav"
    write_audio(path, x, 44100)
    assert soundfile.info(str(path)).subtype == "FLOAT"
    y, rate = read_audio(path)
    assert rate == 44100
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x)


@pytest.mark.parametrize("channels", [1, 2])
def test_flac_round_trip_within_24_bit(tmp_path: Path, channels: int) -> None:
    x = _signal(channels=channels)
    path = tmp_path / "a.flac"
    write_audio(path, x, 48000)
    assert soundfile.info(str(path)).subtype == "PCM_24"
    y, rate = read_audio(path)
    assert rate == 48000
    assert y.shape == x.shape
    assert np.max(np.abs(y - x)) <= 2.0**-22


def test_npy_round_trip_mono_is_1d(tmp_path: Path) -> None:
    x = _signal(channels=1)
    path = tmp_path / "a.npy"
    write_audio(path, x, None)
    raw = np.load(path)
    assert raw.shape == (x.shape[0],)
    assert raw.dtype == np.float32
    y, rate = read_audio(path)
    assert rate is None
    np.testing.assert_array_equal(y, x)


def test_npy_round_trip_stereo(tmp_path: Path) -> None:
    x = _signal(channels=2)
    path = tmp_path / "a.npy"
    write_audio(path, x.astype(np.float64), 48000)  # rate ignored for .npy
    raw = np.load(path)
    assert raw.shape == x.shape
    assert raw.dtype == np.float32
    y, _ = read_audio(path)
    np.testing.assert_array_equal(y, x)


def test_write_accepts_1d_data(tmp_path: Path) -> None:
    x = _signal()[:, 0]
    write_audio(tmp_path / "a.wav", x, 48000)
    y, _ = read_audio(tmp_path / "a.wav")
    assert y.shape == (x.shape[0], 1)
    np.testing.assert_array_equal(y[:, 0], x)


def test_read_npy_float64_1d(tmp_path: Path) -> None:
    path = tmp_path / "x.npy"
    np.save(path, np.linspace(-1, 1, 50))
    y, rate = read_audio(path)
    assert rate is None and y.dtype == np.float32 and y.shape == (50, 1)


@pytest.mark.parametrize("ext", [".aiff", ".ogg"])
def test_read_other_soundfile_formats(tmp_path: Path, ext: str) -> None:
    t = np.arange(4800) / 48000
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / f"a{ext}"
    soundfile.write(str(path), x, 48000)
    y, rate = read_audio(path)
    assert rate == 48000
    assert y.shape[1] == 1 and abs(y.shape[0] - x.shape[0]) <= 1
    if ext == ".aiff":
        assert np.max(np.abs(y[:, 0] - x)) < 1e-4


def test_flac_clipping_warns_and_clips(tmp_path: Path) -> None:
    x = np.array([0.0, 0.5, 1.5, -2.0, 1.0, -1.0], dtype=np.float32)
    path = tmp_path / "loud.flac"
    with pytest.warns(UserWarning, match=r"clipped.*\.wav"):
        write_audio(path, x, 48000)
    y, _ = read_audio(path)
    np.testing.assert_allclose(y[:, 0], np.clip(x, -1, 1), atol=2.0**-22)


def test_flac_within_full_scale_does_not_warn(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_audio(tmp_path / "ok.flac", np.array([1.0, -1.0, 0.25]), 48000)


def test_write_replaces_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    write_audio(path, np.zeros(10), 48000)
    write_audio(path, np.ones(20) * 0.5, 48000)
    y, _ = read_audio(path)
    assert y.shape == (20, 1)
    assert sorted(os.listdir(tmp_path)) == ["a.wav"]


# --------------------------------------------------------------------------- atomicity


def _failing_soundfile_write(*args: object, **kwargs: object) -> None:
    handle = args[0]
    # Start writing some bytes, as a real failure half way through would.
    assert not isinstance(handle, (str, os.PathLike)), (
        "expected a temporary file handle"
    )
    handle.write(b"RIFF\x00\x00half-written")  # type: ignore[attr-defined]
    handle.flush()  # type: ignore[attr-defined]
    raise soundfile.LibsndfileError(0, "simulated failure while writing")


@pytest.mark.parametrize("ext", [".wav", ".flac"])
def test_failed_write_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ext: str
) -> None:
    path = tmp_path / f"out{ext}"
    old = np.full(100, 0.25, dtype=np.float32)
    write_audio(path, old, 48000)
    before = path.read_bytes()

    monkeypatch.setattr(soundfile, "write", _failing_soundfile_write)
    with pytest.raises(AudioError, match="simulated failure") as info:
        write_audio(path, np.zeros(500, dtype=np.float32), 48000)
    assert str(path) in str(info.value)

    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left


def test_failed_write_of_new_file_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(soundfile, "write", _failing_soundfile_write)
    with pytest.raises(AudioError):
        write_audio(tmp_path / "new.wav", np.zeros(10), 48000)
    assert os.listdir(tmp_path) == []


def test_interrupted_npy_write_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.npy"
    write_audio(path, np.arange(5, dtype=np.float32), None)
    before = path.read_bytes()

    def interrupted_save(handle: object, arr: object) -> None:
        handle.write(b"\x93NUMPY partial")  # type: ignore[attr-defined]
        raise KeyboardInterrupt

    monkeypatch.setattr(audio_io.np, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        write_audio(path, np.zeros(10), None)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.npy"]


# --------------------------------------------------------------------------- read errors


def test_read_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioError, match="no such file") as info:
        read_audio(path)
    assert str(path) in str(info.value)


def test_read_unsupported_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(b"ID3")
    with pytest.raises(AudioError) as info:
        read_audio(path)
    message = str(info.value)
    assert str(path) in message and "'.mp3'" in message
    for ext in (".wav", ".flac", ".ogg", ".aiff", ".npy"):
        assert ext in message


def test_read_directory(tmp_path: Path) -> None:
    folder = tmp_path / "dir.wav"
    folder.mkdir()
    with pytest.raises(AudioError, match="directory"):
        read_audio(folder)


def test_read_corrupt_wav(tmp_path: Path) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(b"this is not a wav file at all" * 10)
    with pytest.raises(AudioError, match="cannot be read as audio") as info:
        read_audio(path)
    assert str(path) in str(info.value)


def test_read_truncated_flac(tmp_path: Path) -> None:
    path = tmp_path / "cut.flac"
    write_audio(path, _signal(), 48000)
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(AudioError, match=r"cut\.flac"):
        read_audio(path)


def test_read_empty_wav(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    soundfile.write(str(path), np.zeros((0, 1), dtype=np.float32), 48000)
    with pytest.raises(AudioError, match="no audio"):
        read_audio(path)


@pytest.mark.parametrize("shape", [(0,), (0, 2), (10, 0)])
def test_read_empty_npy(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = tmp_path / "empty.npy"
    np.save(path, np.zeros(shape, dtype=np.float32))
    with pytest.raises(AudioError, match="no audio"):
        read_audio(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_read_npy_non_finite(tmp_path: Path, bad: float) -> None:
    path = tmp_path / "nan.npy"
    x = np.zeros(100, dtype=np.float32)
    x[[3, 7]] = bad
    np.save(path, x)
    with pytest.raises(AudioError, match="2 sample.*not finite") as info:
        read_audio(path)
    assert str(path) in str(info.value)


def test_read_npy_float64_overflowing_float32(tmp_path: Path) -> None:
    path = tmp_path / "big.npy"
    np.save(path, np.array([0.0, 1e300]))
    with pytest.raises(AudioError, match="not finite"):
        read_audio(path)


def test_read_npy_wrong_ndim(tmp_path: Path) -> None:
    path = tmp_path / "cube.npy"
    np.save(path, np.zeros((4, 3, 2), dtype=np.float32))
    with pytest.raises(AudioError, match=r"3 dimensions.*\(4, 3, 2\)"):
        read_audio(path)


def test_read_npy_integer_rejected(tmp_path: Path) -> None:
    path = tmp_path / "pcm.npy"
    np.save(path, np.zeros(10, dtype=np.int16))
    with pytest.raises(AudioError, match="int16.*floating-point"):
        read_audio(path)


def test_read_npy_garbage(tmp_path: Path) -> None:
    path = tmp_path / "garbage.npy"
    path.write_bytes(b"not numpy")
    with pytest.raises(AudioError, match="not a valid .npy"):
        read_audio(path)


def test_read_npy_pickled_object_rejected(tmp_path: Path) -> None:
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(AudioError, match="obj.npy"):
        read_audio(path)


def test_read_npz_named_npy(tmp_path: Path) -> None:
    path = tmp_path / "arch.npy"
    with open(path, "wb") as handle:
        np.savez(handle, a=np.zeros(3))
    with pytest.raises(AudioError, match="npz"):
        read_audio(path)


# --------------------------------------------------------------------------- write errors


def test_write_unsupported_extension_before_any_work(tmp_path: Path) -> None:
    path = tmp_path / "out.ogg"
    with pytest.raises(AudioError) as info:
        write_audio(path, np.zeros(10), 48000)
    message = str(info.value)
    assert "'.ogg'" in message and ".wav" in message and ".flac" in message
    assert ".npy" in message
    assert os.listdir(tmp_path) == []


def test_write_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="does not exist"):
        write_audio(tmp_path / "no" / "such" / "dir.wav", np.zeros(10), 48000)


def test_write_bad_shape(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="shape"):
        write_audio(tmp_path / "a.wav", np.zeros((2, 3, 4)), 48000)
    assert os.listdir(tmp_path) == []


def test_write_non_finite_refused(tmp_path: Path) -> None:
    x = np.zeros(10)
    x[4] = np.nan
    with pytest.raises(AudioError, match="non-finite"):
        write_audio(tmp_path / "a.wav", x, 48000)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("rate", [0, -44100, 44100.5, float("nan"), None])
def test_write_bad_sample_rate(tmp_path: Path, rate: float | None) -> None:
    with pytest.raises(AudioError, match="sample rate"):
        write_audio(tmp_path / "a.wav", np.zeros(10), rate)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- resample


def _peak_frequency(x: np.ndarray, rate: float) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.shape[0])))
    return float(np.fft.rfftfreq(x.shape[0], 1.0 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(
    ("src", "dst"), [(44100, 48000), (48000, 44100), (48000, 96000)]
)
def test_resample_sine_keeps_frequency_and_length_ratio(src: int, dst: int) -> None:
    seconds, freq = 1.0, 1000.0
    t = np.arange(int(src * seconds)) / src
    x = (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    y = resample(x, src, dst)
    assert y.dtype == np.float32
    assert abs(y.shape[0] - round(x.shape[0] * dst / src)) <= 1
    assert abs(_peak_frequency(y, dst) - freq) <= 1.0
    # Same amplitude, and aligned in time (no resampler delay): compare with the ideal sine.
    t_out = np.arange(y.shape[0]) / dst
    ideal = 0.5 * np.sin(2 * np.pi * freq * t_out)
    middle = slice(y.shape[0] // 10, -y.shape[0] // 10)
    assert np.max(np.abs(y[middle] - ideal[middle])) < 1e-3


def test_resample_stereo_along_axis_0() -> None:
    x = _signal(frames=4410, channels=2)
    y = resample(x, 44100, 48000)
    assert y.shape == (4800, 2)
    np.testing.assert_allclose(y[:, 0], resample(x[:, 0], 44100, 48000), atol=1e-6)


def test_resample_same_rate_returns_copy() -> None:
    x = _signal()
    y = resample(x, 48000, 48000.0)
    np.testing.assert_array_equal(y, x)
    assert y is not x


def test_resample_keeps_float64() -> None:
    assert resample(np.zeros(441), 44100, 48000).dtype == np.float64


@pytest.mark.parametrize("rate", [0, -1, float("inf"), "fast"])
def test_resample_bad_rate(rate: object) -> None:
    with pytest.raises(AudioError, match="sample rate"):
        resample(np.zeros(10), rate, 48000)  # type: ignore[arg-type]
