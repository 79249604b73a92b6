"""The MIDI the instrument checks play: a fixed, seeded note pattern and the worst case a host may send.

The pattern (:func:`pattern_notes`): a chord, an overlapping line with velocities 1..127, a
cluster of twelve notes within 30 ms (more than the eight voices the project's synth has: voice
stealing), notes 0 and 127 at velocity 127, a key struck again while it sounds; every note ends
by ``PATTERN_END`` seconds. Times become samples by :func:`neuralsynth.midi.note_events`' rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...midi import MidiEvent, Note, control, note_events, note_off, note_on, pitch_bend, sort_events

PATTERN_END = 1.0  # seconds: every note of the pattern has ended by then


def pattern_notes(seed: int) -> list[Note]:
    """The fixed, seeded note pattern (everything ends by PATTERN_END)."""
    rng = np.random.default_rng(seed)
    notes = [Note(k, 100, 0.0, 0.35) for k in (48, 60, 64, 67)]  # a chord
    t = 0.05
    while t < 0.6:  # an overlapping line, random velocities 1..127
        duration = float(rng.uniform(0.05, 0.3))
        notes.append(Note(int(rng.integers(36, 97)), int(rng.integers(1, 128)), t, duration))
        t += float(rng.uniform(0.02, 0.08))
    for k, key in enumerate(rng.choice(np.arange(40, 90), 12, replace=False)):  # 12 notes in 30 ms
        notes.append(Note(int(key), int(rng.integers(60, 128)), 0.45 + 0.0025 * k, 0.3))
    notes += [Note(0, 127, 0.7, 0.15), Note(127, 127, 0.7, 0.15), Note(21, 1, 0.72, 0.1),
              Note(108, 64, 0.72, 0.1)]  # extremes
    notes += [Note(72, 90, 0.8, 0.1), Note(72, 110, 0.85, 0.1)]  # the same key again while it sounds
    return notes


def pattern_length(sample_rate: float) -> int:
    """Samples to render the pattern in: until a quarter second after its end."""
    return int((PATTERN_END + 0.25) * sample_rate)


def note_pattern(seed: int, sample_rate: float) -> list[MidiEvent]:
    return note_events(pattern_notes(seed), sample_rate)


def window(events: Sequence[MidiEvent], a: int, b: int) -> list[MidiEvent]:
    """The events in samples a..b-1, relative to a."""
    return [(s - a, m) for s, m in events if a <= s < b]


def hanging_offs(events: Sequence[MidiEvent], at: int) -> list[MidiEvent]:
    """Note-offs at sample ``at`` for every key still down after ``events``."""
    down: set[int] = set()
    for _, m in sort_events(events):
        kind = m[0] & 0xF0
        if kind == 0x90 and m[2] > 0:
            down.add(m[1])
        elif kind in (0x80, 0x90):
            down.discard(m[1])
    return [(at, note_off(k)) for k in sorted(down)]


def extreme_midi(sr: float) -> tuple[list[MidiEvent], list[MidiEvent]]:
    """(notes, controllers): MIDI a host may send in the worst case, and a normal note at 0.8 s."""
    def s(t: float) -> int:
        return math.floor(t * sr)

    notes: list[MidiEvent] = [(0, note_on(0, 127)), (0, note_on(127, 127))]
    notes += [(s(0.0001 * k), note_on(k, 127)) for k in range(128)]  # every key, within 13 ms
    notes += [(s(0.35) + k, note_off(k)) for k in range(128)]  # one sample apart (pedalboard refuses
    # more than 100 events at one time stamp, taking them for delta times)
    notes += [(s(0.5), note_on(0, 127)), (s(0.5), note_on(127, 127)), (s(0.5), note_on(60, 1)),
              (s(0.52), note_on(60, 0)),  # velocity 0 = note-off
              (s(0.53), note_off(61)),  # a key that is not down
              (s(0.54), note_on(64, 127, channel=15)), (s(0.56), bytes([0xA0, 64, 127])),  # poly aftertouch
              (s(0.57), bytes([0xD0, 127])), (s(0.58), bytes([0xC0, 5])),  # channel pressure, program change
              (s(0.7), note_off(0)), (s(0.7), note_off(127)), (s(0.7), note_off(64, channel=15)),
              (s(0.8), note_on(60, 100)), (s(1.0), note_off(60))]
    controllers: list[MidiEvent] = [
        (s(0.1), pitch_bend(0)), (s(0.2), pitch_bend(16383)), (s(0.25), control(64, 127)),  # bend, pedal down
        (s(0.3), control(1, 127)), (s(0.3), control(7, 0)), (s(0.45), control(64, 0)),  # mod wheel, volume
        (s(0.55), pitch_bend(16383)), (s(0.6), control(123, 0)), (s(0.65), control(120, 0)),  # all off
        (s(0.75), pitch_bend(8192)), (s(0.75), control(7, 100)), (s(0.75), control(1, 0)),
    ]
    return notes, controllers
