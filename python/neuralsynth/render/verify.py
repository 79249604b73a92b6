"""Re-render rows of a dataset and compare: ``neuralsynth dataset check --bridge N / --rerender N``.

``--bridge N``: for the NeuralSynth instrument, render N rows (spread over the dataset) with the
engine through the C bridge, from the row's normalized parameters, note, velocity and the
manifest's render settings, and compare with the row's audio. Both go through the same FLAC
24-bit encoding, so identical float renders give identical decoded samples; the bound (1e-6 by
default) covers the rest.

``--rerender N``: for any plugin, render N rows again in a fresh DawDreamer instance with the
row's stored parameter values (set one by one, not through the preset file) and compare; and
check that rows of different parameter vectors at the same note and velocity differ, i.e. that
the audio follows the presets.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from .errors import DatasetError
from .manifest import read_manifest
from .shards import SHARD_GLOB
from .worker import decode_flac, encode_flac

DEFAULT_TOLERANCE = 1e-6
DISTINCT_LEVEL = 1e-4  # renders of different parameter vectors must differ by more than this somewhere


@dataclass
class VerifyReport:
    what: str
    compared: list[tuple[str, float]] = field(default_factory=list)  # (row id, max abs difference)
    problems: list[str] = field(default_factory=list)
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.compared)

    @property
    def worst(self) -> float:
        return max((d for _, d in self.compared), default=float("nan"))

    def lines(self) -> list[str]:
        head = (f"{self.what}: {len(self.compared)} row(s) compared, max abs difference {self.worst:.3g} "
                f"(limit {self.tolerance:g})")
        return [f"{head}: {'OK' if self.ok else 'FAILED'}"] + [f"  {p}" for p in self.problems]

    def compare(self, row_id: str, host: np.ndarray, ref: np.ndarray, other: str) -> None:
        """Record one row's max abs difference between its stored audio and a fresh render (`other`)."""
        if host.shape != ref.shape:
            self.problems.append(f"{row_id}: audio shape {host.shape}, {other} {ref.shape}")
            return
        err = float(np.max(np.abs(host - ref))) if host.size else 0.0
        self.compared.append((row_id, err))
        if not err <= self.tolerance:
            self.problems.append(f"{row_id}: max abs difference {err:.3g} > {self.tolerance:g}")

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "ok": self.ok, "tolerance": self.tolerance, "max_abs_difference": self.worst,
                "rows": [{"id": i, "max_abs_difference": d} for i, d in self.compared], "problems": self.problems}


def sample_rows(folder: Path, count: int) -> list[dict[str, Any]]:
    """`count` rows spread evenly over the dataset (by job index), without the feature columns."""
    files = sorted(Path(folder).glob(SHARD_GLOB))
    if not files:
        raise DatasetError(f"{folder}: no shards")
    cols = ["id", "job_index", "preset_name", "note", "velocity", "params", "audio", "sample_rate"]
    index = []
    for f in files:
        t = pq.read_table(f, columns=["job_index"])
        index += [(int(j), f) for j in t.column("job_index").to_pylist()]
    index.sort()
    if not index:
        raise DatasetError(f"{folder}: the dataset has no rows")
    picks = sorted({index[int(k)] for k in np.linspace(0, len(index) - 1, min(count, len(index)))})
    rows = []
    for f in sorted({f for _, f in picks}):
        wanted = {j for j, g in picks if g == f}
        t = pq.read_table(f, columns=cols).to_pylist()
        rows += [r for r in t if r["job_index"] in wanted]
    rows.sort(key=lambda r: r["job_index"])
    return rows


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Hosts print plugin-loading chatter to fd 1; keep it out of the command's output."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        ctypes.CDLL(None).fflush(None)  # C/C++ output the host buffered goes to /dev/null too
        os.dup2(saved, 1)
        os.close(saved)


def _manifest(folder: Path) -> dict[str, Any]:
    manifest = read_manifest(folder)
    if manifest is None:
        raise DatasetError(f"{folder}: no manifest.json (not a dataset folder?)")
    return manifest


def _settings(manifest: dict[str, Any]) -> dict[str, Any]:
    r = manifest.get("render") or {}
    for key in ("sample_rate", "block_size", "duration", "note_length"):
        if key not in r:
            raise DatasetError(f"manifest.json: render.{key} is missing")
    return r


def _quantized(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    return decode_flac(encode_flac(np.asarray(audio, dtype=np.float32), sample_rate))[0]


def verify_bridge(folder: Path, rows: int = 16, model: str | Path | None = None,
                  tolerance: float = DEFAULT_TOLERANCE) -> VerifyReport:
    """Rows of a NeuralSynth-instrument dataset against the engine run through the bridge."""
    from ..synth import DEFAULT_MODEL, Note, Synth, parameters

    folder = Path(folder)
    manifest = _manifest(folder)
    names = [p.get("name") for p in manifest.get("parameters", [])]
    ours = [p.name for p in parameters()]
    if names[: len(ours)] != ours or len(names) > len(ours) + 1:
        raise DatasetError(
            f"{folder}: the dataset's plugin ({manifest.get('plugin', {}).get('name')!r}) does not have the "
            "NeuralSynth instrument's parameters; --bridge compares only renders of that instrument"
        )
    r = _settings(manifest)
    synth = Synth(r["sample_rate"], r["block_size"], model=DEFAULT_MODEL if model is None else model)
    report = VerifyReport("bridge vs host", tolerance=tolerance)
    for row in sample_rows(folder, rows):
        synth.set_normalized(row["params"][: len(ours)])
        ref = synth.render([Note(row["note"], row["velocity"], 0.0, r["note_length"])], r["duration"])
        host, _ = decode_flac(row["audio"]["bytes"])
        report.compare(row["id"], host, _quantized(ref, r["sample_rate"]), "the bridge renders")
    return report


def verify_rerender(folder: Path, rows: int = 8, tolerance: float = 2.0**-22) -> VerifyReport:
    """Rows against fresh DawDreamer renders with the stored parameters; different presets must differ."""
    from .jobs import Job, Preset, RenderSettings
    from .worker import RenderWorker

    folder = Path(folder)
    manifest = _manifest(folder)
    r = _settings(manifest)
    plugin = manifest.get("plugin", {}).get("path")
    if not plugin or not Path(plugin).exists():
        raise DatasetError(f"{folder}: the dataset's plugin {plugin!r} is not there to render with")
    settings = RenderSettings(sample_rate=r["sample_rate"], block_size=r["block_size"], duration=r["duration"],
                              note_length=r["note_length"], settle=r.get("settle", 0.5),
                              reset=r.get("reset", "prime"))
    with _quiet_stdout():
        worker = RenderWorker(plugin, settings)  # no features: only the audio is compared
    report = VerifyReport("re-render with the stored parameters", tolerance=tolerance)
    sampled = sample_rows(folder, rows)
    decoded = {}
    for row in sampled:
        job = Job(index=row["job_index"], id=row["id"], preset=Preset(row["preset_name"], "", None,
                                                                      tuple(row["params"])),
                  note=row["note"], velocity=row["velocity"])
        audio, _ = worker.render_audio(job)
        host, _ = decode_flac(row["audio"]["bytes"])
        decoded[row["id"]] = host
        report.compare(row["id"], host, _quantized(audio, r["sample_rate"]), "the re-render")
    # the audio follows the presets: different parameters, same note -> different audio
    for i, a in enumerate(sampled):
        for b in sampled[i + 1:]:
            if (a["note"], a["velocity"]) != (b["note"], b["velocity"]) or a["params"] == b["params"]:
                continue
            x, y = decoded[a["id"]], decoded[b["id"]]
            if max(float(np.max(np.abs(x), initial=0.0)), float(np.max(np.abs(y), initial=0.0))) <= DISTINCT_LEVEL:
                continue  # two (nearly) silent presets: nothing to tell apart
            if x.shape == y.shape and float(np.max(np.abs(x - y))) <= DISTINCT_LEVEL:
                report.problems.append(f"{a['id']} and {b['id']}: different parameters but the same audio")
    return report
