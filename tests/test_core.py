"""The C++ core (through the cffi bridge) against oracles.

- outside oracles: RTNeural's TensorFlow outputs and the official NAM package's outputs;
- the independent numpy reference, for every layer and model type with random weights and shapes;
- block-size invariance.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

import neuralsynth as ns
from conftest import NAM_DIR, RTNEURAL_DIR
from neuralsynth import modelgen
from neuralsynth.model import Model

# ---------------------------------------------------------------------------------------------
# Outside oracles


@pytest.fixture(scope="module")
def guitar_di() -> np.ndarray:
    x, sr = sf.read(NAM_DIR / "input.wav", dtype="float32")
    assert sr == 48000
    return x


@pytest.mark.parametrize("name", ["wavenet", "lstm", "wavenet_a1_standard"])
def test_nam_fixture_matches_official_nam_package(name: str, guitar_di: np.ndarray) -> None:
    model = ns.load_model(NAM_DIR / f"{name}.nam")
    expected = np.load(NAM_DIR / f"{name}.out.npy")
    y = model.process(guitar_di)
    assert y.dtype == np.float32 and y.shape == expected.shape
    err = np.max(np.abs(y - expected))
    assert err <= 1e-5, f"{name}: max abs error {err:.3g} vs the official NAM package"
    # the signal is real: a model that output zeros would fail here
    assert np.max(np.abs(expected)) > 1e-3


@pytest.mark.parametrize("name,tol", [("dense", 1e-6), ("gru", 5e-6), ("lstm", 1e-6), ("conv", 1e-6)])
def test_rtneural_fixture_matches_tensorflow(name: str, tol: float) -> None:
    x = np.loadtxt(RTNEURAL_DIR / f"{name}_x.csv", dtype=np.float32)
    expected = np.loadtxt(RTNEURAL_DIR / f"{name}_y.csv")
    model = ns.load_model(RTNEURAL_DIR / f"{name}.json")
    y = model.process(x)
    err = np.max(np.abs(y - expected))
    assert err <= tol, f"{name}: max abs error {err:.3g} vs TensorFlow (RTNeural's tolerance {tol})"


def test_bad_lstm_fixture_is_refused_with_the_field_named() -> None:
    with pytest.raises(ns.ModelError) as e:
        ns.load_model(RTNEURAL_DIR / "bad_lstm.json")
    msg = str(e.value)
    assert "bad_lstm.json" in msg and "layers[0].weights[0]" in msg and "64" in msg and "80" in msg


def test_model_info_of_standard_wavenet() -> None:
    m = ns.load_model(NAM_DIR / "wavenet_a1_standard.nam")
    assert m.architecture == "WaveNet" and m.format == "nam" and m.version == "0.5.0"
    assert m.num_weights == 13802
    assert m.receptive_field == 4093  # 1 + 2 arrays x 2 x (1 + 2 + ... + 512)
    assert m.latency == 0 and m.num_inputs == 1 and m.num_outputs == 1
    assert m.sample_rate == 48000 and not m.sample_rate_known
    # 10 layers x (3*16*16 + 16 + 256) + 10 x (3*8*8 + 8 + 64) + rechannels and heads
    assert m.macs_per_sample == 10 * (768 + 16 + 256) + 10 * (192 + 8 + 64) + 16 + 128 + 128 + 8


# ---------------------------------------------------------------------------------------------
# C++ against the numpy reference, random weights and shapes


def _compare(doc: dict, x: np.ndarray, tol: float = 1e-5) -> float:
    cpp = Model.from_text(json.dumps(doc), name="random-model")
    ref = ns.reference.load_model_dict(doc)
    assert cpp.num_inputs == ref.num_inputs and cpp.num_outputs == ref.num_outputs
    assert cpp.num_weights == ref.num_weights
    assert cpp.receptive_field == ref.receptive_field
    y = cpp.process(x)
    r = ref.process(x.astype(np.float64))
    assert y.shape == r.shape
    err = float(np.max(np.abs(y - r)))
    assert np.max(np.abs(r)) > 1e-4, "degenerate random model: output is ~0"
    assert err <= tol, f"max abs error {err:.3g} > {tol}"
    # streaming: a second call continues the state
    y2 = cpp.process(x)
    r2 = ref.process(x.astype(np.float64))
    assert float(np.max(np.abs(y2 - r2))) <= tol
    return err


def _signal(rng: np.random.Generator, n_inputs: int, n: int = 3000) -> np.ndarray:
    t = np.arange(n)
    audio = 0.6 * np.sin(2 * np.pi * 220 * t / 48000) * rng.uniform(0.2, 1.0) + 0.1 * rng.standard_normal(n)
    if n_inputs == 1:
        return audio.astype(np.float32)
    controls = [np.full(n, rng.uniform(-1, 1)) + 0.05 * np.sin(t / (300 + 50 * i)) for i in range(n_inputs - 1)]
    return np.stack([audio, *controls]).astype(np.float32)


ACTIVATIONS = ["tanh", "sigmoid", "relu", "leakyrelu", "elu", "softmax", ""]


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("seed", [0, 1])
def test_dense_and_activation_layers(act: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_in = int(rng.integers(1, 4))
    h = int(rng.integers(3, 40))
    doc = modelgen.rtneural_model(
        rng,
        n_in,
        [
            ("dense", h, act),
            ("activation", act or "tanh"),
            ("dense", int(rng.integers(2, 20)), "tanh"),
            ("time-distributed-dense", 1, ""),
        ],
    )
    _compare(doc, _signal(rng, n_in))


@pytest.mark.parametrize("seed", range(6))
def test_conv1d_dilation_groups(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    groups = int(rng.choice([1, 2, 3]))
    c_in = groups * int(rng.integers(1, 6))
    c_out = groups * int(rng.integers(1, 7))
    k = int(rng.integers(1, 6))
    d = int(rng.integers(1, 9))
    doc = modelgen.rtneural_model(
        rng,
        1,
        [
            ("dense", c_in, "tanh"),
            ("conv1d", c_out, k, d, groups, "tanh"),
            ("batchnorm", bool(seed % 2)),
            ("prelu", bool(seed % 3 == 0)),
            ("conv1d", 17, 3, 2, 1, ""),
            ("dense", 1, ""),
        ],
    )
    _compare(doc, _signal(rng, 1))


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("hidden", [1, 3, 8, 16, 20, 33])
def test_recurrent_layers(kind: str, hidden: int) -> None:
    rng = np.random.default_rng(hidden * 7 + len(kind))
    n_in = 1 + hidden % 3
    doc = modelgen.rtneural_model(rng, n_in, [("dense", 5, "tanh"), (kind, hidden), (kind, 8), ("dense", 1, "")])
    _compare(doc, _signal(rng, n_in, 1500))


@pytest.mark.parametrize("kind", ["gru", "lstm"])
@pytest.mark.parametrize("hidden", [8, 16, 24, 32, 40, 48, 64, 96, 128])
def test_recurrent_one_input_fixed_sizes(kind: str, hidden: int) -> None:
    """Every compiled-in hidden size on its one-input path (the input projection formed inside
    the step), driven hard enough that gate pre-activations pass tanh's saturation point
    (|x| > 7.9), where the recurrent steps replace the rational approximation by +-1."""
    rng = np.random.default_rng(1000 + hidden + len(kind))
    doc = modelgen.rtneural_model(rng, 1, [(kind, hidden), ("dense", 1, "")])
    w_in, w_rec, bias = (np.asarray(w, dtype=np.float64) for w in doc["layers"][0]["weights"])
    # |pre-activation| of a gate row at the signal's peak is at least |w_in| peak - |bias| - sum |w_rec|
    # (|h| <= 1; the GRU's r <= 1 only shrinks its recurrent term). Sigmoid rows are evaluated
    # as tanh(x / 2), so they saturate beyond 2 x 7.9: ask every gate (i, f, g, o / z, r, n) for
    # a row guaranteed past 16.
    slack = 16.0 + np.abs(bias).reshape(-1, w_in.shape[1]).sum(axis=0) + np.abs(w_rec).sum(axis=0)
    need = slack / np.maximum(np.abs(w_in[0]), 1e-9)
    peak = max(float(np.min(gate)) for gate in need.reshape(-1, hidden))
    sig = _signal(rng, 1, 1200)
    x = (1.05 * peak / float(np.max(np.abs(sig))) * sig).astype(np.float32)
    _compare(doc, x)


@pytest.mark.parametrize(
    "arrays",
    [
        # one array, plain; gated; two arrays with multi-input condition; wide gated with relu
        [
            dict(
                channels=3,
                head_size=1,
                kernel_size=3,
                dilations=[1, 2, 4],
                gated=False,
                activation="Tanh",
                head_bias=True,
                input_size=1,
                condition_size=1,
            )
        ],
        [
            dict(
                channels=5,
                head_size=1,
                kernel_size=2,
                dilations=[1, 3, 9, 27],
                gated=True,
                activation="Tanh",
                head_bias=False,
                input_size=1,
                condition_size=1,
            )
        ],
        [
            dict(
                channels=6,
                head_size=4,
                kernel_size=3,
                dilations=[1, 2, 4, 8],
                gated=False,
                activation="Tanh",
                head_bias=False,
                input_size=3,
                condition_size=3,
            ),
            dict(
                channels=4,
                head_size=1,
                kernel_size=3,
                dilations=[16, 1, 2],
                gated=True,
                activation="Sigmoid",
                head_bias=True,
                input_size=6,
                condition_size=3,
            ),
        ],
        [
            dict(
                channels=20,
                head_size=2,
                kernel_size=4,
                dilations=[1, 5, 25],
                gated=True,
                activation="ReLU",
                head_bias=True,
                input_size=1,
                condition_size=1,
            )
        ],
        [
            dict(
                channels=7,
                head_size=1,
                kernel_size=3,
                dilations=[1, 2],
                gated=False,
                activation="LeakyReLU",
                head_bias=True,
                input_size=1,
                condition_size=1,
            )
        ],
        [
            dict(
                channels=4,
                head_size=1,
                kernel_size=3,
                dilations=[1, 2],
                gated=False,
                activation="Hardtanh",
                head_bias=True,
                input_size=1,
                condition_size=1,
            )
        ],
    ],
    ids=["plain", "gated", "two-arrays-3-inputs", "gated-relu-2-outputs", "leakyrelu", "hardtanh"],
)
def test_nam_wavenet_random(arrays: list[dict]) -> None:
    rng = np.random.default_rng(len(arrays) * 31 + arrays[0]["channels"])
    doc = modelgen.nam_wavenet(rng, arrays)
    _compare(doc, _signal(rng, arrays[0]["condition_size"]))


@pytest.mark.parametrize("preset", ["standard", "lite", "feather", "nano"])
def test_nam_wavenet_presets(preset: str) -> None:
    rng = np.random.default_rng(7)
    doc = modelgen.nam_wavenet_preset(rng, preset)
    _compare(doc, _signal(rng, 1, 6000))


@pytest.mark.parametrize("hidden,layers,inputs", [(3, 1, 1), (16, 2, 1), (8, 3, 2), (24, 1, 1)])
def test_nam_lstm_random(hidden: int, layers: int, inputs: int) -> None:
    rng = np.random.default_rng(hidden + layers)
    doc = modelgen.nam_lstm(rng, hidden, num_layers=layers, input_size=inputs)
    _compare(doc, _signal(rng, inputs))


@pytest.mark.parametrize("rf,bias", [(1, True), (8, False), (65, True)])
def test_nam_linear_random(rf: int, bias: bool) -> None:
    rng = np.random.default_rng(rf)
    _compare(modelgen.nam_linear(rng, rf, bias=bias), _signal(rng, 1))


def test_linear_tap_order_is_newest_first() -> None:
    # NAM's C++ core applies weights[k] to x[t - k]; an impulse reads the weights back in order.
    doc = {
        "version": "0.5.4",
        "architecture": "Linear",
        "config": {"receptive_field": 3, "bias": False},
        "weights": [0.5, 0.25, 0.125],
    }
    y = Model.from_text(json.dumps(doc)).process(np.array([1, 0, 0, 0], np.float32))
    np.testing.assert_array_equal(y, [0.5, 0.25, 0.125, 0.0])


# ---------------------------------------------------------------------------------------------
# Block-size invariance and state


def _block_models() -> list:
    rng = np.random.default_rng(5)
    return [
        ("standard-wavenet", modelgen.nam_wavenet_preset(rng, "standard")),
        (
            "gated-2-input-wavenet",
            modelgen.nam_wavenet(
                rng,
                [
                    dict(
                        channels=8,
                        head_size=1,
                        kernel_size=3,
                        dilations=[1, 2, 4, 8, 256],
                        gated=True,
                        activation="Tanh",
                        head_bias=True,
                        input_size=2,
                        condition_size=2,
                    )
                ],
            ),
        ),
        ("lstm16", modelgen.nam_lstm(rng, 16)),
        ("gru8", modelgen.rtneural_rnn(rng, "gru", 8)),
        (
            "conv-stack",
            modelgen.rtneural_model(rng, 1, [("dense", 4, "tanh"), ("conv1d", 6, 5, 300, 2, "tanh"), ("dense", 1, "")]),
        ),
    ]


@pytest.mark.parametrize("name,doc", _block_models(), ids=lambda v: v if isinstance(v, str) else "")
def test_block_size_invariance(name: str, doc: dict) -> None:
    text = json.dumps(doc)
    rng = np.random.default_rng(11)
    n_inputs = Model.from_text(text).num_inputs
    x = _signal(rng, n_inputs, 9000)
    outputs = {}
    for max_block in (64, 4096):  # 513 and 4096 exceed 64: the core splits them internally
        m = Model.from_text(text, max_block_size=max_block)
        for block in (1, 7, 64, 513, 4096):
            m.reset()
            outputs[(max_block, block)] = m.process(x, block_size=block)
    base = outputs[(4096, 4096)]
    assert np.max(np.abs(base)) > 1e-4
    for key, y in outputs.items():
        # The issue asks for 1e-6; the core does better: every sample is computed with the same
        # operations in the same order whatever the split, so the outputs are identical.
        err = float(np.max(np.abs(y - base)))
        assert np.array_equal(y, base), f"{name}: max_block {key[0]}, block {key[1]}: differs by {err:.3g}"


def test_reset_restores_initial_state(guitar_di: np.ndarray) -> None:
    m = ns.load_model(NAM_DIR / "lstm.nam")
    a = m.process(guitar_di[:5000])
    m.process(guitar_di[5000:20000])
    m.reset()
    np.testing.assert_array_equal(m.process(guitar_di[:5000]), a)


def test_process_rejects_wrong_input_shape() -> None:
    m = ns.load_model(NAM_DIR / "wavenet.nam")
    with pytest.raises(ValueError, match="expected shape"):
        m.process(np.zeros((2, 10), np.float32))


def test_empty_input_gives_empty_output() -> None:
    m = ns.load_model(NAM_DIR / "wavenet.nam")
    assert m.process(np.zeros(0, np.float32)).shape == (0,)
