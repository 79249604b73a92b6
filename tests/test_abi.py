"""The C ABI is stated once (bridge/neuralsynth_bridge.h): Python's declarations are read from the
header beside the loaded library. These tests fail when header and library drift apart."""

from __future__ import annotations

import re

import numpy as np
import pytest

from neuralsynth import _bridge


def _header() -> str:
    return _bridge.header_path().read_text()


def test_every_declared_function_is_exported_by_the_library() -> None:
    names = re.findall(r"\bNS_API\s+[\w\s\*]+?\b(ns_\w+)\s*\(", _header())
    assert len(names) >= 40, names
    lib = _bridge.lib()
    missing = [n for n in names if not hasattr(lib, n)]
    assert missing == []


def test_struct_layouts_match_the_compiled_library() -> None:
    lib = _bridge.lib()
    for name in ("ns_model_info", "ns_param_info", "ns_midi_event"):
        assert lib.ns_struct_size(name.encode()) == _bridge.ffi.sizeof(name), name
    assert lib.ns_struct_size(b"no_such_struct") == 0


def test_status_names_come_from_the_header_enum() -> None:
    assert _bridge.STATUS_NAMES == {
        1: "io", 2: "parse", 3: "format", 4: "unsupported", 5: "limit", 6: "argument", 7: "memory", 8: "internal"
    }


def test_effect_parameter_table_through_the_bridge() -> None:
    lib, ffi = _bridge.lib(), _bridge.ffi
    info = ffi.new("ns_param_info*")
    rows = []
    for i in range(lib.ns_effect_param_count()):
        assert lib.ns_effect_param_info(i, info) == 0
        rows.append((ffi.string(info.id).decode(), info.min_value, info.max_value, info.default_value, info.scale))
    assert rows[:5] == [
        ("input_gain", -24.0, 24.0, 0.0, 0),
        ("output_gain", -24.0, 24.0, 0.0, 0),
        ("mix", 0.0, 100.0, 100.0, 0),
        ("dc_block", 0.0, 1.0, 1.0, 5),
        ("bypass", 0.0, 1.0, 0.0, 5),
    ]
    assert [r[0] for r in rows[5:]] == [f"control_{k}" for k in range(1, 9)]
    assert lib.ns_effect_param_info(len(rows), info) == 6


def test_effect_chain_at_defaults_is_model_then_dc_blocker(fixtures_dir) -> None:  # noqa: ANN001
    # Independent oracle: the model alone (ns_model_*) followed by a first-order DC blocker in float64.
    from neuralsynth.model import load_model

    path = fixtures_dir / "nam" / "wavenet.nam"
    lib, ffi = _bridge.lib(), _bridge.ffi
    err = _bridge.ErrorBuffer()
    out = ffi.new("ns_effect**")
    err.check(lib.ns_effect_create(str(path).encode(), 48000.0, 64, out, err.buf, err.SIZE))
    fx = ffi.gc(out[0], lib.ns_effect_free)
    x = (0.3 * np.sin(np.arange(3000) * 0.05)).astype(np.float32)
    y = x.copy()
    ptr = ffi.new("float*[1]", [ffi.from_buffer("float[]", y)])
    assert lib.ns_effect_process(fx, ptr, 1, y.size) == 0
    m = load_model(path)
    wet = m.process(x).astype(np.float64)
    r = np.exp(-2 * np.pi * lib.ns_effect_dc_cutoff_hz() / 48000.0)
    ref = np.zeros_like(wet)
    x1 = y1 = 0.0
    for i, v in enumerate(wet):
        y1 = v - x1 + r * y1
        x1 = v
        ref[i] = y1
    assert np.max(np.abs(y - ref)) < 1e-6
    assert lib.ns_effect_latency(fx) == 0
    bad = ffi.new("ns_effect**")
    assert lib.ns_effect_create(b"/no/such/model.nam", 48000.0, 64, bad, err.buf, err.SIZE) == 1
    assert bad[0] == ffi.NULL and "no/such/model.nam" in ffi.string(err.buf).decode()


def test_effect_chain_python_wrapper_gain_mix_and_latency(fixtures_dir) -> None:  # noqa: ANN001
    from neuralsynth.effect import EffectChain

    path = fixtures_dir / "nam" / "wavenet.nam"
    x = (0.2 * np.sin(np.arange(4800) * 0.03)).astype(np.float32)
    wet = EffectChain(path).process(np.vstack([x, x]))
    dry_only = EffectChain(path)
    dry_only["mix"] = 0.0
    dry_only.prepare(48000.0)
    assert np.array_equal(dry_only.process(x), x)  # mix 0 %: the input, bit for bit (no latency at the model rate)
    with_gain = EffectChain(path)
    with_gain["output_gain"] = 6.0
    with_gain.prepare(48000.0)
    assert np.allclose(with_gain.process(x), wet[0] * 10 ** (6 / 20), atol=1e-6)
    assert np.array_equal(wet[0], wet[1])
    resampled = EffectChain(path, sample_rate=44100.0)
    assert 0 < resampled.latency <= 16384
    with pytest.raises(KeyError, match="not an effect parameter"):
        resampled["volume"] = 1.0
