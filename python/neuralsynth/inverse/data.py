"""A rendered dataset (``neuralsynth render``) as arrays for training and evaluation.

Only the feature columns, the parameter vectors and the notes are read for training; ``audio``
(FLAC) is decoded only where re-rendered audio is compared (:func:`row_audio`). Log-mels are kept
as float16 in memory (20k rows of 4 s x 128 bands: 2 GB instead of 4 GB); their rounding (3 decimal
digits of a natural log) is far below the network's resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NeuralSynthError
from ..render.manifest import read_manifest
from ..render.worker import decode_flac

FEATURE_COLUMNS = ("log_mel", "f0_hz", "f0_confidence", "loudness_db")


class DatasetError(NeuralSynthError, ValueError):
    """A dataset folder that cannot be used for training or evaluation."""


@dataclass
class Arrays:
    folder: Path
    manifest: dict[str, Any]
    ids: list[str]
    preset_names: list[str]
    params: np.ndarray  # (N, P) float32 normalized
    notes: np.ndarray  # (N,) int
    velocities: np.ndarray  # (N,) int
    log_mel: np.ndarray  # (N, T, n_mels) float16
    f0_hz: np.ndarray  # (N, T) float32
    f0_confidence: np.ndarray  # (N, T) float32
    loudness_db: np.ndarray  # (N, T) float32

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def parameter_names(self) -> list[str]:
        return [str(p["name"]) for p in self.manifest["parameters"]]

    def subset(self, index: np.ndarray | Sequence[int]) -> Arrays:
        idx = np.asarray(index, np.int64)
        return Arrays(self.folder, self.manifest, [self.ids[i] for i in idx], [self.preset_names[i] for i in idx],
                      self.params[idx], self.notes[idx], self.velocities[idx], self.log_mel[idx], self.f0_hz[idx],
                      self.f0_confidence[idx], self.loudness_db[idx])


def open_manifest(folder: str | Path) -> dict[str, Any]:
    path = Path(folder)
    if not path.is_dir():
        raise DatasetError(f"{path}: not a folder; expected a dataset written by `neuralsynth render --out`")
    manifest = read_manifest(path)
    if manifest is None:
        raise DatasetError(f"{path}: no manifest.json of a neuralsynth dataset in it")
    if not manifest.get("features"):
        raise DatasetError(f"{path}: rendered with --no-features; training and evaluation need the feature columns")
    return manifest


def shard_files(folder: Path, manifest: dict[str, Any]) -> list[Path]:
    files = [folder / s["file"] for s in manifest.get("shards", []) if (folder / s["file"]).exists()]
    if not files:
        raise DatasetError(f"{folder}: the manifest lists no shard that exists (is the render finished?)")
    return files


def _lists(column: Any, rows: int, width: int | None = None) -> np.ndarray:
    """A list<float> (or list<list<float>>) Arrow column of equal-length lists as a dense array."""
    import pyarrow as pa

    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    flat = col.flatten()
    if width is not None:
        flat = flat.flatten()
    values = flat.to_numpy(zero_copy_only=False)
    if values.size % rows:
        raise DatasetError("the rows' feature lists have different lengths (mixed durations?)")
    per_row = values.size // rows
    if width is None:
        return values.reshape(rows, per_row)
    return values.reshape(rows, per_row // width, width)


def load_arrays(folder: str | Path, columns: Sequence[str] = FEATURE_COLUMNS) -> Arrays:
    """Every row of a dataset: parameters, notes and the feature columns."""
    import pyarrow.parquet as pq

    folder = Path(folder)
    manifest = open_manifest(folder)
    n_mels = int(manifest["features"]["n_mels"])
    parts: dict[str, list[np.ndarray]] = {c: [] for c in (*columns, "params")}
    ids: list[str] = []
    names: list[str] = []
    notes: list[np.ndarray] = []
    vels: list[np.ndarray] = []
    for f in shard_files(folder, manifest):
        t = pq.read_table(f, columns=["id", "preset_name", "note", "velocity", "params", *columns])
        n = t.num_rows
        if n == 0:
            continue
        ids += t.column("id").to_pylist()
        names += t.column("preset_name").to_pylist()
        notes.append(t.column("note").to_numpy())
        vels.append(t.column("velocity").to_numpy())
        parts["params"].append(_lists(t.column("params"), n).astype(np.float32))
        for c in columns:
            arr = _lists(t.column(c), n, n_mels if c == "log_mel" else None)
            parts[c].append(arr.astype(np.float16 if c == "log_mel" else np.float32))
    if not ids:
        raise DatasetError(f"{folder}: the dataset has no rendered rows")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    empty = np.zeros((len(ids), 0), np.float32)
    for c in FEATURE_COLUMNS:
        cat.setdefault(c, empty)
    num_params = len(manifest["parameters"])
    if cat["params"].shape[1] != num_params:
        raise DatasetError(f"{folder}: rows have {cat['params'].shape[1]} parameters, the manifest {num_params}")
    return Arrays(folder, manifest, ids, names, cat["params"], np.concatenate(notes).astype(np.int64),
                  np.concatenate(vels).astype(np.int64), cat["log_mel"], cat["f0_hz"], cat["f0_confidence"],
                  cat["loudness_db"])


def row_audio(folder: str | Path, ids: Sequence[str]) -> dict[str, tuple[np.ndarray, int]]:
    """Decoded audio ((channels, n) float32, rate) of the rows with these ids."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    folder = Path(folder)
    manifest = open_manifest(folder)
    wanted = set(ids)
    out: dict[str, tuple[np.ndarray, int]] = {}
    for f in shard_files(folder, manifest):
        t = pq.read_table(f, columns=["id", "audio"])
        mask = pc.is_in(t.column("id"), value_set=__import__("pyarrow").array(sorted(wanted)))
        t = t.filter(mask)
        for rid, audio in zip(t.column("id").to_pylist(), t.column("audio").to_pylist(), strict=True):
            out[rid] = decode_flac(audio["bytes"])
    missing = wanted - set(out)
    if missing:
        raise DatasetError(f"{folder}: no rows with ids {sorted(missing)[:5]}")
    return out


def same_parameters(model_params: Sequence[str], dataset: Arrays | dict[str, Any], what: str) -> None:
    """Raise DatasetError when a dataset's parameter names differ from the model's."""
    manifest = dataset.manifest if isinstance(dataset, Arrays) else dataset
    names = [str(p["name"]) for p in manifest["parameters"]]
    if names != list(model_params):
        diff = next((i for i, (a, b) in enumerate(zip(names, model_params, strict=False)) if a != b), min(len(names),
                                                                                            len(model_params)))
        raise DatasetError(
            f"{what}: the dataset's parameters differ from the model's ({len(names)} vs {len(model_params)}; "
            f"first difference at index {diff}: {names[diff] if diff < len(names) else '-'!r} vs "
            f"{model_params[diff] if diff < len(model_params) else '-'!r}); was it rendered with another plugin?")


def split_indices(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) row indices: a seeded shuffle, ``round(n * fraction)`` (at least 1) held out."""
    if not 0.0 < fraction < 1.0:
        raise DatasetError(f"the validation fraction must be in (0, 1), got {fraction}")
    order = np.random.default_rng([seed, 1]).permutation(n)
    k = max(1, int(round(n * fraction)))
    if k >= n:
        raise DatasetError(f"{n} rows are too few to hold out {k} for validation")
    return np.sort(order[k:]), np.sort(order[:k])
