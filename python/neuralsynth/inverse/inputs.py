"""From a sound to the network's input tensors, the same way for training rows and for ``predict``.

The network sees the dataset's own features (``neuralsynth.features``, 100 frames/s):

- ``mel`` (1, n_mels, T): log-mel, standardised per band with the training set's mean and standard
  deviation (``predictor.json``'s ``normalisation``).
- ``aux`` (3, T): pitch relative to the played note in octaves (``log2(f0 / f_note)``, 0 where
  unvoiced), the f0 confidence, and the A-weighted loudness as ``(dB + 40) / 40``.
- ``cond`` (1,): the played MIDI note as ``(note - 60) / 24``.

For ``predict`` the played note is not known: :func:`detect_note` takes the median f0 of the
confidently voiced frames and rounds it to the nearest MIDI note; a sound with no pitch (noise,
percussion) gets the dataset's first note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..errors import AudioError
from ..features import FeatureSettings, compute_features

SILENCE_PEAK = 10 ** (-90 / 20)  # a sound whose peak is below -90 dBFS is silent
MIN_SECONDS = 0.05


def feature_settings(d: Mapping[str, Any]) -> FeatureSettings:
    """The :class:`FeatureSettings` a manifest's ``features`` records."""
    names = {f.name for f in fields(FeatureSettings)}
    return FeatureSettings(**{k: v for k, v in d.items() if k in names})


def note_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((float(note) - 69.0) / 12.0)


@dataclass(frozen=True)
class Normalisation:
    mel_mean: np.ndarray  # (n_mels,)
    mel_std: np.ndarray  # (n_mels,)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mel_mean": [float(v) for v in self.mel_mean], "mel_std": [float(v) for v in self.mel_std]}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Normalisation:
        return Normalisation(np.asarray(d["mel_mean"], np.float32), np.asarray(d["mel_std"], np.float32))

    @staticmethod
    def fit(log_mel: np.ndarray) -> Normalisation:
        """From (N, T, n_mels) training log-mels (float16 or float32)."""
        n_mels = log_mel.shape[-1]
        s = np.zeros(n_mels, np.float64)
        s2 = np.zeros(n_mels, np.float64)
        count = 0
        for chunk in np.array_split(np.arange(log_mel.shape[0]), max(1, log_mel.shape[0] // 256)):
            x = log_mel[chunk].astype(np.float64).reshape(-1, n_mels)
            s += x.sum(0)
            s2 += (x * x).sum(0)
            count += x.shape[0]
        mean = s / count
        std = np.sqrt(np.maximum(s2 / count - mean * mean, 0.0))
        return Normalisation(mean.astype(np.float32), np.maximum(std, 1e-3).astype(np.float32))


def mel_input(log_mel: np.ndarray, norm: Normalisation) -> np.ndarray:
    """(..., T, n_mels) log-mel -> (..., 1, n_mels, T) float32 standardised."""
    x = (np.asarray(log_mel, np.float32) - norm.mel_mean) / norm.mel_std
    return np.ascontiguousarray(np.swapaxes(x, -1, -2)[..., None, :, :], dtype=np.float32)


def aux_input(f0_hz: np.ndarray, f0_confidence: np.ndarray, loudness_db: np.ndarray,
              note: np.ndarray | float) -> np.ndarray:
    """(..., T) pitch, confidence, loudness and (...,) notes -> (..., 3, T) float32."""
    f0 = np.asarray(f0_hz, np.float32)
    ref = np.asarray([note_hz(n) for n in np.ravel(note)], np.float32).reshape(np.shape(note) + (1,))
    voiced = f0 > 0
    rel = np.where(voiced, np.log2(np.where(voiced, f0, 1.0) / ref), 0.0)
    loud = (np.asarray(loudness_db, np.float32) + 40.0) / 40.0
    return np.stack([rel, np.asarray(f0_confidence, np.float32), loud], axis=-2).astype(np.float32)


def cond_input(note: np.ndarray | float) -> np.ndarray:
    return ((np.asarray(note, np.float32) - 60.0) / 24.0)[..., None].astype(np.float32)


def detect_note(f0_hz: np.ndarray, f0_confidence: np.ndarray, fallback: int) -> tuple[int, float | None]:
    """(MIDI note, median f0 in Hz or None) of a sound's confidently voiced frames."""
    f0 = np.asarray(f0_hz, np.float64)
    good = (f0 > 0) & (np.asarray(f0_confidence) >= 0.5)
    if np.count_nonzero(good) < 3:
        return int(fallback), None
    hz = float(np.median(f0[good]))
    note = int(np.clip(np.rint(69.0 + 12.0 * np.log2(hz / 440.0)), 0, 127))
    return note, hz


def prepare_audio(audio: np.ndarray, sample_rate: float, target_rate: int, num_samples: int,
                  what: str = "audio") -> np.ndarray:
    """Mono float32 at ``target_rate``, trimmed or zero-padded to ``num_samples``; raises AudioError
    for audio that is empty, too short, non-finite or silent."""
    a = np.asarray(audio)
    if a.dtype.kind not in "fiu":
        raise AudioError(f"{what}: expected numeric samples, got dtype {a.dtype}")
    a = a.astype(np.float32)
    if a.ndim == 2:
        # (channels, n) or soundfile's (n, channels): the short axis is the channels
        a = a.mean(axis=0 if a.shape[0] <= a.shape[1] else 1)
    elif a.ndim != 1:
        raise AudioError(f"{what}: expected (n,) or (channels, n) samples, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise AudioError(f"{what}: {int(a.size - np.count_nonzero(np.isfinite(a)))} samples are NaN or infinite")
    if not float(sample_rate) > 0:
        raise AudioError(f"{what}: sample rate must be positive, got {sample_rate}")
    seconds = a.size / float(sample_rate)
    if seconds < MIN_SECONDS:
        raise AudioError(f"{what}: {a.size} samples ({seconds * 1000:.1f} ms) is too short; need at least "
                         f"{MIN_SECONDS * 1000:.0f} ms")
    peak = float(np.max(np.abs(a)))
    if peak < SILENCE_PEAK:
        raise AudioError(f"{what}: the sound is silent (peak {20 * np.log10(max(peak, 1e-30)):.0f} dBFS)")
    if float(sample_rate) != float(target_rate):
        import soxr

        a = soxr.resample(a, float(sample_rate), float(target_rate), quality="HQ").astype(np.float32)
    if a.size >= num_samples:
        return np.ascontiguousarray(a[:num_samples])
    return np.concatenate([a, np.zeros(num_samples - a.size, np.float32)])


def sound_features(audio: np.ndarray, settings: FeatureSettings) -> dict[str, np.ndarray]:
    return compute_features(audio, settings.sample_rate, settings)
