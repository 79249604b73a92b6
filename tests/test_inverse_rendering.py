"""neuralsynth.inverse.rendering: candidate vectors rendered through real plugins in real worker processes.

Crashes and NaN renders are injected into the real workers with neuralsynth.render.faults (environment
variables the pool's worker processes inherit), as tests/test_render.py does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from neuralsynth.render.errors import RenderError, RenderOptionError
from neuralsynth.render.failures import FailureKind
from neuralsynth.render.faults import CRASH_ENV, FAULT_ENVS, NAN_ENV

pytest.importorskip("dawdreamer")

from neuralsynth.inverse.rendering import CandidateRenderer, settings_from_manifest  # noqa: E402

NEKOBI = Path("/usr/lib/vst/Nekobi-vst.so")
FACTORY = Path(__file__).resolve().parent.parent / "presets" / "factory"
needs_nekobi = pytest.mark.skipif(not NEKOBI.exists(), reason="needs Nekobi (apt install dpf-plugins-vst)")

# The render section of a factory-preset dataset's manifest.json (neuralsynth render --presets presets/factory).
FACTORY_RENDER = {"sample_rate": 44100, "block_size": 512, "notes": [48, 60, 72], "velocities": [100],
                  "duration": 4.0, "note_length": 3.0, "settle": 0.5, "reset": "prime"}
# The same, shorter, for the tests that render many candidates.
SHORT_RENDER = dict(FACTORY_RENDER, duration=1.0, note_length=0.5, settle=0.2)


@pytest.fixture(autouse=True)
def _no_faults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FAULT_ENVS:
        monkeypatch.delenv(name, raising=False)


def _saw_bass() -> np.ndarray:
    from neuralsynth.presets import read_fxp

    return np.array(read_fxp(FACTORY / "bass" / "02 Saw Bass.fxp").params, dtype=np.float64)


def _perturbed(x: np.ndarray, seed: int, indices: tuple[int, ...] = (12, 13, 22)) -> np.ndarray:
    y = x.copy()
    y[list(indices)] = np.clip(y[list(indices)] + np.random.default_rng(seed).uniform(-0.3, 0.3, len(indices)), 0, 1)
    return y


# ------------------------------------------------------------------------------------------ settings


def test_settings_from_manifest_are_the_datasets_without_features() -> None:
    s = settings_from_manifest({"plugin": {}, "render": FACTORY_RENDER, "features": {"sample_rate": 44100}})
    assert s.features is None
    assert s.to_dict() == FACTORY_RENDER
    assert (s.sample_rate, s.block_size, s.duration, s.note_length, s.settle, s.reset) == (
        44100, 512, 4.0, 3.0, 0.5, "prime")
    assert s.num_samples == 176400


def test_settings_from_a_bad_manifest_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="missing 'settle', 'reset'"):
        settings_from_manifest({"render": {k: v for k, v in FACTORY_RENDER.items() if k not in ("settle", "reset")}})
    with pytest.raises(ValueError, match="no 'render' object"):
        settings_from_manifest({"plugin": {}})
    with pytest.raises(RenderOptionError, match="reset must be one of"):
        settings_from_manifest({"render": dict(FACTORY_RENDER, reset="never")})
    with pytest.raises(ValueError, match="expected a dict"):
        settings_from_manifest([FACTORY_RENDER])  # type: ignore[arg-type]


@needs_nekobi
def test_a_candidate_is_bit_for_bit_the_dataset_row_of_its_vector(tmp_path: Path) -> None:
    """A dataset rendered by neuralsynth render; its manifest's settings and its vectors give its rows' audio."""
    from neuralsynth.render.jobs import make_settings, random_vector
    from neuralsynth.render.run import RenderRequest, render_dataset
    from neuralsynth.render.worker import decode_flac

    pq = pytest.importorskip("pyarrow.parquet")

    settings = make_settings(notes=[48, 60], duration=0.5, note_length=0.3, settle=0.1, features=False)
    req = RenderRequest(plugin=str(NEKOBI), out=tmp_path / "data", settings=settings, random_count=2, seed=7,
                        workers=1, features=False, progress=False)
    summary = render_dataset(req)
    assert summary.rendered == 4 and summary.failed == 0
    shards = sorted((tmp_path / "data").glob("shard-*.parquet"))
    rows = [row for path in shards for row in pq.read_table(path).to_pylist()]
    assert len(rows) == 4
    recovered = settings_from_manifest(summary.manifest)
    assert recovered == settings
    with CandidateRenderer(str(NEKOBI), recovered) as renderer:
        for note in (48, 60):
            # candidates in another order than the dataset's jobs: no state carries over from one to the next
            vectors = [random_vector(7, 1, 8), random_vector(7, 0, 8)]
            got = renderer.render(vectors, note, 100)
            for candidate, preset_index in zip(got, (1, 0), strict=True):
                (row,) = [r for r in rows if r["note"] == note and r["preset_name"] == f"random-{preset_index:06d}"]
                expected, rate = decode_flac(row["audio"]["bytes"])
                assert candidate.error is None and rate == 44100
                assert candidate.audio is not None and candidate.audio.dtype == np.float32
                assert candidate.audio.shape == expected.shape == (1, 22050)
                np.testing.assert_array_equal(candidate.audio, expected)
                assert np.max(np.abs(expected)) > 1e-3


# ------------------------------------------------------------------------------------------ the instrument


def test_instrument_candidates_reuse_one_pool(instrument_bundles: dict[str, Path]) -> None:
    plugin = str(instrument_bundles["vst2"])
    settings = settings_from_manifest({"render": SHORT_RENDER})
    preset = _saw_bass()
    other = _perturbed(preset, 1)
    with CandidateRenderer(plugin, settings, workers=1) as renderer:
        assert renderer.num_params == 36 and renderer.start_seconds is not None and renderer.start_seconds > 0
        pid = renderer._pool._slots[0].process.popen.pid
        first = renderer.render([preset, other, preset], 48, 100)
        assert [c.error for c in first] == [None, None, None]
        for c in first:
            assert c.audio is not None and c.audio.shape == (2, 44100) and c.audio.dtype == np.float32
            assert np.isfinite(c.audio).all() and np.max(np.abs(c.audio)) > 0.05
        np.testing.assert_array_equal(first[0].params, preset)
        np.testing.assert_array_equal(first[0].audio, first[2].audio)  # the same vector, the same audio
        assert np.max(np.abs(first[0].audio - first[1].audio)) > 1e-3  # another vector, another sound
        again = renderer.render([other], 48, 100)
        np.testing.assert_array_equal(again[0].audio, first[1].audio)
        higher = renderer.render([preset], 60, 100)
        assert np.max(np.abs(higher[0].audio - first[0].audio)) > 1e-3  # the note is the one asked for
        assert renderer._pool._slots[0].process.popen.pid == pid and renderer.crashes == 0


def test_vst3_build_takes_the_vst2_vector(instrument_bundles: dict[str, Path]) -> None:
    """The VST3 has JUCE's Bypass as a 37th parameter: a 36-value vector renders as in the VST2 build."""
    settings = settings_from_manifest({"render": SHORT_RENDER})
    vector = _perturbed(_saw_bass(), 2)
    with CandidateRenderer(str(instrument_bundles["vst2"]), settings) as vst2:
        (expected,) = vst2.render([vector], 48, 100)
    with CandidateRenderer(str(instrument_bundles["vst3"]), settings) as vst3:
        assert vst3.num_params == 37
        got, with_bypass_off = vst3.render([vector, np.append(vector, 0.0)], 48, 100)
        with pytest.raises(ValueError, match="expected 36 or 37 parameter values"):
            vst3.render([vector[:35]], 48, 100)
    assert expected.audio is not None and got.audio is not None
    np.testing.assert_array_equal(got.audio, expected.audio)
    np.testing.assert_array_equal(with_bypass_off.audio, expected.audio)
    assert got.params.shape == (36,)


def test_crash_and_nan_fail_only_their_candidate(instrument_bundles: dict[str, Path],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidate 1 segfaults its worker, candidate 2 renders NaN; the others render, on two workers."""
    monkeypatch.setenv(CRASH_ENV, "1")
    monkeypatch.setenv(NAN_ENV, "2")
    settings = dataclasses.replace(settings_from_manifest({"render": SHORT_RENDER}), duration=0.5, note_length=0.3)
    preset = _saw_bass()
    vectors = [preset, _perturbed(preset, 3), _perturbed(preset, 4), _perturbed(preset, 5)]
    with CandidateRenderer(str(instrument_bundles["vst2"]), settings, workers=2) as renderer:
        got = renderer.render(vectors, 48, 100)
        assert [c.ok for c in got] == [True, False, False, True]
        assert got[1].kind is FailureKind.CRASH and "SIGSEGV" in (got[1].error or ""), got[1].error
        assert got[1].error == "worker crashed (SIGSEGV) on its only attempt (1)"
        assert got[2].kind is FailureKind.NAN and "NaN/Inf samples" in (got[2].error or ""), got[2].error
        assert renderer.crashes == 1
        # the pool goes on: the crashed worker was replaced; the same vectors give the same audio
        again = renderer.render([vectors[3], vectors[0]], 48, 100)
        assert [c.ok for c in again] == [True, False]  # position 1 of this call crashes too
        np.testing.assert_array_equal(again[0].audio, got[3].audio)
        (once_more,) = renderer.render([vectors[0]], 48, 100)
        np.testing.assert_array_equal(once_more.audio, got[0].audio)
        assert renderer.crashes == 2


# ------------------------------------------------------------------------------------------ bad input


@needs_nekobi
def test_bad_candidates_are_refused_before_rendering() -> None:
    settings = settings_from_manifest({"render": dict(SHORT_RENDER, duration=0.25, note_length=0.1, settle=0.0)})
    good = np.full(8, 0.5)
    with CandidateRenderer(str(NEKOBI), settings) as renderer:
        with pytest.raises(ValueError, match=r"candidate 1: expected 8 parameter values .*found shape \(7,\)"):
            renderer.render([good, good[:7]], 60, 100)
        bad = good.copy()
        bad[3] = 1.5
        with pytest.raises(ValueError, match=r"candidate 0: parameter 3 \('VCF Resonance'\) = 1\.5"):
            renderer.render([bad], 60, 100)
        bad[3] = np.nan
        with pytest.raises(ValueError, match=r"parameter 3 \('VCF Resonance'\) = nan"):
            renderer.render([good, bad], 60, 100)
        with pytest.raises(ValueError, match="note: expected a MIDI note 0..127, found 128"):
            renderer.render([good], 128, 100)
        with pytest.raises(ValueError, match="velocity: expected a MIDI velocity 1..127, found 0"):
            renderer.render([good], 60, 0)
        assert renderer.render([], 60, 100) == []
        (ok,) = renderer.render([good], 60, 100)
        assert ok.audio is not None and ok.audio.shape == (1, 11025)
    with pytest.raises(ValueError, match="workers: expected a whole number >= 1, found 0"):
        CandidateRenderer(str(NEKOBI), settings, workers=0)
    with pytest.raises(ValueError, match="job_timeout"):
        CandidateRenderer(str(NEKOBI), settings, job_timeout=0)


@needs_nekobi
def test_background_start_and_a_plugin_that_does_not_load(tmp_path: Path) -> None:
    settings = settings_from_manifest({"render": dict(SHORT_RENDER, duration=0.25, note_length=0.1, settle=0.0)})
    renderer = CandidateRenderer(str(NEKOBI), settings)
    try:
        assert renderer.start(wait=False) is None  # returns at once; the workers load meanwhile
        (c,) = renderer.render([np.full(8, 0.5)], 60, 100)
        assert c.ok and renderer.start_seconds is not None and renderer.start_seconds > 0
    finally:
        renderer.close()
    not_a_plugin = tmp_path / "libBroken.so"
    not_a_plugin.write_bytes(b"not an ELF file")
    broken = CandidateRenderer(str(not_a_plugin), settings)
    broken.start(wait=False)
    with pytest.raises(RenderError, match="the plugin did not load"):
        broken.render([np.full(8, 0.5)], 60, 100)
    broken.close()
