"""Apply ``.fxp``/``.fxb`` presets to plugins in DawDreamer and pedalboard; random presets.

* VST2 in DawDreamer: the file is checked with our parser, its fxID against the plugin's unique
  id and its parameter count against the plugin's, then DawDreamer's ``load_preset`` loads it
  (DawDreamer itself checks neither the id nor the sizes).
* VST3 (DawDreamer or pedalboard): an ``FxCk`` program sets the parameters by index (normalized
  0..1 values). An ``FPCh`` program of one of our JUCE plugins is decoded: in DawDreamer each
  ``PARAM`` (a real value) is converted to the normalized value of the parameter whose name
  matches its id (``input_gain`` <-> "Input Gain") with the range DawDreamer reports
  (linear ranges, as our plugins have); in pedalboard the plugin's JUCE state is replaced
  (``raw_state``). A bank applies its current program (``FxBk``) or its chunk (``FBCh``).
  VST3 plugins have no VST2 unique id, so no id check happens there.

Anything that cannot apply raises :class:`~neuralsynth.presets.PresetError`.
"""

from __future__ import annotations

import copy
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from ..plugins.files import param_key, plugin_format
from .convert import JuceState, decode_juce_chunk
from .fxp import Bank, PresetError, Program, fourcc, parse_plugin_id, read_preset, write_fxp
from .vst2_probe import vst2_info

__all__ = [
    "check_plugin_id",
    "apply_preset_dawdreamer",
    "apply_preset_pedalboard",
    "random_programs",
    "write_random_presets",
    "plugin_kind",
]

PARAM_TOLERANCE = 1e-6


def plugin_kind(plugin_path: str | os.PathLike) -> str:
    """``"vst2"`` for a ``.so``, ``"vst3"`` for a ``.vst3`` bundle."""
    fmt = plugin_format(plugin_path)
    if fmt in ("vst2", "vst3"):
        return fmt
    suffix = Path(plugin_path).suffix.lower()
    raise PresetError(f"{plugin_path}: expected a VST2 .so or a .vst3 bundle, found a {suffix or 'suffix-less'} path")


def _expected_id(plugin: int | str | os.PathLike) -> tuple[int, str]:
    if isinstance(plugin, int) and not isinstance(plugin, bool):
        return parse_plugin_id(plugin), "the given id"
    if isinstance(plugin, os.PathLike) or (isinstance(plugin, str) and plugin_format(plugin) in ("vst2", "vst3")):
        if plugin_kind(plugin) == "vst3":
            raise PresetError(f"{plugin}: a VST3 plugin has no VST2 unique id to check a preset against")
        return vst2_info(plugin)["unique_id"], f"{plugin}"
    return parse_plugin_id(plugin), "the given id"


def check_plugin_id(
    preset: Program | Bank, plugin: int | str | os.PathLike, source: str | os.PathLike | None = None
) -> None:
    """Raise :class:`PresetError` unless the preset's fxID is the plugin's unique id.

    ``plugin`` is a VST2 ``.so`` path (its id is read with :func:`vst2_info`), an int id, or four
    characters. In a bank, every program's fxID is checked too.
    """
    expected, origin = _expected_id(plugin)
    where = f"{source}: " if source is not None else ""
    found = [("fxID", preset.plugin_id)]
    if isinstance(preset, Bank) and preset.programs is not None:
        found += [(f"program {i}: fxID", p.plugin_id) for i, p in enumerate(preset.programs)]
    for field, value in found:
        if value != expected:
            raise PresetError(
                f"{where}{field}: expected {fourcc(expected)!r} (the unique id of {origin}), found {fourcc(value)!r}: "
                "the preset is for another plugin"
            )


def _check_vst2_fit(preset: Program | Bank, info: dict[str, Any], source: str | os.PathLike) -> None:
    n = info["num_params"]
    programs: list[Program] = []
    if isinstance(preset, Program):
        if preset.params is not None:
            programs = [preset]
        elif not info["program_chunks"]:
            raise PresetError(f"{source}: fxMagic: the preset is an opaque chunk (FPCh), but the plugin has no chunks")
    else:
        if preset.programs is not None:
            programs = preset.programs
            if len(programs) > max(info["num_programs"], 1):
                raise PresetError(
                    f"{source}: numPrograms: expected at most {info['num_programs']} (the plugin's program count), "
                    f"found {len(programs)}"
                )
        elif not info["program_chunks"]:
            raise PresetError(f"{source}: fxMagic: the bank is an opaque chunk (FBCh), but the plugin has no chunks")
    for i, p in enumerate(programs):
        assert p.params is not None
        if len(p.params) != n:
            what = "numParams" if isinstance(preset, Program) else f"program {i}: numParams"
            raise PresetError(f"{source}: {what}: expected {n} (the plugin's parameter count), found {len(p.params)}")


def _program_for_vst3(preset: Program | Bank, source: str | os.PathLike) -> Program | JuceState:
    """What to apply to a VST3 plugin: a parameter list, or a decoded JUCE state."""
    if isinstance(preset, Bank):
        if preset.chunk is not None:
            chunk = preset.chunk
        else:
            assert preset.programs is not None
            if not preset.programs:
                raise PresetError(f"{source}: numPrograms: expected at least 1 program to apply, found 0")
            index = preset.current_program or 0
            if not 0 <= index < len(preset.programs):
                index = 0
            return preset.programs[index]
    elif preset.params is not None:
        return preset
    else:
        assert preset.chunk is not None
        chunk = preset.chunk
    state = decode_juce_chunk(chunk)
    if state is None:
        raise PresetError(
            f"{source}: chunk: expected a JUCE plugin state (copyXmlToBinary XML) to apply to a VST3 plugin, "
            "found an opaque chunk only the VST2 plugin can read"
        )
    return state


def _number(text: Any) -> float | None:
    try:
        return float(str(text).strip())
    except ValueError:
        return None


def _last_is_bypass(processor: Any, n: int) -> bool:
    try:
        return n > 0 and param_key(str(processor.get_parameter_name(n - 1))) == "bypass"
    except Exception:  # noqa: BLE001 - a host without names: no special case
        return False


def _instrument_mapping(descs: list[dict[str, Any]]) -> dict[str, tuple[int, Any]]:
    """NeuralSynth instrument parameter id -> (host index, parameter spec), for parameters the host shows."""
    try:
        from ..synth import parameters
    except Exception:  # noqa: BLE001 - the bridge is not built: no instrument mapping
        return {}
    by_name = {str(d["name"]): int(d["index"]) for d in descs}
    return {p.id: (by_name[p.name], p) for p in parameters() if p.name in by_name}


def apply_preset_dawdreamer(
    processor: Any, path: str | os.PathLike, plugin_path: str | os.PathLike
) -> Program | Bank:
    """Load a ``.fxp``/``.fxb`` into a DawDreamer plugin processor; return the parsed preset.

    ``plugin_path`` is the file the processor was made from: ``.so`` = VST2, ``.vst3`` = VST3.
    """
    kind = plugin_kind(plugin_path)
    preset = read_preset(path)
    if kind == "vst2":
        info = vst2_info(plugin_path)
        check_plugin_id(preset, info["unique_id"], source=path)
        _check_vst2_fit(preset, info, path)
        if not processor.load_preset(str(path)):
            raise PresetError(f"{path}: DawDreamer could not load the preset into {plugin_path} (load_preset failed)")
        return preset
    target = _program_for_vst3(preset, path)
    if isinstance(target, Program):
        assert target.params is not None
        n = int(processor.get_plugin_parameter_size())
        if len(target.params) == n - 1 and _last_is_bypass(processor, n):
            n -= 1  # JUCE's VST3 wrapper appends a Bypass parameter the VST2 build does not have
        if len(target.params) != n:
            raise PresetError(
                f"{path}: numParams: expected {n} (the plugin's parameter count), found {len(target.params)}"
            )
        for i, v in enumerate(target.params):
            processor.set_parameter(i, float(v))
        return preset
    descs = processor.get_parameters_description()
    by_id = {param_key(str(d["name"])): d for d in descs}
    # Our instrument's parameters are skewed (log cutoff, ...): through VST3 use its own mapping.
    ours = _instrument_mapping(descs) if kind == "vst3" else {}
    updates: list[tuple[int, float]] = []
    for pid, real in target.params.items():
        if pid in ours:
            index, spec = ours[pid]
            updates.append((index, spec.to_normalized(real)))
            continue
        d = by_id.get(param_key(pid))
        if d is None:
            raise PresetError(
                f"{path}: chunk: parameter id {pid!r} is not a parameter of {plugin_path} "
                f"(it has {', '.join(str(x['name']) for x in descs)})"
            )
        lo, hi = _number(d.get("min")), _number(d.get("max"))
        if lo is None or hi is None:  # switches: DawDreamer reports min/max as "Off"/"On"
            lo, hi = 0.0, 1.0
        norm = 0.0 if hi == lo else (real - lo) / (hi - lo)
        updates.append((int(d["index"]), float(np.clip(norm, 0.0, 1.0))))
    for index, norm in updates:
        processor.set_parameter(index, norm)
    return preset


def apply_preset_pedalboard(plugin: Any, path: str | os.PathLike) -> Program | Bank:
    """Load a ``.fxp``/``.fxb`` into a pedalboard VST3 plugin; return the parsed preset."""
    preset = read_preset(path)
    target = _program_for_vst3(preset, path)
    if isinstance(target, Program):
        assert target.params is not None
        by_index = {int(p.index): p for p in plugin.parameters.values()}
        if sorted(by_index) != list(range(len(target.params))):
            raise PresetError(
                f"{path}: numParams: expected {len(by_index)} (the plugin's parameter count), "
                f"found {len(target.params)}"
            )
        for i, v in enumerate(target.params):
            by_index[i].raw_value = float(v)
        return preset
    from ..plugins import juce_state

    try:
        current = juce_state.plugin_state(plugin.raw_state)
    except (ValueError, ET.ParseError, UnicodeDecodeError, IndexError) as e:
        raise PresetError(f"{path}: the plugin's own state is not a JUCE state ({e}); cannot apply the chunk") from None
    if current.tag != target.root:
        raise PresetError(
            f"{path}: chunk: root element: expected {current.tag!r} (the plugin's state), found {target.root!r}"
        )
    element = copy.deepcopy(current)
    params = {c.get("id"): c for c in element if c.tag == "PARAM"}
    for pid in target.params:
        if pid not in params:
            raise PresetError(
                f"{path}: chunk: parameter id {pid!r} is not a parameter of the plugin "
                f"(it has {', '.join(map(str, params))})"
            )
    element.attrib.update(target.attributes)
    for pid, value in target.params.items():
        params[pid].set("value", repr(float(value)))
    if target.extra:
        for child in [c for c in element if c.tag != "PARAM"]:
            element.remove(child)
        for text in target.extra:
            element.append(ET.fromstring(text))
    before = {c.get("id"): _number(c.get("value")) for c in current if c.tag == "PARAM"}
    plugin.raw_state = juce_state.with_plugin_state(plugin.raw_state, element)
    # The plugin may snap values to its steps or clamp them to its range; a value that did not
    # move at all although the preset asks for another one means the plugin ignored the state.
    applied = juce_state.plugin_state(plugin.raw_state)
    after = {c.get("id"): _number(c.get("value")) for c in applied if c.tag == "PARAM"}
    for pid, value in target.params.items():
        got = after.get(pid)
        if got is None or (got == before.get(pid) and abs(got - value) > 0.01 * max(1.0, abs(value))):
            raise PresetError(f"{path}: the plugin did not take parameter {pid!r}: set {value}, it reports {got}")
    return preset


# --------------------------------------------------------------------------- random presets


def random_programs(
    plugin_path: str | os.PathLike, count: int, seed: int, name_prefix: str = "random"
) -> list[Program]:
    """``count`` FxCk programs for a VST2 plugin, each parameter uniform in [0, 1) (float32).

    The values come from ``numpy.random.default_rng(seed)``: the same seed gives the same programs.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise PresetError(f"count: expected a whole number >= 0, found {count!r}")
    info = vst2_info(plugin_path)
    rng = np.random.default_rng(seed)
    values = rng.random((count, info["num_params"]), dtype=np.float32)
    programs = []
    for i in range(count):
        name = f"{name_prefix} {seed} {i}"
        if len(name) > 27 or not name.isascii():
            name = f"rnd {i}"[:27]
        programs.append(
            Program(
                name=name,
                plugin_id=info["unique_id"],
                params=[float(v) for v in values[i]],
                plugin_version=info["version"] & 0xFFFFFFFF,
            )
        )
    return programs


def write_random_presets(
    plugin_path: str | os.PathLike, count: int, seed: int, out_dir: str | os.PathLike
) -> list[Path]:
    """Write :func:`random_programs` as ``<plugin>_<seed>_<NNNN>.fxp`` files into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(plugin_path).stem) or "plugin"
    width = max(4, len(str(max(count - 1, 0))))
    paths = []
    for i, program in enumerate(random_programs(plugin_path, count, seed)):
        paths.append(write_fxp(program, out / f"{stem}_{seed}_{i:0{width}d}.fxp"))
    return paths
