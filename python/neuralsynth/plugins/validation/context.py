"""How the checks reach a plugin: the host interfaces they use and the per-battery context."""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..hosts import MidiEvent, open_plugin


class Host(Protocol):
    """What the effect checks use of a host wrapper (see :mod:`neuralsynth.plugins.hosts`)."""

    @property
    def parameter_names(self) -> list[str]: ...

    def set_parameter(self, name: str, value: float) -> None: ...

    def process(self, audio: np.ndarray, sample_rate: float, block_size: int = ..., reset: bool = ...) -> np.ndarray:
        ...

    def reset(self) -> None: ...


class InstrumentHost(Protocol):
    """What the instrument checks use of a host wrapper (see :mod:`neuralsynth.plugins.hosts`)."""

    @property
    def parameter_names(self) -> list[str]: ...

    def get_normalized(self, name: str) -> float: ...

    def set_normalized(self, name: str, value: float) -> None: ...

    def render(self, events: Sequence[MidiEvent], n: int, sample_rate: float, block_size: int = ...,
               reset: bool = ..., channels: int = ...,
               automation: Sequence[tuple[int, Mapping[str, float]]] | None = ...) -> np.ndarray: ...

    def reset(self) -> None: ...


Opener = Callable[[float, int], Host]


def plugin_opener(path: str, host: str) -> Opener:
    """``opener(sample_rate, block_size)``: a new instance of the plugin at ``path`` in ``host``."""
    def opener(sample_rate: float, block_size: int) -> Host:
        return open_plugin(path, host, sample_rate=sample_rate, block_size=block_size)

    return opener


@dataclass
class Context:
    """How the checks reach the plugin.

    ``open(sample_rate, block_size)`` returns a new instance. ``streaming``: the host keeps the
    plugin's state across ``process(..., reset=False)`` calls and can change sample rate and
    block size from call to call (pedalboard); otherwise every configuration gets a new instance.
    """

    open: Opener
    host: str
    quick: bool = False
    streaming: bool = True
    seed: int = 20240611
    kind: str | None = field(default=None)  # "effect" / "instrument"; None: found on first use

    @property
    def instrument(self) -> bool:
        """Whether the plugin is an instrument (MIDI in, no audio in), found by opening one instance.

        A plugin that cannot be opened counts as an effect: the checks then report the failure.
        """
        if self.kind is None:
            try:
                inst = self.open(48000, 512)
                self.kind = "instrument" if bool(getattr(inst, "is_instrument", False)) else "effect"
                del inst
            except Exception:  # noqa: BLE001 - reported by the checks themselves
                self.kind = "effect"
            gc.collect()
        return self.kind == "instrument"

    @property
    def seconds(self) -> float:
        """Length of the test signals."""
        return 0.5 if self.quick else 1.0

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng(self.seed + salt)

    def noise(self, channels: int, n: int, amplitude: float = 0.5, salt: int = 0) -> np.ndarray:
        return self.rng(salt).uniform(-amplitude, amplitude, (channels, n)).astype(np.float32)

    def call_sizes(self, n: int, largest: int, salt: int = 6) -> list[int]:
        """Random call sizes summing to n: the largest first (hosts prepare for it), then
        log-uniform 1..largest."""
        rng = self.rng(salt)
        sizes = [min(largest, n)]
        if sum(sizes) < n:
            sizes.append(1)
        while sum(sizes) < n:
            sizes.append(int(np.exp(rng.uniform(0.0, np.log(largest)))))
        sizes[-1] -= sum(sizes) - n
        return [s for s in sizes if s > 0]

    def configured(self, instance: Host | None, sample_rate: float, block_size: int) -> Host:
        """An instance for this configuration: the same one when the host can reconfigure it."""
        if instance is not None and self.streaming:
            return instance
        return self.open(sample_rate, block_size)
