"""Fault injection for the tests: make real worker processes crash, hang or render NaN on chosen jobs.

Set by environment variables (comma-separated job indexes), which the local pool's workers inherit and
the Ray backend forwards to its actors (:func:`environment`):

- ``NEURALSYNTH_RENDER_CRASH_JOBS``: the worker kills itself with SIGSEGV on every attempt of
  these jobs (a plugin that always crashes on them);
- ``NEURALSYNTH_RENDER_CRASH_ONCE``: the same on the first attempt only (a transient crash);
- ``NEURALSYNTH_RENDER_NAN_JOBS``: the rendered audio of these jobs is replaced by NaN;
- ``NEURALSYNTH_RENDER_HANG_JOBS``: the worker sleeps for an hour on these jobs (a hung plugin);
- ``NEURALSYNTH_RENDER_DELAY``: seconds to sleep before every job (slows a run down to interrupt it).

The production worker knows nothing of these: a worker process asks :func:`worker_class` once, at
start, which class to run, and gets :class:`FaultyWorker` only when one of the variables is set.
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np

from .jobs import Job
from .worker import RenderWorker

CRASH_ENV = "NEURALSYNTH_RENDER_CRASH_JOBS"
CRASH_ONCE_ENV = "NEURALSYNTH_RENDER_CRASH_ONCE"
NAN_ENV = "NEURALSYNTH_RENDER_NAN_JOBS"
HANG_ENV = "NEURALSYNTH_RENDER_HANG_JOBS"
DELAY_ENV = "NEURALSYNTH_RENDER_DELAY"
FAULT_ENVS = (CRASH_ENV, CRASH_ONCE_ENV, NAN_ENV, HANG_ENV, DELAY_ENV)


def environment() -> dict[str, str]:
    """The fault variables set in this process (to pass on to workers elsewhere)."""
    return {name: os.environ[name] for name in FAULT_ENVS if name in os.environ}


def _jobs(name: str) -> set[int]:
    text = os.environ.get(name, "")
    return {int(x) for x in text.replace(" ", "").split(",") if x}


class FaultyWorker(RenderWorker):
    """A :class:`RenderWorker` that misbehaves on the jobs the environment names."""

    def render_audio(self, job: Job) -> tuple[np.ndarray, list[float]]:
        delay = float(os.environ.get(DELAY_ENV, "0") or 0)
        if delay > 0:
            time.sleep(delay)
        if job.index in _jobs(CRASH_ENV) or (job.attempt == 0 and job.index in _jobs(CRASH_ONCE_ENV)):
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGSEGV)
            time.sleep(10)  # the signal is delivered before this returns
        if job.index in _jobs(HANG_ENV):
            time.sleep(3600)
        audio, params = super().render_audio(job)
        if job.index in _jobs(NAN_ENV):
            audio[:] = np.nan
        return audio, params


def worker_class() -> type[RenderWorker]:
    """:class:`FaultyWorker` when a fault variable is set, else the plain :class:`RenderWorker`."""
    return FaultyWorker if environment() else RenderWorker
