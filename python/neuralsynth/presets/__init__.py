"""VST2 presets: read and write ``.fxp``/``.fxb`` files, convert them to JSON, apply them to plugins.

::

    from neuralsynth import presets

    program = presets.read_fxp("lead.fxp")              # Program(name, plugin_id, params | chunk)
    presets.write_fxp(program, "copy.fxp")              # byte-exact round trip
    doc = presets.program_to_json(program)              # readable JSON (names, values, units)
    presets.check_plugin_id(program, "/usr/lib/vst/Nekobi-vst.so")
    presets.apply_preset_dawdreamer(processor, "lead.fxp", "/usr/lib/vst/Nekobi-vst.so")
    presets.random_programs("/usr/lib/vst/Nekobi-vst.so", count=10, seed=0)

The file format is described in :mod:`neuralsynth.presets.fxp`, the JSON in
:mod:`neuralsynth.presets.convert`. Every malformed file or preset that does not fit a plugin
raises :class:`PresetError` (a :class:`~neuralsynth.errors.NeuralSynthError` and a ``ValueError``).
"""

from __future__ import annotations

from .apply import (
    apply_preset_dawdreamer,
    apply_preset_pedalboard,
    check_plugin_id,
    plugin_kind,
    random_programs,
    write_random_presets,
)
from .convert import (
    JuceState,
    bank_from_json,
    bank_to_json,
    dawdreamer_descriptions,
    decode_juce_chunk,
    encode_juce_chunk,
    normalize_descriptions,
    preset_from_json,
    preset_to_json,
    program_from_json,
    program_to_json,
)
from .fxp import (
    Bank,
    PresetError,
    Program,
    bank_from_bytes,
    bank_to_bytes,
    fourcc,
    parse_plugin_id,
    preset_from_bytes,
    preset_to_bytes,
    program_from_bytes,
    program_to_bytes,
    read_fxb,
    read_fxp,
    read_preset,
    write_bytes_atomic,
    write_fxb,
    write_fxp,
    write_preset,
)
from .vst2_probe import Vst2ProbeError, vst2_info

__all__ = [
    "Bank",
    "JuceState",
    "PresetError",
    "Program",
    "Vst2ProbeError",
    "apply_preset_dawdreamer",
    "apply_preset_pedalboard",
    "bank_from_bytes",
    "bank_from_json",
    "bank_to_bytes",
    "bank_to_json",
    "check_plugin_id",
    "dawdreamer_descriptions",
    "decode_juce_chunk",
    "encode_juce_chunk",
    "fourcc",
    "normalize_descriptions",
    "parse_plugin_id",
    "plugin_kind",
    "preset_from_bytes",
    "preset_from_json",
    "preset_to_bytes",
    "preset_to_json",
    "program_from_bytes",
    "program_from_json",
    "program_to_bytes",
    "program_to_json",
    "random_programs",
    "read_fxb",
    "read_fxp",
    "read_preset",
    "vst2_info",
    "write_bytes_atomic",
    "write_fxb",
    "write_fxp",
    "write_preset",
    "write_random_presets",
]
