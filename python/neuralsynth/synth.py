"""The NeuralSynth instrument engine, run through the C bridge: the same C++ the plugin runs.

::

    from neuralsynth.synth import Synth, Note
    synth = Synth(sample_rate=44100)               # neural stage: the bundled NAM model
    synth["filter_cutoff"] = 800.0                 # real value, in the parameter's unit
    synth.set_normalized(vector)                   # or every parameter from 0..1 values
    audio = synth.render([Note(60, 100, 0.0, 3.0)], duration=4.0)   # (2, n) float32

Renders start from a reset engine, so the same notes and parameters always give the same
samples, whatever the block size (events are applied at their exact sample).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ._bridge import ErrorBuffer, ffi, lib
from .errors import SynthError
from .midi import Note, note_events

__all__ = ["Note", "SynthParam", "Synth", "SynthError", "parameters", "DEFAULT_MODEL"]

DEFAULT_MODEL = Path(__file__).parent / "data" / "wavenet_a1_standard.nam"
SCALES = ("linear", "log", "int", "choice", "cubic")


@dataclass(frozen=True)
class SynthParam:
    index: int
    id: str
    name: str
    unit: str
    group: str
    min: float
    max: float
    default: float
    scale: str
    choices: tuple[str, ...]

    def to_normalized(self, value: float) -> float:
        return float(lib().ns_synth_param_to_normalized(self.index, float(value)))

    def from_normalized(self, normalized: float) -> float:
        return float(lib().ns_synth_param_from_normalized(self.index, float(normalized)))

    def text(self, value: float) -> str:
        if self.scale == "choice":
            return self.choices[int(round(value))]
        unit = f" {self.unit}" if self.unit else ""
        return f"{value:g}{unit}"

    def to_dict(self) -> dict:
        return {
            "index": self.index, "id": self.id, "name": self.name, "unit": self.unit, "group": self.group,
            "min": self.min, "max": self.max, "default": self.default, "scale": self.scale,
            "choices": list(self.choices),
        }


@lru_cache(maxsize=1)
def _params() -> tuple[SynthParam, ...]:
    L = lib()
    info = ffi.new("ns_param_info*")
    out = []
    for i in range(L.ns_synth_param_count()):
        L.ns_synth_param_info(i, info)
        choices = ffi.string(info.choices).decode()
        out.append(
            SynthParam(
                index=i,
                id=ffi.string(info.id).decode(),
                name=ffi.string(info.name).decode(),
                unit=ffi.string(info.unit).decode(),
                group=ffi.string(info.group).decode(),
                min=float(info.min_value),
                max=float(info.max_value),
                default=float(info.default_value),
                scale=SCALES[info.scale],
                choices=tuple(choices.split("|")) if choices else (),
            )
        )
    return tuple(out)


def parameters() -> list[SynthParam]:
    """The instrument's parameters, in plugin order (the order of .fxp FxCk values)."""
    return list(_params())


class Synth:
    """One instance of the instrument engine (stereo out)."""

    def __init__(
        self,
        sample_rate: float = 44100.0,
        block_size: int = 512,
        model: str | Path | None = DEFAULT_MODEL,
        params: Mapping[str, float] | None = None,
    ) -> None:
        if block_size < 1:
            raise SynthError(f"block_size must be at least 1, got {block_size}")
        if not (math.isfinite(sample_rate) and 1000 <= sample_rate <= 1536000):
            raise SynthError(f"sample_rate must be 1000..1536000 Hz, got {sample_rate}")
        self.sample_rate = float(sample_rate)
        self.block_size = int(block_size)
        L = lib()
        err = ErrorBuffer()
        out = ffi.new("ns_synth**")
        err.check(L.ns_synth_create(self.sample_rate, self.block_size, out, err.buf, err.SIZE))
        self._h = ffi.gc(out[0], L.ns_synth_free)
        self.model_path = Path(model) if model is not None else None
        if model is not None:
            err.check(L.ns_synth_load_model_file(self._h, str(model).encode(), err.buf, err.SIZE))
        self._by_id = {p.id: p for p in _params()}
        if params:
            for k, v in params.items():
                self[k] = v

    # ------------------------------------------------------------------ parameters
    @property
    def parameters(self) -> list[SynthParam]:
        return parameters()

    def _param(self, key: str | int) -> SynthParam:
        if isinstance(key, numbers.Integral) and not isinstance(key, bool):
            key = int(key)
            if not 0 <= key < len(_params()):
                raise SynthError(f"parameter index {key} out of range 0..{len(_params()) - 1}")
            return _params()[key]
        try:
            return self._by_id[key]
        except KeyError:
            raise SynthError(f"unknown parameter {key!r}; known: {', '.join(self._by_id)}") from None

    def __getitem__(self, key: str | int) -> float:
        return float(lib().ns_synth_get_param(self._h, self._param(key).index))

    def __setitem__(self, key: str | int, value: float) -> None:
        p = self._param(key)
        if isinstance(value, str) and p.scale == "choice":
            if value not in p.choices:
                raise SynthError(f"{p.id}: {value!r} is not one of {', '.join(p.choices)}")
            value = p.choices.index(value)
        value = float(value)
        if not np.isfinite(value):
            raise SynthError(f"{p.id}: value must be finite, got {value}")
        lib().ns_synth_set_param(self._h, p.index, value)

    def values(self) -> dict[str, float]:
        return {p.id: self[p.index] for p in _params()}

    def set_normalized(self, vector: Sequence[float] | np.ndarray) -> None:
        v = np.asarray(vector, dtype=np.float32).ravel()
        if v.size != len(_params()):
            raise SynthError(f"expected {len(_params())} normalized values, got {v.size}")
        if not np.all(np.isfinite(v)):
            raise SynthError("normalized parameter values must be finite")
        for i, x in enumerate(v):
            lib().ns_synth_set_param_normalized(self._h, i, float(x))

    def normalized(self) -> np.ndarray:
        return np.array([p.to_normalized(self[p.index]) for p in _params()], dtype=np.float32)

    # ------------------------------------------------------------------ audio
    def reset(self) -> None:
        lib().ns_synth_reset(self._h)

    def process(self, events: Sequence[tuple[int, int, int, int]], n: int) -> np.ndarray:
        """Run n samples with MIDI events (sample offset, status, data1, data2); state carries over."""
        if not 0 <= n < 2**31:
            raise SynthError(f"n must be 0..2^31-1 samples, got {n}")
        out = np.zeros((2, n), dtype=np.float32)
        ev = ffi.new("ns_midi_event[]", max(1, len(events)))
        for i, (s, st, d1, d2) in enumerate(events):
            if not 0 <= s < 2**31 or (i and s < events[i - 1][0]):
                raise SynthError("events must have sample offsets in 0..2^31-1, sorted")
            if not (0 <= st <= 255 and 0 <= d1 <= 255 and 0 <= d2 <= 255):
                raise SynthError(f"event {i}: MIDI bytes must be 0..255, got {(st, d1, d2)}")
            ev[i].sample, ev[i].status, ev[i].data1, ev[i].data2 = int(s), int(st), int(d1), int(d2)
        status = lib().ns_synth_process(
            self._h, ev, len(events), ffi.from_buffer("float[]", out[0]), ffi.from_buffer("float[]", out[1]), n
        )
        if status:
            raise SynthError(f"ns_synth_process failed with status {status}")
        return out

    def render(self, notes: Iterable[Note], duration: float, block_size: int | None = None) -> np.ndarray:
        """Reset, then render `duration` seconds of `notes` in host-sized blocks; (2, n) float32."""
        if not (math.isfinite(duration) and duration > 0):
            raise SynthError(f"duration must be a positive number of seconds, got {duration}")
        if block_size is not None and int(block_size) < 1:
            raise SynthError(f"block_size must be at least 1, got {block_size}")
        total = int(duration * self.sample_rate)  # as DawDreamer: (int64)(seconds * rate)
        block = int(block_size if block_size is not None else self.block_size)
        events = [(s, *msg) for s, msg in note_events(notes, self.sample_rate)]
        self.reset()
        out = np.zeros((2, total), dtype=np.float32)
        e = 0
        for start in range(0, total, block):
            n = min(block, total - start)
            chunk = []
            while e < len(events) and events[e][0] < start + n:
                s, st, d1, d2 = events[e]
                chunk.append((s - start, st, d1, d2))
                e += 1
            out[:, start : start + n] = self.process(chunk, n)
        return out

    @property
    def active_voices(self) -> int:
        return int(lib().ns_synth_active_voices(self._h))
