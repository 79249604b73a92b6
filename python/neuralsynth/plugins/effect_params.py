"""The effect plugin's parameters as Python knows them: ranges in their own units, and switches.

The one copy in Python of what plugin_src declares for the effect (DawDreamer's wrapper and the
validator need the ranges to turn real values into the 0..1 values DawDreamer takes). Keys are
:func:`~neuralsynth.plugins.files.param_key` keys of the parameter names.
"""

from __future__ import annotations

EFFECT_RANGES: dict[str, tuple[float, float]] = {
    "input_gain": (-24.0, 24.0),
    "output_gain": (-24.0, 24.0),
    "mix": (0.0, 100.0),
}
EFFECT_SWITCHES: frozenset[str] = frozenset({"dc_block", "bypass"})
