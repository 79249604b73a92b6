"""Tests of the float64 reference implementation (neuralsynth.reference).

Numbers come from outside oracles (tests/fixtures, see its README.md):
RTNeural's TensorFlow outputs and the official NAM package's outputs.  Small
cases are also checked against direct formulas written here with plain loops,
independently of the reference's numpy code.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from neuralsynth import modelgen
from neuralsynth.errors import ModelError
from neuralsynth.reference import ReferenceModel, load_model, load_model_dict

FIXTURES = Path(__file__).parent / "fixtures"
RTNEURAL = FIXTURES / "rtneural"
NAM = FIXTURES / "nam"


@pytest.fixture(scope="module")
def nam_input() -> np.ndarray:
    x, rate = sf.read(NAM / "input.wav", dtype="float32")
    assert rate == 48000
    assert x.ndim == 1
    return x


def _stream(model: ReferenceModel, x: np.ndarray, chunk: int) -> np.ndarray:
    model.reset()
    parts = [model.process(x[..., i : i + chunk]) for i in range(0, x.shape[-1], chunk)]
    return np.concatenate(parts, axis=-1)


# --------------------------------------------------------------------------- #
# Outside oracles
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "tol"), [("dense", 1e-6), ("gru", 5e-6), ("lstm", 1e-6), ("conv", 1e-6)]
)
def test_rtneural_matches_tensorflow(name: str, tol: float) -> None:
    model = load_model(RTNEURAL / f"{name}.json")
    x = np.loadtxt(RTNEURAL / f"{name}_x.csv")
    y = np.loadtxt(RTNEURAL / f"{name}_y.csv")
    out = model.process(x)
    assert out.dtype == np.float64
    assert out.shape == y.shape
    assert np.max(np.abs(out - y)) < tol
    assert model.format == "rtneural"
    assert model.architecture == "RTNeural"
    assert model.num_inputs == 1 and model.num_outputs == 1
    assert model.sample_rate == 48000.0 and not model.sample_rate_known


def test_rtneural_model_properties() -> None:
    conv = load_model(RTNEURAL / "conv.json")
    # conv1d k=3 d=1, k=1, k=3 d=2 -> 1 + 2 + 0 + 4
    assert conv.receptive_field == 7
    assert load_model(RTNEURAL / "dense.json").receptive_field == 1
    gru = load_model(RTNEURAL / "gru.json")
    assert gru.receptive_field is None
    # dense 1x8+8, gru 8x24 + 8x24 + 2x24, dense 8x8+8, dense 8x1+1
    assert gru.num_weights == 16 + 192 + 192 + 48 + 72 + 9


def test_rtneural_bad_lstm_raises() -> None:
    with pytest.raises(ModelError) as info:
        load_model(RTNEURAL / "bad_lstm.json")
    msg = str(info.value)
    assert "bad_lstm.json" in msg
    assert "layers[0].weights[0]" in msg
    assert "expected 64 values, found 80" in msg


@pytest.mark.parametrize("name", ["lstm", "wavenet", "wavenet_a1_standard"])
def test_nam_matches_official_package(name: str, nam_input: np.ndarray) -> None:
    model = load_model(NAM / f"{name}.nam")
    expected = np.load(NAM / f"{name}.out.npy")
    out = model.process(nam_input)
    assert out.dtype == np.float64
    assert out.shape == expected.shape
    assert np.max(np.abs(out - expected)) < 1e-5


def test_nam_model_properties() -> None:
    std = load_model(NAM / "wavenet_a1_standard.nam")
    assert std.architecture == "WaveNet" and std.format == "nam"
    assert std.num_weights == 13802
    assert std.receptive_field == 1 + 2 * 2 * (1023)
    assert std.num_inputs == 1 and std.num_outputs == 1
    assert std.sample_rate == 48000.0 and not std.sample_rate_known
    tiny = load_model(NAM / "wavenet.nam")
    assert tiny.receptive_field == 1 + 2 * (1 + 2) + 2 * 8
    assert tiny.sample_rate_known
    lstm = load_model(NAM / "lstm.nam")
    assert lstm.architecture == "LSTM" and lstm.receptive_field is None
    assert lstm.num_weights == 70 and lstm.sample_rate_known


# --------------------------------------------------------------------------- #
# Streaming and reset
# --------------------------------------------------------------------------- #


def _streaming_models() -> list[tuple[str, ReferenceModel]]:
    rng = np.random.default_rng(7)
    gated_2in = modelgen.nam_wavenet(
        rng,
        [
            {
                "channels": 3,
                "head_size": 3,
                "kernel_size": 3,
                "dilations": [1, 4],
                "gated": True,
                "condition_size": 2,
            },
            {
                "channels": 3,
                "head_size": 1,
                "kernel_size": 2,
                "dilations": [2, 8],
                "gated": True,
                "condition_size": 2,
                "head_bias": True,
                "activation": "ReLU",
            },
        ],
    )
    return [
        ("nam-wavenet", load_model(NAM / "wavenet.nam")),
        ("nam-lstm", load_model(NAM / "lstm.nam")),
        ("nam-wavenet-gated-2in", load_model_dict(gated_2in)),
        (
            "nam-lstm-2in",
            load_model_dict(modelgen.nam_lstm(rng, 4, num_layers=2, input_size=2)),
        ),
        ("nam-linear", load_model_dict(modelgen.nam_linear(rng, 12))),
        ("rtneural-conv", load_model(RTNEURAL / "conv.json")),
        ("rtneural-gru", load_model(RTNEURAL / "gru.json")),
    ]


@pytest.mark.parametrize("chunk", [1, 7, 64, 513])
def test_streaming_equals_one_call(chunk: int) -> None:
    rng = np.random.default_rng(chunk)
    for name, model in _streaming_models():
        n = 1100
        x = rng.uniform(
            -0.8, 0.8, size=n if model.num_inputs == 1 else (model.num_inputs, n)
        )
        model.reset()
        whole = model.process(x)
        parts = _stream(model, x, chunk)
        np.testing.assert_allclose(parts, whole, rtol=0, atol=1e-12, err_msg=name)


def test_streaming_standard_wavenet(nam_input: np.ndarray) -> None:
    model = load_model(NAM / "wavenet_a1_standard.nam")
    x = nam_input[20000:26000].astype(np.float64)
    whole = model.process(x)
    for chunk in (64, 513):
        np.testing.assert_allclose(_stream(model, x, chunk), whole, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        _stream(model, x[:400], 1), whole[:400], rtol=0, atol=1e-12
    )


def test_reset_restores_initial_state() -> None:
    x = np.random.default_rng(4).uniform(-0.5, 0.5, 300)
    for path in (NAM / "lstm.nam", NAM / "wavenet.nam", RTNEURAL / "lstm.json"):
        model = load_model(path)
        first = model.process(x)
        second = model.process(x)
        assert not np.allclose(first, second), path  # state carried over
        model.reset()
        np.testing.assert_array_equal(model.process(x), first)


def test_nam_lstm_starts_from_stored_state() -> None:
    doc = json.loads((NAM / "lstm.nam").read_text())
    model = load_model_dict(doc, "lstm.nam")
    zero_state = json.loads(json.dumps(doc))
    h = doc["config"]["hidden_size"]
    start = 4 * h * (1 + h) + 4 * h
    zero_state["weights"][start : start + 2 * h] = [0.0] * (2 * h)
    other = load_model_dict(zero_state, "lstm0.nam")
    x = np.zeros(4)
    assert abs(model.process(x)[0] - other.process(x)[0]) > 1e-9


def test_process_input_shapes() -> None:
    model = load_model(NAM / "wavenet.nam")
    assert model.process(np.zeros((1, 5))).shape == (5,)
    assert model.process(np.zeros(0)).shape == (0,)
    with pytest.raises(ModelError, match=r"expected input of shape \(n,\)"):
        model.process(np.zeros((2, 5)))


# --------------------------------------------------------------------------- #
# Direct formulas (plain loops, written from the format description)
# --------------------------------------------------------------------------- #


def _act(name: str, v: float) -> float:
    if name in ("Tanh", "Fasttanh"):
        return math.tanh(v)
    if name == "ReLU":
        return v if v > 0 else 0.0
    if name == "Sigmoid":
        return 1.0 / (1.0 + math.exp(-v))
    if name == "Hardtanh":
        return min(1.0, max(-1.0, v))
    if name == "LeakyReLU":
        return v if v >= 0 else 0.01 * v
    raise AssertionError(name)


def _direct_wavenet(doc: dict[str, Any], u: list[list[float]]) -> list[list[float]]:
    """y[o][t] from the NAM 0.5 WaveNet definition; u[row][t], zero for t < 0."""
    w = list(doc["weights"])
    pos = 0

    def take(count: int) -> list[float]:
        nonlocal pos
        out = w[pos : pos + count]
        pos += count
        return out

    arrays = []
    for cfg in doc["config"]["layers"]:
        c, cin, cond, k = (
            cfg["channels"],
            cfg["input_size"],
            cfg["condition_size"],
            cfg["kernel_size"],
        )
        g = 2 * c if cfg["gated"] else c
        rech = take(c * cin)
        layers = []
        for d in cfg["dilations"]:
            conv = take(g * c * k)
            conv_b = take(g)
            mix = take(g * cond)
            w1 = take(c * c)
            b1 = take(c)
            layers.append((d, conv, conv_b, mix, w1, b1))
        head = take(cfg["head_size"] * c)
        head_b = (
            take(cfg["head_size"]) if cfg["head_bias"] else [0.0] * cfg["head_size"]
        )
        arrays.append((cfg, rech, layers, head, head_b))
    head_scale = take(1)[0]
    assert pos == len(w)
    n = len(u[0])

    def cond_at(row: int, t: int) -> float:
        return u[row][t] if t >= 0 else 0.0

    @cache
    def layer_input(a: int, j: int, ch: int, t: int) -> float:
        """Input of layer j (j == number of layers: array output) of array a."""
        cfg, rech, layers, _, _ = arrays[a]
        c = cfg["channels"]
        if j == 0:
            cin = cfg["input_size"]
            if a == 0:
                return sum(rech[ch * cin + i] * cond_at(i, t) for i in range(cin))
            prev_layers = len(arrays[a - 1][2])
            return sum(
                rech[ch * cin + i] * layer_input(a - 1, prev_layers, i, t)
                for i in range(cin)
            )
        return (
            layer_input(a, j - 1, ch, t)
            + sum(layers[j - 1][4][ch * c + i] * post(a, j - 1, i, t) for i in range(c))
            + layers[j - 1][5][ch]
        )

    @cache
    def pre(a: int, j: int, out: int, t: int) -> float:
        cfg, _, layers, _, _ = arrays[a]
        c, k, cond = cfg["channels"], cfg["kernel_size"], cfg["condition_size"]
        d, conv, conv_b, mix, _, _ = layers[j]
        s = conv_b[out]
        for i in range(c):
            for tap in range(k):
                s += conv[(out * c + i) * k + tap] * layer_input(
                    a, j, i, t - d * (k - 1 - tap)
                )
        for i in range(cond):
            s += mix[out * cond + i] * cond_at(i, t)
        return s

    @cache
    def post(a: int, j: int, ch: int, t: int) -> float:
        cfg = arrays[a][0]
        if cfg["gated"]:
            gate = pre(a, j, cfg["channels"] + ch, t)
            return _act(cfg["activation"], pre(a, j, ch, t)) / (1.0 + math.exp(-gate))
        return _act(cfg["activation"], pre(a, j, ch, t))

    @cache
    def head_out(a: int, o: int, t: int) -> float:
        cfg, _, layers, head, head_b = arrays[a]
        c = cfg["channels"]
        total = head_b[o]
        for ch in range(c):
            acc = head_out(a - 1, ch, t) if a > 0 else 0.0
            for j in range(len(layers)):
                acc += post(a, j, ch, t)
            total += head[o * c + ch] * acc
        return total

    last = len(arrays) - 1
    head_size = arrays[last][0]["head_size"]
    return [
        [head_scale * head_out(last, o, t) for t in range(n)] for o in range(head_size)
    ]


def _tiny_gated_wavenet(
    rng: np.random.Generator, activation: str = "Tanh"
) -> dict[str, Any]:
    return modelgen.nam_wavenet(
        rng,
        [
            {
                "channels": 2,
                "head_size": 3,
                "kernel_size": 3,
                "dilations": [1, 2],
                "gated": True,
                "activation": activation,
                "condition_size": 2,
                "input_size": 2,
            },
            {
                "channels": 3,
                "head_size": 2,
                "kernel_size": 2,
                "dilations": [3],
                "gated": True,
                "activation": activation,
                "condition_size": 2,
                "head_bias": True,
            },
        ],
        head_scale=0.5,
    )


def test_gated_two_input_wavenet_matches_direct_formula() -> None:
    rng = np.random.default_rng(11)
    doc = _tiny_gated_wavenet(rng)
    model = load_model_dict(doc)
    assert model.num_inputs == 2 and model.num_outputs == 2
    assert model.receptive_field == 1 + 2 * 1 + 2 * 2 + 1 * 3
    u = rng.uniform(-1, 1, size=(2, 25))
    got = model.process(u)
    want = np.array(_direct_wavenet(doc, u.tolist()))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "activation", ["Tanh", "Fasttanh", "ReLU", "Sigmoid", "Hardtanh", "LeakyReLU"]
)
def test_wavenet_activations_match_direct_formula(activation: str) -> None:
    rng = np.random.default_rng(3)
    doc = modelgen.nam_wavenet(
        rng,
        [
            {
                "channels": 2,
                "head_size": 2,
                "dilations": [1, 2],
                "activation": activation,
            },
            {
                "channels": 2,
                "head_size": 1,
                "dilations": [4],
                "activation": activation,
                "head_bias": True,
            },
        ],
        head_scale=1.0,
    )
    # Larger weights so Hardtanh clips and ReLU-type branches both occur.
    doc["weights"] = [3.0 * v for v in doc["weights"][:-1]] + [1.0]
    u = rng.uniform(-1, 1, size=(1, 20))
    got = load_model_dict(doc).process(u[0])
    want = np.array(_direct_wavenet(doc, u.tolist())[0])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def _direct_nam_lstm(doc: dict[str, Any], u: list[list[float]]) -> list[float]:
    cfg = doc["config"]
    n_in, hs, n_layers = cfg["input_size"], cfg["hidden_size"], cfg["num_layers"]
    w = list(doc["weights"])
    pos = 0
    params = []
    for layer in range(n_layers):
        cols = (n_in if layer == 0 else hs) + hs
        mat = [w[pos + r * cols : pos + (r + 1) * cols] for r in range(4 * hs)]
        pos += 4 * hs * cols
        bias = w[pos : pos + 4 * hs]
        pos += 4 * hs
        h0 = w[pos : pos + hs]
        pos += hs
        c0 = w[pos : pos + hs]
        pos += hs
        params.append((mat, bias, h0, c0))
    head_w = w[pos : pos + hs]
    head_b = w[pos + hs]
    assert pos + hs + 1 == len(w)

    def sig(v: float) -> float:
        return 1.0 / (1.0 + math.exp(-v))

    state = [(list(p[2]), list(p[3])) for p in params]
    out = []
    for t in range(len(u[0])):
        inp = [u[r][t] for r in range(n_in)]
        for layer, (mat, bias, _, _) in enumerate(params):
            h, c = state[layer]
            vec = inp + h
            pre = [
                bias[r] + sum(mat[r][q] * vec[q] for q in range(len(vec)))
                for r in range(4 * hs)
            ]
            c = [
                sig(pre[hs + j]) * c[j] + sig(pre[j]) * math.tanh(pre[2 * hs + j])
                for j in range(hs)
            ]
            h = [sig(pre[3 * hs + j]) * math.tanh(c[j]) for j in range(hs)]
            state[layer] = (h, c)
            inp = h
        out.append(head_b + sum(head_w[j] * inp[j] for j in range(hs)))
    return out


def test_two_input_lstm_matches_direct_formula() -> None:
    rng = np.random.default_rng(5)
    doc = modelgen.nam_lstm(rng, hidden_size=3, num_layers=2, input_size=2)
    model = load_model_dict(doc)
    assert model.num_inputs == 2
    u = rng.uniform(-1, 1, size=(2, 30))
    np.testing.assert_allclose(
        model.process(u), _direct_nam_lstm(doc, u.tolist()), rtol=0, atol=1e-12
    )


def test_nam_lstm_fixture_matches_direct_formula(nam_input: np.ndarray) -> None:
    doc = json.loads((NAM / "lstm.nam").read_text())
    x = nam_input[:200].astype(np.float64)
    got = load_model_dict(doc).process(x)
    np.testing.assert_allclose(
        got, _direct_nam_lstm(doc, [x.tolist()]), rtol=0, atol=1e-12
    )


def test_linear_matches_direct_formula() -> None:
    rng = np.random.default_rng(2)
    doc = modelgen.nam_linear(rng, 5, bias=True)
    w, b = doc["weights"][:5], doc["weights"][5]
    x = rng.uniform(-1, 1, 17)
    want = [
        b + sum(w[k] * (x[t - k] if t - k >= 0 else 0.0) for k in range(5))
        for t in range(17)
    ]
    model = load_model_dict(doc)
    assert model.receptive_field == 5
    np.testing.assert_allclose(model.process(x), want, rtol=0, atol=1e-14)
    no_bias = modelgen.nam_linear(rng, 3, bias=False)
    assert load_model_dict(no_bias).num_weights == 3


def test_rtneural_layers_match_direct_formulas() -> None:
    """Grouped dilated conv1d, batchnorm, prelu and leakyrelu alpha."""
    rng = np.random.default_rng(9)
    doc = modelgen.rtneural_model(
        rng,
        4,
        [
            ("conv1d", 6, 3, 2, 2, "leakyrelu"),
            ("batchnorm", True),
            ("prelu", False),
        ],
    )
    doc["layers"][0]["alpha"] = 0.2
    kernel, bias = doc["layers"][0]["weights"]
    gamma, beta, mean, var = doc["layers"][1]["weights"]
    eps = doc["layers"][1]["epsilon"]
    alpha = doc["layers"][2]["weights"][0][0]
    x = rng.uniform(-1, 1, size=(4, 15))
    want = np.zeros((6, 15))
    for t in range(15):
        for o in range(6):
            grp = o // 3
            s = bias[o]
            for k in range(3):
                src = t - 2 * (2 - k)
                if src < 0:
                    continue
                for c in range(2):
                    s += kernel[k][c][o] * x[grp * 2 + c, src]
            s = s if s >= 0 else 0.2 * s
            s = gamma[o] * (s - mean[o]) / math.sqrt(var[o] + eps) + beta[o]
            want[o, t] = s if s >= 0 else alpha[o] * s
    model = load_model_dict(doc)
    assert model.receptive_field == 5
    np.testing.assert_allclose(model.process(x), want, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------- #
# modelgen
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("preset", "count"),
    [("standard", 13802), ("lite", None), ("feather", None), ("nano", None)],
)
def test_modelgen_presets(preset: str, count: int | None, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    doc = modelgen.nam_wavenet_preset(rng, preset)
    path = modelgen.write_model(doc, tmp_path / f"{preset}.nam")
    model = load_model(path)
    assert model.receptive_field == 4093
    if count is not None:
        assert model.num_weights == count
    y = model.process(rng.uniform(-0.5, 0.5, 4000))
    assert np.all(np.isfinite(y)) and 1e-5 < np.std(y) < 1.0


def test_modelgen_rtneural_all_layer_types() -> None:
    rng = np.random.default_rng(1)
    doc = modelgen.rtneural_model(
        rng,
        2,
        [
            ("dense", 8, "tanh"),
            ("conv1d", 8, 3, 2, 2, "relu"),
            ("batchnorm", False),
            ("prelu", True),
            ("activation", "softmax"),
            ("gru", 5),
            ("lstm", 4),
            ("time-distributed-dense", 3, "elu"),
            ("dense", 2, "sigmoid"),
        ],
        samplerate=44100,
    )
    model = load_model_dict(json.loads(json.dumps(doc)))
    assert model.num_inputs == 2 and model.num_outputs == 2
    assert model.sample_rate == 44100.0 and model.sample_rate_known
    assert model.receptive_field is None
    assert model.process(rng.normal(size=(2, 10))).shape == (2, 10)
    for kind in ("gru", "lstm"):
        rnn = load_model_dict(modelgen.rtneural_rnn(rng, kind, 6))
        assert rnn.num_outputs == 1 and rnn.receptive_field is None


def test_rtneural_samplerate_string() -> None:
    doc = modelgen.rtneural_rnn(np.random.default_rng(0), "gru", 4)
    doc["samplerate"] = "44100"
    assert load_model_dict(doc).sample_rate == 44100.0


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


def _write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))  # allow_nan: NaN is written as the literal NaN
    return path


def _load_error(path: Path) -> str:
    with pytest.raises(ModelError) as info:
        load_model(path)
    return str(info.value)


def _small_wavenet() -> dict[str, Any]:
    return json.loads((NAM / "wavenet.nam").read_text())


def test_version_refused(tmp_path: Path) -> None:
    doc = _small_wavenet()
    doc["version"] = "0.6.0"
    msg = _load_error(_write(tmp_path, "a.nam", doc))
    assert "a.nam" in msg and "version 0.6.0 is not supported" in msg and "0.5.x" in msg
    del doc["version"]
    assert "version" in _load_error(_write(tmp_path, "b.nam", doc))


def test_weight_count_mismatch(tmp_path: Path) -> None:
    doc = json.loads((NAM / "wavenet_a1_standard.nam").read_text())
    doc["weights"] = doc["weights"][:-1]
    msg = _load_error(_write(tmp_path, "model.nam", doc))
    assert msg == (
        f"{tmp_path / 'model.nam'}: weights: expected 13802 values for this WaveNet config, "
        "found 13801"
    )
    lstm = json.loads((NAM / "lstm.nam").read_text())
    lstm["weights"].append(0.0)
    assert "expected 70 values for this LSTM config, found 71" in _load_error(
        _write(tmp_path, "l.nam", lstm)
    )


def test_nan_weight(tmp_path: Path) -> None:
    doc = _small_wavenet()
    doc["weights"][17] = float("nan")
    msg = _load_error(_write(tmp_path, "n.nam", doc))
    assert "weights[17] is nan (weights must be finite)" in msg
    rt = json.loads((RTNEURAL / "lstm.json").read_text())
    rt["layers"][1]["weights"][2][5] = float("inf")
    assert "layers[1].weights[2][5] is inf" in _load_error(
        _write(tmp_path, "r.json", rt)
    )


def test_wrong_rtneural_weight_shape(tmp_path: Path) -> None:
    doc = json.loads((RTNEURAL / "gru.json").read_text())
    doc["layers"][0]["weights"][1] = doc["layers"][0]["weights"][1] + [0.0, 0.0]
    msg = _load_error(_write(tmp_path, "m.json", doc))
    assert "m.json: layers[0].weights[1]: expected 8 values, found 10" in msg


def test_absurd_sizes(tmp_path: Path) -> None:
    doc = _small_wavenet()
    doc["config"]["layers"][0]["channels"] = 10**9
    msg = _load_error(_write(tmp_path, "big.nam", doc))
    assert "config.layers[0].channels" in msg and "1000000000" in msg
    doc = _small_wavenet()
    doc["config"]["layers"][1]["dilations"] = [8, 2**40]
    assert "config.layers[1].dilations[1]" in _load_error(
        _write(tmp_path, "d.nam", doc)
    )
    rt = json.loads((RTNEURAL / "lstm.json").read_text())
    rt["layers"][1]["shape"] = [None, None, 100000]
    msg = _load_error(_write(tmp_path, "big.json", rt))
    assert "layers[1].shape[2]" in msg and "100000" in msg
    lstm = json.loads((NAM / "lstm.nam").read_text())
    lstm["config"]["hidden_size"] = 70000
    assert "config.hidden_size" in _load_error(_write(tmp_path, "h.nam", lstm))


def test_config_consistency(tmp_path: Path) -> None:
    doc = _small_wavenet()
    doc["config"]["layers"][1]["input_size"] = 4
    msg = _load_error(_write(tmp_path, "c.nam", doc))
    assert "config.layers[1].input_size" in msg and "expected 3" in msg
    doc = _small_wavenet()
    doc["config"]["layers"][0]["head_size"] = 5
    assert "config.layers[0].head_size" in _load_error(_write(tmp_path, "h.nam", doc))
    doc = _small_wavenet()
    doc["config"]["head"] = {"foo": 1}
    assert "head is not supported" in _load_error(_write(tmp_path, "hd.nam", doc))
    doc = _small_wavenet()
    doc["config"]["layers"][0]["activation"] = "Swish"
    msg = _load_error(_write(tmp_path, "act.nam", doc))
    assert "config.layers[0].activation" in msg and "Swish" in msg and "Tanh" in msg


def test_unknown_architecture(tmp_path: Path) -> None:
    doc = _small_wavenet()
    doc["architecture"] = "ConvNet"
    msg = _load_error(_write(tmp_path, "cn.nam", doc))
    assert "architecture" in msg and "ConvNet" in msg
    assert "WaveNet" in msg and "LSTM" in msg and "Linear" in msg


def test_unknown_layer_type_and_activation(tmp_path: Path) -> None:
    doc = json.loads((RTNEURAL / "dense.json").read_text())
    doc["layers"][2]["type"] = "conv2d"
    msg = _load_error(_write(tmp_path, "t.json", doc))
    assert "layers[2].type" in msg and "conv2d" in msg and "gru" in msg
    doc = json.loads((RTNEURAL / "dense.json").read_text())
    doc["layers"][1]["activation"] = "swish"
    msg = _load_error(_write(tmp_path, "a.json", doc))
    assert "layers[1].activation" in msg and "swish" in msg and "tanh" in msg


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.nam"
    path.write_text('{"version": "0.5.4",\n  "architecture": "Linear", oops}')
    msg = _load_error(path)
    assert "broken.nam" in msg and "invalid JSON" in msg and "line 2 column" in msg
    assert "cannot read" in _load_error(tmp_path / "missing.nam")
    assert "not a NAM or RTNeural model" in _load_error(
        _write(tmp_path, "x.json", {"a": 1})
    )
