"""Tests of neuralsynth.features against independent oracles.

Oracles used here, none of them the code under test or the library it calls:
- f0: the frequency the test signal was synthesised at;
- A-weighting: the IEC 61672-1 analytic A curve (written out below) and the standard's nominal table values;
- loudness level: Parseval's theorem for a Hann-windowed sine (exact closed form below);
- mel band centres: Slaney's mel scale written out below (linear below 1 kHz, log above);
- MFCC: scipy.fft.dct (type II, orthonormal) of the returned log-mel;
- frame counts: exact rational arithmetic (fractions.Fraction).
"""

from __future__ import annotations

import json
import math
import time
from fractions import Fraction

import numpy as np
import pytest
import scipy.fft

from neuralsynth.errors import AudioError
from neuralsynth.features import (
    FEATURE_KEYS,
    FRAME_RATE,
    FeatureSettings,
    compute_features,
    frame_centers,
    n_frames,
)

RATES = (44100, 48000, 22050, 16000)
LOG_FLOOR = math.log(1e-8)

# --------------------------------------------------------------------------------------------
# Independent signal generators and reference formulas


def sine(freq: float, sr: int, seconds: float, amp: float = 0.5, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2.0 * np.pi * freq * t + phase)).astype(np.float32)


def additive_saw(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    """Band-limited sawtooth: sum of harmonics k below Nyquist with amplitude 1/k."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = np.zeros_like(t)
    k = 1
    while k * freq < sr / 2:
        x += np.sin(2.0 * np.pi * k * freq * t) / k
        k += 1
    return (amp * 2.0 / np.pi * x).astype(np.float32)


def naive_saw(freq: float, sr: int, seconds: float, amp: float = 0.5) -> np.ndarray:
    """Trivial (aliased) sawtooth from a phase accumulator, as a cheap synth oscillator produces it."""
    phase = (np.arange(int(round(seconds * sr))) * freq / sr) % 1.0
    return (amp * (2.0 * phase - 1.0)).astype(np.float32)


def iec_a_weighting_db(f: float) -> float:
    """IEC 61672-1:2013 A-weighting, analytic form: 20 log10(R_A(f)) + 2.00 dB."""
    f2 = f * f
    ra = (12194.0**2 * f2 * f2) / ((f2 + 20.6**2) * math.sqrt((f2 + 107.7**2) * (f2 + 737.9**2)) * (f2 + 12194.0**2))
    return 20.0 * math.log10(ra) + 2.0


def sine_loudness_db(amp: float, n_fft: int, freq: float) -> float:
    """DDSP v2 loudness of a steady sine, from Parseval: the one-sided sum of |X_k|^2 of a Hann-windowed sine of
    amplitude A is (N/2) * (A^2/2) * sum(w^2) with sum(w^2) = 3N/8 (periodic Hann); the mean runs over N/2 + 1
    bins. The A-weight is taken at the sine's frequency (the weight varies little across the main lobe)."""
    mean_power = (n_fft / 2) * (amp**2 / 2) * (3 * n_fft / 8) / (n_fft / 2 + 1)
    return 10.0 * math.log10(mean_power) + iec_a_weighting_db(freq)


def slaney_hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=float)
    log_step = math.log(6.4) / 27.0
    return np.where(f < 1000.0, f * 3.0 / 200.0, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / log_step)


def slaney_mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=float)
    log_step = math.log(6.4) / 27.0
    return np.where(m < 15.0, m * 200.0 / 3.0, 1000.0 * np.exp((m - 15.0) * log_step))


def mel_edges(settings: FeatureSettings) -> np.ndarray:
    """n_mels + 2 points equally spaced on the Slaney mel scale between fmin and fmax (band b: edges b..b+2)."""
    lo, hi = slaney_hz_to_mel(settings.fmin), slaney_hz_to_mel(settings.fmax)
    return slaney_mel_to_hz(np.linspace(lo, hi, settings.n_mels + 2))


def steady(x: np.ndarray, margin: int = 15) -> np.ndarray:
    return x[margin:-margin]


# --------------------------------------------------------------------------------------------
# Frame counts and layout


@pytest.mark.parametrize("sr", RATES)
@pytest.mark.parametrize("n", [1, 2, 159, 160, 161, 220, 221, 441, 479, 480, 481, 44100, 48000, 176400])
def test_all_features_have_n_frames(sr: int, n: int) -> None:
    expected = math.floor(Fraction(n * FRAME_RATE, sr)) + 1
    assert n_frames(n, sr) == expected
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32) * 0.1
    feats = compute_features(x, sr)
    assert set(feats) == set(FEATURE_KEYS)
    assert feats["log_mel"].shape == (expected, 128)
    assert feats["mfcc"].shape == (expected, 30)
    for key in ("f0_hz", "f0_confidence", "loudness_db"):
        assert feats[key].shape == (expected,)
    for key, value in feats.items():
        assert value.dtype == np.float32, key
        assert np.isfinite(value).all(), key


def test_known_frame_counts() -> None:
    assert n_frames(176400, 44100) == 401
    assert n_frames(176400, 48000) == 368
    assert n_frames(192000, 48000) == 401
    assert n_frames(1, 44100) == 1
    assert n_frames(440, 44100) == 1
    assert n_frames(441, 44100) == 2
    assert n_frames(88200, 22050) == 401


@pytest.mark.parametrize("sr", RATES)
def test_frame_centres_follow_100_per_second(sr: int) -> None:
    c = frame_centers(4 * sr, sr)
    ideal = np.arange(c.size) * (sr / FRAME_RATE)
    assert np.abs(c - ideal).max() <= 0.5
    assert set(np.diff(c)) <= {math.floor(sr / FRAME_RATE), math.ceil(sr / FRAME_RATE)}
    assert c[-1] <= 4 * sr


@pytest.mark.parametrize("sr", RATES)
def test_frames_are_centred_on_their_time(sr: int) -> None:
    """A tone switched on at exactly 1.000 s: frames centred well before it see nothing, well after it see it all."""
    onset = sr
    x = np.concatenate([np.zeros(onset, np.float32), sine(440.0, sr, 1.0, amp=0.5)])
    feats = compute_features(x, sr)
    loud = feats["loudness_db"]
    n_fft = FeatureSettings(sr).n_fft
    half_window_frames = math.ceil(n_fft / 2 / sr * FRAME_RATE)  # 3 frames at 44.1 kHz (23 ms)
    assert loud[100 - half_window_frames - 1] == pytest.approx(-80.0)
    full = sine_loudness_db(0.5, n_fft, 440.0)
    assert loud[100 + half_window_frames + 1] == pytest.approx(full, abs=0.3)
    # The frame centred on the onset holds the tone under half of a symmetric window: half the power, -3.01 dB.
    assert loud[100] - full == pytest.approx(-3.01, abs=0.15)
    f0 = feats["f0_hz"]
    assert (f0[:95] == 0.0).all()  # the 16 kHz YIN frame reaches 33.5 ms either side of its centre
    assert (np.abs(f0[105:-5] / 440.0 - 1.0) < 0.01).all()


# --------------------------------------------------------------------------------------------
# f0


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("freq", [55.0, 110.0, 220.0, 440.0, 880.0, 1760.0])
def test_f0_of_sines(sr: int, freq: float) -> None:
    feats = compute_features(sine(freq, sr, 1.0, phase=0.3), sr)
    f0, conf = feats["f0_hz"], feats["f0_confidence"]
    voiced = f0 > 0
    # Frames whose 67 ms analysis window lies inside the clip: all voiced, confident and within 0.1 %.
    inner = slice(4, -4)
    assert voiced[inner].all()
    assert (conf[inner] > 0.95).all()
    assert np.abs(f0[inner] / freq - 1.0).max() < 0.001
    # Every voiced frame, including the clip edges where part of the window is zero padding: within 1.5 %.
    assert np.abs(f0[voiced] / freq - 1.0).max() < 0.015


@pytest.mark.parametrize("sr", [44100, 22050, 16000])
@pytest.mark.parametrize("freq", [55.0, 110.0, 440.0, 1760.0])
def test_f0_of_harmonic_tones(sr: int, freq: float) -> None:
    for x in (additive_saw(freq, sr, 1.0), naive_saw(freq, sr, 1.0)):
        f0 = compute_features(x, sr)["f0_hz"]
        voiced = f0 > 0
        assert voiced[4:-4].all()
        assert np.abs(f0[voiced] / freq - 1.0).max() < 0.01


def test_f0_follows_a_pitch_step_and_a_gap() -> None:
    sr = 48000
    x = np.concatenate([sine(220.0, sr, 0.5), np.zeros(sr // 2, np.float32), additive_saw(330.0, sr, 0.5)])
    f0 = compute_features(x, sr)["f0_hz"]
    assert np.abs(f0[5:45] / 220.0 - 1.0).max() < 0.01
    assert (f0[55:95] == 0.0).all()
    assert np.abs(f0[105:145] / 330.0 - 1.0).max() < 0.01


@pytest.mark.parametrize("sr", RATES)
def test_silence_is_unvoiced(sr: int) -> None:
    feats = compute_features(np.zeros(sr, np.float32), sr)
    assert (feats["f0_hz"] == 0.0).all()
    assert (feats["f0_confidence"] == 0.0).all()


def test_noise_and_dc_are_unvoiced() -> None:
    sr = 44100
    noise = np.random.default_rng(1).standard_normal(2 * sr).astype(np.float32) * 0.3
    feats = compute_features(noise, sr)
    assert (feats["f0_hz"] > 0).mean() < 0.05
    assert np.median(feats["f0_confidence"]) < 0.5
    dc = np.full(sr, 0.5, np.float32)
    assert (compute_features(dc, sr)["f0_hz"] == 0.0).all()


# --------------------------------------------------------------------------------------------
# Loudness


@pytest.mark.parametrize("sr", RATES)
def test_loudness_steps_20_db_per_decade_of_amplitude(sr: int) -> None:
    levels = [
        np.median(steady(compute_features(sine(1000.0, sr, 1.0, amp=a), sr)["loudness_db"])) for a in (1.0, 0.1, 0.01)
    ]
    assert levels[0] - levels[1] == pytest.approx(20.0, abs=0.5)
    assert levels[1] - levels[2] == pytest.approx(20.0, abs=0.5)


@pytest.mark.parametrize("sr", RATES)
def test_loudness_absolute_level_matches_parseval(sr: int) -> None:
    n_fft = FeatureSettings(sr).n_fft
    loud = steady(compute_features(sine(1000.0, sr, 1.0, amp=1.0), sr)["loudness_db"])
    expected = sine_loudness_db(1.0, n_fft, 1000.0)  # +25.84 dB at n_fft 2048, +22.82 dB at 1024
    assert np.abs(loud - expected).max() < 0.1


@pytest.mark.parametrize("sr", [44100, 48000])
def test_loudness_a_weighting_at_100_hz(sr: int) -> None:
    """IEC 61672-1 table: A-weighting -19.1 dB at 100 Hz, 0.0 dB at 1 kHz."""
    at_1k = np.median(steady(compute_features(sine(1000.0, sr, 1.0), sr)["loudness_db"]))
    at_100 = np.median(steady(compute_features(sine(100.0, sr, 1.0), sr)["loudness_db"]))
    assert at_100 - at_1k == pytest.approx(-19.1, abs=0.3)


@pytest.mark.parametrize(
    "freq, table_db",
    # IEC 61672-1 nominal A-weighting, one-third-octave centre frequencies
    [(125.0, -16.1), (250.0, -8.6), (500.0, -3.2), (2000.0, 1.2), (4000.0, 1.0), (8000.0, -1.1), (16000.0, -6.6)],
)
def test_loudness_follows_the_a_curve(freq: float, table_db: float) -> None:
    sr = 44100
    at_1k = np.median(steady(compute_features(sine(1000.0, sr, 1.0), sr)["loudness_db"]))
    at_f = np.median(steady(compute_features(sine(freq, sr, 1.0), sr)["loudness_db"]))
    assert at_f - at_1k == pytest.approx(iec_a_weighting_db(freq) - iec_a_weighting_db(1000.0), abs=0.2)
    assert at_f - at_1k == pytest.approx(table_db, abs=0.25)


@pytest.mark.parametrize("sr", RATES)
def test_silence_sits_on_the_floors(sr: int) -> None:
    feats = compute_features(np.zeros(sr // 2, np.float32), sr)
    assert (feats["loudness_db"] == -80.0).all()
    np.testing.assert_allclose(feats["log_mel"], LOG_FLOOR, atol=1e-5)
    # A sine 130 dB below full scale is under the -80 dB loudness floor too.
    assert (compute_features(sine(1000.0, sr, 0.5, amp=10 ** (-130 / 20)), sr)["loudness_db"] == -80.0).all()


# --------------------------------------------------------------------------------------------
# Log-mel


@pytest.mark.parametrize("sr", RATES)
def test_sine_peaks_in_the_band_with_the_nearest_centre(sr: int) -> None:
    settings = FeatureSettings(sr)
    centres = mel_edges(settings)[1:-1]
    rng = np.random.default_rng(sr)
    # Every 7th band centre, plus random frequencies that are not near the boundary between two bands.
    freqs = list(centres[4::7]) + list(rng.uniform(80.0, 0.95 * settings.fmax, 40))
    checked = 0
    for freq in freqs:
        nearest = int(np.argmin(np.abs(centres - freq)))
        neighbour = nearest + (1 if freq > centres[nearest] else -1)
        if 0 <= neighbour < len(centres):
            spacing = abs(centres[neighbour] - centres[nearest])
            if abs(freq - centres[nearest]) > 0.4 * spacing:
                continue  # near the midpoint: either band may win
        log_mel = compute_features(sine(freq, sr, 0.2), sr)["log_mel"]
        assert int(np.argmax(log_mel[10])) == nearest, f"{freq:.1f} Hz"
        checked += 1
    assert checked >= 30


def test_log_mel_absolute_level_in_a_wide_band() -> None:
    """Above 5 kHz the triangles are hundreds of Hz wide, so a sine at a band centre collects (almost) all of its
    power times the triangle's peak weight 2 / (f_hi - f_lo) (Slaney area normalisation)."""
    sr = 44100
    settings = FeatureSettings(sr)
    edges = mel_edges(settings)
    n_fft = settings.n_fft
    for band in (100, 110, 120):
        f_lo, f_c, f_hi = edges[band : band + 3]
        log_mel = compute_features(sine(f_c, sr, 0.3, amp=0.5), sr)["log_mel"]
        total_power = (n_fft / 2) * (0.5**2 / 2) * (3 * n_fft / 8)  # Parseval, one-sided
        expected = math.log(total_power * 2.0 / (f_hi - f_lo))
        assert np.median(log_mel[5:-5, band]) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_log_mel_doubles_power_per_doubling_of_amplitude(sr: int) -> None:
    noise = 0.01 * np.random.default_rng(2).standard_normal(sr // 2).astype(np.float32)
    x = sine(440.0, sr, 0.5, amp=0.2) + sine(3000.0, sr, 0.5, amp=0.1) + noise
    a = compute_features(x, sr)["log_mel"]
    b = compute_features(2.0 * x, sr)["log_mel"]
    well_above_floor = a > LOG_FLOOR + 10.0
    assert well_above_floor.mean() > 0.95
    np.testing.assert_allclose((b - a)[well_above_floor], math.log(4.0), atol=2e-3)
    peak = np.argmax(a[20])
    assert b[20, peak] - a[20, peak] == pytest.approx(math.log(4.0), abs=1e-4)


# --------------------------------------------------------------------------------------------
# MFCC


@pytest.mark.parametrize("sr", [44100, 16000])
def test_mfcc_is_the_orthonormal_dct_of_log_mel(sr: int) -> None:
    rng = np.random.default_rng(3)
    x = additive_saw(150.0, sr, 0.5) + 0.05 * rng.standard_normal(sr // 2).astype(np.float32)
    feats = compute_features(x, sr)
    reference = scipy.fft.dct(feats["log_mel"].astype(np.float64), type=2, norm="ortho", axis=1)[:, :30]
    assert feats["mfcc"].shape == (n_frames(x.size, sr), 30)
    np.testing.assert_allclose(feats["mfcc"], reference, rtol=1e-5, atol=2e-4)


def test_mfcc_0_tracks_level() -> None:
    sr = 44100
    noise = np.random.default_rng(4).standard_normal(sr).astype(np.float32)
    c0 = [compute_features(a * noise, sr)["mfcc"][:, 0] for a in (0.05, 0.1, 0.2)]
    # Every band gains ln 4 per doubling, and c0 = sum(log_mel) / sqrt(128).
    step = math.log(4.0) * 128 / math.sqrt(128)
    np.testing.assert_allclose(c0[1] - c0[0], step, rtol=1e-3)
    np.testing.assert_allclose(c0[2] - c0[1], step, rtol=1e-3)
    quiet = compute_features(np.zeros(sr, np.float32), sr)["mfcc"][:, 0]
    np.testing.assert_allclose(quiet, LOG_FLOOR * math.sqrt(128), rtol=1e-5)


# --------------------------------------------------------------------------------------------
# Channels, settings and bad input


def test_stereo_is_averaged() -> None:
    sr = 48000
    s = sine(440.0, sr, 0.5, amp=0.5)
    mono = compute_features(s, sr)
    both = compute_features(np.stack([s, s]), sr)
    for key in FEATURE_KEYS:
        np.testing.assert_allclose(both[key], mono[key], rtol=1e-6, atol=1e-6)
    cancelled = compute_features(np.stack([s, -s]), sr)
    assert (cancelled["loudness_db"] == -80.0).all()
    one_side = compute_features(np.stack([s, np.zeros_like(s)]), sr)
    assert np.median(mono["loudness_db"] - one_side["loudness_db"]) == pytest.approx(20 * math.log10(2), abs=0.01)


def test_float64_input_matches_float32() -> None:
    sr = 44100
    x = additive_saw(220.0, sr, 0.5)
    a, b = compute_features(x, sr), compute_features(x.astype(np.float64), sr)
    for key in FEATURE_KEYS:
        np.testing.assert_array_equal(a[key], b[key])


def test_settings_defaults_and_manifest() -> None:
    s44 = FeatureSettings(44100)
    assert (s44.n_fft, s44.fmax, s44.hop) == (2048, 20000.0, 441.0)
    s48 = FeatureSettings(48000)
    assert (s48.n_fft, s48.fmax, s48.hop) == (2048, 20000.0, 480.0)
    s16 = FeatureSettings(16000)
    assert (s16.n_fft, s16.fmax, s16.hop) == (1024, 8000.0, 160.0)
    assert FeatureSettings(22050).hop == 220.5
    manifest = json.loads(json.dumps(s44.to_dict()))
    for key in ("sample_rate", "n_mels", "n_mfcc", "fmin", "fmax", "n_fft", "f0_min", "f0_max", "log_floor"):
        assert key in manifest
    assert manifest["frame_rate"] == 100
    custom = FeatureSettings(44100, n_mels=64, n_mfcc=13, n_fft=1024)
    feats = compute_features(sine(440.0, 44100, 0.3), 44100, custom)
    assert feats["log_mel"].shape == (31, 64) and feats["mfcc"].shape == (31, 13)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_mfcc": 200},
        {"fmin": 5000.0, "fmax": 1000.0},
        {"fmax": 30000.0},
        {"f0_min": 0.0},
        {"f0_max": 5000.0},
        {"n_fft": 1001},
        {"yin_threshold": 1.5},
    ],
)
def test_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        FeatureSettings(44100, **kwargs)


@pytest.mark.parametrize(
    "audio, message",
    [
        (np.zeros(0, np.float32), "empty"),
        (np.zeros((2, 0), np.float32), "empty"),
        (np.array([0.0, np.nan, 0.0], np.float32), "NaN"),
        (np.array([0.0, np.inf, -np.inf], np.float32), "Inf"),
        (np.zeros(100, np.int16), "floating point"),
        (np.zeros((4410, 2), np.float32), "channels, n_samples"),
        (np.zeros((1, 2, 100), np.float32), "1-D"),
        (np.zeros(100, np.complex64), "floating point"),
    ],
)
def test_bad_audio(audio: np.ndarray, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        compute_features(audio, 44100)


def test_bad_sample_rates() -> None:
    x = np.zeros(1000, np.float32)
    for sr in (0, -44100, 100, 44100.5, "44100", True):
        with pytest.raises(AudioError, match="sample_rate"):
            compute_features(x, sr)  # type: ignore[arg-type]
    with pytest.raises(AudioError, match="48000"):
        compute_features(x, 44100, FeatureSettings(48000))
    with pytest.raises(AudioError):
        n_frames(0, 44100)


# --------------------------------------------------------------------------------------------
# Speed


def test_speed_of_a_4_second_clip(capsys: pytest.CaptureFixture[str]) -> None:
    sr = 44100
    x = additive_saw(220.0, sr, 4.0) + 0.01 * np.random.default_rng(5).standard_normal(4 * sr).astype(np.float32)
    compute_features(x, sr)  # warm the filterbank cache
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        compute_features(x, sr)
        times.append(time.perf_counter() - t0)
    best = min(times) * 1e3
    with capsys.disabled():
        median = np.median(times) * 1e3
        print(f"\ncompute_features: {best:.1f} ms per 4 s clip at 44.1 kHz (best of 7; median {median:.1f} ms)")
    assert best < 200.0  # generous: a shared 2-core CI box; about 25 ms when idle
