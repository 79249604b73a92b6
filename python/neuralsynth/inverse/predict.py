"""``neuralsynth predict MODEL/ sound.wav --out guess.fxp``: a preset for a plugin, from a sound.

1. The network's guess (:class:`.predictor.Predictor`): the sound resampled to the dataset's rate (soxr),
   trimmed or padded to its duration, analysed as the training rows were; the played note found from its
   pitch, so the preset is rendered in tune.
2. Candidates (``--candidates K``, default 8; 1 = the network alone): the K most likely vectors
   (:mod:`.candidates`) rendered through the real plugin in DawDreamer (render workers that survive a
   plugin crash: a crashing candidate is reported and skipped), and the one nearest the sound in
   multi-scale spectral distance kept. The workers start while the network runs.
3. ``--refine STEPS``: derivative-free search from the best candidate on the same rendered distance
   (CMA-ES, :mod:`.refine`), at most STEPS generations and ``--refine-seconds``.
4. The result as an ``.fxp`` that loads in the plugin, and its parameters as JSON.
The network's time and the whole time are measured and reported.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NeuralSynthError
from .metrics import multiscale_spectral_distance
from .params import kinds_for_metrics
from .predictor import ParameterGuess, Predictor

DEFAULT_CANDIDATES = 8


class PredictError(NeuralSynthError):
    """Every candidate failed to render, or the plugin is not the model's."""


@dataclass
class Prediction:
    params: np.ndarray
    names: list[str]
    note: int
    velocity: int
    f0_hz: float | None
    distance: float | None  # multi-scale spectral distance of the chosen preset's render (None: not rendered)
    network_distance: float | None  # ... of the network's own guess
    chosen: str  # "network", "candidate 3", "refined"
    seconds_network: float
    seconds_total: float
    seconds_render_start: float | None = None
    renders: int = 0
    failures: list[str] = field(default_factory=list)
    refine: dict[str, Any] | None = None
    audio: np.ndarray | None = field(default=None, repr=False)  # the chosen preset's render

    def to_dict(self) -> dict[str, Any]:
        return {"note": self.note, "velocity": self.velocity, "f0_hz": self.f0_hz, "chosen": self.chosen,
                "distance": self.distance, "network_distance": self.network_distance,
                "seconds_network": self.seconds_network, "seconds_total": self.seconds_total,
                "seconds_render_start": self.seconds_render_start, "renders": self.renders,
                "failures": self.failures, "refine": self.refine,
                "parameters": {n: float(v) for n, v in zip(self.names, self.params, strict=True)}}


def _distance(target: np.ndarray, audio: np.ndarray | None, rate: int) -> float:
    if audio is None:
        return float("inf")
    return float(multiscale_spectral_distance(target, audio, rate))


class Session:
    """A predictor and a running candidate renderer for its plugin, reused over many sounds."""

    def __init__(self, predictor: Predictor, plugin: str, workers: int = 1, job_timeout: float = 60.0) -> None:
        from .rendering import CandidateRenderer, settings_from_manifest

        predictor.check_plugin(plugin)
        self.predictor = predictor
        self.rate = predictor.sample_rate
        self.renderer = CandidateRenderer(plugin, settings_from_manifest({"render": predictor.doc["render"]}),
                                          workers=workers, job_timeout=job_timeout)
        self.renderer.start(wait=False)

    def close(self) -> None:
        self.renderer.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self, vectors: list[np.ndarray], note: int, velocity: int) -> list[Any]:
        n = len(self.predictor.specs)
        return self.renderer.render([v[:n] for v in vectors], note, velocity)

    def choose(self, guess: ParameterGuess, target: np.ndarray, candidates: int, refine_steps: int = 0,
               refine_seconds: float | None = None, seed: int = 0, t_start: float | None = None) -> Prediction:
        """Render the guess's candidates (and refine) against ``target`` (mono at the dataset's rate)."""
        t_start = time.perf_counter() if t_start is None else t_start
        vectors = guess.candidates(candidates, seed)
        results = self.render(vectors, guess.note, guess.velocity)
        failures = [f"candidate {i + 1}: {r.error}" for i, r in enumerate(results) if not r.ok]
        dists = [_distance(target, r.audio, self.rate) for r in results]
        if not np.isfinite(dists).any():
            raise PredictError("every candidate failed to render: " + "; ".join(failures))
        best = int(np.argmin(dists))
        params, dist, audio = vectors[best], dists[best], results[best].audio
        chosen = "network" if best == 0 else f"candidate {best + 1}"
        renders = len(vectors)
        refine_doc = None
        if refine_steps > 0:
            from .refine import refine

            def evaluate(batch: list[np.ndarray]) -> list[float]:
                out = self.render(batch, guess.note, guess.velocity)
                return [_distance(target, r.audio, self.rate) for r in out]

            res = refine(evaluate, params, kinds_for_metrics(self.predictor.specs), refine_steps, refine_seconds,
                         seed=seed, frozen=[s.index for s in self.predictor.specs if s.kind == "fixed"],
                         batch_size=max(2, 2 * self.renderer.workers) * 2)
            renders += res.evaluations
            refine_doc = {"distance_before": dist, "distance_after": res.distance, "evaluations": res.evaluations,
                          "seconds": res.seconds, "stopped": res.stopped}
            if res.distance < dist:
                params, dist, chosen = res.x, res.distance, "refined"
                audio = self.render([params], guess.note, guess.velocity)[0].audio
                renders += 1
        return Prediction(np.asarray(params, np.float64), guess.names, guess.note, guess.velocity, guess.f0_hz,
                          dist, dists[0] if np.isfinite(dists[0]) else None, chosen, guess.seconds_network,
                          time.perf_counter() - t_start, self.renderer.start_seconds, renders, failures, refine_doc,
                          audio)


def predict_file(model: str | Path, audio_path: str | Path, plugin: str | None, out: str | Path | None,
                 candidates: int = DEFAULT_CANDIDATES, refine_steps: int = 0, refine_seconds: float | None = None,
                 workers: int = 1, seed: int = 0, json_out: str | Path | None = None) -> Prediction:
    """The whole ``predict`` command: read, guess, render candidates, refine, write .fxp (and JSON)."""
    from ..audio_io import read_audio
    from .inputs import prepare_audio
    from .preset_out import write_guess_fxp

    t0 = time.perf_counter()
    predictor = Predictor.load(model)
    if plugin is None:
        plugin = str(predictor.plugin.get("path", ""))
        if not plugin or not os.path.exists(plugin):
            raise PredictError(f"the plugin the model was trained on ({plugin or '?'}) is not there; pass --plugin")
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
    session = Session(predictor, plugin, workers) if candidates > 1 or refine_steps > 0 or out is not None else None
    try:
        data, rate = read_audio(audio_path)
        if rate is None:
            raise PredictError(f"{audio_path}: a .npy file carries no sample rate; use a WAV/FLAC file")
        guess = predictor.predict(data, rate, what=str(audio_path))
        if session is None:
            pred = Prediction(guess.params, guess.names, guess.note, guess.velocity, guess.f0_hz, None, None,
                              "network", guess.seconds_network, time.perf_counter() - t0)
        else:
            target = prepare_audio(data, rate, predictor.sample_rate, predictor.num_samples, str(audio_path))
            pred = session.choose(guess, target, max(1, candidates), refine_steps, refine_seconds, seed, t0)
    finally:
        if session is not None:
            session.close()
    if out is not None:
        write_guess_fxp(out, plugin, [float(v) for v in pred.params], Path(audio_path).stem[:28] or "guess")
    pred.seconds_total = time.perf_counter() - t0
    if json_out is not None:
        import json

        from ..render.manifest import write_json_atomic

        write_json_atomic(Path(json_out), json.loads(json.dumps(pred.to_dict(), default=float)))
    return pred
