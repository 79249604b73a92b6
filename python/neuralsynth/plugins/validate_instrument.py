"""The validator's checks for instruments: the same twelve names, driven with MIDI.

An instrument (MIDI in, no audio input) is rendered through the host wrapper's ``render(events,
n, sample_rate, block_size, reset, channels, automation)`` (see :mod:`.hosts`), with MIDI events
placed at exact samples. Parameters are handled as host-normalized 0..1 values, so nothing here
depends on the plugin's own ranges. The signals are a fixed, seeded note pattern (:func:`note_pattern`):
a chord, an overlapping line with velocities 1..127, a cluster of twelve notes within 30 ms (more
than the eight voices the project's synth has: voice stealing), notes 0 and 127 at velocity 127,
a key struck again while it sounds; every note ends by ``PATTERN_END`` seconds.

=============== ==============================================================================
load            parameters listed, no audio inputs, a note sounds, no notes -> silence;
                create/render/destroy repeatedly (identical renders); two live instances are
                identical and (streaming hosts) do not disturb each other when interleaved
sample_rates    the pattern at 44.1, 48 and 96 kHz: finite, sounding, bounded; A4's measured
                fundamental (Hz) is the same at every rate (within PITCH_TOLERANCE)
block_sizes     block sizes 1..4096 give the 512-block render within TOL_EXACT (events fall
                inside blocks: the plugin must apply them at their sample)
varying_blocks  random call sizes (streaming hosts) give the one-call render within TOL_EXACT
silence         no MIDI -> below -120 dBFS (normally exact zeros), no subnormals; after the
                pattern's last note-off the output falls below -120 dBFS within the tail budget
                (reported tail + amp release, see :func:`tail_budget`) and stays there
full_scale      a 16-note chord at velocity 127 with the default parameters, all parameters at
                their maximum (also with the attack times shortest), at their minimum, and three
                random min/max mixes (attacks shortest): finite, peak below FULL_SCALE_PEAK
automation      every parameter (bypass aside) jumps to a random value every 256 samples while
                the pattern plays: finite, below AUTOMATION_PEAK; then back at the defaults,
                after the reported tail, the pattern renders as on a fresh instance
state           raw_state of an instance with every parameter changed restores the values and
                the render in a fresh instance
reset           pattern + held notes + sustain pedal, reset, another pattern == a fresh instance
bypass          Bypass on: no output at all (an instrument has no input to pass through); off
                again: the normal render. No bypass parameter: skipped
channels        stereo output: finite, both channels sound; mono output where the host allows
non_finite      extreme MIDI (all 128 keys at velocity 127, notes 0/127, pitch bend extremes,
                sustain pedal, all-notes-off, all-sound-off, aftertouch, other channels), with
                default and with maximum parameters (attacks shortest): finite, bounded, and a
                normal note afterwards sounds. Whether the controllers changed anything is
                reported (a VST3 without MIDI-CC mapping never sees them).
=============== ==============================================================================
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from .hosts import PluginError
from .validate import (
    AUTOMATION_PEAK,
    BLOCK_SIZES,
    MAX_BLOCK,
    SAMPLE_RATES,
    SILENCE_LEVEL,
    SKIPPED_HOST,
    TOL_BLOCK,
    TOL_EXACT,
    CheckFailed,
    CheckSkipped,
    Context,
    _db,
    _diff,
    _finite_problem,
    _first_over,
    _nonfinite,
    _peak,
    _raise,
    _random_sizes,
    _snake,
    _subnormal,
)

MidiEvent = tuple[int, bytes]

PATTERN_END = 1.0  # seconds: every note of the pattern has ended by then
SOUND_LEVEL = 1e-4  # -80 dBFS: "the note sounds"
INSTRUMENT_PEAK = 8.0  # +18 dBFS: the pattern at default settings must stay below
FULL_SCALE_PEAK = 32.0  # +30 dBFS: extreme settings and a dense chord at velocity 127
PITCH_NOTE = 69  # A4
PITCH_TOLERANCE = 0.002  # relative (3.5 cents): the fundamental must not move with the sample rate
# The NeuralSynth instrument reports getTailLengthSeconds() = 8 (its reverb); neither pedalboard nor
# DawDreamer exposes the reported tail, so the value is fixed here. The release comes from the
# plugin's amp release parameter when a host shows it (else DEFAULT_RELEASE, the synth's longest).
REPORTED_TAIL = 8.0
DEFAULT_RELEASE = 10.0


class InstrumentHost(Protocol):
    """What the instrument checks use of a host wrapper (see :mod:`.hosts`)."""

    @property
    def parameter_names(self) -> list[str]: ...

    def get_normalized(self, name: str) -> float: ...

    def set_normalized(self, name: str, value: float) -> None: ...

    def render(self, events: Sequence[MidiEvent], n: int, sample_rate: float, block_size: int = ...,
               reset: bool = ..., channels: int = ...,
               automation: Sequence[tuple[int, Mapping[str, float]]] | None = ...) -> np.ndarray: ...

    def reset(self) -> None: ...


# --------------------------------------------------------------------------------------------
# MIDI


def note_on(note: int, velocity: int, channel: int = 0) -> bytes:
    return bytes([0x90 | channel, note & 0x7F, velocity & 0x7F])


def note_off(note: int, channel: int = 0) -> bytes:
    return bytes([0x80 | channel, note & 0x7F, 0])


def control(number: int, value: int, channel: int = 0) -> bytes:
    return bytes([0xB0 | channel, number & 0x7F, value & 0x7F])


def pitch_bend(value: int, channel: int = 0) -> bytes:
    """value 0..16383, 8192 = centre."""
    return bytes([0xE0 | channel, value & 0x7F, (value >> 7) & 0x7F])


Note = tuple[float, float, int, int]  # start (s), duration (s), key, velocity


def pattern_notes(seed: int) -> list[Note]:
    """The fixed, seeded note pattern (times in seconds; everything ends by PATTERN_END)."""
    rng = np.random.default_rng(seed)
    notes: list[Note] = [(0.0, 0.35, k, 100) for k in (48, 60, 64, 67)]  # a chord
    t = 0.05
    while t < 0.6:  # an overlapping line, random velocities 1..127
        notes.append((t, float(rng.uniform(0.05, 0.3)), int(rng.integers(36, 97)), int(rng.integers(1, 128))))
        t += float(rng.uniform(0.02, 0.08))
    for k, key in enumerate(rng.choice(np.arange(40, 90), 12, replace=False)):  # 12 notes in 30 ms
        notes.append((0.45 + 0.0025 * k, 0.3, int(key), int(rng.integers(60, 128))))
    notes += [(0.7, 0.15, 0, 127), (0.7, 0.15, 127, 127), (0.72, 0.1, 21, 1), (0.72, 0.1, 108, 64)]  # extremes
    notes += [(0.8, 0.1, 72, 90), (0.85, 0.1, 72, 110)]  # the same key again while it sounds
    return notes


def note_events(notes: Sequence[Note], sample_rate: float) -> list[MidiEvent]:
    """Events at the nearest samples; at one sample note-offs come before note-ons."""
    ev: list[tuple[int, int, bytes]] = []
    for start, duration, key, velocity in notes:
        ev.append((int(round(start * sample_rate)), 1, note_on(key, velocity)))
        ev.append((int(round((start + duration) * sample_rate)), 0, note_off(key)))
    ev.sort(key=lambda e: (e[0], e[1]))
    return [(s, m) for s, _, m in ev]


def note_pattern(seed: int, sample_rate: float) -> list[MidiEvent]:
    return note_events(pattern_notes(seed), sample_rate)


def _merge(*streams: Sequence[MidiEvent]) -> list[MidiEvent]:
    return sorted((e for s in streams for e in s), key=lambda e: e[0])


def _window(events: Sequence[MidiEvent], a: int, b: int) -> list[MidiEvent]:
    """The events in samples a..b-1, relative to a."""
    return [(s - a, m) for s, m in events if a <= s < b]


def _hanging_offs(events: Sequence[MidiEvent], at: int) -> list[MidiEvent]:
    """Note-offs at sample ``at`` for every key still down after ``events``."""
    down: set[int] = set()
    for _, m in sorted(events, key=lambda e: e[0]):
        kind = m[0] & 0xF0
        if kind == 0x90 and m[2] > 0:
            down.add(m[1])
        elif kind in (0x80, 0x90):
            down.discard(m[1])
    return [(at, note_off(k)) for k in sorted(down)]


# --------------------------------------------------------------------------------------------
# Rendering and parameters


def _render(inst: Any, events: Sequence[MidiEvent], n: int, sr: float, what: str, block_size: int = 512,
            reset: bool = True, channels: int = 2,
            automation: Sequence[tuple[int, Mapping[str, float]]] | None = None) -> np.ndarray:
    y = np.asarray(inst.render(events, n, sr, block_size=block_size, reset=reset, channels=channels,
                               automation=automation))
    if y.shape != (channels, n):
        raise CheckFailed(f"{what}: output shape {y.shape}, expected {(channels, n)}")
    return y.astype(np.float32, copy=False)


def _is_bypass(name: str) -> bool:
    return _snake(name) == "bypass"


def _bypass(inst: InstrumentHost) -> str | None:
    return next((k for k in inst.parameter_names if _is_bypass(k)), None)


def _values(inst: InstrumentHost) -> dict[str, float]:
    return {k: float(inst.get_normalized(k)) for k in inst.parameter_names}


def _apply(inst: InstrumentHost, values: Mapping[str, float]) -> None:
    for k, v in values.items():
        inst.set_normalized(k, v)


def _other(value: float) -> float:
    """A normalized value clearly different from ``value``."""
    return 0.62 if abs(value - 0.62) > 0.1 else 0.27


def _level(y: np.ndarray) -> float:
    return _peak(y) if y.size else 0.0


def release_seconds(inst: Any) -> tuple[float, str]:
    """The amp (else any) release time the plugin shows, in seconds, and where it came from."""
    names = inst.parameter_names
    key = next((k for k in names if "amp_release" in _snake(k)), None) or next(
        (k for k in names if "release" in _snake(k)), None)
    display = getattr(inst, "parameter_display", None)
    if key is None or display is None:
        return DEFAULT_RELEASE, f"release unknown, {DEFAULT_RELEASE:g} s assumed"
    try:
        text, unit = display(key)
        value = float(re.findall(r"[-+]?\d*\.?\d+(?:[eE][-+]?\d+)?", text)[0])
    except (IndexError, ValueError, PluginError):
        return DEFAULT_RELEASE, f"release unknown, {DEFAULT_RELEASE:g} s assumed"
    unit = unit.strip().lower() or ("ms" if "ms" in text.lower() else "")
    if unit == "s":
        return value, f"{key} {value:g} s"
    if unit == "ms" or value > 20:  # a unit-less release above 20 can only be milliseconds
        return value / 1000.0, f"{key} {value:g} ms"
    return DEFAULT_RELEASE, f"{key} shown as {text!r} without unit, {DEFAULT_RELEASE:g} s assumed"


def tail_budget(inst: Any) -> tuple[float, str]:
    """Seconds after the last note-off by which the output must be below -120 dBFS."""
    release, how = release_seconds(inst)
    return REPORTED_TAIL + release, f"reported tail {REPORTED_TAIL:g} s + release ({how})"


def fundamental(y: np.ndarray, sr: float) -> float:
    """The fundamental frequency (Hz) of a sustained note: the strongest spectral peak, or the
    lowest peak at an integer fraction of it that has at least a quarter of its magnitude."""
    x = y.mean(axis=0).astype(np.float64)
    x = (x - x.mean()) * np.hanning(x.size)
    size = 1 << int(np.ceil(np.log2(x.size * 16)))
    mag = np.abs(np.fft.rfft(x, size))
    freqs = np.fft.rfftfreq(size, 1.0 / sr)
    band = (freqs >= 20.0) & (freqs <= min(8000.0, sr / 2))
    if not np.any(mag[band] > 0):
        return float("nan")

    def peak_near(f: float, width: float) -> tuple[float, float]:
        sel = np.nonzero((freqs >= f - width) & (freqs <= f + width))[0]
        i = int(sel[np.argmax(mag[sel])])
        if 0 < i < mag.size - 1:  # parabolic interpolation on log magnitude
            a, b, c = np.log(mag[i - 1:i + 2] + 1e-30)
            shift = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
            return float(freqs[i] + shift * (freqs[1] - freqs[0])), float(mag[i])
        return float(freqs[i]), float(mag[i])

    idx = np.nonzero(band)[0]
    top = int(idx[np.argmax(mag[idx])])
    f0, m0 = peak_near(float(freqs[top]), 2 * (freqs[1] - freqs[0]))
    for k in range(8, 1, -1):  # the lowest sub-harmonic with real energy is the fundamental
        if f0 / k < 20.0:
            continue
        f, m = peak_near(f0 / k, 0.03 * f0 / k)
        if m >= 0.25 * m0:
            return f
    return f0


# --------------------------------------------------------------------------------------------
# The checks


def check_load(ctx: Context) -> str:
    sr, bs = 48000, 512
    repeats = 8 if ctx.quick else 20
    n = int((PATTERN_END + 0.25) * sr)
    ev = note_pattern(ctx.seed, sr)
    problems: list[str] = []
    inst = ctx.open(sr, bs)
    names = list(inst.parameter_names)
    if not names:
        problems.append("the plugin lists no parameters")
    inputs = getattr(inst, "audio_inputs", None)
    if inputs not in (0, None):
        problems.append(f"an instrument with {inputs} audio inputs")
    one = _render(inst, [(0, note_on(60, 100)), (sr // 2, note_off(60))], sr, sr, "one note")
    if p := _finite_problem(one, "one note"):
        problems.append(p)
    if not _level(one) >= SOUND_LEVEL:
        problems.append(f"a note (60, velocity 100) gives no sound: peak {_db(_level(one))}")
    quiet = _render(inst, [], sr, sr, "no notes")
    if not _level(quiet) < SILENCE_LEVEL:
        problems.append(f"without notes the output is at {_db(_level(quiet))}")
    del inst
    gc.collect()

    first: np.ndarray | None = None
    for i in range(repeats):
        inst = ctx.open(sr, bs)
        y = _render(inst, ev, n, sr, f"instance {i + 1}")
        if p := _finite_problem(y, f"instance {i + 1}"):
            problems.append(p)
        if first is None:
            first = y
        elif (d := _diff(y, first)) > TOL_EXACT:
            problems.append(f"instance {i + 1} differs from the first by {d:.3g}")
        del inst
        gc.collect()

    a, b = ctx.open(sr, bs), ctx.open(sr, bs)
    ya = _render(a, ev, n, sr, "instance A")
    yb = _render(b, ev, n, sr, "instance B")
    if (d := _diff(ya, yb)) > TOL_EXACT:
        problems.append(f"two instances at once differ by {d:.3g} on the same notes")
    detail = (f"instrument: {len(names)} parameters, {inputs if inputs is not None else 'no'} audio inputs; "
              f"a note peaks at {_db(_level(one))}, no notes: {_db(_level(quiet))}; {repeats} create/render/destroy "
              f"cycles identical; two live instances identical (max |diff| {d:.2g})")
    if ctx.streaming:
        other = note_pattern(ctx.seed + 1, sr)
        chunks = []
        for k, off in enumerate(range(0, n, MAX_BLOCK)):
            end = min(n, off + MAX_BLOCK)
            chunks.append(_render(a, _window(ev, off, end), end - off, sr, "interleaved A", reset=k == 0))
            _render(b, _window(other, off, end), end - off, sr, "interleaved B", reset=k == 0)
        yi = np.concatenate(chunks, axis=1)
        if (d := _diff(yi, ya)) > TOL_EXACT:
            problems.append(f"instance A's output changes by {d:.3g} when instance B plays other notes in between "
                            f"(first at sample {_first_over(yi, ya, TOL_EXACT)}): shared state between instances?")
        detail += f"; interleaved with a second instance unchanged (max |diff| {d:.2g})"
    _raise(problems)
    return detail


def check_sample_rates(ctx: Context) -> str:
    problems, parts = [], []
    freqs: dict[int, float] = {}
    inst: Any = None
    for sr in SAMPLE_RATES:
        inst = ctx.configured(inst, sr, 512)
        n = int((PATTERN_END + 0.25) * sr)
        y = _render(inst, note_pattern(ctx.seed, sr), n, sr, f"{sr} Hz")
        peak = _level(y)
        if p := _finite_problem(y, f"{sr} Hz"):
            problems.append(p)
        if not peak >= SOUND_LEVEL:
            problems.append(f"{sr} Hz: no sound (peak {_db(peak)})")
        if not peak < INSTRUMENT_PEAK:
            problems.append(f"{sr} Hz: output peak {peak:.3g} >= {INSTRUMENT_PEAK:g} (blow-up)")
        held = int(0.6 * sr)
        note = _render(inst, [(0, note_on(PITCH_NOTE, 100)), (held, note_off(PITCH_NOTE))], held, sr, f"{sr} Hz A4")
        f = fundamental(note[:, int(0.15 * sr):], sr)
        freqs[sr] = f
        parts.append(f"{sr}: peak {peak:.2f}, A4 (nominally 440 Hz) measured at {f:.2f} Hz")
    good = [f for f in freqs.values() if np.isfinite(f)]
    if len(good) < len(freqs):
        bad = ", ".join(f"{sr} Hz" for sr, f in freqs.items() if not np.isfinite(f))
        problems.append(f"no pitch measurable at {bad}")
    elif max(good) / min(good) - 1 > PITCH_TOLERANCE:
        cents = 1200 * np.log2(max(good) / min(good))
        problems.append(f"the pitch of A4 depends on the sample rate ({cents:.1f} cents apart: "
                        + ", ".join(f"{sr} Hz -> {f:.2f} Hz" for sr, f in freqs.items()) + ")")
    _raise(problems)
    return "; ".join(parts)


def check_block_sizes(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + (0.25 if ctx.quick else 1.0)) * sr)
    ev = note_pattern(ctx.seed + 4, sr)
    inst = ctx.open(sr, 512)
    ref = _render(inst, ev, n, sr, "block 512")
    if p := _finite_problem(ref, "block 512"):
        raise CheckFailed(p)
    problems, worst = [], 0.0
    for bs in BLOCK_SIZES:
        inst = ctx.configured(inst, sr, bs)
        y = _render(inst, ev, n, sr, f"block {bs}", block_size=bs)
        d = _diff(y, ref)
        worst = max(worst, d)
        if d > TOL_EXACT:
            problems.append(f"block {bs}: differs from the 512-block render by {d:.3g} "
                            f"(first at sample {_first_over(y, ref, TOL_EXACT)})")
    _raise(problems)
    return f"{len(ev)} MIDI events; sizes {', '.join(map(str, BLOCK_SIZES))}: max |diff| {worst:.2g}"


def check_varying_blocks(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + (0.25 if ctx.quick else 1.0)) * sr)
    ev = note_pattern(ctx.seed + 5, sr)
    inst = ctx.open(sr, MAX_BLOCK)
    ref = _render(inst, ev, n, sr, "one call", block_size=MAX_BLOCK)
    sizes = _random_sizes(ctx.rng(6), n, MAX_BLOCK)  # the largest call first, as for effects
    out, off = [], 0
    for k, size in enumerate(sizes):
        out.append(_render(inst, _window(ev, off, off + size), size, sr, f"call {k + 1}", block_size=MAX_BLOCK,
                           reset=k == 0))
        off += size
    y = np.concatenate(out, axis=1)
    d = _diff(y, ref)
    if d > TOL_EXACT:
        first = _first_over(y, ref, TOL_EXACT)
        call = int(np.searchsorted(np.cumsum(sizes), first, side="right"))
        raise CheckFailed(f"{len(sizes)} calls of 1..{max(sizes)} samples differ from one call by {d:.3g} "
                          f"(first at sample {first}, in call {call + 1} of size {sizes[call]})")
    return f"{len(sizes)} calls of {min(sizes)}..{max(sizes)} samples with {len(ev)} MIDI events: max |diff| {d:.2g}"


def check_silence(ctx: Context) -> str:
    sr = 48000
    inst = ctx.open(sr, 512)
    problems = []
    z = _render(inst, [], sr, sr, "no MIDI")
    if p := _finite_problem(z, "no MIDI"):
        problems.append(p)
    if sub := _subnormal(z):
        problems.append(f"no MIDI: {sub} subnormal output samples")
    quiet = _level(z)
    if not quiet < SILENCE_LEVEL:
        problems.append(f"no MIDI: output at {_db(quiet)}, expected below {_db(SILENCE_LEVEL)}")

    budget, how = tail_budget(inst)
    ev = note_pattern(ctx.seed + 7, sr)
    last_off = max(s for s, m in ev if m[0] & 0xF0 == 0x80)
    n = last_off + int((budget + 0.5) * sr)  # half a second past the budget: it must stay silent
    y = _render(inst, ev, n, sr, "notes + tail", block_size=MAX_BLOCK)
    if p := _finite_problem(y, "notes + tail"):
        problems.append(p)
    if sub := _subnormal(y[:, last_off:]):
        problems.append(f"tail: {sub} subnormal output samples")
    if not _level(y[:, :last_off]) >= SOUND_LEVEL:
        problems.append("the notes give no sound")
    loud = np.nonzero(~(np.abs(y) < SILENCE_LEVEL).all(axis=0))[0]
    end = int(loud[-1]) + 1 if loud.size else 0
    decay = (end - last_off) / sr
    if decay > budget:
        problems.append(f"{_db(_level(y[:, last_off + int(budget * sr):]))} still {budget:.2f} s after the last "
                        f"note-off ({how}); expected below {_db(SILENCE_LEVEL)}")
    _raise(problems)
    return (f"no MIDI: {_db(quiet)}; after the last note-off below {_db(SILENCE_LEVEL)} within {max(decay, 0):.2f} s "
            f"(budget {budget:.2f} s: {how}); no NaN/Inf/subnormals")


def _extreme_settings(names: Sequence[str], defaults: Mapping[str, float],
                      rng: np.random.Generator) -> dict[str, dict[str, float]]:
    params = [k for k in names if not _is_bypass(k)]
    fast = _fastest_attacks(names)
    top = {k: 1.0 for k in params}
    return {
        "defaults": dict(defaults),
        "all at maximum": {**defaults, **top},
        "all at maximum, attacks shortest": {**defaults, **top, **fast},
        "all at minimum": {**defaults, **{k: 0.0 for k in params}},
        **{f"random min/max {i + 1}, attacks shortest": {
            **defaults, **{k: float(rng.integers(0, 2)) for k in params}, **fast} for i in range(3)},
    }


def _fastest_attacks(names: Sequence[str]) -> dict[str, float]:
    """Attack-time parameters (by name) at their minimum: at their maximum they keep a short render quiet."""
    return {k: 0.0 for k in names if "attack" in _snake(k)}


def check_full_scale(ctx: Context) -> str:
    sr = 48000
    n = int((1.0 if ctx.quick else 2.0) * sr)
    keys = np.unique(np.linspace(0, 127, 16).round().astype(int))
    chord = _merge([(0, note_on(int(k), 127)) for k in keys], [(int(0.5 * sr), note_off(int(k))) for k in keys])
    inst: Any = ctx.open(sr, 512)
    settings = _extreme_settings(inst.parameter_names, _values(inst), ctx.rng(8))
    problems, parts = [], []
    for label, values in settings.items():
        inst = ctx.configured(inst, sr, 512)
        _apply(inst, values)
        y = _render(inst, chord, n, sr, label)
        peak = _level(y)
        if p := _finite_problem(y, label):
            problems.append(p)
        if not peak < FULL_SCALE_PEAK:
            problems.append(f"{label}: output peak {peak:.3g} >= {FULL_SCALE_PEAK:g}")
        parts.append(f"{label}: peak {peak:.3g}")
    _raise(problems)
    return f"{len(keys)}-note chord at velocity 127 (keys 0..127); " + "; ".join(parts)


def check_automation(ctx: Context) -> str:
    sr, call = 48000, 256
    calls = 120 if ctx.quick else 200
    inst = ctx.open(sr, call)
    defaults = _values(inst)
    params = [k for k in inst.parameter_names if not _is_bypass(k)]
    if not params:
        return "no automatable parameters"
    rng = ctx.rng(9)
    phase = calls * call
    notes = note_pattern(ctx.seed + 10, sr)
    ev = [e for e in notes if e[0] < phase]
    ev += _hanging_offs(ev, phase)
    schedule: list[tuple[int, Mapping[str, float]]] = [
        (k * call, {p: float(rng.random()) for p in params}) for k in range(calls)]
    schedule.append((phase, {p: defaults[p] for p in params}))
    # Back at the defaults: after the reported tail, the pattern again must render as it does
    # after a reset (nothing the automation did may linger). The reference is the same instance,
    # reset: a normalized value set back can differ from the plugin's own default in the last
    # bits of the real value (e.g. a log-scaled cutoff of 1999.9999 Hz instead of 2000 Hz).
    wait = int(REPORTED_TAIL * sr)
    again = phase + wait
    m = int((PATTERN_END + 0.25) * sr)
    y = _render(inst, _merge(ev, [(s + again, msg) for s, msg in note_pattern(ctx.seed, sr)]), again + m, sr,
                "automation", block_size=call, automation=schedule)
    problems: list[str] = []
    if p := _finite_problem(y[:, :phase], "during automation"):
        problems.append(p)
    if p := _finite_problem(y[:, phase:], "after automation"):
        problems.append(p)
    peak = _level(y[:, :phase])
    if not peak < AUTOMATION_PEAK:
        problems.append(f"output peak {peak:.3g} during automation (>= {AUTOMATION_PEAK:g})")
    back = _values(inst)
    moved = [k for k in params if abs(back[k] - defaults[k]) > 1e-6]
    if moved:
        problems.append(f"parameters not back at their defaults after the automation: {', '.join(moved[:5])}")
    ref = _render(inst, note_pattern(ctx.seed, sr), m, sr, "defaults after a reset", block_size=call)
    d = _diff(y[:, again:], ref)
    if d > TOL_BLOCK:
        problems.append(f"back at the defaults, the pattern differs from its render after a reset by {d:.3g} "
                        f"(first at sample {_first_over(y[:, again:], ref, TOL_BLOCK)} of it)")
    _raise(problems)
    return (f"{calls} x {call} samples, {len(params)} parameters at random values with {len(ev)} MIDI events; "
            f"peak {peak:.2f}; back at defaults (after {REPORTED_TAIL:g} s) == after a reset, max |diff| {d:.2g}")


def check_state(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + 0.25) * sr)
    ev = note_pattern(ctx.seed + 12, sr)
    inst = ctx.open(sr, 512)
    if not hasattr(inst, "raw_state"):
        raise CheckFailed("the host gives no access to the plugin state (raw_state)")
    defaults = _values(inst)
    changed = [k for k in inst.parameter_names if not _is_bypass(k)]
    _apply(inst, {k: _other(defaults[k]) for k in changed})
    _render(inst, ev, n, sr, "modified")  # pedalboard: raw_state updates after processing
    # The host may show a stepped parameter (a choice, whole octaves) at the normalized value it
    # set, the plugin at the step it took: give the instance its own state back first, so that
    # both sides show the plugin's values.
    inst.raw_state = inst.raw_state
    _render(inst, ev, n, sr, "modified, own state restored")
    modified = _values(inst)
    problems = [f"could not change {k}" for k in changed if abs(modified[k] - defaults[k]) <= TOL_EXACT]
    state = inst.raw_state
    fresh = ctx.open(sr, 512)
    fresh.raw_state = state
    restored = _values(fresh)
    for k, v in modified.items():
        if abs(restored.get(k, float("nan")) - v) > TOL_EXACT or k not in restored:
            problems.append(f"{k}: {restored.get(k)} after restoring the state, expected {v}")
    ya = _render(inst, ev, n, sr, "original")
    yb = _render(fresh, ev, n, sr, "restored")
    if not _level(ya) >= SOUND_LEVEL:
        problems.append("the modified instance gives no sound (nothing to compare)")
    if (d := _diff(ya, yb)) > TOL_EXACT:
        problems.append(f"the restored instance's render differs by {d:.3g} "
                        f"(first at sample {_first_over(ya, yb, TOL_EXACT)})")
    _raise(problems)
    return f"{len(state)} bytes of state; {len(changed)} parameters changed and restored; renders max |diff| {d:.2g}"


def check_reset(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + 0.25) * sr)
    # A leaves notes held (no note-offs) with the sustain pedal down: reset must silence them.
    held = [(0, control(64, 127))] + [e for e in note_pattern(ctx.seed + 13, sr) if e[1][0] & 0xF0 == 0x90]
    b = note_pattern(ctx.seed + 14, sr)
    inst = ctx.open(sr, 512)
    a_out = _render(inst, held, n, sr, "A")
    inst.reset()
    y = _render(inst, b, n, sr, "after reset", reset=False)
    ref = _render(ctx.open(sr, 512), b, n, sr, "fresh instance")
    d = _diff(y, ref)
    if d > TOL_EXACT:
        raise CheckFailed(f"after reset() the render differs from a fresh instance's by {d:.3g} "
                          f"(first at sample {_first_over(y, ref, TOL_EXACT)}): notes or state survive reset")
    how = "" if ctx.streaming else " (this host prepares the plugin again for every render)"
    return (f"A (held notes, sustain pedal, ends at {_db(_level(a_out[:, -512:]))}), reset, B == fresh B{how}: "
            f"max |diff| {d:.2g}")


def check_bypass(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + 0.25) * sr)
    ev = note_pattern(ctx.seed + 15, sr)
    inst = ctx.open(sr, 512)
    key = _bypass(inst)
    if key is None:
        raise CheckSkipped("the plugin exposes no bypass parameter (in this format / host)")
    if not getattr(inst, "drives_bypass", True):
        raise CheckSkipped(f"{SKIPPED_HOST}: this host's Bypass parameter does not reach the plugin in this format "
                           f"(DawDreamer and LV2's lv2:enabled port)")
    normal = _render(inst, ev, n, sr, "normal")
    problems = []
    inst.set_normalized(key, 1.0)
    yb = _render(inst, ev, n, sr, "bypassed")
    level = _level(yb)
    if not level < SILENCE_LEVEL:
        same = _diff(yb, normal) <= TOL_EXACT
        problems.append(f"with Bypass on an instrument must be silent (no input to pass through), output at "
                        f"{_db(level)}" + (" (the normal output: Bypass has no effect)" if same else ""))
    inst.set_normalized(key, 0.0)
    yn = _render(inst, ev, n, sr, "un-bypassed")
    d = _diff(yn, normal)
    if d > TOL_EXACT:
        problems.append(f"with Bypass off again the render differs from the normal one by {d:.3g}")
    if not _level(normal) >= SOUND_LEVEL:
        problems.append("the normal render gives no sound")
    _raise(problems)
    return f"bypassed: {_db(level)}; off again == normal (max |diff| {d:.2g})"


def check_channels(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + 0.25) * sr)
    ev = note_pattern(ctx.seed + 16, sr)
    problems = []
    inst = ctx.open(sr, 512)
    ys = _render(inst, ev, n, sr, "stereo")
    if p := _finite_problem(ys, "stereo"):
        problems.append(p)
    for ch, side in enumerate(("left", "right")):
        if not _level(ys[ch]) >= SOUND_LEVEL:
            problems.append(f"stereo: the {side} channel is silent")
    detail = f"stereo ok (L/R max |diff| {_diff(ys[:1], ys[1:]):.2g})"
    mono_inst = ctx.open(sr, 512)
    try:
        ym = _render(mono_inst, ev, n, sr, "mono", channels=1)
    except (PluginError, ValueError, RuntimeError) as e:
        detail += f"; note: the host refused a mono output ({' '.join(str(e).split())}); stereo only"
    else:
        if p := _finite_problem(ym, "mono"):
            problems.append(p)
        if not _level(ym) >= SOUND_LEVEL:
            problems.append("mono: the output is silent")
        detail += f"; mono ok (vs (L+R)/2 max |diff| {_diff(ym, ys.mean(axis=0, keepdims=True)):.2g})"
    _raise(problems)
    return detail


def extreme_midi(sr: float) -> tuple[list[MidiEvent], list[MidiEvent]]:
    """(notes, controllers): MIDI a host may send in the worst case, and a normal note at 0.8 s."""
    s = lambda t: int(round(t * sr))  # noqa: E731
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


def check_non_finite(ctx: Context) -> str:
    sr = 48000
    n = int(1.25 * sr)
    notes, controllers = extreme_midi(sr)
    ev = _merge(notes, controllers)
    normal_at, normal_end = int(0.8 * sr), int(1.0 * sr)
    inst: Any = ctx.open(sr, 512)
    defaults = _values(inst)
    params = [k for k in inst.parameter_names if not _is_bypass(k)]
    problems, parts = [], []
    ys: dict[str, np.ndarray] = {}
    loud = {**defaults, **{k: 1.0 for k in params}, **_fastest_attacks(params)}
    for label, values in (("defaults", defaults), ("maximum parameters, attacks shortest", loud)):
        inst = ctx.configured(inst, sr, 512)
        _apply(inst, values)
        y = _render(inst, ev, n, sr, label)
        ys[label] = y
        if p := _finite_problem(y, label):
            problems.append(p)
        peak = _level(y)
        if not peak < FULL_SCALE_PEAK:
            problems.append(f"{label}: output peak {peak:.3g} >= {FULL_SCALE_PEAK:g}")
        if label == "defaults" and not _level(y[:, normal_at:normal_end]) >= SOUND_LEVEL:
            problems.append(f"{label}: a normal note after the extreme MIDI gives no sound")
        parts.append(f"{label}: peak {peak:.2f}, {_nonfinite(y)} non-finite")
        if ctx.streaming and label == "defaults":  # and the same instance carries on normally
            after = _render(inst, [(0, note_on(60, 100)), (sr // 4, note_off(60))], sr // 2, sr, "after", reset=False)
            if p := _finite_problem(after, "a note after the extreme MIDI"):
                problems.append(p)
            elif not _level(after) >= SOUND_LEVEL:
                problems.append("a note in the next call after the extreme MIDI gives no sound")
    inst = ctx.configured(inst, sr, 512)
    _apply(inst, defaults)
    plain = _render(inst, notes, n, sr, "without controllers")
    _raise(problems)
    detail = f"{len(ev)} events (128 keys at velocity 127, bends, pedal, all-notes-off, ...); " + "; ".join(parts)
    if _diff(plain, ys["defaults"]) == 0.0:
        detail += ("; note: pitch bend and controllers (CC1/7/64/120/123) changed nothing: not delivered by the host "
                   "in this format, or ignored by the plugin")
    return detail


INSTRUMENT_CHECKS: dict[str, Callable[[Context], str]] = {
    "load": check_load,
    "sample_rates": check_sample_rates,
    "block_sizes": check_block_sizes,
    "varying_blocks": check_varying_blocks,
    "silence": check_silence,
    "full_scale": check_full_scale,
    "automation": check_automation,
    "state": check_state,
    "reset": check_reset,
    "bypass": check_bypass,
    "channels": check_channels,
    "non_finite": check_non_finite,
}
