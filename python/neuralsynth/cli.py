"""The ``neuralsynth`` command line.

::

    neuralsynth info MODEL [--engine cpp|numpy] [--json]
    neuralsynth process MODEL IN OUT [--block-size N] [--engine cpp|numpy] [--resample]
                        [--controls V1,V2,...]
    neuralsynth bench [MODEL ...] [--block-size 64] [--seconds S] [--json]

Errors the program anticipates (bad model or audio files, wrong sample rate, ...) are
printed as ``neuralsynth: error: <message>`` on stderr with exit status 2, without a
traceback. Set the environment variable ``NEURALSYNTH_TRACEBACK=1`` to see the
traceback of an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from neuralsynth.errors import ModelError, NeuralSynthError

__all__ = ["main"]

PROG = "neuralsynth"
ENGINES = ("cpp", "numpy")
DEFAULT_ENGINE = "cpp"
DEFAULT_PROCESS_BLOCK = 4096
DEFAULT_BENCH_BLOCK = 64
METADATA_FIELDS = (
    "name",
    "modeled_by",
    "gear_make",
    "gear_model",
    "gear_type",
    "tone_type",
    "loudness",
)


# --------------------------------------------------------------------------- helpers


def _note(message: str) -> None:
    print(f"{PROG}: note: {message}", file=sys.stderr)


def _fmt_rate(rate: float) -> str:
    """48000.0 -> '48000', 44100.5 -> '44100.5'."""
    return f"{rate:.0f}" if float(rate).is_integer() else f"{rate:g}"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _control_list(text: str) -> list[float]:
    values: list[float] = []
    for part in text.split(","):
        item = part.strip()
        try:
            value = float(item)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated numbers such as 0.5,1, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"control values must be finite, got {item!r}"
            )
        values.append(value)
    return values


def _load_model(engine: str, path: str) -> Any:
    """Load ``path`` with the chosen engine ("cpp" or "numpy")."""
    if not os.path.exists(path):
        raise ModelError(f"{path}: no such model file")
    if os.path.isdir(path):
        raise ModelError(f"{path}: is a directory, not a model file")
    if engine == "numpy":
        try:
            from neuralsynth import reference
        except ImportError as exc:
            raise NeuralSynthError(
                f"the numpy reference engine is not available ({exc})"
            ) from exc
        return reference.load_model(path)

    try:
        import neuralsynth

        loader = getattr(neuralsynth, "load_model", None)
        if loader is None:
            from neuralsynth.model import load_model as loader
        return loader(path)
    except ImportError as exc:  # the C++ bridge is not built or does not load
        raise NeuralSynthError(
            f"the C++ engine is not available ({exc}); build the bridge or pass "
            "--engine numpy"
        ) from exc


def _read_nam_json(path: str) -> dict[str, Any]:
    """The top-level JSON object of a .nam file ({} if it cannot be read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _input_names(num_inputs: int) -> list[str]:
    return ["audio"] + [f"control {i}" for i in range(1, num_inputs)]


# --------------------------------------------------------------------------- info


def _model_info(model: Any, path: str, engine: str) -> dict[str, Any]:
    rate = float(model.sample_rate)
    receptive = model.receptive_field
    macs = getattr(model, "macs_per_sample", None)
    info: dict[str, Any] = {
        "file": path,
        "engine": engine,
        "engine_version": getattr(model, "version", None),
        "format": model.format,
        "architecture": model.architecture,
        "nam_version": None,
        "num_weights": int(model.num_weights),
        "receptive_field": None if receptive is None else int(receptive),
        "receptive_field_ms": None if receptive is None else 1000.0 * receptive / rate,
        "recurrent": receptive is None,
        "latency": int(getattr(model, "latency", 0) or 0),
        "sample_rate": rate,
        "sample_rate_known": bool(model.sample_rate_known),
        "num_inputs": int(model.num_inputs),
        "inputs": _input_names(int(model.num_inputs)),
        "num_outputs": int(model.num_outputs),
        "macs_per_sample": None if macs is None else int(macs),
        "metadata": {},
    }
    if model.format == "nam":
        doc = _read_nam_json(path)
        version = doc.get("version")
        info["nam_version"] = None if version is None else str(version)
        meta = doc.get("metadata")
        if isinstance(meta, dict):
            info["metadata"] = {
                key: meta[key] for key in METADATA_FIELDS if meta.get(key) is not None
            }
    return info


def _print_info(info: dict[str, Any]) -> None:
    rows: list[tuple[str, str]] = [("file", info["file"])]
    engine = info["engine"]
    if info["engine_version"]:
        engine += f" ({info['engine_version']})"
    rows.append(("engine", engine))
    rows.append(("format", info["format"]))
    rows.append(("architecture", info["architecture"]))
    if info["nam_version"] is not None:
        rows.append(("NAM version", info["nam_version"]))
    rows.append(("weights", f"{info['num_weights']:,}"))
    rate_text = _fmt_rate(info["sample_rate"])
    if info["receptive_field"] is None:
        rows.append(("receptive field", "recurrent (unbounded)"))
    else:
        rows.append(
            (
                "receptive field",
                (
                    f"{info['receptive_field']} samples "
                    f"({info['receptive_field_ms']:.2f} ms at {rate_text} Hz)"
                ),
            )
        )
    rows.append(("latency", f"{info['latency']} samples"))
    rate_row = f"{rate_text} Hz"
    if not info["sample_rate_known"]:
        rate_row += " (not stated in the file; assumed)"
    rows.append(("sample rate", rate_row))
    rows.append(("inputs", f"{info['num_inputs']} ({', '.join(info['inputs'])})"))
    rows.append(("outputs", str(info["num_outputs"])))
    if info["macs_per_sample"] is not None:
        rows.append(("MACs per sample", f"{info['macs_per_sample']:,}"))
    for key, value in info["metadata"].items():
        if key == "loudness" and isinstance(value, (int, float)):
            text = f"{value:.2f} dB"
        else:
            text = str(value)
        rows.append((key, text))
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"{label + ':':<{width + 1}} {text}")


def _cmd_info(args: argparse.Namespace) -> int:
    model = _load_model(args.engine, args.model)
    info = _model_info(model, args.model, args.engine)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_info(info)
    return 0


# --------------------------------------------------------------------------- process


def _run_channel(
    model: Any, audio: np.ndarray, controls: Sequence[float], block_size: int
) -> np.ndarray:
    """Process one channel from a fresh state; returns (num_outputs, frames) float32."""
    frames = audio.shape[0]
    num_inputs = int(model.num_inputs)
    num_outputs = int(model.num_outputs)
    if num_inputs == 1:
        x: np.ndarray = np.ascontiguousarray(audio, dtype=np.float32)
    else:
        x = np.empty((num_inputs, frames), dtype=np.float32)
        x[0] = audio
        for row, value in enumerate(controls, start=1):
            x[row] = value
    out = np.empty((num_outputs, frames), dtype=np.float32)
    model.reset()
    for start in range(0, frames, block_size):
        stop = min(start + block_size, frames)
        block = (
            x[start:stop] if num_inputs == 1 else np.ascontiguousarray(x[:, start:stop])
        )
        y = np.asarray(model.process(block), dtype=np.float32)
        expected = (stop - start,) if num_outputs == 1 else (num_outputs, stop - start)
        if y.shape != expected:
            raise ModelError(
                f"the model returned an array of shape {y.shape} for a block of "
                f"{stop - start} samples; expected {expected}"
            )
        out[:, start:stop] = y
    return out


def _fit_length(x: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad axis 0 of ``x`` to ``frames``."""
    if x.shape[0] >= frames:
        return x[:frames]
    pad = np.zeros((frames - x.shape[0],) + x.shape[1:], dtype=x.dtype)
    return np.concatenate([x, pad], axis=0)


def _cmd_process(args: argparse.Namespace) -> int:
    from neuralsynth import audio_io
    from neuralsynth.errors import AudioError

    # Fail on a bad output name before any expensive work.
    audio_io.check_output_path(args.output)
    model = _load_model(args.engine, args.model)
    num_inputs = int(model.num_inputs)
    num_outputs = int(model.num_outputs)

    n_controls = num_inputs - 1
    if args.controls is None:
        controls = [0.0] * n_controls
        if n_controls:
            _note(
                f"the model has {n_controls} control input(s); holding them at 0.0 "
                "(set them with --controls)"
            )
    else:
        controls = list(args.controls)
        if len(controls) != n_controls:
            if n_controls == 0:
                raise ModelError(
                    f"{args.model} takes audio only and no control inputs, but "
                    f"--controls gives {len(controls)} value(s)"
                )
            raise ModelError(
                f"{args.model} has {n_controls} control input(s), but --controls gives "
                f"{len(controls)} value(s)"
            )

    data, file_rate = audio_io.read_audio(args.input)
    input_frames = data.shape[0]
    model_rate = float(model.sample_rate)
    rate_note = (
        ""
        if model.sample_rate_known
        else " (assumed; the model file does not state it)"
    )
    out_rate = model_rate if file_rate is None else file_rate
    resampled = False
    if file_rate is not None and not math.isclose(file_rate, model_rate, rel_tol=1e-9):
        if not args.resample:
            raise AudioError(
                f"{args.input} is {_fmt_rate(file_rate)} Hz but the model runs at "
                f"{_fmt_rate(model_rate)} Hz{rate_note}; pass --resample to convert with "
                f"soxr (the output is written at {_fmt_rate(file_rate)} Hz)"
            )
        data = audio_io.resample(data, file_rate, model_rate)
        resampled = True

    frames, channels = data.shape
    if frames == 0:
        raise AudioError(
            f"{args.input}: too short to resample to {_fmt_rate(model_rate)} Hz"
        )
    result = np.empty((frames, channels * num_outputs), dtype=np.float32)
    started = time.perf_counter()
    for ch in range(channels):
        y = _run_channel(model, data[:, ch], controls, args.block_size)
        result[:, ch * num_outputs : (ch + 1) * num_outputs] = y.T
    elapsed = time.perf_counter() - started

    if resampled:
        assert file_rate is not None
        back = audio_io.resample(result, model_rate, file_rate)
        result = _fit_length(np.asarray(back, dtype=np.float32), input_frames)
    if num_outputs > 1:
        _note(
            f"the model has {num_outputs} outputs; the output file has "
            f"{channels * num_outputs} channels (outputs of input channel 1 first)"
        )
    audio_io.write_audio(args.output, result, out_rate)

    # Real-time factor: processing time / duration of the audio (< 1 = faster than real time).
    rtf = elapsed * model_rate / frames
    speed = f" ({1 / rtf:.1f}x real time)" if rtf > 0 else ""
    via = f" (processed at {_fmt_rate(model_rate)} Hz)" if resampled else ""
    plural = "s" if channels != 1 else ""
    print(
        f"{args.output}: {result.shape[0]} samples x {channels} channel{plural}, "
        f"{result.shape[0] / out_rate:.3f} s at {_fmt_rate(out_rate)} Hz{via}; "
        f"{args.engine} engine, {elapsed:.3f} s, real-time factor {rtf:.4f}{speed}"
    )
    return 0


# --------------------------------------------------------------------------- bench


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.render:
        from neuralsynth.render.bench import bench_workers

        result = bench_workers(args.render, jobs=args.render_jobs, workers=(1, 2),
                               log=None if args.json else print)
        if args.json:
            print(json.dumps(result, indent=2))
        return 0
    try:
        from neuralsynth.bench import main as bench_main
    except ModuleNotFoundError as exc:
        if exc.name not in ("neuralsynth.bench",):
            raise
        raise NeuralSynthError(
            "the benchmark module neuralsynth.bench is not available"
        ) from exc
    kwargs: dict[str, Any] = {}
    if args.seconds is not None:  # otherwise the benchmark's own default applies
        kwargs["seconds"] = args.seconds
    if args.plugin:
        kwargs["plugin"] = args.plugin
    result = bench_main(
        models=args.models, block_size=args.block_size, as_json=args.json, **kwargs
    )
    return int(result or 0)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neuralsynth`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run neural amp / effect models (NAM, RTNeural) on audio files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p_info = sub.add_parser("info", help="describe a model file")
    p_info.add_argument(
        "model", metavar="MODEL", help=".nam or RTNeural .json model file"
    )
    p_info.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULT_ENGINE,
        help=f"inference engine used to load the model (default: {DEFAULT_ENGINE})",
    )
    p_info.add_argument("--json", action="store_true", help="print one JSON object")
    p_info.set_defaults(func=_cmd_info)

    p_proc = sub.add_parser(
        "process",
        help="run a model on an audio file",
        description=(
            "Run MODEL on IN and write OUT. Reads .wav .flac .ogg .aiff .npy; writes .wav "
            "(32-bit float), .flac (24-bit) or .npy (float32). Each channel is processed "
            "independently from a reset model."
        ),
    )
    p_proc.add_argument(
        "model", metavar="MODEL", help=".nam or RTNeural .json model file"
    )
    p_proc.add_argument("input", metavar="IN", help="input audio file")
    p_proc.add_argument(
        "output", metavar="OUT", help="output audio file (replaced atomically)"
    )
    p_proc.add_argument(
        "--block-size",
        type=_positive_int,
        default=DEFAULT_PROCESS_BLOCK,
        metavar="N",
        help=f"samples per process call (default: {DEFAULT_PROCESS_BLOCK})",
    )
    p_proc.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULT_ENGINE,
        help=f"inference engine (default: {DEFAULT_ENGINE})",
    )
    p_proc.add_argument(
        "--resample",
        action="store_true",
        help="if IN's sample rate differs from the model's, resample with soxr to the "
        "model rate and back (otherwise that is an error)",
    )
    p_proc.add_argument(
        "--controls",
        type=_control_list,
        metavar="V1,V2,...",
        help="constant values of the model's control inputs (default: all 0.0); "
        "write --controls=-0.5,1 for a leading negative value",
    )
    p_proc.set_defaults(func=_cmd_process)

    p_bench = sub.add_parser("bench", help="measure inference speed")
    p_bench.add_argument("models", metavar="MODEL", nargs="*", help="model files")
    p_bench.add_argument(
        "--block-size",
        type=_positive_int,
        default=DEFAULT_BENCH_BLOCK,
        metavar="N",
        help=f"samples per process call (default: {DEFAULT_BENCH_BLOCK})",
    )
    p_bench.add_argument(
        "--seconds",
        type=_positive_float,
        default=None,
        metavar="S",
        help="seconds of audio to process per model",
    )
    p_bench.add_argument("--json", action="store_true", help="print JSON")
    p_bench.add_argument(
        "--plugin",
        metavar="PLUGIN",
        help="also time this built VST3 in pedalboard against the bare core on MODEL (one MODEL)",
    )
    p_bench.add_argument(
        "--render",
        metavar="PLUGIN",
        help="instead: dataset rendering throughput of an instrument with 1 and 2 worker processes, and the ratio",
    )
    p_bench.add_argument("--render-jobs", type=_positive_int, default=48, help="renders per timing (default: 48)")
    p_bench.set_defaults(func=_cmd_bench)

    from neuralsynth.plugin_cli import add_parsers
    from neuralsynth.preset_cli import add_parsers as add_preset_parsers

    add_parsers(sub)
    add_preset_parsers(sub)
    try:
        from neuralsynth.render_cli import add_parsers as add_render_parsers
    except ImportError:  # pragma: no cover - the render extra is not installed
        pass
    else:
        add_render_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    try:
        return int(args.func(args))
    except NeuralSynthError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"{PROG}: error: out of memory", file=sys.stderr)
        return 1
    except Exception as exc:
        if os.environ.get("NEURALSYNTH_TRACEBACK"):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            "(set NEURALSYNTH_TRACEBACK=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
