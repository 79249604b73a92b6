"""What ``neuralsynth info`` reports about a loaded model: one JSON-ready dict."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["METADATA_FIELDS", "input_names", "model_info", "read_nam_json"]

# The keys of a .nam file's "metadata" object that are reported (when present and not null).
METADATA_FIELDS = (
    "name",
    "modeled_by",
    "gear_make",
    "gear_model",
    "gear_type",
    "tone_type",
    "loudness",
)


def read_nam_json(path: str) -> dict[str, Any]:
    """The top-level JSON object of a .nam file ({} if it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def input_names(num_inputs: int) -> list[str]:
    """["audio", "control 1", ...]: the names of a model's inputs, in order."""
    return ["audio"] + [f"control {i}" for i in range(1, num_inputs)]


def model_info(model: Any, path: str, engine: str) -> dict[str, Any]:
    """Architecture, size, receptive field, rates, inputs/outputs and .nam metadata of ``model`` (from ``path``)."""
    rate = float(model.sample_rate)
    receptive = model.receptive_field
    macs = getattr(model, "macs_per_sample", None)
    info: dict[str, Any] = {
        "file": path,
        "engine": engine,
        "engine_version": getattr(model, "version", None),
        "format": model.format,
        "architecture": model.architecture,
        "nam_version": None,
        "num_weights": int(model.num_weights),
        "receptive_field": None if receptive is None else int(receptive),
        "receptive_field_ms": None if receptive is None else 1000.0 * receptive / rate,
        "recurrent": receptive is None,
        "latency": int(getattr(model, "latency", 0) or 0),
        "sample_rate": rate,
        "sample_rate_known": bool(model.sample_rate_known),
        "num_inputs": int(model.num_inputs),
        "inputs": input_names(int(model.num_inputs)),
        "num_outputs": int(model.num_outputs),
        "macs_per_sample": None if macs is None else int(macs),
        "metadata": {},
    }
    if model.format == "nam":
        doc = read_nam_json(path)
        version = doc.get("version")
        info["nam_version"] = None if version is None else str(version)
        meta = doc.get("metadata")
        if isinstance(meta, dict):
            info["metadata"] = {key: meta[key] for key in METADATA_FIELDS if meta.get(key) is not None}
    return info
