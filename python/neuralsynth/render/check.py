"""``neuralsynth dataset check``: is a rendered dataset whole and sane?

Checks: the manifest is there and says the run completed; every shard the manifest lists exists,
holds the rows it should (ids, job indexes, count) and no other shard file lies around; rows plus
failures account for every job; parameters are finite and within 0..1 with one value per plugin
parameter; the audio decodes as FLAC with the manifest's sample rate, channel count and length, and
agrees with ``peak`` and ``clipped``; the features have the shapes the feature settings imply and no NaN.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import soundfile

from .errors import DatasetError
from .manifest import MANIFEST_NAME, read_manifest
from .schema import arrow_schema, feature_fields
from .shards import SHARD_GLOB, read_shard_info

MAX_PROBLEMS = 200
FLAC_LSB = 2.0**-23


@dataclass
class CheckReport:
    folder: Path
    rows: int = 0
    shards: int = 0
    jobs: int = 0
    failed: int = 0
    problems: list[str] = field(default_factory=list)
    dropped: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.dropped += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "ok": self.ok,
            "rows": self.rows,
            "shards": self.shards,
            "jobs": self.jobs,
            "failed": self.failed,
            "problems": self.problems,
            "more_problems": self.dropped,
        }

    def lines(self) -> list[str]:
        head = f"{self.folder}: {self.rows} rows in {self.shards} shard(s), {self.jobs} jobs, {self.failed} failed"
        if self.ok:
            return [f"{head}: OK"]
        count = len(self.problems) + self.dropped
        out = [f"{head}: {count} problem(s)"]
        out += [f"  {p}" for p in self.problems]
        if self.dropped:
            out.append(f"  ... and {self.dropped} more")
        return out


def _flat_values(column: pa.ChunkedArray, depth: int) -> np.ndarray:
    arr = column.combine_chunks()
    for _ in range(depth):
        arr = pc.list_flatten(arr)
    return arr.to_numpy(zero_copy_only=False)


def _lengths(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.list_value_length(column).to_numpy(zero_copy_only=False)


def _check_shard(
    report: CheckReport, path: Path, entry: dict[str, Any], manifest: dict[str, Any], decode: bool, seen: set[str]
) -> None:
    name = path.name
    try:
        table = pq.read_table(path)
    except Exception as exc:
        report.problem(f"{name}: cannot be read as Parquet ({type(exc).__name__}: {exc})")
        return
    info = read_shard_info(path)
    if info is None:
        report.problem(f"{name}: no neuralsynth shard metadata")
    elif entry.get("jobs_hash") and info.jobs_hash != entry["jobs_hash"]:
        report.problem(f"{name}: was written for other jobs than the manifest says (hash differs)")
    features = manifest.get("features") is not None
    expected_schema = arrow_schema(features)
    missing = [f.name for f in expected_schema if f.name not in table.column_names]
    if missing:
        report.problem(f"{name}: missing columns {', '.join(missing)}")
        return
    for f in expected_schema:
        if not table.schema.field(f.name).type.equals(f.type):
            report.problem(f"{name}: column {f.name} is {table.schema.field(f.name).type}, expected {f.type}")
    rows = table.num_rows
    report.rows += rows
    if entry.get("rows") is not None and rows != entry["rows"]:
        report.problem(f"{name}: {rows} rows, the manifest says {entry['rows']}")

    ids = table.column("id").to_pylist()
    for i in ids:
        if i in seen:
            report.problem(f"{name}: id {i!r} appears twice in the dataset")
        seen.add(i)
    index = np.asarray(table.column("job_index").to_pylist(), dtype=np.int64)
    first, last = entry.get("first_job"), entry.get("last_job")
    if first is not None and index.size and (index.min() < first or index.max() > last):
        report.problem(f"{name}: job indexes outside the shard's range {first}..{last}")
    if index.size and np.any(np.diff(index) <= 0):
        report.problem(f"{name}: rows are not sorted by job_index, or repeat one")
    if info is not None:
        failed = {int(f["job_index"]) for f in info.failures}
        if failed & set(index.tolist()):
            report.problem(f"{name}: jobs recorded as failed also have rows")
        if first is not None and len(failed) + rows != last - first + 1:
            report.problem(f"{name}: {rows} rows + {len(failed)} failures != {last - first + 1} jobs")

    plugin = manifest.get("plugin", {})
    num_params = plugin.get("num_parameters")
    plen = _lengths(table.column("params").combine_chunks())
    if num_params is not None and np.any(plen != num_params):
        report.problem(f"{name}: rows whose params do not have {num_params} values")
    pvals = _flat_values(table.column("params"), 1).astype(np.float64)
    if not np.all(np.isfinite(pvals)):
        report.problem(f"{name}: NaN/Inf in params")
    elif pvals.size and (pvals.min() < 0.0 or pvals.max() > 1.0):
        report.problem(f"{name}: params outside 0..1 (they are normalized)")

    render = manifest.get("render", {})
    audio_meta = manifest.get("audio", {})
    sr = render.get("sample_rate")
    channels = audio_meta.get("channels")
    num_samples = audio_meta.get("num_samples")
    srs = table.column("sample_rate").to_pylist()
    if any(s != sr for s in srs):
        report.problem(f"{name}: rows with a sample_rate other than the manifest's {sr}")
    peaks = np.asarray(table.column("peak").to_pylist(), dtype=np.float64)
    clipped = table.column("clipped").to_pylist()
    if not np.all(np.isfinite(peaks)):
        report.problem(f"{name}: NaN/Inf peak values")
    if [bool(p >= 1.0) for p in peaks] != [bool(c) for c in clipped]:
        report.problem(f"{name}: 'clipped' disagrees with 'peak >= 1'")
    row_samples = table.column("num_samples").to_pylist()

    if decode:
        audio = table.column("audio").combine_chunks()
        blobs = audio.field("bytes").to_pylist()
        for row, blob in enumerate(blobs):
            rid = ids[row]
            if blob is None:
                report.problem(f"{name}: {rid}: no audio bytes")
                continue
            try:
                data, rate = soundfile.read(io.BytesIO(blob), dtype="float32", always_2d=True)
            except Exception as exc:
                report.problem(f"{name}: {rid}: the audio does not decode ({exc})")
                continue
            if rate != sr:
                report.problem(f"{name}: {rid}: audio at {rate} Hz, expected {sr}")
            if channels is not None and data.shape[1] != channels:
                report.problem(f"{name}: {rid}: {data.shape[1]} audio channels, expected {channels}")
            if data.shape[0] != row_samples[row] or (num_samples is not None and data.shape[0] != num_samples):
                report.problem(f"{name}: {rid}: {data.shape[0]} samples, expected {num_samples}")
            if not np.all(np.isfinite(data)):
                report.problem(f"{name}: {rid}: NaN/Inf in the decoded audio")
                continue
            apeak = float(np.max(np.abs(data))) if data.size else 0.0
            if apeak > min(peaks[row], 1.0) + 2 * FLAC_LSB:
                report.problem(f"{name}: {rid}: decoded peak {apeak:.6f} above the recorded peak {peaks[row]:.6f}")

    feats = manifest.get("features")
    if feats is None:
        return
    from ..features import n_frames

    frames = np.asarray([n_frames(int(n), int(sr)) if n and sr else -1 for n in row_samples], dtype=np.int64)
    for feature in feature_fields():
        key = feature.name
        col = table.column(key).combine_chunks()
        outer = _lengths(col)
        if np.any(outer != frames):
            bad = ids[int(np.flatnonzero(outer != frames)[0])]
            report.problem(f"{name}: {key} has the wrong number of frames (first: {bad})")
        width = feats.get(feature.width) if feature.width else None
        if feature.depth == 2:
            inner = _lengths(pc.list_flatten(col))
            if width is not None and np.any(inner != width):
                report.problem(f"{name}: {key} rows are not {width} wide")
        values = _flat_values(table.column(key), feature.depth)
        if not np.all(np.isfinite(values)):
            report.problem(f"{name}: NaN/Inf in {key}")


def check_dataset(folder: Path, decode: bool = True) -> CheckReport:
    """Validate a folder written by ``neuralsynth render``."""
    folder = Path(folder)
    if not folder.exists():
        raise DatasetError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder")
    manifest = read_manifest(folder)
    if manifest is None:
        raise DatasetError(f"{folder}: no readable {MANIFEST_NAME} of a neuralsynth render (not a dataset folder?)")
    report = CheckReport(folder)
    counts = manifest.get("counts", {})
    report.jobs = int(counts.get("jobs", 0))
    report.failed = int(counts.get("failed", 0))
    if not manifest.get("complete"):
        report.problem(f"the run did not finish ({counts.get('pending', '?')} jobs pending): run the render again")
    shards = manifest.get("shards", [])
    listed = {e["file"] for e in shards}
    for path in sorted(folder.glob(SHARD_GLOB)):
        if path.name not in listed:
            report.problem(f"{path.name}: a shard file the manifest does not list")
    seen: set[str] = set()
    for entry in shards:
        path = folder / entry["file"]
        if not entry.get("complete"):
            continue
        if not path.is_file():
            report.problem(f"{entry['file']}: listed in the manifest but missing")
            continue
        report.shards += 1
        _check_shard(report, path, entry, manifest, decode, seen)
    if manifest.get("complete"):
        if report.rows != counts.get("rendered"):
            report.problem(f"{report.rows} rows in the shards, the manifest counts {counts.get('rendered')}")
        if counts.get("rendered", 0) + counts.get("failed", 0) != counts.get("jobs"):
            report.problem("rendered + failed does not add up to the number of jobs in the manifest")
        if len(manifest.get("failures", [])) != counts.get("failed"):
            report.problem("the failures list and the failed count of the manifest disagree")
    return report
