"""The same jobs on a Ray cluster: one actor per worker, each holding one DawDreamer engine.

``address="local"`` starts a Ray instance on this machine (and stops it at the end); any other
address is passed to ``ray.init(address=...)`` (e.g. ``127.0.0.1:6379`` or ``ray://host:10001``).
When Ray is already initialised in this process, that connection is used as it is.

Scheduling mirrors the local pool: one job in flight per actor; an actor that dies (a plugin
segfault) is replaced, and so is an actor busy with one job longer than ``job_timeout``; what is
tried again is the same :class:`~.failures.RetryPolicy`'s decision as there. The fault variables of
:mod:`.faults` are forwarded to the actors through ``runtime_env`` environment variables.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from . import faults
from .errors import RenderError
from .failures import DEFAULT_POLICY, FailureKind, Outcome, RetryPolicy
from .jobs import Job, RenderSettings
from .worker import PluginInfo, load_worker, silence_stdout


class _RenderActor:
    """The body of the Ray actor (wrapped with ``ray.remote`` at run time, so Ray stays optional)."""

    def __init__(self, plugin_path: str, settings: RenderSettings, quiet: bool) -> None:
        if quiet:
            silence_stdout()
        self.worker = load_worker(plugin_path, settings)

    def info(self) -> PluginInfo:
        return self.worker.info

    def render(self, job: Job) -> tuple[Any, ...]:
        """``("done", row)`` or ``("failed", FailureKind, reason)``, as :meth:`.worker.RenderWorker.attempt`."""
        return self.worker.attempt(job)


class RayPool:
    """``workers`` Ray actors rendering jobs; the same interface as :class:`.pool.LocalPool`."""

    def __init__(
        self,
        plugin_path: str,
        settings: RenderSettings,
        address: str,
        workers: int | None = None,
        *,
        features: bool | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        job_timeout: float | None = None,
        start_timeout: float = 300.0,
        verbose: bool = False,
    ) -> None:
        self.plugin_path = str(plugin_path)
        self.settings = settings if features is None else settings.with_features(features)
        self.address = address
        self.requested_workers = workers
        self.num_workers = 0
        self.policy = policy
        self.job_timeout = job_timeout
        self.start_timeout = start_timeout
        self.verbose = verbose
        self.info: PluginInfo | None = None
        self.crashes = 0
        self.replaced = 0
        self._ray: Any = None
        self._owns_ray = False
        self._actor_cls: Any = None
        self._actors: list[Any] = []

    def _connect(self) -> Any:
        try:
            import ray
        except ImportError as exc:
            raise RenderError("--ray needs the ray package (pip install 'ray>=2.9')") from exc
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": self.verbose}
            try:
                if self.address == "local":
                    if self.requested_workers:
                        kwargs["num_cpus"] = max(self.requested_workers, os.cpu_count() or 1)
                    ray.init(**kwargs)
                else:
                    ray.init(address=self.address, **kwargs)
            except Exception as exc:
                raise RenderError(f"--ray {self.address}: cannot connect to Ray ({type(exc).__name__}: {exc})") from exc
            self._owns_ray = True
        self._ray = ray
        env = faults.environment()
        options: dict[str, Any] = {"num_cpus": 1, "max_restarts": 0, "max_task_retries": 0}
        if env:
            options["runtime_env"] = {"env_vars": env}
        self._actor_cls = ray.remote(_RenderActor).options(**options)
        return ray

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self.plugin_path, self.settings, not self.verbose)

    def start(self) -> PluginInfo:
        if self.info is not None:
            return self.info
        ray = self._connect()
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.num_workers = max(1, int(self.requested_workers or cpus))
        if self.num_workers > cpus:
            raise RenderError(f"--workers {self.num_workers}: the Ray cluster has only {cpus} CPU(s)")
        self._actors = [self._new_actor() for _ in range(self.num_workers)]
        try:
            infos = ray.get([a.info.remote() for a in self._actors], timeout=self.start_timeout)
        except Exception as exc:
            self.close()
            raise RenderError(f"{self.plugin_path}: the plugin did not load on Ray ({_short(exc)})") from exc
        self.info = infos[0]
        return self.info

    def run(self, jobs: Iterable[Job]) -> Iterator[Outcome]:
        ray = self._ray
        self.start()
        pending: deque[Job] = deque(jobs)
        idle = list(range(len(self._actors)))
        flight: dict[Any, tuple[int, Job, float]] = {}
        while pending or flight:
            while idle and pending:
                slot = idle.pop()
                job = pending.popleft()
                flight[self._actors[slot].render.remote(job)] = (slot, job, time.monotonic())
            timeout = 1.0
            if self.job_timeout is not None:
                now = time.monotonic()
                timeout = min([timeout] + [max(0.0, t0 + self.job_timeout - now) for _, _, t0 in flight.values()])
            ready, _ = ray.wait(list(flight), num_returns=1, timeout=timeout)
            for ref in ready:
                slot, job, _t0 = flight.pop(ref)
                idle.append(slot)
                try:
                    reply = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    outcome = self._lost(slot, job, pending, FailureKind.CRASH, f"worker crashed ({_short(exc)})")
                except Exception as exc:
                    outcome = self.policy.failed(job, FailureKind.ERROR, _short(exc), pending)
                else:
                    if reply[0] == "done":
                        outcome = self.policy.done(job, reply[1])
                    else:
                        outcome = self.policy.failed(job, reply[1], reply[2], pending)
                if outcome is not None:
                    yield outcome
            if self.job_timeout is not None:
                now = time.monotonic()
                for ref, (slot, job, t0) in list(flight.items()):
                    if now - t0 > self.job_timeout:
                        del flight[ref]
                        reason = f"worker timed out after {self.job_timeout:g} s"
                        outcome = self._lost(slot, job, pending, FailureKind.TIMEOUT, reason)
                        idle.append(slot)
                        if outcome is not None:
                            yield outcome

    def _lost(self, slot: int, job: Job, pending: deque[Job], kind: FailureKind, reason: str) -> Outcome | None:
        """The actor of ``slot`` died or was too slow: replace it, and let the policy decide about ``job``."""
        self.crashes += 1
        try:
            self._ray.kill(self._actors[slot], no_restart=True)
        except Exception:
            pass
        self._actors[slot] = self._new_actor()
        self.replaced += 1
        return self.policy.failed(job, kind, reason, pending)

    def close(self) -> None:
        ray = self._ray
        if ray is None:
            return
        for actor in self._actors:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass
        self._actors = []
        if self._owns_ray:
            ray.shutdown()
            self._owns_ray = False
        self._ray = None

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}"[:300]
