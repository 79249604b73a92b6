"""Preset JSON with parameter names, units and display values, from a plugin or the instrument's table.

:func:`described_json` is what ``neuralsynth preset show/to-json`` print and write: the preset's
JSON (:func:`~neuralsynth.presets.convert.preset_to_json`) with, for every program that stores
parameter values, the parameters described either by the plugin itself (opened in DawDreamer,
which also checks a VST2 preset's plugin id) or by the NeuralSynth instrument's parameter table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .apply import check_plugin_id, plugin_kind
from .convert import dawdreamer_descriptions, preset_to_json, program_to_json
from .fxp import Bank, PresetError, Program

__all__ = ["described_json", "instrument_descriptions", "plugin_descriptions"]

Descriptions = list[dict[str, Any]]


def _programs(preset: Program | Bank) -> list[Program] | list[Program | Bank]:
    """The programs of a bank that stores programs; otherwise the preset itself."""
    return preset.programs if isinstance(preset, Bank) and preset.programs is not None else [preset]


def _has_params(p: Program | Bank) -> bool:
    return isinstance(p, Program) and p.params is not None


def plugin_descriptions(plugin: str, preset: Program | Bank, source: str) -> list[Descriptions | None]:
    """Per program of the preset: descriptions with display values from the plugin (None for chunks).

    ``plugin`` is a VST2 ``.so`` (whose id must match the preset's; ``source`` names the preset in
    that error) or a ``.vst3``; it is opened in DawDreamer only when some program stores values.
    """
    from ..plugins.dawdreamer import open_processor
    from ..plugins.files import check_plugin_path

    kind = plugin_kind(plugin)
    check_plugin_path(Path(plugin))
    if kind == "vst2":
        check_plugin_id(preset, plugin, source=source)
    programs = _programs(preset)
    if not any(_has_params(p) for p in programs):
        return [None] * len(programs)
    _engine, processor = open_processor(plugin, name="preset")  # the engine owns the processor: keep it
    return [dawdreamer_descriptions(processor, p.params) if _has_params(p) else None for p in programs]


def instrument_descriptions(preset: Program | Bank, source: str) -> list[Descriptions | None]:
    """Descriptions from the NeuralSynth instrument's own parameter table (no plugin needed)."""
    from ..synth import parameters

    table = parameters()
    out: list[Descriptions | None] = []
    for p in _programs(preset):
        if not _has_params(p):
            out.append(None)
            continue
        if len(p.params) != len(table):
            raise PresetError(
                f"{source}: {len(p.params)} parameters, but the NeuralSynth instrument has {len(table)}"
            )
        descs = []
        for q, n in zip(table, p.params, strict=True):
            real = q.from_normalized(n)
            display = q.choices[int(round(real))] if q.scale == "choice" else f"{real:.6g}"
            descs.append({"index": q.index, "name": q.name, "unit": q.unit, "real": real, "display": display})
        out.append(descs)
    return out


def described_json(
    preset: Program | Bank, plugin: str | None = None, source: str = "preset", instrument: bool = False
) -> dict[str, Any]:
    """The preset's JSON; with ``plugin`` or ``instrument``, its parameters described (see the module)."""
    if plugin is None and not instrument:
        return preset_to_json(preset)
    descs = instrument_descriptions(preset, source) if instrument else plugin_descriptions(plugin, preset, source)
    if isinstance(preset, Bank):
        doc = preset_to_json(preset)
        if preset.programs is not None:
            doc["programs"] = [program_to_json(p, d) for p, d in zip(preset.programs, descs, strict=True)]
        return doc
    return preset_to_json(preset, descs[0])
