"""Frame-level audio features for the rendered datasets: log-mel, MFCC, f0 and loudness at 100 frames/s.

Every feature of one clip has the same number of frames, ``n_frames(len(audio), sample_rate)``, and frame ``i``
describes the audio *centred* on the time ``i / 100`` s.

Conventions (the manifest copy is :meth:`FeatureSettings.to_dict`)
-------------------------------------------------------------------
Frames
    ``FRAME_RATE = 100`` frames per second. Frame ``i`` is centred on sample ``c_i = round(i * sample_rate / 100)``
    (halves round up). When ``sample_rate`` is a multiple of 100 (16000, 44100, 48000, ...) the hop is the integer
    ``sample_rate // 100`` and the frames are exactly those of ``librosa.stft(center=True, pad_mode="constant")``.
    Otherwise (22050 Hz: hop 220.5) the centres alternate between the two nearest integer hops; each centre is
    within half a sample of its ideal time, and no frame is dropped or repeated.
    Frame count: ``n_frames = floor(n_samples * 100 / sample_rate) + 1`` -- the number of frame times ``i / 100``
    in ``[0, n_samples / sample_rate]``; the same rule as librosa's centred STFT and DDSP's ``padding="center"``.
    The signal is zero-padded (not reflected) beyond both ends.

Spectrum
    One STFT per clip, shared by log-mel and loudness: periodic Hann window of ``n_fft`` samples (default: the
    power of two at or above 40 ms, i.e. 2048 at 44.1/48 kHz, 1024 at 16/22.05 kHz), no normalisation, power
    ``|X|**2``. A full-scale sine therefore has a peak bin power of about ``(n_fft / 4) ** 2``.

``log_mel`` (frames, n_mels) float32
    ``ln(mel_power + 1e-8)`` (natural log, additive floor ``log_floor``; silence reads ``ln(1e-8) = -18.4207``).
    At n_fft 2048 a band holding a full-scale sine reads about +6..+9, white noise of RMS ``s`` reads about
    ``ln(36 * s**2)`` in every band (-5.6 at s = 0.01), so the floor sits near -95 dBFS for noise and -120 dBFS for
    a low tone -- below 16-bit dither, and above the float32 FFT rounding noise of a full-scale signal.
    ``mel_power`` is the power spectrum times the Slaney-style filterbank of ``librosa.filters.mel`` (Slaney mel
    scale -- linear below 1 kHz, logarithmic above, as in Slaney's Auditory Toolbox -- and Slaney area
    normalisation), ``n_mels`` bands between ``fmin`` and ``fmax``. For integer hops this equals
    ``log(librosa.feature.melspectrogram(y, sr, n_fft=n_fft, hop_length=hop, n_mels=..., fmin=..., fmax=...) + 1e-8)``.

``mfcc`` (frames, n_mfcc) float32
    The first ``n_mfcc`` coefficients of the orthonormal DCT-II of ``log_mel`` along the band axis (natural-log
    units, not librosa's dB-based MFCC; no liftering). Coefficient 0 is ``sum(log_mel) / sqrt(n_mels)``.

``f0_hz`` (frames,) float32 and ``f0_confidence`` (frames,) float32
    YIN (de Cheveigné & Kawahara, "YIN, a fundamental frequency estimator for speech and music", JASA 111(4),
    2002): difference function, cumulative-mean-normalised difference d'(tau), absolute threshold, parabolic
    interpolation of the difference function around the chosen lag. Computed on the clip resampled to 16 kHz
    (soxr), integration window of one period of ``f0_min`` and lags for ``f0_min..f0_max``, so each frame looks at
    ``2 * 16000 / f0_min`` samples (67 ms at the default 30 Hz) centred on its time.
    ``f0_confidence = clip(1 - d'(tau*), 0, 1)`` (0 for frames below ``f0_silence_db``). A frame is *voiced* when
    d' dips below ``yin_threshold`` within the lag range and the frame is not silent; ``f0_hz`` is the estimate in
    Hz on voiced frames and exactly **0.0 on unvoiced frames** (never NaN). Accuracy on steady synthetic tones
    (sines, band-limited and aliased saws, 55..1760 Hz, any supported rate): better than 0.1 % for sines and
    0.4 % for saws. Frames whose window is only partly filled (clip edges, note onsets after silence) can be
    voiced with a biased estimate: up to about 1.2 % at 55 Hz, less at higher pitch.

``loudness_db`` (frames,) float32
    A-weighted loudness as DDSP v2+ computes it (``ddsp.spectral_ops.compute_loudness``, magenta/ddsp): power
    spectrum times ``10 ** (librosa.A_weighting(f) / 10)`` (IEC 61672 A curve, clipped at -80 dB as librosa does),
    mean over all ``n_fft // 2 + 1`` bins, then DDSP's ``power_to_db``:
    ``max(10 * log10(max(p, 10 ** (-range_db / 10))) - ref_db, -range_db)`` with ``ref_db = 0``, ``range_db = 80``.
    Silence reads -80 dB. Differences from DDSP's defaults: frames at 100/s instead of 250/s, and ``n_fft`` is this
    module's (2048 at 44.1/48 kHz) instead of 512 at 16 kHz; because the mean runs over ``n_fft // 2 + 1`` bins
    the absolute level depends on ``n_fft`` (a full-scale 1 kHz sine reads +25.8 dB at n_fft 2048, +19.8 dB at
    512), level differences do not. DDSP before v2.0 averaged *dB* values (ref_db 20.7, range 120); that older
    definition is not linear in level for tones and is not the one used here.

Timing: about 20-30 ms per 4 s clip at 44.1 kHz on one core of a 2-core CI box, two thirds of it YIN
(``tests/test_features.py::test_speed_of_a_4_second_clip`` prints it). No BLAS product is used, so the cost
does not grow with OpenBLAS threads.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft
import scipy.sparse

from .errors import AudioError

__all__ = [
    "F0_SAMPLE_RATE",
    "FEATURE_KEYS",
    "FEATURES_VERSION",
    "FRAME_RATE",
    "FeatureSettings",
    "compute_features",
    "frame_centers",
    "n_frames",
]

FRAME_RATE = 100
"""Feature frames per second, at every sample rate."""

F0_SAMPLE_RATE = 16000
"""Sample rate (Hz) the clip is resampled to for the YIN f0 estimate."""

FEATURES_VERSION = 1
"""Bumped whenever a definition below changes the numbers."""

FEATURE_KEYS = ("log_mel", "mfcc", "f0_hz", "f0_confidence", "loudness_db")

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 768000
MAX_CHANNELS = 16


def _default_n_fft(sample_rate: int) -> int:
    """The power of two at or above 40 ms of audio: 2048 at 44.1/48 kHz, 1024 at 16/22.05 kHz."""
    return 1 << math.ceil(math.log2(0.04 * sample_rate))


@dataclass(frozen=True)
class FeatureSettings:
    """Parameters of :func:`compute_features`; ``None`` fields take the sample-rate-dependent defaults.

    Attributes:
        sample_rate: Sample rate of the audio, Hz.
        n_mels: Mel bands of ``log_mel``.
        n_mfcc: MFCC coefficients kept (at most ``n_mels``).
        fmin: Lowest mel filter edge, Hz.
        fmax: Highest mel filter edge, Hz; default ``min(20000, sample_rate / 2)`` so that 44.1 and 48 kHz renders
            share their mel bands.
        n_fft: STFT window and FFT length for log-mel and loudness; default the power of two at or above 40 ms.
        f0_min: Lowest f0 searched, Hz.
        f0_max: Highest f0 searched, Hz (at most 4000, half of the 8 kHz Nyquist of the f0 analysis).
        yin_threshold: YIN absolute threshold on d'(tau); also the voicing decision.
        f0_silence_db: Frames whose mean power in the f0 analysis window is below this (dB re full scale, i.e. a
            sine of amplitude 1 is -3 dB) are unvoiced with confidence 0.
        log_floor: Additive floor inside ``ln(mel_power + log_floor)``.
        loudness_ref_db: DDSP ``ref_db``.
        loudness_range_db: DDSP ``range_db``; the loudness floor is ``-loudness_range_db``.
    """

    sample_rate: int
    n_mels: int = 128
    n_mfcc: int = 30
    fmin: float = 20.0
    fmax: float | None = None
    n_fft: int | None = None
    f0_min: float = 30.0
    f0_max: float = 2000.0
    yin_threshold: float = 0.15
    f0_silence_db: float = -80.0
    log_floor: float = 1e-8
    loudness_ref_db: float = 0.0
    loudness_range_db: float = 80.0

    def __post_init__(self) -> None:
        sr = _check_sample_rate(self.sample_rate)
        object.__setattr__(self, "sample_rate", sr)
        if self.fmax is None:
            object.__setattr__(self, "fmax", float(min(20000.0, sr / 2)))
        if self.n_fft is None:
            object.__setattr__(self, "n_fft", _default_n_fft(sr))
        problems = []
        if not (isinstance(self.n_mels, int) and self.n_mels >= 1):
            problems.append(f"n_mels must be a positive int, got {self.n_mels!r}")
        elif not (isinstance(self.n_mfcc, int) and 1 <= self.n_mfcc <= self.n_mels):
            problems.append(f"n_mfcc must be an int in [1, n_mels={self.n_mels}], got {self.n_mfcc!r}")
        if not (0.0 <= self.fmin < self.fmax <= sr / 2):
            problems.append(
                f"need 0 <= fmin < fmax <= sample_rate / 2 = {sr / 2}, got fmin={self.fmin}, fmax={self.fmax}"
            )
        if not (isinstance(self.n_fft, int) and self.n_fft >= 16 and self.n_fft % 2 == 0):
            problems.append(f"n_fft must be an even int >= 16, got {self.n_fft!r}")
        if not (0.0 < self.f0_min < self.f0_max <= min(4000.0, sr / 2)):
            problems.append(
                "need 0 < f0_min < f0_max <= min(4000, sample_rate / 2), "
                f"got f0_min={self.f0_min}, f0_max={self.f0_max}"
            )
        if not (0.0 < self.yin_threshold < 1.0):
            problems.append(f"yin_threshold must be in (0, 1), got {self.yin_threshold}")
        if not self.log_floor > 0.0:
            problems.append(f"log_floor must be > 0, got {self.log_floor}")
        if not self.loudness_range_db > 0.0:
            problems.append(f"loudness_range_db must be > 0, got {self.loudness_range_db}")
        if problems:
            raise ValueError("invalid FeatureSettings: " + "; ".join(problems))

    @property
    def hop(self) -> float:
        """Samples between frame centres, ``sample_rate / 100`` (220.5 at 22.05 kHz)."""
        return self.sample_rate / FRAME_RATE

    def to_dict(self) -> dict[str, Any]:
        """Every parameter and convention, JSON-ready, for the dataset manifest."""
        d = asdict(self)
        d.update(
            features_version=FEATURES_VERSION,
            frame_rate=FRAME_RATE,
            hop=self.hop,
            frame_rule="n_frames = floor(n_samples * 100 / sample_rate) + 1; frame i centred on round(i * sr / 100)",
            padding="zeros, n_fft // 2 each side (centred frames)",
            window="hann (periodic), unnormalised STFT, power |X|^2",
            log_mel="ln(mel_power + log_floor); librosa.filters.mel Slaney scale, Slaney area norm",
            mfcc="orthonormal DCT-II of log_mel over bands, first n_mfcc, natural-log units",
            f0="YIN (de Cheveigne & Kawahara 2002) at 16 kHz; f0_hz = 0.0 when unvoiced",
            f0_confidence="clip(1 - yin d'(tau*), 0, 1); 0 below f0_silence_db",
            f0_sample_rate=F0_SAMPLE_RATE,
            loudness="DDSP v2 compute_loudness: mean_bins(|X|^2 * 10^(A(f)/10)), power_to_db(ref_db, range_db)",
            units={
                "log_mel": "ln(power)",
                "mfcc": "ln(power) DCT",
                "f0_hz": "Hz",
                "f0_confidence": "0..1",
                "loudness_db": "dB",
            },
        )
        return d


def _check_sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer, float, np.floating)):
        raise AudioError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}")
    if isinstance(sample_rate, (float, np.floating)):
        if not float(sample_rate).is_integer():
            raise AudioError(f"sample_rate must be an integer number of Hz, got {sample_rate!r}")
    sr = int(sample_rate)
    if not MIN_SAMPLE_RATE <= sr <= MAX_SAMPLE_RATE:
        raise AudioError(f"sample_rate {sr} Hz is outside the supported {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz")
    return sr


def n_frames(n_samples: int, sample_rate: int) -> int:
    """Feature frames for ``n_samples`` of audio: ``floor(n_samples * 100 / sample_rate) + 1``.

    Exact integer arithmetic: 401 frames for 176400 samples at 44.1 kHz, 368 at 48 kHz, 1 for a single sample.
    """
    sr = _check_sample_rate(sample_rate)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise AudioError(f"n_samples must be a positive integer, got {n_samples!r}")
    return int(n_samples) * FRAME_RATE // sr + 1


def frame_centers(n_samples: int, sample_rate: int) -> np.ndarray:
    """Sample index each frame is centred on: ``round(i * sample_rate / 100)`` (halves up), int64."""
    count = n_frames(n_samples, sample_rate)
    i = np.arange(count, dtype=np.int64)
    return (2 * i * int(sample_rate) + FRAME_RATE) // (2 * FRAME_RATE)


def _as_mono(audio: Any) -> np.ndarray:
    """Validate and mix down to a contiguous float32 vector."""
    if not isinstance(audio, np.ndarray):
        try:
            audio = np.asarray(audio)
        except Exception as exc:  # noqa: BLE001 - reported as an AudioError
            raise AudioError(f"audio could not be converted to an array: {exc}") from exc
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(
            f"audio must be floating point (float32 or float64, full scale +-1), got dtype {audio.dtype}; "
            "convert integer PCM with x / 32768.0 (int16) or similar"
        )
    if audio.ndim == 2:
        if not 1 <= audio.shape[0] <= MAX_CHANNELS:
            raise AudioError(
                f"2-D audio must be shaped (channels, n_samples) with at most {MAX_CHANNELS} channels, "
                f"got shape {audio.shape}; soundfile returns (n_samples, channels): pass audio.T"
            )
    elif audio.ndim != 1:
        raise AudioError(f"audio must be 1-D (n_samples,) or 2-D (channels, n_samples), got shape {audio.shape}")
    if audio.shape[-1] == 0:
        raise AudioError(f"audio is empty (shape {audio.shape}): at least one sample is needed")
    finite = np.isfinite(audio)
    if not finite.all():
        bad = np.flatnonzero(~finite.reshape(-1))
        kinds = sorted({"NaN" if np.isnan(v) else "Inf" for v in audio.reshape(-1)[bad[:1000]]})
        raise AudioError(
            f"audio contains {bad.size} non-finite sample(s) ({'/'.join(kinds)}), the first at flat index {bad[0]}"
        )
    if audio.ndim == 2:
        mono = audio.mean(axis=0, dtype=np.float64) if audio.shape[0] > 1 else audio[0]
    else:
        mono = audio
    return np.ascontiguousarray(mono, dtype=np.float32)


@lru_cache(maxsize=16)
def _spectral_tables(
    sample_rate: int, n_fft: int, n_mels: int, n_mfcc: int, fmin: float, fmax: float
) -> tuple[np.ndarray, scipy.sparse.csr_array, np.ndarray, np.ndarray]:
    """Hann window, sparse mel filterbank (bands, bins), A-weighting power gains (bins,), DCT-II (bands, n_mfcc)."""
    import librosa  # imported here: a second or so, and only the render extra needs this module

    n = np.arange(n_fft)
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)  # periodic Hann
    mel_fb = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=False, norm="slaney"
    )
    # Sparse (each FFT bin feeds at most two bands): 10x less work than a dense product, and no BLAS threads.
    mel_fb_sparse = scipy.sparse.csr_array(mel_fb.astype(np.float32))
    freqs = np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
    with np.errstate(divide="ignore"):  # log10(0) at the DC bin; librosa then clips it to min_db = -80 dB
        a_gain = (10.0 ** (librosa.A_weighting(freqs) / 10.0)).astype(np.float32)
    # Orthonormal DCT-II: C[k, m] = sqrt((2 - [k == 0]) / M) * cos(pi * k * (2m + 1) / (2M)).
    k = np.arange(n_mfcc)[:, None]
    m = np.arange(n_mels)[None, :]
    dct = np.cos(np.pi * k * (2 * m + 1) / (2 * n_mels)) * np.sqrt(2.0 / n_mels)
    dct[0] /= np.sqrt(2.0)
    return window, mel_fb_sparse, a_gain, np.ascontiguousarray(dct.T, dtype=np.float32)


def _frames(x: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Rows ``x[s : s + length]`` for each start ``s`` (which may be negative or run past the end; zeros there)."""
    lo = int(starts.min()) if starts.size else 0
    hi = int(starts.max()) + length if starts.size else length
    left = max(0, -lo)
    right = max(0, hi - x.size)
    xp = np.zeros(x.size + left + right, dtype=x.dtype)
    xp[left : left + x.size] = x
    return np.lib.stride_tricks.sliding_window_view(xp, length)[starts + left]


def _power_spectrogram(x: np.ndarray, centers: np.ndarray, n_fft: int, window: np.ndarray) -> np.ndarray:
    """|STFT|^2, frames centred on ``centers``, zero padding, float32 (frames, n_fft // 2 + 1)."""
    frames = _frames(x, centers - n_fft // 2, n_fft)  # a fresh copy (fancy indexing), so scale it in place
    frames *= window
    spec = scipy.fft.rfft(frames, axis=1)
    power = np.abs(spec)
    power *= power
    return power


def _yin(x16: np.ndarray, count: int, settings: FeatureSettings) -> tuple[np.ndarray, np.ndarray]:
    """YIN f0 (Hz, 0 when unvoiced) and confidence for ``count`` frames of 16 kHz audio centred on ``i * 160``."""
    sr = F0_SAMPLE_RATE
    hop = sr // FRAME_RATE
    tau_max = int(math.ceil(sr / settings.f0_min))
    tau_min = max(2, int(math.floor(sr / settings.f0_max)))
    win = tau_max  # integration window: one period of the lowest f0
    length = win + tau_max + 2  # lags up to tau_max + 1 for the interpolation neighbour
    n_fft = scipy.fft.next_fast_len(length, real=True)

    # Zero-padded signal; frame i covers padded[starts[i] : starts[i] + length], centred on sample i * hop.
    half = length // 2
    right = max(0, (count - 1) * hop + length - half - x16.size)
    padded = np.zeros(half + x16.size + right, dtype=np.float64)
    padded[half : half + x16.size] = x16
    starts = np.arange(count, dtype=np.int64) * hop
    cum_energy = np.concatenate([[0.0], np.cumsum(padded * padded)])
    window_energy = cum_energy[win:] - cum_energy[:-win]  # window_energy[p] = sum(padded[p : p + win] ** 2)
    frame_energy = cum_energy[starts + length] - cum_energy[starts]

    # d(tau) = sum_j (x_j - x_{j+tau})^2 over j in [0, win) = e(0) + e(tau) - 2 r(tau)   (YIN step 2)
    # The cross term r(tau) by FFT in float32 (error ~1e-7 of the frame energy), the energies in float64.
    frames = np.lib.stride_tricks.sliding_window_view(padded.astype(np.float32), length)[starts]
    spec_a = scipy.fft.rfft(frames[:, :win], n_fft, axis=1)
    spec_b = scipy.fft.rfft(frames, n_fft, axis=1)
    np.conjugate(spec_a, out=spec_a)
    spec_a *= spec_b
    r = scipy.fft.irfft(spec_a, n_fft, axis=1)[:, : tau_max + 2]
    e_tau = np.lib.stride_tricks.sliding_window_view(window_energy, tau_max + 2)[starts]
    d = e_tau[:, :1] + e_tau - 2.0 * r
    np.maximum(d, 0.0, out=d)
    d[:, 0] = 0.0

    # Cumulative-mean-normalised difference d'(tau) = d(tau) * tau / sum_{1<=j<=tau} d(j), d'(0) = 1   (step 3),
    # computed on d + 1e-5 * e(0) so that a frame without variation (silence, pure DC) has d' = 1, not 0/0.
    lags = np.arange(1, tau_max + 2)
    reg = 1e-5 * e_tau[:, :1] + 1e-30
    running = np.cumsum(d[:, 1:], axis=1)
    running += reg * lags
    dprime = np.empty_like(d)
    dprime[:, 0] = 1.0
    np.divide((d[:, 1:] + reg) * lags, running, out=dprime[:, 1:])

    # Absolute threshold: first lag with d' < threshold, then on to the bottom of that dip   (step 4)
    band = dprime[:, tau_min : tau_max + 1]
    below = band < settings.yin_threshold
    voiced = below.any(axis=1)
    first = np.argmax(below, axis=1)
    rising = np.diff(dprime[:, tau_min : tau_max + 2], axis=1) >= 0.0
    idx = np.arange(band.shape[1])
    after = rising & (idx[None, :] >= first[:, None])
    dip = np.where(after.any(axis=1), np.argmax(after, axis=1), band.shape[1] - 1)
    best = np.where(voiced, dip, np.argmin(band, axis=1)) + tau_min
    rows = np.arange(count)
    confidence = np.clip(1.0 - dprime[rows, best], 0.0, 1.0)

    # Parabolic interpolation of d(tau) around the chosen lag   (step 5)
    y0, y1, y2 = d[rows, best - 1], d[rows, best], d[rows, best + 1]
    curvature = y0 - 2.0 * y1 + y2
    ok = curvature > 0.0
    shift = np.where(ok, 0.5 * (y0 - y2) / np.where(ok, curvature, 1.0), 0.0)
    period = best + np.clip(shift, -1.0, 1.0)

    # Silence gate on the mean power of the analysis frame.
    mean_power = frame_energy / length
    silent = mean_power < 10.0 ** (settings.f0_silence_db / 10.0)
    voiced &= ~silent
    confidence[silent] = 0.0
    f0 = np.where(voiced, sr / period, 0.0)
    return f0.astype(np.float32), confidence.astype(np.float32)


def compute_features(
    audio: np.ndarray, sample_rate: int, settings: FeatureSettings | None = None
) -> dict[str, np.ndarray]:
    """Log-mel, MFCC, f0, f0 confidence and A-weighted loudness of one clip at 100 frames/s.

    Args:
        audio: float samples, full scale +-1, shaped ``(n,)`` or ``(channels, n)`` (channels are averaged).
        sample_rate: Hz, 8000..768000; need not be a multiple of 100.
        settings: defaults to ``FeatureSettings(sample_rate)``; its ``sample_rate`` must match.

    Returns:
        ``{"log_mel": (F, n_mels), "mfcc": (F, n_mfcc), "f0_hz": (F,), "f0_confidence": (F,), "loudness_db": (F,)}``,
        all float32, ``F = n_frames(n, sample_rate)``. See the module docstring for units and floors.

    Raises:
        AudioError: empty, non-finite, non-float or badly shaped audio, an unsupported sample rate, or settings
            made for another sample rate.
    """
    sr = _check_sample_rate(sample_rate)
    if settings is None:
        settings = FeatureSettings(sr)
    elif settings.sample_rate != sr:
        raise AudioError(f"settings were made for {settings.sample_rate} Hz but the audio is {sr} Hz")
    x = _as_mono(audio)
    assert settings.n_fft is not None and settings.fmax is not None
    window, mel_fb, a_gain, dct_t = _spectral_tables(
        sr, settings.n_fft, settings.n_mels, settings.n_mfcc, float(settings.fmin), float(settings.fmax)
    )
    centers = frame_centers(x.size, sr)
    count = centers.size

    power = _power_spectrogram(x, centers, settings.n_fft, window)
    mel_power = np.ascontiguousarray((mel_fb @ power.T).T)
    log_mel = np.log(mel_power + np.float32(settings.log_floor))
    # einsum, not @: a BLAS product this small costs more in thread start-up (8 ms of CPU on 2 cores) than work.
    mfcc = np.einsum("fb,bk->fk", log_mel, dct_t)

    # DDSP v2 loudness: A-weight in the power domain, average over bins, then power_to_db.
    weighted = (power @ a_gain).astype(np.float64) / power.shape[1]
    range_db = settings.loudness_range_db
    loudness = 10.0 * np.log10(np.maximum(weighted, 10.0 ** (-range_db / 10.0))) - settings.loudness_ref_db
    loudness = np.maximum(loudness, -range_db)

    if sr == F0_SAMPLE_RATE:
        x16 = x
    else:
        import soxr

        x16 = soxr.resample(x, sr, F0_SAMPLE_RATE) if x.size > 1 else np.zeros(0, np.float32)
    f0, confidence = _yin(np.asarray(x16, dtype=np.float32), count, settings)

    return {
        "log_mel": np.ascontiguousarray(log_mel, dtype=np.float32),
        "mfcc": np.ascontiguousarray(mfcc, dtype=np.float32),
        "f0_hz": f0,
        "f0_confidence": confidence,
        "loudness_db": loudness.astype(np.float32),
    }
