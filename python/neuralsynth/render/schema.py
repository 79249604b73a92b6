"""The dataset row, described once: each column's name, Arrow type, manifest description, what enables it
and where its value comes from.

The Parquet schema (:func:`arrow_schema`, used by :mod:`.shards` and :mod:`.check`), the manifest's
``columns`` (:func:`column_docs`) and the row a worker sends back (:func:`make_row`) are all read off
:data:`ROW_FIELDS`; so are the job columns of a failure record (:func:`job_columns`). The order of the
table is the column order of the shards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .jobs import Job

FEATURES = "features"
"""``RowField.enabled_by`` of the feature columns: present when the render settings compute features."""

FLOAT_LIST = pa.list_(pa.float32())
FLOAT_LIST_LIST = pa.list_(FLOAT_LIST)
AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])  # what datasets.Audio stores


@dataclass(frozen=True)
class RenderedJob:
    """What a worker made of one job; every column of its row is read from this."""

    job: Job
    params: list[float]  # every plugin parameter, normalized, read back after applying the preset
    flac: bytes
    sample_rate: int
    channels: int
    num_samples: int
    peak: float
    features: Mapping[str, np.ndarray] | None  # None when the settings compute no features


@dataclass(frozen=True)
class RowField:
    """One column. ``job_value`` columns follow from the job alone, ``value`` columns from its render."""

    name: str
    type: pa.DataType
    doc: str  # the manifest's description of the column
    job_value: Callable[[Job], Any] | None = None
    value: Callable[[RenderedJob], Any] | None = None
    nullable: bool = True
    enabled_by: str | None = None  # None: always present; FEATURES: only when features are computed
    width: str | None = None  # for (frames, width) features: the feature setting that sets the width

    @property
    def depth(self) -> int:
        """List nesting of the column: 0 scalar or struct, 1 ``list<float32>``, 2 ``list<list<float32>>``."""
        return 2 if self.type.equals(FLOAT_LIST_LIST) else 1 if self.type.equals(FLOAT_LIST) else 0

    def arrow_field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)

    def of(self, rendered: RenderedJob) -> Any:
        if self.job_value is not None:
            return self.job_value(rendered.job)
        assert self.value is not None
        return self.value(rendered)


def _feature(name: str, type_: pa.DataType, doc: str, width: str | None = None) -> RowField:
    def value(r: RenderedJob) -> np.ndarray:
        assert r.features is not None
        return np.ascontiguousarray(r.features[name], dtype=np.float32)

    return RowField(name, type_, doc, value=value, enabled_by=FEATURES, width=width)


ROW_FIELDS: tuple[RowField, ...] = (
    # the job (also the job part of a failure record)
    RowField("id", pa.string(), "string, unique: '<job_index>-<category>_<preset>-n<note>-v<velocity>'",
             job_value=lambda j: j.id, nullable=False),
    RowField("job_index", pa.int64(), "int64, the job's number (presets sorted, then notes, then velocities)",
             job_value=lambda j: j.index, nullable=False),
    RowField("preset_name", pa.string(),
             "string: the fxp program name (file stem if it has none) or random-NNNNNN",
             job_value=lambda j: j.preset.name),
    RowField("category", pa.string(),
             "string: folder of the fxp relative to --presets ('' at top level), or 'random'",
             job_value=lambda j: j.preset.category),
    RowField("preset_path", pa.string(), "string or null: absolute path of the fxp",
             job_value=lambda j: j.preset.path),
    RowField("note", pa.int32(), "int32 MIDI note", job_value=lambda j: j.note),
    RowField("velocity", pa.int32(), "int32 MIDI velocity", job_value=lambda j: j.velocity),
    # the render
    RowField("params", FLOAT_LIST,
             "list<float32>: every plugin parameter, normalized 0..1, read back after applying the preset",
             value=lambda r: r.params),
    RowField("audio", AUDIO_TYPE,
             "struct{bytes: FLAC 24-bit PCM, the plugin's channel count; path: '<id>.flac'} (datasets.Audio)",
             value=lambda r: {"bytes": r.flac, "path": f"{r.job.id}.flac"}),
    RowField("sample_rate", pa.int32(), "int32 Hz", value=lambda r: r.sample_rate),
    RowField("channels", pa.int32(), "int32, channels of the audio", value=lambda r: r.channels),
    RowField("num_samples", pa.int64(), "int64, samples per channel", value=lambda r: r.num_samples),
    RowField("peak", pa.float32(), "float32, max |sample| of the float render before FLAC quantisation",
             value=lambda r: r.peak),
    RowField("clipped", pa.bool_(), "bool, peak >= 1.0 (FLAC integer PCM clipped the audio)",
             value=lambda r: r.peak >= 1.0),
    # the features (neuralsynth.features, computed from the decoded FLAC)
    _feature("log_mel", FLOAT_LIST_LIST, "list<list<float32>> (frames, n_mels) at 100 frames/s, see features",
             width="n_mels"),
    _feature("mfcc", FLOAT_LIST_LIST, "list<list<float32>> (frames, n_mfcc)", width="n_mfcc"),
    _feature("f0_hz", FLOAT_LIST, "list<float32> (frames,), 0.0 when unvoiced"),
    _feature("f0_confidence", FLOAT_LIST, "list<float32> (frames,), 0..1"),
    _feature("loudness_db", FLOAT_LIST, "list<float32> (frames,), A-weighted, dB"),
)


def row_fields(features: bool = True) -> tuple[RowField, ...]:
    """The columns of a dataset rendered with (``features=True``) or without feature columns, in order."""
    return tuple(f for f in ROW_FIELDS if f.enabled_by is None or (features and f.enabled_by == FEATURES))


def feature_fields() -> tuple[RowField, ...]:
    return tuple(f for f in ROW_FIELDS if f.enabled_by == FEATURES)


def arrow_schema(features: bool = True) -> pa.Schema:
    """The Parquet schema of the shards (the ``audio`` struct is what Hugging Face ``datasets.Audio`` stores)."""
    return pa.schema([f.arrow_field() for f in row_fields(features)])


def column_docs(features: bool = True) -> dict[str, str]:
    """The manifest's ``columns``: name -> description."""
    return {f.name: f.doc for f in row_fields(features)}


def job_columns(job: Job) -> dict[str, Any]:
    """The columns that follow from the job alone (id, index, preset, note, velocity)."""
    return {f.name: f.job_value(job) for f in ROW_FIELDS if f.job_value is not None}


def make_row(rendered: RenderedJob) -> dict[str, Any]:
    """The row of one rendered job, in column order; feature columns when ``rendered.features`` is given."""
    return {f.name: f.of(rendered) for f in row_fields(rendered.features is not None)}
