"""`neuralsynth bench` prints figures (it is a command, not a timed test: nothing here asserts a speed)."""

from __future__ import annotations

import json

from conftest import NAM_DIR
from neuralsynth.bench import main, standard_suite


def test_bench_reports_every_figure_for_a_model_file(capsys) -> None:  # noqa: ANN001
    assert main(models=[str(NAM_DIR / "wavenet.nam")], block_size=64, seconds=0.01, as_json=True) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["block_size"] == 64 and report["sgemm_gflops"] > 0
    (m,) = report["models"]
    assert m["architecture"] == "WaveNet" and m["weights"] == 131
    assert m["ns_per_sample"] > 0 and m["realtime_factor"] > 0
    assert abs(m["realtime_factor"] - 1e9 / 48000 / m["ns_per_sample"]) < 1e-6 * m["realtime_factor"]
    assert 0 < m["sgemm_share"] < 10


def test_standard_suite_has_the_models_the_issue_names() -> None:
    names = [name for name, _ in standard_suite()]
    assert names == [
        "nam-wavenet-standard",
        "nam-wavenet-lite",
        "nam-wavenet-feather",
        "nam-wavenet-nano",
        "lstm-8",
        "lstm-16",
        "lstm-24",
        "lstm-32",
        "gru-8",
        "gru-16",
        "gru-32",
    ]
