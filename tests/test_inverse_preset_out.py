"""neuralsynth.inverse.preset_out: a predicted vector as an .fxp that real hosts load to the same sound.

Each check writes the .fxp, loads it into a fresh DawDreamer instance with apply_preset_dawdreamer, renders
a note and compares bit for bit with a fresh instance whose parameters were set with set_parameter.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuralsynth.inverse.preset_out import write_guess_fxp
from neuralsynth.plugins.build import plugin_code
from neuralsynth.presets import PresetError, apply_preset_dawdreamer, parse_plugin_id, read_fxp, vst2_info

pytest.importorskip("dawdreamer")

NEKOBI = Path("/usr/lib/vst/Nekobi-vst.so")
FACTORY = Path(__file__).resolve().parent.parent / "presets" / "factory"
needs_nekobi = pytest.mark.skipif(not NEKOBI.exists(), reason="needs Nekobi (apt install dpf-plugins-vst)")
SR = 44100


def render(plugin: Path, setup: Callable[[Any], object], note: int = 48, seconds: float = 1.0) -> np.ndarray:
    """A fresh engine and plugin instance, ``setup(processor)``, one note: (channels, samples) float32."""
    from neuralsynth.plugins.dawdreamer import open_processor

    engine, processor = open_processor(plugin, SR, 512)
    engine.load_graph([(processor, [])])
    setup(processor)
    processor.add_midi_note(note, 100, 0.0, 0.6 * seconds)
    engine.render(seconds)
    return np.array(engine.get_audio(), dtype=np.float32)


def set_all(values: np.ndarray) -> Callable[[Any], None]:
    def setup(processor: Any) -> None:
        for i, v in enumerate(values):
            processor.set_parameter(i, float(v))

    return setup


def guess_vector() -> np.ndarray:
    """A factory preset with every parameter moved a little: not a preset that exists, and audible."""
    base = np.array(read_fxp(FACTORY / "bass" / "02 Saw Bass.fxp").params, dtype=np.float64)
    return np.clip(base + np.random.default_rng(4).uniform(-0.08, 0.08, base.size), 0.0, 1.0)


def float32_list(values: np.ndarray) -> list[float]:
    return [float(v) for v in values.astype(np.float32)]


def check_same_sound(plugin: Path, fxp: Path, values: np.ndarray, note: int = 48) -> np.ndarray:
    loaded = render(plugin, lambda p: apply_preset_dawdreamer(p, fxp, plugin), note)
    direct = render(plugin, set_all(values), note)
    default = render(plugin, lambda p: None, note)
    assert loaded.shape == direct.shape and loaded.shape[1] == SR
    np.testing.assert_array_equal(loaded, direct)
    assert np.max(np.abs(loaded)) > 0.02  # a sound, not silence
    assert np.max(np.abs(loaded - default)) > 0.01  # the preset changed it
    return loaded


def test_vst2_instrument_loads_the_guess(instrument_bundles: dict[str, Path], tmp_path: Path) -> None:
    plugin = instrument_bundles["vst2"]
    values = guess_vector()
    path = write_guess_fxp(tmp_path / "guess.fxp", str(plugin), values, "Guess 1")
    assert path == tmp_path / "guess.fxp"
    info = vst2_info(plugin)
    program = read_fxp(path)
    assert program.fx_magic == "FxCk" and program.name == "Guess 1"
    assert program.plugin_id == info["unique_id"] == parse_plugin_id(plugin_code("NeuralSynth"))
    assert program.plugin_version == info["version"]
    assert program.params == float32_list(values)
    assert path.read_bytes()[24:28] == struct.pack(">i", 36)  # numParams
    check_same_sound(plugin, path, values)
    assert [p.name for p in tmp_path.iterdir()] == ["guess.fxp"]  # no temporary file left behind


def test_vst3_instrument_loads_the_guess_through_the_fxck_path(instrument_bundles: dict[str, Path],
                                                               tmp_path: Path) -> None:
    """The VST3 takes the 36 values (its 37th parameter, JUCE's Bypass, is not in the preset); the same file
    loads into the VST2 build too, to the same sound."""
    vst3, vst2 = instrument_bundles["vst3"], instrument_bundles["vst2"]
    values = guess_vector()
    path = write_guess_fxp(tmp_path / "guess3.fxp", str(vst3), values, "Guess VST3", num_params=36)
    program = read_fxp(path)
    assert program.fx_magic == "FxCk" and program.params == float32_list(values)
    assert program.plugin_id == parse_plugin_id("Nkjn")  # the VST2 build's id: the file fits both builds
    sound = check_same_sound(vst3, path, values)
    np.testing.assert_array_equal(render(vst2, lambda p: apply_preset_dawdreamer(p, path, vst2)), sound)


@needs_nekobi
def test_nekobi_loads_the_guess(tmp_path: Path) -> None:
    values = np.random.default_rng(11).random(8)
    values[7] = 0.8  # Volume: audible
    names = ["Waveform", "Tuning", "Cutoff", "VCF Resonance", "Env Mod", "Decay", "Accent", "Volume"]
    path = write_guess_fxp(tmp_path / "nekobi.fxp", str(NEKOBI), values, "Nekobi guess", names=names)
    program = read_fxp(path)
    assert program.plugin_id == parse_plugin_id("DNek") and program.plugin_version == vst2_info(NEKOBI)["version"]
    assert program.params == float32_list(values)
    check_same_sound(NEKOBI, path, values, note=45)


def test_bad_input_names_the_problem_and_writes_nothing(instrument_bundles: dict[str, Path], tmp_path: Path) -> None:
    vst2, vst3 = str(instrument_bundles["vst2"]), str(instrument_bundles["vst3"])
    from neuralsynth.synth import parameters

    names = [p.name for p in parameters()]
    good = guess_vector()
    target = tmp_path / "g.fxp"
    with pytest.raises(ValueError, match=r"params: expected 36 values \(.*libNeuralSynth.so's parameter count\), "
                                         r"found 35"):
        write_guess_fxp(target, vst2, good[:35], "x")
    bad = good.copy()
    bad[3] = 1.25
    with pytest.raises(ValueError, match=r"parameter 3 \('Osc 1 Table'\): expected a normalized value in 0..1, "
                                         r"found 1.25"):
        write_guess_fxp(target, vst2, bad, "x", names=names)
    with pytest.raises(ValueError, match=r"^parameter 3: expected a normalized value in 0..1, found 1.25"):
        write_guess_fxp(target, vst2, bad, "x")
    bad[3] = -0.01
    with pytest.raises(ValueError, match=r"parameter 3: .*found -0.01"):
        write_guess_fxp(target, vst2, bad, "x")
    bad[3] = math.nan
    with pytest.raises(ValueError, match=r"parameter 3 \('Osc 1 Table'\): expected a finite normalized value"):
        write_guess_fxp(target, vst3, bad, "x", names=names)
    with pytest.raises(ValueError, match=r"parameter 0: expected a number, found True"):
        write_guess_fxp(target, vst2, [True] + list(good[1:]), "x")
    with pytest.raises(ValueError, match="program_name: an .fxp holds at most 27 characters, found 30"):
        write_guess_fxp(target, vst2, good, "x" * 30)
    with pytest.raises(ValueError, match="program_name: expected ASCII"):
        write_guess_fxp(target, vst2, good, "Guess \u00e9")
    with pytest.raises(ValueError, match="expected a file name ending in .fxp"):
        write_guess_fxp(tmp_path / "g.fxb", vst2, good, "x")
    with pytest.raises(ValueError, match="num_params: 37 parameters, but .* has 36"):
        write_guess_fxp(target, vst2, good, "x", num_params=37)
    with pytest.raises(ValueError, match=r"params: expected 37 values \(num_params\), found 36"):
        write_guess_fxp(target, vst3, good, "x", num_params=37)
    with pytest.raises(ValueError, match="plugin_id: 'DNek' is not the unique id of"):
        write_guess_fxp(target, vst2, good, "x", plugin_id="DNek")
    with pytest.raises(ValueError, match="the folder .* does not exist"):
        write_guess_fxp(tmp_path / "missing" / "g.fxp", vst2, good, "x")
    with pytest.raises(PresetError, match="expected a VST2 .so or a .vst3 bundle"):
        write_guess_fxp(target, str(tmp_path / "plugin.lv2"), good, "x")
    assert list(tmp_path.iterdir()) == []
    # a failed write leaves an existing file as it was
    write_guess_fxp(target, vst2, good, "first")
    before = target.read_bytes()
    bad[3] = 2.0
    with pytest.raises(ValueError):
        write_guess_fxp(target, vst2, bad, "second")
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["g.fxp"]
