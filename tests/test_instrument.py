"""The instrument plugin in real hosts renders exactly what the bridge renders.

The plugin and the bridge run the same engine (plugin_src/core/synth) compiled with the same
flags; parameters go through the core's own normalized mapping in both. So for the same
normalized parameter vector and the same notes, host and bridge must agree to 1e-6 (in practice they are bit-identical).
"""

from __future__ import annotations

import itertools
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.midi import note_events
from neuralsynth.plugins.dawdreamer import install_lv2_for_dawdreamer
from neuralsynth.presets import apply_preset_dawdreamer, read_fxp
from neuralsynth.synth import Note, Synth, parameters

daw = pytest.importorskip("dawdreamer")
pedalboard = pytest.importorskip("pedalboard")

ROOT = Path(__file__).resolve().parent.parent
SR = 44100
NOTES = [Note(48, 110, 0.0, 1.2), Note(55, 70, 0.25, 0.6), Note(64, 127, 0.5, 0.9), Note(72, 30, 0.7, 0.3)]
DURATION = 2.5


def _vectors() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    idx = {p.id: p.index for p in parameters()}
    out = []
    for k in range(3):
        v = rng.random(len(parameters())).astype(np.float32)
        v[idx["master_gain"]] = 0.85
        v[idx["neural_mix"]] = (0.0, 0.5, 1.0)[k]  # neural stage off, half, full
        out.append(v)
    return out


def _bridge(v: np.ndarray, block: int = 512, lv2: bool = False) -> np.ndarray:
    s = Synth(SR)
    s.set_normalized(v)
    if lv2:
        for p, x in zip(parameters(), v, strict=True):
            s[p.id] = _lv2_value(p, float(x))
    return s.render(NOTES, DURATION, block_size=block)


def _lv2_linear(p, x: float) -> float:  # noqa: ANN001
    """The 0..1 value to give DawDreamer for our normalized x: LV2 ports hold real values and
    JUCE's LV2 host maps 0..1 linearly onto the port's range."""
    return (p.from_normalized(x) - p.min) / (p.max - p.min)


def _lv2_value(p, x: float) -> float:  # noqa: ANN001
    """The value the LV2 plugin ends up holding: the host's float32 linear mapping, then the
    plugin's own to/from normalized round trip (JUCE's LV2 client). Usually the same float as the
    bridge's, sometimes one ulp off."""
    f32 = np.float32
    lin = f32(_lv2_linear(p, x))
    port = float(f32(f32(p.min) + (f32(p.max) - f32(p.min)) * lin))
    return p.from_normalized(p.to_normalized(port))


def _dawdreamer(path: str, v: np.ndarray | None, block: int = 512, preset: Path | None = None,
                plugin_path: Path | None = None, lv2: bool = False) -> np.ndarray:
    engine = daw.RenderEngine(SR, block)
    synth = engine.make_plugin_processor("synth", path)
    if preset is not None:
        apply_preset_dawdreamer(synth, preset, plugin_path)
    if v is not None:
        # by name: the LV2 build lists its parameters alphabetically, after Bypass
        index = {d["name"]: d["index"] for d in synth.get_parameters_description()}
        for p, x in zip(parameters(), v, strict=True):
            if lv2:
                x = _lv2_linear(p, float(x))
            synth.set_parameter(index[p.name], float(x))
    for n in NOTES:
        synth.add_midi_note(n.pitch, n.velocity, n.start, n.duration)
    engine.load_graph([(synth, [])])
    engine.render(DURATION)
    return engine.get_audio()


@pytest.mark.parametrize("fmt", ["vst2", "vst3", "lv2"])
def test_dawdreamer_render_equals_the_bridge(instrument_bundles: dict[str, Path], fmt: str) -> None:
    path = str(instrument_bundles[fmt])
    if fmt == "lv2":
        path = install_lv2_for_dawdreamer(instrument_bundles[fmt])
    for v in _vectors():
        host = _dawdreamer(path, v, lv2=fmt == "lv2")
        ref = _bridge(v, lv2=fmt == "lv2")
        assert np.abs(ref).max() > 1e-3
        assert host.shape == ref.shape
        err = np.abs(host - ref).max()
        assert err <= 1e-6, f"{fmt}: host vs bridge max abs difference {err:.3g}"


def test_dawdreamer_odd_block_size(instrument_bundles: dict[str, Path]) -> None:
    # notes start inside blocks of 100 samples: the engine applies them at their exact sample
    v = _vectors()[1]
    host = _dawdreamer(str(instrument_bundles["vst2"]), v, block=100)
    assert np.abs(host - _bridge(v, block=4096)).max() <= 1e-6


def test_pedalboard_render_equals_the_bridge(instrument_bundles: dict[str, Path]) -> None:
    plugin = pedalboard.load_plugin(str(instrument_bundles["vst3"]))
    assert plugin.is_instrument
    names = [n for n in plugin.parameters if n != "bypass"]
    assert len(names) == len(parameters())
    # the bridge's event samples, given as times a quarter sample late so pedalboard's
    # seconds-to-samples conversion cannot land one sample early
    messages = [(msg, (at + 0.25) / SR) for at, msg in note_events(NOTES, SR)]
    for v in _vectors():
        for name, x in zip(names, v, strict=True):
            plugin.parameters[name].raw_value = float(x)
        host = plugin(messages, duration=DURATION, sample_rate=SR, num_channels=2, buffer_size=512, reset=True)
        err = np.abs(host - _bridge(v)).max()
        assert err <= 1e-6, f"pedalboard vs bridge max abs difference {err:.3g}"


def test_factory_fxp_presets_load_natively_in_dawdreamer(instrument_bundles: dict[str, Path]) -> None:
    plugin = instrument_bundles["vst2"]
    files = sorted((ROOT / "presets" / "factory").rglob("*.fxp"))[::9]
    renders = []
    for f in files:
        host = _dawdreamer(str(plugin), None, preset=f, plugin_path=plugin)
        ref = _bridge(np.asarray(read_fxp(f).params, dtype=np.float32))
        assert np.abs(host - ref).max() <= 1e-6, f
        renders.append(host)
    # and the presets really differ from one another
    for a, b in itertools.pairwise(renders):
        assert np.abs(a - b).max() > 1e-2


def test_vst3_exposes_only_the_real_parameters(instrument_bundles: dict[str, Path]) -> None:
    # JUCE_VST3_EMULATE_MIDI_CC_WITH_PARAMETERS=0: no MIDI-CC proxy parameters, only ours + Bypass
    engine = daw.RenderEngine(SR, 512)
    synth = engine.make_plugin_processor("synth", str(instrument_bundles["vst3"]))
    names = [d["name"] for d in synth.get_parameters_description()]
    assert names[: len(parameters())] == [p.name for p in parameters()]
    assert len(names) <= len(parameters()) + 1


def test_standalone_starts_and_stops(instrument_bundles: dict[str, Path]) -> None:
    import shutil
    import signal

    if shutil.which("xvfb-run") is None:
        pytest.skip("xvfb-run is not installed (ci/setup.sh installs it)")
    proc = subprocess.Popen(["xvfb-run", "-a", str(instrument_bundles["standalone"])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        time.sleep(4.0)
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    finally:
        import os

        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_presets_apply_to_vst3_and_as_state_chunks(instrument_bundles: dict[str, Path], tmp_path: Path) -> None:
    # FxCk into the VST3 (parameter values, the VST3's extra Bypass left alone), and an FPCh chunk
    # (our plugin's own state, saved by the VST2 in DawDreamer) into the VST3 and the VST2.
    from neuralsynth.presets import Program, read_fxb, write_fxp

    preset = ROOT / "presets" / "factory" / "bass" / "04 Acid Bass.fxp"
    ref = _bridge(np.asarray(read_fxp(preset).params, dtype=np.float32))
    vst2, vst3 = instrument_bundles["vst2"], instrument_bundles["vst3"]
    assert np.abs(_dawdreamer(str(vst3), None, preset=preset, plugin_path=vst3) - ref).max() <= 1e-6
    engine = daw.RenderEngine(SR, 512)
    synth = engine.make_plugin_processor("synth", str(vst2))
    assert synth.load_preset(str(preset))
    synth.save_state(str(tmp_path / "state.fxb"))
    bank = read_fxb(tmp_path / "state.fxb")
    assert bank.chunk is not None  # JUCE plugins save opaque chunks
    chunk = write_fxp(Program(name="Acid chunk", plugin_id=bank.plugin_id, chunk=bank.chunk), tmp_path / "c.fxp")
    for plugin in (vst3, vst2):
        host = _dawdreamer(str(plugin), None, preset=chunk, plugin_path=plugin)
        assert np.abs(host - ref).max() <= 1e-6, plugin


def test_dawdreamer_odd_lengths_and_a_sub_sample_note(instrument_bundles: dict[str, Path]) -> None:
    # 0.7 s is not a whole number of samples at 44.1 kHz (DawDreamer truncates to 30869), and a note
    # shorter than a sample starts and ends at the same sample
    notes = [Note(60, 100, 0.1, 1e-6), Note(64, 90, 0.123456, 0.3)]
    engine = daw.RenderEngine(SR, 512)
    synth = engine.make_plugin_processor("synth", str(instrument_bundles["vst2"]))
    for n in notes:
        synth.add_midi_note(n.pitch, n.velocity, n.start, n.duration)
    engine.load_graph([(synth, [])])
    engine.render(0.7)
    host = engine.get_audio()
    ref = Synth(SR).render(notes, 0.7)
    assert host.shape == ref.shape == (2, 30869)
    assert np.abs(host - ref).max() <= 1e-6
