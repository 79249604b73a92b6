"""The C++ inference core, through the bridge: what the plugins run, callable from Python."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ._bridge import ErrorBuffer, ffi, lib
from .errors import ModelError

DEFAULT_MAX_BLOCK = 4096


@dataclass(frozen=True)
class ModelInfo:
    path: str
    architecture: str
    format: str
    version: str
    sample_rate: float
    sample_rate_known: bool
    num_inputs: int
    num_outputs: int
    num_weights: int
    macs_per_sample: int
    receptive_field: int | None  # None for recurrent models
    latency: int  # always 0: every model the core loads is causal (resampling latency is the effect chain's)
    max_block_size: int
    state_bytes: int

    def as_dict(self) -> dict:
        return asdict(self)


class Model:
    """A model running in the C++ core.

    ``process`` takes float32-convertible numpy input, shape ``(n,)`` for an
    audio-only model or ``(num_inputs, n)`` when the model has extra
    (conditioning / knob) inputs, and returns float32 of shape ``(n,)`` (or
    ``(num_outputs, n)``). State carries over calls; ``reset`` clears it.
    """

    def __init__(self, handle, path: str) -> None:  # noqa: ANN001 - cffi pointer
        self._h = ffi.gc(handle, lib().ns_model_free)
        self._path = path
        self._refresh_info()

    # -- construction -----------------------------------------------------------------
    @classmethod
    def from_file(
        cls, path: str | os.PathLike, sample_rate: float | None = None, max_block_size: int = DEFAULT_MAX_BLOCK
    ) -> Model:
        path = os.fspath(path)
        if Path(path).is_dir():
            raise ModelError(f"{path}: is a directory, expected a model file")
        if not Path(path).is_file():
            raise ModelError(f"{path}: no such model file")
        _check_block(max_block_size)
        err = ErrorBuffer()
        out = ffi.new("ns_model**")
        err.check(
            lib().ns_model_load_file(
                path.encode(), float(sample_rate or 48000.0), int(max_block_size), out, err.buf, err.SIZE
            )
        )
        model = cls(out[0], path)
        if sample_rate is None and model.sample_rate != 48000.0:
            model.prepare(model.sample_rate, max_block_size)
        return model

    @classmethod
    def from_text(
        cls,
        text: str | bytes,
        name: str = "<text>",
        sample_rate: float | None = None,
        max_block_size: int = DEFAULT_MAX_BLOCK,
    ) -> Model:
        data = text.encode() if isinstance(text, str) else bytes(text)
        _check_block(max_block_size)
        err = ErrorBuffer()
        out = ffi.new("ns_model**")
        err.check(
            lib().ns_model_load_text(
                data,
                len(data),
                name.encode(),
                float(sample_rate or 48000.0),
                int(max_block_size),
                out,
                err.buf,
                err.SIZE,
            )
        )
        return cls(out[0], name)

    def _refresh_info(self) -> None:
        i = ffi.new("ns_model_info*")
        lib().ns_model_info_get(self._h, i)
        self._info = ModelInfo(
            path=self._path,
            architecture=ffi.string(i.architecture).decode(),
            format=ffi.string(i.format).decode(),
            version=ffi.string(i.version).decode(),
            sample_rate=float(i.sample_rate),
            sample_rate_known=bool(i.sample_rate_known),
            num_inputs=int(i.num_inputs),
            num_outputs=int(i.num_outputs),
            num_weights=int(i.num_weights),
            macs_per_sample=int(i.macs_per_sample),
            receptive_field=None if i.receptive_field < 0 else int(i.receptive_field),
            latency=0,
            max_block_size=int(i.max_block_size),
            state_bytes=int(i.state_bytes),
        )

    # -- description ------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        return self._info

    architecture = property(lambda self: self._info.architecture)
    format = property(lambda self: self._info.format)
    version = property(lambda self: self._info.version)
    sample_rate = property(lambda self: self._info.sample_rate)
    sample_rate_known = property(lambda self: self._info.sample_rate_known)
    num_inputs = property(lambda self: self._info.num_inputs)
    num_outputs = property(lambda self: self._info.num_outputs)
    num_weights = property(lambda self: self._info.num_weights)
    macs_per_sample = property(lambda self: self._info.macs_per_sample)
    receptive_field = property(lambda self: self._info.receptive_field)
    latency = property(lambda self: self._info.latency)
    max_block_size = property(lambda self: self._info.max_block_size)

    def __repr__(self) -> str:
        return (
            f"Model({self._path!r}, architecture={self.architecture!r}, weights={self.num_weights}, "
            f"inputs={self.num_inputs}, sample_rate={self.sample_rate:g})"
        )

    # -- processing -------------------------------------------------------------------
    def prepare(self, sample_rate: float, max_block_size: int = DEFAULT_MAX_BLOCK) -> None:
        """Re-prepare for a host rate and maximum block size (clears state)."""
        _check_block(max_block_size)
        err = ErrorBuffer()
        err.check(lib().ns_model_prepare(self._h, float(sample_rate), int(max_block_size), err.buf, err.SIZE))
        self._refresh_info()

    def reset(self) -> None:
        lib().ns_model_reset(self._h)

    def process(self, x: np.ndarray, block_size: int | None = None) -> np.ndarray:
        """Run samples through the model; ``block_size`` feeds the core that many at a time."""
        arr = np.asarray(x, dtype=np.float32)
        ni, no = self.num_inputs, self.num_outputs
        if ni == 1:
            if arr.ndim == 2 and arr.shape[0] == 1:
                arr = arr[0]
            if arr.ndim != 1:
                raise ValueError(f"this model takes one input: expected shape (n,), got {arr.shape}")
            arr = arr[None, :]
        elif arr.ndim != 2 or arr.shape[0] != ni:
            raise ValueError(
                f"this model takes {ni} inputs (audio + {ni - 1} control): expected shape ({ni}, n), got {arr.shape}"
            )
        arr = np.ascontiguousarray(arr)
        n = arr.shape[1]
        y = np.zeros((no, n), dtype=np.float32)
        step = n if block_size is None else int(block_size)
        if step < 1 and n > 0:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        process = lib().ns_model_process
        ip = ffi.new("float*[]", ni)
        op = ffi.new("float*[]", no)
        base_in = [ffi.cast("float*", arr[i].ctypes.data) for i in range(ni)]
        base_out = [ffi.cast("float*", y[o].ctypes.data) for o in range(no)]
        for start in range(0, n, max(step, 1)):
            m = min(step, n - start)
            for i in range(ni):
                ip[i] = base_in[i] + start
            for o in range(no):
                op[o] = base_out[o] + start
            process(self._h, ip, op, m)
        return y[0] if no == 1 else y

    def __call__(self, x: np.ndarray, block_size: int | None = None) -> np.ndarray:
        return self.process(x, block_size)

    def bench(self, block_size: int = 64, num_samples: int = 480_000) -> float:
        """Nanoseconds per sample of ``process`` in blocks of ``block_size``, timed inside C++."""
        err = ErrorBuffer()
        out = ffi.new("double*")
        err.check(lib().ns_model_bench(self._h, int(block_size), int(num_samples), out, err.buf, err.SIZE))
        return float(out[0])


def _check_block(n: int) -> None:
    if not (1 <= int(n) <= 1 << 20):
        raise ValueError(f"max_block_size must be in 1..1048576, got {n}")


def load_model(
    path: str | os.PathLike, sample_rate: float | None = None, max_block_size: int = DEFAULT_MAX_BLOCK
) -> Model:
    """Load a NAM ``.nam`` or RTNeural JSON model into the C++ core."""
    return Model.from_file(path, sample_rate=sample_rate, max_block_size=max_block_size)


def build_flags() -> str:
    return ffi.string(lib().ns_build_flags()).decode()
