"""Steps the effect and the instrument checks share: the same measurement, the same verdict text.

Each step takes the way to get output from an instance (``run``/``play``: process audio for an
effect, render MIDI for an instrument) and the word for that output where the messages differ.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .context import Context
from .limits import BLOCK_SIZES, MAX_BLOCK, TOL_EXACT
from .measures import finite_problem, first_over, max_diff, subnormal_count
from .results import CheckFailed, raise_problems

Run = Callable[[Any, str], np.ndarray]  # (instance, label) -> output


def shaped(y: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    """The host's output as a float32 array of ``shape``, or CheckFailed."""
    y = np.asarray(y)
    if y.shape != shape:
        raise CheckFailed(f"{what}: output shape {y.shape}, expected {shape}")
    return y.astype(np.float32, copy=False)


def signal_problems(y: np.ndarray, what: str) -> list[str]:
    """Non-finite and subnormal output samples, as problems."""
    problems = []
    if p := finite_problem(y, what):
        problems.append(p)
    if sub := subnormal_count(y):
        problems.append(f"{what}: {sub} subnormal output samples")
    return problems


def repeated_instances(ctx: Context, repeats: int, sample_rate: float, block_size: int, run: Run) -> list[str]:
    """Create, run and destroy ``repeats`` instances: every output finite and the same as the first."""
    problems: list[str] = []
    first: np.ndarray | None = None
    for i in range(repeats):
        inst = ctx.open(sample_rate, block_size)
        y = run(inst, f"instance {i + 1}")
        if p := finite_problem(y, f"instance {i + 1}"):
            problems.append(p)
        if first is None:
            first = y
        elif (d := max_diff(y, first)) > TOL_EXACT:
            problems.append(f"instance {i + 1} differs from the first by {d:.3g}")
        del inst
        gc.collect()
    return problems


def two_instances(ctx: Context, sample_rate: float, block_size: int, run: Run, same: str,
                  problems: list[str]) -> tuple[Any, Any, np.ndarray, float]:
    """Two live instances, A and B, on the same ``same``: (A, B, A's output, max |diff|)."""
    a, b = ctx.open(sample_rate, block_size), ctx.open(sample_rate, block_size)
    ya, yb = run(a, "instance A"), run(b, "instance B")
    if (d := max_diff(ya, yb)) > TOL_EXACT:
        problems.append(f"two instances at once differ by {d:.3g} on the same {same}")
    return a, b, ya, d


def interleave(n: int, play_a: Callable[[int, int, bool], np.ndarray],
               play_b: Callable[[int, int, bool], Any]) -> np.ndarray:
    """A's output for 0..n in MAX_BLOCK calls, B running between them: ``play(start, end, first)``."""
    chunks = []
    for k, off in enumerate(range(0, n, MAX_BLOCK)):
        end = min(n, off + MAX_BLOCK)
        chunks.append(play_a(off, end, k == 0))
        play_b(off, end, k == 0)
    return np.concatenate(chunks, axis=1)


def interleaving_detail(yi: np.ndarray, ya: np.ndarray, while_b: str, problems: list[str]) -> str:
    """A interleaved with B (``yi``) must equal A alone (``ya``); the detail text."""
    if (d := max_diff(yi, ya)) > TOL_EXACT:
        problems.append(f"instance A's output changes by {d:.3g} when instance B {while_b} in between "
                        f"(first at sample {first_over(yi, ya, TOL_EXACT)}): shared state between instances?")
    return f"; interleaved with a second instance unchanged (max |diff| {d:.2g})"


def block_sweep(ctx: Context, inst: Any, sample_rate: float, ref: np.ndarray, run: Callable[[Any, int], np.ndarray],
                tol: float, noun: str) -> float:
    """Every block size of BLOCK_SIZES gives the 512-block ``ref`` within ``tol``; the largest difference."""
    problems, worst = [], 0.0
    for bs in BLOCK_SIZES:
        inst = ctx.configured(inst, sample_rate, bs)
        y = run(inst, bs)
        d = max_diff(y, ref)
        worst = max(worst, d)
        if d > tol:
            problems.append(f"block {bs}: differs from the 512-block {noun} by {d:.3g} "
                            f"(first at sample {first_over(y, ref, tol)})")
    raise_problems(problems)
    return worst


def compare_calls(y: np.ndarray, ref: np.ndarray, sizes: list[int], tol: float) -> float:
    """Output rendered in calls of ``sizes`` against one call; CheckFailed naming the first bad call."""
    d = max_diff(y, ref)
    if d > tol:
        first = first_over(y, ref, tol)
        call = int(np.searchsorted(np.cumsum(sizes), first, side="right"))
        raise CheckFailed(f"{len(sizes)} calls of 1..{max(sizes)} samples differ from one call by {d:.3g} "
                          f"(first at sample {first}, in call {call + 1} of size {sizes[call]})")
    return d


def require_state(inst: Any) -> None:
    if not hasattr(inst, "raw_state"):
        raise CheckFailed("the host gives no access to the plugin state (raw_state)")


def restore_problems(modified: Mapping[str, float], restored: Mapping[str, float],
                     label: Callable[[str], str] = str) -> list[str]:
    """Parameters whose value in the restored instance is not the one saved."""
    return [f"{label(key)}: {restored.get(key)} after restoring the state, expected {value}"
            for key, value in modified.items()
            if abs(restored.get(key, float("nan")) - value) > TOL_EXACT or key not in restored]


def restored_output(ya: np.ndarray, yb: np.ndarray, noun: str, problems: list[str]) -> float:
    """The restored instance's output ``yb`` must be the original's ``ya``."""
    if (d := max_diff(ya, yb)) > TOL_EXACT:
        problems.append(f"the restored instance's {noun} differs by {d:.3g} "
                        f"(first at sample {first_over(ya, yb, TOL_EXACT)})")
    return d


def compare_after_reset(y: np.ndarray, ref: np.ndarray, noun: str, survivors: str) -> float:
    """After reset() the output must be a fresh instance's; CheckFailed saying what survived."""
    d = max_diff(y, ref)
    if d > TOL_EXACT:
        raise CheckFailed(f"after reset() the {noun} differs from a fresh instance's by {d:.3g} "
                          f"(first at sample {first_over(y, ref, TOL_EXACT)}): {survivors} reset")
    return d
