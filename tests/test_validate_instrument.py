"""The validation battery on instruments (MIDI in, stereo out).

The tests that count run the battery on the project's instrument, built here (``instrument_bundles``)
as VST3 / VST2 / LV2: VST3 through pedalboard, all three through DawDreamer. The fake instrument
further down exists only to test the checks themselves: with each flaw switched on, the battery
must fail the checks that look for that flaw, and only those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.midi import Note, control, note_events, note_off, note_on, pitch_bend, sort_events
from neuralsynth.plugins.files import PluginError
from neuralsynth.plugins.hosts import open_plugin
from neuralsynth.plugins.validation import (
    CHECK_BY_NAME,
    CHECK_NAMES,
    INSTRUMENT_HOST_CHECKS,
    CheckFailed,
    CheckResult,
    Context,
    instrument_checks,
    run_check,
    run_checks,
    run_validation,
)
from neuralsynth.plugins.validation.instrument_signals import PATTERN_END, note_pattern
from neuralsynth.plugins.validation.measures import fundamental

CONFIGS = [("pedalboard", "vst3"), ("dawdreamer", "vst3"), ("dawdreamer", "vst2"), ("dawdreamer", "lv2")]
CONFIG_IDS = [f"{h}-{f}" for h, f in CONFIGS]



# --------------------------------------------------------------------------------------------
# The real instrument


# instrument_bundles (tests/conftest.py): the project's instrument named "NeuralSynth" with the
# default model in its neural stage, as VST3, LV2, VST2 and Standalone.


@pytest.fixture(scope="module")
def instrument_battery(instrument_bundles: dict[str, Path]):
    cache: dict[tuple[str, str], dict[str, CheckResult]] = {}

    def run(host: str, fmt: str) -> dict[str, CheckResult]:
        if (host, fmt) not in cache:
            results = run_validation(instrument_bundles[fmt], host, quick=True, log=None)
            cache[host, fmt] = {r.name: r for r in results}
        return cache[host, fmt]

    return run


def _expected_skip(host: str, fmt: str, check: str) -> str | None:
    if check not in INSTRUMENT_HOST_CHECKS.get(host, CHECK_NAMES):
        return "skipped (host)"
    if check == "bypass" and host == "dawdreamer" and fmt == "vst2":
        return "skipped: the plugin exposes no bypass parameter"  # only the VST3 wrapper adds one
    if check == "bypass" and host == "dawdreamer" and fmt == "lv2":
        return "skipped (host)"  # DawDreamer's "Bypass" does not reach the lv2:enabled port
    return None


@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize(("host", "fmt"), CONFIGS, ids=CONFIG_IDS)
def test_real_instrument(instrument_battery, host: str, fmt: str, check: str) -> None:
    r = instrument_battery(host, fmt)[check]
    if (skip := _expected_skip(host, fmt, check)) is not None:
        assert r.skipped and r.detail.startswith(skip), r
        return
    assert r.passed, f"{check} FAILED on the {fmt} instrument via {host}: {r.detail}"


@pytest.mark.parametrize(("host", "fmt"), CONFIGS, ids=CONFIG_IDS)
def test_real_instrument_is_detected_and_measured(instrument_battery, host: str, fmt: str) -> None:
    results = instrument_battery(host, fmt)
    assert results["load"].detail.startswith("instrument:"), results["load"].detail
    rates = results["sample_rates"].detail
    assert rates.count("measured at 44") == 3, rates  # A4 near 440 Hz (osc 2 is detuned 7 cents) at every rate


@pytest.mark.parametrize(("host", "fmt"), CONFIGS, ids=CONFIG_IDS)
def test_hosts_place_midi_at_the_exact_sample(instrument_bundles: dict[str, Path], host: str, fmt: str) -> None:
    """Each host's render equals the bridge's for events at odd samples, also after 12 s (DawDreamer
    put events one sample early there when its MIDI file had one tick per sample)."""
    from neuralsynth.synth import Synth

    sr = 48000
    pattern = note_pattern(7, sr)
    late = int(12.0 * sr) + 37
    events = pattern + [(s + late, m) for s, m in pattern]
    n = late + int(1.1 * sr)
    y = open_plugin(instrument_bundles[fmt], host, sample_rate=sr).render(events, n, sr, block_size=512)
    ref = Synth(sr).process([(s, m[0], m[1], m[2]) for s, m in events], n)
    # LV2 takes its parameter defaults from the TTL text (e.g. Osc 2 Detune 7.00001 ct), hence the tolerance
    tol = 1e-5 if fmt == "lv2" else 0.0
    assert np.abs(y - ref).max() <= tol
    assert np.abs(y[:, late:late + sr]).max() > 0.1


@pytest.mark.parametrize("fmt", [
    "vst2", "lv2",
    pytest.param("vst3", marks=pytest.mark.xfail(strict=True, reason=(
        "by design (no MIDI-CC proxy parameters in the VST3's list): built with "
        "JUCE_VST3_EMULATE_MIDI_CC_WITH_PARAMETERS=0, the VST3 has no MIDI-CC mapping, so VST3 hosts "
        "drop pitch bend and controllers (sustain, all-notes-off)"))),
])
def test_controllers_reach_the_instrument(instrument_bundles: dict[str, Path], fmt: str) -> None:
    sr = 48000
    notes = [(0, note_on(60, 100)), (sr // 2, note_off(60))]
    bent = notes + [(sr // 4, pitch_bend(16383))]
    held = notes[:1] + [(1000, control(64, 127)), (sr // 2, note_off(60))]
    host = open_plugin(instrument_bundles[fmt], "dawdreamer", sample_rate=sr)
    plain = host.render(notes, sr, sr)
    assert np.abs(host.render(bent, sr, sr) - plain).max() > 1e-3, "pitch bend changed nothing"
    tail = slice(int(0.75 * sr), sr)  # released at 0.5 s: silent by 0.75 s unless the pedal holds it
    assert np.abs(host.render(held, sr, sr)[:, tail]).max() > 10 * np.abs(plain[:, tail]).max(), "CC64 ignored"


class NaNAfterNotes:
    """A real host wrapper whose output turns NaN after sample 1000 once a key >= 120 was played."""

    def __init__(self, inner) -> None:  # noqa: ANN001
        self.inner = inner

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.inner, name)

    def render(self, events: Sequence[tuple[int, bytes]], n: int, *args, **kwargs) -> np.ndarray:
        y = np.array(self.inner.render(events, n, *args, **kwargs))
        if any(m[0] & 0xF0 == 0x90 and m[1] >= 120 for _, m in events):
            y[:, 1000:1010] = np.nan
        return y


def test_a_check_fails_on_the_real_instrument(instrument_bundles: dict[str, Path]) -> None:
    """The real plugin through pedalboard, with NaN injected into its output: non_finite fails."""
    path = instrument_bundles["vst3"]
    ctx = Context(lambda sr, bs: NaNAfterNotes(open_plugin(path, "pedalboard", sr, bs)), "pedalboard", quick=True)
    assert ctx.instrument
    with pytest.raises(CheckFailed, match="non-finite output samples"):
        instrument_checks.check_non_finite(ctx)
    r = run_check(CHECK_BY_NAME["non_finite"], ctx)
    assert r.failed and "non-finite" in r.detail
    # and the same wrapper without the poison passes
    clean = Context(lambda sr, bs: open_plugin(path, "pedalboard", sr, bs), "pedalboard", quick=True)
    assert run_check(CHECK_BY_NAME["non_finite"], clean).passed


def test_dawdreamer_mono_output_is_refused_clearly(instrument_bundles: dict[str, Path]) -> None:
    """DawDreamer cannot change the instrument's output layout: a PluginError, which the channels
    check reports as a note (stereo only), not a crash."""
    host = open_plugin(instrument_bundles["vst3"], "dawdreamer")
    assert host.is_instrument and host.audio_inputs == 0
    with pytest.raises(PluginError, match="CANNOT"):
        host.render([(0, note_on(60, 100))], 4800, 48000, channels=1)


# --------------------------------------------------------------------------------------------
# A fake instrument with the host wrapper's instrument interface, to test the checks themselves.

FAKE_DEFAULTS = {"Level": 0.5, "Pitch": 0.5, "Release": 0.2, "Bypass": 0.0}
_shared_voices: dict[int, list[float]] = {}


class FakeInstrument:
    """Sine voices (instant attack, exponential release), pitch bend, sustain pedal, all-notes-off;
    sample-accurate and block-size invariant unless a flaw says otherwise."""

    is_instrument = True
    audio_inputs = 0

    def __init__(self, flaw: str | None = None) -> None:
        self.flaw = flaw
        self.values = dict(FAKE_DEFAULTS)
        self._clear()

    # parameters -------------------------------------------------------------------------------
    @property
    def parameter_names(self) -> list[str]:
        return list(self.values)

    def get_normalized(self, name: str) -> float:
        return self.values[name]

    def set_normalized(self, name: str, value: float) -> None:
        if name not in self.values:
            raise KeyError(name)
        self.values[name] = float(min(max(value, 0.0), 1.0))

    def parameter_display(self, name: str) -> tuple[str, str]:
        if name == "Release":
            return f"{self._release() * 1000:g}", "ms"
        return f"{self.values[name]:.3f}", ""

    def _release(self) -> float:
        return 0.01 + 0.49 * self.values["Release"]

    @property
    def raw_state(self) -> bytes:
        return json.dumps(self.values).encode()

    @raw_state.setter
    def raw_state(self, data: bytes) -> None:
        if self.flaw != "state_lost":
            self.values.update(json.loads(data))

    # audio ------------------------------------------------------------------------------------
    def reset(self) -> None:
        if self.flaw != "reset_ignored":
            self._clear()

    def _clear(self) -> None:
        self.voices: dict[int, list[float]] = _shared_voices if self.flaw == "shared_state" else {}
        self.voices.clear()  # note -> [phase (cycles), amplitude, releasing, sustained]
        self.bend = 0.0
        self.pedal = False
        self.residue = 0.0  # the automation_residue flaw: a gain error left by automation until a reset

    def _event(self, msg: bytes) -> None:
        kind = msg[0] & 0xF0
        if kind == 0x90 and msg[2] > 0:
            self.voices[msg[1]] = [0.0, msg[2] / 127, 0.0, 0.0]
        elif kind in (0x80, 0x90) and msg[1] in self.voices and self.flaw != "hanging_notes":
            self.voices[msg[1]][3 if self.pedal else 2] = 1.0
        elif kind == 0xE0:
            self.bend = 2.0 * (((msg[2] << 7) | msg[1]) - 8192) / 8192
        elif kind == 0xB0 and msg[1] == 64:
            self.pedal = msg[2] >= 64
            if not self.pedal:
                for v in self.voices.values():
                    v[2] = max(v[2], v[3])
        elif kind == 0xB0 and msg[1] == 120:
            self.voices.clear()
        elif kind == 0xB0 and msg[1] == 123:
            for v in self.voices.values():
                v[2] = 1.0

    def _synth(self, m: int, sr: float) -> np.ndarray:
        rate = 48000.0 if self.flaw == "fixed_rate" else sr
        t = np.arange(m)
        y = np.zeros(m)
        decay = np.exp(-t / (self._release() * sr))
        for note in sorted(self.voices):
            phase, amp, releasing, _ = self.voices[note]
            f = 440.0 * 2 ** ((note - 69 + self.bend + 24 * (self.values["Pitch"] - 0.5)) / 12)
            env = np.where(amp * decay >= 1e-9, amp * decay, 0.0) if releasing else np.full(m, amp)
            y += np.sin(2 * np.pi * (phase + f / rate * t)) * env
            self.voices[note][0] = (phase + f / rate * m) % 1.0
            self.voices[note][1] = amp * float(np.exp(-m / (self._release() * sr))) if releasing else amp
            if releasing and self.voices[note][1] < 1e-9:
                del self.voices[note]
        return y * (0.2 * self.values["Level"] + self.residue)

    def render(self, events: Sequence[tuple[int, bytes]], n: int, sample_rate: float, block_size: int = 512,
               reset: bool = True, channels: int = 2,
               automation: Sequence[tuple[int, Mapping[str, float]]] | None = None) -> np.ndarray:
        if channels not in (1, 2):
            raise PluginError(f"no {channels}-channel layout")
        if reset:
            self._clear()
        evs = sorted(((int(s), bytes(m)) for s, m in events if 0 <= s < n), key=lambda e: e[0])
        if self.flaw == "block_quantized":  # applies each event at the start of its block
            evs = sorted(((s - s % block_size, m) for s, m in evs), key=lambda e: e[0])
        changes: dict[int, dict[str, float]] = {}
        for s, values in automation or ():
            changes.setdefault(int(s), {}).update(values)
        cuts = sorted({0, n, *(s for s, _ in evs), *(s for s in changes if s < n)})
        out = np.zeros(n)
        bypassed = self.values.get("Bypass", 0.0) >= 0.5 and self.flaw != "bypass_ignored"
        e = 0
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            for k, v in changes.get(a, {}).items():
                if self.flaw == "automation_residue" and v != self.values[k]:
                    self.residue += 1e-4
                self.set_normalized(k, v)
            while e < len(evs) and evs[e][0] <= a:
                if not bypassed:
                    self._event(evs[e][1])
                e += 1
            out[a:b] = 0.0 if bypassed else self._synth(b - a, float(sample_rate))
            if self.flaw == "nan_on_bend" and self.bend != 0.0:
                out[a:b] = np.nan
        if channels == 1:
            return (np.zeros((1, n)) if self.flaw == "mono_silent" else out[None, :]).astype(np.float32)
        return np.vstack([out, 0.8 * out]).astype(np.float32)


def _fake_battery(flaw: str | None, host: str = "fake") -> dict[str, CheckResult]:
    results = run_checks(lambda sr, bs: FakeInstrument(flaw), host=host, quick=True, log=None)
    return {r.name: r for r in results}


def test_checks_pass_a_well_behaved_fake_instrument() -> None:
    results = _fake_battery(None)
    assert list(results) == list(CHECK_NAMES)
    assert not {n: r.detail for n, r in results.items() if not r.passed}
    assert results["load"].detail.startswith("instrument:")
    assert "mono ok" in results["channels"].detail
    assert "A4 (nominally 440 Hz) measured at 440.00 Hz" in results["sample_rates"].detail


@pytest.mark.parametrize(("flaw", "expected"), [
    ("block_quantized", {"block_sizes", "varying_blocks"}),
    ("fixed_rate", {"sample_rates"}),
    ("hanging_notes", {"silence", "automation"}),
    ("automation_residue", {"automation"}),
    ("state_lost", {"state"}),
    ("reset_ignored", {"reset"}),
    ("bypass_ignored", {"bypass"}),
    ("nan_on_bend", {"non_finite"}),
    ("shared_state", {"load"}),
    ("mono_silent", {"channels"}),
])
def test_checks_catch_a_flawed_fake_instrument(flaw: str, expected: set[str]) -> None:
    results = _fake_battery(flaw)
    failed = {n for n, r in results.items() if r.failed}
    assert failed == expected, {n: results[n].detail for n in failed | expected}


def test_instrument_without_bypass_skips_bypass() -> None:
    class NoBypass(FakeInstrument):
        def __init__(self) -> None:
            super().__init__()
            del self.values["Bypass"]

    r = {r.name: r for r in run_checks(lambda sr, bs: NoBypass(), host="fake", quick=True, log=None,
                                       checks=["bypass", "automation"])}
    assert r["bypass"].skipped and not r["bypass"].failed and "no bypass parameter" in r["bypass"].detail
    assert r["automation"].passed


def test_dawdreamer_instrument_subset_is_skipped_not_failed() -> None:
    results = _fake_battery(None, host="dawdreamer")
    skipped = {n for n, r in results.items() if r.skipped}
    assert skipped == set(CHECK_NAMES) - INSTRUMENT_HOST_CHECKS["dawdreamer"]
    assert all(r.detail.startswith("skipped (host)") for r in results.values() if r.skipped)
    assert all(r.passed for r in results.values() if not r.skipped)
    assert "prepares the plugin again" in results["reset"].detail


def test_kind_is_detected_once_and_failures_to_open_count_as_effect() -> None:
    opened = []

    def opener(sr: float, bs: int) -> FakeInstrument:
        opened.append(sr)
        return FakeInstrument()

    ctx = Context(opener, "fake")
    assert ctx.instrument and ctx.instrument and len(opened) == 1

    def broken(sr: float, bs: int) -> FakeInstrument:
        raise PluginError("cannot load")

    bad = Context(broken, "fake")
    assert not bad.instrument
    r = run_check(CHECK_BY_NAME["load"], bad)
    assert r.failed and "cannot load" in r.detail


def test_fundamental_finds_the_fundamental_not_the_loudest_harmonic() -> None:
    for sr in (44100, 48000, 96000):
        t = np.arange(int(0.45 * sr)) / sr
        x = 0.3 * np.sin(2 * np.pi * 220.0 * t) + np.sin(2 * np.pi * 440.0 * t) + 0.5 * np.sin(2 * np.pi * 660.0 * t)
        assert fundamental(np.vstack([x, x]), sr) == pytest.approx(220.0, rel=1e-4)


def test_note_events_floor_times_and_keep_the_given_order() -> None:
    sr = 44100
    notes = [Note(60, 100, 0.1, 1e-6), Note(64, 90, 0.123456, 0.3), Note(67, 80, 0.0, 0.1)]
    ev = note_events(notes, sr)
    # floor(start * sr), floor(start * sr + duration * sr), as DawDreamer's add_midi_note
    assert ev == [(0, note_on(67, 80)), (4410, note_on(60, 100)), (4410, note_off(60)), (4410, note_off(67)),
                  (5444, note_on(64, 90)), (18674, note_off(64))]
    # at one sample the events keep the order given: a note shorter than a sample starts, then ends
    assert sort_events([(5, b"\x90\x01\x01"), (2, b"\x80\x02\x00"), (5, b"\x80\x01\x00")]) == [
        (2, b"\x80\x02\x00"), (5, b"\x90\x01\x01"), (5, b"\x80\x01\x00")]


def test_note_pattern_exercises_what_it_promises() -> None:
    sr = 48000
    ev = note_pattern(20240611, sr)
    ons = [(s, m[1], m[2]) for s, m in ev if m[0] & 0xF0 == 0x90]
    keys = {k for _, k, _ in ons}
    vels = {v for _, _, v in ons}
    assert {0, 127} <= keys and 1 in vels and 127 in vels
    down, most = set(), 0
    for _, m in ev:
        if m[0] & 0xF0 == 0x90:
            down.add(m[1])
        else:
            down.discard(m[1])
        most = max(most, len(down))
    assert most > 8  # voice stealing in an 8-voice synth
    assert max(s for s, _ in ev) < PATTERN_END * sr
    assert ev == note_pattern(20240611, sr)  # fixed
    assert any(s % 512 for s, _ in ev)  # events fall inside blocks
