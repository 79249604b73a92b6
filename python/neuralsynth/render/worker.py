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

Faults for the tests (a worker that crashes, hangs or renders NaN) live in :mod:`.faults`; a worker
process takes its class from :func:`.faults.worker_class` once, at start.
"""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from ..plugins.dawdreamer import open_processor
from ..plugins.files import PluginFile
from .failures import FailureKind
from .jobs import Job, RenderSettings
from .schema import RenderedJob, make_row

FLAC_SUBTYPE = "PCM_24"


class JobFailed(Exception):
    """A job could not be rendered (the preset did not load, the audio is not finite, ...)."""

    def __init__(self, reason: str, kind: FailureKind = FailureKind.ERROR) -> None:
        super().__init__(reason)
        self.kind = kind


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


class RenderWorker:
    """A loaded plugin that renders jobs into dataset rows.

    ``settings.features`` says which features the rows get and how they are computed (None: none);
    ``features=False`` drops them, ``features=True`` computes the default ones if the settings have none.
    """

    def __init__(self, plugin_path: str, settings: RenderSettings, features: bool | None = None) -> None:
        self.plugin_path = str(plugin_path)
        self.settings = settings if features is None else settings.with_features(features)
        self.broken = False  # a fresh plugin instance could not be made after a failure
        self._load()
        self.info = PluginInfo(
            path=self.plugin_path,
            name=Path(plugin_path).stem,
            format=PluginFile.of(plugin_path).format,
            num_outputs=int(self.processor.get_num_output_channels()),
            parameters=_describe_parameters(self.processor),
        )
        if self.info.num_outputs < 1:
            raise RuntimeError(f"{plugin_path}: the plugin has no audio outputs")
        if self.settings.features is not None:  # import librosa and build the filter banks now, not in the first job
            self._features(np.zeros((1, self.settings.sample_rate // 10), np.float32))

    def _load(self) -> None:
        s = self.settings
        self.engine, self.processor = open_processor(self.plugin_path, s.sample_rate, s.block_size, name="synth")
        self.engine.load_graph([(self.processor, [])])
        self._used = False
        self.num_params = int(self.processor.get_plugin_parameter_size())
        self.initial_params = [float(self.processor.get_parameter(i)) for i in range(self.num_params)]

    def _features(self, audio: np.ndarray) -> Mapping[str, np.ndarray]:
        """The settings' features of (channels, samples) audio (channels are averaged)."""
        from ..features import compute_features

        return compute_features(audio, self.settings.sample_rate, self.settings.features)

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
        """One dataset row (:func:`.schema.make_row`); raises JobFailed with a reason."""
        try:
            audio, params = self.render_audio(job)
        except JobFailed:
            self._load()  # a fresh plugin instance, after a job that may have left the old one in a bad state
            raise
        finite = np.isfinite(audio)
        if not finite.all():
            bad = int(audio.size - np.count_nonzero(finite))
            self._load()  # NaN in a filter's state would leak into the next jobs
            raise JobFailed(f"the render has {bad} NaN/Inf samples of {audio.size}", FailureKind.NAN)
        peak = float(np.max(np.abs(audio))) if audio.size else 0.0
        flac = encode_flac(audio, self.settings.sample_rate)
        features = self._features(decode_flac(flac)[0]) if self.settings.features is not None else None
        return make_row(RenderedJob(job, params, flac, self.settings.sample_rate, int(audio.shape[0]),
                                    int(audio.shape[1]), peak, features))

    def attempt(self, job: Job) -> tuple[Any, ...]:
        """Render ``job`` and say how it went: ``("done", row)`` or ``("failed", FailureKind, reason)``.

        A plugin or library exception is a failure too, after which the worker goes on with a fresh plugin
        instance; if even that cannot be made, :attr:`broken` is set.
        """
        try:
            return "done", self.render(job)
        except JobFailed as exc:
            return "failed", exc.kind, str(exc)
        except Exception as exc:
            try:
                self._load()
            except Exception:
                self.broken = True
            return "failed", FailureKind.ERROR, f"{type(exc).__name__}: {exc}"


def load_worker(plugin_path: str, settings: RenderSettings) -> RenderWorker:
    """The worker of a worker process: a :class:`RenderWorker`, or the test's fault-injecting one (:mod:`.faults`)."""
    from .faults import worker_class

    return worker_class()(plugin_path, settings)


def silence_stdout() -> None:
    """Send this process's fd 1 to /dev/null: DawDreamer and plugins print there from C++."""
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def serve(conn: Any) -> None:
    """Worker process main loop.

    The first message in is ``(plugin_path, settings)``; the worker answers ("ready", PluginInfo) or
    ("error", text). Then each message in is a Job (None to stop), answered with ("done", index, row)
    or ("failed", index, FailureKind, reason). The loop ends when the parent closes its end of the
    connection (the parent is done or died).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    try:
        plugin_path, settings = conn.recv()
    except (EOFError, OSError):
        return
    try:
        worker = load_worker(plugin_path, settings)
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
        kind, *result = worker.attempt(job)
        if not _send(conn, (kind, job.index, *result)) or worker.broken:
            return  # the parent is gone, or the pool replaces a worker that exits


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
