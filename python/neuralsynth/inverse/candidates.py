"""The K most likely parameter vectors of a guess, from the heads' distributions.

Candidate 1 is the guess itself (every continuous parameter at its predicted mean, every discrete one at
its likeliest class). Then, alternately:
- the next most likely combination of the discrete parameters (the K best joint classes under the heads'
  independent probabilities, found by a best-first search), with the continuous means; and
- a draw of the continuous parameters from the heads' Gaussians N(mean, sigma) clipped to 0..1, with the
  likeliest discrete classes (seeded: the same guess and seed give the same candidates).
When there are no discrete parameters every further candidate is a draw, and with no continuous ones every
further candidate is a discrete combination. Duplicates are skipped.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import numpy as np

from .params import CONTINUOUS, DISCRETE

if TYPE_CHECKING:
    from .predictor import ParameterGuess


def best_combinations(probs: list[np.ndarray], k: int) -> list[tuple[int, ...]]:
    """The ``k`` most probable joint class tuples of independent categoricals, most probable first."""
    if not probs:
        return [()]
    logp = [np.log(np.maximum(p, 1e-12)) for p in probs]
    order = [np.argsort(-lp, kind="stable") for lp in logp]
    start = (0,) * len(probs)

    def score(ranks: tuple[int, ...]) -> float:
        return float(sum(lp[o[r]] for lp, o, r in zip(logp, order, ranks, strict=True)))

    heap = [(-score(start), start)]
    seen = {start}
    out: list[tuple[int, ...]] = []
    while heap and len(out) < k:
        _, ranks = heapq.heappop(heap)
        out.append(tuple(int(o[r]) for o, r in zip(order, ranks, strict=True)))
        for j in range(len(ranks)):
            if ranks[j] + 1 < len(order[j]):
                nxt = ranks[:j] + (ranks[j] + 1,) + ranks[j + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(heap, (-score(nxt), nxt))
    return out


def top_candidates(guess: ParameterGuess, k: int, seed: int = 0) -> list[np.ndarray]:
    if k < 1:
        raise ValueError(f"the number of candidates must be at least 1, got {k}")
    cont = [s for s in guess.specs if s.kind == CONTINUOUS]
    disc = [s for s in guess.specs if s.kind == DISCRETE]
    combos = best_combinations(guess.probs, k) if disc else [()]
    rng = np.random.default_rng([seed, 3])

    def vector(classes: tuple[int, ...], cont_values: np.ndarray) -> np.ndarray:
        v = guess.params.copy()
        for s, c in zip(disc, classes, strict=True):
            v[s.index] = c / (int(s.steps or 2) - 1)
        for s, x in zip(cont, cont_values, strict=True):
            v[s.index] = float(x)
        return v

    out = [vector(combos[0], guess.mean)]
    seen = {out[0].tobytes()}
    next_combo, attempts = 1, 0
    while len(out) < k and attempts < 50 * k:
        attempts += 1
        use_combo = next_combo < len(combos) and (not cont or len(out) % 2 == 1)
        if use_combo:
            v = vector(combos[next_combo], guess.mean)
            next_combo += 1
        elif cont:
            v = vector(combos[0], np.clip(rng.normal(guess.mean, guess.sigma), 0.0, 1.0))
        else:
            break
        if v.tobytes() not in seen:
            seen.add(v.tobytes())
            out.append(v)
    return out
