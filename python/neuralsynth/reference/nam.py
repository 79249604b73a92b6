"""Reference reader and float64 evaluator of NAM ``.nam`` models (format 0.5.x).

A ``.nam`` file is JSON with ``version``, ``architecture``, ``config``, a flat
``weights`` list and optionally ``sample_rate`` and ``metadata``.  The weights
are consumed in a fixed order (documented per architecture below) and their
count must match the config exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuralsynth.reference.layers import (
    LSTM,
    MAX_DILATION,
    MAX_KERNEL_SIZE,
    MAX_LAYERS,
    MAX_RECEPTIVE_FIELD,
    MAX_STATE_VALUES,
    MAX_UNITS,
    ActivationFn,
    Array,
    Conv1D,
    Dense,
    ReferenceModel,
    Sequential,
    as_bool,
    as_float,
    as_int,
    as_list,
    as_object,
    as_str,
    conv1d_valid,
    describe,
    fail,
    flat_weights,
    hardtanh,
    join,
    leaky_relu,
    relu,
    require,
    sigmoid,
    tanh,
)

SUPPORTED_ARCHITECTURES = ("Linear", "LSTM", "WaveNet")

_VERSION_RE = re.compile(r"0\.5\.\d+")


def _leaky_relu_001(x: Array) -> Array:
    return leaky_relu(x, 0.01)


# NAM activation names.  "Fasttanh" is NAM's approximation of tanh; the
# reference uses the exact tanh.
WAVENET_ACTIVATIONS: dict[str, ActivationFn] = {
    "Tanh": tanh,
    "Fasttanh": tanh,
    "ReLU": relu,
    "Sigmoid": sigmoid,
    "Hardtanh": hardtanh,
    "LeakyReLU": _leaky_relu_001,
}


class _Weights:
    """Consumes the flat weight vector in order."""

    def __init__(self, values: Array) -> None:
        self.values = values
        self.pos = 0

    def take(self, count: int) -> Array:
        # The count was checked against the config before reading.
        assert self.pos + count <= self.values.shape[0], "weight vector overrun"
        out = self.values[self.pos : self.pos + count]
        self.pos += count
        return out

    def matrix(self, rows: int, cols: int) -> Array:
        """rows x cols values stored row-major."""
        return self.take(rows * cols).reshape(rows, cols)


def load_nam_dict(d: Any, source: str = "<dict>") -> ReferenceModel:
    """Build a ReferenceModel from a parsed ``.nam`` document."""
    doc = as_object(d, "", source)
    _check_version(doc, source)
    arch = as_str(require(doc, "architecture", "", source), "architecture", source)
    config = as_object(require(doc, "config", "", source), "config", source)
    raw_weights = as_list(require(doc, "weights", "", source), "weights", source)
    sample_rate: float | None = None
    if doc.get("sample_rate") is not None:
        sample_rate = as_float(doc["sample_rate"], "sample_rate", source)
        if sample_rate <= 0:
            raise fail(
                source,
                "sample_rate",
                f"expected a positive number, found {sample_rate!r}",
            )

    builders: dict[str, Callable[[dict[str, Any], list[Any], str], _Built]] = {
        "Linear": _build_linear,
        "LSTM": _build_lstm,
        "WaveNet": _build_wavenet,
    }
    if arch not in builders:
        raise fail(
            source,
            "architecture",
            f"{arch!r} is not supported (supported: {', '.join(SUPPORTED_ARCHITECTURES)})",
        )
    built = builders[arch](config, raw_weights, source)
    return ReferenceModel(
        built.net,
        architecture=arch,
        format="nam",
        sample_rate=sample_rate,
        num_inputs=built.num_inputs,
        num_outputs=built.num_outputs,
        num_weights=len(raw_weights),
        receptive_field=built.receptive_field,
        source=source,
    )


def _check_version(doc: dict[str, Any], source: str) -> None:
    if "version" not in doc:
        raise fail(source, "version", 'missing (expected a string like "0.5.4")')
    version = doc["version"]
    if not isinstance(version, str):
        raise fail(
            source,
            "version",
            f'expected a string like "0.5.4", found {describe(version)}',
        )
    if not _VERSION_RE.fullmatch(version):
        raise fail(
            source,
            "",
            f"version {version} is not supported (this reader handles NAM format 0.5.x)",
        )


@dataclass
class _Built:
    net: Any
    num_inputs: int
    num_outputs: int
    receptive_field: int | None


def _check_count(expected: int, raw: list[Any], arch: str, source: str) -> Array:
    if len(raw) != expected:
        raise fail(
            source,
            "weights",
            f"expected {expected} values for this {arch} config, found {len(raw)}",
        )
    return flat_weights(raw, "weights", source)


# --------------------------------------------------------------------------- #
# Linear: y[t] = b + sum_{k=0}^{R-1} w[k] * x[t-k]
# weights: w[0..R-1], then the bias if config.bias
# --------------------------------------------------------------------------- #


def _build_linear(config: dict[str, Any], raw: list[Any], source: str) -> _Built:
    rf = as_int(
        require(config, "receptive_field", "config", source),
        "config.receptive_field",
        source,
        1,
        MAX_RECEPTIVE_FIELD,
    )
    bias = as_bool(require(config, "bias", "config", source), "config.bias", source)
    w = _Weights(_check_count(rf + (1 if bias else 0), raw, "Linear", source))
    taps = w.take(rf)
    b = w.take(1) if bias else None
    # Conv1D tap k multiplies x[t - (K-1-k)], NAM's w[j] multiplies x[t-j]:
    # kernel[k] = w[K-1-k].
    kernel = taps[::-1].reshape(rf, 1, 1)
    return _Built(Conv1D(kernel, b), num_inputs=1, num_outputs=1, receptive_field=rf)


# --------------------------------------------------------------------------- #
# LSTM
# per layer l (input size I for l = 0, else H):
#   W (4H x (in_l + H)) row-major, columns [input | hidden]; bias (4H); h0 (H); c0 (H)
# then head weight (H), head bias (1).  Gate order i, f, g, o.
# --------------------------------------------------------------------------- #


def _build_lstm(config: dict[str, Any], raw: list[Any], source: str) -> _Built:
    in_size = as_int(
        require(config, "input_size", "config", source),
        "config.input_size",
        source,
        1,
        MAX_UNITS,
    )
    hidden = as_int(
        require(config, "hidden_size", "config", source),
        "config.hidden_size",
        source,
        1,
        MAX_UNITS,
    )
    num_layers = as_int(
        require(config, "num_layers", "config", source),
        "config.num_layers",
        source,
        1,
        MAX_LAYERS,
    )
    expected = 0
    for layer in range(num_layers):
        layer_in = in_size if layer == 0 else hidden
        expected += 4 * hidden * (layer_in + hidden) + 4 * hidden + 2 * hidden
    expected += hidden + 1
    w = _Weights(_check_count(expected, raw, "LSTM", source))

    layers: list[Any] = []
    for layer in range(num_layers):
        layer_in = in_size if layer == 0 else hidden
        mat = w.matrix(4 * hidden, layer_in + hidden)
        bias = w.take(4 * hidden)
        h0 = w.take(hidden)
        c0 = w.take(hidden)
        layers.append(LSTM(mat[:, :layer_in].T, mat[:, layer_in:].T, bias, h0, c0))
    head_w = w.take(hidden)
    head_b = w.take(1)
    layers.append(Dense(head_w.reshape(hidden, 1), head_b))
    return _Built(
        Sequential(layers), num_inputs=in_size, num_outputs=1, receptive_field=None
    )


# --------------------------------------------------------------------------- #
# WaveNet
# --------------------------------------------------------------------------- #


@dataclass
class _ArrayConfig:
    input_size: int
    condition_size: int
    head_size: int
    channels: int
    kernel_size: int
    dilations: list[int]
    activation: str
    gated: bool
    head_bias: bool

    def weight_count(self) -> int:
        c = self.channels
        gc = (2 if self.gated else 1) * c
        count = c * self.input_size  # rechannel
        per_layer = (
            gc * c * self.kernel_size + gc + gc * self.condition_size + c * c + c
        )
        count += per_layer * len(self.dilations)
        count += self.head_size * c + (self.head_size if self.head_bias else 0)
        return count


def _parse_array_config(value: Any, path: str, source: str) -> _ArrayConfig:
    obj = as_object(value, path, source)

    def size(key: str, hi: int = MAX_UNITS) -> int:
        return as_int(require(obj, key, path, source), join(path, key), source, 1, hi)

    input_size = size("input_size")
    condition_size = size("condition_size")
    head_size = size("head_size")
    channels = size("channels")
    kernel_size = size("kernel_size", MAX_KERNEL_SIZE)
    dil_path = join(path, "dilations")
    dil_list = as_list(require(obj, "dilations", path, source), dil_path, source)
    if not dil_list:
        raise fail(
            source, dil_path, "expected at least one dilation, found an empty list"
        )
    if len(dil_list) > MAX_LAYERS:
        raise fail(
            source,
            dil_path,
            f"{len(dil_list)} layers is too many (at most {MAX_LAYERS})",
        )
    dilations = [
        as_int(v, f"{dil_path}[{i}]", source, 1, MAX_DILATION)
        for i, v in enumerate(dil_list)
    ]
    act_path = join(path, "activation")
    activation = as_str(require(obj, "activation", path, source), act_path, source)
    if activation not in WAVENET_ACTIVATIONS:
        raise fail(
            source,
            act_path,
            f"{activation!r} is not supported (supported: {', '.join(WAVENET_ACTIVATIONS)})",
        )
    gated = as_bool(require(obj, "gated", path, source), join(path, "gated"), source)
    head_bias = as_bool(
        require(obj, "head_bias", path, source), join(path, "head_bias"), source
    )
    return _ArrayConfig(
        input_size=input_size,
        condition_size=condition_size,
        head_size=head_size,
        channels=channels,
        kernel_size=kernel_size,
        dilations=dilations,
        activation=activation,
        gated=gated,
        head_bias=head_bias,
    )


class _WaveNetLayer:
    """One dilated residual layer of a layer array, streaming.

    ``conv_kernel`` is (K, C, G*C) with tap K-1 on the current frame.  The
    layer keeps the last ``span = d * (K-1)`` frames of its input.
    """

    def __init__(
        self,
        conv_kernel: Array,
        conv_bias: Array,
        dilation: int,
        mixin: Dense,
        out1x1: Dense,
        channels: int,
        gated: bool,
        activation: ActivationFn,
    ) -> None:
        self.conv_kernel = conv_kernel
        self.conv_bias = conv_bias
        self.dilation = dilation
        self.span = dilation * (conv_kernel.shape[0] - 1)
        self.mixin = mixin
        self.out1x1 = out1x1
        self.channels = channels
        self.gated = gated
        self.activation = activation
        self.history = np.zeros((self.span, channels), dtype=np.float64)

    def forward(self, x: Array, cond: Array) -> tuple[Array, Array]:
        """x (n, C) and cond (n, condition_size): the next n frames.

        Returns (residual output, head contribution), both (n, C).
        """
        padded = np.concatenate([self.history, x], axis=0)
        z = conv1d_valid(padded, self.conv_kernel, self.dilation) + self.conv_bias
        z = z + self.mixin.forward(cond)
        if self.gated:
            c = self.channels
            z = self.activation(z[:, :c]) * sigmoid(z[:, c:])
        else:
            z = self.activation(z)
        if self.span > 0:
            self.history = padded[padded.shape[0] - self.span :].copy()
        return x + self.out1x1.forward(z), z


class _LayerArray:
    def __init__(
        self, rechannel: Dense, layers: list[_WaveNetLayer], head_rechannel: Dense
    ) -> None:
        self.rechannel = rechannel
        self.layers = layers
        self.head_rechannel = head_rechannel

    def forward(
        self, x: Array, cond: Array, head_in: Array | None
    ) -> tuple[Array, Array]:
        """Returns (layer output (n, C), head output (n, head_size)).

        ``head_in`` is the previous array's head output, None (zeros) for the
        first array.
        """
        x = self.rechannel.forward(x)
        head_acc = head_in  # None stands for zeros
        for layer in self.layers:
            x, z = layer.forward(x, cond)
            head_acc = z if head_acc is None else head_acc + z
        assert head_acc is not None
        return x, self.head_rechannel.forward(head_acc)


class _WaveNet:
    """The whole WaveNet, streaming.

    Semantics (those of NAM's trainer and of the official ``.out.npy``
    fixtures): the *model input* is zero before the first sample; the network
    is a feed-forward function of the last R input frames.  Internal signals
    before the first sample are therefore NOT zero (biases make them
    non-zero constants), so each layer's history must start as the values its
    input takes under an all-zero past, not as zeros.

    ``reset`` gets there by zeroing every layer's history and then feeding R - 1
    zero frames (output discarded).  That is exact: the first layer's input
    is rechannel(0) = 0 (no bias), so its zero history is already right;
    layer j's input is right from prewarm frame S_j on (S_j = sum of the spans
    of the layers before it), and its history at the end covers frames
    R - 1 - span_j >= S_j onwards.
    """

    def __init__(
        self,
        arrays: list[_LayerArray],
        head_scale: float,
        num_inputs: int,
        receptive_field: int,
    ) -> None:
        self.arrays = arrays
        self.head_scale = head_scale
        self.num_inputs = num_inputs
        self.receptive_field = receptive_field
        self.reset()

    def forward(self, u: Array) -> Array:
        x = u
        head: Array | None = None
        for array in self.arrays:
            x, head = array.forward(x, u, head)
        assert head is not None
        return self.head_scale * head

    def reset(self) -> None:
        for array in self.arrays:
            for layer in array.layers:
                layer.history = np.zeros_like(layer.history)
        self.forward(np.zeros((self.receptive_field - 1, self.num_inputs)))


def _build_wavenet(config: dict[str, Any], raw: list[Any], source: str) -> _Built:
    if config.get("head") is not None:
        raise fail(
            source,
            "config.head",
            f"head is not supported (expected null, found {describe(config['head'])})",
        )
    arrays_raw = as_list(
        require(config, "layers", "config", source), "config.layers", source
    )
    if not arrays_raw:
        raise fail(
            source,
            "config.layers",
            "expected at least one layer array, found an empty list",
        )
    if len(arrays_raw) > MAX_LAYERS:
        raise fail(
            source, "config.layers", f"{len(arrays_raw)} layer arrays is too many"
        )
    cfgs = [
        _parse_array_config(v, f"config.layers[{i}]", source)
        for i, v in enumerate(arrays_raw)
    ]

    # Structural checks.
    cond_size = cfgs[0].condition_size
    for i, cfg in enumerate(cfgs):
        path = f"config.layers[{i}]"
        if cfg.condition_size != cond_size:
            raise fail(
                source,
                f"{path}.condition_size",
                f"expected {cond_size} (every layer array sees the same condition), "
                f"found {cfg.condition_size}",
            )
        if i == 0:
            if cfg.input_size != cfg.condition_size:
                raise fail(
                    source,
                    f"{path}.input_size",
                    f"expected {cfg.condition_size} (the first layer array reads the model "
                    f"input, condition_size {cfg.condition_size}), found {cfg.input_size}",
                )
        else:
            prev = cfgs[i - 1]
            if cfg.input_size != prev.channels:
                raise fail(
                    source,
                    f"{path}.input_size",
                    f"expected {prev.channels} (channels of config.layers[{i - 1}]), "
                    f"found {cfg.input_size}",
                )
            if prev.head_size != cfg.channels:
                raise fail(
                    source,
                    f"config.layers[{i - 1}].head_size",
                    f"expected {cfg.channels} (channels of config.layers[{i}], which adds "
                    f"it to its head), found {prev.head_size}",
                )

    receptive_field = 1
    state_values = 0
    for cfg in cfgs:
        for d in cfg.dilations:
            receptive_field += (cfg.kernel_size - 1) * d
            state_values += (cfg.kernel_size - 1) * d * cfg.channels
    if receptive_field > MAX_RECEPTIVE_FIELD:
        raise fail(
            source,
            "config.layers",
            f"receptive field {receptive_field} is too large (at most {MAX_RECEPTIVE_FIELD})",
        )
    if state_values > MAX_STATE_VALUES:
        raise fail(
            source,
            "config.layers",
            f"the convolution history would hold {state_values} values "
            f"(at most {MAX_STATE_VALUES})",
        )

    expected = sum(cfg.weight_count() for cfg in cfgs) + 1  # + head_scale
    w = _Weights(_check_count(expected, raw, "WaveNet", source))

    arrays: list[_LayerArray] = []
    for cfg in cfgs:
        c = cfg.channels
        gc = (2 if cfg.gated else 1) * c
        k = cfg.kernel_size
        rechannel = Dense(w.matrix(c, cfg.input_size).T)
        layers: list[_WaveNetLayer] = []
        for d in cfg.dilations:
            conv_w = w.take(gc * c * k).reshape(gc, c, k)  # [out][in][tap]
            conv_b = w.take(gc)
            mixin = w.matrix(gc, cfg.condition_size)
            w1 = w.matrix(c, c)
            b1 = w.take(c)
            layers.append(
                _WaveNetLayer(
                    conv_w.transpose(2, 1, 0).copy(),  # -> (K, in, out)
                    conv_b,
                    d,
                    Dense(mixin.T),
                    Dense(w1.T, b1),
                    c,
                    cfg.gated,
                    WAVENET_ACTIVATIONS[cfg.activation],
                )
            )
        head_w = w.matrix(cfg.head_size, c)
        head_b = w.take(cfg.head_size) if cfg.head_bias else None
        arrays.append(_LayerArray(rechannel, layers, Dense(head_w.T, head_b)))
    head_scale = float(w.take(1)[0])
    assert w.pos == expected

    return _Built(
        _WaveNet(arrays, head_scale, cond_size, receptive_field),
        num_inputs=cond_size,
        num_outputs=cfgs[-1].head_size,
        receptive_field=receptive_field,
    )
