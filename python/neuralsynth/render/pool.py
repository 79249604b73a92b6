"""A local pool of render worker processes, each with its own plugin, and a scheduler that survives crashes.

Each worker is a fresh Python process (``python -m neuralsynth.render.worker``, so nothing of the
parent, the caller's main module included, is imported or inherited) talking over its own socket
pair; the scheduler hands out one job at a time to each idle worker and waits on the sockets and the
process descriptors together, so a worker that dies (a plugin segfault, the OOM killer) is noticed
at once and replaced by a fresh process. A worker busy for longer than ``job_timeout`` is killed and
replaced the same way. Whether a failed job is tried again (with ``attempt + 1``, on another worker)
is the :class:`~.failures.RetryPolicy`'s decision, the same as on Ray: by default a crash or a
timeout gets one more attempt, and failures a worker reports itself (a preset that does not load,
NaN audio) are final.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from .errors import RenderError
from .failures import DEFAULT_POLICY, FailureKind, Outcome, RetryPolicy
from .jobs import Job, RenderSettings
from .worker import PluginInfo

DEFAULT_START_TIMEOUT = 120.0
MAX_START_FAILURES = 3


def _exit_reason(exitcode: int | None) -> str:
    if exitcode is None:
        return "worker stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"worker crashed ({name})"
    return f"worker exited with status {exitcode}"


class WorkerProcess:
    """A ``python -m neuralsynth.render.worker`` child and its end of the socket pair."""

    def __init__(self, plugin_path: str, settings: RenderSettings, verbose: bool = False) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "neuralsynth.render.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                # DawDreamer and plugins chat on stdout and stderr; failures come back as messages.
                stdout=None if verbose else subprocess.DEVNULL,
                stderr=None if verbose else subprocess.DEVNULL,
                env=_worker_env(),
            )
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send((plugin_path, settings))
        try:  # a descriptor that becomes readable when the process ends (Linux >= 5.3)
            self.sentinel: int | None = os.pidfd_open(self.popen.pid)
        except (AttributeError, OSError):
            self.sentinel = None

    def waitables(self) -> list[Any]:
        return [self.conn] if self.sentinel is None else [self.conn, self.sentinel]

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def stop(self, kill: bool = False) -> None:
        if kill and self.is_alive():
            self.popen.kill()
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        self.conn.close()
        if self.sentinel is not None:
            os.close(self.sentinel)
            self.sentinel = None


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    # One thread per worker: the workers are the parallelism.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env.setdefault(name, "1")
    # Make sure the child imports this very package (it may run from a source tree).
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


class _Slot:
    def __init__(self, process: WorkerProcess) -> None:
        self.process = process
        self.conn = process.conn
        self.ready = False
        self.job: Job | None = None
        self.started = time.monotonic()
        self.job_started = 0.0
        self.start_failures = 0


class LocalPool:
    """``workers`` processes rendering jobs; use as a context manager, ``start()`` then ``run(jobs)``.

    ``features`` overrides the settings' features as :class:`~.worker.RenderWorker` takes it.
    """

    def __init__(
        self,
        plugin_path: str,
        settings: RenderSettings,
        workers: int | None = None,
        *,
        features: bool | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        job_timeout: float | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        verbose: bool = False,
    ) -> None:
        self.plugin_path = str(plugin_path)
        self.settings = settings if features is None else settings.with_features(features)
        self.num_workers = max(1, int(workers or os.cpu_count() or 1))
        self.policy = policy
        self.job_timeout = job_timeout
        self.start_timeout = start_timeout
        self.verbose = verbose
        self._slots: list[_Slot] = []
        self.info: PluginInfo | None = None
        self.crashes = 0
        self.replaced = 0

    # ------------------------------------------------------------------ workers

    def _spawn(self) -> _Slot:
        return _Slot(WorkerProcess(self.plugin_path, self.settings, self.verbose))

    def _replace(self, index: int, start_failed: bool = False) -> None:
        old = self._slots[index]
        old.process.stop(kill=True)
        failures = old.start_failures + 1 if start_failed else 0
        if failures >= MAX_START_FAILURES:
            raise RenderError(
                f"{self.plugin_path}: a replacement worker failed to start {failures} times in a row; giving up"
            )
        new = self._spawn()
        new.start_failures = failures
        self._slots[index] = new
        self.replaced += 1

    def start(self) -> PluginInfo:
        """Start the workers and wait until every one has loaded the plugin; return the plugin's description."""
        if self._slots:
            assert self.info is not None
            return self.info
        self._slots = [self._spawn() for _ in range(self.num_workers)]
        deadline = time.monotonic() + self.start_timeout
        while not all(s.ready for s in self._slots):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.close()
                raise RenderError(
                    f"{self.plugin_path}: the workers did not load the plugin within {self.start_timeout:.0f} s"
                )
            waiting = [s for s in self._slots if not s.ready]
            wait([w for s in waiting for w in s.process.waitables()], timeout=min(remaining, 1.0))
            for slot in waiting:
                message = self._poll(slot)
                if message is None:
                    if not slot.process.is_alive():
                        reason = _exit_reason(slot.process.exitcode)
                        self.close()
                        raise RenderError(f"{self.plugin_path}: the plugin did not load ({reason} while loading it)")
                    continue
                if message[0] == "ready":
                    slot.ready = True
                    self.info = self.info or message[1]
                elif message[0] == "error":
                    self.close()
                    raise RenderError(f"{self.plugin_path}: the plugin did not load: {message[1]}")
        assert self.info is not None
        return self.info

    @staticmethod
    def _poll(slot: _Slot) -> tuple | None:
        try:
            if slot.conn.poll():
                return slot.conn.recv()
        except (EOFError, OSError):
            return None
        return None

    # ------------------------------------------------------------------ scheduling

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        """Render ``jobs``; yield one Outcome per job as it finishes (in completion order)."""
        self.start()
        pending: deque[Job] = deque(jobs)
        while pending or any(s.job is not None for s in self._slots):
            if not self._slots:
                raise RenderError("every render worker died")
            for slot in self._slots:
                if slot.ready and slot.job is None and pending:
                    job = pending.popleft()
                    try:
                        slot.conn.send(job)
                    except (BrokenPipeError, OSError):
                        pending.appendleft(job)
                        continue
                    slot.job = job
                    slot.job_started = time.monotonic()
            timeout = 1.0
            if self.job_timeout is not None:
                now = time.monotonic()
                for slot in self._slots:
                    if slot.job is not None:
                        timeout = min(timeout, max(0.0, slot.job_started + self.job_timeout - now))
            wait([w for s in self._slots for w in s.process.waitables()], timeout=timeout)
            for index in range(len(self._slots)):
                yield from self._service(index, pending)

    def _service(self, index: int, pending: deque[Job]) -> Iterator[Outcome]:
        slot = self._slots[index]
        while True:
            message = self._poll(slot)
            if message is None:
                break
            kind = message[0]
            if kind == "ready":
                slot.ready = True
                slot.start_failures = 0
            elif kind == "error":  # a replacement could not load the plugin
                self._replace(index, start_failed=True)
                return
            elif kind in ("done", "failed"):
                job = slot.job
                slot.job = None
                if job is None or job.index != message[1]:
                    continue  # cannot happen: one job in flight per worker
                if kind == "done":
                    outcome = self.policy.done(job, message[2])
                else:
                    outcome = self.policy.failed(job, message[2], message[3], pending)
                if outcome is not None:
                    yield outcome
        timed_out = (
            self.job_timeout is not None
            and slot.job is not None
            and time.monotonic() - slot.job_started > self.job_timeout
        )
        if not slot.ready and slot.process.is_alive() and time.monotonic() - slot.started > self.start_timeout:
            self._replace(index, start_failed=True)  # a replacement stuck loading the plugin
            return
        if slot.process.is_alive() and not timed_out:
            return
        if timed_out:
            kind, reason = FailureKind.TIMEOUT, f"worker timed out after {self.job_timeout:g} s"
        else:
            kind, reason = FailureKind.CRASH, _exit_reason(slot.process.exitcode)
        job = slot.job
        was_ready = slot.ready
        self._replace(index, start_failed=not was_ready)
        if job is None:
            return
        self.crashes += 1
        outcome = self.policy.failed(job, kind, reason, pending)
        if outcome is not None:
            yield outcome

    # ------------------------------------------------------------------ shutdown

    def close(self) -> None:
        for slot in self._slots:
            try:
                slot.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 3.0
        for slot in self._slots:
            try:
                slot.process.popen.wait(timeout=max(0.01, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            slot.process.stop(kill=True)
        self._slots = []

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
