"""Parameters as the checks handle them.

Effects: in the parameter's own units, described from pedalboard's plugin object when there is
one, otherwise from the effect's parameter layout (:mod:`neuralsynth.plugins.effect_params`).
Instruments: as host-normalized 0..1 values, so nothing depends on the plugin's own ranges.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..effect_params import EFFECT_RANGES, EFFECT_SWITCHES
from ..files import param_key
from .context import Host, InstrumentHost
from .results import CheckFailed


def is_bypass(name: str) -> bool:
    return param_key(name) == "bypass"


# --------------------------------------------------------------------------------------------
# Effects: real values


@dataclass(frozen=True)
class ParamInfo:
    key: str  # what host.set_parameter accepts
    label: str  # the plugin's own name
    minimum: float
    maximum: float
    is_bool: bool
    automatable: bool = True

    @property
    def is_bypass(self) -> bool:
        return is_bypass(self.label) or is_bypass(self.key)


def _native_parameters(host: Host) -> dict[str, Any] | None:
    params = getattr(getattr(host, "plugin", None), "parameters", None)
    if isinstance(params, dict) and params and all(hasattr(p, "raw_value") for p in params.values()):
        return params
    return None


def param_table(host: Host) -> list[ParamInfo]:
    native = _native_parameters(host)
    table: list[ParamInfo] = []
    if native is not None:
        for key, p in native.items():
            is_bool = getattr(p, "type", float) is bool
            lo, hi = (0.0, 1.0) if is_bool else (float(p.range[0]), float(p.range[1]))
            table.append(ParamInfo(key, str(getattr(p, "name", key)), lo, hi, is_bool,
                                   bool(getattr(p, "is_automatable", True))))
        return table
    for name in host.parameter_names:
        s = param_key(name)
        base = next((k for k in EFFECT_RANGES if s.startswith(k)), None)
        if s in EFFECT_SWITCHES:
            table.append(ParamInfo(name, name, 0.0, 1.0, True))
        elif base is not None:
            table.append(ParamInfo(name, name, *EFFECT_RANGES[base], False))
        else:
            table.append(ParamInfo(name, name, 0.0, 1.0, False))  # Control 1.. and anything unknown
    return table


def snapshot(host: Host) -> dict[str, float]:
    """Every parameter's value: pedalboard's exact normalised values, else get_parameter."""
    native = _native_parameters(host)
    if native is not None:
        return {k: float(p.raw_value) for k, p in native.items()}
    getter = getattr(host, "get_parameter", None)
    if getter is None:
        raise CheckFailed("the host cannot read parameter values")
    return {name: float(getter(name)) for name in host.parameter_names}


def restore(host: Host, values: dict[str, float]) -> None:
    """Set back what :func:`snapshot` read."""
    native = _native_parameters(host)
    for key, value in values.items():
        if native is not None:
            native[key].raw_value = value
        else:
            host.set_parameter(key, value)


def set_value(host: Host, p: ParamInfo, value: float | bool) -> None:
    host.set_parameter(p.key, bool(value) if p.is_bool else float(value))


def random_value(p: ParamInfo, rng: np.random.Generator) -> float | bool:
    if p.is_bool:
        return bool(rng.random() < 0.5)
    return float(rng.uniform(p.minimum, p.maximum))


def _current_value(host: Host, p: ParamInfo) -> float | None:
    """The parameter's value in its own units (approximate for pedalboard: a linear range is assumed)."""
    native = _native_parameters(host)
    if native is not None:
        raw = float(native[p.key].raw_value)
        return float(raw >= 0.5) if p.is_bool else p.minimum + raw * (p.maximum - p.minimum)
    getter = getattr(host, "get_parameter", None)
    return float(getter(p.key)) if getter is not None else None


def other_value(host: Host, p: ParamInfo) -> float | bool:
    """A value clearly different from the parameter's current one."""
    current = _current_value(host, p)
    if p.is_bool:
        return not (current is not None and current >= 0.5)
    span = p.maximum - p.minimum
    value = p.minimum + 0.62 * span
    if current is not None and abs(value - current) < 0.05 * span:
        value = p.minimum + 0.27 * span
    return round(value, 1)


# --------------------------------------------------------------------------------------------
# Instruments: normalized values


def bypass_name(inst: InstrumentHost) -> str | None:
    return next((k for k in inst.parameter_names if is_bypass(k)), None)


def normalized_values(inst: InstrumentHost) -> dict[str, float]:
    return {k: float(inst.get_normalized(k)) for k in inst.parameter_names}


def apply_normalized(inst: InstrumentHost, values: Mapping[str, float]) -> None:
    for k, v in values.items():
        inst.set_normalized(k, v)


def other_normalized(value: float) -> float:
    """A normalized value clearly different from ``value``."""
    return 0.62 if abs(value - 0.62) > 0.1 else 0.27


def fastest_attacks(names: Sequence[str]) -> dict[str, float]:
    """Attack-time parameters (by name) at their minimum: at their maximum they keep a short render quiet."""
    return {k: 0.0 for k in names if "attack" in param_key(k)}
