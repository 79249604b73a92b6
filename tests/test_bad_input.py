"""Bad model files must fail cleanly.

Every malformed, hostile or unsupported file must raise :class:`neuralsynth.ModelError`
whose message starts with ``"<file>: <field path>: "`` and says what was expected
versus found; the C++ core must never crash, abort or allocate absurd amounts of
memory on the way.  The numpy reference (an independent implementation) must
reject the same files with ModelError too (its wording may differ).

The fuzz tests mutate real model files (the fixtures and small random models from
:mod:`neuralsynth.modelgen`) byte-wise and structurally.  A mutant may load (then it
must process noise into output of the right shape) or raise ModelError naming the
file; anything else fails.  The same mutation engine also runs in child processes
driven by integer seeds, so that a segfault in native code fails the test with the
seed that reproduces it (``run_seeded(seed, 1)``) instead of killing pytest.
"""

from __future__ import annotations

import copy
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import neuralsynth as ns
from neuralsynth import modelgen
from neuralsynth.errors import ModelError
from neuralsynth.model import Model

FIXTURES = Path(__file__).parent / "fixtures"
NAM_DIR = FIXTURES / "nam"
RTNEURAL_DIR = FIXTURES / "rtneural"

Doc = Any  # a parsed JSON document


# --------------------------------------------------------------------------- #
# Base documents
# --------------------------------------------------------------------------- #


@cache
def _fixture_text(path: Path) -> str:
    return path.read_text()


def _fixture(path: Path) -> Callable[[], Doc]:
    return lambda: json.loads(_fixture_text(path))


wavenet = _fixture(NAM_DIR / "wavenet.nam")  # 2 arrays: channels 3 then 2, 131 weights
nam_lstm = _fixture(NAM_DIR / "lstm.nam")  # hidden_size 3, 70 weights
rt_conv = _fixture(RTNEURAL_DIR / "conv.json")  # dense, conv1d x3 (groups), batchnorm, prelu
rt_lstm = _fixture(RTNEURAL_DIR / "lstm.json")  # time-distributed-dense(8), lstm(8), dense(1)


def nam_linear() -> Doc:
    return modelgen.nam_linear(np.random.default_rng(1), 8, bias=True)  # 9 weights


def rt_big_history(channels: int = 64, widen: bool = False) -> Doc:
    """A small RTNeural file whose conv1d would need channels x 8 M floats of history (2 GiB for 64 channels).

    With ``widen`` a dense layer first widens the single input to ``channels`` (up to 4096: 128 GiB).
    """
    layers: list[dict[str, Any]] = []
    if widen:
        layers.append(
            {"type": "dense", "activation": "", "shape": [None, None, channels],
             "weights": [[[0.0] * channels], [0.0] * channels]}
        )
    layers.append(
        {
            "type": "conv1d",
            "activation": "",
            "shape": [None, None, 1],
            "kernel_size": [5],
            "dilation": [1 << 20],
            "groups": 1,
            "weights": [[[[0.0] for _ in range(channels)] for _ in range(5)], [0.0]],
        }
    )
    return {"in_shape": [None, None, 1 if widen else channels], "layers": layers}


def _set(path: Sequence[str | int], value: Any) -> Callable[[Doc], None]:
    def f(doc: Doc) -> None:
        for key in path[:-1]:
            doc = doc[key]
        doc[path[-1]] = value

    return f


def _del(path: Sequence[str | int]) -> Callable[[Doc], None]:
    def f(doc: Doc) -> None:
        for key in path[:-1]:
            doc = doc[key]
        del doc[path[-1]]

    return f


def _weights(fn: Callable[[list[Any]], None]) -> Callable[[Doc], None]:
    return lambda doc: fn(doc["weights"])


def _dump(doc: Doc) -> str:
    return json.dumps(doc)  # allow_nan: NaN / Infinity / -Infinity literals, as Python writes them


def _weight_tokens(doc: Doc, replace: dict[int, str]) -> str:
    """The document as JSON text, with some of its ``weights`` written as the given raw number tokens."""
    tokens = [json.dumps(w) for w in doc.pop("weights")]
    for i, token in replace.items():
        tokens[i] = token
    return _dump(doc)[:-1] + ', "weights": [' + ", ".join(tokens) + "]}"


# --------------------------------------------------------------------------- #
# Explicit cases
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], str | bytes]  # the file's content
    field: str  # the field path the message must name ("" = the file as a whole)
    expect: tuple[str, ...]  # further substrings of the message (expected / found)
    code: str | None = None  # the bridge's error category, when it matters
    ext: str = ".nam"
    ref_accepts: str = ""  # why the float64 reference, by design more lenient here, may load the file


def edit(
    base: Callable[[], Doc], fn: Callable[[Doc], None], field: str, *expect: str, code: str | None = None,
    ext: str = ".nam", id: str, ref_accepts: str = "",
) -> Case:
    def make() -> str:
        doc = base()
        fn(doc)
        return _dump(doc)

    return Case(id, make, field, expect, code, ext, ref_accepts)


def raw(id: str, make: Callable[[], str | bytes], field: str, *expect: str, code: str | None = None,
        ext: str = ".nam") -> Case:
    return Case(id, make, field, expect, code, ext)


def _append_wavenet_arrays(n: int) -> Callable[[Doc], None]:
    def f(doc: Doc) -> None:
        layers = doc["config"]["layers"]
        layers.extend(copy.deepcopy(layers[-1]) for _ in range(n))

    return f


def _binary_junk() -> bytes:
    return bytes(random.Random(7).randrange(256) for _ in range(4096))


def _invalid_utf8_in_string() -> bytes:
    text = _fixture_text(NAM_DIR / "wavenet.nam").encode()
    i = text.index(b'"Test Model"') + 3
    return text[:i] + b"\xff\xfe" + text[i:]


_WN_W = 131  # weights in wavenet.nam
_LSTM_W = 70  # weights in lstm.nam
_RANGE_CH = "expected an integer in [1, 4096]"

MALFORMED = [
    raw("truncated-nam", lambda: _fixture_text(NAM_DIR / "wavenet.nam")[:1500], "", "not valid JSON", code="parse"),
    raw("truncated-rtneural", lambda: _fixture_text(RTNEURAL_DIR / "conv.json")[:700], "", "not valid JSON",
        code="parse", ext=".json"),
    raw("truncated-mid-number", lambda: '{"version": "0.5.4", "weights": [0.1, 2e', "", "not valid JSON", code="parse"),
    raw("trailing-garbage", lambda: _fixture_text(NAM_DIR / "lstm.nam") + "}", "", "not valid JSON", code="parse"),
    raw("empty", lambda: "", "", "not valid JSON", code="parse"),
    raw("whitespace-only", lambda: " \n\t ", "", "not valid JSON", code="parse"),
    raw("binary", _binary_junk, "", "not valid JSON", code="parse"),
    raw("nul-bytes", lambda: b"\x00" * 64, "", "not valid JSON", code="parse"),
    raw("invalid-utf8-in-string", _invalid_utf8_in_string, "", "not valid JSON", code="parse"),
    raw("minus-nan-literal", lambda: '{"weights": [-NaN', "", "not valid JSON", code="parse"),
]

TOP_LEVEL = [
    raw("top-array", lambda: "[1, 2]", "", "expected a JSON object at the top level, found an array of 2 elements"),
    raw("top-number", lambda: "42", "", "expected a JSON object at the top level, found 42"),
    raw("top-string", lambda: '"WaveNet"', "", 'found the string "WaveNet"'),
    raw("top-null", lambda: "null", "", "found null"),
    raw("top-empty-object", lambda: "{}", "", 'expected an "architecture" field'),
]

MISSING = [
    edit(wavenet, _del(["config", "layers", 0, "channels"]), "config.layers[0].channels", "missing",
         id="missing-channels"),
    edit(wavenet, _del(["config", "layers", 1, "dilations"]), "config.layers[1].dilations", "missing",
         id="missing-dilations"),
    edit(wavenet, _del(["weights"]), "weights", "missing", id="missing-weights"),
    edit(wavenet, _del(["config"]), "config", "missing", id="missing-config"),
    edit(wavenet, _del(["version"]), "version", "missing", id="missing-version"),
    edit(wavenet, _del(["architecture"]), "", 'expected an "architecture" field (NAM) or "in_shape" and "layers"',
         id="missing-architecture"),
    edit(nam_lstm, _del(["config", "hidden_size"]), "config.hidden_size", "missing", id="missing-hidden-size"),
    edit(nam_linear, _del(["config", "bias"]), "config.bias", "missing", id="missing-linear-bias"),
    edit(rt_conv, _del(["layers", 0, "type"]), "layers[0].type", "missing", id="missing-rtneural-type",
         ext=".json"),
    edit(rt_conv, _del(["layers", 1, "shape"]), "layers[1].shape", "missing", id="missing-rtneural-shape",
         ext=".json"),
    edit(rt_conv, _del(["layers", 1, "kernel_size"]), "layers[1].kernel_size", "missing",
         id="missing-rtneural-kernel-size", ext=".json"),
    edit(rt_lstm, _del(["layers", 1, "weights"]), "layers[1].weights", "missing", id="missing-rtneural-weights",
         ext=".json"),
    edit(rt_lstm, _del(["in_shape"]), "in_shape", "missing", id="missing-in-shape", ext=".json"),
]

WRONG_TYPE = [
    edit(wavenet, _set(["config", "layers", 0, "channels"], "3"), "config.layers[0].channels", _RANGE_CH,
         'found the string "3"', id="channels-string"),
    edit(wavenet, _set(["config", "layers", 0, "channels"], math.nan), "config.layers[0].channels", _RANGE_CH,
         "found nan", id="channels-nan"),
    edit(wavenet, _set(["config", "layers", 0, "kernel_size"], 2.5), "config.layers[0].kernel_size", _RANGE_CH,
         "found 2.5", id="kernel-size-float"),
    edit(wavenet, _set(["config", "layers", 1, "gated"], 1), "config.layers[1].gated", "expected true or false",
         "found 1", id="gated-number"),
    edit(wavenet, _set(["config", "layers", 0, "activation"], 5), "config.layers[0].activation",
         "expected a string", "found 5", id="activation-number"),
    edit(wavenet, _set(["config", "layers", 0, "dilations"], 8), "config.layers[0].dilations", "expected an array",
         "found 8", id="dilations-number"),
    edit(wavenet, _set(["config", "layers", 0, "dilations", 1], None), "config.layers[0].dilations[1]",
         "expected an integer in [1, 1048576]", "found null", id="dilation-null"),
    edit(wavenet, _set(["config"], []), "config", "expected an object", "found an array of 0 elements",
         id="config-array"),
    edit(wavenet, _set(["config", "layers", 1], "layer"), "config.layers[1]", "expected an object",
         'found the string "layer"', id="layer-array-string"),
    edit(wavenet, _set(["weights"], {}), "weights", "expected an array", "found an object", id="weights-object"),
    edit(wavenet, _set(["weights", 5], "0.1"), "weights[5]", "expected a number", 'found the string "0.1"',
         id="weight-string"),
    edit(wavenet, _set(["weights", 6], None), "weights[6]", "expected a number", "found null", id="weight-null"),
    edit(wavenet, _set(["weights", 7], [0.5]), "weights[7]", "expected a number", "found an array of 1 elements",
         id="weight-nested"),
    edit(wavenet, _set(["version"], 0.5), "version", "expected a string", "found 0.5", id="version-number"),
    edit(wavenet, _set(["sample_rate"], "48k"), "sample_rate", "expected a number", 'found the string "48k"',
         id="sample-rate-string"),
    edit(wavenet, _set(["sample_rate"], 10), "sample_rate", "expected a rate in 1000..1000000 Hz", "found 10",
         id="sample-rate-tiny", ref_accepts="the reference takes any positive sample_rate"),
    edit(nam_lstm, _set(["config", "num_layers"], True), "config.num_layers", "expected an integer in [1, 64]",
         "found true", id="num-layers-bool"),
    edit(nam_linear, _set(["config", "bias"], "yes"), "config.bias", "expected true or false",
         'found the string "yes"', id="linear-bias-string"),
    edit(rt_conv, _set(["layers", 0, "shape"], "8"), "layers[0].shape", "expected an array",
         'found the string "8"', id="rtneural-shape-string", ext=".json"),
    edit(rt_conv, _set(["layers", 2], 7), "layers[2]", "expected an object", "found 7", id="rtneural-layer-number",
         ext=".json"),
    edit(rt_conv, _set(["layers"], {}), "layers", "expected an array", "found an object", id="rtneural-layers-object",
         ext=".json"),
    edit(rt_conv, _set(["layers", 1, "kernel_size"], [3, 3]), "layers[1].kernel_size",
         "expected a one-element array", "found an array of 2 elements", id="rtneural-kernel-size-pair", ext=".json"),
    edit(rt_conv, _set(["layers", 0, "weights", 1, 2], "x"), "layers[0].weights[1][2]", "expected a number",
         'found the string "x"', id="rtneural-weight-string", ext=".json"),
    edit(rt_lstm, _set(["samplerate"], "fast"), "samplerate", "expected a sample rate in Hz",
         'found the string "fast"', id="rtneural-samplerate-string", ext=".json"),
]

WEIGHT_COUNT = [
    edit(wavenet, _weights(lambda w: w.pop()), "weights",
         f"expected {_WN_W} values for this WaveNet config, found {_WN_W - 1}", id="wavenet-one-short"),
    edit(wavenet, _weights(lambda w: w.append(0.0)), "weights",
         f"expected {_WN_W} values for this WaveNet config, found {_WN_W + 1}", id="wavenet-one-extra"),
    edit(wavenet, _weights(lambda w: w.clear()), "weights", f"expected {_WN_W} values", "found 0",
         id="wavenet-empty-weights"),
    edit(wavenet, _set(["config", "layers", 1, "head_bias"], False), "weights",
         f"expected {_WN_W - 1} values for this WaveNet config, found {_WN_W}", id="wavenet-config-changed"),
    edit(nam_lstm, _weights(lambda w: w.pop()), "weights",
         f"expected {_LSTM_W} values for this LSTM config, found {_LSTM_W - 1}", id="lstm-one-short"),
    edit(nam_lstm, _weights(lambda w: w.extend(w)), "weights",
         f"expected {_LSTM_W} values for this LSTM config, found {2 * _LSTM_W}", id="lstm-doubled"),
    edit(nam_linear, _weights(lambda w: w.append(0.0)), "weights", "expected 9 values for this Linear config, found 10",
         id="linear-one-extra"),
    edit(nam_linear, _set(["config", "bias"], False), "weights", "expected 8 values for this Linear config, found 9",
         id="linear-bias-dropped"),
    edit(rt_conv, lambda d: d["layers"][0]["weights"][1].pop(), "layers[0].weights[1]", "expected 8 values (bias)",
         "found 7", id="rtneural-dense-bias-short", ext=".json"),
    edit(rt_conv, lambda d: d["layers"][0]["weights"].append([0.0]), "layers[0].weights",
         "expected [kernel] or [kernel, bias], found 3 arrays", id="rtneural-dense-three-arrays", ext=".json"),
    edit(rt_lstm, lambda d: d["layers"][1]["weights"][1].pop(), "layers[1].weights[1]",
         "expected a 8 x 32 matrix", "found 7 x 32", id="rtneural-lstm-recurrent-short", ext=".json"),
    edit(rt_conv, lambda d: d["layers"][1]["weights"][0].pop(), "layers[1].weights[0]",
         "expected a 3 x 8 x 4 kernel", "found 2 x 8 x 4", id="rtneural-conv-kernel-short", ext=".json"),
    edit(rt_conv, _set(["layers", 2, "weights", 3, 1], -1.0), "layers[2].weights[3][1]",
         "variance + epsilon must be positive", id="rtneural-negative-variance", ext=".json"),
    raw("rtneural-bad-lstm-fixture", lambda: (RTNEURAL_DIR / "bad_lstm.json").read_bytes(), "layers[0].weights[0]",
        "expected a 1 x 64 matrix (inputs 1 x 4*16 units)", "found 1 x 80", ext=".json"),
    edit(rt_conv, _set(["layers", 5, "groups"], 4), "layers[5].groups",
         "expected a divisor of both the input channels (4) and the filters (6), found 4", id="conv-groups-4-of-6",
         ext=".json"),
    edit(rt_conv, _set(["layers", 5, "groups"], 3), "layers[5].groups",
         "expected a divisor of both the input channels (4) and the filters (6), found 3", id="conv-groups-3-of-4",
         ext=".json"),
    edit(rt_conv, _set(["layers", 5, "groups"], 0), "layers[5].groups", _RANGE_CH, "found 0", id="conv-groups-0",
         ext=".json"),
]

NON_FINITE = [
    edit(wavenet, _set(["weights", 17], math.nan), "weights[17]", "is NaN", id="weight-nan"),
    edit(wavenet, _set(["weights", 17], math.inf), "weights[17]", "is +inf", id="weight-inf"),
    edit(wavenet, _set(["weights", 42], -math.inf), "weights[42]", "is -inf", id="weight-minus-inf"),
    edit(wavenet, _set(["weights", _WN_W - 1], math.nan), f"weights[{_WN_W - 1}]", "is NaN",
         id="weight-nan-last"),
    raw("weight-minus-nan-literal", lambda: _weight_tokens(wavenet(), {4: "-NaN"}), "weights[4]", "is NaN"),
    edit(wavenet, _set(["weights", 3], 1e300), "weights[3]", "value 1e+300 overflows float32",
         id="weight-overflows-float32", ref_accepts="the reference computes in float64"),
    raw("weight-overflows-double", lambda: _weight_tokens(wavenet(), {0: "1e999"}), "weights[0]", "is +inf"),
    raw("weight-overflows-double-negative", lambda: _weight_tokens(wavenet(), {9: "-2.5E+400"}), "weights[9]",
        "is -inf"),
    raw("weight-integer-overflows-double", lambda: _weight_tokens(nam_linear(), {2: "9" * 400}), "weights[2]",
        "is +inf"),
    edit(wavenet, _set(["config", "head_scale"], math.nan), "config.head_scale", "is NaN", id="head-scale-nan",
         ref_accepts="the reference reads the head scale from the weights only"),
    edit(nam_lstm, _set(["weights", 0], math.nan), "weights[0]", "is NaN", id="lstm-weight-nan"),
    edit(nam_linear, _set(["weights", 8], -math.inf), "weights[8]", "is -inf", id="linear-bias-minus-inf"),
    edit(rt_conv, _set(["layers", 0, "weights", 0, 0, 3], math.nan), "layers[0].weights[0][0][3]", "is NaN",
         id="rtneural-kernel-nan", ext=".json"),
    edit(rt_conv, _set(["layers", 1, "weights", 0, 2, 7, 1], math.inf), "layers[1].weights[0][2][7][1]", "is +inf",
         id="rtneural-conv-kernel-inf", ext=".json"),
    edit(rt_lstm, _set(["layers", 1, "weights", 2, 31], -math.inf), "layers[1].weights[2][31]", "is -inf",
         id="rtneural-lstm-bias-minus-inf", ext=".json"),
]

ABSURD = [
    edit(wavenet, _set(["config", "layers", 0, "channels"], 10**9), "config.layers[0].channels", _RANGE_CH,
         "found 1e+09", code="limit", id="channels-1e9"),
    edit(wavenet, _set(["config", "layers", 0, "channels"], 2**64 + 1), "config.layers[0].channels", _RANGE_CH,
         code="limit", id="channels-beyond-uint64"),
    edit(wavenet, _set(["config", "layers", 0, "kernel_size"], 10**6), "config.layers[0].kernel_size", _RANGE_CH,
         "found 1e+06", code="limit", id="kernel-size-1e6"),
    edit(wavenet, _set(["config", "layers", 0, "dilations", 0], 10**9), "config.layers[0].dilations[0]",
         "expected an integer in [1, 1048576]", "found 1e+09", code="limit", id="dilation-1e9"),
    edit(wavenet, lambda d: d["config"]["layers"][0].update(kernel_size=4096, dilations=[1 << 20]),
         "config.layers[0].dilations[0]", "samples of history exceeds the limit", code="limit",
         id="wavenet-history-limit"),
    edit(wavenet, lambda d: d["config"]["layers"][0].update(kernel_size=5, dilations=[1 << 20] * 24),
         "config.layers", "floats of state, more than the limit", code="limit", id="wavenet-state-limit"),
    edit(wavenet, _append_wavenet_arrays(70), "config.layers", "more than 64 layer arrays", code="limit",
         id="wavenet-too-many-arrays"),
    edit(nam_lstm, _set(["config", "hidden_size"], 10**9), "config.hidden_size", _RANGE_CH, "found 1e+09",
         code="limit", id="hidden-size-1e9"),
    edit(nam_lstm, _set(["config", "num_layers"], 10**9), "config.num_layers", "expected an integer in [1, 64]",
         code="limit", id="num-layers-1e9"),
    edit(nam_lstm, lambda d: d["config"].update(hidden_size=4096, num_layers=64), "config",
         "weights, more than the limit", code="limit", id="lstm-too-many-weights"),
    edit(nam_linear, _set(["config", "receptive_field"], 10**9), "config.receptive_field",
         "expected an integer in [1, 1048576]", code="limit", id="receptive-field-1e9"),
    edit(rt_conv, _set(["layers", 0, "shape", 2], 10**9), "layers[0].shape[2]", _RANGE_CH, code="limit",
         id="rtneural-units-1e9", ext=".json"),
    edit(rt_conv, _set(["layers", 1, "kernel_size"], [10**6]), "layers[1].kernel_size[0]", _RANGE_CH, code="limit",
         id="rtneural-kernel-size-1e6", ext=".json"),
    edit(rt_conv, _set(["layers", 5, "dilation"], [10**9]), "layers[5].dilation[0]",
         "expected an integer in [1, 1048576]", code="limit", id="rtneural-dilation-1e9", ext=".json"),
    edit(rt_big_history, lambda d: None, "layers[0].dilation", "floats of state in total, more than the limit",
         code="limit", id="rtneural-state-limit", ext=".json"),
    edit(lambda: rt_big_history(4096, widen=True), lambda d: None, "layers[1].dilation",
         "(4096 channels x 4194304 samples here)", "more than the limit", code="limit",
         id="rtneural-state-limit-wide", ext=".json"),
    edit(rt_conv, _set(["in_shape", 2], 10**9), "in_shape[2]", "expected an integer in [1, 64]", code="limit",
         id="rtneural-inputs-1e9", ext=".json"),
]

UNSUPPORTED = [
    edit(wavenet, _set(["architecture"], "ConvNet"), "architecture", 'unknown architecture "ConvNet"',
         "supported: LSTM, Linear, WaveNet", code="unsupported", id="unknown-architecture"),
    edit(wavenet, _set(["architecture"], 3), "architecture", "expected a string", "found 3",
         id="architecture-number"),
    edit(wavenet, _set(["config", "layers", 0, "activation"], "Swish"), "config.layers[0].activation",
         'unknown activation "Swish"', "supported: Tanh", code="unsupported", id="unknown-nam-activation"),
    edit(rt_conv, _set(["layers", 3, "type"], "attention"), "layers[3].type", 'unknown layer type "attention"',
         "supported: dense", code="unsupported", id="unknown-rtneural-layer", ext=".json"),
    edit(rt_conv, _set(["layers", 0, "activation"], "swish"), "layers[0].activation", 'unknown activation "swish"',
         "supported: tanh", code="unsupported", id="unknown-rtneural-activation", ext=".json"),
    edit(wavenet, _set(["version"], "0.6.0"), "version", "NAM format 0.6.0 is not supported", "0.5.x", "newer",
         code="unsupported", id="version-newer"),
    edit(wavenet, _set(["version"], "0.4.0"), "version", "NAM format 0.4.0 is not supported", "0.5.x", "older",
         code="unsupported", id="version-older"),
    edit(wavenet, _set(["version"], "1.0.0"), "version", "NAM format 1.0.0 is not supported", code="unsupported",
         id="version-major"),
    edit(wavenet, _set(["version"], "banana"), "version", 'expected a version like "0.5.4", found "banana"',
         id="version-garbage"),
    edit(wavenet, _set(["config", "head"], {"channels": 1}), "config.head", "a post-array head is not supported",
         "found an object", code="unsupported", id="wavenet-head"),
]

CASES = MALFORMED + TOP_LEVEL + MISSING + WRONG_TYPE + WEIGHT_COUNT + NON_FINITE + ABSURD + UNSUPPORTED
CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS)


def _check_message(exc: ModelError, name: str, case: Case) -> None:
    msg = str(exc)
    prefix = f"{name}: {case.field}: " if case.field else f"{name}: "
    assert msg.startswith(prefix), f"expected the message to start with {prefix!r}: {msg}"
    for part in case.expect:
        assert part in msg, f"expected {part!r} in: {msg}"
    if case.code is not None:
        assert getattr(exc, "code", None) == case.code, f"code {getattr(exc, 'code', None)!r}: {msg}"


def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_core_from_text(case: Case) -> None:
    name = f"{case.id}{case.ext}"
    text = case.make()
    rss0, t0 = _maxrss_bytes(), time.perf_counter()
    with pytest.raises(ModelError) as info:
        Model.from_text(text, name=name)
    elapsed, grown = time.perf_counter() - t0, _maxrss_bytes() - rss0
    _check_message(info.value, name, case)
    # Fail fast, before allocating anything sized by the file's claims.
    assert elapsed < 2.0, f"took {elapsed:.2f} s"
    assert grown < 256 << 20, f"peak memory grew by {grown >> 20} MiB"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_core_and_reference_from_file(case: Case, tmp_path: Path) -> None:
    path = tmp_path / f"{case.id}{case.ext}"
    content = case.make()
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ModelError) as info:
        ns.load_model(path)
    _check_message(info.value, str(path), case)
    if case.ref_accepts:
        try:
            ns.reference.load_model(path)
        except ModelError as exc:
            assert str(path) in str(exc)
        return
    with pytest.raises(ModelError) as ref_info:
        ns.reference.load_model(path)
    assert str(path) in str(ref_info.value)


# --------------------------------------------------------------------------- #
# Files that are not model files at all
# --------------------------------------------------------------------------- #


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.nam"
    for load in (ns.load_model, ns.reference.load_model):
        with pytest.raises(ModelError) as info:
            load(path)
        assert str(info.value).startswith(f"{path}: "), info.value


def test_directory_instead_of_file(tmp_path: Path) -> None:
    path = tmp_path / "model.nam"
    path.mkdir()
    with pytest.raises(ModelError) as info:
        ns.load_model(path)
    assert str(info.value) == f"{path}: is a directory, expected a model file"
    with pytest.raises(ModelError) as ref_info:
        ns.reference.load_model(path)
    assert str(path) in str(ref_info.value)


@pytest.mark.parametrize("kind", ["directory", "missing", "empty", "binary"])
def test_bridge_load_file_directly(kind: str, tmp_path: Path) -> None:
    """The C++ file reader (used by the plugins) without the Python-side checks in front of it."""
    from neuralsynth._bridge import ErrorBuffer, ffi, lib

    path = tmp_path / "model.nam"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "binary":
        path.write_bytes(_binary_junk())
    err = ErrorBuffer()
    out = ffi.new("ns_model**")
    status = lib().ns_model_load_file(str(path).encode(), 48000.0, 64, out, err.buf, err.SIZE)
    msg = ffi.string(err.buf).decode("utf-8", "replace")
    assert status != 0 and out[0] == ffi.NULL
    expected = {
        "directory": f"{path}: is a directory, expected a model file",
        "missing": f"{path}: cannot open the file",
        "empty": f"{path}: not valid JSON",
        "binary": f"{path}: not valid JSON",
    }[kind]
    assert msg.startswith(expected), msg


def test_deeply_nested_json_does_not_overflow_the_stack(tmp_path: Path) -> None:
    depth = 100_000
    text = '{"in_shape": [null, null, 1], "layers": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(ModelError) as info:
        Model.from_text(text, name="deep.json")
    assert str(info.value).startswith("deep.json: layers[0]: expected an object, found an array of 1 elements")
    path = tmp_path / "deep.json"
    path.write_text(text)
    with pytest.raises(ModelError) as ref_info:
        ns.reference.load_model(path)
    assert str(path) in str(ref_info.value)


def test_non_finite_lookalikes_still_load() -> None:
    """Strings mentioning NaN / Infinity, and zero or underflowing number tokens, are ordinary values."""
    doc = wavenet()
    doc["metadata"]["name"] = 'NaN Infinity -Infinity 1e999 "quoted NaN"'
    doc["metadata"]["NaN"] = "Infinity"
    # All zeros, whatever they look like (the first two are the loader's internal sentinels).
    text = _weight_tokens(doc, {0: "0e999990", 1: "-0e999991", 2: "1e-999", 3: "-0E999990"})
    model = Model.from_text(text, name="lookalikes.nam")
    y = model.process(np.random.default_rng(0).uniform(-0.5, 0.5, 256).astype(np.float32))
    assert y.shape == (256,) and np.all(np.isfinite(y))


# --------------------------------------------------------------------------- #
# Fuzzing
# --------------------------------------------------------------------------- #


class Chooser(Protocol):
    def int(self, lo: int, hi: int) -> int: ...


class RandomChooser:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def int(self, lo: int, hi: int) -> int:
        return self._rng.randint(lo, hi)


class DataChooser:
    """Hypothesis-driven choices (so failures shrink)."""

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def int(self, lo: int, hi: int) -> int:
        return self._data.draw(st.integers(lo, hi))


def pick(c: Chooser, seq: Sequence[Any]) -> Any:
    return seq[c.int(0, len(seq) - 1)]


@cache
def seed_models() -> tuple[tuple[str, str], ...]:
    """(name, text) of every real model the fuzzers start from."""
    found = [(p.name, p.read_text()) for p in sorted(NAM_DIR.glob("*.nam")) + sorted(RTNEURAL_DIR.glob("*.json"))]
    rng = np.random.default_rng(2024)
    generated = {
        "gen_wavenet.nam": modelgen.nam_wavenet(
            rng,
            [
                {"channels": 4, "head_size": 2, "kernel_size": 3, "dilations": [1, 2], "gated": True,
                 "activation": "ReLU"},
                {"channels": 2, "head_size": 1, "kernel_size": 2, "dilations": [4], "head_bias": True,
                 "activation": "LeakyReLU"},
            ],
        ),
        "gen_wavenet_2in_2out.nam": modelgen.nam_wavenet(
            rng,
            [
                {"channels": 3, "head_size": 2, "dilations": [1, 3], "condition_size": 2, "activation": "Hardtanh"},
                {"channels": 2, "head_size": 2, "dilations": [2], "condition_size": 2, "head_bias": True,
                 "activation": "Sigmoid"},
            ],
        ),
        "gen_lstm.nam": modelgen.nam_lstm(rng, 3, num_layers=2),
        "gen_linear.nam": modelgen.nam_linear(rng, 16),
        "gen_rtneural_all.json": modelgen.rtneural_model(
            rng,
            2,
            [
                ("dense", 4, "tanh"),
                ("conv1d", 4, 3, 2, 2, "relu"),
                ("batchnorm", True),
                ("prelu", False),
                ("gru", 3),
                ("lstm", 3),
                ("activation", "sigmoid"),
                ("time-distributed-dense", 3, "elu"),
                ("batchnorm", False),
                ("prelu", True),
                ("dense", 2, "softmax"),
            ],
            samplerate=44100,
        ),
        "gen_rtneural_gru.json": modelgen.rtneural_rnn(rng, "gru", 4),
    }
    found += [(name, json.dumps(doc)) for name, doc in generated.items()]
    return tuple(found)


_JUNK_INTS = [
    0, 1, -1, 2, 3, 7, 64, 65, 4096, 4097, 1 << 20, (1 << 20) + 1, 1 << 22, 2**31 - 1, 2**31, -(2**31), 2**32,
    2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**64 + 1, -(2**63), -(2**63) - 1, 10**9, -(10**9), 10**30, 10**400,
    -(10**400),
]
_JUNK_FLOATS = [
    0.0, -0.0, 0.5, -1.5, 2.5, 3.0, 1e-320, 1e38, 3.5e38, -3.5e38, 1e308, math.nan, math.inf, -math.inf, 48000.0,
]
_JUNK_STRINGS = [
    "", "0", "3", "NaN", "Infinity", "0.5.4", "0.5", "0.6.0", "WaveNet", "LSTM", "Linear", "dense", "conv1d", "gru",
    "lstm", "batchnorm", "prelu", "activation", "tanh", "Tanh", "softmax", "x" * 300, "\x00", "é€😀", "\\", '"',
]
_KEYS = [
    "version", "architecture", "config", "weights", "layers", "channels", "head_size", "kernel_size", "dilations",
    "input_size", "condition_size", "hidden_size", "num_layers", "receptive_field", "bias", "head", "head_scale",
    "type", "shape", "activation", "dilation", "groups", "in_shape", "epsilon", "alpha", "samplerate",
]


def junk(c: Chooser, depth: int = 0) -> Any:
    """A random JSON value chosen to upset a loader."""
    kind = c.int(0, 10)
    if kind <= 1:
        return pick(c, _JUNK_INTS)
    if kind == 2:
        return c.int(-5, 5000)
    if kind == 3:
        return pick(c, _JUNK_FLOATS)
    if kind == 4:
        return pick(c, _JUNK_STRINGS)
    if kind == 5:
        return None
    if kind == 6:
        return bool(c.int(0, 1))
    if kind == 7:
        return [junk(c, depth + 1) for _ in range(c.int(0, 4 if depth < 3 else 0))]
    if kind == 8:
        return {pick(c, _KEYS): junk(c, depth + 1) for _ in range(c.int(0, 3 if depth < 3 else 0))}
    if kind == 9:
        value: Any = pick(c, [0.5, [], {}, "x"])
        for _ in range(c.int(1, 300)):
            value = [value]
        return value
    return [float(c.int(-1000, 1000)) / 100.0 for _ in range(c.int(1, 40))]


Slot = tuple[Any, Any]  # (container, key) of one value; (None, None) is the document itself


def slots(doc: Doc) -> tuple[list[Slot], list[Slot]]:
    """The places a mutation may touch, as (structure, weights): the values outside and inside ``weights``.

    Every object member and short-array element is a place; of a long array only a few elements are.
    """
    structure: list[Slot] = [(None, None)]
    weights: list[Slot] = []
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        node, in_weights = stack.pop()
        if isinstance(node, dict):
            keys: Sequence[Any] = list(node)
        elif isinstance(node, list):
            n = len(node)
            keys = range(n) if n <= 8 else sorted({0, 1, n // 2, n - 2, n - 1})
        else:
            continue
        for key in keys:
            inside = in_weights or key == "weights"
            (weights if inside and key != "weights" else structure).append((node, key))
            stack.append((node[key], inside))
    return structure, weights


def structure_mutation(c: Chooser, doc: Doc) -> Doc:
    """Apply 1-3 structure-aware edits to a parsed document; returns the (possibly new) document."""
    for _ in range(c.int(1, 3)):
        structure, weights = slots(doc)
        places = weights if weights and c.int(0, 2) == 0 else structure
        parent, key = pick(c, places)
        value = doc if parent is None else parent[key]
        op = c.int(0, 5)
        if op <= 1:  # replace with junk
            new: Any = junk(c)
        elif op == 2:  # delete
            if parent is None:
                continue
            del parent[key]
            continue
        elif op == 3:  # duplicate an array (whole, or one element)
            if not isinstance(value, list) or not value:
                continue
            new = value + copy.deepcopy(value) if c.int(0, 1) else value[:] + [copy.deepcopy(pick(c, value))]
        elif op == 4:  # shrink an array
            if not isinstance(value, list) or not value:
                continue
            new = value[: c.int(0, len(value) - 1)]
        else:  # transplant another value of the same document
            other_parent, other_key = pick(c, places)
            new = copy.deepcopy(doc if other_parent is None else other_parent[other_key])
        if parent is None:
            doc = new
        else:
            parent[key] = new
    return doc


_INTERESTING_BYTES = b'{}[],:"0123456789-+.eE \\\x00\xff\xc3NI'


def byte_mutation(c: Chooser, data: bytes) -> bytes:
    """Apply 1-4 byte-level edits: truncate, flip a bit, insert a byte, delete a run."""
    buf = bytearray(data)
    for _ in range(c.int(1, 4)):
        op = c.int(0, 3)
        pos = c.int(0, len(buf))
        if op == 0:
            del buf[pos:]
        elif op == 1 and pos < len(buf):
            buf[pos] ^= 1 << c.int(0, 7)
        elif op == 2:
            buf.insert(pos, pick(c, _INTERESTING_BYTES) if c.int(0, 1) else c.int(0, 255))
        else:
            del buf[pos : pos + c.int(1, 16)]
    return bytes(buf)


def run_mutant(content: str | bytes, name: str) -> str:
    """Load one mutated file; returns "error" or "ok", and raises on any other outcome."""
    try:
        model = Model.from_text(content, name=name)
    except ModelError as exc:
        assert str(exc).startswith(f"{name}: "), f"ModelError does not name the file first: {exc}"
        return "error"
    x = np.random.default_rng(0).uniform(-0.5, 0.5, size=(model.num_inputs, 256)).astype(np.float32)
    y = model.process(x[0] if model.num_inputs == 1 else x)
    expected = (256,) if model.num_outputs == 1 else (model.num_outputs, 256)
    assert y.shape == expected and y.dtype == np.float32, (y.shape, y.dtype, model)
    return "ok"


def mutate(c: Chooser) -> tuple[str, str | bytes]:
    """One random mutant: (name of the seed it came from, content)."""
    name, text = pick(c, seed_models())
    if c.int(0, 1):
        return name, byte_mutation(c, text.encode())
    return name, json.dumps(structure_mutation(c, json.loads(text)))


def run_seeded(start: int, count: int) -> None:
    """Run mutants for seeds start..start+count-1, printing each seed before loading it (child-process entry)."""
    outcomes = {"ok": 0, "error": 0}
    for seed in range(start, start + count):
        print(f"seed {seed}", flush=True)
        name, content = mutate(RandomChooser(seed))
        outcomes[run_mutant(content, f"seed{seed}-{name}")] += 1
    print(f"done {outcomes}", flush=True)


_FUZZ = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@_FUZZ
@given(data=st.data())
def test_fuzz_structure_mutations(data: st.DataObject) -> None:
    c = DataChooser(data)
    name, text = pick(c, seed_models())
    content = json.dumps(structure_mutation(c, json.loads(text)))
    run_mutant(content, f"fuzz-{name}")


@_FUZZ
@given(data=st.data())
def test_fuzz_byte_mutations(data: st.DataObject) -> None:
    c = DataChooser(data)
    name, text = pick(c, seed_models())
    run_mutant(byte_mutation(c, text.encode()), f"fuzz-{name}")


def test_seed_models_load() -> None:
    """The fuzzers start from models that load and run (bad_lstm.json excepted), so mutants probe real paths."""
    outcomes = {name: run_mutant(text, name) for name, text in seed_models()}
    assert outcomes.pop("bad_lstm.json") == "error"
    assert set(outcomes.values()) == {"ok"}, outcomes


SUBPROCESS_SEEDS = 3000
SUBPROCESS_WORKERS = 2


def test_fuzz_in_subprocess_reports_crashing_seed() -> None:
    """Seeded mutants in child processes: a native crash becomes a failure naming the seed."""
    here = Path(__file__).resolve().parent
    package_root = Path(ns.__file__).resolve().parent.parent
    per = SUBPROCESS_SEEDS // SUBPROCESS_WORKERS
    procs = []
    for w in range(SUBPROCESS_WORKERS):
        code = (
            f"import sys; sys.path[:0] = [{str(package_root)!r}, {str(here)!r}]\n"
            f"import test_bad_input as t; t.run_seeded({w * per}, {per})"
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-X", "faulthandler", "-c", code],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
            )
        )
    failures = []
    totals = {"ok": 0, "error": 0}
    for w, proc in enumerate(procs):
        timed_out = False
        try:
            out, err = proc.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            out, err = proc.communicate()
        lines = out.splitlines()
        if proc.returncode == 0 and lines and lines[-1].startswith("done "):
            for kind, n in json.loads(lines[-1][len("done ") :].replace("'", '"')).items():
                totals[kind] += n
            continue
        how = (
            "timed out" if timed_out
            else f"killed by signal {-proc.returncode}" if proc.returncode < 0
            else f"failed with exit status {proc.returncode}"
        )
        seeds = [int(line.split()[1]) for line in lines if line.startswith("seed ")]
        where = (
            f"at seed {seeds[-1]}; reproduce with test_bad_input.run_seeded({seeds[-1]}, 1)" if seeds
            else f"before its first seed ({w * per})"
        )
        failures.append(f"worker {w} {how} {where}.\nstderr tail:\n{err[-3000:]}")
    assert not failures, "\n\n".join(failures)
    # The mutants exercise both outcomes: some still load and run, most are rejected.
    assert totals["ok"] > SUBPROCESS_SEEDS // 50 and totals["error"] > SUBPROCESS_SEEDS // 2, totals
