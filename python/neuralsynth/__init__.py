"""neuralsynth: real-time neural audio models in C++, driven from Python.

import neuralsynth as ns
model = ns.load_model("amp.nam")          # the C++ core, through the bridge
y = model.process(x)                      # float32 in, float32 out; state carries over
ref = ns.reference.load_model("amp.nam")  # the independent pure-numpy oracle
"""

from __future__ import annotations

from . import reference
from .errors import AudioError, ModelError, NeuralSynthError

__version__ = "0.1.0"

__all__ = ["AudioError", "Model", "ModelError", "NeuralSynthError", "load_model", "reference", "__version__"]


def load_model(path, sample_rate=None, max_block_size=4096):  # noqa: ANN001, ANN201
    """Load a NAM ``.nam`` or RTNeural JSON model into the C++ core (see :class:`neuralsynth.model.Model`)."""
    from .model import load_model as _load

    return _load(path, sample_rate=sample_rate, max_block_size=max_block_size)


def __getattr__(name: str):  # noqa: ANN202
    if name == "Model":
        from .model import Model

        return Model
    raise AttributeError(name)
