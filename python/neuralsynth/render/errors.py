"""Errors of ``neuralsynth render`` and ``neuralsynth dataset check``."""

from __future__ import annotations

from ..errors import NeuralSynthError


class RenderError(NeuralSynthError):
    """A render cannot start or go on: bad options, a plugin that does not load, an unusable output folder."""


class RenderOptionError(RenderError, ValueError):
    """An option has a bad value (notes, velocities, durations, --fixed, ...)."""


class DatasetError(NeuralSynthError):
    """A rendered dataset folder cannot be read at all (no manifest, not a folder)."""
