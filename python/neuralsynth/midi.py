"""MIDI notes and events, shared by the synth engine, the plugin hosts and the validator.

A :class:`Note` is a key played for a time (seconds). An event is ``(sample, message)``: the
sample offset from the start of a render and the raw MIDI bytes. :func:`note_events` turns notes
into events with the one timing rule every renderer here follows:

* times become samples as DawDreamer's ``add_midi_note`` does it (measured): note-on at
  ``floor(start * sr)``, note-off at ``floor(start * sr + duration * sr)``, so bridge and host
  renders of the same notes line up to the sample;
* events at one sample keep the order they were given in (:func:`sort_events`, a stable sort, as
  JUCE's MidiBuffer keeps insertion order); notes give each note's on, then its off, in note
  order, so a note shorter than a sample still starts and ends.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import NeuralSynthError, SynthError

__all__ = [
    "MidiError", "MidiEvent", "Note", "note_on", "note_off", "control", "pitch_bend", "note_events",
    "sort_events", "merge_events", "write_midi_file",
]

MidiEvent = tuple[int, bytes]  # (sample offset from the start of the render, raw MIDI message)


class MidiError(NeuralSynthError, ValueError):
    """MIDI events that cannot be written or played as asked."""


@dataclass(frozen=True)
class Note:
    pitch: int
    velocity: int = 100
    start: float = 0.0  # seconds
    duration: float = 1.0  # seconds until the note-off

    def __post_init__(self) -> None:
        if not 0 <= int(self.pitch) <= 127:
            raise SynthError(f"note pitch must be 0..127, got {self.pitch}")
        if not 1 <= int(self.velocity) <= 127:
            raise SynthError(f"note velocity must be 1..127, got {self.velocity}")
        if not (math.isfinite(self.start) and math.isfinite(self.duration)):
            raise SynthError(f"note start and duration must be finite, got {self.start}, {self.duration}")
        if self.start < 0 or self.duration <= 0:
            raise SynthError(f"note start must be >= 0 and duration > 0, got {self.start}, {self.duration}")


def note_on(note: int, velocity: int, channel: int = 0) -> bytes:
    return bytes([0x90 | channel, note & 0x7F, velocity & 0x7F])


def note_off(note: int, channel: int = 0) -> bytes:
    return bytes([0x80 | channel, note & 0x7F, 0])


def control(number: int, value: int, channel: int = 0) -> bytes:
    return bytes([0xB0 | channel, number & 0x7F, value & 0x7F])


def pitch_bend(value: int, channel: int = 0) -> bytes:
    """value 0..16383, 8192 = centre."""
    return bytes([0xE0 | channel, value & 0x7F, (value >> 7) & 0x7F])


def sort_events(events: Iterable[MidiEvent]) -> list[MidiEvent]:
    """Events in time order; events at one sample keep the order they were given in."""
    return sorted(events, key=lambda e: e[0])


def merge_events(*streams: Iterable[MidiEvent]) -> list[MidiEvent]:
    """Several event lists as one, in time order (at one sample: the earlier stream's first)."""
    return sort_events(e for s in streams for e in s)


def note_events(notes: Iterable[Note], sample_rate: float) -> list[MidiEvent]:
    """The notes' note-on and note-off events at their samples, in time order (see the module doc)."""
    ev: list[MidiEvent] = []
    for n in notes:
        ev.append((math.floor(n.start * sample_rate), note_on(int(n.pitch), int(n.velocity))))
        ev.append((math.floor(n.start * sample_rate + n.duration * sample_rate), note_off(int(n.pitch))))
    return sort_events(ev)


def _vlq(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def write_midi_file(path: str | os.PathLike, events: Sequence[MidiEvent], sample_rate: float) -> None:
    """A type-0 Standard MIDI File with sorted events at exact samples (for DawDreamer's load_midi).

    The tempo is 10 ms per quarter note and the division sample_rate / 25 ticks per quarter: four
    ticks per sample. Each event sits a quarter sample after its sample, so that a reader that
    truncates (or rounds) seconds * sample_rate lands on the sample despite floating-point error
    (at one tick per sample, DawDreamer placed some events one sample early in long renders).
    Exact for 44.1, 48, 88.2, 96, 192 kHz, ...; other rates get the nearest tempo.
    """
    ppq = int(round(4 * sample_rate / 100.0))
    if not 1 <= ppq <= 0x7FFF:
        raise MidiError(f"cannot write a MIDI file at {sample_rate} Hz")
    tempo = int(round(ppq * 1e6 / (4 * sample_rate)))
    track = bytearray(b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big"))
    last = 0
    for sample, msg in events:
        tick = 4 * sample + 1
        track += _vlq(tick - last) + bytes(msg)
        last = tick
    track += b"\x00\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, ppq)
    Path(path).write_bytes(header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track))
