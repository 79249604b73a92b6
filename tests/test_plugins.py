"""Plugins built by the project, in real hosts, against the reference."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import neuralsynth as ns
from conftest import NAM_DIR, STANDARD_MODEL
from neuralsynth.cli import main as cli_main
from neuralsynth.plugins.build import BuildError, build, plugin_code
from neuralsynth.plugins.files import PluginError, PluginFile, check_plugin_path, file_name, param_key
from neuralsynth.plugins.hosts import open_plugin
from neuralsynth.plugins.juce_state import binary_to_xml, plugin_state, with_plugin_state, xml_to_binary
from neuralsynth.plugins.regress import run_tests
from neuralsynth.plugins.signals import guitar_di


def _all_pass(results) -> None:  # noqa: ANN001
    assert results, "no signals were run"
    for r in results:
        assert r.passed, f"{r.name}: max abs error {r.max_abs_error:.3g} (limit {r.effective_tolerance:.2g}), {r.notes}"


def test_pedalboard_vst3_matches_reference_at_48k(plugin_bundles: dict[str, Path]) -> None:
    results = run_tests(plugin_bundles["vst3"], STANDARD_MODEL, host="pedalboard", log=lambda *_: None)
    _all_pass(results)
    by_name = {r.name: r for r in results}
    # The well-conditioned signals meet 1e-5 outright, and the plugin runs exactly the core's code.
    for name in ("white_noise", "impulse", "guitar_di"):
        assert by_name[name].max_abs_error <= 1e-5
    for r in results:
        assert r.lag == 0 and r.core_max_abs_error is not None and r.core_max_abs_error <= 1e-6


@pytest.mark.parametrize("fmt", ["vst3", "lv2"])
def test_dawdreamer_matches_reference_at_48k(plugin_bundles: dict[str, Path], fmt: str) -> None:
    _all_pass(run_tests(plugin_bundles[fmt], STANDARD_MODEL, host="dawdreamer", log=lambda *_: None))


def test_guitar_di_through_plugin_matches_official_nam_output(plugin_bundles: dict[str, Path]) -> None:
    import soundfile as sf

    x, _ = sf.read(NAM_DIR / "input.wav", dtype="float32")
    host = open_plugin(plugin_bundles["vst3"], "pedalboard", 48000, 512)
    host.set_parameter("DC Block", False)
    y = host.process(x[None, :], 48000, block_size=512)[0]
    expected = np.load(NAM_DIR / "wavenet_a1_standard.out.npy")
    assert np.max(np.abs(y - expected)) <= 1e-5


def test_foreign_host_rate_reports_and_matches_latency(plugin_bundles: dict[str, Path]) -> None:
    # DawDreamer does not compensate latency, so the alignment the test finds is the plugin's own.
    results = run_tests(plugin_bundles["vst3"], STANDARD_MODEL, host="dawdreamer", sample_rate=44100.0,
                        signals={"guitar_di": guitar_di(44100)},
                        log=lambda *_: None)
    (r,) = results
    assert r.lag > 0, "resampling adds latency; the plugin must report it"
    assert not any("reports" in n for n in r.notes), r.notes  # found lag == reported latency
    assert r.passed, (r.max_abs_error, r.effective_tolerance, r.notes)


def test_test_command_passes_and_writes_report(plugin_bundles: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code = cli_main(["test", str(plugin_bundles["vst3"]), "--reference", str(STANDARD_MODEL),
                     "--report", str(tmp_path / "report")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "6 passed, 0 failed"
    html = (tmp_path / "report" / "index.html").read_text()
    assert "guitar_di" in html and "PASS" in html
    assert list((tmp_path / "report").glob("*.png"))


def test_test_command_says_when_a_file_is_not_a_plugin(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    fake = tmp_path / "fake.vst3"
    fake.mkdir()
    assert cli_main(["test", str(fake), "--reference", str(STANDARD_MODEL)]) == 2
    assert "not a VST3 bundle" in capsys.readouterr().err
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    with pytest.raises(PluginError, match="not a plugin"):
        check_plugin_path(txt)


def test_plugin_files_and_parameter_keys(tmp_path: Path) -> None:
    bundle = tmp_path / "Fx.vst3"
    (bundle / "Contents" / "x86_64-linux").mkdir(parents=True)
    binary = bundle / "Contents" / "x86_64-linux" / "Fx.so"
    binary.write_bytes(b"\x7fELF" + b"\0" * 60)
    f = PluginFile.checked(bundle)
    assert (f.format, f.bundle, f.binary) == ("vst3", bundle, binary)
    vst2 = tmp_path / "libFx.so"
    vst2.write_bytes(b"\x7fELF" + b"\0" * 60)
    assert (PluginFile.of(vst2).format, PluginFile.of(vst2).bundle, PluginFile.of(vst2).binary) == ("vst2", None, vst2)
    assert PluginFile.of(tmp_path / "Fx.lv2").format == "lv2" and PluginFile.of("Fx.component").format == "au"
    assert [file_name(fmt, "Fx") for fmt in ("vst3", "lv2", "vst2", "au")] == [
        "Fx.vst3", "Fx.lv2", "libFx.so", "Fx.component"]
    with pytest.raises(PluginError, match=r"notes\.txt: not a plugin \(expected a \.vst3 bundle, an \.lv2 bundle"):
        PluginFile.of(tmp_path / "notes.txt")
    with pytest.raises(PluginError, match="not an ELF shared object"):
        binary.write_text("text")
        PluginFile.checked(bundle)
    assert param_key("Input Gain (dB)") == "input_gain_db" == param_key("input_gain_db")
    assert param_key(" Bypass ") == "bypass" and param_key("Osc 2 -- Detune") == "osc_2_detune"


def test_juce_state_framing_is_juces_own() -> None:
    data = xml_to_binary('<S a="1"/>')
    assert data[:4] == b"VC2!" and int.from_bytes(data[4:8], "little") == len('<S a="1"/>') and data[-1:] == b"\0"
    assert binary_to_xml(data) == '<S a="1"/>'
    # a length that counts the NUL (as this codec once wrote) still reads
    assert binary_to_xml(b"VC2!" + (11).to_bytes(4, "little") + b'<S a="1"/>\0') == '<S a="1"/>'
    for bad in (b"VC2", b"XXXX\x01\0\0\0a\0", b"VC2!\xff\0\0\0<S/>\0"):
        with pytest.raises(ValueError, match="not JUCE copyXmlToBinary data"):
            binary_to_xml(bad)


def test_build_fails_before_compiling_on_bad_models(tmp_path: Path) -> None:
    corrupt = tmp_path / "broken.nam"
    corrupt.write_text('{"version": "0.5.4", "architecture": "WaveNet", "config": {}, "weights": []}')
    t0 = time.perf_counter()
    with pytest.raises(ns.ModelError, match=r"broken\.nam: config\.head_scale: missing"):
        build(corrupt, "Broken", out=tmp_path / "out", log=lambda *_: None)
    with pytest.raises(ns.ModelError, match="no such model file"):
        build(tmp_path / "missing.nam", "Missing", out=tmp_path / "out", log=lambda *_: None)
    assert time.perf_counter() - t0 < 5, "the model must be checked before any compilation"
    assert not (tmp_path / "out").exists()
    with pytest.raises(BuildError, match="unknown format"):
        build(STANDARD_MODEL, "X", formats="vst3,aax", out=tmp_path / "out")


def test_plugin_codes_are_stable() -> None:
    assert plugin_code("Tweed Drive") == plugin_code("Tweed Drive")
    assert plugin_code("Tweed Drive") != plugin_code("Tweed Drive 2")
    code = plugin_code("Tweed Drive")
    assert len(code) == 4 and code[0].isupper() and code[1:] == code[1:].lower()


def test_bundles_have_the_expected_layout(plugin_bundles: dict[str, Path]) -> None:
    vst3 = plugin_bundles["vst3"]
    assert (vst3 / "Contents" / "x86_64-linux" / f"{vst3.stem}.so").is_file()
    lv2 = plugin_bundles["lv2"]
    assert (lv2 / "manifest.ttl").is_file() and plugin_code(vst3.stem) in (lv2 / "manifest.ttl").read_text()
    assert os.access(plugin_bundles["standalone"], os.X_OK)


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed (ci/setup.sh installs xvfb)")
def test_standalone_starts_under_xvfb_and_exits_cleanly(plugin_bundles: dict[str, Path]) -> None:
    app = plugin_bundles["standalone"]
    proc = subprocess.Popen(["xvfb-run", "-a", str(app)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        time.sleep(4)
        assert proc.poll() is None, "the Standalone exited early: " + proc.stdout.read().decode(errors="replace")
        # SIGINT to the app (not xvfb-run), as Ctrl-C would: JUCE quits its message loop cleanly.
        subprocess.run(["pkill", "-INT", "-f", f"^{app}"], check=False)
        rc = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = proc.stdout.read().decode(errors="replace")
    assert rc == 0, f"exit code {rc}: {out}"
    assert "Segmentation" not in out


def test_runtime_loader_keeps_playing_after_a_corrupt_model(loader_bundles: dict[str, Path], tmp_path: Path) -> None:
    host = open_plugin(loader_bundles["vst3"], "pedalboard", 48000, 512)
    x = (0.3 * np.sin(2 * np.pi * 110 * np.arange(24000) / 48000)).astype(np.float32)[None, :]
    silent = host.process(x, 48000)
    assert np.max(np.abs(silent)) == 0.0, "no model loaded yet: the plugin outputs silence"

    good = NAM_DIR / "wavenet.nam"
    state = plugin_state(host.raw_state)
    state.set("modelPath", str(good))
    host.raw_state = with_plugin_state(host.raw_state, state)
    host.set_parameter("DC Block", False)
    y_good = host.process(x, 48000)
    ref = ns.reference.load_model(good).process(x[0].astype(np.float64))
    assert np.max(np.abs(y_good[0] - ref)) <= 1e-5

    corrupt = tmp_path / "corrupt.nam"
    corrupt.write_text(good.read_text()[:500])
    state = plugin_state(host.raw_state)
    state.set("modelPath", str(corrupt))
    host.raw_state = with_plugin_state(host.raw_state, state)
    y_after = host.process(x, 48000)
    np.testing.assert_array_equal(y_after, y_good)  # the previous model keeps playing
    host.process(np.zeros((1, 512), np.float32), 48000)
    after = plugin_state(host.raw_state)
    assert "corrupt.nam" in after.get("lastError", "") and "not valid JSON" in after.get("lastError", "")
    assert after.get("modelPath") == str(good)


def test_cli_build_prints_bundle_paths(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "neuralsynth", "build", str(NAM_DIR / "wavenet.nam"), "--name", "NS Tiny",
         "--formats", "vst3", "--out", str(out)],
        capture_output=True, text=True, timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    fmt, path = line.split("\t")
    assert fmt == "vst3" and Path(path) == (out / "NS Tiny.vst3").resolve() and Path(path).is_dir()


def test_vst2_build_runs_in_dawdreamer(vst2_bundle: Path) -> None:
    # VST2 (clean-room fst headers) is the format DawDreamer's .fxp preset loading needs.
    assert vst2_bundle.suffix == ".so"
    _all_pass(run_tests(vst2_bundle, STANDARD_MODEL, host="dawdreamer", log=lambda *_: None))
