"""Loading a model file with one of the two inference engines.

``"cpp"`` is the C++ core through the bridge (:func:`neuralsynth.load_model`), ``"numpy"`` the
numpy reference (:func:`neuralsynth.reference.load_model`). An engine that cannot be imported, a
missing file or a directory is a :class:`~neuralsynth.errors.NeuralSynthError` that says so.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import ModelError, NeuralSynthError

__all__ = ["DEFAULT_ENGINE", "ENGINES", "load_with_engine"]

ENGINES = ("cpp", "numpy")
DEFAULT_ENGINE = "cpp"


def load_with_engine(engine: str, path: str) -> Any:
    """Load ``path`` with the chosen engine ("cpp" or "numpy")."""
    if not os.path.exists(path):
        raise ModelError(f"{path}: no such model file")
    if os.path.isdir(path):
        raise ModelError(f"{path}: is a directory, not a model file")
    if engine == "numpy":
        try:
            from neuralsynth import reference
        except ImportError as exc:
            raise NeuralSynthError(f"the numpy reference engine is not available ({exc})") from exc
        return reference.load_model(path)

    try:
        import neuralsynth

        loader = getattr(neuralsynth, "load_model", None)
        if loader is None:
            from neuralsynth.model import load_model as loader
        return loader(path)
    except ImportError as exc:  # the C++ bridge is not built or does not load
        raise NeuralSynthError(
            f"the C++ engine is not available ({exc}); build the bridge or pass --engine numpy"
        ) from exc
