"""The factory presets in presets/: complete, reproducible, and sounding as designed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.plugins.build import plugin_code
from neuralsynth.presets import parse_plugin_id, read_fxb, read_fxp
from neuralsynth.synth import Note, Synth, parameters

ROOT = Path(__file__).resolve().parent.parent
FACTORY = ROOT / "presets" / "factory"
CATEGORIES = {"bass", "lead", "pad", "pluck", "keys", "fx"}
SR = 44100


def _presets() -> list[Path]:
    return sorted(FACTORY.rglob("*.fxp"))


def test_at_least_64_presets_across_the_categories() -> None:
    files = _presets()
    assert len(files) >= 64
    cats = {f.parent.name for f in files}
    assert cats == CATEGORIES
    for c in CATEGORIES:
        assert sum(f.parent.name == c for f in files) >= 8, c
    names = [read_fxp(f).name for f in files]
    assert len(set(names)) == len(names)
    index = json.loads((FACTORY / "index.json").read_text())
    assert len(index["presets"]) == len(files)
    assert {p["category"] for p in index["presets"]} == CATEGORIES


def test_presets_are_parameter_lists_for_the_instrument() -> None:
    want_id = parse_plugin_id(plugin_code("NeuralSynth"))
    bank = read_fxb(ROOT / "presets" / "factory.fxb")
    assert len(bank.programs) == len(_presets())
    by_name = {p.name: p for p in bank.programs}
    for f in _presets():
        prog = read_fxp(f)
        assert prog.plugin_id == want_id
        assert prog.params is not None and len(prog.params) == len(parameters())
        assert all(0.0 <= v <= 1.0 for v in prog.params)
        assert by_name[prog.name].params == prog.params  # the bank holds the same programs


def test_the_script_reproduces_the_files() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "presets" / "make_factory.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_index_values_are_what_the_fxp_files_set() -> None:
    index = json.loads((FACTORY / "index.json").read_text())
    s = Synth(SR, model=None)
    for entry in index["presets"][::5]:
        s.set_normalized(read_fxp(FACTORY / entry["file"]).params)
        for pid, value in entry["values"].items():
            assert s[pid] == pytest.approx(value, rel=1e-6, abs=1e-6), (entry["name"], pid)


def _onset_time(y: np.ndarray, frac: float = 0.5) -> float:
    """Seconds until the 10 ms RMS envelope first reaches `frac` of its maximum."""
    frame = SR // 100
    env = np.sqrt(np.mean(y[: len(y) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    return float(np.argmax(env >= frac * env.max()) / 100)


def test_every_preset_sounds_cleanly_and_categories_behave() -> None:
    s = Synth(SR)
    onsets: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    sustain: dict[str, list[float]] = {c: [] for c in CATEGORIES}
    for f in _presets():
        s.set_normalized(read_fxp(f).params)
        for note in (48, 72):
            y = s.render([Note(note, 100, 0.0, 2.0)], 2.5)
            assert np.all(np.isfinite(y)), f
            assert 0.01 < np.abs(y).max() < 1.0, (f, np.abs(y).max())  # audible, never clipping
        y = y.mean(axis=0)
        onsets[f.parent.name].append(_onset_time(y))
        held = y[int(1.5 * SR) : int(1.9 * SR)]
        sustain[f.parent.name].append(np.sqrt(np.mean(held**2)) / (np.abs(y).max() + 1e-12))
    # pads swell in slowly, plucks and keys hit at once; plucks die away while a note is held
    assert np.median(onsets["pad"]) > 0.3
    assert max(onsets["pluck"]) < 0.05 and np.median(onsets["keys"]) < 0.05
    assert np.median(sustain["pluck"]) < 0.5 * np.median(sustain["pad"])


def test_preset_show_names_the_instrument_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    from neuralsynth.cli import main

    f = FACTORY / "bass" / "04 Acid Bass.fxp"
    assert main(["preset", "show", str(f), "--instrument", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    params = {p["name"]: p for p in doc["params"]}
    index = json.loads((FACTORY / "index.json").read_text())
    values = next(e["values"] for e in index["presets"] if e["name"] == "Acid Bass")
    assert params["Filter Cutoff"]["real"] == pytest.approx(values["filter_cutoff"])
    assert params["Filter Cutoff"]["unit"] == "Hz"
    assert params["Filter Mode"]["display"] == "Low-pass"
