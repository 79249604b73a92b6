"""The battery's checks for instruments: the same twelve names, driven with MIDI.

An instrument (MIDI in, no audio input) is rendered through the host wrapper's ``render(events,
n, sample_rate, block_size, reset, channels, automation)`` (see :mod:`neuralsynth.plugins.hosts`),
with MIDI events placed at exact samples. Parameters are handled as host-normalized 0..1 values,
so nothing here depends on the plugin's own ranges. The signals are a fixed, seeded note pattern
(:mod:`.instrument_signals`).

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
from typing import Any

import numpy as np

from ...midi import MidiEvent, control, merge_events, note_off, note_on
from ..files import PluginError, param_key
from .check_steps import (
    block_sweep,
    compare_after_reset,
    compare_calls,
    interleave,
    interleaving_detail,
    repeated_instances,
    require_state,
    restore_problems,
    restored_output,
    shaped,
    signal_problems,
    two_instances,
)
from .context import Context
from .instrument_signals import PATTERN_END, extreme_midi, hanging_offs, note_pattern, pattern_length, window
from .limits import AUTOMATION_PEAK, BLOCK_SIZES, MAX_BLOCK, SAMPLE_RATES, SILENCE_LEVEL, TOL_BLOCK, TOL_EXACT
from .measures import (
    db_text,
    finite_problem,
    first_over,
    fundamental,
    max_diff,
    nonfinite_count,
    output_level,
    subnormal_count,
)
from .params import (
    apply_normalized,
    bypass_name,
    fastest_attacks,
    is_bypass,
    normalized_values,
    other_normalized,
)
from .results import SKIPPED_HOST, CheckFailed, CheckSkipped, raise_problems

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


def _render(inst: Any, events: Sequence[MidiEvent], n: int, sr: float, what: str, block_size: int = 512,
            reset: bool = True, channels: int = 2,
            automation: Sequence[tuple[int, Mapping[str, float]]] | None = None) -> np.ndarray:
    y = inst.render(events, n, sr, block_size=block_size, reset=reset, channels=channels, automation=automation)
    return shaped(y, (channels, n), what)


def release_seconds(inst: Any) -> tuple[float, str]:
    """The amp (else any) release time the plugin shows, in seconds, and where it came from."""
    names = inst.parameter_names
    key = next((k for k in names if "amp_release" in param_key(k)), None) or next(
        (k for k in names if "release" in param_key(k)), None)
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


def check_load(ctx: Context) -> str:
    sr, bs = 48000, 512
    repeats = 8 if ctx.quick else 20
    n = pattern_length(sr)
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
    if p := finite_problem(one, "one note"):
        problems.append(p)
    if not output_level(one) >= SOUND_LEVEL:
        problems.append(f"a note (60, velocity 100) gives no sound: peak {db_text(output_level(one))}")
    quiet = _render(inst, [], sr, sr, "no notes")
    if not output_level(quiet) < SILENCE_LEVEL:
        problems.append(f"without notes the output is at {db_text(output_level(quiet))}")
    del inst
    gc.collect()

    def run(inst: Any, what: str) -> np.ndarray:
        return _render(inst, ev, n, sr, what)

    problems += repeated_instances(ctx, repeats, sr, bs, run)
    a, b, ya, d = two_instances(ctx, sr, bs, run, "notes", problems)
    detail = (f"instrument: {len(names)} parameters, {inputs if inputs is not None else 'no'} audio inputs; "
              f"a note peaks at {db_text(output_level(one))}, no notes: {db_text(output_level(quiet))}; "
              f"{repeats} create/render/destroy "
              f"cycles identical; two live instances identical (max |diff| {d:.2g})")
    if ctx.streaming:
        other = note_pattern(ctx.seed + 1, sr)
        yi = interleave(n, lambda s, e, first: _render(a, window(ev, s, e), e - s, sr, "interleaved A", reset=first),
                        lambda s, e, first: _render(b, window(other, s, e), e - s, sr, "interleaved B", reset=first))
        detail += interleaving_detail(yi, ya, "plays other notes", problems)
    raise_problems(problems)
    return detail


def check_sample_rates(ctx: Context) -> str:
    problems, parts = [], []
    freqs: dict[int, float] = {}
    inst: Any = None
    for sr in SAMPLE_RATES:
        inst = ctx.configured(inst, sr, 512)
        n = pattern_length(sr)
        y = _render(inst, note_pattern(ctx.seed, sr), n, sr, f"{sr} Hz")
        peak = output_level(y)
        if p := finite_problem(y, f"{sr} Hz"):
            problems.append(p)
        if not peak >= SOUND_LEVEL:
            problems.append(f"{sr} Hz: no sound (peak {db_text(peak)})")
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
    raise_problems(problems)
    return "; ".join(parts)


def check_block_sizes(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + (0.25 if ctx.quick else 1.0)) * sr)
    ev = note_pattern(ctx.seed + 4, sr)
    inst = ctx.open(sr, 512)
    ref = _render(inst, ev, n, sr, "block 512")
    if p := finite_problem(ref, "block 512"):
        raise CheckFailed(p)
    worst = block_sweep(ctx, inst, sr, ref, lambda i, bs: _render(i, ev, n, sr, f"block {bs}", block_size=bs),
                        TOL_EXACT, "render")
    return f"{len(ev)} MIDI events; sizes {', '.join(map(str, BLOCK_SIZES))}: max |diff| {worst:.2g}"


def check_varying_blocks(ctx: Context) -> str:
    sr = 48000
    n = int((PATTERN_END + (0.25 if ctx.quick else 1.0)) * sr)
    ev = note_pattern(ctx.seed + 5, sr)
    inst = ctx.open(sr, MAX_BLOCK)
    ref = _render(inst, ev, n, sr, "one call", block_size=MAX_BLOCK)
    sizes = ctx.call_sizes(n, MAX_BLOCK)  # the largest call first, as for effects
    out, off = [], 0
    for k, size in enumerate(sizes):
        out.append(_render(inst, window(ev, off, off + size), size, sr, f"call {k + 1}", block_size=MAX_BLOCK,
                           reset=k == 0))
        off += size
    y = np.concatenate(out, axis=1)
    d = compare_calls(y, ref, sizes, TOL_EXACT)
    return f"{len(sizes)} calls of {min(sizes)}..{max(sizes)} samples with {len(ev)} MIDI events: max |diff| {d:.2g}"


def check_silence(ctx: Context) -> str:
    sr = 48000
    inst = ctx.open(sr, 512)
    z = _render(inst, [], sr, sr, "no MIDI")
    problems = signal_problems(z, "no MIDI")
    quiet = output_level(z)
    if not quiet < SILENCE_LEVEL:
        problems.append(f"no MIDI: output at {db_text(quiet)}, expected below {db_text(SILENCE_LEVEL)}")

    budget, how = tail_budget(inst)
    ev = note_pattern(ctx.seed + 7, sr)
    last_off = max(s for s, m in ev if m[0] & 0xF0 == 0x80)
    n = last_off + int((budget + 0.5) * sr)  # half a second past the budget: it must stay silent
    y = _render(inst, ev, n, sr, "notes + tail", block_size=MAX_BLOCK)
    if p := finite_problem(y, "notes + tail"):
        problems.append(p)
    if sub := subnormal_count(y[:, last_off:]):
        problems.append(f"tail: {sub} subnormal output samples")
    if not output_level(y[:, :last_off]) >= SOUND_LEVEL:
        problems.append("the notes give no sound")
    loud = np.nonzero(~(np.abs(y) < SILENCE_LEVEL).all(axis=0))[0]
    end = int(loud[-1]) + 1 if loud.size else 0
    decay = (end - last_off) / sr
    if decay > budget:
        late = output_level(y[:, last_off + int(budget * sr):])
        problems.append(f"{db_text(late)} still {budget:.2f} s after the last "
                        f"note-off ({how}); expected below {db_text(SILENCE_LEVEL)}")
    raise_problems(problems)
    return (f"no MIDI: {db_text(quiet)}; after the last note-off below {db_text(SILENCE_LEVEL)} "
            f"within {max(decay, 0):.2f} s "
            f"(budget {budget:.2f} s: {how}); no NaN/Inf/subnormals")


def _extreme_settings(names: Sequence[str], defaults: Mapping[str, float],
                      rng: np.random.Generator) -> dict[str, dict[str, float]]:
    params = [k for k in names if not is_bypass(k)]
    fast = fastest_attacks(names)
    top = {k: 1.0 for k in params}
    return {
        "defaults": dict(defaults),
        "all at maximum": {**defaults, **top},
        "all at maximum, attacks shortest": {**defaults, **top, **fast},
        "all at minimum": {**defaults, **{k: 0.0 for k in params}},
        **{f"random min/max {i + 1}, attacks shortest": {
            **defaults, **{k: float(rng.integers(0, 2)) for k in params}, **fast} for i in range(3)},
    }


def check_full_scale(ctx: Context) -> str:
    sr = 48000
    n = int((1.0 if ctx.quick else 2.0) * sr)
    keys = np.unique(np.linspace(0, 127, 16).round().astype(int))
    chord = merge_events([(0, note_on(int(k), 127)) for k in keys], [(int(0.5 * sr), note_off(int(k))) for k in keys])
    inst: Any = ctx.open(sr, 512)
    settings = _extreme_settings(inst.parameter_names, normalized_values(inst), ctx.rng(8))
    problems, parts = [], []
    for label, values in settings.items():
        inst = ctx.configured(inst, sr, 512)
        apply_normalized(inst, values)
        y = _render(inst, chord, n, sr, label)
        peak = output_level(y)
        if p := finite_problem(y, label):
            problems.append(p)
        if not peak < FULL_SCALE_PEAK:
            problems.append(f"{label}: output peak {peak:.3g} >= {FULL_SCALE_PEAK:g}")
        parts.append(f"{label}: peak {peak:.3g}")
    raise_problems(problems)
    return f"{len(keys)}-note chord at velocity 127 (keys 0..127); " + "; ".join(parts)


def check_automation(ctx: Context) -> str:
    sr, call = 48000, 256
    calls = 120 if ctx.quick else 200
    inst = ctx.open(sr, call)
    defaults = normalized_values(inst)
    params = [k for k in inst.parameter_names if not is_bypass(k)]
    if not params:
        return "no automatable parameters"
    rng = ctx.rng(9)
    phase = calls * call
    notes = note_pattern(ctx.seed + 10, sr)
    ev = [e for e in notes if e[0] < phase]
    ev += hanging_offs(ev, phase)
    schedule: list[tuple[int, Mapping[str, float]]] = [
        (k * call, {p: float(rng.random()) for p in params}) for k in range(calls)]
    schedule.append((phase, {p: defaults[p] for p in params}))
    # Back at the defaults: after the reported tail, the pattern again must render as it does
    # after a reset (nothing the automation did may linger). The reference is the same instance,
    # reset: a normalized value set back can differ from the plugin's own default in the last
    # bits of the real value (e.g. a log-scaled cutoff of 1999.9999 Hz instead of 2000 Hz).
    wait = int(REPORTED_TAIL * sr)
    again = phase + wait
    m = pattern_length(sr)
    y = _render(inst, merge_events(ev, [(s + again, msg) for s, msg in note_pattern(ctx.seed, sr)]), again + m, sr,
                "automation", block_size=call, automation=schedule)
    problems: list[str] = []
    if p := finite_problem(y[:, :phase], "during automation"):
        problems.append(p)
    if p := finite_problem(y[:, phase:], "after automation"):
        problems.append(p)
    peak = output_level(y[:, :phase])
    if not peak < AUTOMATION_PEAK:
        problems.append(f"output peak {peak:.3g} during automation (>= {AUTOMATION_PEAK:g})")
    back = normalized_values(inst)
    moved = [k for k in params if abs(back[k] - defaults[k]) > 1e-6]
    if moved:
        problems.append(f"parameters not back at their defaults after the automation: {', '.join(moved[:5])}")
    ref = _render(inst, note_pattern(ctx.seed, sr), m, sr, "defaults after a reset", block_size=call)
    d = max_diff(y[:, again:], ref)
    if d > TOL_BLOCK:
        problems.append(f"back at the defaults, the pattern differs from its render after a reset by {d:.3g} "
                        f"(first at sample {first_over(y[:, again:], ref, TOL_BLOCK)} of it)")
    raise_problems(problems)
    return (f"{calls} x {call} samples, {len(params)} parameters at random values with {len(ev)} MIDI events; "
            f"peak {peak:.2f}; back at defaults (after {REPORTED_TAIL:g} s) == after a reset, max |diff| {d:.2g}")


def check_state(ctx: Context) -> str:
    sr = 48000
    n = pattern_length(sr)
    ev = note_pattern(ctx.seed + 12, sr)
    inst = ctx.open(sr, 512)
    require_state(inst)
    defaults = normalized_values(inst)
    changed = [k for k in inst.parameter_names if not is_bypass(k)]
    apply_normalized(inst, {k: other_normalized(defaults[k]) for k in changed})
    _render(inst, ev, n, sr, "modified")  # pedalboard: raw_state updates after processing
    # The host may show a stepped parameter (a choice, whole octaves) at the normalized value it
    # set, the plugin at the step it took: give the instance its own state back first, so that
    # both sides show the plugin's values.
    inst.raw_state = inst.raw_state
    _render(inst, ev, n, sr, "modified, own state restored")
    modified = normalized_values(inst)
    problems = [f"could not change {k}" for k in changed if abs(modified[k] - defaults[k]) <= TOL_EXACT]
    state = inst.raw_state
    fresh = ctx.open(sr, 512)
    fresh.raw_state = state
    restored = normalized_values(fresh)
    problems += restore_problems(modified, restored)
    ya = _render(inst, ev, n, sr, "original")
    yb = _render(fresh, ev, n, sr, "restored")
    if not output_level(ya) >= SOUND_LEVEL:
        problems.append("the modified instance gives no sound (nothing to compare)")
    d = restored_output(ya, yb, "render", problems)
    raise_problems(problems)
    return f"{len(state)} bytes of state; {len(changed)} parameters changed and restored; renders max |diff| {d:.2g}"


def check_reset(ctx: Context) -> str:
    sr = 48000
    n = pattern_length(sr)
    # A leaves notes held (no note-offs) with the sustain pedal down: reset must silence them.
    held = [(0, control(64, 127))] + [e for e in note_pattern(ctx.seed + 13, sr) if e[1][0] & 0xF0 == 0x90]
    b = note_pattern(ctx.seed + 14, sr)
    inst = ctx.open(sr, 512)
    a_out = _render(inst, held, n, sr, "A")
    inst.reset()
    y = _render(inst, b, n, sr, "after reset", reset=False)
    ref = _render(ctx.open(sr, 512), b, n, sr, "fresh instance")
    d = compare_after_reset(y, ref, "render", "notes or state survive")
    how = "" if ctx.streaming else " (this host prepares the plugin again for every render)"
    end = db_text(output_level(a_out[:, -512:]))
    return (f"A (held notes, sustain pedal, ends at {end}), reset, B == fresh B{how}: "
            f"max |diff| {d:.2g}")


def check_bypass(ctx: Context) -> str:
    sr = 48000
    n = pattern_length(sr)
    ev = note_pattern(ctx.seed + 15, sr)
    inst = ctx.open(sr, 512)
    key = bypass_name(inst)
    if key is None:
        raise CheckSkipped("the plugin exposes no bypass parameter (in this format / host)")
    if not getattr(inst, "drives_bypass", True):
        raise CheckSkipped(f"{SKIPPED_HOST}: this host's Bypass parameter does not reach the plugin in this format "
                           f"(DawDreamer and LV2's lv2:enabled port)")
    normal = _render(inst, ev, n, sr, "normal")
    problems = []
    inst.set_normalized(key, 1.0)
    yb = _render(inst, ev, n, sr, "bypassed")
    level = output_level(yb)
    if not level < SILENCE_LEVEL:
        same = max_diff(yb, normal) <= TOL_EXACT
        problems.append(f"with Bypass on an instrument must be silent (no input to pass through), output at "
                        f"{db_text(level)}" + (" (the normal output: Bypass has no effect)" if same else ""))
    inst.set_normalized(key, 0.0)
    yn = _render(inst, ev, n, sr, "un-bypassed")
    d = max_diff(yn, normal)
    if d > TOL_EXACT:
        problems.append(f"with Bypass off again the render differs from the normal one by {d:.3g}")
    if not output_level(normal) >= SOUND_LEVEL:
        problems.append("the normal render gives no sound")
    raise_problems(problems)
    return f"bypassed: {db_text(level)}; off again == normal (max |diff| {d:.2g})"


def check_channels(ctx: Context) -> str:
    sr = 48000
    n = pattern_length(sr)
    ev = note_pattern(ctx.seed + 16, sr)
    problems = []
    inst = ctx.open(sr, 512)
    ys = _render(inst, ev, n, sr, "stereo")
    if p := finite_problem(ys, "stereo"):
        problems.append(p)
    for ch, side in enumerate(("left", "right")):
        if not output_level(ys[ch]) >= SOUND_LEVEL:
            problems.append(f"stereo: the {side} channel is silent")
    detail = f"stereo ok (L/R max |diff| {max_diff(ys[:1], ys[1:]):.2g})"
    mono_inst = ctx.open(sr, 512)
    try:
        ym = _render(mono_inst, ev, n, sr, "mono", channels=1)
    except (PluginError, ValueError, RuntimeError) as e:
        detail += f"; note: the host refused a mono output ({' '.join(str(e).split())}); stereo only"
    else:
        if p := finite_problem(ym, "mono"):
            problems.append(p)
        if not output_level(ym) >= SOUND_LEVEL:
            problems.append("mono: the output is silent")
        detail += f"; mono ok (vs (L+R)/2 max |diff| {max_diff(ym, ys.mean(axis=0, keepdims=True)):.2g})"
    raise_problems(problems)
    return detail


def check_non_finite(ctx: Context) -> str:
    sr = 48000
    n = int(1.25 * sr)
    notes, controllers = extreme_midi(sr)
    ev = merge_events(notes, controllers)
    normal_at, normal_end = int(0.8 * sr), int(1.0 * sr)
    inst: Any = ctx.open(sr, 512)
    defaults = normalized_values(inst)
    params = [k for k in inst.parameter_names if not is_bypass(k)]
    problems, parts = [], []
    ys: dict[str, np.ndarray] = {}
    loud = {**defaults, **{k: 1.0 for k in params}, **fastest_attacks(params)}
    for label, values in (("defaults", defaults), ("maximum parameters, attacks shortest", loud)):
        inst = ctx.configured(inst, sr, 512)
        apply_normalized(inst, values)
        y = _render(inst, ev, n, sr, label)
        ys[label] = y
        if p := finite_problem(y, label):
            problems.append(p)
        peak = output_level(y)
        if not peak < FULL_SCALE_PEAK:
            problems.append(f"{label}: output peak {peak:.3g} >= {FULL_SCALE_PEAK:g}")
        if label == "defaults" and not output_level(y[:, normal_at:normal_end]) >= SOUND_LEVEL:
            problems.append(f"{label}: a normal note after the extreme MIDI gives no sound")
        parts.append(f"{label}: peak {peak:.2f}, {nonfinite_count(y)} non-finite")
        if ctx.streaming and label == "defaults":  # and the same instance carries on normally
            after = _render(inst, [(0, note_on(60, 100)), (sr // 4, note_off(60))], sr // 2, sr, "after", reset=False)
            if p := finite_problem(after, "a note after the extreme MIDI"):
                problems.append(p)
            elif not output_level(after) >= SOUND_LEVEL:
                problems.append("a note in the next call after the extreme MIDI gives no sound")
    inst = ctx.configured(inst, sr, 512)
    apply_normalized(inst, defaults)
    plain = _render(inst, notes, n, sr, "without controllers")
    raise_problems(problems)
    detail = f"{len(ev)} events (128 keys at velocity 127, bends, pedal, all-notes-off, ...); " + "; ".join(parts)
    if max_diff(plain, ys["defaults"]) == 0.0:
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
