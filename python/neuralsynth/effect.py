"""The effect plugin's signal chain (plugin_src/core/effect) through the bridge: what the effect
plugin runs, without a host.

```python
fx = EffectChain("amp.nam", sample_rate=44100)   # resamples to the model's rate when they differ
fx["input_gain"] = 6.0                             # real values in the parameter's unit
y = fx.process(x)                                  # (channels, n) or (n,) float32; state carries over
```
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ._bridge import ErrorBuffer, ffi, lib
from .errors import ModelError

_TOGGLE = 5


@dataclass(frozen=True)
class EffectParam:
    index: int
    id: str
    name: str
    unit: str
    min: float
    max: float
    default: float
    step: float
    toggle: bool


def effect_params() -> list[EffectParam]:
    """The core's effect parameter table (ids, units, ranges, defaults)."""
    info = ffi.new("ns_param_info*")
    out = []
    for i in range(lib().ns_effect_param_count()):
        lib().ns_effect_param_info(i, info)
        out.append(EffectParam(i, ffi.string(info.id).decode(), ffi.string(info.name).decode(),
                               ffi.string(info.unit).decode(), float(info.min_value), float(info.max_value),
                               float(info.default_value), float(info.step), int(info.scale) == _TOGGLE))
    return out


class EffectChain:
    """Input gain -> model -> DC blocker -> output gain, mixed with the latency-aligned dry input."""

    def __init__(self, model: str | os.PathLike | None, sample_rate: float = 48000.0, max_block_size: int = 512):
        err = ErrorBuffer()
        out = ffi.new("ns_effect**")
        path = ffi.NULL if model is None else os.fspath(model).encode()
        err.check(lib().ns_effect_create(path, float(sample_rate), int(max_block_size), out, err.buf, err.SIZE))
        self._h = ffi.gc(out[0], lib().ns_effect_free)
        self._params = {p.id: p for p in effect_params()}
        self.sample_rate = float(sample_rate)

    def _index(self, key: str) -> int:
        if key not in self._params:
            raise KeyError(f"{key!r}: not an effect parameter; expected one of {', '.join(self._params)}")
        return self._params[key].index

    def __setitem__(self, key: str, value: float) -> None:
        lib().ns_effect_set_param(self._h, self._index(key), float(value))

    def __getitem__(self, key: str) -> float:
        return float(lib().ns_effect_get_param(self._h, self._index(key)))

    @property
    def latency(self) -> int:
        return int(lib().ns_effect_latency(self._h))

    def prepare(self, sample_rate: float, max_block_size: int = 512) -> None:
        """As a host's prepareToPlay: fresh state; parameter ramps start at the current values."""
        err = ErrorBuffer()
        err.check(lib().ns_effect_prepare(self._h, float(sample_rate), int(max_block_size), err.buf, err.SIZE))
        self.sample_rate = float(sample_rate)

    def process(self, x: np.ndarray) -> np.ndarray:
        a = np.array(x, dtype=np.float32, order="C", copy=True)
        mono = a.ndim == 1
        a = a[None, :] if mono else a
        if a.ndim != 2 or a.shape[0] < 1:
            raise ModelError(f"EffectChain.process: expected (n,) or (channels, n) audio, got shape {np.shape(x)}")
        ptrs = ffi.new("float*[]", [ffi.from_buffer("float[]", a[c]) for c in range(a.shape[0])])
        if lib().ns_effect_process(self._h, ptrs, a.shape[0], a.shape[1]) != 0:
            raise ModelError("EffectChain.process: the bridge refused the buffers")
        return a[0] if mono else a
