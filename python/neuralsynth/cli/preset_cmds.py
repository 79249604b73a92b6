"""The preset commands::

    neuralsynth preset show FILE [--plugin PLUGIN | --instrument] [--json]
    neuralsynth preset to-json FILE OUT.json [--plugin PLUGIN | --instrument]
    neuralsynth preset from-json IN.json OUT.fxp
    neuralsynth preset random PLUGIN --count N --seed S --out DIR

``--plugin`` (a VST2 ``.so`` or a ``.vst3``) checks a VST2 preset's plugin id and adds the
parameter names, units and the plugin's own display text (read through DawDreamer);
``--instrument`` takes them from the NeuralSynth instrument's parameter table.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..presets import (
    Bank,
    PresetError,
    Program,
    fourcc,
    plugin_kind,
    preset_from_json,
    read_preset,
    write_bytes_atomic,
    write_preset,
    write_random_presets,
)
from ..presets.describe import described_json
from .validators import non_negative_int, positive_int

__all__ = ["add_parsers"]


def _format_program(doc: dict[str, Any], indent: str = "  ") -> list[str]:
    lines = [f"{indent}name: {doc['name']!r}"]
    if "params" in doc:
        lines.append(f"{indent}parameters: {len(doc['params'])}")
        for p in doc["params"]:
            label = p.get("name", "")
            shown = f"{p['value']:.6f}"
            if "display" in p:
                shown += f"  {p['display']}" + (f" {p['unit']}" if p.get("unit") else "")
            elif "real" in p:
                shown += f"  {p['real']:g}" + (f" {p['unit']}" if p.get("unit") else "")
            lines.append(f"{indent}  {p['index']:4d}  {label:<24} {shown}")
    else:
        lines += _format_chunk(doc["chunk"], indent)
    return lines


def _format_chunk(chunk: dict[str, Any], indent: str) -> list[str]:
    if chunk["encoding"] == "base64":
        size = len(chunk["data"]) * 3 // 4 - chunk["data"][-2:].count("=")
        return [f"{indent}chunk: {size} bytes, opaque (not a JUCE state)"]
    lines = [f"{indent}chunk: JUCE state <{chunk['root']}>"]
    for key, value in chunk.get("attributes", {}).items():
        lines.append(f"{indent}  @{key} = {value!r}")
    for pid, value in chunk["params"].items():
        lines.append(f"{indent}  {pid:<24} {value:g}")
    for text in chunk.get("extra", []):
        lines.append(f"{indent}  {text[:100]}")
    return lines


def _format(doc: dict[str, Any], source: str, size: int) -> str:
    kind = "bank" if doc["type"] == "vst2-bank" else "program"
    pid = doc["plugin_id"]
    lines = [f"{source}: {kind} ({doc['format']}), {size} bytes"]
    lines.append(f"  plugin id: {pid!r}, plugin version: {doc['plugin_version']}")
    if kind == "program":
        lines += _format_program(doc)
    elif "programs" in doc:
        lines.append(f"  programs: {len(doc['programs'])}, current: {doc.get('current_program', '-')}")
        for i, p in enumerate(doc["programs"]):
            lines.append(f"  program {i}:")
            lines += _format_program(p, "    ")
    else:
        lines.append(f"  numPrograms: {doc['num_programs']}")
        lines += _format_chunk(doc["chunk"], "  ")
    return "\n".join(lines)


def _write_text(text: str, out: str) -> None:
    if out == "-":
        sys.stdout.write(text)
    else:
        write_bytes_atomic(text.encode("utf-8"), out)


def _cmd_show(args: argparse.Namespace) -> int:
    preset = read_preset(args.file)
    doc = described_json(preset, args.plugin, args.file, args.instrument)
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(_format(doc, args.file, Path(args.file).stat().st_size))
    return 0


def _cmd_to_json(args: argparse.Namespace) -> int:
    preset = read_preset(args.file)
    doc = described_json(preset, args.plugin, args.file, args.instrument)
    _write_text(json.dumps(doc, indent=2) + "\n", args.out)
    return 0


def _cmd_from_json(args: argparse.Namespace) -> int:
    try:
        text = Path(args.input).read_text(encoding="utf-8")
    except OSError as e:
        raise PresetError(f"{args.input}: cannot read it: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise PresetError(f"{args.input}: expected UTF-8 JSON text") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise PresetError(f"{args.input}: not JSON: {e}") from None
    try:
        preset = preset_from_json(doc)
    except PresetError as e:
        raise PresetError(f"{args.input}: {e}") from None
    suffix = Path(args.out).suffix.lower()
    if isinstance(preset, Bank) and suffix == ".fxp":
        raise PresetError(f"{args.out}: the JSON holds a bank: write it to a .fxb file")
    if isinstance(preset, Program) and suffix == ".fxb":
        raise PresetError(f"{args.out}: the JSON holds a program: write it to a .fxp file")
    write_preset(preset, args.out)
    print(f"{args.out}: {preset.fx_magic} for plugin {fourcc(preset.plugin_id)!r}")
    return 0


def _cmd_random(args: argparse.Namespace) -> int:
    from ..plugins.files import check_plugin_path

    if plugin_kind(args.plugin) != "vst2":
        raise PresetError(f"{args.plugin}: random presets need a VST2 .so plugin")
    check_plugin_path(Path(args.plugin))
    for path in write_random_presets(args.plugin, args.count, args.seed, args.out):
        print(path)
    return 0


def _add_descriptions_source(p: argparse.ArgumentParser, verb: str) -> None:
    """--plugin or --instrument: where parameter names, units and values come from."""
    who = p.add_mutually_exclusive_group()
    who.add_argument("--plugin", help=f"VST2 .so or .vst3: check the plugin id, {verb} parameter names and units")
    who.add_argument("--instrument", action="store_true",
                     help="names, units and values from the NeuralSynth instrument's parameter table")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``preset show|to-json|from-json|random`` to the command line's subparsers."""
    preset = sub.add_parser("preset", help="VST2 .fxp/.fxb presets: show, convert to/from JSON, make random ones")
    psub = preset.add_subparsers(dest="preset_command", metavar="SUBCOMMAND", required=True)

    p = psub.add_parser("show", help="print a preset's header, parameters or chunk")
    p.add_argument("file", metavar="FILE", help=".fxp or .fxb file")
    _add_descriptions_source(p, "show")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_show)

    p = psub.add_parser("to-json", help="convert a .fxp/.fxb into readable JSON")
    p.add_argument("file", metavar="FILE", help=".fxp or .fxb file")
    p.add_argument("out", metavar="OUT.json", help="JSON file to write (- for stdout)")
    _add_descriptions_source(p, "add")
    p.set_defaults(func=_cmd_to_json)

    p = psub.add_parser("from-json", help="write a .fxp/.fxb from JSON made by to-json")
    p.add_argument("input", metavar="IN.json")
    p.add_argument("out", metavar="OUT.fxp", help=".fxp (program) or .fxb (bank) file to write")
    p.set_defaults(func=_cmd_from_json)

    p = psub.add_parser("random", help="write random FxCk presets for a VST2 plugin")
    p.add_argument("plugin", metavar="PLUGIN", help="VST2 .so")
    p.add_argument("--count", type=positive_int, required=True, help="number of presets")
    p.add_argument("--seed", type=non_negative_int, required=True, help="random seed (same seed, same presets)")
    p.add_argument("--out", required=True, help="folder to write the .fxp files into")
    p.set_defaults(func=_cmd_random)
