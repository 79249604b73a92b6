"""Tests of neuralsynth.inverse.report: the evaluate HTML report and its summary.json.

The page is parsed with the standard library's html.parser; the numbers in its tables are compared with the
numbers passed in (formatted by hand here, not by the code under test), the audio players are decoded with
soundfile and the images' sizes read from their PNG headers.
"""

from __future__ import annotations

import base64
import io
import json
import math
import struct
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile

from neuralsynth.inverse import report as report_mod
from neuralsynth.inverse.report import Example, MethodSummary, SetSummary, write_report

NAN = math.nan


class Page(HTMLParser):
    """Tables (rows of (cell text, bold?) pairs), <img> and <audio> sources, headings."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, bool]]]] = {}
        self.imgs: list[str] = []
        self.audios: list[str] = []
        self.h2: list[str] = []
        self._table: list | None = None
        self._cell: list[str] | None = None
        self._bold = False
        self._in_h2: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            name = a.get("class", "table")
            key = name
            k = 2
            while key in self.tables:
                key = f"{name}#{k}"
                k += 1
            self._table = self.tables.setdefault(key, [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell, self._bold = [], False
        elif tag == "b" and self._cell is not None:
            self._bold = True
        elif tag == "img":
            self.imgs.append(a["src"])
        elif tag == "audio":
            assert "controls" in a
            self.audios.append(a["src"])
        elif tag == "h2":
            self._in_h2 = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._table[-1].append(("".join(self._cell).strip(), self._bold))
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "h2" and self._in_h2 is not None:
            self.h2.append("".join(self._in_h2).strip())
            self._in_h2 = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_h2 is not None:
            self._in_h2.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def png_size(uri: str) -> tuple[int, int]:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix):], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def decode_wav(uri: str) -> tuple[np.ndarray, int]:
    prefix = "data:audio/wav;base64,"
    assert uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix):], validate=True)
    info = soundfile.info(io.BytesIO(data))
    assert info.format == "WAV" and info.subtype == "PCM_16"
    audio, sr = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    return audio.T, sr


def tone(freq: float, sr: int, seconds: float, channels: int = 1, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(sr * seconds))) / sr
    y = amp * np.sin(2 * np.pi * freq * t)
    return np.stack([y * (1.0 - 0.2 * c) for c in range(channels)]) if channels > 1 else y


def make_sets() -> list[SetSummary]:
    a = SetSummary(
        name="random test split",
        num_items=120,
        methods=[
            MethodSummary("network", {"mss": (1.23456, 1.1, 1.4), "rms_cosine": (0.951, 0.94, 0.96),
                                      "f0_cents": (12.5, 10.25, 15.0)}, {"f0_cents": 7}, 0.0125),
            MethodSummary("nearest-neighbour", {"mss": (2.0, 1.8, 2.25), "rms_cosine": (0.97, 0.965, 0.975),
                                                "f0_cents": (NAN, NAN, NAN)}, {"f0_cents": 120}, None),
            MethodSummary("random", {"mss": (3.5, 3.0, 4.0), "rms_cosine": (0.5, 0.4, 0.6),
                                     "f0_cents": (300.0, 250.0, 350.0)}, {}, None),
        ],
        ratios=[("mss", "nearest-neighbour", "network", (1.62, 1.4, 1.9)),
                ("rms_cosine", "nearest-neighbour", "network", (1.02, 1.01, 1.03))],
        parameter_errors=[
            dict(index=0, kind="continuous", steps=None, metric="mae", value=0.1, lo=0.08, hi=0.12),
            dict(index=2, kind="discrete", steps=4, metric="accuracy", value=0.75, lo=0.7, hi=0.8),
            dict(index=1, kind="continuous", steps=None, metric="mae", value=0.25, lo=0.2, hi=0.3),
        ],
        parameter_names=["cutoff", "resonance", "waveform"],
    )
    b = SetSummary(
        name="Nekobi",
        num_items=1,
        methods=[MethodSummary("network", {"mss": (0.5, 0.5, 0.5), "spectral_convergence": (math.inf, 1.0, math.inf)},
                               {}, None)],
        ratios=[],
        parameter_errors=[],
        parameter_names=[],
    )
    return [a, b]


def make_examples() -> list[Example]:
    return [
        Example("random test split", "preset 1", 16000, tone(220, 16000, 1.0),
                {"network": tone(225, 16000, 1.0), "nearest-neighbour": tone(330, 16000, 0.75)}),
        Example("random test split", "preset 2 <&>", 22050, tone(440, 22050, 8.0, channels=2),
                {"network": 1.5 * tone(440, 22050, 8.0, channels=2), "nearest-neighbour": tone(440, 22050, 7.0)}),
        Example("Nekobi", "bass", 16000, tone(55, 16000, 0.5, channels=3), {"network": tone(55, 16000, 0.5)}),
    ]


INFO = {"model": "/models/run7", "dataset": {"path": "/data/x", "rows": 1000}, "train seconds": 3600.5}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "evaluate"
    path = write_report(out, "Preset inference: run 7", make_sets(), make_examples(), INFO)
    return out, path, parse(path)


def test_files_and_headings(built):
    out, path, page = built
    assert path == out / "index.html"
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "summary.json"]
    assert page.h2 == ["random test split (120 items)", "Nekobi (1 items)", "Examples"]


def test_metrics_table_holds_the_numbers_with_best_in_bold(built):
    _, _, page = built
    rows = page.tables["metrics"]
    head = [text for text, _ in rows[0]]
    assert head == ["method", "Multi-scale spectral distance \u2193 (ln(power))", "RMS envelope cosine \u2191 (cosine)",
                    "f0 error \u2193 (cents)", "time (s / item)"]
    cells = {r[0][0]: r[1:] for r in rows[1:]}
    assert list(cells) == ["network", "nearest-neighbour", "random"]
    assert cells["network"] == [("1.235 [1.1, 1.4]", True), ("0.951 [0.94, 0.96]", False),
                                ("12.5 [10.25, 15] (7 skipped)", True), ("0.0125", False)]
    assert cells["nearest-neighbour"] == [("2 [1.8, 2.25]", False), ("0.97 [0.965, 0.975]", True),
                                          ("n/a (120 skipped)", False), ("n/a", False)]
    assert cells["random"] == [("3.5 [3, 4]", False), ("0.5 [0.4, 0.6]", False), ("300 [250, 350]", False),
                               ("n/a", False)]
    # the second set: spectral convergence comes before ... nothing else; inf is written as such
    rows2 = page.tables["metrics#2"]
    assert [t for t, _ in rows2[0]] == ["method", "Multi-scale spectral distance \u2193 (ln(power))",
                                        "Spectral convergence \u2193 (ratio)"]
    assert rows2[1] == [("network", False), ("0.5 [0.5, 0.5]", True), ("inf [1, inf]", True)]


def test_ratio_rows(built):
    _, _, page = built
    rows = [[t for t, _ in r] for r in page.tables["ratios"]]
    assert rows[1:] == [
        ["Multi-scale spectral distance", "nearest-neighbour", "network", "1.62\u00d7 [1.4, 1.9]", "> 1"],
        ["RMS envelope cosine", "nearest-neighbour", "network", "1.02\u00d7 [1.01, 1.03]", "< 1"],
    ]
    assert "ratios#2" not in page.tables  # the second set has none


def test_parameter_table(built):
    _, _, page = built
    rows = [[t for t, _ in r] for r in page.tables["parameters"]]
    assert rows[1:] == [
        ["0", "cutoff", "continuous", "mae", "0.1 [0.08, 0.12]"],
        ["2", "waveform", "discrete (4 steps)", "accuracy", "0.75 [0.7, 0.8]"],
        ["1", "resonance", "continuous", "mae", "0.25 [0.2, 0.3]"],
    ]


def test_info_table(built):
    _, _, page = built
    rows = page.tables["info"]
    assert rows[0] == [("model", False), ("/models/run7", False)]
    assert rows[1][0][0] == "dataset" and json.loads(rows[1][1][0]) == {"path": "/data/x", "rows": 1000}
    assert rows[2] == [("train seconds", False), ("3600", False)]  # 4 significant digits


def test_images_and_players(built):
    _, _, page = built
    examples = make_examples()
    sounds = [(ex, a) for ex in examples for a in [ex.target, *ex.renders.values()]]
    # one parameter chart (first set only) + one spectrogram per sound; one player per sound
    assert len(page.imgs) == 1 + len(sounds) == 9
    assert len(page.audios) == len(sounds) == 8
    for uri in page.imgs:
        w, h = png_size(uri)
        assert 100 < w <= 8 * 80 and 100 < h <= 12 * 80  # dpi 80
    for uri, (ex, audio) in zip(page.audios, sounds, strict=True):
        decoded, sr = decode_wav(uri)
        assert sr == ex.sample_rate
        n = audio.shape[-1]
        assert decoded.shape[1] == min(n, 6 * sr)
        channels = 1 if audio.ndim == 1 or audio.shape[0] > 2 else audio.shape[0]
        assert decoded.shape[0] == channels
        ref = np.atleast_2d(audio)
        ref = ref.mean(axis=0, keepdims=True) if ref.shape[0] > 2 else ref
        ref = np.clip(ref[:, : decoded.shape[1]], -1, 1)
        np.testing.assert_allclose(decoded, ref, atol=1.0 / 32768 + 1e-9)  # 16-bit quantisation


def test_names_are_escaped(built):
    _, path, _ = built
    text = path.read_text(encoding="utf-8")
    assert "preset 2 &lt;&amp;&gt;" in text
    assert "preset 2 <&>" not in text


def test_summary_json_round_trips_the_numbers(built):
    out, _, _ = built
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["title"] == "Preset inference: run 7"
    assert summary["info"] == INFO
    assert [m["key"] for m in summary["metrics"]] == ["mss", "spectral_convergence", "mfcc", "rms_cosine",
                                                      "f0_cents"]
    a, b = summary["sets"]
    assert a["name"] == "random test split" and a["num_items"] == 120
    net, nn, rnd = a["methods"]
    assert net == {"name": "network", "seconds_per_item": 0.0125, "skipped": {"f0_cents": 7},
                   "metrics": {"mss": {"mean": 1.23456, "lo": 1.1, "hi": 1.4},
                               "rms_cosine": {"mean": 0.951, "lo": 0.94, "hi": 0.96},
                               "f0_cents": {"mean": 12.5, "lo": 10.25, "hi": 15.0}}}
    assert nn["metrics"]["f0_cents"] == {"mean": None, "lo": None, "hi": None}  # NaN -> null
    assert nn["seconds_per_item"] is None and rnd["skipped"] == {}
    assert a["ratios"][0] == {"metric": "mss", "baseline": "nearest-neighbour", "method": "network",
                              "ratio": 1.62, "lo": 1.4, "hi": 1.9}
    assert a["parameter_errors"][1] == {"index": 2, "name": "waveform", "kind": "discrete", "steps": 4,
                                        "metric": "accuracy", "value": 0.75, "lo": 0.7, "hi": 0.8}
    assert a["parameter_names"] == ["cutoff", "resonance", "waveform"]
    assert b["methods"][0]["metrics"]["spectral_convergence"] == {"mean": "inf", "lo": 1.0, "hi": "inf"}
    assert [(e["name"], e["sample_rate"], e["num_samples"], e["channels"], e["renders"]) for e in
            summary["examples"]] == [
        ("preset 1", 16000, 16000, 1, ["network", "nearest-neighbour"]),
        ("preset 2 <&>", 22050, 8 * 22050, 2, ["network", "nearest-neighbour"]),
        ("bass", 16000, 8000, 3, ["network"]),
    ]


def _listing(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_nan_audio_raises_and_writes_nothing(tmp_path):
    examples = make_examples()
    bad = examples[1].renders["network"].copy()
    bad[1, 100:103] = np.nan
    examples[1].renders["network"] = bad
    out = tmp_path / "fresh"
    message = (r"example 'preset 2 <&>' \(set 'random test split'\), render 'network': "
               r"audio contains non-finite samples \(3 NaN, 0 Inf\), the first at sample 100")
    with pytest.raises(ValueError, match=message):
        write_report(out, "t", make_sets(), examples, INFO)
    assert not (out / "index.html").exists() and not (out / "summary.json").exists()
    # an existing report is left exactly as it was
    old = tmp_path / "old"
    write_report(old, "old", make_sets()[1:], [], {})
    before = _listing(old)
    with pytest.raises(ValueError, match="non-finite"):
        write_report(old, "new", make_sets(), examples, INFO)
    assert _listing(old) == before


def test_failure_while_rendering_leaves_no_partial_files(tmp_path, monkeypatch):
    old = tmp_path / "old"
    write_report(old, "old", make_sets()[1:], [], {})
    before = _listing(old)
    calls = []
    real = report_mod._spectrograms

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("renderer died")
        return real(*args, **kwargs)

    monkeypatch.setattr(report_mod, "_spectrograms", flaky)
    with pytest.raises(RuntimeError, match="renderer died"):
        write_report(old, "new", make_sets(), make_examples(), INFO)
    assert len(calls) == 2
    assert _listing(old) == before  # no temp files, nothing replaced


def test_bad_input_is_named(tmp_path):
    sets = make_sets()
    sets[0].ratios.append(("mss", "knn", "network", (1.0, 1.0, 1.0)))
    with pytest.raises(ValueError, match=r"set 'random test split', ratios\[2\]: baseline 'knn' is not one of"):
        write_report(tmp_path / "r", "t", sets, [], {})
    sets = make_sets()
    sets[0].methods[1].metrics["mss"] = (2.0, 1.8)
    with pytest.raises(ValueError, match=r"methods\[1\] \('nearest-neighbour'\), metric 'mss': expected a \(mean"):
        write_report(tmp_path / "r", "t", sets, [], {})
    sets = make_sets()
    sets[0].parameter_errors[0]["index"] = 3
    with pytest.raises(ValueError, match="index 3 does not name one of the 3 parameter_names"):
        write_report(tmp_path / "r", "t", sets, [], {})
    ex = make_examples()[:1]
    ex[0].target = np.zeros((1000, 2))
    with pytest.raises(ValueError, match=r"example 'preset 1' .*target: audio must be .* got shape \(1000, 2\)"):
        write_report(tmp_path / "r", "t", [], ex, {})
    ex = make_examples()[:1]
    ex[0].renders["network"] = np.zeros(0)
    with pytest.raises(ValueError, match="render 'network': audio is empty"):
        write_report(tmp_path / "r", "t", [], ex, {})
    assert not (tmp_path / "r").exists()


def test_player_options(tmp_path):
    ex = [Example("s", "loud", 16000, 3.0 * tone(220, 16000, 2.0, channels=2), {})]
    path = write_report(tmp_path / "r", "t", [], ex, {}, max_audio_seconds=1.5, player_sample_rate=8000,
                        player_mono=True)
    page = parse(path)
    assert len(page.audios) == 1 and len(page.imgs) == 1
    audio, sr = decode_wav(page.audios[0])
    assert sr == 8000 and audio.shape == (1, 12000)
    assert np.abs(audio).max() == pytest.approx(1.0, abs=1e-4)  # clipped in the player, and the page says so
    assert "clipped to \u00b11 in the player" in path.read_text(encoding="utf-8")
