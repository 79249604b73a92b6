"""Reference reader and float64 evaluator of RTNeural Keras JSON models.

Top level: ``{"in_shape": [null, ..., N_in], "layers": [...]}`` plus optional
``samplerate`` (number or numeric string).  Each layer has ``type``,
``activation`` (``""`` or a name), ``shape`` (last entry = output size) and
``weights``, plus type-specific fields.  Every weight array is checked against
the sizes the layers declare.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from neuralsynth.reference.layers import (
    GRU,
    LSTM,
    MAX_DILATION,
    MAX_KERNEL_SIZE,
    MAX_LAYERS,
    MAX_RECEPTIVE_FIELD,
    MAX_STATE_VALUES,
    MAX_UNITS,
    ActivationFn,
    ActivationLayer,
    Array,
    BatchNorm,
    Conv1D,
    Dense,
    Layer,
    PReLU,
    ReferenceModel,
    Sequential,
    as_float,
    as_int,
    as_list,
    as_object,
    as_str,
    describe,
    elu,
    fail,
    identity,
    is_number,
    join,
    leaky_relu,
    nested_weights,
    relu,
    require,
    sigmoid,
    softmax,
    tanh,
)

SUPPORTED_LAYER_TYPES = (
    "dense",
    "time-distributed-dense",
    "gru",
    "lstm",
    "conv1d",
    "batchnorm",
    "prelu",
    "activation",
)

SUPPORTED_ACTIVATIONS = (
    "",
    "linear",
    "tanh",
    "sigmoid",
    "relu",
    "elu",
    "softmax",
    "leakyrelu",
)

KERAS_LEAKYRELU_ALPHA = 0.3


def activation_fn(
    name: str, layer: dict[str, Any], path: str, source: str
) -> ActivationFn:
    """The function for an RTNeural activation name (``path`` names the field)."""
    simple: dict[str, Callable[[Array], Array]] = {
        "": identity,
        "linear": identity,
        "tanh": tanh,
        "sigmoid": sigmoid,
        "relu": relu,
        "elu": elu,
        "softmax": softmax,
    }
    if name in simple:
        return simple[name]
    if name == "leakyrelu":
        alpha = KERAS_LEAKYRELU_ALPHA
        layer_path = path.rsplit(".", 1)[0]
        if layer.get("alpha") is not None:
            alpha = as_float(layer["alpha"], join(layer_path, "alpha"), source)
        return partial(leaky_relu, alpha=alpha)
    quoted = ", ".join(repr(a) for a in SUPPORTED_ACTIVATIONS)
    raise fail(
        source, path, f"activation {name!r} is not supported (supported: {quoted})"
    )


def load_rtneural_dict(d: Any, source: str = "<dict>") -> ReferenceModel:
    """Build a ReferenceModel from a parsed RTNeural JSON document."""
    doc = as_object(d, "", source)
    in_shape = as_list(require(doc, "in_shape", "", source), "in_shape", source)
    if not in_shape:
        raise fail(
            source, "in_shape", "expected a list ending with the input size, found []"
        )
    num_inputs = as_int(
        in_shape[-1], f"in_shape[{len(in_shape) - 1}]", source, 1, MAX_UNITS
    )

    sample_rate: float | None = None
    if doc.get("samplerate") is not None:
        sample_rate = _parse_samplerate(doc["samplerate"], source)

    layers_raw = as_list(require(doc, "layers", "", source), "layers", source)
    if not layers_raw:
        raise fail(source, "layers", "expected at least one layer, found an empty list")
    if len(layers_raw) > MAX_LAYERS:
        raise fail(
            source,
            "layers",
            f"{len(layers_raw)} layers is too many (at most {MAX_LAYERS})",
        )

    layers: list[Layer] = []
    num_weights = 0
    recurrent = False
    receptive_field = 1
    state_values = 0
    size = num_inputs
    for index, value in enumerate(layers_raw):
        path = f"layers[{index}]"
        layer = as_object(value, path, source)
        kind = as_str(require(layer, "type", path, source), f"{path}.type", source)
        if kind not in SUPPORTED_LAYER_TYPES:
            raise fail(
                source,
                f"{path}.type",
                f"layer type {kind!r} is not supported "
                f"(supported: {', '.join(SUPPORTED_LAYER_TYPES)})",
            )
        out_size = _declared_out_size(layer, path, source)
        built, count = _build_layer(kind, layer, path, size, out_size, source)
        layers.extend(built)
        num_weights += count
        if kind in ("gru", "lstm"):
            recurrent = True
        for item in built:
            if isinstance(item, Conv1D):
                receptive_field += item.history_len
                state_values += item.history_len * item.in_size
        size = out_size

    if receptive_field > MAX_RECEPTIVE_FIELD:
        raise fail(
            source,
            "layers",
            f"receptive field {receptive_field} is too large (at most {MAX_RECEPTIVE_FIELD})",
        )
    if state_values > MAX_STATE_VALUES:
        raise fail(
            source,
            "layers",
            f"the convolution history would hold {state_values} values (at most {MAX_STATE_VALUES})",
        )

    return ReferenceModel(
        Sequential(layers),
        architecture="RTNeural",
        format="rtneural",
        sample_rate=sample_rate,
        num_inputs=num_inputs,
        num_outputs=size,
        num_weights=num_weights,
        receptive_field=None if recurrent else receptive_field,
        source=source,
    )


def _parse_samplerate(value: Any, source: str) -> float:
    rate: float | None = None
    if is_number(value):
        rate = float(value)
    elif isinstance(value, str):
        try:
            rate = float(value.strip())
        except ValueError:
            rate = None
    if rate is None or not math.isfinite(rate) or rate <= 0:
        raise fail(
            source,
            "samplerate",
            f"expected a positive number or numeric string, found {describe(value)}",
        )
    return rate


def _declared_out_size(layer: dict[str, Any], path: str, source: str) -> int:
    shape_path = f"{path}.shape"
    shape = as_list(require(layer, "shape", path, source), shape_path, source)
    if not shape:
        raise fail(
            source, shape_path, "expected a list ending with the output size, found []"
        )
    return as_int(shape[-1], f"{shape_path}[{len(shape) - 1}]", source, 1, MAX_UNITS)


def _weights_list(
    layer: dict[str, Any], path: str, source: str, allowed: tuple[int, ...], what: str
) -> list[Any]:
    wpath = f"{path}.weights"
    weights = as_list(require(layer, "weights", path, source), wpath, source)
    if len(weights) not in allowed:
        options = " or ".join(str(n) for n in allowed)
        raise fail(
            source, wpath, f"expected {options} arrays ({what}), found {len(weights)}"
        )
    return weights


def _activation_name(layer: dict[str, Any], path: str, source: str) -> str:
    if layer.get("activation") is None:
        return ""
    return as_str(layer["activation"], f"{path}.activation", source)


def _single_int(
    layer: dict[str, Any],
    key: str,
    path: str,
    source: str,
    hi: int,
    default: int | None,
) -> int:
    """An integer field that Keras writes either as n or as [n]."""
    fpath = f"{path}.{key}"
    if key not in layer:
        if default is None:
            raise fail(source, fpath, "missing")
        return default
    value = layer[key]
    if isinstance(value, list):
        if len(value) != 1:
            raise fail(
                source,
                fpath,
                f"expected one value (1-d convolution), found {len(value)}",
            )
        return as_int(value[0], f"{fpath}[0]", source, 1, hi)
    return as_int(value, fpath, source, 1, hi)


def _build_layer(
    kind: str,
    layer: dict[str, Any],
    path: str,
    in_size: int,
    out_size: int,
    source: str,
) -> tuple[list[Layer], int]:
    """Returns (layers, number of weight values)."""
    act_name = _activation_name(layer, path, source)
    act_path = f"{path}.activation"
    wpath = f"{path}.weights"

    def same_size(name: str) -> None:
        if out_size != in_size:
            raise fail(
                source,
                f"{path}.shape",
                f"a {name} layer keeps the size: expected last entry {in_size}, found {out_size}",
            )

    def no_activation(name: str) -> None:
        if act_name not in ("", "linear"):
            raise fail(
                source,
                act_path,
                f'a {name} layer takes no activation (expected ""), found {act_name!r}',
            )

    if kind in ("dense", "time-distributed-dense"):
        fn = activation_fn(act_name, layer, act_path, source)
        weights = _weights_list(layer, path, source, (1, 2), "kernel and optional bias")
        kernel = nested_weights(
            weights[0],
            (in_size, out_size),
            f"{wpath}[0]",
            source,
            f"dense kernel must be {in_size} x {out_size}: inputs x outputs, outputs from {path}.shape",
        )
        bias = None
        if len(weights) == 2:
            bias = nested_weights(
                weights[1], (out_size,), f"{wpath}[1]", source, "dense bias"
            )
        built: list[Layer] = [Dense(kernel, bias)]
        if act_name not in ("", "linear"):
            built.append(ActivationLayer(fn, out_size))
        return built, kernel.size + (0 if bias is None else bias.size)

    if kind in ("gru", "lstm"):
        if act_name not in ("", "tanh"):
            raise fail(
                source,
                act_path,
                f"a {kind} layer's activation must be tanh (RTNeural's only one), found {act_name!r}",
            )
        gates = 3 if kind == "gru" else 4
        h = out_size
        weights = _weights_list(
            layer, path, source, (3,), "kernel, recurrent kernel, bias"
        )
        kernel = nested_weights(
            weights[0],
            (in_size, gates * h),
            f"{wpath}[0]",
            source,
            f"{kind} kernel must be {in_size} x {gates * h}: inputs x {gates}*units, "
            f"with {h} units from {path}.shape",
        )
        rec = nested_weights(
            weights[1],
            (h, gates * h),
            f"{wpath}[1]",
            source,
            f"{kind} recurrent kernel must be {h} x {gates * h}: units x {gates}*units, "
            f"with {h} units from {path}.shape",
        )
        if kind == "gru":
            bias = nested_weights(
                weights[2],
                (2, gates * h),
                f"{wpath}[2]",
                source,
                f"gru bias must be 2 x {gates * h}: input and recurrent bias, Keras reset_after=True",
            )
            layer_obj: Layer = GRU(kernel, rec, bias)
        else:
            bias = nested_weights(
                weights[2],
                (gates * h,),
                f"{wpath}[2]",
                source,
                f"lstm bias must have 4*units = {gates * h} values",
            )
            layer_obj = LSTM(kernel, rec, bias)
        return [layer_obj], kernel.size + rec.size + bias.size

    if kind == "conv1d":
        fn = activation_fn(act_name, layer, act_path, source)
        k = _single_int(layer, "kernel_size", path, source, MAX_KERNEL_SIZE, None)
        dil = _single_int(layer, "dilation", path, source, MAX_DILATION, 1)
        groups = as_int(layer.get("groups", 1), f"{path}.groups", source, 1, MAX_UNITS)
        if in_size % groups != 0:
            raise fail(
                source,
                f"{path}.groups",
                f"{groups} groups do not divide the {in_size} input channels",
            )
        if out_size % groups != 0:
            raise fail(
                source,
                f"{path}.groups",
                f"{groups} groups do not divide the {out_size} output channels",
            )
        if (k - 1) * dil + 1 > MAX_RECEPTIVE_FIELD:
            raise fail(
                source,
                f"{path}.dilation",
                f"(kernel_size - 1) * dilation + 1 = {(k - 1) * dil + 1} is too large "
                f"(at most {MAX_RECEPTIVE_FIELD})",
            )
        if (k - 1) * dil * in_size > MAX_STATE_VALUES:
            raise fail(
                source,
                f"{path}.dilation",
                f"the history would hold {(k - 1) * dil * in_size} values (at most {MAX_STATE_VALUES})",
            )
        weights = _weights_list(layer, path, source, (1, 2), "kernel and optional bias")
        in_g = in_size // groups
        kernel = nested_weights(
            weights[0],
            (k, in_g, out_size),
            f"{wpath}[0]",
            source,
            f"conv1d kernel must be {k} x {in_g} x {out_size}: kernel_size x inputs/groups x outputs",
        )
        bias = None
        if len(weights) == 2:
            bias = nested_weights(
                weights[1], (out_size,), f"{wpath}[1]", source, "conv1d bias"
            )
        built = [Conv1D(kernel, bias, dilation=dil, groups=groups)]
        if act_name not in ("", "linear"):
            built.append(ActivationLayer(fn, out_size))
        return built, kernel.size + (0 if bias is None else bias.size)

    if kind == "batchnorm":
        same_size("batchnorm")
        no_activation("batchnorm")
        eps = as_float(
            require(layer, "epsilon", path, source), f"{path}.epsilon", source
        )
        if eps < 0:
            raise fail(
                source,
                f"{path}.epsilon",
                f"expected a non-negative number, found {eps!r}",
            )
        weights = _weights_list(
            layer,
            path,
            source,
            (2, 4),
            "[gamma, beta, moving_mean, moving_variance] or [moving_mean, moving_variance]",
        )
        arrays = [
            nested_weights(
                v,
                (in_size,),
                f"{wpath}[{i}]",
                source,
                f"batchnorm vectors have {in_size} values",
            )
            for i, v in enumerate(weights)
        ]
        if len(arrays) == 4:
            gamma, beta, mean, var = arrays
        else:
            gamma, beta = None, None
            mean, var = arrays
        var_index = len(arrays) - 1
        for i, v in enumerate(var):
            if not v + eps > 0:
                raise fail(
                    source,
                    f"{wpath}[{var_index}][{i}]",
                    f"moving variance {v!r} + epsilon {eps!r} must be positive",
                )
        return [BatchNorm(mean, var, eps, gamma, beta)], sum(a.size for a in arrays)

    if kind == "prelu":
        same_size("prelu")
        no_activation("prelu")
        weights = _weights_list(layer, path, source, (1,), "alpha")
        alpha_raw = weights[0]
        if (
            isinstance(alpha_raw, list)
            and len(alpha_raw) == 1
            and isinstance(alpha_raw[0], list)
            and len(alpha_raw[0]) == 1
        ):
            alpha = nested_weights(alpha_raw, (1, 1), f"{wpath}[0]", source)
        else:
            alpha = nested_weights(
                alpha_raw,
                (1, in_size),
                f"{wpath}[0]",
                source,
                f"prelu alpha must be 1 x {in_size} per channel, or 1 x 1 shared",
            )
        return [PReLU(alpha, in_size)], alpha.size

    # kind == "activation"
    same_size("activation")
    if "weights" in layer:
        weights = as_list(layer["weights"], wpath, source)
        if weights:
            raise fail(
                source,
                wpath,
                f"an activation layer has no weights, found {len(weights)} arrays",
            )
    fn = activation_fn(act_name, layer, act_path, source)
    return [ActivationLayer(fn, in_size)], 0
