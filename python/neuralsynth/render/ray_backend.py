"""The same jobs on a Ray cluster: one actor per worker, each holding one DawDreamer engine.

``address="local"`` starts a Ray instance on this machine (and stops it at the end); any other
address is passed to ``ray.init(address=...)`` (e.g. ``127.0.0.1:6379`` or ``ray://host:10001``).
When Ray is already initialised in this process, that connection is used as it is.

Scheduling mirrors the local pool: one job in flight per actor; an actor that dies (a plugin
segfault) is replaced and its job retried ``retries`` times, then recorded as failed; an actor
busy with one job longer than ``job_timeout`` is killed and treated the same way. The test hooks of
:mod:`.worker` are forwarded to the actors through ``runtime_env`` environment variables.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from .errors import RenderError
from .jobs import Job, RenderSettings
from .pool import Outcome
from .worker import HOOK_ENVS, JobFailed, PluginInfo, RenderWorker, silence_stdout


class _RenderActor:
    """The body of the Ray actor (wrapped with ``ray.remote`` at run time, so Ray stays optional)."""

    def __init__(self, plugin_path: str, settings: RenderSettings, features: bool, quiet: bool) -> None:
        if quiet:
            silence_stdout()
        self.worker = RenderWorker(plugin_path, settings, features)

    def info(self) -> PluginInfo:
        return self.worker.info

    def render(self, job: Job) -> tuple[str, Any]:
        try:
            return "done", self.worker.render(job)
        except JobFailed as exc:
            return "failed", str(exc)
        except Exception as exc:
            try:
                self.worker._reload()
            except Exception:
                pass
            return "failed", f"{type(exc).__name__}: {exc}"


class RayPool:
    """``workers`` Ray actors rendering jobs; the same interface as :class:`.pool.LocalPool`."""

    def __init__(
        self,
        plugin_path: str,
        settings: RenderSettings,
        address: str,
        workers: int | None = None,
        *,
        features: bool = True,
        retries: int = 1,
        job_timeout: float | None = None,
        start_timeout: float = 300.0,
        verbose: bool = False,
    ) -> None:
        self.plugin_path = str(plugin_path)
        self.settings = settings
        self.address = address
        self.requested_workers = workers
        self.num_workers = 0
        self.features = features
        self.retries = retries
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
        env = {name: os.environ[name] for name in HOOK_ENVS if name in os.environ}
        options: dict[str, Any] = {"num_cpus": 1, "max_restarts": 0, "max_task_retries": 0}
        if env:
            options["runtime_env"] = {"env_vars": env}
        self._actor_cls = ray.remote(_RenderActor).options(**options)
        return ray

    def _new_actor(self) -> Any:
        return self._actor_cls.remote(self.plugin_path, self.settings, self.features, not self.verbose)

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
                try:
                    kind, value = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    yield from self._crashed(slot, job, pending, f"worker crashed ({_short(exc)})")
                    idle.append(slot)
                    continue
                except Exception as exc:
                    yield Outcome(job, error=f"{_short(exc)}", attempts=job.attempt + 1)
                    idle.append(slot)
                    continue
                idle.append(slot)
                if kind == "done":
                    yield Outcome(job, row=value, attempts=job.attempt + 1)
                else:
                    yield Outcome(job, error=value, attempts=job.attempt + 1)
            if self.job_timeout is not None:
                now = time.monotonic()
                for ref, (slot, job, t0) in list(flight.items()):
                    if now - t0 > self.job_timeout:
                        del flight[ref]
                        ray.kill(self._actors[slot], no_restart=True)
                        yield from self._crashed(slot, job, pending, f"worker timed out after {self.job_timeout:g} s")
                        idle.append(slot)

    def _crashed(self, slot: int, job: Job, pending: deque[Job], reason: str) -> Iterator[Outcome]:
        self.crashes += 1
        try:
            self._ray.kill(self._actors[slot], no_restart=True)
        except Exception:
            pass
        self._actors[slot] = self._new_actor()
        self.replaced += 1
        if job.attempt < self.retries:
            pending.appendleft(dataclasses.replace(job, attempt=job.attempt + 1))
        else:
            attempts = job.attempt + 1
            yield Outcome(job, error=f"{reason} on every attempt ({attempts})", attempts=attempts)

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
