"""What the predictor predicts: one entry per plugin parameter, continuous or discrete.

A parameter is *discrete* when the plugin says it has a small number of steps: for the project's
own instrument the core's table (``Scale::Int`` / ``Scale::Choice`` in plugin_src/core/synth/params.h,
read through the bridge), for any other plugin what DawDreamer reports (``is_discrete`` or
``num_steps`` between 2 and :data:`MAX_CLASSES`). The class of a normalized value ``v`` of a
parameter with ``steps`` steps is ``round(v * (steps - 1))``; class ``k`` is the value ``k / (steps - 1)``.
A parameter that is the same in every training row (pinned with ``render --fixed``) is *fixed*: the
predictor returns that value and no head learns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

MAX_CLASSES = 64
"""A plugin parameter with more steps than this is treated as continuous."""

CONTINUOUS, DISCRETE, FIXED = "continuous", "discrete", "fixed"


@dataclass(frozen=True)
class ParamSpec:
    index: int
    name: str
    kind: str  # CONTINUOUS, DISCRETE or FIXED
    steps: int | None = None  # DISCRETE: number of classes
    value: float | None = None  # FIXED: the value of every training row

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> ParamSpec:
        return ParamSpec(int(d["index"]), str(d["name"]), str(d["kind"]),
                         None if d.get("steps") is None else int(d["steps"]),
                         None if d.get("value") is None else float(d["value"]))

    def snap(self, v: float) -> float:
        """The value this parameter can take nearest to ``v`` (clipped to 0..1)."""
        if self.kind == FIXED:
            return float(self.value)  # type: ignore[arg-type]
        v = float(np.clip(v, 0.0, 1.0))
        if self.kind == DISCRETE:
            assert self.steps is not None
            return round(v * (self.steps - 1)) / (self.steps - 1)
        return v

    def to_class(self, v: np.ndarray | float) -> np.ndarray:
        assert self.steps is not None
        return np.rint(np.clip(np.asarray(v, np.float64), 0.0, 1.0) * (self.steps - 1)).astype(np.int64)


def _is_neuralsynth(parameters: Sequence[Mapping[str, Any]]) -> bool:
    try:
        from ..synth import parameters as synth_parameters
    except Exception:  # no bridge
        return False
    names = [p.name for p in synth_parameters()]
    return [str(p.get("name")) for p in parameters] == names


def _steps_of(desc: Mapping[str, Any]) -> int | None:
    steps = desc.get("num_steps")
    try:
        steps = int(steps) if steps is not None else None
    except (TypeError, ValueError):
        steps = None
    if steps is not None and 2 <= steps <= MAX_CLASSES:
        return steps
    if desc.get("is_boolean"):
        return 2
    return None


def param_specs(parameters: Sequence[Mapping[str, Any]], train_params: np.ndarray | None = None) -> list[ParamSpec]:
    """The specs of a dataset's parameters (its manifest's ``parameters``), with ``train_params`` (N, P)
    the training rows' normalized vectors to find the fixed ones."""
    own = _is_neuralsynth(parameters)
    if own:
        from ..synth import parameters as synth_parameters

        table = synth_parameters()
    specs = []
    for i, desc in enumerate(parameters):
        name = str(desc.get("name", f"param {i}"))
        steps = None
        if own:
            p = table[i]
            if p.scale in ("int", "choice"):
                steps = int(round(p.max - p.min)) + 1
        else:
            steps = _steps_of(desc)
        if train_params is not None and train_params.shape[0] > 1 and np.ptp(train_params[:, i]) == 0.0:
            specs.append(ParamSpec(i, name, FIXED, value=float(train_params[0, i])))
        elif steps is not None:
            specs.append(ParamSpec(i, name, DISCRETE, steps=steps))
        else:
            specs.append(ParamSpec(i, name, CONTINUOUS))
    return specs


def kinds_for_metrics(specs: Sequence[ParamSpec]) -> list[tuple[str, int | None]]:
    """(kind, steps) per parameter, fixed ones counted as continuous (their error is 0 or a constant)."""
    return [(DISCRETE, s.steps) if s.kind == DISCRETE else (CONTINUOUS, None) for s in specs]
