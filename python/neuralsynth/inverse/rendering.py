"""Render candidate parameter vectors through the real plugin, in a pool of crash-tolerant worker processes.

Preset inference renders many candidate vectors of one plugin (the network's K guesses, then refinement
batches), with the dataset's exact render settings, so that a candidate's audio is what a dataset row of
the same vector would hold. :class:`CandidateRenderer` starts a :class:`~neuralsynth.render.pool.LocalPool`
once and reuses it for every :meth:`~CandidateRenderer.render` call; a candidate is one
:class:`~neuralsynth.render.jobs.Job` with a ``Preset(params=...)``. The pool's own machinery does the rest:
a plugin that segfaults on a candidate takes only its worker process down, the pool replaces the worker and
the candidate comes back with an ``error``; a render with NaN/Inf samples is reported by the worker the same
way (and the worker reloads the plugin, so the NaN does not leak into the next candidate).

Retries: by default a candidate that crashed its worker is *not* tried again (``RetryPolicy(max_attempts=1)``):
the same parameter vector almost always crashes the plugin again, and a second try costs a worker start
under a time budget. Pass ``policy=neuralsynth.render.failures.DEFAULT_POLICY`` for the dataset renderer's
behaviour (one more attempt after a crash or a timeout).

The job index of candidate ``i`` of a :meth:`~CandidateRenderer.render` call is ``i`` (the fault-injection
variables of :mod:`neuralsynth.render.faults` name candidates by their position in the call).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..plugins.files import param_key
from ..render.failures import FailureKind, Outcome, RetryPolicy
from ..render.jobs import Job, Preset, RenderSettings, make_settings
from ..render.pool import LocalPool
from ..render.worker import PluginInfo, decode_flac

__all__ = ["CandidateRender", "CandidateRenderer", "NO_RETRY", "settings_from_manifest"]

NO_RETRY = RetryPolicy(max_attempts=1)
_RENDER_KEYS = ("sample_rate", "block_size", "duration", "note_length", "settle", "reset")


def settings_from_manifest(manifest: Mapping[str, Any]) -> RenderSettings:
    """The render settings a dataset was made with (its ``manifest.json`` as a dict), with features off.

    Sample rate, block size, duration, note length, settle time and reset mode are the manifest's
    ``render`` values; the dataset's notes and velocities are kept too (a candidate is rendered at the
    note and velocity :meth:`CandidateRenderer.render` is given). A manifest without one of them raises
    ``ValueError`` naming the key.
    """
    if not isinstance(manifest, Mapping):
        raise ValueError(f"manifest: expected a dict (the parsed manifest.json), found {type(manifest).__name__}")
    render = manifest.get("render")
    if not isinstance(render, Mapping):
        raise ValueError("manifest: no 'render' object (is this a neuralsynth-render-dataset manifest.json?)")
    missing = [k for k in _RENDER_KEYS if k not in render]
    if missing:
        raise ValueError(f"manifest: render: missing {', '.join(repr(k) for k in missing)}")
    return make_settings(
        sample_rate=int(render["sample_rate"]),
        block_size=int(render["block_size"]),
        notes=[int(n) for n in render.get("notes") or (60,)],
        velocities=[int(v) for v in render.get("velocities") or (100,)],
        duration=float(render["duration"]),
        note_length=float(render["note_length"]),
        settle=float(render["settle"]),
        reset=str(render["reset"]),
        features=False,
    )


@dataclass
class CandidateRender:
    """One rendered candidate: the vector as given, its audio or why there is none.

    ``audio`` is (channels, samples) float32, decoded from the worker's FLAC (24-bit), i.e. exactly the
    samples a dataset row of this vector holds; ``None`` when ``error`` says what went wrong (the worker
    crashed, the render had NaN/Inf samples, the plugin refused the values, ...).
    """

    params: np.ndarray
    audio: np.ndarray | None
    error: str | None = None
    kind: FailureKind | None = None  # of a failure

    @property
    def ok(self) -> bool:
        return self.audio is not None


class CandidateRenderer:
    """A pool of ``workers`` render processes for ``plugin_path``; use as a context manager.

    The pool starts on ``__enter__`` (or :meth:`start`, or the first :meth:`render`) and is reused until
    :meth:`close`. ``job_timeout``: seconds a single candidate may take before its worker is killed and
    replaced (the candidate then fails with a timeout). ``policy``: see the module docstring.

    A VST3 build of our JUCE plugins has one parameter more than its VST2 build (JUCE's ``Bypass``, last);
    a vector with the VST2 count is accepted and the bypass parameter is left at its default (off).
    """

    def __init__(
        self,
        plugin_path: str,
        settings: RenderSettings,
        workers: int = 1,
        job_timeout: float = 60.0,
        *,
        policy: RetryPolicy = NO_RETRY,
        verbose: bool = False,
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers: expected a whole number >= 1, found {workers!r}")
        if not (isinstance(job_timeout, (int, float)) and math.isfinite(job_timeout) and job_timeout > 0):
            raise ValueError(f"job_timeout: expected a positive number of seconds, found {job_timeout!r}")
        if not isinstance(settings, RenderSettings):
            raise ValueError(f"settings: expected a RenderSettings, found {type(settings).__name__}")
        self.plugin_path = str(plugin_path)
        self.settings = settings.with_features(False)
        self.workers = workers
        self.job_timeout = float(job_timeout)
        self._pool = LocalPool(
            self.plugin_path, self.settings, workers, policy=policy, job_timeout=self.job_timeout, verbose=verbose
        )
        self.info: PluginInfo | None = None
        self.start_seconds: float | None = None  # how long start() took: every worker loaded the plugin
        self._pad: list[float] = []  # values appended to a vector that lacks the trailing Bypass
        self._closed = False
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None
        self._started_at = 0.0

    # ------------------------------------------------------------------ lifetime

    def start(self, wait: bool = True) -> PluginInfo | None:
        """Start the workers (once) and wait until each has loaded the plugin; the plugin's description.

        ``wait=False`` starts them in a background thread and returns None at once: the caller can run
        its network meanwhile; the next :meth:`render` (or ``start()``) waits for the workers and raises
        what the start raised (a plugin that does not load, ...).
        """
        if self._closed:
            raise RuntimeError("CandidateRenderer: used after close()")
        if self.info is None and self._starter is None:
            self._started_at = time.monotonic()
            self._starter = threading.Thread(target=self._start_pool, name="candidate-renderer-start", daemon=True)
            self._starter.start()
        if not wait:
            return self.info
        if self._starter is not None:
            self._starter.join()
            self._starter = None
            if self._start_error is not None:
                error, self._start_error = self._start_error, None
                self._closed = True
                raise error
        assert self.info is not None
        return self.info

    def _start_pool(self) -> None:
        try:
            info = self._pool.start()
        except BaseException as exc:  # re-raised in the caller's thread by start()
            self._start_error = exc
            return
        params = info.parameters
        if params and param_key(str(params[-1]["name"])) == "bypass":
            self._pad = [float(params[-1].get("default_value", 0.0))]
        self.start_seconds = time.monotonic() - self._started_at
        self.info = info

    @property
    def num_params(self) -> int:
        """The plugin's parameter count (starts the pool)."""
        info = self.start()
        assert info is not None
        return len(info.parameters)

    @property
    def crashes(self) -> int:
        """Worker processes lost while rendering (crashes and timeouts), since the start."""
        return int(self._pool.crashes)

    def close(self) -> None:
        """Stop the workers (waits for a background start to finish first)."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        self._pool.close()
        self._closed = True

    def __enter__(self) -> CandidateRenderer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ rendering

    def _checked(self, vectors: Sequence[np.ndarray]) -> list[np.ndarray]:
        n = self.num_params
        accepted = {n} | ({n - len(self._pad)} if self._pad else set())
        assert self.info is not None
        names = [str(p["name"]) for p in self.info.parameters]
        out = []
        for c, vector in enumerate(vectors):
            try:
                v = np.asarray(vector, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"candidate {c}: expected a vector of numbers, found {type(vector).__name__}"
                ) from None
            if v.ndim != 1 or v.size not in accepted:
                want = " or ".join(str(k) for k in sorted(accepted))
                raise ValueError(
                    f"candidate {c}: expected {want} parameter values ({self.plugin_path}), found shape {v.shape}"
                )
            bad = np.flatnonzero(~(np.isfinite(v) & (v >= 0.0) & (v <= 1.0)))
            if bad.size:
                i = int(bad[0])
                raise ValueError(
                    f"candidate {c}: parameter {i} ({names[i]!r}) = {float(v[i])!r}: "
                    "expected a normalized value in 0..1"
                )
            out.append(v)
        return out

    def render(self, vectors: Sequence[np.ndarray], note: int, velocity: int) -> list[CandidateRender]:
        """Render every vector at ``note``/``velocity``; one :class:`CandidateRender` each, in input order.

        Bad input (a vector of the wrong length, a value outside 0..1 or NaN, a note outside 0..127, a
        velocity outside 1..127) raises ``ValueError`` before anything is rendered. A candidate that crashes
        the plugin, times out or renders NaN comes back with its ``error``; the others render normally.
        """
        if isinstance(note, bool) or not isinstance(note, (int, np.integer)) or not 0 <= int(note) <= 127:
            raise ValueError(f"note: expected a MIDI note 0..127, found {note!r}")
        if isinstance(velocity, bool) or not isinstance(velocity, (int, np.integer)) or not 1 <= int(velocity) <= 127:
            raise ValueError(f"velocity: expected a MIDI velocity 1..127, found {velocity!r}")
        checked = self._checked(vectors)
        n = self.num_params
        jobs = []
        for i, v in enumerate(checked):
            values = [float(x) for x in v] + (self._pad if v.size < n else [])
            preset = Preset(name=f"candidate-{i}", category="candidate", params=tuple(values))
            jobs.append(Job(index=i, id=f"{i:06d}-candidate-n{note:03d}-v{velocity:03d}", preset=preset,
                            note=int(note), velocity=int(velocity)))
        outcomes: dict[int, Outcome] = {}
        for outcome in self._pool.run(jobs):
            outcomes[outcome.job.index] = outcome
        results = []
        for i, v in enumerate(checked):
            outcome = outcomes.get(i)
            if outcome is None:  # cannot happen: the pool returns one outcome per job
                results.append(CandidateRender(v, None, "the pool returned no result", FailureKind.ERROR))
            elif outcome.row is None:
                results.append(CandidateRender(v, None, outcome.error or "failed", outcome.kind))
            else:
                audio, rate = decode_flac(outcome.row["audio"]["bytes"])
                if rate != self.settings.sample_rate:  # cannot happen: the worker renders at the settings' rate
                    results.append(CandidateRender(v, None, f"rendered at {rate} Hz", FailureKind.ERROR))
                else:
                    results.append(CandidateRender(v, audio))
        return results
