"""``neuralsynth train DATASET --out MODEL/``: fit the predictor on a rendered dataset, then export it.

What it writes into MODEL/ (each file atomically):
- ``checkpoint.pt``: after every epoch: weights, optimiser, epoch, the best validation weights so far and
  the run's settings; ``--resume`` continues from it (the same dataset and settings are required).
- ``predictor.onnx`` + ``predictor.json``: the export (:mod:`.export`) of the best-validation weights.
- ``training.json``: what it was trained on (dataset folder, its manifest's identity hash, row counts, the
  validation ids' hash), the settings, per-epoch losses and validation errors, time, versions.

Reproducible: the seed fixes the validation split, the initial weights and every epoch's batch order; on the
same machine and thread count two runs give the same weights.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..render.manifest import now_iso, software_versions, write_json_atomic
from .data import Arrays, DatasetError, load_arrays, split_indices
from .inputs import Normalisation, aux_input, cond_input, mel_input
from .params import CONTINUOUS, DISCRETE, ParamSpec, param_specs


@dataclass(frozen=True)
class TrainConfig:
    arch: str = "cnn"
    epochs: int = 30
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.05
    seed: int = 0
    threads: int = 0  # 0: all cores


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - the train extra is missing
        raise DatasetError("training needs PyTorch: pip install 'neuralsynth[train]' "
                           "(on these machines torch==2.13.0 is the CPU wheel)") from exc
    return torch


class Batches:
    """The network's inputs and targets for rows of a dataset."""

    def __init__(self, data: Arrays, specs: list[ParamSpec], norm: Normalisation) -> None:
        self.data, self.norm = data, norm
        self.cont = [s.index for s in specs if s.kind == CONTINUOUS]
        self.disc = [s for s in specs if s.kind == DISCRETE]

    def inputs(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        return (mel_input(d.log_mel[idx], self.norm),
                aux_input(d.f0_hz[idx], d.f0_confidence[idx], d.loudness_db[idx], d.notes[idx]),
                cond_input(d.notes[idx]))

    def targets(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.data.params[idx]
        cont = p[:, self.cont].astype(np.float32)
        cls = np.stack([s.to_class(p[:, s.index]) for s in self.disc], axis=1) if self.disc else \
            np.zeros((len(idx), 0), np.int64)
        return cont, cls


def _digest(items: list[str]) -> str:
    return hashlib.sha256("\n".join(items).encode()).hexdigest()


def _save_atomic(torch: Any, obj: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(obj, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def evaluate_split(torch: Any, model: Any, batches: Batches, idx: np.ndarray, batch_size: int = 256
                   ) -> dict[str, float]:
    """Validation losses, the continuous parameters' MAE and the discrete ones' accuracy."""
    from .network import loss_terms

    model.eval()
    lc = ld = 0.0
    abs_err, correct, n = 0.0, 0.0, 0
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            b = idx[start: start + batch_size]
            mel, aux, cond = (torch.from_numpy(a) for a in batches.inputs(b))
            tc, tk = (torch.from_numpy(a) for a in batches.targets(b))
            c, d = model.raw(mel, aux, cond)
            l1, l2 = loss_terms(model, c, d, tc, tk)
            lc += float(l1) * len(b)
            ld += float(l2) * len(b)
            mean, _, probs = model(mel, aux, cond)
            if mean.shape[1]:
                abs_err += float((mean - tc).abs().mean(dim=1).sum())
            if tk.shape[1]:
                pred = torch.stack([p.argmax(1) for p in model.split_logits(d)], dim=1)
                correct += float((pred == tk).float().mean(dim=1).sum())
            n += len(b)
    return {"loss_continuous": lc / n, "loss_discrete": ld / n,
            "mae_continuous": abs_err / n if batches.cont else float("nan"),
            "accuracy_discrete": correct / n if batches.disc else float("nan")}


def train(dataset: str | Path, out: str | Path, config: TrainConfig, resume: bool = False,
          progress: bool = True, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train, checkpoint every epoch, export the best-validation weights; returns training.json's content."""
    torch = _torch()
    from .export import export_model
    from .network import Predictor, loss_terms

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    t_load = time.perf_counter()
    data = load_arrays(dataset)
    if len(data) < 10:
        raise DatasetError(f"{dataset}: {len(data)} rows are too few to train on")
    train_idx, val_idx = split_indices(len(data), config.val_fraction, config.seed)
    specs = param_specs(data.manifest["parameters"], data.params[train_idx])
    norm = Normalisation.fit(data.log_mel[train_idx])
    batches = Batches(data, specs, norm)
    frames, n_mels = data.log_mel.shape[1], data.log_mel.shape[2]
    run = {"dataset": str(Path(dataset).resolve()), "identity_sha256": data.manifest.get("identity_sha256"),
           "rows": len(data), "config": asdict(config), "val_ids_sha256": _digest([data.ids[i] for i in val_idx])}
    log(f"dataset: {len(data)} rows ({len(train_idx)} train, {len(val_idx)} validation), {frames} frames x "
        f"{n_mels} bands; {len(batches.cont)} continuous, {len(batches.disc)} discrete, "
        f"{sum(s.kind == 'fixed' for s in specs)} fixed parameters (loaded in {time.perf_counter() - t_load:.1f} s)")

    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    torch.manual_seed(config.seed)
    model = Predictor(config.arch, n_mels, frames, len(batches.cont), [s.steps for s in batches.disc])
    opt = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = int(np.ceil(len(train_idx) / config.batch_size))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.learning_rate, epochs=config.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.15)
    history: list[dict[str, Any]] = []
    start_epoch, best, best_state = 0, float("inf"), None
    if resume and ckpt_path.exists():
        ck = torch.load(ckpt_path, weights_only=False)
        if ck["run"] != run:
            diff = [k for k in run if ck["run"].get(k) != run[k]]
            raise DatasetError(f"{ckpt_path}: made by a run with other {', '.join(diff)}; "
                               "train into a new folder or drop --resume")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        sched.load_state_dict(ck["scheduler"])
        start_epoch, best, best_state, history = ck["epoch"], ck["best"], ck["best_state"], ck["history"]
        log(f"resuming after epoch {start_epoch}")
    t0 = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        model.train()
        order = train_idx[np.random.default_rng([config.seed, 2, epoch]).permutation(len(train_idx))]
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=steps_per_epoch, desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch",
                       dynamic_ncols=True, leave=False)
        running, seen = 0.0, 0
        for step in range(steps_per_epoch):
            b = np.sort(order[step * config.batch_size: (step + 1) * config.batch_size])
            mel, aux, cond = (torch.from_numpy(a) for a in batches.inputs(b))
            tc, tk = (torch.from_numpy(a) for a in batches.targets(b))
            c, d = model.raw(mel, aux, cond)
            lc, ld = loss_terms(model, c, d, tc, tk)
            loss = lc + ld
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            running += float(loss.detach()) * len(b)
            seen += len(b)
            if bar is not None:
                bar.set_postfix(loss=f"{running / seen:.4f}")
                bar.update(1)
        if bar is not None:
            bar.close()
        val = evaluate_split(torch, model, batches, val_idx)
        val_loss = val["loss_continuous"] + val["loss_discrete"]
        if val_loss < best:
            best = val_loss
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        elapsed = time.perf_counter() - t0
        done = epoch + 1 - start_epoch
        eta = elapsed / done * (config.epochs - epoch - 1)
        history.append({"epoch": epoch + 1, "train_loss": running / seen, **val, "seconds": elapsed})
        log(f"epoch {epoch + 1}/{config.epochs}: train loss {running / seen:.4f}, validation loss {val_loss:.4f} "
            f"(continuous MAE {val['mae_continuous']:.4f}, discrete accuracy {val['accuracy_discrete']:.3f}); "
            f"{elapsed:.0f} s, ETA {eta:.0f} s")
        _save_atomic(torch, {"run": run, "model": model.state_dict(), "optimizer": opt.state_dict(),
                             "scheduler": sched.state_dict(), "epoch": epoch + 1, "best": best,
                             "best_state": best_state, "history": history}, ckpt_path)
    if best_state is None:
        raise DatasetError(f"{ckpt_path}: no epoch was trained (epochs = {config.epochs})")
    model.load_state_dict(best_state)
    model.eval()
    best_epoch = min(history, key=lambda h: h["loss_continuous"] + h["loss_discrete"])["epoch"]
    check = export_model(model, out, data.manifest, specs, norm, frames,
                         sample=batches.inputs(val_idx[: min(16, len(val_idx))]))
    doc = {"created": now_iso(), **run, "train_rows": int(len(train_idx)), "val_rows": int(len(val_idx)),
           "parameters": [s.to_dict() for s in specs], "history": history, "best_epoch": best_epoch,
           "seconds": time.perf_counter() - t0, "export_check": check, "versions": software_versions()}
    import torch as _t

    doc["versions"]["torch"] = _t.__version__
    write_json_atomic(out / "training.json", json.loads(json.dumps(doc, default=float)))
    log(f"exported {out / 'predictor.onnx'} (best epoch {best_epoch}); torch vs onnxruntime max |diff| "
        f"{check['max_abs_diff']:.2e}")
    return doc
