"""Derivative-free refinement of a parameter vector on a rendered distance.

:func:`refine` improves a normalized parameter vector ``x0`` (values in 0..1) by calling ``evaluate`` on
batches of candidate vectors (one batch per call: a render of every candidate through the plugin, then a
distance to the target sound each) and keeping the best point seen. The first call's batch holds ``x0``
itself (first), so the result is never worse than ``x0``: ``history[k]`` is the best distance after call
``k``, non-increasing, and ``history[0] <= evaluate([x0])``.

Parameters are continuous or discrete (``("discrete", steps)``: the values ``k / (steps - 1)``); discrete
values are snapped before every evaluation and in the result. ``frozen`` parameters keep their exact
``x0`` value (not snapped).

``method="cma"``: CMA-ES (the ``cma`` package) over the free continuous parameters, bounds [0, 1]
(``cma``'s ``BoundTransform``), initial step ``sigma0``, one generation per ``evaluate`` call. The
population is ``batch_size`` candidates (default: ``cma``'s own ``4 + 3 ln n``); choose a multiple of the
number of render workers. Discrete parameters take part by a neighbour move: each generation, after the
CMA samples, the batch gets the best point so far with one free discrete parameter (in turn) one step up
and one step down; when such a move gives the best point, the discrete value is taken over for the CMA
samples of the next generations. The CMA samples carry the current discrete values, so CMA sees a
function of its continuous coordinates only. Failed renders (``inf``/NaN distances) rank below every
finite one.

``method="coordinate"``: coordinate search. Each free parameter has a step (``sigma0`` for continuous
ones, one grid step for discrete ones); a call tries +-step on the next ``batch_size // 2`` free
parameters in turn (default: all of them) from the best point and moves to the best candidate of the
batch if it improves. A continuous parameter whose two moves did not improve on the point they started
from halves its step; it is done when its step is below ``tol`` (discrete ones: when their moves did not
improve since the last time the point moved). When every free parameter is done the search has
``"converged"``.

Stops: after ``steps`` calls (``"steps"``), when ``time_budget`` seconds have passed since the start
(checked before each call after the first; the first call, with ``x0``, always happens: ``"time"``), or on
convergence (``"converged"``: CMA's own termination criteria; with no free continuous parameter, a whole
round of discrete moves without a new best; the coordinate search above; or nothing to refine).

The same seed and the same ``evaluate`` give the same calls and the same result (the ``cma`` package draws
from its own generator here, seeded by ``seed``, never from ``numpy.random``'s global state).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RefineResult", "refine", "snap", "METHODS"]

METHODS = ("cma", "coordinate")
Kind = tuple[str, "int | None"]


@dataclass
class RefineResult:
    """The best point seen and how the search went.

    ``evaluations``: candidate vectors evaluated (renders), over all calls; ``history``: the best distance
    after each ``evaluate`` call (one entry per call); ``stopped``: ``"steps"``, ``"time"`` or
    ``"converged"``.
    """

    x: np.ndarray
    distance: float
    evaluations: int
    seconds: float
    history: list[float] = field(default_factory=list)
    stopped: str = "steps"


def _check_kinds(kinds: Sequence[Kind], n: int) -> list[int | None]:
    """The grid size of each parameter (None: continuous)."""
    if len(kinds) != n:
        raise ValueError(f"kinds: expected {n} entries (one per parameter of x0), found {len(kinds)}")
    grid: list[int | None] = []
    for i, kind in enumerate(kinds):
        try:
            name, steps = kind
        except (TypeError, ValueError):
            raise ValueError(
                f"kinds[{i}]: expected ('continuous', None) or ('discrete', steps), found {kind!r}"
            ) from None
        if name == "continuous":
            grid.append(None)
        elif name == "discrete":
            if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 2:
                raise ValueError(
                    f"kinds[{i}]: a discrete parameter needs a whole number of steps >= 2, found {steps!r}"
                )
            grid.append(int(steps))
        else:
            raise ValueError(f"kinds[{i}]: expected 'continuous' or 'discrete', found {name!r}")
    return grid


def snap(x: np.ndarray, kinds: Sequence[Kind], frozen: Sequence[int] = ()) -> np.ndarray:
    """``x`` with each discrete, not frozen parameter moved to the nearest ``k / (steps - 1)``."""
    out = np.array(x, dtype=np.float64, copy=True)
    grid = _check_kinds(kinds, out.size)
    keep = set(int(i) for i in frozen)
    for i, steps in enumerate(grid):
        if steps is not None and i not in keep:
            out[i] = round(float(out[i]) * (steps - 1)) / (steps - 1)
    return out


class _Search:
    """Bookkeeping shared by both methods: the calls, the budget, the best point, the history."""

    def __init__(self, evaluate: Callable[[list[np.ndarray]], list[float]], steps: int, time_budget: float | None):
        self.evaluate = evaluate
        self.steps = steps
        self.time_budget = time_budget
        self.started = time.monotonic()
        self.calls = 0
        self.evaluations = 0
        self.best_x: np.ndarray | None = None
        self.best = math.inf
        self.history: list[float] = []

    def out_of_budget(self) -> str | None:
        """Why no further call may be made, or None."""
        if self.calls >= self.steps:
            return "steps"
        if self.calls >= 1 and self.time_budget is not None and time.monotonic() - self.started >= self.time_budget:
            return "time"
        return None

    def call(self, batch: list[np.ndarray]) -> list[float]:
        """Evaluate a batch (copies go out: the caller may not keep or change our vectors); update the best."""
        values = self.evaluate([v.copy() for v in batch])
        try:
            out = [float(v) for v in values]
        except (TypeError, ValueError):
            raise ValueError("evaluate: expected a list of numbers (one distance per vector)") from None
        if len(out) != len(batch):
            raise ValueError(f"evaluate: expected {len(batch)} distances (one per vector), found {len(out)}")
        out = [v if not math.isnan(v) else math.inf for v in out]
        self.calls += 1
        self.evaluations += len(batch)
        for v, x in zip(out, batch, strict=True):
            if v < self.best:  # strict: on ties the earlier point (x0 first) stays
                self.best, self.best_x = v, x.copy()
        self.history.append(self.best)
        return out


def _neighbours(x: np.ndarray, i: int, steps: int) -> list[np.ndarray]:
    """``x`` with discrete parameter ``i`` one grid step up and one down (those inside 0..1)."""
    k = round(float(x[i]) * (steps - 1))
    out = []
    for kk in (k + 1, k - 1):
        if 0 <= kk <= steps - 1:
            y = x.copy()
            y[i] = kk / (steps - 1)
            out.append(y)
    return out


def _ranked_for_cma(values: list[float]) -> list[float]:
    """Non-finite distances replaced by a value worse than every finite one (CMA ranks, it needs numbers)."""
    finite = [v for v in values if math.isfinite(v)]
    worst = max(finite) if finite else 0.0
    penalty = worst + abs(worst) + 1.0
    return [v if math.isfinite(v) else penalty for v in values]


def _run_cma(search: _Search, x: np.ndarray, grid: list[int | None], free: list[int], seed: int,
             sigma0: float, batch_size: int | None) -> str:
    import cma

    cont = [i for i in free if grid[i] is None]
    disc = [i for i in free if grid[i] is not None]
    base = x.copy()  # the current discrete values (and frozen ones) of the CMA samples
    es = None
    if cont:
        rng = np.random.default_rng(seed)
        popsize = batch_size if batch_size is not None else 4 + int(3 * math.log(len(cont)))
        options = {
            "bounds": [0.0, 1.0],
            "popsize": max(2, popsize),
            "seed": np.nan,  # do not touch numpy.random's global state: samples come from randn below
            "randn": lambda lam, n: rng.standard_normal((lam, n)),
            "verbose": -10,  # quiet, no signals file read from the current directory
            "verb_log": 0,  # no outcmaes/ folder
            "verb_disp": 0,
            "maxiter": 10**9,  # the caller's steps decide
        }
        es = cma.CMAEvolutionStrategy(x[cont].tolist(), float(sigma0), options)
    turn = 0
    stale = 0  # generations without a new best
    first = True
    while True:
        stop = search.out_of_budget()
        if stop is not None:
            return stop
        batch: list[np.ndarray] = [x.copy()] if first else []
        samples: list[np.ndarray] = []
        asked: list[np.ndarray] = []
        if es is not None:
            asked = es.ask()  # within the bounds (BoundTransform); told back as they are
            for s in asked:
                y = base.copy()
                y[cont] = np.clip(np.asarray(s, dtype=np.float64), 0.0, 1.0)
                samples.append(y)
        moves: list[np.ndarray] = []
        if disc:
            i = disc[turn % len(disc)]
            turn += 1
            moves = _neighbours(search.best_x if search.best_x is not None else x, i, int(grid[i] or 2))
        batch += samples + moves
        if not batch:
            return "converged"
        before = search.best
        values = search.call(batch)
        first = False
        if es is not None:
            offset = len(batch) - len(samples) - len(moves)
            es.tell(asked, _ranked_for_cma(values[offset : offset + len(samples)]))
        if moves and search.best < before and search.best_x is not None:
            # a discrete move (or a sample) is the new best: the samples of the next generations use its
            # discrete values; the continuous ones come from CMA
            base[disc] = search.best_x[disc]
        stale = 0 if search.best < before else stale + 1
        if es is not None and es.stop():
            return "converged"
        if es is None and (not disc or stale >= len(disc)):
            return "converged"  # no continuous parameters; no discrete move helped in a whole round


def _run_coordinate(search: _Search, x: np.ndarray, grid: list[int | None], free: list[int], sigma0: float,
                    batch_size: int | None, tol: float) -> str:
    step = {i: sigma0 for i in free if grid[i] is None}  # continuous parameters; discrete ones move one grid step
    done = {i: False for i in free}
    per_call = len(free) if batch_size is None else max(1, batch_size // 2)
    turn = 0
    first = True
    current = x.copy()
    while True:
        stop = search.out_of_budget()
        if stop is not None:
            return stop
        if free and all(done.values()):
            return "converged"
        batch: list[np.ndarray] = [x.copy()] if first else []
        tried: list[tuple[int, np.ndarray]] = []
        todo = [i for i in free if not done[i]]
        # the next parameters in turn that are not done yet
        order = [free[(turn + k) % len(free)] for k in range(len(free))]
        chosen = [i for i in order if not done[i]][: min(per_call, len(todo))]
        if chosen:
            turn = (free.index(chosen[-1]) + 1) % len(free)
        for i in chosen:
            if grid[i] is None:
                for sign in (1.0, -1.0):
                    y = current.copy()
                    y[i] = min(1.0, max(0.0, current[i] + sign * step[i]))
                    if y[i] != current[i]:
                        tried.append((i, y))
            else:
                tried += [(i, y) for y in _neighbours(current, i, int(grid[i] or 2))]
        batch += [y for _, y in tried]
        if not batch:
            for i in chosen:  # nothing to try (every move is outside 0..1): done
                done[i] = True
            if not free or all(done.values()):
                return "converged"
            continue
        reference = search.best if not first else math.inf
        values = search.call(batch)
        if first:
            reference = values[0]
            first = False
        offset = len(batch) - len(tried)
        improved_by = {i: False for i in chosen}
        for (i, _), v in zip(tried, values[offset:], strict=True):
            if v < reference:
                improved_by[i] = True
        moved = search.best < reference
        if moved:
            assert search.best_x is not None
            current = search.best_x.copy()
            for i in free:
                if grid[i] is not None:
                    done[i] = False  # another point: the discrete moves are worth trying again
        for i in chosen:
            if improved_by[i]:
                continue
            if grid[i] is None:
                step[i] *= 0.5
                done[i] = step[i] < tol
            else:
                done[i] = True


def refine(
    evaluate: Callable[[list[np.ndarray]], list[float]],
    x0: np.ndarray,
    kinds: list[tuple[str, int | None]],
    steps: int,
    time_budget: float | None,
    seed: int = 0,
    method: str = "cma",
    sigma0: float = 0.15,
    frozen: Sequence[int] = (),
    *,
    batch_size: int | None = None,
    tol: float = 1e-3,
) -> RefineResult:
    """Improve ``x0`` on ``evaluate``'s distance; see the module docstring.

    ``evaluate(batch)`` takes a list of normalized vectors and returns one distance each (``inf`` for a
    failed render). ``steps``: at most this many ``evaluate`` calls (>= 1; the first one evaluates ``x0``
    too). ``time_budget``: seconds, or None for no limit. ``batch_size``: candidates per call (CMA's
    population; coordinate search: 2 per parameter tried). ``tol``: the coordinate search's smallest step.
    Bad arguments raise ``ValueError`` naming the argument.
    """
    x = np.array(x0, dtype=np.float64, copy=True)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"x0: expected a non-empty 1-D vector, found shape {x.shape}")
    bad = np.flatnonzero(~(np.isfinite(x) & (x >= 0.0) & (x <= 1.0)))
    if bad.size:
        raise ValueError(f"x0[{int(bad[0])}] = {float(x[bad[0]])!r}: expected a normalized value in 0..1")
    grid = _check_kinds(kinds, x.size)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps: expected a whole number >= 1 (evaluate calls), found {steps!r}")
    if time_budget is not None and not (isinstance(time_budget, (int, float)) and time_budget >= 0):
        raise ValueError(f"time_budget: expected seconds >= 0 or None, found {time_budget!r}")
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, found {method!r}")
    if not (isinstance(sigma0, (int, float)) and math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"sigma0: expected a positive step, found {sigma0!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size: expected a whole number >= 1 or None, found {batch_size!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise ValueError(f"tol: expected a positive step, found {tol!r}")
    frozen_set: set[int] = set()
    for i in frozen:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < x.size:
            raise ValueError(f"frozen: {i!r} is not a parameter index (0..{x.size - 1})")
        frozen_set.add(int(i))
    x = snap(x, kinds, sorted(frozen_set))
    free = [i for i in range(x.size) if i not in frozen_set]
    search = _Search(evaluate, int(steps), None if time_budget is None else float(time_budget))
    if method == "cma":
        stopped = _run_cma(search, x, grid, free, int(seed), float(sigma0), batch_size)
    else:
        stopped = _run_coordinate(search, x, grid, free, float(sigma0), batch_size, float(tol))
    if search.calls == 0:  # nothing was refined (cannot happen: steps >= 1 and x0 goes in the first call)
        search.call([x])
    assert search.best_x is not None or math.isinf(search.best)
    best_x = search.best_x if search.best_x is not None else x
    return RefineResult(
        x=best_x,
        distance=search.best,
        evaluations=search.evaluations,
        seconds=time.monotonic() - search.started,
        history=search.history,
        stopped=stopped,
    )
