"""Independent pure-numpy float64 reference implementation (the test oracle).

Reads NAM ``.nam`` models (WaveNet, LSTM, Linear; format 0.5.x) and RTNeural
Keras JSON models and runs them sample-exactly in float64, streaming.  It is
written for clarity, not speed; the C++ inference core is tested against it.

>>> model = load_model("amp.nam")          # doctest: +SKIP
>>> y = model.process(x)                   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralsynth.errors import ModelError
from neuralsynth.reference.layers import ReferenceModel, fail, read_json_file
from neuralsynth.reference.nam import load_nam_dict
from neuralsynth.reference.rtneural import load_rtneural_dict

__all__ = ["ModelError", "ReferenceModel", "load_model", "load_model_dict"]


def load_model(path: str | Path) -> ReferenceModel:
    """Load a ``.nam`` or RTNeural ``.json`` model file (format detected from content)."""
    data, source = read_json_file(path)
    return load_model_dict(data, source)


def load_model_dict(d: dict[str, Any], source: str = "<dict>") -> ReferenceModel:
    """Build a model from a parsed document; ``source`` names it in error messages.

    A document with ``architecture`` is read as NAM, one with ``in_shape`` or
    ``layers`` (and no ``architecture``) as RTNeural.
    """
    if not isinstance(d, dict):
        raise fail(
            source,
            "",
            "not a model: expected a JSON object at the top level, "
            f"found {type(d).__name__ if d is not None else 'null'}",
        )
    if "architecture" in d:
        return load_nam_dict(d, source)
    if "in_shape" in d or "layers" in d:
        return load_rtneural_dict(d, source)
    raise fail(
        source,
        "",
        "not a NAM or RTNeural model: expected top-level 'architecture' (NAM .nam) "
        "or 'in_shape' and 'layers' (RTNeural Keras JSON)",
    )
