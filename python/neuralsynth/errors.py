"""Exceptions raised by neuralsynth."""

from __future__ import annotations


class NeuralSynthError(Exception):
    """Base class of every error neuralsynth raises on purpose."""


class ModelError(NeuralSynthError, ValueError):
    """A model file could not be loaded or used.

    The message names the file, the field and what was expected versus found.
    """


class AudioError(NeuralSynthError, ValueError):
    """An audio file could not be read or written, or does not fit the model."""


class SynthError(NeuralSynthError, ValueError):
    """Bad arguments to the synth (unknown parameter, bad notes, ...)."""
