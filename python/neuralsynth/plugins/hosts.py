"""Run a built plugin in a real host: pedalboard (VST3) or DawDreamer (VST3, VST2, LV2).

Both hosts are wrapped behind one small interface: ``process(audio, sample_rate)`` with
audio shaped ``(channels, samples)`` float32, ``set_parameter(name, value)`` in the
parameter's own units, ``reset()``, and ``parameter_names``.

Instruments (MIDI in, no audio in; ``is_instrument``) are driven with
``render(events, n, sample_rate, ...)``: ``events`` are ``(sample, raw MIDI bytes)`` pairs,
applied at their exact sample; ``automation`` optionally changes parameters (host-normalized
0..1 values, ``set_normalized`` / ``get_normalized``) at given samples during the render.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..midi import MidiEvent, sort_events
from .dawdreamer import load_events, open_processor
from .effect_params import EFFECT_RANGES
from .files import PluginError, check_plugin_path, param_key

__all__ = ["HOSTS", "Automation", "DawDreamerHost", "MidiEvent", "PedalboardHost", "PluginError", "open_plugin"]

HOSTS = ("pedalboard", "dawdreamer")

Automation = Sequence[tuple[int, Mapping[str, float]]]  # (sample, {parameter: normalized value})


def _sorted_events(events: Sequence[MidiEvent], n: int) -> list[MidiEvent]:
    """Events inside 0..n-1, in time order (the order given is kept at equal samples)."""
    out = []
    for sample, msg in events:
        data = bytes(msg)
        if not data or data[0] < 0x80 or data[0] == 0xF0:
            raise PluginError(f"MIDI event at sample {sample}: {data.hex()} is not a complete channel message")
        if 0 <= int(sample) < n:
            out.append((int(sample), data))
    return sort_events(out)


def _segments(n: int, automation: Automation | None) -> list[tuple[int, int, dict[str, float]]]:
    """Cut 0..n at the automation points: (start, end, parameter values to set at start)."""
    changes: dict[int, dict[str, float]] = {}
    for sample, values in automation or ():
        changes.setdefault(min(max(int(sample), 0), n), {}).update(values)
    cuts = sorted({0, *changes} - {n})
    return [(a, b, changes.get(a, {})) for a, b in zip(cuts, [*cuts[1:], n], strict=True)]


INSTRUMENT_PROBE_SECONDS = 1.0


class PedalboardHost:
    name = "pedalboard"
    compensates_latency = True  # pedalboard trims the reported latency from what it returns

    def __init__(self, path: Path) -> None:
        fmt = check_plugin_path(path)
        if fmt != "vst3":
            raise PluginError(f"{path}: pedalboard on Linux loads VST3 plugins only; use --host dawdreamer for {fmt}")
        import pedalboard

        try:
            # initialization_timeout only concerns instruments: pedalboard then plays a note after
            # loading and after every reset (it re-instantiates instruments on reset) and waits
            # until it hears it. A silent configuration (bypass, gain at minimum) would cost the
            # default 10 s per render with reset=True.
            self.plugin = pedalboard.load_plugin(str(path), initialization_timeout=INSTRUMENT_PROBE_SECONDS)
        except Exception as e:  # noqa: BLE001 - the host's own error, re-raised with the path
            raise PluginError(f"{path}: pedalboard could not load it: {e}") from e
        self._params = self.plugin.parameters
        self._config: tuple[float, int, int] | None = None

    @property
    def parameter_names(self) -> list[str]:
        return list(self._params.keys())

    def _key(self, name: str) -> str:
        if name in self._params:
            return name
        for key in self._params:
            if key.startswith(param_key(name)):
                return key
        raise PluginError(f"no parameter {name!r}; the plugin has {', '.join(self._params)}")

    def set_parameter(self, name: str, value: float) -> None:
        key = self._key(name)
        if str(getattr(self.plugin, key)) in ("True", "False"):  # pedalboard wants bools for switches
            value = bool(value)
        setattr(self.plugin, key, value)

    def get_parameter(self, name: str) -> float:
        value = getattr(self.plugin, self._key(name))
        return float(bool(value)) if str(value) in ("True", "False") else float(value)

    def process(self, audio: np.ndarray, sample_rate: float, block_size: int = 512, reset: bool = True) -> np.ndarray:
        x = np.ascontiguousarray(audio, dtype=np.float32)
        config = (float(sample_rate), int(block_size), x.shape[0])
        if config != self._config:
            # pedalboard re-prepares the plugin when the rate or block size changes, but the
            # first call after that comes out wrong when the plugin's latency changed with it
            # (seen with pedalboard 0.9.26: the stale latency is applied once). A short
            # silent call at the new configuration settles it; reset=True then starts clean.
            self.plugin.process(
                np.zeros((x.shape[0], int(block_size)), np.float32), config[0], buffer_size=config[1], reset=True
            )
            self._config = config
            reset = True
        return self.plugin.process(x, config[0], buffer_size=config[1], reset=reset)

    def reset(self) -> None:
        self.plugin.reset()

    # ---------------------------------------------------------------- instruments

    @property
    def is_instrument(self) -> bool:
        return bool(getattr(self.plugin, "is_instrument", False))

    @property
    def audio_inputs(self) -> int | None:
        """Audio input channels: 0 for an instrument; None when pedalboard does not say."""
        return 0 if self.is_instrument and not getattr(self.plugin, "is_effect", True) else None

    def get_normalized(self, name: str) -> float:
        return float(self._params[self._key(name)].raw_value)

    def set_normalized(self, name: str, value: float) -> None:
        self._params[self._key(name)].raw_value = float(min(max(value, 0.0), 1.0))

    def parameter_display(self, name: str) -> tuple[str, str]:
        """The parameter's current value as the plugin shows it, and its unit ("" if none)."""
        p = self._params[self._key(name)]
        return str(p.string_value), str(getattr(p, "units", "") or "")

    def render(self, events: Sequence[MidiEvent], n: int, sample_rate: float, block_size: int = 512,
               reset: bool = True, channels: int = 2, automation: Automation | None = None) -> np.ndarray:
        """n samples of an instrument's output (channels, n) for MIDI ``events``.

        pedalboard takes event times in seconds and turns them back into samples by truncation
        (through 32-bit floats): each event is placed half a sample after its own sample so that
        it lands exactly there (safe for renders up to about two minutes at 48 kHz). pedalboard
        refuses more than 100 events at one time stamp (it takes them for delta times).
        Every render with ``reset=True`` re-instantiates an instrument (pedalboard's reset).
        """
        sr = float(sample_rate)
        evs = _sorted_events(events, n)
        out = []
        for k, (a, b, values) in enumerate(_segments(int(n), automation)):
            for key, value in values.items():
                self.set_normalized(key, value)
            msgs = [(msg, (s - a + 0.5) / sr) for s, msg in evs if a <= s < b]
            try:
                y = self.plugin.process(msgs, duration=(b - a + 0.5) / sr, sample_rate=sr, num_channels=int(channels),
                                        buffer_size=int(block_size), reset=reset and k == 0)
            except ValueError as e:  # e.g. an output layout the plugin (or pedalboard) refuses
                raise PluginError(f"pedalboard: {e}") from e
            y = np.asarray(y, dtype=np.float32)
            if y.shape != (int(channels), b - a):
                raise PluginError(f"pedalboard returned {y.shape} for {b - a} samples of {channels} channels")
            out.append(y)
        if not out:
            return np.zeros((int(channels), 0), np.float32)
        return np.concatenate(out, axis=1)

    @property
    def raw_state(self) -> bytes:
        return self.plugin.raw_state

    @raw_state.setter
    def raw_state(self, value: bytes) -> None:
        self.plugin.raw_state = value


class DawDreamerHost:
    name = "dawdreamer"
    compensates_latency = False

    def __init__(self, path: Path, sample_rate: float = 48000.0, block_size: int = 512) -> None:
        fmt = check_plugin_path(path)
        self.path = Path(path)
        self.sample_rate = float(sample_rate)
        self.block_size = int(block_size)
        self.engine, self.proc = open_processor(self.path, self.sample_rate, self.block_size)
        self._desc = {d["name"]: d for d in self.proc.get_parameters_description()}
        self._values: dict[str, float] = {}
        # DawDreamer shows an LV2 plugin's lv2:enabled port as a "Bypass" parameter, but setting
        # it (to 0 or 1) changed nothing, for the project's effect and instrument alike.
        self.drives_bypass = fmt != "lv2"

    @property
    def parameter_names(self) -> list[str]:
        return list(self._desc)

    def _find(self, name: str) -> dict:
        if name in self._desc:
            return self._desc[name]
        for n, d in self._desc.items():
            if param_key(n) == param_key(name) or param_key(name).startswith(param_key(n)):
                return d
        raise PluginError(f"no parameter {name!r}; the plugin has {', '.join(self._desc)}")

    def set_parameter(self, name: str, value: float) -> None:
        # DawDreamer takes normalised 0..1 values; the ranges below are the plugin's own.
        d = self._find(name)
        lo, hi = EFFECT_RANGES.get(param_key(d["name"]), (0.0, 1.0))
        norm = (float(value) - lo) / (hi - lo)
        self.proc.set_parameter(int(d["index"]), float(np.clip(norm, 0.0, 1.0)))

    def _configure(self, sample_rate: float, block_size: int | None) -> None:
        if float(sample_rate) != self.sample_rate or (block_size and int(block_size) != self.block_size):
            # Read the parameters before the old engine (which owns the processor) goes away.
            params = {int(d["index"]): self.proc.get_parameter(int(d["index"])) for d in self._desc.values()}
            self.sample_rate = float(sample_rate)
            self.block_size = int(block_size or self.block_size)
            self.proc = None
            self.engine, self.proc = open_processor(self.path, self.sample_rate, self.block_size)
            for i, v in params.items():
                self.proc.set_parameter(i, v)

    def process(
        self, audio: np.ndarray, sample_rate: float, block_size: int | None = None, reset: bool = True
    ) -> np.ndarray:
        self._configure(sample_rate, block_size)
        x = np.ascontiguousarray(audio, dtype=np.float32)
        n = x.shape[1]
        play = self.engine.make_playback_processor("input", x)
        self.engine.load_graph([(play, []), (self.proc, ["input"])])
        # Render whole blocks and cut: DawDreamer renders a duration, rounded to blocks.
        blocks = -(-n // self.block_size)
        self.engine.render(blocks * self.block_size / self.sample_rate)
        y = np.asarray(self.engine.get_audio(), dtype=np.float32)
        return y[:, :n]

    def reset(self) -> None:
        pass  # each render starts a fresh graph run; DawDreamer calls reset/prepare itself

    # ---------------------------------------------------------------- instruments

    @property
    def is_instrument(self) -> bool:
        return self.audio_inputs == 0

    @property
    def audio_inputs(self) -> int:
        return int(self.proc.get_num_input_channels())

    def _index(self, name: str) -> int:
        d = self._desc.get(name)
        return int((d if d is not None else self._find(name))["index"])

    def get_normalized(self, name: str) -> float:
        return float(self.proc.get_parameter(self._index(name)))

    def set_normalized(self, name: str, value: float) -> None:
        self.proc.set_parameter(self._index(name), float(min(max(value, 0.0), 1.0)))

    def parameter_display(self, name: str) -> tuple[str, str]:
        """The parameter's current value as the plugin shows it, and its unit ("" if none)."""
        i = self._index(name)
        label = next((str(d.get("label", "")) for d in self._desc.values() if int(d["index"]) == i), "")
        return str(self.proc.get_parameter_text(i)), label

    def render(self, events: Sequence[MidiEvent], n: int, sample_rate: float, block_size: int | None = None,
               reset: bool = True, channels: int = 2, automation: Automation | None = None) -> np.ndarray:
        """n samples of an instrument's output (channels, n) for MIDI ``events``.

        Every render starts from the beginning: DawDreamer prepares (and so resets) the plugin
        for each render, so ``reset=False`` cannot continue an earlier render. The events go in
        through a MIDI file (:func:`~neuralsynth.plugins.dawdreamer.load_events`); automation
        becomes per-sample automation curves, which DawDreamer applies at block starts.
        """
        self._configure(sample_rate, block_size)
        if int(channels) != self.proc.get_num_output_channels():
            try:
                self.proc.set_bus(0, int(channels))
            except Exception as e:  # noqa: BLE001 - the host's refusal, as a PluginError
                raise PluginError(f"DawDreamer: {e}") from e
        n = int(n)
        load_events(self.proc, _sorted_events(events, n), self.sample_rate)
        blocks = max(1, -(-n // self.block_size))
        total = blocks * self.block_size
        final: dict[int, float] = {}
        if automation:
            curves: dict[int, np.ndarray] = {}
            for a, _b, values in _segments(total, automation):
                for key, value in values.items():
                    i = self._index(key)
                    if i not in curves:
                        curves[i] = np.full(total, self.proc.get_parameter(i), np.float32)
                    curves[i][a:] = float(min(max(value, 0.0), 1.0))
            for i, curve in curves.items():
                self.proc.set_automation(i, curve)
                final[i] = float(curve[-1])
        self.engine.load_graph([(self.proc, [])])
        self.engine.render((total + 0.5) / self.sample_rate)  # DawDreamer truncates seconds * rate
        for i, v in final.items():  # the values stay where the automation left them (and it ends)
            self.proc.set_parameter(i, v)
        y = np.asarray(self.engine.get_audio(), dtype=np.float32)
        if y.shape[1] < n:
            raise PluginError(f"DawDreamer rendered {y.shape[1]} samples, expected {n}")
        return np.ascontiguousarray(y[:, :n])


def open_plugin(path: str | os.PathLike, host: str = "pedalboard", sample_rate: float = 48000.0, block_size: int = 512):  # noqa: ANN201
    if host == "pedalboard":
        return PedalboardHost(Path(path))
    if host == "dawdreamer":
        return DawDreamerHost(Path(path), sample_rate, block_size)
    raise PluginError(f"unknown host {host!r}: choose from {', '.join(HOSTS)}")
