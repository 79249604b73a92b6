"""The plugin validation battery.

The tests that count run the battery on a plugin the project builds (conftest.py's
``plugin_bundles``: VST3 through pedalboard, VST3 and LV2 through DawDreamer).

The fake effect below exists only to test the checks themselves: with each flaw switched on,
the battery must fail the check that looks for that flaw (and only that one).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.plugins import validation
from neuralsynth.plugins.validation import CHECK_NAMES, HOST_CHECKS, CheckResult, run_checks, run_validation, runner

CONFIGS = [("pedalboard", "VST3"), ("dawdreamer", "VST3"), ("dawdreamer", "LV2")]


# --------------------------------------------------------------------------------------------
# The real plugin (built by the session fixture in conftest.py)


@pytest.fixture(scope="module")
def battery(plugin_bundles: dict[str, Path]):
    cache: dict[tuple[str, str], dict[str, CheckResult]] = {}

    def run(host: str, fmt: str) -> dict[str, CheckResult]:
        if (host, fmt) not in cache:
            bundle = plugin_bundles[fmt.lower()]
            cache[host, fmt] = {r.name: r for r in run_validation(bundle, host, quick=True, log=None)}
        return cache[host, fmt]

    return run


@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize(("host", "fmt"), CONFIGS, ids=[f"{h}-{f.lower()}" for h, f in CONFIGS])
def test_real_plugin(battery, host: str, fmt: str, check: str) -> None:
    r = battery(host, fmt)[check]
    if check not in HOST_CHECKS.get(host, CHECK_NAMES):
        assert r.skipped and r.detail.startswith("skipped (host)"), r
        return
    assert r.passed, f"{check} FAILED on the {fmt} plugin via {host}: {r.detail}"


# --------------------------------------------------------------------------------------------
# A fake effect with the project's parameter layout, to test the checks themselves.

DEFAULTS = {"Input Gain": 0.0, "Output Gain": 0.0, "Mix": 100.0, "DC Block": 1.0, "Bypass": 0.0}
TAPS = np.array([0.5, 0.3, 0.15, 0.05])
_shared_memory: dict[int, np.ndarray] = {}


class FakeEffect:
    """tanh drive into a short FIR, dry/wet mix, bypass; block-size invariant unless a flaw says otherwise."""

    def __init__(self, flaw: str | None = None) -> None:
        self.flaw = flaw
        self.values = dict(DEFAULTS)
        self._memory: np.ndarray | None = None

    @property
    def parameter_names(self) -> list[str]:
        return list(self.values)

    def set_parameter(self, name: str, value: float) -> None:
        if name not in self.values:
            raise KeyError(name)
        self.values[name] = float(value)

    def get_parameter(self, name: str) -> float:
        return self.values[name]

    def reset(self) -> None:
        if self.flaw != "reset_ignored":
            self._clear()

    def _clear(self) -> None:
        self._memory = None
        _shared_memory.clear()

    @property
    def raw_state(self) -> bytes:
        return json.dumps(self.values).encode()

    @raw_state.setter
    def raw_state(self, data: bytes) -> None:
        if self.flaw != "state_lost":
            self.values.update(json.loads(data))

    def process(self, audio: np.ndarray, sample_rate: float, block_size: int = 512, reset: bool = True) -> np.ndarray:
        x = np.asarray(audio, dtype=np.float32)
        if self.flaw == "mono_raises" and x.shape[0] == 1:
            raise ValueError("this fake cannot do mono")
        if reset:
            self._clear()
        if self.flaw == "nan_on_silence" and not np.any(x):
            return np.full_like(x, np.nan)
        if self.values["Bypass"] >= 0.5 and self.flaw != "bypass_ignored":
            return x.copy()
        if self.flaw != "block_size":
            return self._block(x)  # block-size invariant by construction: one block is the same
        out = np.empty_like(x)
        for off in range(0, x.shape[1], block_size):
            self._memory = None  # the flaw: forgets its filter memory at every block
            out[:, off:off + block_size] = self._block(x[:, off:off + block_size])
        return out

    def _block(self, x: np.ndarray) -> np.ndarray:
        v = self.values
        dry = x.astype(np.float64)
        if self.flaw != "nan_passthrough":
            dry = np.where(np.isfinite(dry), dry, 0.0)
        drive = np.tanh(dry * 10 ** (v["Input Gain"] / 20))
        if self.flaw == "automation_nan" and v["Input Gain"] > 20:
            drive[:] = np.nan
        key = x.shape[0]
        memory = _shared_memory.get(key) if self.flaw == "shared_state" else self._memory
        if memory is None or memory.shape[0] != x.shape[0]:
            memory = np.zeros((x.shape[0], len(TAPS) - 1))
        ext = np.concatenate([memory, drive], axis=1)
        n, m = x.shape[1], len(TAPS) - 1
        wet = sum(t * ext[:, m - k:m - k + n] for k, t in enumerate(TAPS))
        memory = ext[:, -(len(TAPS) - 1):]
        if self.flaw == "shared_state":
            _shared_memory[key] = memory
        else:
            self._memory = memory
        mix = v["Mix"] / 100
        with np.errstate(invalid="ignore"):
            return (wet * 10 ** (v["Output Gain"] / 20) * mix + dry * (1 - mix)).astype(np.float32)


def _fake_battery(flaw: str | None) -> dict[str, CheckResult]:
    results = run_checks(lambda sr, bs: FakeEffect(flaw), host="fake", quick=True, log=None)
    return {r.name: r for r in results}


def test_checks_pass_a_well_behaved_fake() -> None:
    results = _fake_battery(None)
    assert list(results) == list(CHECK_NAMES)
    failed = {n: r.detail for n, r in results.items() if not r.passed}
    assert not failed


@pytest.mark.parametrize(("flaw", "expected"), [
    ("block_size", {"block_sizes", "varying_blocks"}),
    ("nan_on_silence", {"silence"}),
    ("state_lost", {"state"}),
    ("reset_ignored", {"reset"}),
    ("bypass_ignored", {"bypass"}),
    ("nan_passthrough", {"non_finite"}),
    ("shared_state", {"load"}),
    ("automation_nan", {"automation"}),
    ("mono_raises", {"channels"}),
])
def test_checks_catch_a_flawed_fake(flaw: str, expected: set[str]) -> None:
    results = _fake_battery(flaw)
    failed = {n for n, r in results.items() if r.failed}
    assert failed == expected, {n: results[n].detail for n in failed | expected}


def test_an_exception_in_a_check_is_a_fail_with_its_message() -> None:
    r = _fake_battery("mono_raises")["channels"]
    assert r.failed and "ValueError: this fake cannot do mono" in r.detail


def test_dawdreamer_subset_is_skipped_not_failed() -> None:
    results = run_checks(lambda sr, bs: FakeEffect(), host="dawdreamer", quick=True, log=None)
    skipped = {r.name for r in results if r.skipped}
    assert skipped == set(CHECK_NAMES) - HOST_CHECKS["dawdreamer"]
    assert all(r.passed for r in results if not r.skipped)
    assert validation.summary(results).endswith(f"{len(skipped)} skipped")


# --------------------------------------------------------------------------------------------
# Reporting


def test_main_fails_on_a_non_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "Nothing.vst3"
    bogus.mkdir()
    assert validation.main(bogus, "pedalboard", quick=True, as_json=False) == 1
    out = capsys.readouterr().out
    assert "FAIL  load" in out and "not a VST3 bundle" in out
    assert out.strip().splitlines()[-1] == f"0 passed, 1 failed, {len(CHECK_NAMES) - 1} skipped"

    assert validation.main(bogus, "pedalboard", quick=True, as_json=True) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 1 and not report["ok"]
    assert report["checks"][0]["name"] == "load" and report["checks"][0]["status"] == "FAIL"


def test_main_table_and_exit_code(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    canned = [CheckResult("load", True, "fine", 0.1), CheckResult("state", False, "", 0.0, skipped=True)]
    monkeypatch.setattr(runner, "run_validation", lambda *a, **k: canned)
    assert validation.main("x.vst3", "dawdreamer") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("PASS  load") and out[2].startswith("SKIP  state")
    assert out[-1] == "1 passed, 0 failed, 1 skipped"
    canned.append(CheckResult("bypass", False, "broken", 0.1))
    assert validation.main("x.vst3", "pedalboard") == 1
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 1 failed, 1 skipped"
