"""Running a model over a whole multichannel signal, as ``neuralsynth process`` does.

Audio is laid out as :mod:`neuralsynth.audio_io` reads and writes it: ``(frames, channels)``.
Each channel runs through the model from a fresh state (``model.reset()``) in blocks of
``block_size`` samples, with the model's control inputs held at constant values; a signal at
another rate than the model's is resampled with soxr to the model rate and back.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import audio_io
from .errors import AudioError, ModelError

__all__ = ["Processed", "fit_length", "format_rate", "needs_resampling", "process_audio", "run_channel"]


def format_rate(rate: float) -> str:
    """48000.0 -> '48000', 44100.5 -> '44100.5'."""
    return f"{rate:.0f}" if float(rate).is_integer() else f"{rate:g}"


def needs_resampling(rate: float | None, model_rate: float) -> bool:
    """True when audio at ``rate`` (None: unknown, taken as the model's) must be resampled for the model."""
    return rate is not None and not math.isclose(rate, model_rate, rel_tol=1e-9)


def run_channel(model: Any, audio: np.ndarray, controls: Sequence[float], block_size: int) -> np.ndarray:
    """Process one channel from a fresh state; returns (num_outputs, frames) float32."""
    frames = audio.shape[0]
    num_inputs = int(model.num_inputs)
    num_outputs = int(model.num_outputs)
    if num_inputs == 1:
        x: np.ndarray = np.ascontiguousarray(audio, dtype=np.float32)
    else:
        x = np.empty((num_inputs, frames), dtype=np.float32)
        x[0] = audio
        for row, value in enumerate(controls, start=1):
            x[row] = value
    out = np.empty((num_outputs, frames), dtype=np.float32)
    model.reset()
    for start in range(0, frames, block_size):
        stop = min(start + block_size, frames)
        block = x[start:stop] if num_inputs == 1 else np.ascontiguousarray(x[:, start:stop])
        y = np.asarray(model.process(block), dtype=np.float32)
        expected = (stop - start,) if num_outputs == 1 else (num_outputs, stop - start)
        if y.shape != expected:
            raise ModelError(
                f"the model returned an array of shape {y.shape} for a block of "
                f"{stop - start} samples; expected {expected}"
            )
        out[:, start:stop] = y
    return out


def fit_length(x: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad axis 0 of ``x`` to ``frames``."""
    if x.shape[0] >= frames:
        return x[:frames]
    pad = np.zeros((frames - x.shape[0],) + x.shape[1:], dtype=x.dtype)
    return np.concatenate([x, pad], axis=0)


@dataclass(frozen=True)
class Processed:
    """The result of :func:`process_audio`."""

    audio: np.ndarray  # (frames, channels * num_outputs) float32: the outputs of channel 1 first
    sample_rate: float  # the rate of ``audio``: the input's (the model's when the input's is unknown)
    model_frames: int  # frames per channel that went through the model (at the model's rate)
    seconds: float  # time spent in the model
    resampled: bool  # the input was resampled to the model's rate and the output back


def process_audio(
    model: Any,
    data: np.ndarray,
    sample_rate: float | None,
    controls: Sequence[float],
    block_size: int,
    name: str = "input",
) -> Processed:
    """Run every channel of ``data`` (frames, channels) at ``sample_rate`` through ``model``.

    When ``sample_rate`` differs from the model's, the channels are resampled with soxr to the
    model's rate and the outputs back to ``sample_rate``, trimmed or padded to the input's length.
    ``name`` names the input in the error raised when resampling leaves no samples.
    """
    input_frames = data.shape[0]
    model_rate = float(model.sample_rate)
    num_outputs = int(model.num_outputs)
    resampled = needs_resampling(sample_rate, model_rate)
    if resampled:
        assert sample_rate is not None
        data = audio_io.resample(data, sample_rate, model_rate)
    frames, channels = data.shape
    if frames == 0:
        raise AudioError(f"{name}: too short to resample to {format_rate(model_rate)} Hz")
    result = np.empty((frames, channels * num_outputs), dtype=np.float32)
    started = time.perf_counter()
    for ch in range(channels):
        y = run_channel(model, data[:, ch], controls, block_size)
        result[:, ch * num_outputs : (ch + 1) * num_outputs] = y.T
    elapsed = time.perf_counter() - started
    if resampled:
        assert sample_rate is not None
        back = audio_io.resample(result, model_rate, sample_rate)
        result = fit_length(np.asarray(back, dtype=np.float32), input_frames)
    return Processed(
        audio=result,
        sample_rate=model_rate if sample_rate is None else sample_rate,
        model_frames=frames,
        seconds=elapsed,
        resampled=resampled,
    )
