"""The battery's checks for effects (audio in, audio out), each returning its detail text.

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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .check_steps import (
    Run,
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
from .context import Context, Host
from .limits import AUTOMATION_PEAK, BLOCK_SIZES, MAX_BLOCK, SAMPLE_RATES, SILENCE_LEVEL, TOL_BLOCK, TOL_EXACT
from .measures import db_text, finite_problem, max_diff, nonfinite_count, output_level, peak_level
from .params import other_value, param_table, random_value, restore, set_value, snapshot
from .results import CheckFailed, raise_problems

TAIL_SECONDS = 1.5  # the time the plugin gets to fall silent
PEAK_FACTOR = 20.0  # output peak must stay below PEAK_FACTOR * input peak + 1


def _out(y: Any, like: np.ndarray, what: str) -> np.ndarray:
    """The host's output as an array of the input's shape, or CheckFailed."""
    return shaped(y, like.shape, what)


def _processed(x: np.ndarray, sr: float, bs: int) -> Run:
    """Run: an instance's output for ``x`` from a reset."""
    return lambda inst, what: _out(inst.process(x, sr, block_size=bs, reset=True), x, what)


def _bounded(y: np.ndarray, x: np.ndarray, what: str, problems: list[str], sounding: bool = False,
             why: str = "") -> float:
    """Output ``y`` for input ``x`` finite (``sounding``: and not all zeros) with its peak below
    PEAK_FACTOR * the input's + 1; the peak."""
    peak, limit = peak_level(y), PEAK_FACTOR * peak_level(x) + 1
    if p := finite_problem(y, what):
        problems.append(p)
    if sounding and not np.any(y[np.isfinite(y)] != 0):
        problems.append(f"{what}: the output is all zeros")
    if not peak < limit:
        problems.append(f"{what}: output peak {peak:.3g} >= {limit:.3g}{why}")
    return peak


def check_load(ctx: Context) -> str:
    sr, bs = 48000, 512
    repeats = 8 if ctx.quick else 20
    x = ctx.noise(2, 4 * bs, salt=1)
    problems = repeated_instances(ctx, repeats, sr, bs, _processed(x, sr, bs))

    n = int(ctx.seconds * sr) // MAX_BLOCK * MAX_BLOCK or MAX_BLOCK
    xa, xb = ctx.noise(2, n, salt=2), ctx.noise(2, n, 0.3, salt=3)
    a, b, ya, d = two_instances(ctx, sr, bs, _processed(xa, sr, bs), "input", problems)
    detail = f"{repeats} create/process/destroy cycles; two live instances identical (max |diff| {d:.2g})"
    if ctx.streaming:
        # Interleave calls on A (signal xa) and B (another signal): A must not notice B.
        yi = interleave(n, lambda s, e, first: a.process(xa[:, s:e], sr, block_size=bs, reset=first),
                        lambda s, e, first: b.process(xb[:, s:e], sr, block_size=bs, reset=first))
        detail += interleaving_detail(_out(yi, xa, "interleaved instance A"), ya, "runs", problems)
    raise_problems(problems)
    return detail


def check_sample_rates(ctx: Context) -> str:
    problems, parts = [], []
    inst: Host | None = None
    for sr in SAMPLE_RATES:
        inst = ctx.configured(inst, sr, 512)
        x = ctx.noise(2, int(ctx.seconds * sr), salt=sr)
        y = _out(inst.process(x, sr, block_size=512, reset=True), x, f"{sr} Hz")
        peak = _bounded(y, x, f"{sr} Hz", problems, sounding=True, why=" (blow-up)")
        parts.append(f"{sr}: peak {peak:.2f}")
    raise_problems(problems)
    return "; ".join(parts)


def check_block_sizes(ctx: Context) -> str:
    sr = 48000
    x = ctx.noise(2, int(ctx.seconds * sr), salt=4)
    inst = ctx.open(sr, 512)
    ref = _out(inst.process(x, sr, block_size=512, reset=True), x, "block 512")
    if p := finite_problem(ref, "block 512"):
        raise CheckFailed(p)
    worst = block_sweep(ctx, inst, sr, ref,
                        lambda i, bs: _out(i.process(x, sr, block_size=bs, reset=True), x, f"block {bs}"),
                        TOL_BLOCK, "output")
    return f"sizes {', '.join(map(str, BLOCK_SIZES))}: max |diff| {worst:.2g}"


def check_varying_blocks(ctx: Context) -> str:
    sr = 48000
    n = int((ctx.seconds if ctx.quick else 2.0) * sr)
    x = ctx.noise(2, n, salt=5)
    inst = ctx.open(sr, MAX_BLOCK)
    ref = _out(inst.process(x, sr, block_size=MAX_BLOCK, reset=True), x, "one call")
    sizes = ctx.call_sizes(n, MAX_BLOCK)
    # pedalboard prepares the plugin for min(block_size, call size) and prepares it again
    # (which may reset it) whenever that grows: the first call has the largest size, so the
    # plugin sees varying block sizes within one prepareToPlay, as in a DAW.
    out, off = [], 0
    for k, s in enumerate(sizes):
        out.append(np.asarray(inst.process(x[:, off:off + s], sr, block_size=MAX_BLOCK, reset=k == 0)))
        off += s
    y = _out(np.concatenate(out, axis=1), x, "varying calls")
    d = compare_calls(y, ref, sizes, TOL_BLOCK)
    return f"{len(sizes)} calls of {min(sizes)}..{max(sizes)} samples: max |diff| {d:.2g}"


def _silence_problems(y: np.ndarray, start: int, what: str) -> tuple[list[str], float]:
    problems = signal_problems(y, what)
    tail = y[:, start:]
    level = output_level(tail)
    if not level < SILENCE_LEVEL:
        problems.append(f"{what}: {db_text(level)} ({level:.3g}) {TAIL_SECONDS} s into the silence, "
                        f"expected below {db_text(SILENCE_LEVEL)}")
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
    raise_problems(problems + more)
    return (f"after {TAIL_SECONDS} s: {db_text(level)} from reset, {db_text(level2)} after a 0.5 s noise burst; "
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
        peak = _bounded(y, x, label, problems)
        parts.append(f"{label}: peak {peak:.2f}")
    raise_problems(problems)
    return "; ".join(parts)


def check_automation(ctx: Context) -> str:
    sr, call = 48000, 256
    calls = 60 if ctx.quick else 200
    inst = ctx.open(sr, call)
    params = [p for p in param_table(inst) if p.automatable and not p.is_bypass]
    if not params:
        return "no automatable parameters"
    defaults = snapshot(inst)
    rng = ctx.rng(9)
    x = ctx.noise(2, calls * call, salt=10)
    problems: list[str] = []
    peak = 0.0
    for k in range(calls):
        for p in params:
            set_value(inst, p, random_value(p, rng))
        xs = x[:, k * call:(k + 1) * call]
        y = _out(inst.process(xs, sr, block_size=call, reset=k == 0), xs, f"call {k + 1}")
        if (bad := nonfinite_count(y)) and len(problems) < 3:
            problems.append(f"call {k + 1}: {bad} non-finite output samples")
        peak = max(peak, peak_level(y) if y.size else 0.0)
    if not peak < AUTOMATION_PEAK:
        problems.append(f"output peak {peak:.3g} during automation (>= {AUTOMATION_PEAK:g})")

    # Back to the defaults: after the smoothing (and DC blocker) settles, the output must be the
    # default-parameter output of a freshly reset plugin.
    restore(inst, defaults)
    settle, compare = int((0.5 if ctx.quick else 1.0) * sr), sr // 2
    s = ctx.noise(2, settle + compare, salt=11)
    y = _out(inst.process(s, sr, block_size=call, reset=False), s, "after automation")
    ref = _out(inst.process(s, sr, block_size=call, reset=True), s, "defaults after a reset")
    d = max_diff(y[:, -compare:], ref[:, -compare:])
    if d > TOL_BLOCK:
        problems.append(f"back at the defaults, the last 0.5 s differ from the default output by {d:.3g}")
    raise_problems(problems)
    names = ", ".join(p.label for p in params)
    return (f"{calls} calls x {call} samples, {len(params)} parameters ({names}); peak {peak:.2f}; "
            f"back at defaults max |diff| {d:.2g}")


def check_state(ctx: Context) -> str:
    sr = 48000
    x = ctx.noise(2, int(ctx.seconds * sr), salt=12)
    inst = ctx.open(sr, 512)
    table = {p.key: p for p in param_table(inst)}
    defaults = snapshot(inst)
    changed = [p for p in table.values() if not p.is_bypass]
    for p in changed:
        set_value(inst, p, other_value(inst, p))
    inst.process(x, sr, block_size=512, reset=True)  # pedalboard: raw_state updates after processing
    modified = snapshot(inst)
    problems = [f"could not set {p.label} to a non-default value" for p in changed
                if abs(modified[p.key] - defaults[p.key]) <= TOL_EXACT]
    require_state(inst)
    state = inst.raw_state
    fresh = ctx.open(sr, 512)
    fresh.raw_state = state  # type: ignore[attr-defined]
    restored = snapshot(fresh)
    problems += restore_problems(modified, restored, lambda key: table[key].label if key in table else key)
    ya = _out(inst.process(x, sr, block_size=512, reset=True), x, "original")
    yb = _out(fresh.process(x, sr, block_size=512, reset=True), x, "restored")
    d = restored_output(ya, yb, "output", problems)
    raise_problems(problems)
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
    d = compare_after_reset(y, ref, "output", "state survives")
    return f"A, reset, B == fresh B: max |diff| {d:.2g}"


def check_bypass(ctx: Context) -> str:
    sr = 48000
    x = ctx.noise(2, int(ctx.seconds * sr), salt=15)
    inst = ctx.open(sr, 512)
    bypass = next((p for p in param_table(inst) if p.is_bypass), None)
    if bypass is None:
        raise CheckFailed("the plugin has no Bypass parameter")
    normal = _out(inst.process(x, sr, block_size=512, reset=True), x, "normal")
    problems = []
    set_value(inst, bypass, True)
    yb = _out(inst.process(x, sr, block_size=512, reset=True), x, "bypassed")
    d_in = max_diff(yb, x)
    if d_in > TOL_EXACT:
        same = max_diff(yb, normal) <= TOL_EXACT
        problems.append(f"with Bypass on the output differs from the input by {d_in:.3g}"
                        + (" (it is the normal processed output: Bypass has no effect)" if same else ""))
    set_value(inst, bypass, False)
    yn = _out(inst.process(x, sr, block_size=512, reset=True), x, "un-bypassed")
    d_norm = max_diff(yn, normal)
    if d_norm > TOL_EXACT:
        problems.append(f"with Bypass off again the output differs from the normal output by {d_norm:.3g}")
    raise_problems(problems)
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
        if p := finite_problem(ym, "mono"):
            problems.append(p)
        if not np.any(ym[np.isfinite(ym)] != 0):
            problems.append("mono: the output is all zeros")
    x2 = np.vstack([x1[0], x1[0]])
    inst = ctx.configured(inst, sr, 512) if note is None else ctx.open(sr, 512)
    ys = _out(inst.process(x2, sr, block_size=512, reset=True), x2, "stereo")
    if p := finite_problem(ys, "stereo"):
        problems.append(p)
    d = max_diff(ys[0:1], ys[1:2])
    if d > TOL_EXACT:
        problems.append(f"stereo with identical channels: output channels differ by {d:.3g}")
    raise_problems(problems)
    detail = f"mono {tuple(ym.shape)} ok; identical stereo channels -> identical outputs (max |diff| {d:.2g})"
    if ym.shape[1:] == ys.shape[1:]:
        detail += f"; mono vs stereo left max |diff| {max_diff(ym[:1], ys[:1]):.2g}"
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
        if p := finite_problem(y, f"{label} in"):
            problems.append(p)
        after = ctx.noise(2, n, salt=18)
        ya = _out(inst.process(after, sr, block_size=bs, reset=False), after, f"after {label}")
        if p := finite_problem(ya, f"normal input after {label}"):
            problems.append(p)
        elif not np.any(ya != 0):
            problems.append(f"normal input after {label}: the output stays silent")
        parts.append(f"{label}: {nonfinite_count(y)} non-finite out")
    raise_problems(problems)
    return "; ".join(parts) + "; normal input afterwards finite"


EFFECT_CHECKS: dict[str, Callable[[Context], str]] = {
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
