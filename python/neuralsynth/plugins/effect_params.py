"""The effect plugin's parameters as Python knows them: ranges in their own units, and switches.

Read from the core's one table (plugin_src/core/effect/params.h) through the bridge
(``ns_effect_param_info``), so nothing here restates what the plugin declares. DawDreamer's wrapper
and the validator need the ranges to turn real values into the 0..1 values DawDreamer takes. Keys
are :func:`~neuralsynth.plugins.files.param_key` keys of the parameter names (the table's ids).
The model controls (0..1, the default range) are left out.
"""

from __future__ import annotations

from .._bridge import ffi, lib

_TOGGLE = 5  # ns_param_info.scale of an on/off parameter


def _table() -> list[tuple[str, float, float, int]]:
    info = ffi.new("ns_param_info*")
    rows = []
    for i in range(lib().ns_effect_param_count()):
        lib().ns_effect_param_info(i, info)
        rows.append((ffi.string(info.id).decode(), float(info.min_value), float(info.max_value), int(info.scale)))
    return rows


_ROWS = _table()
EFFECT_RANGES: dict[str, tuple[float, float]] = {
    pid: (lo, hi) for pid, lo, hi, scale in _ROWS if scale != _TOGGLE and not pid.startswith("control_")
}
EFFECT_SWITCHES: frozenset[str] = frozenset(pid for pid, _, _, scale in _ROWS if scale == _TOGGLE)
