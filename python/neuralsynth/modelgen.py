"""Generators of random (but well-formed) model files, for tests and benchmarks.

Every generator takes a :class:`numpy.random.Generator` and returns the model as
a JSON-serialisable dict (plain Python floats and ints) in the file format it
targets; :func:`write_model` writes one to disk.  Weights are scaled like
``1 / sqrt(fan_in)`` so that activations neither vanish nor saturate.

NAM (``.nam``, format 0.5.x): :func:`nam_wavenet`, :func:`nam_wavenet_preset`,
:func:`nam_lstm`, :func:`nam_linear`.
RTNeural Keras JSON: :func:`rtneural_model`, :func:`rtneural_rnn`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

NAM_VERSION = "0.5.4"

WAVENET_PRESETS = ("standard", "lite", "feather", "nano")

_POW2_TO_512 = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
_LITE_DILATIONS_1 = [1, 2, 4, 8, 16, 32, 64]
_LITE_DILATIONS_2 = [128, 256, 512, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512]


def write_model(d: dict[str, Any], path: str | Path) -> Path:
    """Write a model dict as JSON; returns the path."""
    p = Path(path)
    p.write_text(json.dumps(d, allow_nan=False))
    return p


def _normal(rng: np.random.Generator, count: int, scale: float) -> list[float]:
    return [float(v) for v in rng.normal(0.0, scale, size=count)]


def _nested(rng: np.random.Generator, shape: tuple[int, ...], scale: float) -> Any:
    return rng.normal(0.0, scale, size=shape).astype(np.float64).tolist()


# --------------------------------------------------------------------------- #
# NAM
# --------------------------------------------------------------------------- #


def _nam_doc(
    architecture: str,
    config: dict[str, Any],
    weights: list[float],
    sample_rate: float | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "version": NAM_VERSION,
        "architecture": architecture,
        "config": config,
        "weights": weights,
        "metadata": {
            "name": f"random {architecture}",
            "generator": "neuralsynth.modelgen",
        },
    }
    if sample_rate is not None:
        doc["sample_rate"] = (
            float(sample_rate)
            if not float(sample_rate).is_integer()
            else int(sample_rate)
        )
    return doc


def nam_wavenet(
    rng: np.random.Generator,
    arrays: Sequence[dict[str, Any]],
    head_scale: float = 0.02,
    sample_rate: float | None = 48000,
) -> dict[str, Any]:
    """A random NAM WaveNet.

    ``arrays`` holds one dict per layer array with keys ``channels``,
    ``head_size``, ``kernel_size`` (default 3), ``dilations``, ``gated``
    (default False), ``activation`` (default "Tanh"), ``head_bias`` (default
    False), ``input_size`` (default: ``condition_size`` for the first array,
    the previous array's channels after) and ``condition_size`` (default 1).
    The weight vector follows the 0.5.x order and ends with ``head_scale``.
    """
    if not arrays:
        raise ValueError("nam_wavenet needs at least one layer array")
    configs: list[dict[str, Any]] = []
    weights: list[float] = []
    prev_channels: int | None = None
    for spec in arrays:
        cond = int(spec.get("condition_size", 1))
        c = int(spec["channels"])
        default_in = cond if prev_channels is None else prev_channels
        in_size = int(spec.get("input_size", default_in))
        head_size = int(spec["head_size"])
        k = int(spec.get("kernel_size", 3))
        dilations = [int(d) for d in spec["dilations"]]
        gated = bool(spec.get("gated", False))
        head_bias = bool(spec.get("head_bias", False))
        activation = str(spec.get("activation", "Tanh"))
        gc = (2 if gated else 1) * c
        configs.append(
            {
                "input_size": in_size,
                "condition_size": cond,
                "head_size": head_size,
                "channels": c,
                "kernel_size": k,
                "dilations": dilations,
                "activation": activation,
                "gated": gated,
                "head_bias": head_bias,
            }
        )
        # rechannel (C x input_size), no bias
        weights += _normal(rng, c * in_size, 1.0 / math.sqrt(in_size))
        # residual 1x1s are scaled down with depth so the residual stream stays O(1)
        res_scale = 1.0 / math.sqrt(c * len(dilations))
        for _ in dilations:
            weights += _normal(rng, gc * c * k, 1.0 / math.sqrt(c * k))  # dilated conv
            weights += _normal(rng, gc, 0.1)  # its bias
            weights += _normal(rng, gc * cond, 1.0 / math.sqrt(cond))  # input mixin
            weights += _normal(rng, c * c, res_scale)  # 1x1
            weights += _normal(rng, c, 0.05)  # 1x1 bias
        # head rechannel (head_size x C), head accumulates len(dilations) terms
        weights += _normal(rng, head_size * c, 1.0 / math.sqrt(c * len(dilations)))
        if head_bias:
            weights += _normal(rng, head_size, 0.05)
        prev_channels = c
    weights.append(float(head_scale))
    config = {"layers": configs, "head": None, "head_scale": float(head_scale)}
    return _nam_doc("WaveNet", config, weights, sample_rate)


def _two_array_preset(
    c1: int, h1: int, d1: list[int], c2: int, d2: list[int]
) -> list[dict[str, Any]]:
    return [
        {
            "input_size": 1,
            "condition_size": 1,
            "channels": c1,
            "head_size": h1,
            "kernel_size": 3,
            "dilations": list(d1),
            "activation": "Tanh",
            "gated": False,
            "head_bias": False,
        },
        {
            "input_size": c1,
            "condition_size": 1,
            "channels": c2,
            "head_size": 1,
            "kernel_size": 3,
            "dilations": list(d2),
            "activation": "Tanh",
            "gated": False,
            "head_bias": True,
        },
    ]


def wavenet_preset_arrays(name: str) -> list[dict[str, Any]]:
    """Layer-array specs of the NAM trainer's WaveNet presets."""
    if name == "standard":
        return _two_array_preset(16, 8, _POW2_TO_512, 8, _POW2_TO_512)
    if name == "lite":
        return _two_array_preset(12, 6, _LITE_DILATIONS_1, 6, _LITE_DILATIONS_2)
    if name == "feather":
        return _two_array_preset(8, 4, _LITE_DILATIONS_1, 4, _LITE_DILATIONS_2)
    if name == "nano":
        return _two_array_preset(4, 2, _LITE_DILATIONS_1, 2, _LITE_DILATIONS_2)
    raise ValueError(
        f"unknown WaveNet preset {name!r} (known: {', '.join(WAVENET_PRESETS)})"
    )


def nam_wavenet_preset(
    rng: np.random.Generator,
    name: str,
    head_scale: float = 0.02,
    sample_rate: float | None = 48000,
) -> dict[str, Any]:
    """A random WaveNet with the layout of a NAM trainer preset.

    ``name`` is one of "standard" (13,802 weights), "lite", "feather", "nano".
    """
    return nam_wavenet(
        rng, wavenet_preset_arrays(name), head_scale=head_scale, sample_rate=sample_rate
    )


def nam_lstm(
    rng: np.random.Generator,
    hidden_size: int,
    num_layers: int = 1,
    input_size: int = 1,
    sample_rate: float | None = 48000,
) -> dict[str, Any]:
    """A random NAM LSTM, with small random initial h0/c0."""
    h = int(hidden_size)
    weights: list[float] = []
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else h
        weights += _normal(rng, 4 * h * (layer_in + h), 1.0 / math.sqrt(layer_in + h))
        weights += _normal(rng, 4 * h, 0.1)  # bias
        weights += _normal(rng, h, 0.1)  # h0
        weights += _normal(rng, h, 0.1)  # c0
    weights += _normal(rng, h, 1.0 / math.sqrt(h))  # head weight
    weights += _normal(rng, 1, 0.01)  # head bias
    config = {
        "input_size": int(input_size),
        "hidden_size": h,
        "num_layers": int(num_layers),
    }
    return _nam_doc("LSTM", config, weights, sample_rate)


def nam_linear(
    rng: np.random.Generator,
    receptive_field: int,
    bias: bool = True,
    sample_rate: float | None = 48000,
) -> dict[str, Any]:
    """A random NAM Linear (FIR) model."""
    r = int(receptive_field)
    weights = _normal(rng, r, 1.0 / math.sqrt(r))
    if bias:
        weights += _normal(rng, 1, 0.01)
    config = {"receptive_field": r, "bias": bool(bias)}
    return _nam_doc("Linear", config, weights, sample_rate)


# --------------------------------------------------------------------------- #
# RTNeural
# --------------------------------------------------------------------------- #


def rtneural_model(
    rng: np.random.Generator,
    in_size: int,
    layers_spec: Sequence[tuple[Any, ...]],
    samplerate: float | None = None,
) -> dict[str, Any]:
    """A random RTNeural Keras JSON model.

    ``layers_spec`` entries:

    * ``("dense", out, activation="")`` (also ``"time-distributed-dense"``)
    * ``("gru", H)``, ``("lstm", H)``
    * ``("conv1d", out, K, d, groups, activation)``
    * ``("batchnorm", affine)``
    * ``("prelu", shared)``
    * ``("activation", name)``
    """
    size = int(in_size)
    layers: list[dict[str, Any]] = []
    for spec in layers_spec:
        kind = spec[0]
        layer: dict[str, Any]
        if kind in ("dense", "time-distributed-dense"):
            out = int(spec[1])
            act = str(spec[2]) if len(spec) > 2 else ""
            layer = {
                "type": kind,
                "activation": act,
                "shape": [None, None, out],
                "weights": [
                    _nested(rng, (size, out), 1.0 / math.sqrt(size)),
                    _nested(rng, (out,), 0.1),
                ],
            }
            size = out
        elif kind in ("gru", "lstm"):
            h = int(spec[1])
            gates = 3 if kind == "gru" else 4
            bias_shape = (2, gates * h) if kind == "gru" else (gates * h,)
            layer = {
                "type": kind,
                "activation": "tanh",
                "shape": [None, None, h],
                "weights": [
                    _nested(rng, (size, gates * h), 1.0 / math.sqrt(size)),
                    _nested(rng, (h, gates * h), 1.0 / math.sqrt(h)),
                    _nested(rng, bias_shape, 0.1),
                ],
            }
            size = h
        elif kind == "conv1d":
            out, k, d, groups = int(spec[1]), int(spec[2]), int(spec[3]), int(spec[4])
            act = str(spec[5]) if len(spec) > 5 else ""
            if size % groups or out % groups:
                raise ValueError(
                    f"conv1d groups {groups} must divide {size} inputs and {out} outputs"
                )
            in_g = size // groups
            layer = {
                "type": "conv1d",
                "activation": act,
                "shape": [None, None, out],
                "kernel_size": [k],
                "dilation": [d],
                "groups": groups,
                "weights": [
                    _nested(rng, (k, in_g, out), 1.0 / math.sqrt(k * in_g)),
                    _nested(rng, (out,), 0.1),
                ],
            }
            size = out
        elif kind == "batchnorm":
            affine = bool(spec[1])
            mean = _nested(rng, (size,), 0.1)
            var = rng.uniform(0.5, 1.5, size=size).tolist()
            stats = [mean, var]
            if affine:
                gamma = (1.0 + rng.normal(0.0, 0.1, size=size)).tolist()
                beta = _nested(rng, (size,), 0.1)
                stats = [gamma, beta, mean, var]
            layer = {
                "type": "batchnorm",
                "activation": "",
                "shape": [None, None, size],
                "epsilon": 0.001,
                "weights": stats,
            }
        elif kind == "prelu":
            shared = bool(spec[1])
            alpha = rng.uniform(0.05, 0.3, size=(1, 1 if shared else size)).tolist()
            layer = {
                "type": "prelu",
                "activation": "",
                "shape": [None, None, size],
                "weights": [alpha],
            }
        elif kind == "activation":
            layer = {
                "type": "activation",
                "activation": str(spec[1]),
                "shape": [None, None, size],
                "weights": [],
            }
        else:
            raise ValueError(f"unknown layer kind {kind!r}")
        layers.append(layer)
    doc: dict[str, Any] = {"in_shape": [None, None, int(in_size)], "layers": layers}
    if samplerate is not None:
        doc["samplerate"] = float(samplerate)
    return doc


def rtneural_rnn(
    rng: np.random.Generator, kind: str = "gru", hidden: int = 8
) -> dict[str, Any]:
    """rnn(hidden) -> dense(1), the usual RTNeural amp-model layout."""
    if kind not in ("gru", "lstm"):
        raise ValueError(f"kind must be 'gru' or 'lstm', not {kind!r}")
    return rtneural_model(rng, 1, [(kind, hidden), ("dense", 1, "")])
