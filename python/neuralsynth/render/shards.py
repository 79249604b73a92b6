"""Parquet shards: the row schema, atomic writes and the check that decides whether a shard is complete.

Shard ``k`` holds the rows of jobs ``k * shard_size`` .. ``(k + 1) * shard_size - 1`` that rendered, sorted
by job index; jobs that failed have no row. Each file carries, in its Parquet key-value metadata under
``neuralsynth``, the job range, a hash of everything that determines its rows (plugin binary, render
and feature settings, the jobs with their presets) and the failures. A file is written under a
hidden temporary name and renamed into place, so a file with a final name is always whole; a rerun
keeps a shard whose metadata hash matches and whose ids are exactly the expected ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .jobs import Job
from .schema import arrow_schema, row_fields

SHARD_GLOB = "shard-*.parquet"
METADATA_KEY = b"neuralsynth"


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.parquet"


def _concat(arrays: Sequence[np.ndarray]) -> np.ndarray:
    if not arrays:
        return np.zeros(0, np.float32)
    return np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in arrays])


def _list_column(arrays: Sequence[np.ndarray]) -> pa.Array:
    """list<float32> from 1-D arrays, without going through Python floats."""
    offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([a.shape[0] for a in arrays])
    values = _concat(arrays)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, type=pa.float32()))


def _list_list_column(arrays: Sequence[np.ndarray]) -> pa.Array:
    """list<list<float32>> from 2-D (frames, bins) arrays."""
    inner_lengths = [np.full(a.shape[0], a.shape[1], dtype=np.int64) for a in arrays]
    flat_rows = np.concatenate(inner_lengths) if arrays else np.zeros(0, np.int64)
    inner_offsets = np.zeros(flat_rows.size + 1, dtype=np.int32)
    inner_offsets[1:] = np.cumsum(flat_rows)
    values = _concat(arrays)
    inner = pa.ListArray.from_arrays(pa.array(inner_offsets), pa.array(values, type=pa.float32()))
    outer_offsets = np.zeros(len(arrays) + 1, dtype=np.int32)
    outer_offsets[1:] = np.cumsum([a.shape[0] for a in arrays])
    return pa.ListArray.from_arrays(pa.array(outer_offsets), inner)


def rows_to_table(rows: Sequence[dict[str, Any]], features: bool = True) -> pa.Table:
    """Rows (as the workers make them) -> an Arrow table with :func:`.schema.arrow_schema`, sorted by job index."""
    rows = sorted(rows, key=lambda r: r["job_index"])
    columns: list[pa.Array] = []
    for f in row_fields(features):
        if f.depth == 2:
            column = _list_list_column([np.asarray(r[f.name], np.float32) for r in rows])
        elif f.depth == 1:
            column = _list_column([np.asarray(r[f.name], np.float32) for r in rows])
        else:
            column = pa.array([r[f.name] for r in rows], type=f.type)
        columns.append(column.cast(f.type))
    return pa.Table.from_arrays(columns, schema=arrow_schema(features))


@dataclass
class ShardInfo:
    """What a shard file says about itself (its ``neuralsynth`` metadata)."""

    index: int
    first_job: int
    last_job: int
    jobs_hash: str
    rows: int
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "first_job": self.first_job,
            "last_job": self.last_job,
            "jobs_hash": self.jobs_hash,
            "rows": self.rows,
            "failures": self.failures,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ShardInfo:
        return cls(
            index=int(d["index"]),
            first_job=int(d["first_job"]),
            last_job=int(d["last_job"]),
            jobs_hash=str(d["jobs_hash"]),
            rows=int(d["rows"]),
            failures=list(d.get("failures", [])),
        )


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_name(final: Path) -> Path:
    """Hidden, never matching ``shard-*.parquet``: ``.shard-00000.parquet.tmp-PID``."""
    return final.with_name(f".{final.name}.tmp-{os.getpid()}")


def write_shard(folder: Path, info: ShardInfo, rows: Sequence[dict[str, Any]], features: bool = True) -> Path:
    """Write shard ``info.index`` atomically (temporary file, fsync, rename); return its path."""
    table = rows_to_table(rows, features)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(info.to_dict(), sort_keys=True).encode()
    table = table.replace_schema_metadata(meta)
    final = folder / shard_name(info.index)
    tmp = temp_name(final)
    try:
        pq.write_table(table, tmp, compression="zstd", row_group_size=16)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(folder)
    return final


def read_shard_info(path: Path) -> ShardInfo | None:
    """The shard's own metadata, or None if the file is not a readable shard of ours."""
    try:
        meta = pq.read_schema(path).metadata or {}
        return ShardInfo.from_dict(json.loads(meta[METADATA_KEY]))
    except (OSError, KeyError, ValueError, TypeError, pa.ArrowException):
        return None


def verify_shard(path: Path, expected_hash: str, expected_ids: Sequence[str]) -> ShardInfo | None:
    """The shard's info if ``path`` is a complete shard for these jobs: same hash, exactly the expected ids."""
    info = read_shard_info(path)
    if info is None or info.jobs_hash != expected_hash:
        return None
    try:
        table = pq.read_table(path, columns=["id"])
    except (OSError, pa.ArrowException):
        return None
    if table.num_rows != info.rows or table.column("id").to_pylist() != list(expected_ids):
        return None
    return info


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def job_spec(job: Job, preset_hashes: dict[str, str]) -> list[Any]:
    p = job.preset
    return [
        job.index,
        job.id,
        p.name,
        p.category,
        p.path,
        preset_hashes.get(p.path, "") if p.path else "",
        list(p.params) if p.params is not None else None,
        job.note,
        job.velocity,
    ]


def jobs_hash(jobs: Sequence[Job], context: dict[str, Any], preset_hashes: dict[str, str]) -> str:
    """A hash of everything that determines the rows of ``jobs`` (``context``: plugin, settings, features)."""
    doc = {"context": context, "jobs": [job_spec(j, preset_hashes) for j in jobs]}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete temporary shard files left by an interrupted run; return them."""
    removed = []
    for path in folder.glob(".shard-*.parquet.tmp-*"):
        try:
            path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed
