"""The trained network as ``predictor.onnx`` plus ``predictor.json``: what ``predict`` needs, without torch.

``predictor.json`` is the contract between the two:
- ``plugin``: the dataset manifest's plugin record (name, format, sha256, VST2 unique id), checked on use;
- ``parameters``: every plugin parameter in plugin order with its kind (continuous, discrete with its steps,
  or fixed with its value) and where its output is (``mean`` column, or ``probs`` offset);
- ``features`` and ``render``: the dataset's feature and render settings (the sound is analysed, and candidates
  rendered, exactly as the training rows were); ``frames`` and ``num_samples`` of the input;
- ``normalisation``: the per-band log-mel mean and standard deviation applied before the network (in numpy,
  by :mod:`.predictor`; not inside the graph).
The export is checked: torch and onnxruntime on the same inputs must agree within 1e-5.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..render.manifest import write_json_atomic
from .inputs import Normalisation
from .params import CONTINUOUS, DISCRETE, ParamSpec

FORMAT = "neuralsynth-predictor"
VERSION = 1
TOLERANCE = 1e-5
INPUT_NAMES = ("mel", "aux", "cond")
OUTPUT_NAMES = ("continuous_mean", "continuous_sigma", "discrete_probs")


def output_layout(specs: list[ParamSpec]) -> list[dict[str, Any]]:
    cont = disc = 0
    out = []
    for s in specs:
        d = s.to_dict()
        if s.kind == CONTINUOUS:
            d["column"] = cont
            cont += 1
        elif s.kind == DISCRETE:
            d["offset"] = disc
            disc += int(s.steps or 0)
        out.append(d)
    return out


def run_onnx(path: str | Path, inputs: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return sess.run(list(OUTPUT_NAMES), dict(zip(INPUT_NAMES, inputs, strict=True)))


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """The dynamo exporter logs about optional packages (torchvision) and deprecations; keep the console clean."""
    names = ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def export_model(model: Any, out: Path, manifest: dict[str, Any], specs: list[ParamSpec], norm: Normalisation,
                 frames: int, sample: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """Write predictor.onnx and predictor.json; return the torch-vs-onnxruntime check."""
    import torch

    model.eval()
    args = tuple(torch.from_numpy(a) for a in sample)
    onnx_path = out / "predictor.onnx"
    tmp = out / f".predictor.onnx.tmp-{os.getpid()}"
    try:
        batch = torch.export.Dim("batch", min=1, max=4096)
        with _quiet_exporter():
            torch.onnx.export(model, args, str(tmp), input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
                              dynamic_shapes=({0: batch}, {0: batch}, {0: batch}), dynamo=True,
                              external_data=False, verbose=False)
        with torch.no_grad():
            ref = [t.numpy() for t in model(*args)]
        got = run_onnx(tmp, sample)
        diffs = [float(np.max(np.abs(a - b))) if a.size else 0.0 for a, b in zip(ref, got, strict=True)]
        check = {"max_abs_diff": max(diffs), "per_output": dict(zip(OUTPUT_NAMES, diffs, strict=True)),
                 "rows": int(sample[0].shape[0]), "tolerance": TOLERANCE}
        if not max(diffs) <= TOLERANCE:
            raise RuntimeError(f"the ONNX export differs from torch by {max(diffs):.3g} (> {TOLERANCE}); "
                               "not written")
        os.replace(tmp, onnx_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    render = manifest["render"]
    doc = {
        "format": FORMAT, "format_version": VERSION, "arch": model.arch,
        "plugin": manifest["plugin"],
        "parameters": output_layout(specs),
        "features": manifest["features"],
        "render": render,
        "audio": {"sample_rate": int(manifest["audio"]["sample_rate"]),
                  "num_samples": int(manifest["audio"]["num_samples"])},
        "input": {"frames": int(frames), "n_mels": int(norm.mel_mean.size),
                  "aux": ["log2(f0 / note_hz), 0 unvoiced", "f0_confidence", "(loudness_db + 40) / 40"],
                  "cond": "(note - 60) / 24"},
        "normalisation": norm.to_dict(),
        "outputs": {"mean": int(sum(s.kind == CONTINUOUS for s in specs)),
                    "probs": int(sum(int(s.steps or 0) for s in specs if s.kind == DISCRETE))},
        "export_check": check,
    }
    write_json_atomic(out / "predictor.json", json.loads(json.dumps(doc, default=float)))
    return check
