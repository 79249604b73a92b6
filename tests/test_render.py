"""Tests of ``neuralsynth render`` / ``neuralsynth dataset check`` against the real VST2 synth Nekobi.

The runs are short (0.5 s renders, a dozen jobs) so the file finishes in a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile

from neuralsynth.cli import main as render_main
from neuralsynth.cli.render_cmds import add_parsers
from neuralsynth.render import jobs as jobs_mod
from neuralsynth.render.check import check_dataset
from neuralsynth.render.errors import RenderOptionError
from neuralsynth.render.jobs import make_jobs, make_settings, random_presets, random_vector
from neuralsynth.render.pool import LocalPool
from neuralsynth.render.worker import RenderWorker

NEKOBI = Path("/usr/lib/vst/Nekobi-vst.so")
pytestmark = pytest.mark.skipif(not NEKOBI.exists(), reason="needs Nekobi (apt install dpf-plugins-vst)")
pytest.importorskip("dawdreamer")
pytest.importorskip("pyarrow")

PYTHON_DIR = Path(__file__).resolve().parent.parent / "python"
DURATION = 0.5
# The reference dataset: 6 random presets x 2 notes = 12 jobs in 3 shards of 4.
REF_ARGS = ["--random", "6", "--seed", "3", "--notes", "48,60", "--duration", str(DURATION), "--shard-size", "4"]
REF_JOBS = 12
LSB_TOLERANCE = 2.0**-22


def cli(*args: Any) -> tuple[int, str, str]:
    """Run ``python -m neuralsynth [render] ARGS`` in a subprocess; (status, stdout, stderr)."""
    if str(args[0]) not in ("render", "dataset"):
        args = ("render", *args)
    env = _env()
    proc = subprocess.run(
        [sys.executable, "-m", "neuralsynth", *map(str, args)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURALSYNTH_RENDER_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PYTHON_DIR), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def in_process(capsys: pytest.CaptureFixture[str], *args: Any) -> tuple[int, str, str]:
    code = render_main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def read_rows(folder: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in sorted(folder.glob("shard-*.parquet")):
        rows.extend(pq.read_table(path).to_pylist())
    return rows


def decode(row: dict[str, Any]) -> np.ndarray:
    audio, rate = soundfile.read(io.BytesIO(row["audio"]["bytes"]), dtype="float64", always_2d=True)
    assert rate == row["sample_rate"]
    return audio.T


def manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "manifest.json").read_text())


def same_dataset(a: Path, b: Path) -> None:
    rows_a, rows_b = read_rows(a), read_rows(b)
    assert [r["id"] for r in rows_a] == [r["id"] for r in rows_b]
    for ra, rb in zip(rows_a, rows_b, strict=True):
        assert ra["audio"]["bytes"] == rb["audio"]["bytes"], ra["id"]
        assert ra["params"] == rb["params"]
        assert ra["log_mel"] == rb["log_mel"]
    ma, mb = manifest(a), manifest(b)
    assert ma["counts"] == mb["counts"]
    assert ma["failures"] == mb["failures"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ref") / "data"
    code, stdout, stderr = cli(NEKOBI, *REF_ARGS, "--workers", "2", "--out", out)
    assert code == 0, stderr
    assert "12 rows, 0 failed" in stdout
    return out


# ------------------------------------------------------------------------------------------ units


def test_random_vectors_depend_only_on_seed_and_index() -> None:
    a = random_presets(5, 7, 8)
    b = random_presets(3, 7, 8)
    assert [p.params for p in a[:3]] == [p.params for p in b]
    assert np.allclose(a[4].params, random_vector(7, 4, 8))
    assert a[0].params != random_presets(1, 8, 8)[0].params
    fixed = random_presets(2, 7, 8, {2: 0.25})
    assert all(p.params[2] == 0.25 for p in fixed)
    assert fixed[0].params[:2] == a[0].params[:2]
    assert a[0].name == "random-000000" and a[0].category == "random"


def test_jobs_order_ids_and_shards() -> None:
    settings = make_settings(notes=[48, 60], velocities=[90, 100], duration=1.0)
    jobs = make_jobs(random_presets(3, 0, 4), settings)
    assert len(jobs) == 12
    assert [j.index for j in jobs] == list(range(12))
    assert (jobs[0].note, jobs[0].velocity, jobs[1].velocity, jobs[2].note) == (48, 90, 100, 60)
    assert len({j.id for j in jobs}) == 12
    assert [list(r) for r in jobs_mod.shard_ranges(10, 4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert settings.note_length == 0.75


def test_option_parsing() -> None:
    assert jobs_mod.parse_int_list("48, 60,72", "notes", 0, 127) == [48, 60, 72]
    assert jobs_mod.parse_int_list("60-62", "notes", 0, 127) == [60, 61, 62]
    for text in ("48,,60", "a,b", "128", "60,60"):
        with pytest.raises(RenderOptionError):
            jobs_mod.parse_int_list(text, "notes", 0, 127)
    names = ["Waveform", "Cutoff"]
    assert jobs_mod.parse_fixed(["Cutoff=0.5", "0=1", "cutoff=0.25"], names) == {1: 0.25, 0: 1.0}
    for bad in ("Nope=0.5", "Cutoff", "Cutoff=2", "Cutoff=x"):
        with pytest.raises(RenderOptionError):
            jobs_mod.parse_fixed([bad], names)


def test_row_schema_is_described_once() -> None:
    from neuralsynth.features import FEATURE_KEYS
    from neuralsynth.render.failures import Outcome, failure_record
    from neuralsynth.render.schema import RenderedJob, arrow_schema, column_docs, feature_fields, make_row

    assert tuple(f.name for f in feature_fields()) == FEATURE_KEYS
    full, plain = arrow_schema(True), arrow_schema(False)
    assert full.names[: len(plain)] == plain.names and full.names[len(plain):] == list(FEATURE_KEYS)
    assert list(column_docs(True)) == full.names and list(column_docs(False)) == plain.names
    (job,) = make_jobs(random_presets(1, 0, 2), make_settings(notes=[60], duration=0.1))
    feats = {k: np.zeros((11, 4) if k in ("log_mel", "mfcc") else 11, np.float32) for k in FEATURE_KEYS}
    rendered = RenderedJob(job, [0.5, 0.25], b"fLaC", 44100, 1, 4410, 1.0, feats)
    row = make_row(rendered)
    assert list(row) == full.names
    assert (row["id"], row["job_index"], row["note"], row["clipped"]) == (job.id, 0, 60, True)
    assert row["audio"] == {"bytes": b"fLaC", "path": f"{job.id}.flac"}
    assert list(make_row(dataclasses.replace(rendered, features=None))) == plain.names
    record = failure_record(Outcome(job, error="boom", attempts=2))
    assert list(record) == ["job_index", "id", "preset_name", "category", "preset_path", "note", "velocity",
                            "reason", "attempts"]
    assert record["reason"] == "boom" and record["preset_name"] == "random-000000"


def test_retry_policy() -> None:
    from collections import deque

    from neuralsynth.render.failures import FailureKind, RetryPolicy

    (job,) = make_jobs(random_presets(1, 0, 2), make_settings(notes=[60], duration=0.1, features=False))
    policy, pending = RetryPolicy(), deque()
    assert policy.failed(job, FailureKind.CRASH, "worker crashed (SIGSEGV)", pending) is None
    (again,) = pending
    assert again.attempt == 1 and again == job
    final = policy.failed(again, FailureKind.CRASH, "worker crashed (SIGSEGV)", pending)
    assert final.error == "worker crashed (SIGSEGV) on every attempt (2)" and final.attempts == 2
    nan = policy.failed(job, FailureKind.NAN, "the render has 3 NaN/Inf samples of 9", pending)
    assert nan.error == "the render has 3 NaN/Inf samples of 9" and nan.attempts == 1 and len(pending) == 1
    once = RetryPolicy(max_attempts=1).failed(job, FailureKind.TIMEOUT, "worker timed out after 3 s", deque())
    assert once.error == "worker timed out after 3 s on its only attempt (1)"


def test_policy_retries_what_it_is_told_in_real_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """NaN made retryable: the worker's NaN report comes back and is tried again, three times in all."""
    from neuralsynth.render.failures import FailureKind, RetryPolicy

    monkeypatch.setenv("NEURALSYNTH_RENDER_NAN_JOBS", "1")
    settings = make_settings(notes=[48, 60], duration=0.25, features=False)
    jobs = make_jobs(random_presets(1, 3, 8), settings)
    policy = RetryPolicy(max_attempts=3, retry=frozenset({FailureKind.NAN}))
    with LocalPool(str(NEKOBI), settings, 2, policy=policy) as pool:
        outcomes = {o.job.index: o for o in pool.run(jobs)}
        assert pool.crashes == 0
    assert outcomes[0].ok and outcomes[0].attempts == 1
    assert outcomes[1].kind is FailureKind.NAN and outcomes[1].attempts == 3
    assert outcomes[1].error.endswith("NaN/Inf samples of 11025 on every attempt (3)"), outcomes[1].error


def test_feature_settings_travel_with_the_settings(tmp_path: Path) -> None:
    """Custom feature settings reach the workers: the rows have what the manifest records."""
    from neuralsynth.features import FeatureSettings
    from neuralsynth.render.run import RenderRequest, render_dataset

    assert make_settings(features=False).features is None
    assert make_settings(sample_rate=48000).features == FeatureSettings(48000)
    custom = FeatureSettings(44100, n_mels=64, n_mfcc=13)
    settings = make_settings(notes=[60], duration=DURATION, features=custom)
    assert settings.with_features(True) is settings and settings.with_features(False).features is None
    with pytest.raises(RenderOptionError, match="48000 Hz"):
        make_settings(features=FeatureSettings(48000))
    out = tmp_path / "data"
    render_dataset(RenderRequest(plugin=str(NEKOBI), out=out, settings=settings, random_count=1, seed=3,
                                 workers=1, progress=False))
    m = manifest(out)
    assert m["features"] == json.loads(json.dumps(custom.to_dict()))
    (row,) = read_rows(out)
    assert np.asarray(row["log_mel"]).shape[1] == 64 and np.asarray(row["mfcc"]).shape[1] == 13
    report = check_dataset(out)
    assert report.ok, report.problems


def test_parser_wires_into_a_cli() -> None:
    parser = argparse.ArgumentParser(prog="neuralsynth")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parsers(sub)
    args = parser.parse_args(["render", str(NEKOBI), "--random", "3", "--seed", "1", "--out", "x", "--no-resume"])
    assert args.random == 3 and args.resume is False and args.duration == 4.0 and args.notes == "48,60,72"
    args = parser.parse_args(["dataset", "check", "x"])
    assert args.func.__name__ == "_cmd_check"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["/nonexistent/Synth.so", "--random", "2", "--seed", "1"], "no such plugin"),
        ([NEKOBI, "--random", "2", "--seed", "1", "--notes", "48,x"], "bad notes list"),
        ([NEKOBI, "--random", "2", "--seed", "1", "--notes", "130"], "within 0..127"),
        ([NEKOBI, "--random", "2", "--seed", "1", "--velocities", "0"], "within 1..127"),
        ([NEKOBI, "--random", "2", "--seed", "1", "--velocities", "128"], "within 1..127"),
        ([NEKOBI, "--random", "2"], "needs --seed"),
        ([NEKOBI], "--presets DIR"),
        ([NEKOBI, "--random", "2", "--seed", "1", "--duration", "0"], "duration"),
    ],
)
def test_clean_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[Any], fragment: str) -> None:
    code, _out, err = in_process(capsys, "render", *args, "--out", tmp_path / "out")
    assert code == 2, err
    assert err.startswith("neuralsynth: error: ") and fragment in err, err
    assert "Traceback" not in err


def test_clean_errors_for_folders(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    code, _, err = in_process(capsys, "render", NEKOBI, "--presets", empty, "--out", tmp_path / "o")
    assert code == 2 and "no .fxp presets" in err, err
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, _, err = in_process(capsys, "render", NEKOBI, "--random", "1", "--seed", "1", "--out", a_file)
    assert code == 2 and "is a file" in err, err
    code, _, err = in_process(capsys, "dataset", "check", tmp_path / "nothing")
    assert code == 2 and "no such folder" in err, err
    code, _, err = in_process(capsys, "dataset", "check", empty)
    assert code == 2 and "manifest.json" in err, err


# ------------------------------------------------------------------------------------------ datasets


def test_reference_dataset(reference: Path) -> None:
    m = manifest(reference)
    assert m["complete"] is True
    assert m["counts"] == {"jobs": REF_JOBS, "rendered": REF_JOBS, "failed": 0, "pending": 0}
    assert m["plugin"]["name"] == "Nekobi" and m["plugin"]["format"] == "vst2"
    assert [p["name"] for p in m["parameters"]][:3] == ["Waveform", "Tuning", "Cutoff"]
    assert m["render"]["note_length"] == pytest.approx(0.75 * DURATION)
    assert m["render"]["sample_rate"] == 44100 and m["render"]["block_size"] == 512
    assert m["features"]["frame_rate"] == 100 and m["versions"]["dawdreamer"]
    assert sorted(p.name for p in reference.glob("shard-*.parquet")) == [f"shard-0000{i}.parquet" for i in range(3)]
    assert not list(reference.glob(".*tmp*"))

    rows = read_rows(reference)
    assert [r["job_index"] for r in rows] == list(range(REF_JOBS))
    n = int(DURATION * 44100)
    frames = int(n * 100 // 44100) + 1
    for row in rows:
        i = row["job_index"]
        assert row["preset_name"] == f"random-{i // 2:06d}" and row["category"] == "random"
        assert row["preset_path"] is None and row["note"] == (48, 60)[i % 2] and row["velocity"] == 100
        expected = random_vector(3, i // 2, 8).astype(np.float32)
        assert np.allclose(row["params"], expected, atol=1e-7)  # read back from the plugin
        audio = decode(row)
        assert audio.shape == (1, n)  # Nekobi is mono; the channel count is kept
        assert np.max(np.abs(audio)) > 1e-3
        assert row["peak"] == pytest.approx(np.max(np.abs(audio)), abs=2**-22)
        assert row["clipped"] is False
        assert np.asarray(row["log_mel"]).shape == (frames, 128)
        assert np.asarray(row["mfcc"]).shape == (frames, 30)
        for key in ("f0_hz", "f0_confidence", "loudness_db"):
            assert len(row[key]) == frames and np.all(np.isfinite(row[key]))
    # f0 follows the note: an octave between 48 and 60 for the same preset.
    f0 = [np.median([f for f in r["f0_hz"][5:30] if f > 0]) for r in rows[:2]]
    assert f0[1] / f0[0] == pytest.approx(2.0, rel=0.03)
    report = check_dataset(reference)
    assert report.ok, report.problems
    assert report.rows == REF_JOBS


def test_worker_count_and_sharding_do_not_change_rows(reference: Path, tmp_path: Path) -> None:
    args = [a if a != "4" else "5" for a in REF_ARGS]  # other shard size
    code, _, err = cli(NEKOBI, *args, "--workers", "1", "--out", tmp_path / "w1")
    assert code == 0, err
    a, b = read_rows(reference), read_rows(tmp_path / "w1")
    assert [r["id"] for r in a] == [r["id"] for r in b]
    assert [r["audio"]["bytes"] for r in a] == [r["audio"]["bytes"] for r in b]
    assert [r["params"] for r in a] == [r["params"] for r in b]


def test_dataset_check_cli_and_problems(reference: Path, tmp_path: Path) -> None:
    code, out, err = cli("dataset", "check", reference)
    assert code == 0 and out.strip().endswith("OK"), out + err
    broken = tmp_path / "broken"
    shutil.copytree(reference, broken)
    (broken / "shard-00001.parquet").unlink()
    doc = manifest(broken)
    doc["counts"]["rendered"] += 1
    (broken / "manifest.json").write_text(json.dumps(doc))
    report = check_dataset(broken)
    text = "\n".join(report.problems)
    assert not report.ok and "shard-00001.parquet: listed in the manifest but missing" in text
    assert "rendered + failed" in text
    code, out, _ = cli("dataset", "check", broken, "--json")
    assert code == 1 and json.loads(out)["ok"] is False


def test_huggingface_datasets_reads_the_audio(reference: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    files = sorted(glob.glob(str(reference / "shard-*.parquet")))
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == REF_JOBS
    raw = ds.cast_column("audio", datasets.Audio(decode=False))
    first = raw[0]["audio"]
    assert first["path"].endswith(".flac")
    audio, rate = soundfile.read(io.BytesIO(first["bytes"]), dtype="float32")
    assert rate == 44100 and audio.shape == (int(DURATION * 44100),)


def test_huggingface_audio_feature_decodes(reference: Path, tmp_path: Path) -> None:
    # datasets >= 4 decodes Audio with torchcodec (torch + FFmpeg); ci/setup.sh installs them when
    # the machine has the CPU build of torch on disk (a plain `pip install torch` pulls GBs of CUDA).
    datasets = pytest.importorskip("datasets")
    try:
        import torchcodec  # noqa: F401
    except Exception:
        pytest.skip("datasets decodes audio with torchcodec (+ torch and FFmpeg libraries), not installed")
    files = sorted(glob.glob(str(reference / "shard-*.parquet")))
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    raw = ds.cast_column("audio", datasets.Audio(decode=False))
    audio, _ = soundfile.read(io.BytesIO(raw[0]["audio"]["bytes"]), dtype="float32")
    decoded = ds.cast_column("audio", datasets.Audio())
    samples = decoded[0]["audio"].get_all_samples()
    assert samples.sample_rate == 44100
    assert np.array_equal(samples.data.numpy()[0], audio)


# ------------------------------------------------------------------------------------------ audio


def _direct_render(params: list[float], note: int, duration: float, prime: bool) -> np.ndarray:
    """A plain DawDreamer render in a fresh engine, parameters set one by one, velocity 100.

    ``prime``: as the default ``--reset prime`` does, 0.5 s of silence and the note once, then 0.5 s
    of silence and the note again, which is what is returned.
    """
    import dawdreamer

    engine = dawdreamer.RenderEngine(44100, 512)
    synth = engine.make_plugin_processor("direct", str(NEKOBI))
    for i, value in enumerate(params):
        synth.set_parameter(i, float(value))
    engine.load_graph([(synth, [])])
    for _ in range(2 if prime else 1):
        synth.clear_midi()
        if prime:
            engine.render(0.5)
        synth.add_midi_note(note, 100, 0.0, 0.75 * duration)
        engine.render(duration)
    return np.asarray(engine.get_audio(), dtype=np.float64)


def test_audio_follows_the_presets(tmp_path: Path) -> None:
    from neuralsynth.presets import Program, write_fxp
    from neuralsynth.presets.vst2_probe import vst2_info

    uid = vst2_info(NEKOBI)["unique_id"]
    folder = tmp_path / "presets"
    rng = np.random.default_rng(11)
    written = {}
    for rel, name in [("Bass/b1.fxp", "Deep Bass"), ("Bass/b2.fxp", "Acid Bass"), ("lead.fxp", "Squelch")]:
        values = rng.random(8).astype(np.float32)
        values[0] = float(rel != "lead.fxp")  # both waveforms
        values[7] = 0.8  # volume
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_fxp(Program(name=name, plugin_id=uid, params=[float(v) for v in values]), path)
        written[name] = values
    (folder / "Broken").mkdir()
    (folder / "Broken" / "zz.fxp").write_bytes(b"CcnK not really a preset")

    out = tmp_path / "data"
    code, stdout, err = cli(NEKOBI, "--presets", folder, "--notes", "57", "--duration", DURATION, "--out", out)
    assert code == 0, err
    assert "3 rows, 1 failed" in stdout
    m = manifest(out)
    (failure,) = m["failures"]
    assert failure["preset_name"] == "zz" and failure["category"] == "Broken" and "preset" in failure["reason"]
    rows = read_rows(out)
    expected = [("Bass", "Deep Bass"), ("Bass", "Acid Bass"), ("", "Squelch")]
    assert [(r["category"], r["preset_name"]) for r in rows] == expected
    audios = [decode(r) for r in rows]
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.max(np.abs(audios[i] - audios[j])) > 1e-2
    for row, audio in zip(rows, audios, strict=True):
        # read back from the plugin, which converts to its own units and back: equal within float32 rounding
        assert np.allclose(row["params"], written[row["preset_name"]], rtol=0, atol=1e-6)
        direct = _direct_render(row["params"], 57, DURATION, prime=True)
        assert direct.shape == audio.shape
        assert np.max(np.abs(np.clip(direct, -1, 1) - audio)) <= LSB_TOLERANCE
    assert check_dataset(out).ok

    # --reset reload: a fresh plugin per job, i.e. exactly a first render of a new instance.
    settings = make_settings(notes=[57], duration=DURATION, reset="reload")
    worker = RenderWorker(str(NEKOBI), settings, features=False)
    preset_jobs = make_jobs([p for p in jobs_mod.find_presets(folder) if p.name in written], settings)
    assert len(preset_jobs) == 3
    for job in preset_jobs[::-1]:
        audio, params = worker.render_audio(job)
        assert np.allclose(params, written[job.preset.name], rtol=0, atol=1e-6)
        assert np.array_equal(audio, _direct_render(params, 57, DURATION, prime=False).astype(np.float32))


@pytest.mark.parametrize("reset", ["prime", "settle"])
def test_state_does_not_leak_between_jobs(reset: str) -> None:
    """Job B rendered after job A equals job B rendered first in a fresh worker process.

    Nekobi needs the priming note: with silence alone (reset="settle") the attack of a note depends on
    the previous job (Tuning and Volume are smoothed per voice, only while a voice sounds).
    """
    settings = make_settings(notes=[48, 60], duration=DURATION, reset=reset)
    jobs = make_jobs(random_presets(6, 3, 8), settings)
    sequence = [jobs[i] for i in (0, 7, 4, 5, 8, 9, 10)]  # B = 5 and 10, after other jobs
    with LocalPool(str(NEKOBI), settings, 1, features=False) as pool:
        after = {o.job.index: o.row["audio"]["bytes"] for o in pool.run(sequence) if o.row}
    fresh = {}
    for index in (5, 10):
        with LocalPool(str(NEKOBI), settings, 1, features=False) as pool:
            (outcome,) = list(pool.run([jobs[index]]))
            assert outcome.row is not None
            fresh[index] = outcome.row["audio"]["bytes"]
    same = [after[i] == fresh[i] for i in (5, 10)]
    if reset == "prime":
        assert same == [True, True]
    else:  # the test can see a leak
        assert not all(same)


# ------------------------------------------------------------------------------------------ faults


def test_crashes_nan_and_retries(tmp_path: Path) -> None:
    out = tmp_path / "data"
    env = _env(NEURALSYNTH_RENDER_CRASH_ONCE="1", NEURALSYNTH_RENDER_CRASH_JOBS="6", NEURALSYNTH_RENDER_NAN_JOBS="4")
    proc = subprocess.run(
        [sys.executable, "-m", "neuralsynth", "render", str(NEKOBI), *REF_ARGS, "--workers", "2",
         "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "10 rows, 2 failed" in proc.stdout
    m = manifest(out)
    assert m["complete"] and m["counts"] == {"jobs": 12, "rendered": 10, "failed": 2, "pending": 0}
    reasons = {f["job_index"]: f for f in m["failures"]}
    assert set(reasons) == {4, 6}
    assert "NaN" in reasons[4]["reason"] and reasons[4]["attempts"] == 1
    assert "SIGSEGV" in reasons[6]["reason"] and reasons[6]["attempts"] == 2
    assert m["last_run"]["worker_crashes"] == 3  # job 1 once, job 6 twice
    rows = read_rows(out)
    assert [r["job_index"] for r in rows] == [0, 1, 2, 3, 5, 7, 8, 9, 10, 11]
    report = check_dataset(out)
    assert report.ok, report.problems
    # A rerun keeps every shard: failures are part of a complete shard.
    code, stdout, err = cli(NEKOBI, *REF_ARGS, "--workers", "2", "--out", out)
    assert code == 0 and "3 reused, 0 written" in stdout, stdout + err


def test_hung_worker_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "data"
    env = _env(NEURALSYNTH_RENDER_HANG_JOBS="2")
    proc = subprocess.run(
        [sys.executable, "-m", "neuralsynth", "render", str(NEKOBI), "--random", "2", "--seed", "1",
         "--notes", "48,60", "--duration", "0.25", "--no-features", "--workers", "2", "--job-timeout", "3",
         "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    (failure,) = manifest(out)["failures"]
    assert failure["job_index"] == 2 and "timed out" in failure["reason"] and failure["attempts"] == 2


def _wait_for(path_glob: Path, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(glob.glob(str(path_glob))) < count:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_interrupted_runs_resume_to_the_same_dataset(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    cmd = [sys.executable, "-m", "neuralsynth", "render", str(NEKOBI), *REF_ARGS, "--workers", "2",
           "--out", str(out)]
    # 0.5 s a job: after the first shard the other 8 jobs take >= 2 s on 2 workers, so the signal lands
    # mid-run even on a loaded machine.
    env = _env(NEURALSYNTH_RENDER_DELAY="0.5")
    # 1: Ctrl-C after the first shard.
    # A shell's background job (`.ci/run &`) starts with SIGINT ignored and children inherit that;
    # give the render Python's own Ctrl-C handling, as in a terminal.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for(out / "shard-*.parquet", 1, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    m = manifest(out)
    assert m["complete"] is False and m["counts"]["pending"] >= 4
    done_first = len(list(out.glob("shard-*.parquet")))
    assert 1 <= done_first < 3
    # 2: SIGKILL (no clean-up at all) after one more shard.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(out / "shard-*.parquet", done_first + 1, proc)
    proc.kill()
    proc.communicate(timeout=60)
    finished = list(out.glob("shard-*.parquet"))
    for path in finished:  # every file with a final name is whole
        assert pq.read_metadata(path).num_rows == 4
    # 3: finish.
    code, stdout, err = cli(NEKOBI, *REF_ARGS, "--workers", "2", "--out", out)
    assert code == 0, err
    assert f"({len(finished)} reused, {3 - len(finished)} written)" in stdout, stdout
    assert manifest(out)["complete"] is True
    assert not list(out.glob(".shard-*"))
    same_dataset(reference, out)
    # Another plugin setting in the same folder is refused; --no-resume starts over.
    code, _, err = cli(NEKOBI, *REF_ARGS, "--block-size", "256", "--out", out)
    assert code == 2 and "--no-resume" in err, err


# ------------------------------------------------------------------------------------------ Ray


def test_ray_backend(reference: Path, tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        address = ray.get_runtime_context().gcs_address
        out = tmp_path / "data"
        env = _env(NEURALSYNTH_RENDER_CRASH_ONCE="2")
        proc = subprocess.run(
            [sys.executable, "-m", "neuralsynth", "render", str(NEKOBI), *REF_ARGS, "--workers", "2",
             "--ray", address, "--out", str(out)],
            capture_output=True, text=True, env=env, timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        m = manifest(out)
        assert m["last_run"]["backend"] == "ray" and m["last_run"]["worker_crashes"] == 1
        same_dataset(reference, out)
    finally:
        ray.shutdown()


# ------------------------------------------------------------------------------------------ bench


def test_bench_workers_smoke() -> None:
    from neuralsynth.render.bench import bench_workers

    result = bench_workers(str(NEKOBI), jobs=8, workers=(1, 2), duration=0.25, features=False, rounds=1, log=None)
    assert set(result["renders_per_second"]) == {1, 2}
    assert all(v > 0 for v in result["renders_per_second"].values())
    assert result["speedup"] == pytest.approx(result["renders_per_second"][2] / result["renders_per_second"][1])
