"""neuralsynth.inverse.refine: derivative-free refinement, on a synthetic distance and on real renders."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.inverse.refine import refine, snap

METHODS = ("cma", "coordinate")

# 8 parameters: 5 continuous, a 3-step and a 5-step discrete one, and one frozen continuous one (index 7)
KINDS: list[tuple[str, int | None]] = [("continuous", None)] * 5 + [("discrete", 3), ("discrete", 5),
                                                                   ("continuous", None)]
TARGET = np.array([0.2, 0.8, 0.35, 0.6, 0.05, 1.0, 0.25, 0.9])
X0 = np.array([0.6, 0.4, 0.7, 0.3, 0.5, 0.0, 0.75, 0.1])  # discrete ones on their grid
FROZEN = (7,)


def bowl(x: np.ndarray) -> float:
    """A quadratic bowl on the continuous parameters plus a penalty per grid step off on the discrete ones."""
    return float(np.sum((x[:5] - TARGET[:5]) ** 2) + abs(x[5] - TARGET[5]) + abs(x[6] - TARGET[6])
                 + (x[7] - TARGET[7]) ** 2)


class Recorder:
    """An evaluate() that records every batch."""

    def __init__(self, f: Callable[[np.ndarray], float] = bowl, sleep: float = 0.0) -> None:
        self.f = f
        self.sleep = sleep
        self.batches: list[list[np.ndarray]] = []

    def __call__(self, batch: list[np.ndarray]) -> list[float]:
        self.batches.append([b.copy() for b in batch])
        if self.sleep:
            time.sleep(self.sleep)
        return [self.f(b) for b in batch]

    @property
    def points(self) -> list[np.ndarray]:
        return [p for b in self.batches for p in b]


def _on_grid(value: float, steps: int) -> bool:
    k = value * (steps - 1)
    return abs(k - round(k)) < 1e-12 and 0 <= round(k) <= steps - 1


@pytest.mark.parametrize("method", METHODS)
def test_refine_improves_within_bounds_on_the_grid_and_leaves_frozen_alone(method: str) -> None:
    ev = Recorder()
    r = refine(ev, X0, KINDS, steps=40, time_budget=None, seed=3, method=method, frozen=FROZEN)
    start = bowl(snap(X0, KINDS))
    # x0 first, snapped (its discrete values are on the grid already)
    np.testing.assert_array_equal(ev.batches[0][0], X0)
    assert r.history[0] <= start
    assert all(b <= a for a, b in zip(r.history, r.history[1:], strict=False)), r.history
    assert len(r.history) == len(ev.batches) <= 40
    assert r.evaluations == len(ev.points)
    for p in ev.points:
        assert p.shape == (8,) and np.all(p >= 0.0) and np.all(p <= 1.0)
        assert _on_grid(p[5], 3) and _on_grid(p[6], 5)
        assert p[7] == X0[7]  # frozen: exactly x0's value
    assert r.distance == pytest.approx(bowl(r.x)) and r.distance == min(bowl(p) for p in ev.points)
    assert r.x[7] == X0[7]
    # the discrete parameters found their targets, the continuous ones came close
    assert r.x[5] == 1.0 and r.x[6] == 0.25
    frozen_part = (X0[7] - TARGET[7]) ** 2
    assert r.distance - frozen_part < 1e-3 * (start - frozen_part), (r.distance, start)
    assert r.stopped in ("steps", "converged")
    assert 0 < r.seconds < 30


def test_discrete_values_are_snapped_before_evaluation() -> None:
    x0 = X0.copy()
    x0[5], x0[6] = 0.3, 0.6  # between grid points: 0.3 -> 0.5 (3 steps), 0.6 -> 0.5 (5 steps)
    for method in METHODS:
        ev = Recorder()
        r = refine(ev, x0, KINDS, steps=3, time_budget=None, method=method)
        first = ev.batches[0][0]
        assert (first[5], first[6]) == (0.5, 0.5)
        np.testing.assert_array_equal(np.delete(first, [5, 6]), np.delete(x0, [5, 6]))
        assert _on_grid(r.x[5], 3) and _on_grid(r.x[6], 5)
    # a frozen discrete parameter keeps its exact value
    ev = Recorder()
    r = refine(ev, x0, KINDS, steps=3, time_budget=None, method="cma", frozen=(6,))
    assert all(p[6] == 0.6 for p in ev.points) and r.x[6] == 0.6
    np.testing.assert_array_equal(snap(x0, KINDS, frozen=(6,))[5:7], [0.5, 0.6])


@pytest.mark.parametrize("method", METHODS)
def test_stops_after_steps_calls(method: str) -> None:
    ev = Recorder()
    r = refine(ev, X0, KINDS, steps=5, time_budget=None, method=method)
    assert r.stopped == "steps" and len(ev.batches) == 5 and len(r.history) == 5
    ev = Recorder()
    r = refine(ev, X0, KINDS, steps=1, time_budget=None, method=method)
    assert len(ev.batches) == 1 and r.stopped == "steps"
    np.testing.assert_array_equal(ev.batches[0][0], X0)


@pytest.mark.parametrize("method", METHODS)
def test_stops_on_time(method: str) -> None:
    ev = Recorder(sleep=0.05)
    started = time.monotonic()
    r = refine(ev, X0, KINDS, steps=10_000, time_budget=0.3, method=method, batch_size=4)
    took = time.monotonic() - started
    assert r.stopped == "time"
    assert 0.3 <= took < 0.3 + 0.05 + 0.5  # checked between calls: at most one call past the budget (+ slack)
    assert 5 <= len(ev.batches) <= 8
    assert r.seconds == pytest.approx(took, abs=0.05)
    # a budget of 0: only the first call (x0 is always evaluated)
    ev = Recorder()
    r = refine(ev, X0, KINDS, steps=100, time_budget=0.0, method=method)
    assert r.stopped == "time" and len(ev.batches) == 1 and r.distance <= bowl(X0)


def test_coordinate_search_converges() -> None:
    ev = Recorder()
    r = refine(ev, X0, KINDS, steps=10_000, time_budget=None, method="coordinate", frozen=FROZEN, tol=1e-2)
    assert r.stopped == "converged" and len(ev.batches) < 10_000
    assert np.max(np.abs(r.x[:5] - TARGET[:5])) < 2e-2


def test_cma_with_only_discrete_parameters_free_moves_them_and_converges() -> None:
    ev = Recorder()
    r = refine(ev, X0, KINDS, steps=100, time_budget=None, method="cma", frozen=(0, 1, 2, 3, 4, 7))
    assert (r.x[5], r.x[6]) == (1.0, 0.25) and r.stopped == "converged" and len(ev.batches) < 20
    np.testing.assert_array_equal(np.delete(r.x, [5, 6]), np.delete(X0, [5, 6]))
    assert all(b <= a for a, b in zip(r.history, r.history[1:], strict=False))


def test_nothing_free_converges_after_x0() -> None:
    for method in METHODS:
        ev = Recorder()
        r = refine(ev, X0, KINDS, steps=50, time_budget=None, method=method, frozen=range(8))
        assert r.stopped == "converged" and len(ev.batches) == 1 and r.evaluations == 1
        np.testing.assert_array_equal(r.x, X0)


@pytest.mark.parametrize("method", METHODS)
def test_deterministic_for_a_seed_whatever_numpy_random_does(method: str) -> None:
    def noisy_user(x: np.ndarray) -> float:
        np.random.random()  # evaluate uses numpy's global generator: refine must not depend on it
        return bowl(x)

    runs = []
    for _ in range(2):
        np.random.seed(int(time.time_ns() % 2**32))
        ev = Recorder(noisy_user)
        r = refine(ev, X0, KINDS, steps=12, time_budget=None, seed=5, method=method, frozen=FROZEN)
        runs.append((r, ev))
    (a, ev_a), (b, ev_b) = runs
    assert a.history == b.history and a.evaluations == b.evaluations
    np.testing.assert_array_equal(a.x, b.x)
    assert all(np.array_equal(p, q) for p, q in zip(ev_a.points, ev_b.points, strict=True))
    # refine leaves numpy's global state alone
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    refine(Recorder(), X0, KINDS, steps=4, time_budget=None, method=method)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_other_seeds_search_elsewhere() -> None:
    a = Recorder()
    b = Recorder()
    refine(a, X0, KINDS, steps=3, time_budget=None, seed=1)
    refine(b, X0, KINDS, steps=3, time_budget=None, seed=2)
    assert not np.array_equal(a.batches[1][0], b.batches[1][0])


@pytest.mark.parametrize("method", METHODS)
def test_never_worse_than_x0_when_renders_fail(method: str) -> None:
    def only_x0(x: np.ndarray) -> float:
        if np.array_equal(x, X0):
            return 0.7
        return math.nan if x[0] > 0.6 else math.inf

    r = refine(Recorder(only_x0), X0, KINDS, steps=6, time_budget=None, method=method)
    np.testing.assert_array_equal(r.x, X0)
    assert r.distance == 0.7 and r.history == [0.7] * len(r.history)


def test_bad_arguments_name_what_is_wrong() -> None:
    ev = Recorder()
    with pytest.raises(ValueError, match="kinds: expected 8 entries"):
        refine(ev, X0, KINDS[:7], steps=3, time_budget=None)
    with pytest.raises(ValueError, match=r"kinds\[5\]: a discrete parameter needs a whole number of steps >= 2"):
        refine(ev, X0, KINDS[:5] + [("discrete", 1)] + KINDS[6:], steps=3, time_budget=None)
    with pytest.raises(ValueError, match=r"kinds\[0\]: expected 'continuous' or 'discrete', found 'real'"):
        refine(ev, X0, [("real", None)] + KINDS[1:], steps=3, time_budget=None)
    bad = X0.copy()
    bad[2] = 1.2
    with pytest.raises(ValueError, match=r"x0\[2\] = 1.2: expected a normalized value in 0..1"):
        refine(ev, bad, KINDS, steps=3, time_budget=None)
    bad[2] = math.nan
    with pytest.raises(ValueError, match=r"x0\[2\] = nan"):
        refine(ev, bad, KINDS, steps=3, time_budget=None)
    with pytest.raises(ValueError, match="steps: expected a whole number >= 1"):
        refine(ev, X0, KINDS, steps=0, time_budget=None)
    with pytest.raises(ValueError, match="method: expected one of cma, coordinate"):
        refine(ev, X0, KINDS, steps=3, time_budget=None, method="nelder-mead")
    with pytest.raises(ValueError, match=r"frozen: 8 is not a parameter index \(0..7\)"):
        refine(ev, X0, KINDS, steps=3, time_budget=None, frozen=(8,))
    with pytest.raises(ValueError, match="time_budget"):
        refine(ev, X0, KINDS, steps=3, time_budget=-1.0)
    assert ev.batches == []  # nothing was evaluated
    with pytest.raises(ValueError, match=r"evaluate: expected \d+ distances \(one per vector\), found 1"):
        refine(lambda batch: [0.0], X0, KINDS, steps=3, time_budget=None)


# ------------------------------------------------------------------------------------------ real renders


FACTORY = Path(__file__).resolve().parent.parent / "presets" / "factory"


def _log_mel(audio: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    mono = audio.mean(axis=0)
    mel = librosa.feature.melspectrogram(y=mono, sr=sr, n_fft=2048, hop_length=512, n_mels=64, power=2.0)
    return np.log(mel + 1e-6)


def _kinds() -> list[tuple[str, int | None]]:
    from neuralsynth.synth import parameters

    out: list[tuple[str, int | None]] = []
    for p in parameters():
        if p.scale == "choice":
            out.append(("discrete", len(p.choices)))
        elif p.scale == "int":
            out.append(("discrete", int(p.max - p.min) + 1))
        else:
            out.append(("continuous", None))
    return out


@pytest.mark.parametrize("method", METHODS)
def test_refinement_through_the_instrument_lowers_the_rendered_distance(
    instrument_bundles: dict[str, Path], method: str
) -> None:
    """A factory preset's sound is the target; from a copy with cutoff, resonance and amp sustain moved
    (and Filter Mode, discrete, one step off), refinement on a log-mel L1 distance gets closer."""
    pytest.importorskip("dawdreamer")
    pytest.importorskip("librosa")
    from neuralsynth.inverse.rendering import CandidateRenderer, settings_from_manifest
    from neuralsynth.presets import read_fxp

    render = {"sample_rate": 44100, "block_size": 512, "duration": 1.0, "note_length": 0.6, "settle": 0.2,
              "reset": "prime", "notes": [48], "velocities": [100]}
    settings = settings_from_manifest({"render": render})
    kinds = _kinds()
    target_x = np.array(read_fxp(FACTORY / "bass" / "02 Saw Bass.fxp").params, dtype=np.float64)
    free = [11, 12, 13, 22]  # Filter Mode (3 choices), Filter Cutoff, Filter Resonance, Amp Sustain
    assert kinds[11] == ("discrete", 3) and all(kinds[i] == ("continuous", None) for i in free[1:])
    x0 = target_x.copy()
    x0[12] = np.clip(x0[12] + 0.3, 0, 1)
    x0[13] = np.clip(x0[13] + 0.3, 0, 1)
    x0[22] = np.clip(x0[22] - 0.3, 0, 1)
    x0[11] = 0.5 if target_x[11] != 0.5 else 0.0
    calls: list[int] = []
    with CandidateRenderer(str(instrument_bundles["vst2"]), settings, workers=1) as renderer:
        (target,) = renderer.render([target_x], 48, 100)
        assert target.audio is not None
        target_mel = _log_mel(target.audio, 44100)

        def evaluate(batch: list[np.ndarray]) -> list[float]:
            calls.append(len(batch))
            out = []
            for c in renderer.render(batch, 48, 100):
                if c.audio is None:
                    out.append(math.inf)
                else:
                    out.append(float(np.mean(np.abs(_log_mel(c.audio, 44100) - target_mel))))
            return out

        start = evaluate([snap(x0, kinds)])[0]
        frozen = [i for i in range(36) if i not in free]
        r = refine(evaluate, x0, kinds, steps=6, time_budget=120.0, seed=0, method=method, frozen=frozen,
                   batch_size=6)
    assert start > 0.5  # the perturbation is audible
    assert r.history[0] <= start  # x0 is in the first call
    assert all(b <= a for a, b in zip(r.history, r.history[1:], strict=False))
    assert r.distance < 0.8 * start, (start, r.history)
    np.testing.assert_array_equal(r.x[frozen], x0[frozen])
    assert r.x[11] in (0.0, 0.5, 1.0)
    assert r.evaluations == sum(calls[1:]) and len(r.history) == len(calls) - 1
