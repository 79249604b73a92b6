"""Float64 numpy building blocks of the reference implementation.

Conventions used throughout the reference package:

* Signals inside a network are *time-major* float64 arrays of shape
  ``(n, channels)``: row ``t`` is the frame at time ``t``.
* Every layer has ``forward(x) -> y`` taking the next ``n`` frames and returning
  ``n`` frames, and ``reset()``.  A layer keeps whatever history it needs, so
  ``forward(a)`` followed by ``forward(b)`` gives the same frames as
  ``forward(concat(a, b))`` (streaming).
* Matrices follow Keras' orientation: a dense kernel has shape ``(in, out)`` and
  is applied as ``x @ kernel``.  Format readers transpose their weights into this
  orientation when the file stores ``(out, in)``.

The second half of this module holds the small validation helpers shared by the
format readers (all failures are :class:`neuralsynth.errors.ModelError`), and
:class:`ReferenceModel`, the object the readers return.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from neuralsynth.errors import ModelError

Array = npt.NDArray[np.float64]
ActivationFn = Callable[[Array], Array]

# Sanity limits, checked before anything is allocated.
MAX_UNITS = 65536
"""Largest accepted channel / unit / input / output count."""
MAX_DILATION = 1 << 20
"""Largest accepted dilation."""
MAX_KERNEL_SIZE = 65536
"""Largest accepted convolution kernel size."""
MAX_RECEPTIVE_FIELD = 1 << 22
"""Largest accepted receptive field (samples); about 87 s at 48 kHz."""
MAX_STATE_VALUES = 1 << 26
"""Largest accepted number of history values a model keeps (512 MiB of float64)."""
MAX_LAYERS = 4096
"""Largest accepted number of layers (per list of layers in a file)."""


# --------------------------------------------------------------------------- #
# Activations (element-wise unless stated)
# --------------------------------------------------------------------------- #


def identity(x: Array) -> Array:
    """Linear activation."""
    return x


def tanh(x: Array) -> Array:
    """Hyperbolic tangent."""
    return np.tanh(x)


def sigmoid(x: Array) -> Array:
    """Logistic function 1 / (1 + exp(-x)).

    For x < -709, exp(-x) overflows to inf and the result is 0 (the exact value
    is below 1e-308); the overflow warning is silenced.
    """
    with np.errstate(over="ignore"):
        return _sigmoid(np.asarray(x, dtype=np.float64))


def _sigmoid(x: Array) -> Array:
    """sigmoid() without the errstate context (callers silence overflow)."""
    return 1.0 / (1.0 + np.exp(-x))


def relu(x: Array) -> Array:
    """max(x, 0)."""
    return np.maximum(x, 0.0)


def leaky_relu(x: Array, alpha: float) -> Array:
    """x for x >= 0, alpha * x otherwise."""
    return np.where(x >= 0, x, alpha * x)


def elu(x: Array, alpha: float = 1.0) -> Array:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def hardtanh(x: Array) -> Array:
    """x clipped to [-1, 1]."""
    return np.clip(x, -1.0, 1.0)


def softmax(x: Array) -> Array:
    """Softmax over the last axis (the channels of each frame)."""
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


# --------------------------------------------------------------------------- #
# Layers
# --------------------------------------------------------------------------- #


class Layer(Protocol):
    """A streaming layer working on time-major ``(n, channels)`` arrays."""

    in_size: int
    out_size: int

    def forward(self, x: Array) -> Array: ...

    def reset(self) -> None: ...


class Dense:
    """y = x @ kernel + bias, kernel of shape (in, out)."""

    def __init__(self, kernel: Array, bias: Array | None = None) -> None:
        self.kernel = np.asarray(kernel, dtype=np.float64)
        if self.kernel.ndim != 2:
            raise ValueError("Dense kernel must be 2-d (in, out)")
        self.in_size, self.out_size = self.kernel.shape
        if bias is None:
            self.bias: Array | None = None
        else:
            self.bias = np.asarray(bias, dtype=np.float64).reshape(self.out_size)

    def forward(self, x: Array) -> Array:
        y = x @ self.kernel
        if self.bias is not None:
            y = y + self.bias
        return y

    def reset(self) -> None:
        pass


def conv1d_valid(x: Array, kernel: Array, dilation: int) -> Array:
    """'Valid' dilated convolution of a time-major signal (no padding).

    ``x`` is (m, in), ``kernel`` is dense (K, in, out).  Returns (m - d*(K-1), out)::

        y[t] = sum_k x[t + k*d] @ kernel[k]

    i.e. output frame t lines up with input frame t + d*(K-1) (tap K-1 is the
    current frame, tap k is d*(K-1-k) frames earlier).
    """
    k_size = kernel.shape[0]
    n = x.shape[0] - dilation * (k_size - 1)
    y = np.zeros((n, kernel.shape[2]), dtype=np.float64)
    for k in range(k_size):
        start = k * dilation
        y += x[start : start + n] @ kernel[k]
    return y


class Conv1D:
    """Causal dilated 1-d convolution with groups, streaming.

    ``kernel`` has Keras' shape ``(K, in // groups, out)``.  Output channel ``o``
    belongs to group ``j = o // (out // groups)``, which reads input channels
    ``j * (in // groups) .. (j + 1) * (in // groups) - 1``::

        y[t, o] = bias[o] + sum_k sum_c kernel[k, c, o] * x[t - d * (K - 1 - k), j * in_g + c]

    so tap ``K - 1`` multiplies the current frame.  Frames before the first
    one are zero.  The layer keeps the last ``d * (K - 1)`` input frames.
    """

    def __init__(
        self,
        kernel: Array,
        bias: Array | None = None,
        dilation: int = 1,
        groups: int = 1,
    ) -> None:
        kernel = np.asarray(kernel, dtype=np.float64)
        if kernel.ndim != 3:
            raise ValueError("Conv1D kernel must be 3-d (K, in // groups, out)")
        k_size, in_per_group, out_size = kernel.shape
        if groups < 1 or out_size % groups != 0:
            raise ValueError("Conv1D: out channels must be a multiple of groups")
        if dilation < 1:
            raise ValueError("Conv1D: dilation must be positive")
        out_per_group = out_size // groups
        in_size = in_per_group * groups
        # Expand the grouped kernel to a dense (K, in, out) kernel that is zero
        # outside the diagonal blocks; x @ dense_kernel[k] is then exactly the
        # grouped product (the extra terms are exact zeros).
        full = np.zeros((k_size, in_size, out_size), dtype=np.float64)
        for j in range(groups):
            ins = slice(j * in_per_group, (j + 1) * in_per_group)
            outs = slice(j * out_per_group, (j + 1) * out_per_group)
            full[:, ins, outs] = kernel[:, :, outs]
        self.kernel = full
        self.kernel_size = k_size
        self.dilation = dilation
        self.groups = groups
        self.in_size = in_size
        self.out_size = out_size
        self.bias = (
            None
            if bias is None
            else np.asarray(bias, dtype=np.float64).reshape(out_size)
        )
        self.history_len = dilation * (k_size - 1)
        self._history = np.zeros((self.history_len, in_size), dtype=np.float64)

    def forward(self, x: Array) -> Array:
        padded = np.concatenate([self._history, x], axis=0)
        y = conv1d_valid(padded, self.kernel, self.dilation)
        if self.bias is not None:
            y += self.bias
        if self.history_len > 0:
            self._history = padded[padded.shape[0] - self.history_len :].copy()
        return y

    def reset(self) -> None:
        self._history = np.zeros((self.history_len, self.in_size), dtype=np.float64)


class GRU:
    """Keras GRU with ``reset_after=True``; gate column order z, r, n.

    kernel (in, 3H), recurrent_kernel (H, 3H), bias (2, 3H) = [input bias, recurrent bias]::

        z = sigmoid(x Wz + bi_z + h Uz + br_z)
        r = sigmoid(x Wr + bi_r + h Ur + br_r)
        n = tanh(x Wn + bi_n + r * (h Un + br_n))
        h = (1 - z) * n + z * h
    """

    def __init__(self, kernel: Array, recurrent_kernel: Array, bias: Array) -> None:
        self.kernel = np.asarray(kernel, dtype=np.float64)
        self.recurrent_kernel = np.asarray(recurrent_kernel, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.in_size = self.kernel.shape[0]
        self.hidden_size = self.recurrent_kernel.shape[0]
        self.out_size = self.hidden_size
        self._h = np.zeros(self.hidden_size, dtype=np.float64)

    def forward(self, x: Array) -> Array:
        hs = self.hidden_size
        xw = x @ self.kernel + self.bias[0]
        out = np.empty((x.shape[0], hs), dtype=np.float64)
        h = self._h
        with np.errstate(over="ignore"):
            for t in range(x.shape[0]):
                hu = h @ self.recurrent_kernel + self.bias[1]
                zr = _sigmoid(xw[t, : 2 * hs] + hu[: 2 * hs])
                z = zr[:hs]
                r = zr[hs:]
                cand = np.tanh(xw[t, 2 * hs :] + r * hu[2 * hs :])
                h = (1.0 - z) * cand + z * h
                out[t] = h
        self._h = h
        return out

    def reset(self) -> None:
        self._h = np.zeros(self.hidden_size, dtype=np.float64)


class LSTM:
    """LSTM with gate order i, f, g (cell candidate), o (Keras and PyTorch order).

    kernel (in, 4H), recurrent_kernel (H, 4H), bias (4H)::

        pre = x @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = sigmoid(pre_i), sigmoid(pre_f), tanh(pre_g), sigmoid(pre_o)
        c = f * c + i * g
        h = o * tanh(c)

    The state starts at (h0, c0), zeros unless given; ``reset`` returns there.
    """

    def __init__(
        self,
        kernel: Array,
        recurrent_kernel: Array,
        bias: Array,
        h0: Array | None = None,
        c0: Array | None = None,
    ) -> None:
        self.kernel = np.asarray(kernel, dtype=np.float64)
        self.recurrent_kernel = np.asarray(recurrent_kernel, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.in_size = self.kernel.shape[0]
        self.hidden_size = self.recurrent_kernel.shape[0]
        self.out_size = self.hidden_size
        hs = self.hidden_size
        self.h0 = (
            np.zeros(hs) if h0 is None else np.asarray(h0, dtype=np.float64).reshape(hs)
        )
        self.c0 = (
            np.zeros(hs) if c0 is None else np.asarray(c0, dtype=np.float64).reshape(hs)
        )
        self._h = self.h0.copy()
        self._c = self.c0.copy()

    def forward(self, x: Array) -> Array:
        hs = self.hidden_size
        xw = x @ self.kernel + self.bias
        out = np.empty((x.shape[0], hs), dtype=np.float64)
        h, c = self._h, self._c
        with np.errstate(over="ignore"):
            for t in range(x.shape[0]):
                pre = xw[t] + h @ self.recurrent_kernel
                s = _sigmoid(pre)  # the g slice of s is not used
                i = s[:hs]
                f = s[hs : 2 * hs]
                g = np.tanh(pre[2 * hs : 3 * hs])
                o = s[3 * hs :]
                c = f * c + i * g
                h = o * np.tanh(c)
                out[t] = h
        self._h, self._c = h, c
        return out

    def reset(self) -> None:
        self._h = self.h0.copy()
        self._c = self.c0.copy()


class BatchNorm:
    """Inference batch normalisation: gamma * (x - mean) / sqrt(var + eps) + beta."""

    def __init__(
        self,
        moving_mean: Array,
        moving_var: Array,
        epsilon: float,
        gamma: Array | None = None,
        beta: Array | None = None,
    ) -> None:
        self.mean = np.asarray(moving_mean, dtype=np.float64)
        self.var = np.asarray(moving_var, dtype=np.float64)
        size = self.mean.shape[0]
        self.gamma = (
            np.ones(size) if gamma is None else np.asarray(gamma, dtype=np.float64)
        )
        self.beta = (
            np.zeros(size) if beta is None else np.asarray(beta, dtype=np.float64)
        )
        self.epsilon = float(epsilon)
        self.in_size = self.out_size = size

    def forward(self, x: Array) -> Array:
        return (
            self.gamma * (x - self.mean) / np.sqrt(self.var + self.epsilon) + self.beta
        )

    def reset(self) -> None:
        pass


class PReLU:
    """x for x >= 0, alpha * x otherwise; alpha per channel (C,) or shared (1,)."""

    def __init__(self, alpha: Array, size: int) -> None:
        self.alpha = np.asarray(alpha, dtype=np.float64).reshape(-1)
        self.in_size = self.out_size = size

    def forward(self, x: Array) -> Array:
        return np.where(x >= 0, x, self.alpha * x)

    def reset(self) -> None:
        pass


class ActivationLayer:
    """Applies an activation function to every frame."""

    def __init__(self, fn: ActivationFn, size: int) -> None:
        self.fn = fn
        self.in_size = self.out_size = size

    def forward(self, x: Array) -> Array:
        return self.fn(x)

    def reset(self) -> None:
        pass


class Sequential:
    """Layers applied one after the other."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = list(layers)
        self.in_size = self.layers[0].in_size
        self.out_size = self.layers[-1].out_size

    def forward(self, x: Array) -> Array:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def reset(self) -> None:
        for layer in self.layers:
            layer.reset()


# --------------------------------------------------------------------------- #
# The model object returned by the readers
# --------------------------------------------------------------------------- #


class Network(Protocol):
    """Whole network: time-major (n, num_inputs) in, (n, num_outputs) out."""

    def forward(self, x: Array) -> Array: ...

    def reset(self) -> None: ...


class ReferenceModel:
    """A loaded model that processes audio in float64, streaming.

    ``process(x)`` takes ``x`` of shape ``(n,)`` when ``num_inputs == 1`` (a
    ``(1, n)`` array is accepted too) or ``(num_inputs, n)`` otherwise; row 0 is
    the audio and rows 1.. the extra inputs.  It returns float64 of shape
    ``(n,)`` when ``num_outputs == 1`` else ``(num_outputs, n)``.  State carries
    over between calls; ``reset()`` restores the initial state.
    """

    architecture: str
    format: str
    sample_rate: float
    sample_rate_known: bool
    num_inputs: int
    num_outputs: int
    num_weights: int
    receptive_field: int | None

    def __init__(
        self,
        net: Network,
        *,
        architecture: str,
        format: str,
        sample_rate: float | None,
        num_inputs: int,
        num_outputs: int,
        num_weights: int,
        receptive_field: int | None,
        source: str = "<dict>",
    ) -> None:
        self._net = net
        self.architecture = architecture
        self.format = format
        self.sample_rate_known = sample_rate is not None
        self.sample_rate = 48000.0 if sample_rate is None else float(sample_rate)
        self.num_inputs = num_inputs
        self.num_outputs = num_outputs
        self.num_weights = num_weights
        self.receptive_field = receptive_field
        self.source = source

    def process(self, x: npt.ArrayLike) -> Array:
        a = np.asarray(x, dtype=np.float64)
        if self.num_inputs == 1 and a.ndim == 1:
            frames = a.reshape(-1, 1)
        elif a.ndim == 2 and a.shape[0] == self.num_inputs:
            frames = np.ascontiguousarray(a.T)
        else:
            want = "(n,)" if self.num_inputs == 1 else f"({self.num_inputs}, n)"
            raise ModelError(
                f"{self.source}: process: expected input of shape {want}, "
                f"found {tuple(a.shape)}"
            )
        y = self._net.forward(frames)
        if self.num_outputs == 1:
            return np.array(y[:, 0], dtype=np.float64)
        return np.ascontiguousarray(y.T, dtype=np.float64)

    def reset(self) -> None:
        self._net.reset()

    def __repr__(self) -> str:
        return (
            f"ReferenceModel(architecture={self.architecture!r}, format={self.format!r}, "
            f"sample_rate={self.sample_rate}, num_inputs={self.num_inputs}, "
            f"num_outputs={self.num_outputs}, num_weights={self.num_weights}, "
            f"receptive_field={self.receptive_field})"
        )


# --------------------------------------------------------------------------- #
# Validation helpers shared by the readers
# --------------------------------------------------------------------------- #


def fail(source: str, field: str, message: str) -> ModelError:
    """A ModelError naming the file, the field and the problem."""
    if field:
        return ModelError(f"{source}: {field}: {message}")
    return ModelError(f"{source}: {message}")


def describe(value: Any) -> str:
    """Short description of a JSON value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(text)}"
    if isinstance(value, list):
        return f"a list of {len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    """True for JSON numbers (int or float, not bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_json_file(path: str | Path) -> tuple[Any, str]:
    """Parse a JSON file; returns (data, source name used in messages)."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise fail(source, "", f"cannot read the file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(
            source, "", f"not UTF-8 text (invalid byte at offset {exc.start})"
        ) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            source,
            "",
            f"invalid JSON at line {exc.lineno} column {exc.colno} (char {exc.pos}): {exc.msg}",
        ) from exc
    except RecursionError as exc:
        raise fail(source, "", "invalid JSON: nested too deeply") from exc
    return data, source


def require(obj: dict[str, Any], key: str, path: str, source: str) -> Any:
    """obj[key], or a ModelError saying the field is missing."""
    if key not in obj:
        raise fail(source, join(path, key), "missing")
    return obj[key]


def join(path: str, key: str | int) -> str:
    """JSON path of a child: join('config', 'layers') -> 'config.layers'."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def as_object(value: Any, path: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(source, path, f"expected an object, found {describe(value)}")
    return value


def as_list(value: Any, path: str, source: str) -> list[Any]:
    if not isinstance(value, list):
        raise fail(source, path, f"expected a list, found {describe(value)}")
    return value


def as_bool(value: Any, path: str, source: str) -> bool:
    if not isinstance(value, bool):
        raise fail(source, path, f"expected true or false, found {describe(value)}")
    return value


def as_str(value: Any, path: str, source: str) -> str:
    if not isinstance(value, str):
        raise fail(source, path, f"expected a string, found {describe(value)}")
    return value


def as_int(value: Any, path: str, source: str, lo: int, hi: int) -> int:
    """An integer in [lo, hi] (a float with an integral value is accepted)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise fail(
            source, path, f"expected an integer in {lo}..{hi}, found {describe(value)}"
        )
    if not lo <= value <= hi:
        raise fail(source, path, f"{value} is out of range (expected {lo}..{hi})")
    return value


def as_float(value: Any, path: str, source: str) -> float:
    """A finite number."""
    if not is_number(value):
        raise fail(source, path, f"expected a number, found {describe(value)}")
    try:
        f = float(value)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise fail(
            source,
            path,
            f"{_nonfinite_name(f)} is not allowed (expected a finite number)",
        )
    return f


def _nonfinite_name(f: float) -> str:
    if math.isnan(f):
        return "nan"
    return "inf" if f > 0 else "-inf"


def flat_weights(values: list[Any], path: str, source: str) -> Array:
    """A flat list of finite JSON numbers as float64."""
    out = np.empty(len(values), dtype=np.float64)
    for i, v in enumerate(values):
        if not is_number(v):
            raise fail(
                source, f"{path}[{i}]", f"expected a number, found {describe(v)}"
            )
        try:
            f = float(v)
        except OverflowError:
            f = math.inf
        if not math.isfinite(f):
            raise fail(
                source,
                "",
                f"{path}[{i}] is {_nonfinite_name(f)} (weights must be finite)",
            )
        out[i] = f
    return out


def nested_weights(
    value: Any, shape: tuple[int, ...], path: str, source: str, what: str = ""
) -> Array:
    """A nested list of finite numbers of exactly ``shape`` as float64.

    ``what`` describes the expected shape for error messages.
    """
    hint = f" ({what})" if what else ""
    flat: list[float] = []

    def walk(v: Any, dims: tuple[int, ...], p: str) -> None:
        if not dims:
            if not is_number(v):
                raise fail(source, p, f"expected a number, found {describe(v)}{hint}")
            try:
                f = float(v)
            except OverflowError:
                f = math.inf
            if not math.isfinite(f):
                raise fail(
                    source, "", f"{p} is {_nonfinite_name(f)} (weights must be finite)"
                )
            flat.append(f)
            return
        if not isinstance(v, list):
            raise fail(
                source,
                p,
                f"expected a list of {dims[0]} values, found {describe(v)}{hint}",
            )
        if len(v) != dims[0]:
            raise fail(source, p, f"expected {dims[0]} values, found {len(v)}{hint}")
        for i, item in enumerate(v):
            walk(item, dims[1:], f"{p}[{i}]")

    walk(value, shape, path)
    return np.array(flat, dtype=np.float64).reshape(shape)
