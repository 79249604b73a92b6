"""``render_dataset``: plan the jobs, skip complete shards, render the rest on a backend, write shards and manifest."""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..plugins.files import PluginFile
from .errors import RenderError, RenderOptionError
from .failures import DEFAULT_POLICY, Outcome, RetryPolicy, failure_record
from .jobs import (
    DEFAULT_SHARD_SIZE,
    Job,
    Preset,
    RenderSettings,
    find_presets,
    make_jobs,
    parse_fixed,
    random_presets,
    shard_ranges,
)
from .manifest import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    now_iso,
    read_manifest,
    software_versions,
    write_json_atomic,
)
from .pool import LocalPool
from .progress import RenderProgress
from .schema import column_docs
from .shards import (
    SHARD_GLOB,
    ShardInfo,
    file_sha256,
    jobs_hash,
    read_shard_info,
    remove_temporaries,
    shard_name,
    verify_shard,
    write_shard,
)
from .worker import FLAC_SUBTYPE, PluginInfo

DEFAULT_JOB_TIMEOUT = 120.0
LOCK_NAME = ".render.lock"


class Backend(Protocol):
    crashes: int

    def start(self) -> PluginInfo: ...

    def run(self, jobs: list[Job]) -> Iterator[Outcome]: ...

    def close(self) -> None: ...


@dataclass
class RenderRequest:
    """Everything ``neuralsynth render`` was asked to do.

    ``features=False`` renders without feature columns; otherwise the features are ``settings.features``
    (the defaults when the settings have none). After construction ``settings`` holds the choice.
    """

    plugin: str
    out: Path
    settings: RenderSettings
    presets_dir: str | None = None
    random_count: int | None = None
    seed: int | None = None
    fixed: list[str] = field(default_factory=list)
    workers: int | None = None
    ray_address: str | None = None
    shard_size: int = DEFAULT_SHARD_SIZE
    resume: bool = True
    features: bool = True
    job_timeout: float | None = DEFAULT_JOB_TIMEOUT
    progress: bool | None = None  # None: when stderr is a terminal
    verbose: bool = False
    policy: RetryPolicy = DEFAULT_POLICY

    def __post_init__(self) -> None:
        self.settings = self.settings.with_features(self.features)


@dataclass
class RenderSummary:
    out: Path
    jobs: int
    rendered: int
    failed: int
    shards: int
    shards_reused: int
    shards_written: int
    renders: int  # jobs rendered by this run (not counting reused shards)
    seconds: float  # the whole call
    render_seconds: float  # from the first job handed out to the last result
    crashes: int
    manifest: dict[str, Any]

    @property
    def renders_per_second(self) -> float:
        return self.renders / self.render_seconds if self.render_seconds > 0 else 0.0


# ---------------------------------------------------------------------------- checks


def check_plugin(plugin: str) -> PluginFile:
    """A VST2 .so or a VST3 bundle (resolved), or a clear error."""
    path = Path(plugin)
    if not path.exists():
        raise RenderError(f"{plugin}: no such plugin file or bundle")
    fmt = PluginFile.checked(path).format
    if fmt not in ("vst2", "vst3"):
        raise RenderError(f"{plugin}: render takes a VST2 .so or a VST3 bundle, not a {fmt.upper()} plugin")
    return PluginFile(path.resolve(), fmt)


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise RenderError(f"--out {out}: is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"--out {out}: cannot create the folder ({exc.strerror})") from exc
    if not os.access(out, os.W_OK):
        raise RenderError(f"--out {out}: the folder is not writable")


@contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    """One render at a time per output folder."""
    handle = open(out / LOCK_NAME, "w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RenderError(f"--out {out}: another render is writing to this folder") from None
        yield
    finally:
        handle.close()


# ---------------------------------------------------------------------------- backend


def make_backend(req: RenderRequest, plugin_path: str) -> Any:
    options: dict[str, Any] = {"policy": req.policy, "job_timeout": req.job_timeout, "verbose": req.verbose}
    if req.ray_address:
        from .ray_backend import RayPool

        return RayPool(plugin_path, req.settings, req.ray_address, workers=req.workers, **options)
    return LocalPool(plugin_path, req.settings, req.workers, **options)


# ---------------------------------------------------------------------------- manifest


def _digest(doc: Any) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Plan:
    info: PluginInfo
    plugin_sha256: str
    source: dict[str, Any]
    jobs: list[Job]
    ranges: list[range]
    context: dict[str, Any]
    identity: dict[str, Any]
    shard_hashes: list[str]
    plugin_extra: dict[str, Any] = field(default_factory=dict)


def build_manifest(
    req: RenderRequest,
    plan: Plan,
    done: dict[int, ShardInfo],
    complete: bool,
    created: str,
    stats: dict[str, Any],
) -> dict[str, Any]:
    shards = []
    failures: list[dict[str, Any]] = []
    rendered = 0
    for k, rng in enumerate(plan.ranges):
        info = done.get(k)
        if info is None:
            shards.append({"file": shard_name(k), "first_job": rng.start, "last_job": rng.stop - 1, "complete": False})
            continue
        rendered += info.rows
        failures.extend(info.failures)
        shards.append(
            {
                "file": shard_name(k),
                "first_job": rng.start,
                "last_job": rng.stop - 1,
                "complete": True,
                "rows": info.rows,
                "failed": len(info.failures),
                "jobs_hash": info.jobs_hash,
            }
        )
    pending = sum(len(r) for k, r in enumerate(plan.ranges) if k not in done)
    info = plan.info
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "complete": complete,
        "created": created,
        "updated": now_iso(),
        "plugin": {
            "path": info.path,
            "name": info.name,
            "format": info.format,
            "sha256": plan.plugin_sha256,
            "num_outputs": info.num_outputs,
            "num_parameters": len(info.parameters),
            **plan.plugin_extra,
        },
        "parameters": info.parameters,
        "source": plan.source,
        "render": req.settings.to_dict(),
        "audio": {
            "column": "audio",
            "codec": "flac",
            "subtype": FLAC_SUBTYPE,
            "channels": info.num_outputs,
            "sample_rate": req.settings.sample_rate,
            "num_samples": req.settings.num_samples,
            "note": "the plugin's own output channel count is kept (mono stays mono); values beyond +-1 clip",
        },
        "features": req.settings.features_dict(),
        "shard_size": req.shard_size,
        "counts": {"jobs": len(plan.jobs), "rendered": rendered, "failed": len(failures), "pending": pending},
        "failures": sorted(failures, key=lambda f: f["job_index"]),
        "shards": shards,
        "columns": column_docs(req.settings.features is not None),
        "identity": plan.identity,
        "identity_sha256": _digest(plan.identity),
        "last_run": stats,
        "versions": software_versions(),
    }


# ---------------------------------------------------------------------------- planning


def _plan(req: RenderRequest, plugin: PluginFile, info: PluginInfo, presets: list[Preset] | None) -> Plan:
    source: dict[str, Any]
    preset_hashes: dict[str, str] = {}
    if presets is not None:
        assert req.presets_dir is not None
        for p in presets:
            assert p.path is not None
            preset_hashes[p.path] = file_sha256(p.path)
        source = {"kind": "presets", "folder": str(Path(req.presets_dir).resolve()), "num_presets": len(presets)}
    else:
        assert req.random_count is not None and req.seed is not None
        fixed = parse_fixed(req.fixed, info.parameter_names)
        presets = random_presets(req.random_count, req.seed, len(info.parameters), fixed)
        source = {
            "kind": "random",
            "count": req.random_count,
            "seed": req.seed,
            "fixed": {info.parameter_names[i]: v for i, v in sorted(fixed.items())},
            "method": "vector i = numpy.random.default_rng([seed, i]).random(num_parameters), then the fixed values",
        }
    jobs = make_jobs(presets, req.settings)
    ranges = shard_ranges(len(jobs), req.shard_size)
    assert plugin.binary is not None  # check_plugin made sure
    plugin_sha = file_sha256(plugin.binary)
    context = {
        "format_version": FORMAT_VERSION,
        "plugin_sha256": plugin_sha,
        "plugin_format": plugin.format,
        "render": req.settings.to_dict(),
        "features": req.settings.features_dict(),
        "audio": FLAC_SUBTYPE,
    }
    # What must match for a rerun to continue a folder: the source may grow (more presets, a larger
    # --random count); a shard is reused only if its own jobs are unchanged.
    identity_source = {k: v for k, v in source.items() if k not in ("count", "num_presets")}
    identity = {"context": context, "source": identity_source, "shard_size": req.shard_size}
    hashes = [jobs_hash(jobs[r.start : r.stop], context, preset_hashes) for r in ranges]
    extra: dict[str, Any] = {}
    if plugin.format == "vst2":
        try:
            from ..presets.vst2_probe import vst2_info

            probe = vst2_info(plugin.path)
            keys = ("name", "vendor", "product", "unique_id", "unique_id_text", "version", "is_synth", "program_chunks")
            extra = {"vst2": {k: probe.get(k) for k in keys}}
            if probe.get("name"):
                info = dataclasses.replace(info, name=str(probe["name"]))
        except Exception as exc:  # informative only
            extra = {"vst2": {"error": str(exc)}}
    return Plan(info, plugin_sha, source, jobs, ranges, context, identity, hashes, extra)


def _describe_mismatch(old: dict[str, Any], new: dict[str, Any]) -> str:
    diffs = []
    for key in ("source", "shard_size"):
        if old.get(key) != new.get(key):
            diffs.append(key)
    old_ctx, new_ctx = old.get("context", {}), new.get("context", {})
    for key in sorted(set(old_ctx) | set(new_ctx)):
        if old_ctx.get(key) != new_ctx.get(key):
            diffs.append({"plugin_sha256": "plugin binary", "render": "render settings"}.get(key, key))
    return ", ".join(diffs) or "settings"


def _existing_shards(out: Path) -> list[Path]:
    return sorted(out.glob(SHARD_GLOB))


def _complete_shards(out: Path, plan: Plan) -> dict[int, ShardInfo]:
    done: dict[int, ShardInfo] = {}
    for k, rng in enumerate(plan.ranges):
        path = out / shard_name(k)
        if not path.exists():
            continue
        info = read_shard_info(path)
        if info is None:
            continue
        failed = {int(f["job_index"]) for f in info.failures}
        expected = [plan.jobs[i].id for i in rng if i not in failed]
        verified = verify_shard(path, plan.shard_hashes[k], expected)
        if verified is not None:
            done[k] = verified
    return done


# ---------------------------------------------------------------------------- the run


def render_dataset(req: RenderRequest, log: Callable[[str], None] | None = None) -> RenderSummary:
    """Render the dataset ``req`` describes into ``req.out``; resumable, see the package docstring."""
    say = log or (lambda _msg: None)
    started = time.monotonic()
    if (req.presets_dir is None) == (req.random_count is None):
        raise RenderOptionError("give --presets DIR or --random N (one of them)")
    if req.random_count is not None and req.seed is None:
        raise RenderOptionError("--random needs --seed S (the dataset must be reproducible)")
    if req.shard_size < 1:
        raise RenderOptionError(f"--shard-size must be at least 1, got {req.shard_size}")
    if req.workers is not None and req.workers < 1:
        raise RenderOptionError(f"--workers must be at least 1, got {req.workers}")
    plugin = check_plugin(req.plugin)
    presets = find_presets(req.presets_dir) if req.presets_dir is not None else None
    if presets is not None and plugin.format == "vst3":
        say("note: VST3 plugins take no .fxp directly; presets go through neuralsynth.presets")
    out = Path(req.out)
    check_out(out)

    with folder_lock(out):
        if not req.resume:
            removed = [p for p in _existing_shards(out)]
            for path in removed:
                path.unlink()
            if (out / MANIFEST_NAME).exists():
                (out / MANIFEST_NAME).unlink()
            if removed:
                say(f"--no-resume: removed {len(removed)} shard(s) of an earlier run")
        remove_temporaries(out)

        backend = make_backend(req, str(plugin.path))
        try:
            info = backend.start()
            plan = _plan(req, plugin, info, presets)
            old = read_manifest(out)
            if old is not None and old.get("identity") != plan.identity:
                differs = _describe_mismatch(old.get("identity", {}), plan.identity)
                raise RenderError(
                    f"--out {out} holds a dataset made with other {differs}; "
                    "pass --no-resume to replace it, or choose another folder"
                )
            created = old.get("created", now_iso()) if old is not None else now_iso()
            done = _complete_shards(out, plan) if req.resume else {}
            stale = [p for p in _existing_shards(out) if _shard_index(p) >= len(plan.ranges)]
            for path in stale:
                path.unlink()
            if stale:
                say(f"removed {len(stale)} shard(s) beyond this dataset's {len(plan.ranges)}")
            if done:
                say(f"resuming: {len(done)} of {len(plan.ranges)} shard(s) already complete")
            todo = [k for k in range(len(plan.ranges)) if k not in done]
            jobs = [plan.jobs[i] for k in todo for i in plan.ranges[k]]
            stats: dict[str, Any] = {
                "started": now_iso(),
                "workers": getattr(backend, "num_workers", None),
                "backend": "ray" if req.ray_address else "local",
            }
            write_json_atomic(out / MANIFEST_NAME, build_manifest(req, plan, done, False, created, stats))

            written = 0
            pending: dict[int, list[Outcome]] = {k: [] for k in todo}
            shard_of = {i: k for k in todo for i in plan.ranges[k]}
            run_started = time.monotonic()
            with RenderProgress(len(jobs), enabled=req.progress) as bar:
                for outcome in backend.run(jobs):
                    bar.advance(outcome.ok)
                    k = shard_of[outcome.job.index]
                    pending[k].append(outcome)
                    if not outcome.ok:
                        bar.note(f"failed: job {outcome.job.index} ({outcome.job.preset.name}): {outcome.error}")
                    if len(pending[k]) == len(plan.ranges[k]):
                        outcomes = pending.pop(k)
                        rows = [o.row for o in outcomes if o.row is not None]
                        failures = sorted(
                            (failure_record(o) for o in outcomes if not o.ok), key=lambda f: f["job_index"]
                        )
                        rng = plan.ranges[k]
                        shard = ShardInfo(k, rng.start, rng.stop - 1, plan.shard_hashes[k], len(rows), failures)
                        write_shard(out, shard, rows, req.settings.features is not None)
                        done[k] = shard
                        written += 1
                        stats["renders"] = sum(len(plan.ranges[j]) for j in todo if j in done)
                        write_json_atomic(out / MANIFEST_NAME, build_manifest(req, plan, done, False, created, stats))
            run_seconds = time.monotonic() - run_started
            crashes = int(getattr(backend, "crashes", 0))
        finally:
            backend.close()

        stats.update(
            finished=now_iso(),
            renders=len(jobs),
            seconds=round(run_seconds, 3),
            renders_per_second=round(len(jobs) / run_seconds, 3) if run_seconds > 0 else None,
            worker_crashes=crashes,
        )
        # complete only if every shard made it (a job the backend never returned leaves its shard pending)
        manifest = build_manifest(req, plan, done, len(done) == len(plan.ranges), created, stats)
        write_json_atomic(out / MANIFEST_NAME, manifest)
    counts = manifest["counts"]
    return RenderSummary(
        out=out,
        jobs=counts["jobs"],
        rendered=counts["rendered"],
        failed=counts["failed"],
        shards=len(plan.ranges),
        shards_reused=len(plan.ranges) - len(todo),
        shards_written=written,
        renders=len(jobs),
        seconds=time.monotonic() - started,
        render_seconds=run_seconds,
        crashes=crashes,
        manifest=manifest,
    )


def _shard_index(path: Path) -> int:
    try:
        return int(path.name[len("shard-") : -len(".parquet")])
    except ValueError:
        return -1
