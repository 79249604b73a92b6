"""Our own plugin validator: a battery of host-level checks for the project's effects and instrument.

pluginval and Steinberg's validator are not available, so ``neuralsynth validate PLUGIN`` runs
this battery through a real host (pedalboard or DawDreamer, see :mod:`.hosts`) and reports every
check by name with PASS / FAIL / SKIP.

Each check is independent: it opens its own plugin instances, and an exception inside a check
is a FAIL of that check, never a crash of the battery. By default the checks run in a child
process, so a plugin (or host) that crashes or hangs fails the check in progress and the
battery goes on with the next check in a new child.

The checks, by name:

=============== ==============================================================================
load            create/destroy repeatedly; two instances at once give identical outputs (and,
                interleaved, do not disturb each other)
sample_rates    noise at 44.1, 48 and 96 kHz: right shape, finite, not silent, no blow-up
block_sizes     block sizes 1..4096 (reset each time) give the 512-block output within 1e-5
varying_blocks  a random sequence of call sizes (no reset) gives the one-call output within 1e-5
silence         digital silence (also after a noise burst) stays finite, free of subnormals,
                and is below -120 dBFS after 1.5 s
full_scale      full-scale uniform noise and a +-1 square wave: finite, bounded output
automation      random values for every automatable parameter between short calls: finite;
                back at the defaults the output returns to the default output
state           raw_state saved from a modified instance restores the same parameter values
                and the same output in a fresh instance
reset           process A, reset, process B == a fresh instance processing B
bypass          Bypass on passes the input through unchanged; off again gives the normal output
channels        mono and stereo input work; identical channels give identical output channels
non_finite      NaN / Inf in the input never leave the plugin; normal input afterwards is fine
=============== ==============================================================================

DawDreamer renders each call from a fresh graph and exposes neither parameter values nor the
plugin state, so with ``host="dawdreamer"`` the checks that need streaming, state or parameter
access are listed as "skipped (host)"; skipped checks count neither as passed nor as failed.

Instruments (MIDI in, no audio input: pedalboard's ``is_instrument``, DawDreamer's zero input
channels) get the same twelve checks, driven with MIDI instead of audio; see
:mod:`.validate_instrument`. The kind is found by opening one instance in the process that runs
the checks.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .hosts import HOSTS, PluginError, check_plugin_path, open_plugin

# Tolerances and limits (see the module docstring).
TOL_BLOCK = 1e-5  # block-size and call-size invariance, return to defaults after automation
TOL_EXACT = 1e-6  # state round trip, reset, bypass, identical instances / channels
SILENCE_LEVEL = 1e-6  # -120 dBFS
TAIL_SECONDS = 1.5  # the time the plugin gets to fall silent
PEAK_FACTOR = 20.0  # output peak must stay below PEAK_FACTOR * input peak + 1
AUTOMATION_PEAK = 1000.0  # +60 dBFS: even at extreme gains the output must not run away

SAMPLE_RATES = (44100, 48000, 96000)
BLOCK_SIZES = (1, 16, 64, 100, 512, 4096)
MAX_BLOCK = 4096

SKIPPED_HOST = "skipped (host)"


class CheckFailed(Exception):
    """A check found the plugin misbehaving; the message says how."""


class CheckSkipped(Exception):
    """A check does not apply to this plugin (e.g. an instrument without a bypass parameter)."""


class Host(Protocol):
    """What the checks use of a host wrapper (see :mod:`.hosts`)."""

    @property
    def parameter_names(self) -> list[str]: ...

    def set_parameter(self, name: str, value: float) -> None: ...

    def process(self, audio: np.ndarray, sample_rate: float, block_size: int = ..., reset: bool = ...) -> np.ndarray:
        ...

    def reset(self) -> None: ...


Opener = Callable[[float, int], Host]


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str
    seconds: float
    skipped: bool = False  # a skipped check has passed=False but does not count as failed

    @property
    def failed(self) -> bool:
        return not self.passed and not self.skipped

    @property
    def status(self) -> str:
        return "SKIP" if self.skipped else ("PASS" if self.passed else "FAIL")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


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

    def configured(self, instance: Host | None, sample_rate: float, block_size: int) -> Host:
        """An instance for this configuration: the same one when the host can reconfigure it."""
        if instance is not None and self.streaming:
            return instance
        return self.open(sample_rate, block_size)


# --------------------------------------------------------------------------------------------
# Small helpers


def _nonfinite(y: np.ndarray) -> int:
    return int(np.count_nonzero(~np.isfinite(y)))


def _subnormal(y: np.ndarray) -> int:
    a = np.abs(y[np.isfinite(y)])
    return int(np.count_nonzero((a > 0) & (a < np.finfo(np.float32).tiny)))


def _peak(y: np.ndarray) -> float:
    finite = y[np.isfinite(y)]
    return float(np.max(np.abs(finite))) if finite.size else float("nan")


def _db(level: float) -> str:
    if level < 1e-10:
        return "digital silence" if level <= 0 else "below -200 dBFS"
    return f"{20 * np.log10(level):.0f} dBFS"


def _out(y: Any, like: np.ndarray, what: str) -> np.ndarray:
    """The host's output as an array of the input's shape, or CheckFailed."""
    y = np.asarray(y)
    if y.shape != like.shape:
        raise CheckFailed(f"{what}: output shape {y.shape}, expected {like.shape}")
    return y.astype(np.float32, copy=False)


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    """Largest absolute difference; inf where exactly one side is non-finite or shapes differ."""
    if a.shape != b.shape:
        return float("inf")
    both_nan = np.isnan(a) & np.isnan(b)
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    d[both_nan] = 0.0
    d[np.isnan(d)] = np.inf
    return float(d.max()) if d.size else 0.0


def _first_over(a: np.ndarray, b: np.ndarray, tol: float) -> int:
    """First sample index where a and b differ by more than tol (or -1)."""
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    d[np.isnan(d)] = np.inf
    over = np.nonzero((d > tol).any(axis=0))[0]
    return int(over[0]) if over.size else -1


def _finite_problem(y: np.ndarray, what: str) -> str | None:
    bad = _nonfinite(y)
    if not bad:
        return None
    first = int(np.nonzero((~np.isfinite(y)).any(axis=0))[0][0])
    return f"{what}: {bad} non-finite output samples (first at sample {first})"


def _raise(problems: Sequence[str]) -> None:
    if problems:
        raise CheckFailed("; ".join(problems))


def _snake(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")


# --------------------------------------------------------------------------------------------
# Parameters: described from pedalboard's plugin object when there is one, otherwise from the
# project's parameter layout (the names the effect plugin declares).

_BOOL_PARAMS = {"dc_block", "bypass"}
_KNOWN_RANGES = {"input_gain": (-24.0, 24.0), "output_gain": (-24.0, 24.0), "mix": (0.0, 100.0)}


@dataclass(frozen=True)
class ParamInfo:
    key: str  # what host.set_parameter accepts
    label: str  # the plugin's own name
    minimum: float
    maximum: float
    is_bool: bool
    automatable: bool = True

    @property
    def is_bypass(self) -> bool:
        return _snake(self.label) == "bypass" or _snake(self.key) == "bypass"


def _native_parameters(host: Host) -> dict[str, Any] | None:
    params = getattr(getattr(host, "plugin", None), "parameters", None)
    if isinstance(params, dict) and params and all(hasattr(p, "raw_value") for p in params.values()):
        return params
    return None


def _param_table(host: Host) -> list[ParamInfo]:
    native = _native_parameters(host)
    table: list[ParamInfo] = []
    if native is not None:
        for key, p in native.items():
            is_bool = getattr(p, "type", float) is bool
            lo, hi = (0.0, 1.0) if is_bool else (float(p.range[0]), float(p.range[1]))
            table.append(ParamInfo(key, str(getattr(p, "name", key)), lo, hi, is_bool,
                                   bool(getattr(p, "is_automatable", True))))
        return table
    for name in host.parameter_names:
        s = _snake(name)
        base = next((k for k in _KNOWN_RANGES if s.startswith(k)), None)
        if s in _BOOL_PARAMS:
            table.append(ParamInfo(name, name, 0.0, 1.0, True))
        elif base is not None:
            table.append(ParamInfo(name, name, *_KNOWN_RANGES[base], False))
        else:
            table.append(ParamInfo(name, name, 0.0, 1.0, False))  # Control 1.. and anything unknown
    return table


def _snapshot(host: Host) -> dict[str, float]:
    """Every parameter's value: pedalboard's exact normalised values, else get_parameter."""
    native = _native_parameters(host)
    if native is not None:
        return {k: float(p.raw_value) for k, p in native.items()}
    getter = getattr(host, "get_parameter", None)
    if getter is None:
        raise CheckFailed("the host cannot read parameter values")
    return {name: float(getter(name)) for name in host.parameter_names}


def _restore(host: Host, snapshot: dict[str, float]) -> None:
    native = _native_parameters(host)
    for key, value in snapshot.items():
        if native is not None:
            native[key].raw_value = value
        else:
            host.set_parameter(key, value)


def _set(host: Host, p: ParamInfo, value: float | bool) -> None:
    host.set_parameter(p.key, bool(value) if p.is_bool else float(value))


def _random_value(p: ParamInfo, rng: np.random.Generator) -> float | bool:
    if p.is_bool:
        return bool(rng.random() < 0.5)
    return float(rng.uniform(p.minimum, p.maximum))


def _current_value(host: Host, p: ParamInfo) -> float | None:
    """The parameter's value in its own units (approximate for pedalboard: a linear range is assumed)."""
    native = _native_parameters(host)
    if native is not None:
        raw = float(native[p.key].raw_value)
        return float(raw >= 0.5) if p.is_bool else p.minimum + raw * (p.maximum - p.minimum)
    getter = getattr(host, "get_parameter", None)
    return float(getter(p.key)) if getter is not None else None


def _other_value(host: Host, p: ParamInfo) -> float | bool:
    """A value clearly different from the parameter's current one."""
    current = _current_value(host, p)
    if p.is_bool:
        return not (current is not None and current >= 0.5)
    span = p.maximum - p.minimum
    value = p.minimum + 0.62 * span
    if current is not None and abs(value - current) < 0.05 * span:
        value = p.minimum + 0.27 * span
    return round(value, 1)


# --------------------------------------------------------------------------------------------
# The checks. Each returns a detail string on success and raises CheckFailed otherwise.


def check_load(ctx: Context) -> str:
    sr, bs = 48000, 512
    repeats = 8 if ctx.quick else 20
    problems: list[str] = []
    x = ctx.noise(2, 4 * bs, salt=1)
    first: np.ndarray | None = None
    for i in range(repeats):
        inst = ctx.open(sr, bs)
        y = _out(inst.process(x, sr, block_size=bs, reset=True), x, f"instance {i + 1}")
        if p := _finite_problem(y, f"instance {i + 1}"):
            problems.append(p)
        if first is None:
            first = y
        elif (d := _diff(y, first)) > TOL_EXACT:
            problems.append(f"instance {i + 1} differs from the first by {d:.3g}")
        del inst
        gc.collect()

    n = int(ctx.seconds * sr) // MAX_BLOCK * MAX_BLOCK or MAX_BLOCK
    xa, xb = ctx.noise(2, n, salt=2), ctx.noise(2, n, 0.3, salt=3)
    a, b = ctx.open(sr, bs), ctx.open(sr, bs)
    ya = _out(a.process(xa, sr, block_size=bs, reset=True), xa, "instance A")
    yb = _out(b.process(xa, sr, block_size=bs, reset=True), xa, "instance B")
    if (d := _diff(ya, yb)) > TOL_EXACT:
        problems.append(f"two instances at once differ by {d:.3g} on the same input")
    detail = f"{repeats} create/process/destroy cycles; two live instances identical (max |diff| {d:.2g})"
    if ctx.streaming:
        # Interleave calls on A (signal xa) and B (another signal): A must not notice B.
        chunks = []
        for k, off in enumerate(range(0, n, MAX_BLOCK)):
            chunks.append(a.process(xa[:, off:off + MAX_BLOCK], sr, block_size=bs, reset=k == 0))
            b.process(xb[:, off:off + MAX_BLOCK], sr, block_size=bs, reset=k == 0)
        yi = _out(np.concatenate(chunks, axis=1), xa, "interleaved instance A")
        if (d := _diff(yi, ya)) > TOL_EXACT:
            problems.append(f"instance A's output changes by {d:.3g} when instance B runs in between "
                            f"(first at sample {_first_over(yi, ya, TOL_EXACT)}): shared state between instances?")
        detail += f"; interleaved with a second instance unchanged (max |diff| {d:.2g})"
    _raise(problems)
    return detail


def check_sample_rates(ctx: Context) -> str:
    problems, parts = [], []
    inst: Host | None = None
    for sr in SAMPLE_RATES:
        inst = ctx.configured(inst, sr, 512)
        x = ctx.noise(2, int(ctx.seconds * sr), salt=sr)
        y = _out(inst.process(x, sr, block_size=512, reset=True), x, f"{sr} Hz")
        peak, limit = _peak(y), PEAK_FACTOR * _peak(x) + 1
        if p := _finite_problem(y, f"{sr} Hz"):
            problems.append(p)
        if not np.any(y[np.isfinite(y)] != 0):
            problems.append(f"{sr} Hz: the output is all zeros")
        if not peak < limit:
            problems.append(f"{sr} Hz: output peak {peak:.3g} >= {limit:.3g} (blow-up)")
        parts.append(f"{sr}: peak {peak:.2f}")
    _raise(problems)
    return "; ".join(parts)


def check_block_sizes(ctx: Context) -> str:
    sr = 48000
    x = ctx.noise(2, int(ctx.seconds * sr), salt=4)
    inst = ctx.open(sr, 512)
    ref = _out(inst.process(x, sr, block_size=512, reset=True), x, "block 512")
    if p := _finite_problem(ref, "block 512"):
        raise CheckFailed(p)
    problems, worst = [], 0.0
    for bs in BLOCK_SIZES:
        inst = ctx.configured(inst, sr, bs)
        y = _out(inst.process(x, sr, block_size=bs, reset=True), x, f"block {bs}")
        d = _diff(y, ref)
        worst = max(worst, d)
        if d > TOL_BLOCK:
            problems.append(f"block {bs}: differs from the 512-block output by {d:.3g} "
                            f"(first at sample {_first_over(y, ref, TOL_BLOCK)})")
    _raise(problems)
    return f"sizes {', '.join(map(str, BLOCK_SIZES))}: max |diff| {worst:.2g}"


def _random_sizes(rng: np.random.Generator, n: int, largest: int) -> list[int]:
    """Call sizes summing to n: the largest first (hosts prepare for it), then log-uniform 1..largest."""
    sizes = [min(largest, n)]
    if sum(sizes) < n:
        sizes.append(1)
    while sum(sizes) < n:
        sizes.append(int(np.exp(rng.uniform(0.0, np.log(largest)))))
    sizes[-1] -= sum(sizes) - n
    return [s for s in sizes if s > 0]


def check_varying_blocks(ctx: Context) -> str:
    sr = 48000
    n = int((ctx.seconds if ctx.quick else 2.0) * sr)
    x = ctx.noise(2, n, salt=5)
    inst = ctx.open(sr, MAX_BLOCK)
    ref = _out(inst.process(x, sr, block_size=MAX_BLOCK, reset=True), x, "one call")
    sizes = _random_sizes(ctx.rng(6), n, MAX_BLOCK)
    # pedalboard prepares the plugin for min(block_size, call size) and prepares it again
    # (which may reset it) whenever that grows: the first call has the largest size, so the
    # plugin sees varying block sizes within one prepareToPlay, as in a DAW.
    out, off = [], 0
    for k, s in enumerate(sizes):
        out.append(np.asarray(inst.process(x[:, off:off + s], sr, block_size=MAX_BLOCK, reset=k == 0)))
        off += s
    y = _out(np.concatenate(out, axis=1), x, "varying calls")
    d = _diff(y, ref)
    if d > TOL_BLOCK:
        first = _first_over(y, ref, TOL_BLOCK)
        call = int(np.searchsorted(np.cumsum(sizes), first, side="right"))
        raise CheckFailed(f"{len(sizes)} calls of 1..{max(sizes)} samples differ from one call by {d:.3g} "
                          f"(first at sample {first}, in call {call + 1} of size {sizes[call]})")
    return f"{len(sizes)} calls of {min(sizes)}..{max(sizes)} samples: max |diff| {d:.2g}"


def _silence_problems(y: np.ndarray, start: int, what: str) -> tuple[list[str], float]:
    problems = []
    if p := _finite_problem(y, what):
        problems.append(p)
    if sub := _subnormal(y):
        problems.append(f"{what}: {sub} subnormal output samples")
    tail = y[:, start:]
    level = _peak(tail) if tail.size else 0.0
    if not level < SILENCE_LEVEL:
        problems.append(f"{what}: {_db(level)} ({level:.3g}) {TAIL_SECONDS} s into the silence, "
                        f"expected below {_db(SILENCE_LEVEL)}")
    return problems, level


def check_silence(ctx: Context) -> str:
    sr = 48000
    n, burst, start = 2 * sr, sr // 2, int(TAIL_SECONDS * sr)
    inst = ctx.open(sr, 512)
    z = np.zeros((2, n), np.float32)
    y = _out(inst.process(z, sr, block_size=512, reset=True), z, "silence")
    problems, level = _silence_problems(y, start, "silence from reset")
    # A noise burst, then the same silence: the tail must die away too.
    x = np.concatenate([ctx.noise(2, burst, salt=7), z], axis=1)
    inst = ctx.configured(inst, sr, 512)
    y2 = _out(inst.process(x, sr, block_size=512, reset=True), x, "burst + silence")
    more, level2 = _silence_problems(y2[:, burst:], start, "silence after a noise burst")
    _raise(problems + more)
    return (f"after {TAIL_SECONDS} s: {_db(level)} from reset, {_db(level2)} after a 0.5 s noise burst; "
            f"no NaN/Inf/subnormals")


def check_full_scale(ctx: Context) -> str:
    sr = 48000
    n = int(ctx.seconds * sr)
    t = np.arange(n) / sr
    square = np.where(np.sin(2 * np.pi * 110.0 * t) >= 0, 1.0, -1.0).astype(np.float32)
    signals = {
        "uniform noise": ctx.noise(2, n, amplitude=1.0, salt=8),
        "square wave": np.vstack([square, -square]),
    }
    inst: Host | None = None
    problems, parts = [], []
    for label, x in signals.items():
        inst = ctx.configured(inst, sr, 512)
        y = _out(inst.process(x, sr, block_size=512, reset=True), x, label)
        peak, limit = _peak(y), PEAK_FACTOR * _peak(x) + 1
        if p := _finite_problem(y, label):
            problems.append(p)
        if not peak < limit:
            problems.append(f"{label}: output peak {peak:.3g} >= {limit:.3g}")
        parts.append(f"{label}: peak {peak:.2f}")
    _raise(problems)
    return "; ".join(parts)


def check_automation(ctx: Context) -> str:
    sr, call = 48000, 256
    calls = 60 if ctx.quick else 200
    inst = ctx.open(sr, call)
    params = [p for p in _param_table(inst) if p.automatable and not p.is_bypass]
    if not params:
        return "no automatable parameters"
    defaults = _snapshot(inst)
    rng = ctx.rng(9)
    x = ctx.noise(2, calls * call, salt=10)
    problems: list[str] = []
    peak = 0.0
    for k in range(calls):
        for p in params:
            _set(inst, p, _random_value(p, rng))
        xs = x[:, k * call:(k + 1) * call]
        y = _out(inst.process(xs, sr, block_size=call, reset=k == 0), xs, f"call {k + 1}")
        if (bad := _nonfinite(y)) and len(problems) < 3:
            problems.append(f"call {k + 1}: {bad} non-finite output samples")
        peak = max(peak, _peak(y) if y.size else 0.0)
    if not peak < AUTOMATION_PEAK:
        problems.append(f"output peak {peak:.3g} during automation (>= {AUTOMATION_PEAK:g})")

    # Back to the defaults: after the smoothing (and DC blocker) settles, the output must be the
    # default-parameter output of a freshly reset plugin.
    _restore(inst, defaults)
    settle, compare = int((0.5 if ctx.quick else 1.0) * sr), sr // 2
    s = ctx.noise(2, settle + compare, salt=11)
    y = _out(inst.process(s, sr, block_size=call, reset=False), s, "after automation")
    ref = _out(inst.process(s, sr, block_size=call, reset=True), s, "defaults after a reset")
    d = _diff(y[:, -compare:], ref[:, -compare:])
    if d > TOL_BLOCK:
        problems.append(f"back at the defaults, the last 0.5 s differ from the default output by {d:.3g}")
    _raise(problems)
    names = ", ".join(p.label for p in params)
    return (f"{calls} calls x {call} samples, {len(params)} parameters ({names}); peak {peak:.2f}; "
            f"back at defaults max |diff| {d:.2g}")


def check_state(ctx: Context) -> str:
    sr = 48000
    x = ctx.noise(2, int(ctx.seconds * sr), salt=12)
    inst = ctx.open(sr, 512)
    table = {p.key: p for p in _param_table(inst)}
    defaults = _snapshot(inst)
    changed = [p for p in table.values() if not p.is_bypass]
    for p in changed:
        _set(inst, p, _other_value(inst, p))
    inst.process(x, sr, block_size=512, reset=True)  # pedalboard: raw_state updates after processing
    modified = _snapshot(inst)
    problems = [f"could not set {p.label} to a non-default value" for p in changed
                if abs(modified[p.key] - defaults[p.key]) <= TOL_EXACT]
    if not hasattr(inst, "raw_state"):
        raise CheckFailed("the host gives no access to the plugin state (raw_state)")
    state = inst.raw_state
    fresh = ctx.open(sr, 512)
    fresh.raw_state = state  # type: ignore[attr-defined]
    restored = _snapshot(fresh)
    for key, value in modified.items():
        if abs(restored.get(key, float("nan")) - value) > TOL_EXACT or key not in restored:
            label = table[key].label if key in table else key
            problems.append(f"{label}: {restored.get(key)} after restoring the state, expected {value}")
    ya = _out(inst.process(x, sr, block_size=512, reset=True), x, "original")
    yb = _out(fresh.process(x, sr, block_size=512, reset=True), x, "restored")
    if (d := _diff(ya, yb)) > TOL_EXACT:
        problems.append(f"the restored instance's output differs by {d:.3g} "
                        f"(first at sample {_first_over(ya, yb, TOL_EXACT)})")
    _raise(problems)
    return f"{len(state)} bytes of state; {len(changed)} parameters changed and restored; outputs max |diff| {d:.2g}"


def check_reset(ctx: Context) -> str:
    sr = 48000
    n = int(ctx.seconds * sr)
    a, b = ctx.noise(2, n, 0.8, salt=13), ctx.noise(2, n, 0.3, salt=14)
    inst = ctx.open(sr, 512)
    inst.process(a, sr, block_size=512, reset=True)
    inst.reset()
    y = _out(inst.process(b, sr, block_size=512, reset=False), b, "after reset")
    ref = _out(ctx.open(sr, 512).process(b, sr, block_size=512, reset=True), b, "fresh instance")
    d = _diff(y, ref)
    if d > TOL_EXACT:
        raise CheckFailed(f"after reset() the output differs from a fresh instance's by {d:.3g} "
                          f"(first at sample {_first_over(y, ref, TOL_EXACT)}): state survives reset")
    return f"A, reset, B == fresh B: max |diff| {d:.2g}"


def check_bypass(ctx: Context) -> str:
    sr = 48000
    x = ctx.noise(2, int(ctx.seconds * sr), salt=15)
    inst = ctx.open(sr, 512)
    bypass = next((p for p in _param_table(inst) if p.is_bypass), None)
    if bypass is None:
        raise CheckFailed("the plugin has no Bypass parameter")
    normal = _out(inst.process(x, sr, block_size=512, reset=True), x, "normal")
    problems = []
    _set(inst, bypass, True)
    yb = _out(inst.process(x, sr, block_size=512, reset=True), x, "bypassed")
    d_in = _diff(yb, x)
    if d_in > TOL_EXACT:
        same = _diff(yb, normal) <= TOL_EXACT
        problems.append(f"with Bypass on the output differs from the input by {d_in:.3g}"
                        + (" (it is the normal processed output: Bypass has no effect)" if same else ""))
    _set(inst, bypass, False)
    yn = _out(inst.process(x, sr, block_size=512, reset=True), x, "un-bypassed")
    d_norm = _diff(yn, normal)
    if d_norm > TOL_EXACT:
        problems.append(f"with Bypass off again the output differs from the normal output by {d_norm:.3g}")
    _raise(problems)
    return f"bypassed == input (max |diff| {d_in:.2g}); off again == normal (max |diff| {d_norm:.2g})"


def _set_channels(host: Host, channels: int) -> str | None:
    """DawDreamer opens plugins stereo: ask for another bus layout; a note if it is refused."""
    proc = getattr(host, "proc", None)
    if proc is None or not hasattr(proc, "set_bus"):
        return None
    try:
        proc.set_bus(channels, channels)
    except Exception as e:  # noqa: BLE001 - the host's refusal is reported, not fatal
        return f"the host refused a {channels}-channel layout ({e}); fed through the default layout"
    return None


def check_channels(ctx: Context) -> str:
    sr = 48000
    n = int(ctx.seconds * sr)
    x1 = ctx.noise(1, n, salt=16)
    problems = []
    inst = ctx.open(sr, 512)
    note = _set_channels(inst, 1)
    ym = np.asarray(inst.process(x1, sr, block_size=512, reset=True))
    if note is None and ym.shape != x1.shape:
        problems.append(f"mono: output shape {ym.shape}, expected {x1.shape}")
    elif ym.ndim != 2 or ym.shape[1] != n or ym.shape[0] < 1:
        problems.append(f"mono: output shape {ym.shape}")
    else:
        ym = ym[:1]
        if p := _finite_problem(ym, "mono"):
            problems.append(p)
        if not np.any(ym[np.isfinite(ym)] != 0):
            problems.append("mono: the output is all zeros")
    x2 = np.vstack([x1[0], x1[0]])
    inst = ctx.configured(inst, sr, 512) if note is None else ctx.open(sr, 512)
    ys = _out(inst.process(x2, sr, block_size=512, reset=True), x2, "stereo")
    if p := _finite_problem(ys, "stereo"):
        problems.append(p)
    d = _diff(ys[0:1], ys[1:2])
    if d > TOL_EXACT:
        problems.append(f"stereo with identical channels: output channels differ by {d:.3g}")
    _raise(problems)
    detail = f"mono {tuple(ym.shape)} ok; identical stereo channels -> identical outputs (max |diff| {d:.2g})"
    if ym.shape[1:] == ys.shape[1:]:
        detail += f"; mono vs stereo left max |diff| {_diff(ym[:1], ys[:1]):.2g}"
    return detail + (f"; note: {note}" if note else "")


def check_non_finite(ctx: Context) -> str:
    sr, bs = 48000, 512
    n = max(int(ctx.seconds * sr), 8 * bs)
    x = ctx.noise(2, n, salt=17)
    at = n // 5
    nan_in = x.copy()
    nan_in[:, at:at + 64] = np.nan
    inf_in = x.copy()
    inf_in[0, at] = np.inf
    inf_in[1, at + 7] = -np.inf
    inf_in[0, at + 300] = -np.inf
    inst = ctx.open(sr, bs)
    problems, parts = [], []
    for label, poisoned in (("NaN", nan_in), ("Inf", inf_in)):
        y = _out(inst.process(poisoned, sr, block_size=bs, reset=True), poisoned, f"{label} in")
        if p := _finite_problem(y, f"{label} in"):
            problems.append(p)
        after = ctx.noise(2, n, salt=18)
        ya = _out(inst.process(after, sr, block_size=bs, reset=False), after, f"after {label}")
        if p := _finite_problem(ya, f"normal input after {label}"):
            problems.append(p)
        elif not np.any(ya != 0):
            problems.append(f"normal input after {label}: the output stays silent")
        parts.append(f"{label}: {_nonfinite(y)} non-finite out")
    _raise(problems)
    return "; ".join(parts) + "; normal input afterwards finite"


@dataclass(frozen=True)
class Check:
    name: str
    func: Callable[[Context], str]
    title: str


CHECKS: tuple[Check, ...] = (
    Check("load", check_load, "create/destroy repeatedly; two instances at once"),
    Check("sample_rates", check_sample_rates, "44.1 / 48 / 96 kHz"),
    Check("block_sizes", check_block_sizes, "block sizes 1..4096 == 512-block output"),
    Check("varying_blocks", check_varying_blocks, "varying call sizes == one call"),
    Check("silence", check_silence, "silence in: finite, below -120 dBFS after the tail"),
    Check("full_scale", check_full_scale, "full-scale noise and square wave"),
    Check("automation", check_automation, "random parameter automation"),
    Check("state", check_state, "state round trip"),
    Check("reset", check_reset, "reset == fresh instance"),
    Check("bypass", check_bypass, "bypass passes the input through"),
    Check("channels", check_channels, "mono and stereo"),
    Check("non_finite", check_non_finite, "NaN / Inf input"),
)
CHECK_NAMES: tuple[str, ...] = tuple(c.name for c in CHECKS)
_BY_NAME = {c.name: c for c in CHECKS}

# Checks a host can run on an effect; hosts not listed run all of them.
HOST_CHECKS: dict[str, frozenset[str]] = {
    "dawdreamer": frozenset({"load", "sample_rates", "block_sizes", "silence", "full_scale", "channels"}),
}
_SKIP_REASONS = {
    "dawdreamer": "DawDreamer renders every call from a fresh graph and exposes no parameter values or state",
}
# The same for instruments: DawDreamer can read and set (normalized) parameters, automate them
# within a render and reach the bypass parameter, but it cannot continue a render or restore state.
INSTRUMENT_HOST_CHECKS: dict[str, frozenset[str]] = {
    "dawdreamer": frozenset(CHECK_NAMES) - {"varying_blocks", "state"},
}
_INSTRUMENT_SKIP_REASONS = {
    "dawdreamer": "DawDreamer renders every call from the start (a render cannot continue another) and its "
                  "load_state opens an editor, which fails or crashes headless",
}


def _host_runs(host: str, name: str, instrument: bool = False) -> bool:
    table = INSTRUMENT_HOST_CHECKS if instrument else HOST_CHECKS
    return name in table.get(host, frozenset(CHECK_NAMES))


def _skipped(host: str, name: str, instrument: bool = False) -> CheckResult:
    reasons = _INSTRUMENT_SKIP_REASONS if instrument else _SKIP_REASONS
    reason = reasons.get(host, f"not supported with host {host}")
    return CheckResult(name, False, f"{SKIPPED_HOST}: {reason}", 0.0, skipped=True)


def _check_function(check: Check, ctx: Context) -> Callable[[Context], str]:
    if not ctx.instrument:
        return check.func
    from .validate_instrument import INSTRUMENT_CHECKS  # imports this module: imported when needed

    return INSTRUMENT_CHECKS[check.name]


def run_check(check: Check, ctx: Context) -> CheckResult:
    """One check (its instrument version for an instrument); any exception is a FAIL with the message."""
    t0 = time.perf_counter()
    skipped = False
    try:
        detail = _check_function(check, ctx)(ctx)
        passed = True
    except CheckFailed as e:
        detail, passed = str(e), False
    except CheckSkipped as e:
        detail, passed, skipped = (str(e) if str(e).startswith("skipped") else f"skipped: {e}"), False, True
    except Exception as e:  # noqa: BLE001 - a check never takes the battery down
        where = traceback.extract_tb(e.__traceback__)[-1]
        detail = f"{type(e).__name__}: {e} (at {Path(where.filename).name}:{where.lineno})"
        passed = False
    finally:
        gc.collect()
    return CheckResult(check.name, passed, " ".join(detail.split()), time.perf_counter() - t0, skipped=skipped)


def _run_or_skip(name: str, ctx: Context) -> CheckResult:
    """The check, or its "skipped (host)" result when the host cannot run it for this kind of plugin."""
    if not _host_runs(ctx.host, name, ctx.instrument):
        return _skipped(ctx.host, name, ctx.instrument)
    return run_check(_BY_NAME[name], ctx)


def run_checks(opener: Opener, host: str = "pedalboard", quick: bool = False,
               log: Callable[[str], None] | None = print, checks: Iterable[str] | None = None,
               streaming: bool | None = None) -> list[CheckResult]:
    """Run the battery in this process on instances made by ``opener(sample_rate, block_size)``."""
    ctx = Context(opener, host, quick, streaming=host != "dawdreamer" if streaming is None else streaming)
    results = []
    for name in _selected(checks):
        r = _run_or_skip(name, ctx)
        results.append(r)
        if log is not None:
            log(_line(r, progress=True))
    return results


def _selected(checks: Iterable[str] | None) -> list[str]:
    if checks is None:
        return list(CHECK_NAMES)
    names = list(checks)
    unknown = [n for n in names if n not in _BY_NAME]
    if unknown:
        raise ValueError(f"unknown checks {', '.join(unknown)}; the checks are {', '.join(CHECK_NAMES)}")
    return [n for n in CHECK_NAMES if n in names]


def _plugin_opener(path: str, host: str) -> Opener:
    def opener(sample_rate: float, block_size: int) -> Host:
        return open_plugin(path, host, sample_rate=sample_rate, block_size=block_size)

    return opener


# --------------------------------------------------------------------------------------------
# Running in a child process: a crash or hang fails the check in progress, not the battery.


def _worker(path: str, host: str, quick: bool, names: list[str], conn: Any) -> None:
    try:
        os.dup2(2, 1)  # native code printing to stdout must not corrupt the parent's table / JSON
    except OSError:
        pass
    ctx = Context(_plugin_opener(path, host), host, quick, streaming=host != "dawdreamer")
    for name in names:
        conn.send(("start", name))
        conn.send(("result", asdict(_run_or_skip(name, ctx))))
    conn.send(("end", None))
    conn.close()


def _exit_text(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"crashed ({signal.Signals(-code).name})"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _run_isolated(path: str, host: str, quick: bool, names: list[str], log: Callable[[str], None] | None,
                  timeout: float) -> list[CheckResult]:
    mp = multiprocessing.get_context("spawn")
    done: dict[str, CheckResult] = {}
    pending = list(names)
    while pending:
        recv, send = mp.Pipe(duplex=False)
        proc = mp.Process(target=_worker, args=(path, host, quick, list(pending), send), daemon=True)
        proc.start()
        send.close()
        current: str | None = None
        started = time.monotonic()
        failure: str | None = None
        while True:
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                proc.kill()
                failure = f"timed out after {timeout:.0f} s"
                break
            if not recv.poll(min(left, 1.0)):
                if not proc.is_alive() and not recv.poll(0.1):
                    failure = _exit_text(proc.exitcode)
                    break
                continue
            try:
                kind, payload = recv.recv()
            except EOFError:
                proc.join(5)
                failure = _exit_text(proc.exitcode)
                break
            if kind == "start":
                current, started = payload, time.monotonic()
            elif kind == "result":
                r = CheckResult(**payload)
                done[r.name] = r
                pending.remove(r.name)
                current = None
                if log is not None:
                    log(_line(r, progress=True))
            else:
                break
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()
        if failure is not None and pending:
            victim = current if current in pending else pending[0]
            r = CheckResult(victim, False, f"the plugin host process {failure} during this check",
                            time.monotonic() - started)
            done[victim] = r
            pending.remove(victim)
            if log is not None:
                log(_line(r, progress=True))
    return [done[n] for n in names]


def run_validation(path: str | os.PathLike, host: str = "pedalboard", quick: bool = False,
                   log: Callable[[str], None] | None = print, *, checks: Iterable[str] | None = None,
                   isolate: bool = True, timeout: float | None = None) -> list[CheckResult]:
    """Run the battery on the plugin at ``path`` through ``host``; one CheckResult per check.

    ``quick`` shortens the signals (for tests). ``isolate`` runs the checks in a child process
    so that a crash or hang (``timeout`` seconds per check) fails that check only.
    """
    names = _selected(checks)
    path = str(path)
    try:
        if host not in HOSTS:
            raise PluginError(f"unknown host {host!r}: choose from {', '.join(HOSTS)}")
        fmt = check_plugin_path(Path(path))
        if host == "pedalboard" and fmt != "vst3":
            raise PluginError(f"{path}: pedalboard on Linux loads VST3 plugins only; use --host dawdreamer for {fmt}")
    except PluginError as e:
        results = [CheckResult(n, False, str(e), 0.0) if n == names[0] else
                   CheckResult(n, False, "not run: the plugin cannot be loaded", 0.0, skipped=True) for n in names]
        if log is not None:
            for r in results:
                log(_line(r, progress=True))
        return results
    # Which checks the host skips depends on the kind of plugin (effect or instrument), which
    # the process running the checks finds out: every check goes there.
    if isolate:
        return _run_isolated(path, host, quick, names, log, timeout or (180.0 if quick else 600.0))
    return run_checks(_plugin_opener(path, host), host, quick, log, names)


# --------------------------------------------------------------------------------------------
# Reporting


def _line(r: CheckResult, progress: bool = False) -> str:
    timing = f" ({r.seconds:.1f} s)" if progress and not r.skipped else ""
    return f"{r.status:<4}  {r.name:<15} {r.detail}{timing}"


def summary(results: Sequence[CheckResult]) -> str:
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    skipped = sum(r.skipped for r in results)
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")


def main(path: str | os.PathLike, host: str = "pedalboard", quick: bool = False, as_json: bool = False) -> int:
    """``neuralsynth validate``: print a table (or JSON) and return 1 if any check failed."""
    progress = None if as_json else (lambda s: print(s, file=sys.stderr, flush=True))
    results = run_validation(path, host=host, quick=quick, log=progress)
    failed = any(r.failed for r in results)
    if as_json:
        print(json.dumps({
            "plugin": str(path), "host": host, "quick": quick,
            "passed": sum(r.passed for r in results), "failed": sum(r.failed for r in results),
            "skipped": sum(r.skipped for r in results), "ok": not failed,
            "checks": [r.to_dict() for r in results],
        }, indent=2))
    else:
        print(f"{Path(path).name} via {host}{' (quick)' if quick else ''}")
        for r in results:
            print(_line(r))
        print(summary(results))
    return 1 if failed else 0


def _cli(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m neuralsynth.plugins.validate", description=__doc__.splitlines()[0])
    ap.add_argument("plugin", help="a .vst3 / .lv2 bundle (or VST2 .so)")
    ap.add_argument("--host", choices=HOSTS, default="pedalboard")
    ap.add_argument("--quick", action="store_true", help="shorter signals")
    ap.add_argument("--json", action="store_true", help="JSON output")
    args = ap.parse_args(argv)
    return main(args.plugin, args.host, args.quick, args.json)


if __name__ == "__main__":
    # Run through the package's module so child processes find _worker under its real name.
    from neuralsynth.plugins import validate as _validate

    sys.exit(_validate._cli())
