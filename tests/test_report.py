"""The HTML report of `neuralsynth test --report`: files, numbers, images, atomic replacement."""

from __future__ import annotations

import json
import math
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.plugins.report import write_report
from neuralsynth.plugins.results import SignalResult

RATE = 48_000.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _result(name: str, reference: np.ndarray, plugin: np.ndarray, *, tolerance: float, lag: int = 0,
            rtf: float = 123.4, notes: list[str] | None = None, **extra: float) -> SignalResult:
    err = plugin.astype(np.float64) - reference
    max_err = float(np.max(np.abs(err)))
    sig, noise = float(np.sum(reference.astype(np.float64) ** 2)), float(np.sum(err**2))
    return SignalResult(
        name=name, sample_rate=RATE, input=np.stack([reference, reference]).astype(np.float32),
        plugin=np.stack([plugin, plugin]).astype(np.float32),
        reference=np.stack([reference, reference]).astype(np.float32),
        lag=lag, max_abs_error=max_err, esr=noise / sig, snr_db=10 * math.log10(sig / noise),
        realtime_factor=rtf, tolerance=tolerance, passed=max_err <= max(tolerance, extra.get("effective_tolerance", 0)),
        notes=notes or [], **extra,
    )


def _soft_clip_results() -> list[SignalResult]:
    rng = np.random.default_rng(1)
    t = np.arange(int(0.5 * RATE)) / RATE
    x = 0.8 * np.sin(2 * np.pi * 220 * t)
    ref = np.tanh(3 * x)
    good = _result("sine 220 Hz <soft clip>", ref, ref + 1e-6 * rng.standard_normal(ref.size), tolerance=1e-5,
                   lag=64, rtf=321.5, floor=2e-6, effective_tolerance=2e-5, core_max_abs_error=3e-7)
    bad_plugin = np.tanh(2 * x)
    bad_plugin[12_000:12_050] += 0.5  # a glitch the zoomed window should find
    bad = _result("hard & broken", ref, bad_plugin, tolerance=1e-5, lag=0, rtf=12.25,
                  notes=["output lags the reference by 3 samples but the plugin reports 0 <check>"])
    short = _result("impulse", np.r_[1.0, np.zeros(255)] * 0.5, np.r_[1.0, np.zeros(255)] * 0.5 + 1e-7,
                    tolerance=1e-5, rtf=50.0)
    return [good, bad, short]


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.srcs.extend(v for k, v in attrs if k == "src" and v)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


def _check_report(out: Path, results: list[SignalResult]) -> str:
    index = out / "index.html"
    assert index.is_file()
    text = index.read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(text)
    assert len(parser.srcs) == 3 * len(results)
    for src in parser.srcs:
        assert "/" not in src and not src.startswith(".."), src
        width, height = _png_size(out / src)
        assert width > 100 and height > 100, (src, width, height)
    return text


def test_report_contents(tmp_path: Path) -> None:
    results = _soft_clip_results()
    meta = {"plugin": "build/Amp <v1>.vst3", "host": "pedalboard", "reference": "models/amp.nam",
            "sample_rate": RATE, "tolerance": 1e-5}
    index = write_report(tmp_path / "report", results, meta)
    assert index == tmp_path / "report" / "index.html"
    text = _check_report(tmp_path / "report", results)

    # names and meta are escaped, never raw markup
    assert "sine 220 Hz &lt;soft clip&gt;" in text and "<soft clip>" not in text
    assert "hard &amp; broken" in text
    assert "build/Amp &lt;v1&gt;.vst3" in text and "pedalboard" in text and "models/amp.nam" in text
    assert "48000" in text
    assert "plugin reports 0 &lt;check&gt;" in text
    assert "impulse" in text
    assert re.search(r'class="pass">PASS<', text) and re.search(r'class="fail">FAIL<', text)
    assert "2 of 3 signals passed" in text

    good, bad, _ = results
    for r in (good, bad):
        assert f"{r.max_abs_error:.3e}" in text
        assert f"{r.esr:.3e}" in text
        assert f"{r.snr_db:.1f}" in text
    assert "321.5×" in text and "12.2×" in text  # real-time factors
    assert "<td>64</td>" in text  # lag
    # the pass limit widened by the float32 floor, the floor itself, the error against the C++ core
    assert "2.0e-05 (tolerance 1.0e-05)" in text
    assert "<th>float32 floor</th>" in text and "<td>2.0e-06</td>" in text
    assert "3.000e-07" in text

    data = json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))
    assert data["plugin"] == meta["plugin"] and data["sample_rate"] == RATE and data["tolerance"] == 1e-5
    assert data["date"]
    assert [s["signal"] for s in data["signals"]] == [r.name for r in results]
    for got, r in zip(data["signals"], results, strict=True):
        assert got == json.loads(json.dumps(r.as_dict()))
        assert got["max_abs_error"] == r.max_abs_error and got["passed"] is r.passed and got["lag"] == r.lag
    assert sorted(data["files"]) == sorted(p.name for p in (tmp_path / "report").glob("*.png"))
    # nothing left over next to the report
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_second_call_overwrites_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "out"
    results = _soft_clip_results()
    write_report(out, results[:2], {"plugin": "first"})
    assert len(list(out.glob("*.png"))) == 6
    (out / "notes.txt").write_text("mine")  # not the report's: must survive

    write_report(out, results[1:2], {"plugin": "second"})
    text = _check_report(out, results[1:2])
    assert "second" in text and "first" not in text
    assert len(list(out.glob("*.png"))) == 3  # the images of the first run are gone
    assert (out / "notes.txt").read_text() == "mine"
    data = json.loads((out / "results.json").read_text())
    assert data["plugin"] == "second" and len(data["signals"]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("fail_at", [1, 5])
def test_failed_render_leaves_previous_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int) -> None:
    from matplotlib.figure import Figure

    out = tmp_path / "report"
    results = _soft_clip_results()
    write_report(out, results[2:], {"plugin": "good run"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    real_savefig = Figure.savefig
    calls = {"n": 0}

    def flaky_savefig(self: Figure, *args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] >= fail_at:
            raise RuntimeError("disk on fire")
        real_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", flaky_savefig)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_report(out, results[:2], {"plugin": "broken run"})

    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # temp dir cleaned up


def test_failed_first_render_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    def boom(self: Figure, *args: object, **kwargs: object) -> None:
        raise RuntimeError("no")

    monkeypatch.setattr(Figure, "savefig", boom)
    with pytest.raises(RuntimeError):
        write_report(tmp_path / "new" / "report", _soft_clip_results()[:1], {})
    assert not (tmp_path / "new" / "report").exists()
    assert list((tmp_path / "new").iterdir()) == []


def test_long_and_odd_signals(tmp_path: Path) -> None:
    n = int(20 * RATE)  # long: envelope plots, spread spectrogram frames
    t = np.arange(n) / RATE
    ref = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    plugin = ref.copy()
    plugin[n // 3] = np.nan  # a broken plugin output must still render
    nan_result = SignalResult(
        name="long $x^2$ with NaN", sample_rate=RATE, input=ref[None], plugin=plugin[None], reference=ref[None],
        lag=0, max_abs_error=float("nan"), esr=float("inf"), snr_db=float("-inf"), realtime_factor=float("inf"),
        tolerance=1e-5, passed=False,
    )
    silent = SignalResult(
        name="silence", sample_rate=RATE, input=np.zeros((1, 10), np.float32), plugin=np.zeros((1, 10), np.float32),
        reference=np.zeros((1, 10), np.float32), lag=0, max_abs_error=0.0, esr=0.0, snr_db=float("inf"),
        realtime_factor=1.0, tolerance=0.0, passed=True,
    )
    write_report(tmp_path / "r", [nan_result, silent], {"plugin": "p", "sample_rate": np.float64(RATE)})
    text = _check_report(tmp_path / "r", [nan_result, silent])
    assert "nan" in text and "∞" in text
    data = json.loads((tmp_path / "r" / "results.json").read_text())
    assert data["sample_rate"] == RATE and math.isinf(data["signals"][1]["snr_db"])


def test_empty_results(tmp_path: Path) -> None:
    index = write_report(tmp_path / "r", [], {"plugin": "p"})
    assert "No signals were run" in index.read_text()
    assert json.loads((tmp_path / "r" / "results.json").read_text())["signals"] == []


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, neuralsynth.plugins.report; print('matplotlib' in sys.modules)"
    env_path = str(Path(__file__).resolve().parents[1] / "python")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": env_path, "PATH": ""})
    assert out.stdout.strip() == "False"
