"""Measures of plugin output the checks use: non-finite and subnormal samples, levels, differences,
the fundamental of a note."""

from __future__ import annotations

import numpy as np


def nonfinite_count(y: np.ndarray) -> int:
    return int(np.count_nonzero(~np.isfinite(y)))


def subnormal_count(y: np.ndarray) -> int:
    a = np.abs(y[np.isfinite(y)])
    return int(np.count_nonzero((a > 0) & (a < np.finfo(np.float32).tiny)))


def peak_level(y: np.ndarray) -> float:
    """The largest finite magnitude (NaN when no sample is finite)."""
    finite = y[np.isfinite(y)]
    return float(np.max(np.abs(finite))) if finite.size else float("nan")


def output_level(y: np.ndarray) -> float:
    """:func:`peak_level`, 0 for no samples at all."""
    return peak_level(y) if y.size else 0.0


def db_text(level: float) -> str:
    if level < 1e-10:
        return "digital silence" if level <= 0 else "below -200 dBFS"
    return f"{20 * np.log10(level):.0f} dBFS"


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference; inf where exactly one side is non-finite or shapes differ."""
    if a.shape != b.shape:
        return float("inf")
    both_nan = np.isnan(a) & np.isnan(b)
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    d[both_nan] = 0.0
    d[np.isnan(d)] = np.inf
    return float(d.max()) if d.size else 0.0


def first_over(a: np.ndarray, b: np.ndarray, tol: float) -> int:
    """First sample index where a and b differ by more than tol (or -1)."""
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    d[np.isnan(d)] = np.inf
    over = np.nonzero((d > tol).any(axis=0))[0]
    return int(over[0]) if over.size else -1


def finite_problem(y: np.ndarray, what: str) -> str | None:
    """What is wrong if the output has NaN or Inf samples, else None."""
    bad = nonfinite_count(y)
    if not bad:
        return None
    first = int(np.nonzero((~np.isfinite(y)).any(axis=0))[0][0])
    return f"{what}: {bad} non-finite output samples (first at sample {first})"


def fundamental(y: np.ndarray, sr: float) -> float:
    """The fundamental frequency (Hz) of a sustained note: the strongest spectral peak, or the
    lowest peak at an integer fraction of it that has at least a quarter of its magnitude."""
    x = y.mean(axis=0).astype(np.float64)
    x = (x - x.mean()) * np.hanning(x.size)
    size = 1 << int(np.ceil(np.log2(x.size * 16)))
    mag = np.abs(np.fft.rfft(x, size))
    freqs = np.fft.rfftfreq(size, 1.0 / sr)
    band = (freqs >= 20.0) & (freqs <= min(8000.0, sr / 2))
    if not np.any(mag[band] > 0):
        return float("nan")

    def peak_near(f: float, width: float) -> tuple[float, float]:
        sel = np.nonzero((freqs >= f - width) & (freqs <= f + width))[0]
        i = int(sel[np.argmax(mag[sel])])
        if 0 < i < mag.size - 1:  # parabolic interpolation on log magnitude
            a, b, c = np.log(mag[i - 1:i + 2] + 1e-30)
            shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
            return float(freqs[i] + shift * (freqs[1] - freqs[0])), float(mag[i])
        return float(freqs[i]), float(mag[i])

    idx = np.nonzero(band)[0]
    top = int(idx[np.argmax(mag[idx])])
    f0, m0 = peak_near(float(freqs[top]), 2 * (freqs[1] - freqs[0]))
    for k in range(8, 1, -1):  # the lowest sub-harmonic with real energy is the fundamental
        if f0 / k < 20.0:
            continue
        f, m = peak_near(f0 / k, 0.03 * f0 / k)
        if m >= 0.25 * m0:
            return f
    return f0
