"""Audio and parameter metrics for preset inference: how close a re-rendered estimate is to the target sound.

Every audio metric takes ``(target, estimate, sample_rate)`` and returns one float. Pure numpy/scipy (librosa only
for its mel filterbank), deterministic, no global state besides a small cache of filterbanks.

Input conventions (all audio metrics)
-------------------------------------
Audio
    Floating-point numpy arrays, full scale +-1, shaped ``(n,)`` (mono) or ``(channels, n)`` with at most 16
    channels. Channels are averaged to mono (float64) before anything else. Empty, non-finite (NaN/Inf),
    non-float or badly shaped audio raises :class:`neuralsynth.errors.AudioError` (a ``ValueError``) naming the
    argument (``target`` or ``estimate``).
Lengths
    If the two sounds differ in length both are cut to the **shorter** length (the first ``min(n_t, n_e)``
    samples) before any analysis; nothing is padded. Channel counts may differ (each is averaged to mono).
Sample rate
    One rate for both sounds (the caller resamples; a mismatch cannot be detected from the arrays), an integer
    number of Hz in 8000..768000.
STFT
    Periodic Hann window of ``n_fft`` samples, hop ``n_fft // 4`` (``mfcc_distance``: hop 512), frames centred:
    ``n_fft // 2`` zeros padded on each side, ``1 + n // hop`` frames, frame ``i`` centred on sample ``i * hop``.
    Unnormalised FFT (no 1/n, no window normalisation). Identical to
    ``librosa.stft(x, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="constant")``.
Mel
    Power ``|X|**2`` times ``librosa.filters.mel(sr, n_fft, n_mels, fmin=20, fmax=min(20000, sr / 2))`` (Slaney
    mel scale, Slaney area normalisation -- the filterbank of :mod:`neuralsynth.features`), then
    ``ln(mel + 1e-5)`` (natural log). At very short FFTs some low bands hold no FFT bin at all (at 44.1 kHz,
    n_fft 256: 6 of the 64 bands; at 48 kHz: 7); such a band reads ``ln(1e-5)`` for every sound and adds 0 to
    every difference, i.e. it dilutes that scale's mean by a constant factor (the same for every method).

Metrics (see :data:`METRICS` for names, directions and units)
-------------------------------------------------------------
``mss``                  :func:`multiscale_spectral_distance`, lower is better, 0 for identical sounds.
``spectral_convergence`` :func:`spectral_convergence`, lower is better, 0 for identical sounds.
``mfcc``                 :func:`mfcc_distance`, lower is better, 0 for identical sounds.
``rms_cosine``           :func:`rms_envelope_cosine`, higher is better, 1 for identical sounds.
``f0_cents``             :func:`f0_error_cents`, lower is better, NaN when no frame is voiced in both.

Aggregation over items: :func:`bootstrap_ci` (mean with a percentile-bootstrap CI, NaN values dropped),
:func:`aggregate_metrics` (per-item metric dicts -> per-key CI plus the count of NaN items skipped),
:func:`ratio_ci` (paired bootstrap of mean(baseline) / mean(method)), and :func:`parameter_errors`
(per-parameter MAE or accuracy of normalised parameter predictions, with CIs).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse

from ..errors import AudioError

__all__ = [
    "LOG_FLOOR",
    "METRICS",
    "MetricInfo",
    "aggregate_metrics",
    "audio_metrics",
    "bootstrap_ci",
    "f0_error_cents",
    "log_mel_spectrogram",
    "metric_info",
    "mfcc_distance",
    "multiscale_spectral_distance",
    "parameter_errors",
    "ratio_ci",
    "rms_envelope_cosine",
    "spectral_convergence",
    "stft_magnitude",
]

LOG_FLOOR = 1e-5
"""Additive floor inside ``ln(mel_power + LOG_FLOOR)`` of every log-mel here."""

FMIN = 20.0
"""Lowest mel filter edge, Hz."""

MAX_FMAX = 20000.0
"""Highest mel filter edge, Hz (or the Nyquist frequency if lower)."""

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 16

MFCC_N_FFT = 2048
MFCC_HOP = 512
MFCC_N_MELS = 128


@dataclass(frozen=True)
class MetricInfo:
    """One row of :data:`METRICS`.

    Attributes:
        key: Key in :func:`audio_metrics`' dict.
        name: Display name.
        direction: ``"lower is better"`` or ``"higher is better"``.
        unit: Unit of the value (free text, ``""`` for none).
        description: One line on what it measures.
    """

    key: str
    name: str
    direction: str
    unit: str
    description: str

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher is better"


METRICS: tuple[MetricInfo, ...] = (
    MetricInfo(
        "mss",
        "Multi-scale spectral distance",
        "lower is better",
        "ln(power)",
        "mean |log-mel difference| over FFT sizes 256..4096",
    ),
    MetricInfo(
        "spectral_convergence",
        "Spectral convergence",
        "lower is better",
        "ratio",
        "||S_t| - |S_e||_F / ||S_t||_F at n_fft 2048",
    ),
    MetricInfo(
        "mfcc",
        "MFCC distance",
        "lower is better",
        "ln(power) DCT",
        "mean per-frame Euclidean distance of MFCC 0..19",
    ),
    MetricInfo(
        "rms_cosine",
        "RMS envelope cosine",
        "higher is better",
        "cosine",
        "cosine similarity of the frame-RMS envelopes",
    ),
    MetricInfo(
        "f0_cents",
        "f0 error",
        "lower is better",
        "cents",
        "median |pitch difference| over frames voiced in both",
    ),
)
"""The audio metrics in display order."""


def metric_info(key: str) -> MetricInfo:
    """The :data:`METRICS` row of ``key``; ``KeyError`` naming the known keys otherwise."""
    for info in METRICS:
        if info.key == key:
            return info
    raise KeyError(f"unknown metric {key!r}; known: {', '.join(m.key for m in METRICS)}")


# ---------------------------------------------------------------------------- input checks


def _check_sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer, float, np.floating)):
        raise AudioError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}")
    if isinstance(sample_rate, (float, np.floating)) and not float(sample_rate).is_integer():
        raise AudioError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}")
    sr = int(sample_rate)
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError(f"sample_rate {sr} Hz is outside the supported {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz")
    return sr


def _mono(audio: Any, what: str) -> np.ndarray:
    """Validate one sound and average its channels: float64 vector."""
    if not isinstance(audio, np.ndarray):
        try:
            audio = np.asarray(audio)
        except Exception as exc:  # noqa: BLE001 - reported as an AudioError
            raise AudioError(f"{what} could not be converted to an array: {exc}") from exc
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(f"{what} must be floating point (full scale +-1), got dtype {audio.dtype}")
    if audio.ndim == 2:
        if not 1 <= audio.shape[0] <= MAX_CHANNELS:
            hint = " (it looks like (n, channels): pass audio.T)" if audio.shape[1] <= MAX_CHANNELS else ""
            raise AudioError(
                f"{what}: 2-D audio must be shaped (channels, n) with 1..{MAX_CHANNELS} channels, "
                f"got shape {audio.shape}{hint}"
            )
    elif audio.ndim != 1:
        raise AudioError(f"{what} must be 1-D (n,) or 2-D (channels, n), got shape {audio.shape}")
    if audio.shape[-1] == 0:
        raise AudioError(f"{what} is empty (shape {audio.shape})")
    finite = np.isfinite(audio)
    if not finite.all():
        n_nan = int(np.isnan(audio).sum())
        n_inf = int((~finite).sum()) - n_nan
        first = int(np.flatnonzero(~finite.reshape(-1))[0])
        raise AudioError(
            f"{what} contains non-finite samples ({n_nan} NaN, {n_inf} Inf), the first at flat index {first}"
        )
    x = audio.astype(np.float64, copy=False)
    if x.ndim == 2:
        x = x.mean(axis=0) if x.shape[0] > 1 else x[0]
    return np.ascontiguousarray(x)


def _pair(target: Any, estimate: Any, sample_rate: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Both sounds as float64 mono vectors cut to the shorter length, and the checked sample rate."""
    sr = _check_sample_rate(sample_rate)
    t = _mono(target, "target")
    e = _mono(estimate, "estimate")
    n = min(t.size, e.size)
    return t[:n], e[:n], sr


def _check_n_fft(n_fft: Any, what: str = "n_fft") -> int:
    if isinstance(n_fft, bool) or not isinstance(n_fft, (int, np.integer)) or n_fft < 16 or n_fft % 4:
        raise ValueError(f"{what} must be an int >= 16 divisible by 4, got {n_fft!r}")
    return int(n_fft)


# ---------------------------------------------------------------------------- spectra


@lru_cache(maxsize=8)
def _hann(n_fft: int) -> np.ndarray:
    n = np.arange(n_fft)
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)  # periodic


@lru_cache(maxsize=32)
def _mel_basis(sample_rate: int, n_fft: int, n_mels: int) -> scipy.sparse.csr_array:
    """Slaney mel filterbank (bands, bins), float64, sparse (each bin feeds at most two bands)."""
    import librosa

    fmax = min(MAX_FMAX, sample_rate / 2)
    with warnings.catch_warnings():
        # "Empty filters detected": expected for the low bands of short FFTs, documented in the module docstring.
        warnings.simplefilter("ignore", UserWarning)
        fb = librosa.filters.mel(
            sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=FMIN, fmax=fmax, htk=False, norm="slaney",
            dtype=np.float64,
        )
    return scipy.sparse.csr_array(fb)


def _stft(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Complex STFT (frames, n_fft // 2 + 1) of a float64 vector, centred frames with zero padding."""
    half = n_fft // 2
    padded = np.zeros(x.size + 2 * half, dtype=np.float64)
    padded[half : half + x.size] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop] * _hann(n_fft)
    return scipy.fft.rfft(frames, axis=1)


def _power(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    spec = _stft(x, n_fft, hop)
    return spec.real**2 + spec.imag**2


def _log_mel(x: np.ndarray, sample_rate: int, n_fft: int, hop: int, n_mels: int) -> np.ndarray:
    """ln(mel power + 1e-5), (frames, n_mels) float64."""
    mel = (_mel_basis(sample_rate, n_fft, n_mels) @ _power(x, n_fft, hop).T).T
    return np.log(mel + LOG_FLOOR)


def stft_magnitude(audio: np.ndarray, n_fft: int, hop: int | None = None) -> np.ndarray:
    """``|STFT|`` of a sound (channels averaged), shaped (frames, n_fft // 2 + 1), float64.

    The module's STFT convention: periodic Hann, hop ``n_fft // 4`` unless given, ``n_fft // 2`` zeros padded on
    both sides, ``1 + n // hop`` frames, unnormalised.
    """
    n_fft = _check_n_fft(n_fft)
    hop = n_fft // 4 if hop is None else int(hop)
    if hop < 1:
        raise ValueError(f"hop must be >= 1, got {hop}")
    return np.abs(_stft(_mono(audio, "audio"), n_fft, hop))


def log_mel_spectrogram(
    audio: np.ndarray, sample_rate: int, n_fft: int = 2048, hop: int | None = None, n_mels: int = 128
) -> np.ndarray:
    """``ln(mel_power + 1e-5)`` of a sound (channels averaged), shaped (frames, n_mels), float64.

    The representation the spectral metrics compare (the module's STFT and mel conventions).
    """
    sr = _check_sample_rate(sample_rate)
    n_fft = _check_n_fft(n_fft)
    hop = n_fft // 4 if hop is None else int(hop)
    if hop < 1:
        raise ValueError(f"hop must be >= 1, got {hop}")
    if not isinstance(n_mels, (int, np.integer)) or n_mels < 1:
        raise ValueError(f"n_mels must be a positive int, got {n_mels!r}")
    return _log_mel(_mono(audio, "audio"), sr, n_fft, hop, int(n_mels))


# ---------------------------------------------------------------------------- audio metrics


def multiscale_spectral_distance(
    target: np.ndarray,
    estimate: np.ndarray,
    sample_rate: int,
    fft_sizes: Sequence[int] = (256, 512, 1024, 2048, 4096),
) -> float:
    """Multi-scale log-mel spectral distance (lower is better, 0 for identical sounds).

    For each ``n_fft`` in ``fft_sizes``: power STFT (module convention, hop ``n_fft // 4``), mel filterbank with
    ``n_mels = 64`` if ``n_fft <= 512`` else 128 (fmin 20 Hz, fmax ``min(20000, sr / 2)``), ``ln(mel + 1e-5)``,
    then the mean of ``|L_target - L_estimate|`` over all (frames, bands). The result is the unweighted mean over
    the scales, in natural-log power units: a gain ``g`` on a sound far above the floor reads ``ln(g**2)``
    (1.386 for 2x, i.e. +6.02 dB), and 1 unit is 4.34 dB. Sounds of different length are compared over the
    shorter one.
    """
    t, e, sr = _pair(target, estimate, sample_rate)
    sizes = [_check_n_fft(n, "every fft size") for n in fft_sizes]
    if not sizes:
        raise ValueError("fft_sizes is empty")
    per_scale = []
    for n_fft in sizes:
        n_mels = 64 if n_fft <= 512 else 128
        hop = n_fft // 4
        diff = np.abs(_log_mel(t, sr, n_fft, hop, n_mels) - _log_mel(e, sr, n_fft, hop, n_mels))
        per_scale.append(float(diff.mean()))
    return float(np.mean(per_scale))


def spectral_convergence(target: np.ndarray, estimate: np.ndarray, sample_rate: int, n_fft: int = 2048) -> float:
    """``|| |S_t| - |S_e| ||_F / || |S_t| ||_F`` of linear magnitude STFTs (lower is better, 0 when identical).

    Module STFT convention, hop ``n_fft // 4``. ``x`` against ``a * x`` reads ``|1 - a|``. A silent target
    (all-zero STFT) gives 0.0 if the estimate is silent too, else ``inf``. Compared over the shorter length.
    """
    t, e, _ = _pair(target, estimate, sample_rate)
    n_fft = _check_n_fft(n_fft)
    hop = n_fft // 4
    mag_t = np.abs(_stft(t, n_fft, hop))
    mag_e = np.abs(_stft(e, n_fft, hop))
    denom = float(np.linalg.norm(mag_t))
    num = float(np.linalg.norm(mag_t - mag_e))
    if denom == 0.0:
        return 0.0 if float(np.linalg.norm(mag_e)) == 0.0 else math.inf
    return num / denom


def _mfcc(x: np.ndarray, sample_rate: int, n_mfcc: int) -> np.ndarray:
    log_mel = _log_mel(x, sample_rate, MFCC_N_FFT, MFCC_HOP, MFCC_N_MELS)
    return scipy.fft.dct(log_mel, type=2, norm="ortho", axis=1)[:, :n_mfcc]


def mfcc_distance(target: np.ndarray, estimate: np.ndarray, sample_rate: int, n_mfcc: int = 20) -> float:
    """Mean over frames of the Euclidean distance between MFCC vectors (lower is better, 0 when identical).

    MFCC here: the orthonormal DCT-II over the band axis of ``ln(mel + 1e-5)`` (n_fft 2048, hop 512, 128 Slaney
    mel bands, fmin 20 Hz, fmax ``min(20000, sr / 2)``); the vector compared is coefficients ``0 .. n_mfcc - 1``
    (``n_mfcc`` values, **coefficient 0 included**, so an overall level difference counts: a gain ``g`` far above
    the floor reads ``sqrt(128) * ln(g**2)``). Natural-log units, no liftering, no dB scaling (unlike
    ``librosa.feature.mfcc``). Compared over the shorter length.
    """
    t, e, sr = _pair(target, estimate, sample_rate)
    if isinstance(n_mfcc, bool) or not isinstance(n_mfcc, (int, np.integer)) or not 1 <= n_mfcc <= MFCC_N_MELS:
        raise ValueError(f"n_mfcc must be an int in 1..{MFCC_N_MELS}, got {n_mfcc!r}")
    diff = _mfcc(t, sr, int(n_mfcc)) - _mfcc(e, sr, int(n_mfcc))
    return float(np.sqrt((diff * diff).sum(axis=1)).mean())


def _rms_envelope(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """RMS of centred rectangular frames (``frame // 2`` zeros padded on each side), ``1 + n // hop`` frames."""
    half = frame // 2
    padded = np.zeros(x.size + 2 * half, dtype=np.float64)
    padded[half : half + x.size] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop]
    count = 1 + x.size // hop
    return np.sqrt(np.einsum("ij,ij->i", frames[:count], frames[:count]) / frame)


def rms_envelope_cosine(
    target: np.ndarray, estimate: np.ndarray, sample_rate: int, frame: int = 1024, hop: int = 256
) -> float:
    """Cosine similarity of the frame-RMS envelopes (higher is better, 1.0 for identical sounds).

    RMS over rectangular frames of ``frame`` samples, hop ``hop``, centred with zero padding (``1 + n // hop``
    frames, frame ``i`` centred on sample ``i * hop``). Insensitive to overall gain (``x`` vs ``2 x`` reads 1.0),
    in 0..1 since RMS values are non-negative. Both silent: 1.0; exactly one silent: 0.0. Compared over the
    shorter length. ``sample_rate`` is only checked (frames are in samples).
    """
    t, e, _ = _pair(target, estimate, sample_rate)
    for name, value in (("frame", frame), ("hop", hop)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    a = _rms_envelope(t, int(frame), int(hop))
    b = _rms_envelope(e, int(frame), int(hop))
    aa = float(a @ a)
    bb = float(b @ b)
    if aa == 0.0 and bb == 0.0:
        return 1.0
    if aa == 0.0 or bb == 0.0:
        return 0.0
    return float(min(1.0, float(a @ b) / math.sqrt(aa * bb)))


def f0_error_cents(target: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Median ``|1200 log2(f0_estimate / f0_target)|`` over the frames voiced in both sounds (lower is better).

    f0 from the project's YIN, ``neuralsynth.features.compute_features(audio, sample_rate)["f0_hz"]`` with its
    default settings (100 frames/s, 30..2000 Hz, threshold 0.15, computed at 16 kHz; 0.0 marks unvoiced frames).
    Returns **NaN** when no frame is voiced in both (silence, noise, an unpitched estimate): aggregate with
    :func:`bootstrap_ci` / :func:`aggregate_metrics`, which drop NaN and count what they dropped. Octave errors
    are not folded (an estimate an octave off reads 1200). Compared over the shorter length.
    """
    from ..features import compute_features

    t, e, sr = _pair(target, estimate, sample_rate)
    f_t = compute_features(t, sr)["f0_hz"].astype(np.float64)
    f_e = compute_features(e, sr)["f0_hz"].astype(np.float64)
    both = (f_t > 0.0) & (f_e > 0.0)
    if not both.any():
        return math.nan
    cents = 1200.0 * np.abs(np.log2(f_e[both] / f_t[both]))
    return float(np.median(cents))


def audio_metrics(target: np.ndarray, estimate: np.ndarray, sample_rate: int) -> dict[str, float]:
    """All five audio metrics with their default settings, keyed as :data:`METRICS` (and in its order)."""
    t, e, sr = _pair(target, estimate, sample_rate)
    return {
        "mss": multiscale_spectral_distance(t, e, sr),
        "spectral_convergence": spectral_convergence(t, e, sr),
        "mfcc": mfcc_distance(t, e, sr),
        "rms_cosine": rms_envelope_cosine(t, e, sr),
        "f0_cents": f0_error_cents(t, e, sr),
    }


# ---------------------------------------------------------------------------- aggregation

_BOOT_CHUNK = 1 << 20  # resampled values drawn per chunk (bounds memory for large item counts)


def _check_level(level: float, n_boot: int) -> None:
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive int, got {n_boot!r}")


def _as_vector(values: Any, what: str) -> np.ndarray:
    try:
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a sequence of numbers: {exc}") from exc
    if v.ndim != 1:
        raise ValueError(f"{what} must be 1-D, got shape {v.shape}")
    return v


def _boot_index_chunks(n: int, n_boot: int, seed: int):  # noqa: ANN202 - generator of int arrays
    """Bootstrap resamples of ``range(n)``, ``n_boot`` rows in total, a few rows at a time (deterministic)."""
    rng = np.random.default_rng(seed)
    rows = max(1, _BOOT_CHUNK // n)
    done = 0
    while done < n_boot:
        k = min(rows, n_boot - done)
        yield rng.integers(0, n, size=(k, n))
        done += k


def _interval(samples: np.ndarray, level: float) -> tuple[float, float]:
    alpha = (1.0 - float(level)) / 2.0
    # Linear interpolation between order statistics; with infinite resampled values (an item scored inf, e.g.
    # spectral convergence of a silent target) interpolation would give inf - inf = NaN, so take the nearest one.
    method = "linear" if np.isfinite(samples).all() else "nearest"
    lo, hi = np.percentile(samples, [100.0 * alpha, 100.0 * (1.0 - alpha)], method=method)
    return float(lo), float(hi)


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, level: float = 0.95, n_boot: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """``(mean, lo, hi)``: the mean and its percentile-bootstrap confidence interval at ``level``.

    NaN values are dropped first (count them with ``np.isnan``, or use :func:`aggregate_metrics`). ``n_boot``
    resamples of the items with replacement (``numpy.random.default_rng(seed)``, so deterministic), the bounds
    are the ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles (numpy's linear interpolation) of the
    resampled means. A single value or a constant array gives ``lo = hi = mean``; no values give
    ``(nan, nan, nan)``. ``+-inf`` values are kept (the mean is then infinite; the bounds are then the nearest
    order statistics instead of interpolated ones, so they are finite or infinite but never NaN).
    """
    _check_level(level, n_boot)
    v = _as_vector(values, "values")
    v = v[~np.isnan(v)]
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    if bool((v == v[0]).all()):  # one value, or a constant array: the bootstrap distribution is a point
        c = float(v[0])
        return (c, c, c)
    mean = float(v.mean())
    means = np.concatenate([v[idx].mean(axis=1) for idx in _boot_index_chunks(v.size, int(n_boot), int(seed))])
    lo, hi = _interval(means, level)
    return (mean, lo, hi)


def ratio_ci(
    baseline_values: Sequence[float] | np.ndarray,
    method_values: Sequence[float] | np.ndarray,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(ratio, lo, hi)`` with ``ratio = mean(baseline) / mean(method)`` over the same items, paired bootstrap CI.

    ``baseline_values[i]`` and ``method_values[i]`` must be the same item. Items where either value is NaN are
    dropped (from both). Each resample draws item indices with replacement and applies them to both arrays
    jointly, so the item-to-item variation common to both cancels. For a lower-is-better metric a ratio above 1
    means the method is better ("beats the baseline by ratio x"). Percentile interval as in
    :func:`bootstrap_ci`; no items give ``(nan, nan, nan)``; a zero method mean gives ``inf`` (or NaN for 0/0).
    """
    _check_level(level, n_boot)
    b = _as_vector(baseline_values, "baseline_values")
    m = _as_vector(method_values, "method_values")
    if b.shape != m.shape:
        raise ValueError(
            f"baseline_values and method_values must be paired (same items), got lengths {b.size} and {m.size}"
        )
    keep = ~(np.isnan(b) | np.isnan(m))
    b, m = b[keep], m[keep]
    if b.size == 0:
        return (math.nan, math.nan, math.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(b.mean()) / np.float64(m.mean()))
        if b.size == 1:
            return (ratio, ratio, ratio)
        parts = []
        for idx in _boot_index_chunks(b.size, int(n_boot), int(seed)):
            parts.append(b[idx].mean(axis=1) / m[idx].mean(axis=1))
    ratios = np.concatenate(parts)
    ratios = ratios[~np.isnan(ratios)]
    if ratios.size == 0:
        return (ratio, math.nan, math.nan)
    lo, hi = _interval(ratios, level)
    return (ratio, lo, hi)


def aggregate_metrics(
    per_item: Sequence[Mapping[str, float]],
    keys: Sequence[str] | None = None,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> tuple[dict[str, tuple[float, float, float]], dict[str, int]]:
    """Per-item metric dicts (as :func:`audio_metrics` returns) -> (``{key: (mean, lo, hi)}``, ``{key: skipped}``).

    ``keys`` defaults to every :data:`METRICS` key present in the first item. ``skipped[key]`` is the number of
    items whose value was NaN (dropped by :func:`bootstrap_ci`); keys with nothing skipped are left out. The two
    dicts fit :class:`neuralsynth.inverse.report.MethodSummary`'s ``metrics`` and ``skipped``.
    """
    if keys is None:
        keys = [m.key for m in METRICS if per_item and m.key in per_item[0]]
    out: dict[str, tuple[float, float, float]] = {}
    skipped: dict[str, int] = {}
    for key in keys:
        try:
            values = np.array([float(item[key]) for item in per_item], dtype=np.float64)
        except KeyError as exc:
            raise ValueError(f"metric {key!r} is missing from an item") from exc
        out[key] = bootstrap_ci(values, level=level, n_boot=n_boot, seed=seed)
        n_nan = int(np.isnan(values).sum())
        if n_nan:
            skipped[key] = n_nan
    return out, skipped


def _check_kinds(kinds: Sequence[Any], num_params: int) -> list[tuple[str, int | None]]:
    if len(kinds) != num_params:
        raise ValueError(f"kinds has {len(kinds)} entries but the arrays have {num_params} parameters")
    out: list[tuple[str, int | None]] = []
    for j, kind in enumerate(kinds):
        try:
            name, steps = kind
        except (TypeError, ValueError):
            raise ValueError(
                f"kinds[{j}] must be ('continuous', None) or ('discrete', steps), got {kind!r}"
            ) from None
        if name == "continuous":
            out.append(("continuous", None))
        elif name == "discrete":
            if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
                raise ValueError(f"kinds[{j}]: a discrete parameter needs an int steps >= 2, got {steps!r}")
            out.append(("discrete", int(steps)))
        else:
            raise ValueError(f"kinds[{j}]: kind must be 'continuous' or 'discrete', got {name!r}")
    return out


def _classes(v: np.ndarray, steps: int) -> np.ndarray:
    """Class of normalised values: ``round(v * (steps - 1))`` with halves rounded up, clipped to 0..steps-1."""
    return np.clip(np.floor(v * (steps - 1) + 0.5), 0, steps - 1).astype(np.int64)


def parameter_errors(
    true: np.ndarray,
    pred: np.ndarray,
    kinds: Sequence[tuple[str, int | None]],
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Per-parameter error of normalised (0..1) parameter predictions, with bootstrap CIs over the N items.

    ``true`` and ``pred`` are (N, P) arrays; ``kinds[j]`` is ``("continuous", None)`` or ``("discrete", steps)``.
    Continuous: ``metric = "mae"``, the mean ``|pred - true|`` with a :func:`bootstrap_ci` interval. Discrete: the
    class of a value ``v`` is ``round(v * (steps - 1))`` with **halves rounded up** (``floor(x + 0.5)``) and then
    clipped to ``0 .. steps - 1`` (so predictions slightly outside 0..1 still land on a class); ``metric =
    "accuracy"``, the fraction of items whose classes agree, with a :func:`bootstrap_ci` interval of that
    fraction. Values are not required to lie in 0..1 but must be finite.

    Returns one dict per parameter, in order: ``{"index", "kind", "metric", "value", "lo", "hi"}`` plus
    ``"steps"`` (None for continuous).
    """
    t = np.asarray(true, dtype=np.float64)
    p = np.asarray(pred, dtype=np.float64)
    if t.ndim != 2 or p.ndim != 2:
        raise ValueError(f"true and pred must be 2-D (N, P), got shapes {t.shape} and {p.shape}")
    if t.shape != p.shape:
        raise ValueError(f"true and pred must have the same shape, got {t.shape} and {p.shape}")
    if t.shape[0] == 0:
        raise ValueError(f"true and pred hold no items (shape {t.shape})")
    for name, arr in (("true", t), ("pred", p)):
        if not np.isfinite(arr).all():
            rows, cols = np.nonzero(~np.isfinite(arr))
            raise ValueError(
                f"{name} holds {rows.size} non-finite value(s), the first at item {rows[0]}, parameter {cols[0]}"
            )
    checked = _check_kinds(kinds, t.shape[1])
    out = []
    for j, (kind, steps) in enumerate(checked):
        if kind == "continuous":
            per_item = np.abs(p[:, j] - t[:, j])
            metric = "mae"
        else:
            assert steps is not None
            per_item = (_classes(p[:, j], steps) == _classes(t[:, j], steps)).astype(np.float64)
            metric = "accuracy"
        value, lo, hi = bootstrap_ci(per_item, level=level, n_boot=n_boot, seed=seed)
        out.append(dict(index=j, kind=kind, steps=steps, metric=metric, value=value, lo=lo, hi=hi))
    return out
