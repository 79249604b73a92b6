"""Write a predicted parameter vector as an ``.fxp`` preset a host (and our own preset loader) accepts.

The file is an ``FxCk`` program (a parameter list of normalized float32 values), written with the project's
fxp writer (:func:`neuralsynth.presets.write_fxp`, atomic: a temporary file renamed over the target).

* VST2 ``.so``: fxID and fxVersion are the plugin's unique id and version, probed from the shared object
  (:func:`neuralsynth.presets.vst2_info`, in a child process); the value count must be the plugin's
  parameter count. :func:`~neuralsynth.presets.apply_preset_dawdreamer` (and a DAW) load it as any
  ``.fxp``.
* VST3 bundle: :func:`~neuralsynth.presets.apply_preset_dawdreamer` applies an ``FxCk`` program to a VST3
  by setting its parameters by index (no id check; JUCE's trailing ``Bypass`` may be left out, and is: pass
  the VST2 parameter count). A VST3 cannot be probed for a VST2 id, so fxID is the code our build gives the
  plugin of that name (:func:`neuralsynth.plugins.build.plugin_code` of the bundle's name, the VST2 build's
  unique id), unless ``plugin_id`` says otherwise; the same file then loads into the VST2 build too.
  The parameter count is checked when ``num_params`` or ``names`` give it.

Bad input (a count that does not match, a value outside 0..1 or not finite, a bad program name, a file
name without ``.fxp``) raises ``ValueError`` (:class:`~neuralsynth.presets.PresetError`) naming what is
wrong; nothing is written then.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

from ..presets.apply import plugin_kind
from ..presets.fxp import MAX_NAME_CHARS, PresetError, Program, parse_plugin_id, write_fxp
from ..presets.vst2_probe import vst2_info

__all__ = ["write_guess_fxp"]

VST3_FX_VERSION = 1  # what the factory presets of our plugins carry


def _label(i: int, names: Sequence[str] | None) -> str:
    return f"parameter {i} ({names[i]!r})" if names is not None and i < len(names) else f"parameter {i}"


def _check_name(program_name: object) -> str:
    if not isinstance(program_name, str):
        raise PresetError(f"program_name: expected a str, found {type(program_name).__name__}")
    if not program_name.isascii() or "\0" in program_name:
        raise PresetError(f"program_name: expected ASCII characters without NUL, found {program_name!r}")
    if len(program_name) > MAX_NAME_CHARS:
        raise PresetError(
            f"program_name: an .fxp holds at most {MAX_NAME_CHARS} characters, found {len(program_name)} "
            f"({program_name!r})"
        )
    return program_name


def _values(params: Sequence[float], names: Sequence[str] | None) -> list[float]:
    try:
        items = list(params)
    except TypeError:
        raise PresetError(f"params: expected a sequence of numbers, found {type(params).__name__}") from None
    values = []
    for i, v in enumerate(items):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):  # numpy floats and ints are Real
            raise PresetError(f"{_label(i, names)}: expected a number, found {v!r}")
        f = float(v)
        if not math.isfinite(f):
            raise PresetError(f"{_label(i, names)}: expected a finite normalized value in 0..1, found {f}")
        if not 0.0 <= f <= 1.0:
            raise PresetError(f"{_label(i, names)}: expected a normalized value in 0..1, found {f!r}")
        values.append(f)
    if not values:
        raise PresetError("params: expected at least one value, found none")
    return values


def write_guess_fxp(
    path: str | os.PathLike,
    plugin_path: str,
    params: Sequence[float],
    program_name: str,
    *,
    num_params: int | None = None,
    names: Sequence[str] | None = None,
    plugin_id: int | str | None = None,
) -> Path:
    """Write ``params`` (normalized 0..1, one per plugin parameter, plugin order) as an FxCk ``.fxp``.

    ``num_params``/``names``: the plugin's parameter count / names if known (a dataset manifest's
    ``parameters``); names make errors name the parameter. ``plugin_id``: the fxID to write (VST3 only;
    a VST2's id is always the probed one). Returns the path written.
    """
    target = Path(path)
    if target.suffix.lower() != ".fxp":
        raise PresetError(f"{path}: expected a file name ending in .fxp")
    if target.is_dir():
        raise PresetError(f"{path}: is a directory")
    name = _check_name(program_name)
    if names is not None:
        names = [str(n) for n in names]
    values = _values(params, names)
    kind = plugin_kind(plugin_path)

    expected: int | None = None
    origin = ""
    if num_params is not None:
        if isinstance(num_params, bool) or not isinstance(num_params, int) or num_params < 1:
            raise PresetError(f"num_params: expected a whole number >= 1, found {num_params!r}")
        expected, origin = num_params, "num_params"
    if names is not None:
        if expected is not None and len(names) != expected:
            raise PresetError(f"names: {len(names)} names, but num_params is {expected}")
        expected, origin = len(names), "the parameter names given"

    if kind == "vst2":
        info = vst2_info(plugin_path)
        if plugin_id is not None and parse_plugin_id(plugin_id) != info["unique_id"]:
            raise PresetError(
                f"plugin_id: {plugin_id!r} is not the unique id of {plugin_path} ({info['unique_id_text']!r})"
            )
        if expected is not None and expected != info["num_params"]:
            raise PresetError(
                f"{origin}: {expected} parameters, but {plugin_path} has {info['num_params']}"
            )
        expected, origin = int(info["num_params"]), f"{plugin_path}'s parameter count"
        fx_id = int(info["unique_id"])
        fx_version = int(info["version"]) & 0xFFFFFFFF
    else:
        if plugin_id is not None:
            fx_id = parse_plugin_id(plugin_id)
        else:
            from ..plugins.build import plugin_code

            fx_id = parse_plugin_id(plugin_code(Path(plugin_path).stem))
        fx_version = VST3_FX_VERSION
    if expected is not None and len(values) != expected:
        raise PresetError(f"params: expected {expected} values ({origin}), found {len(values)}")

    program = Program(name=name, plugin_id=fx_id, params=values, plugin_version=fx_version)
    return write_fxp(program, target)
