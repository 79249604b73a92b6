"""``Predictor.load("model/").predict(audio, sr)``: a synth's parameters from a sound, with onnxruntime.

```python
from neuralsynth.inverse import Predictor
p = Predictor.load("model/")
guess = p.predict(audio, 48000)          # any rate, mono or (channels, n)
guess.params                             # (P,) normalized 0..1, plugin order: what an .fxp stores
guess.note, guess.f0_hz                  # the played note found in the sound (render the preset there)
guess.candidates(8)                      # the 8 most likely parameter vectors (best first)
```
No torch is needed; the network runs on one thread (``threads=`` to change).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NeuralSynthError
from .export import FORMAT, INPUT_NAMES, OUTPUT_NAMES, VERSION
from .inputs import (
    Normalisation,
    aux_input,
    cond_input,
    detect_note,
    feature_settings,
    mel_input,
    prepare_audio,
    sound_features,
)
from .params import CONTINUOUS, DISCRETE, FIXED, ParamSpec

MODEL_FILES = ("predictor.onnx", "predictor.json")


class ModelDirError(NeuralSynthError, ValueError):
    """A model folder that is missing files, is not a predictor's, or belongs to another plugin."""


@dataclass
class ParameterGuess:
    """The network's guess for one sound."""

    params: np.ndarray  # (P,) the most likely vector (continuous: mean; discrete: the likeliest class)
    names: list[str]
    note: int  # the note to render at (from the sound's pitch)
    f0_hz: float | None
    velocity: int
    seconds_network: float
    seconds_features: float
    specs: list[ParamSpec] = field(repr=False)
    mean: np.ndarray = field(repr=False)  # (C,)
    sigma: np.ndarray = field(repr=False)  # (C,)
    probs: list[np.ndarray] = field(repr=False)  # per discrete parameter

    def candidates(self, k: int, seed: int = 0) -> list[np.ndarray]:
        """``k`` parameter vectors, best first (see :func:`.candidates.top_candidates`)."""
        from .candidates import top_candidates

        return top_candidates(self, k, seed)

    def to_dict(self) -> dict[str, Any]:
        return {"note": self.note, "velocity": self.velocity, "f0_hz": self.f0_hz,
                "parameters": {n: float(v) for n, v in zip(self.names, self.params, strict=True)},
                "seconds_network": self.seconds_network, "seconds_features": self.seconds_features}


class Predictor:
    def __init__(self, folder: Path, doc: dict[str, Any], threads: int = 1) -> None:
        import onnxruntime as ort

        self.folder, self.doc = folder, doc
        self.specs = [ParamSpec.from_dict(p) for p in doc["parameters"]]
        self.layout = doc["parameters"]
        self.norm = Normalisation.from_dict(doc["normalisation"])
        self.features = feature_settings(doc["features"])
        self.sample_rate = int(doc["audio"]["sample_rate"])
        self.num_samples = int(doc["audio"]["num_samples"])
        self.notes = [int(n) for n in doc["render"]["notes"]]
        self.velocity = int(doc["render"]["velocities"][0])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / "predictor.onnx"), opts,
                                            providers=["CPUExecutionProvider"])

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    @property
    def plugin(self) -> dict[str, Any]:
        return self.doc["plugin"]

    @staticmethod
    def load(folder: str | Path, threads: int = 1) -> Predictor:
        path = Path(folder)
        if not path.is_dir():
            raise ModelDirError(f"{path}: not a folder; expected the --out folder of `neuralsynth train`")
        missing = [f for f in MODEL_FILES if not (path / f).is_file()]
        if missing:
            raise ModelDirError(f"{path}: missing {', '.join(missing)}; train (or export) into it first")
        try:
            doc = json.loads((path / "predictor.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelDirError(f"{path / 'predictor.json'}: not valid JSON ({exc})") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ModelDirError(f"{path / 'predictor.json'}: not a neuralsynth predictor description")
        if int(doc.get("format_version", 0)) > VERSION:
            raise ModelDirError(f"{path}: predictor format {doc.get('format_version')} is newer than this "
                                f"neuralsynth reads ({VERSION}); upgrade neuralsynth")
        try:
            return Predictor(path, doc, threads)
        except Exception as exc:
            if isinstance(exc, ModelDirError):
                raise
            raise ModelDirError(f"{path / 'predictor.onnx'}: onnxruntime could not load it ({exc})") from exc

    def check_plugin(self, plugin_path: str | Path) -> None:
        """Raise ModelDirError when ``plugin_path`` is not the plugin the model was trained on."""
        from ..plugins.files import PluginFile

        rec = self.plugin
        pf = PluginFile.of(str(plugin_path))
        want_id = rec.get("vst2", {}).get("unique_id") if isinstance(rec.get("vst2"), dict) else None
        if pf.format == "vst2" and want_id is not None:
            from ..presets.vst2_probe import vst2_info

            info = vst2_info(str(plugin_path))
            if int(info["unique_id"]) != int(want_id):
                raise ModelDirError(
                    f"{plugin_path}: plugin id {info.get('unique_id_text')!r} ({info['unique_id']}); the model "
                    f"was trained on {rec['vst2'].get('unique_id_text')!r} ({want_id}), {rec.get('name')!r}")
        elif Path(str(plugin_path)).stem.removeprefix("lib") != str(rec.get("name")):
            raise ModelDirError(f"{plugin_path}: not the plugin the model was trained on ({rec.get('name')!r}, "
                                f"{rec.get('format')})")

    def inputs_of(self, audio: np.ndarray, sample_rate: float, note: int | None = None, what: str = "audio"
                  ) -> tuple[tuple[np.ndarray, ...], int, float | None, float, np.ndarray]:
        """(network inputs, note, f0, seconds, prepared audio) of one sound."""
        t0 = time.perf_counter()
        x = prepare_audio(audio, sample_rate, self.sample_rate, self.num_samples, what)
        f = sound_features(x, self.features)
        f0 = None
        if note is None:
            note, f0 = detect_note(f["f0_hz"], f["f0_confidence"], self.notes[0])
        inputs = (mel_input(f["log_mel"][None], self.norm),
                  aux_input(f["f0_hz"][None], f["f0_confidence"][None], f["loudness_db"][None], np.array([note])),
                  cond_input(np.array([note])))
        return inputs, int(note), f0, time.perf_counter() - t0, x

    def run(self, inputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mean, sigma, probs = self.session.run(list(OUTPUT_NAMES), dict(zip(INPUT_NAMES, inputs, strict=True)))
        return mean, sigma, probs

    def guess_from(self, mean: np.ndarray, sigma: np.ndarray, probs: np.ndarray, note: int, f0: float | None,
                   seconds_network: float, seconds_features: float) -> ParameterGuess:
        params = np.zeros(len(self.specs), np.float64)
        per_class = []
        for s, lay in zip(self.specs, self.layout, strict=True):
            if s.kind == CONTINUOUS:
                params[s.index] = float(mean[lay["column"]])
            elif s.kind == DISCRETE:
                p = probs[lay["offset"]: lay["offset"] + int(s.steps or 0)]
                per_class.append(np.asarray(p, np.float64))
                params[s.index] = int(np.argmax(p)) / (int(s.steps or 2) - 1)
            elif s.kind == FIXED:
                params[s.index] = float(s.value or 0.0)
        return ParameterGuess(params, self.names, note, f0, self.velocity, seconds_network, seconds_features,
                              self.specs, np.asarray(mean, np.float64), np.asarray(sigma, np.float64), per_class)

    def predict(self, audio: np.ndarray, sample_rate: float, note: int | None = None, what: str = "audio"
                ) -> ParameterGuess:
        """The network's guess for one sound (``note``: the played note if known, else found from its pitch)."""
        inputs, note, f0, t_feat, _ = self.inputs_of(audio, sample_rate, note, what)
        t0 = time.perf_counter()
        mean, sigma, probs = self.run(inputs)
        t_net = time.perf_counter() - t0
        return self.guess_from(mean[0], sigma[0], probs[0], note, f0, t_net, t_feat)

    def predict_batch(self, inputs: Sequence[tuple[np.ndarray, ...]], notes: Sequence[int],
                      f0s: Sequence[float | None]) -> list[ParameterGuess]:
        """Guesses for many prepared sounds (``inputs_of``), the network run over them in one batch."""
        if not inputs:
            return []
        batch = tuple(np.concatenate([x[i] for x in inputs]) for i in range(3))
        t0 = time.perf_counter()
        mean, sigma, probs = self.run(batch)
        per = (time.perf_counter() - t0) / len(inputs)
        return [self.guess_from(mean[i], sigma[i], probs[i], notes[i], f0s[i], per, 0.0) for i in range(len(inputs))]
