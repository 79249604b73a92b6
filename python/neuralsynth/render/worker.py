"""One DawDreamer engine and one plugin instance, loaded once and reused for many jobs.

Per job: restore the parameter values the plugin had when it was loaded, apply the preset (an fxp
file or a normalized vector), read every parameter back, then (``reset="prime"``, the default) render
``settle`` seconds of silence and the job's note once, discarded, and again ``settle`` seconds of
silence and the note, kept. Silence alone does not make a job independent of the one before it:
Nekobi, for one, smooths Tuning and Volume per voice only while a voice sounds and remembers the
previous note for its accent, so the first milliseconds of a note depend on the previous job. After
the priming note that state comes from the job itself; rows then do not depend on which worker
rendered what before (tests/test_render.py checks B-after-A == B in a fresh process).
``reset="reload"`` makes a new plugin instance per job instead; ``reset="settle"`` only renders silence.

The audio is encoded as FLAC (24-bit integer PCM, the plugin's own channel count) and the features
are computed from the decoded FLAC, i.e. from exactly the samples a reader of the dataset gets.

Test hooks (environment variables, comma-separated job indexes):

- ``NEURALSYNTH_RENDER_CRASH_JOBS``: the worker kills itself with SIGSEGV on every attempt of
  these jobs (a plugin that always crashes on them);
- ``NEURALSYNTH_RENDER_CRASH_ONCE``: the same on the first attempt only (a transient crash);
- ``NEURALSYNTH_RENDER_NAN_JOBS``: the rendered audio of these jobs is replaced by NaN;
- ``NEURALSYNTH_RENDER_HANG_JOBS``: the worker sleeps for an hour on these jobs (a hung plugin);
- ``NEURALSYNTH_RENDER_DELAY``: seconds to sleep before every job (slows a run down to interrupt it).
"""

from __future__ import annotations

import io
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from .jobs import Job, RenderSettings

CRASH_ENV = "NEURALSYNTH_RENDER_CRASH_JOBS"
CRASH_ONCE_ENV = "NEURALSYNTH_RENDER_CRASH_ONCE"
NAN_ENV = "NEURALSYNTH_RENDER_NAN_JOBS"
HANG_ENV = "NEURALSYNTH_RENDER_HANG_JOBS"
DELAY_ENV = "NEURALSYNTH_RENDER_DELAY"
HOOK_ENVS = (CRASH_ENV, CRASH_ONCE_ENV, NAN_ENV, HANG_ENV, DELAY_ENV)

FLAC_SUBTYPE = "PCM_24"


class JobFailed(Exception):
    """A job could not be rendered (the preset did not load, the audio is not finite, ...)."""


@dataclass(frozen=True)
class PluginInfo:
    path: str
    name: str
    format: str
    num_outputs: int
    parameters: list[dict[str, Any]]

    @property
    def parameter_names(self) -> list[str]:
        return [p["name"] for p in self.parameters]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "name": self.name,
            "format": self.format,
            "num_outputs": self.num_outputs,
            "num_parameters": len(self.parameters),
            "parameters": self.parameters,
        }


def plugin_format(path: str | Path) -> str:
    return "vst3" if Path(path).suffix.lower() == ".vst3" else "vst2"


def _hook_jobs(name: str) -> set[int]:
    text = os.environ.get(name, "")
    return {int(x) for x in text.replace(" ", "").split(",") if x}


def _test_hooks(job: Job) -> None:
    delay = float(os.environ.get(DELAY_ENV, "0") or 0)
    if delay > 0:
        time.sleep(delay)
    if job.index in _hook_jobs(CRASH_ENV) or (job.attempt == 0 and job.index in _hook_jobs(CRASH_ONCE_ENV)):
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(10)  # the signal is delivered before this returns
    if job.index in _hook_jobs(HANG_ENV):
        time.sleep(3600)


def _describe_parameters(processor: Any) -> list[dict[str, Any]]:
    """Name, range and default of each parameter (DawDreamer's description, trimmed to what a dataset needs)."""
    out = []
    for d in processor.get_parameters_description():
        entry = {
            "index": int(d["index"]),
            "name": str(d["name"]),
            "label": str(d.get("label", "")),
            "min": d.get("min"),
            "max": d.get("max"),
            "num_steps": int(d.get("numSteps", 0)),
            "is_discrete": bool(d.get("isDiscrete", False)),
            "is_boolean": bool(d.get("isBoolean", False)),
            "default_value": float(d.get("defaultValue", 0.0)),
            "value_strings": list(d.get("valueStrings", [])),
        }
        out.append(entry)
    out.sort(key=lambda e: e["index"])
    return out


def encode_flac(audio: np.ndarray, sample_rate: int) -> bytes:
    """(channels, samples) float32 -> FLAC bytes, 24-bit PCM (values beyond +-1 clip)."""
    buf = io.BytesIO()
    soundfile.write(buf, np.ascontiguousarray(audio.T), sample_rate, format="FLAC", subtype=FLAC_SUBTYPE)
    return buf.getvalue()


def decode_flac(data: bytes) -> tuple[np.ndarray, int]:
    """FLAC bytes -> ((channels, samples) float32, sample rate)."""
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return np.ascontiguousarray(audio.T), int(rate)


def feature_columns(audio: np.ndarray, sample_rate: int) -> dict[str, np.ndarray]:
    """The feature columns of one row from (channels, samples) audio (channels are averaged), float32 arrays."""
    from ..features import FEATURE_KEYS, compute_features

    feats = compute_features(audio, sample_rate)
    return {key: np.ascontiguousarray(feats[key], dtype=np.float32) for key in FEATURE_KEYS}


class RenderWorker:
    """A loaded plugin that renders jobs into dataset rows."""

    def __init__(self, plugin_path: str, settings: RenderSettings, features: bool = True) -> None:
        self.plugin_path = str(plugin_path)
        self.settings = settings
        self.features = features
        self._load()
        self.info = PluginInfo(
            path=self.plugin_path,
            name=Path(plugin_path).stem,
            format=plugin_format(plugin_path),
            num_outputs=int(self.processor.get_num_output_channels()),
            parameters=_describe_parameters(self.processor),
        )
        if self.info.num_outputs < 1:
            raise RuntimeError(f"{plugin_path}: the plugin has no audio outputs")
        if features:  # import librosa and build the filter banks now, not in the first job
            feature_columns(np.zeros((1, settings.sample_rate // 10), np.float32), settings.sample_rate)

    def _load(self) -> None:
        import dawdreamer

        self.engine = dawdreamer.RenderEngine(self.settings.sample_rate, self.settings.block_size)
        self.processor = self.engine.make_plugin_processor("synth", self.plugin_path)
        self.engine.load_graph([(self.processor, [])])
        self._used = False
        self.num_params = int(self.processor.get_plugin_parameter_size())
        self.initial_params = [float(self.processor.get_parameter(i)) for i in range(self.num_params)]

    def _reload(self) -> None:
        """A fresh plugin instance, after a job that may have left the old one in a bad state."""
        self._load()

    def _apply(self, job: Job) -> list[float]:
        proc = self.processor
        for i, value in enumerate(self.initial_params):
            proc.set_parameter(i, value)
        preset = job.preset
        if preset.params is not None:
            if len(preset.params) != self.num_params:
                raise JobFailed(f"the preset has {len(preset.params)} parameters, the plugin {self.num_params}")
            for i, value in enumerate(preset.params):
                proc.set_parameter(i, float(value))
        elif preset.path is not None:
            from ..presets import apply_preset_dawdreamer

            try:
                ok = apply_preset_dawdreamer(proc, preset.path, self.plugin_path)
            except Exception as exc:
                raise JobFailed(f"preset did not load: {type(exc).__name__}: {exc}") from exc
            if ok is False:
                raise JobFailed("preset did not load (the plugin refused it)")
        return [float(proc.get_parameter(i)) for i in range(self.num_params)]

    def _play(self, job: Job) -> None:
        s = self.settings
        proc = self.processor
        proc.clear_midi()
        if s.settle > 0:
            self.engine.render(s.settle)
        proc.add_midi_note(job.note, job.velocity, 0.0, s.note_length)
        self.engine.render(s.duration)
        proc.clear_midi()

    def render_audio(self, job: Job) -> tuple[np.ndarray, list[float]]:
        """Apply the job's preset and render its note: ((channels, samples) float32, parameter values)."""
        if self.settings.reset == "reload" and self._used:
            self._load()
        self._used = True
        params = self._apply(job)
        if self.settings.reset == "prime":
            self._play(job)
        self._play(job)
        audio = np.array(self.engine.get_audio(), dtype=np.float32, copy=True)
        if audio.ndim == 1:
            audio = audio[None, :]
        return audio, params

    def render(self, job: Job) -> dict[str, Any]:
        """One dataset row; raises JobFailed with a reason."""
        _test_hooks(job)
        try:
            audio, params = self.render_audio(job)
        except JobFailed:
            self._reload()
            raise
        if job.index in _hook_jobs(NAN_ENV):
            audio[:] = np.nan
        finite = np.isfinite(audio)
        if not finite.all():
            bad = int(audio.size - np.count_nonzero(finite))
            self._reload()  # NaN in a filter's state would leak into the next jobs
            raise JobFailed(f"the render has {bad} NaN/Inf samples of {audio.size}")
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        flac = encode_flac(audio, self.settings.sample_rate)
        row: dict[str, Any] = {
            "id": job.id,
            "job_index": job.index,
            "preset_name": job.preset.name,
            "category": job.preset.category,
            "preset_path": job.preset.path,
            "note": job.note,
            "velocity": job.velocity,
            "params": params,
            "audio": {"bytes": flac, "path": f"{job.id}.flac"},
            "sample_rate": self.settings.sample_rate,
            "channels": int(audio.shape[0]),
            "num_samples": int(audio.shape[1]),
            "peak": peak,
            "clipped": peak >= 1.0,
        }
        if self.features:
            decoded, _ = decode_flac(flac)
            row.update(feature_columns(decoded, self.settings.sample_rate))
        return row


def silence_stdout() -> None:
    """Send this process's fd 1 to /dev/null: DawDreamer and plugins print there from C++."""
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def serve(conn: Any) -> None:
    """Worker process main loop.

    The first message in is ``(plugin_path, settings, features)``; the worker answers
    ("ready", PluginInfo) or ("error", text). Then each message in is a Job (None to stop), answered
    with ("done", index, row) or ("failed", index, reason). The loop ends when the parent closes its
    end of the connection (the parent is done or died).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    try:
        plugin_path, settings, features = conn.recv()
    except (EOFError, OSError):
        return
    try:
        worker = RenderWorker(plugin_path, settings, features)
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", worker.info))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            row = worker.render(job)
        except JobFailed as exc:
            reply: tuple = ("failed", job.index, str(exc))
        except Exception as exc:  # a plugin or library exception: report it, then go on with a fresh plugin
            reply = ("failed", job.index, f"{type(exc).__name__}: {exc}")
            try:
                worker._reload()
            except Exception:
                _send(conn, reply)
                return  # the pool replaces a worker that exits
        else:
            reply = ("done", job.index, row)
        if not _send(conn, reply):
            return  # the parent is gone


def _send(conn: Any, message: tuple) -> bool:
    try:
        conn.send(message)
        return True
    except (BrokenPipeError, ConnectionResetError, OSError):
        return False


def main(argv: list[str] | None = None) -> None:
    """``python -m neuralsynth.render.worker FD``: serve jobs on the connected socket FD."""
    from multiprocessing.connection import Connection

    args = sys.argv[1:] if argv is None else argv
    serve(Connection(int(args[0])))


if __name__ == "__main__":
    # Run the imported module's main, not this __main__ copy, so that what the worker pickles
    # (PluginInfo, ...) refers to neuralsynth.render.worker and unpickles in the parent.
    from neuralsynth.render.worker import main as _main

    _main()
