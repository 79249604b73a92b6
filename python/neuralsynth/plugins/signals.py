"""Test signals for plugin regression tests (deterministic)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "data"


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def log_sweep(sample_rate: float, seconds: float, level_db: float, f0: float = 20.0, f1: float = 20000.0) -> np.ndarray:
    """Exponential sine sweep from f0 to f1 (capped below Nyquist) at a peak level in dBFS."""
    f1 = min(f1, 0.45 * sample_rate)
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    k = np.log(f1 / f0)
    phase = 2 * np.pi * f0 * seconds / k * (np.exp(t / seconds * k) - 1.0)
    return (db_to_gain(level_db) * np.sin(phase)).astype(np.float32)


def white_noise(sample_rate: float, seconds: float, rms_db: float = -18.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(round(seconds * sample_rate))) * db_to_gain(rms_db)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def impulse(sample_rate: float, seconds: float = 1.0, at: int = 100) -> np.ndarray:
    x = np.zeros(int(round(seconds * sample_rate)), np.float32)
    x[at] = 1.0
    return x


def guitar_di(sample_rate: float) -> np.ndarray:
    """The bundled 48 kHz guitar DI (NeuralAmpModelerCore's example input), resampled if needed."""
    import soundfile as sf

    x, sr = sf.read(DATA / "input.wav", dtype="float32")
    if sr != sample_rate:
        import soxr

        x = soxr.resample(x, sr, sample_rate, quality="VHQ").astype(np.float32)
    return x


def standard_signals(sample_rate: float, seconds: float = 2.0) -> dict[str, np.ndarray]:
    """Sweeps at -30/-12/0 dBFS, white noise, an impulse at 100 ms (after any resampler start-up the
    comparison leaves out), the guitar DI."""
    return {
        "sweep_-30dBFS": log_sweep(sample_rate, seconds, -30.0),
        "sweep_-12dBFS": log_sweep(sample_rate, seconds, -12.0),
        "sweep_0dBFS": log_sweep(sample_rate, seconds, 0.0),
        "white_noise": white_noise(sample_rate, seconds),
        "impulse": impulse(sample_rate, min(seconds, 1.0), at=int(round(0.1 * sample_rate))),
        "guitar_di": guitar_di(sample_rate),
    }


def to_stereo(x: np.ndarray) -> np.ndarray:
    """Two different channels (left as given, right at half level and polarity-flipped), so a channel mix-up shows."""
    return np.stack([x, -0.5 * x]).astype(np.float32)
