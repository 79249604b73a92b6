"""The model commands::

    neuralsynth info MODEL [--engine cpp|numpy] [--json]
    neuralsynth process MODEL IN OUT [--block-size N] [--engine cpp|numpy] [--resample]
                        [--controls V1,V2,...]
    neuralsynth bench [MODEL ...] [--block-size 64] [--seconds S] [--json] [--plugin PLUGIN]
                      [--render PLUGIN [--render-jobs N]]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..engines import DEFAULT_ENGINE, ENGINES, load_with_engine
from ..errors import AudioError, ModelError, NeuralSynthError
from .errors import note
from .validators import control_list, positive_float, positive_int

__all__ = ["add_parsers"]

DEFAULT_PROCESS_BLOCK = 4096
DEFAULT_BENCH_BLOCK = 64


# --------------------------------------------------------------------------- info


def _print_info(info: dict[str, Any]) -> None:
    from ..processing import format_rate

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
    rate_text = format_rate(info["sample_rate"])
    if info["receptive_field"] is None:
        rows.append(("receptive field", "recurrent (unbounded)"))
    else:
        rows.append((
            "receptive field",
            f"{info['receptive_field']} samples ({info['receptive_field_ms']:.2f} ms at {rate_text} Hz)",
        ))
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
    from ..model_info import model_info

    model = load_with_engine(args.engine, args.model)
    info = model_info(model, args.model, args.engine)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        _print_info(info)
    return 0


# --------------------------------------------------------------------------- process


def _controls(args: argparse.Namespace, num_inputs: int) -> list[float]:
    """The constant values of the model's control inputs: --controls, or 0.0 for each (with a note)."""
    n_controls = num_inputs - 1
    if args.controls is None:
        if n_controls:
            note(f"the model has {n_controls} control input(s); holding them at 0.0 (set them with --controls)")
        return [0.0] * n_controls
    controls = list(args.controls)
    if len(controls) != n_controls:
        if n_controls == 0:
            raise ModelError(
                f"{args.model} takes audio only and no control inputs, but --controls gives {len(controls)} value(s)"
            )
        raise ModelError(
            f"{args.model} has {n_controls} control input(s), but --controls gives {len(controls)} value(s)"
        )
    return controls


def _cmd_process(args: argparse.Namespace) -> int:
    from .. import audio_io
    from ..processing import format_rate, needs_resampling, process_audio

    # Fail on a bad output name before any expensive work.
    audio_io.check_output_path(args.output)
    model = load_with_engine(args.engine, args.model)
    num_outputs = int(model.num_outputs)
    controls = _controls(args, int(model.num_inputs))

    data, file_rate = audio_io.read_audio(args.input)
    model_rate = float(model.sample_rate)
    if needs_resampling(file_rate, model_rate) and not args.resample:
        assert file_rate is not None
        rate_note = "" if model.sample_rate_known else " (assumed; the model file does not state it)"
        raise AudioError(
            f"{args.input} is {format_rate(file_rate)} Hz but the model runs at "
            f"{format_rate(model_rate)} Hz{rate_note}; pass --resample to convert with "
            f"soxr (the output is written at {format_rate(file_rate)} Hz)"
        )
    done = process_audio(model, data, file_rate, controls, args.block_size, name=args.input)
    channels = data.shape[1]
    if num_outputs > 1:
        note(
            f"the model has {num_outputs} outputs; the output file has "
            f"{channels * num_outputs} channels (outputs of input channel 1 first)"
        )
    audio_io.write_audio(args.output, done.audio, done.sample_rate)

    # Real-time factor: processing time / duration of the audio (< 1 = faster than real time).
    rtf = done.seconds * model_rate / done.model_frames
    speed = f" ({1 / rtf:.1f}x real time)" if rtf > 0 else ""
    via = f" (processed at {format_rate(model_rate)} Hz)" if done.resampled else ""
    plural = "s" if channels != 1 else ""
    frames = done.audio.shape[0]
    print(
        f"{args.output}: {frames} samples x {channels} channel{plural}, "
        f"{frames / done.sample_rate:.3f} s at {format_rate(done.sample_rate)} Hz{via}; "
        f"{args.engine} engine, {done.seconds:.3f} s, real-time factor {rtf:.4f}{speed}"
    )
    return 0


# --------------------------------------------------------------------------- bench


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.render:
        from ..render.bench import bench_workers

        result = bench_workers(args.render, jobs=args.render_jobs, workers=(1, 2), log=None if args.json else print)
        if args.json:
            print(json.dumps(result, indent=2))
        return 0
    try:
        from ..bench import main as bench_main
    except ModuleNotFoundError as exc:
        if exc.name not in ("neuralsynth.bench",):
            raise
        raise NeuralSynthError("the benchmark module neuralsynth.bench is not available") from exc
    kwargs: dict[str, Any] = {}
    if args.seconds is not None:  # otherwise the benchmark's own default applies
        kwargs["seconds"] = args.seconds
    if args.plugin:
        kwargs["plugin"] = args.plugin
    result = bench_main(models=args.models, block_size=args.block_size, as_json=args.json, **kwargs)
    return int(result or 0)


# --------------------------------------------------------------------------- parsers


def _add_engine(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE, help=f"{help_text} (default: {DEFAULT_ENGINE})")


def _add_block_size(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument(
        "--block-size", type=positive_int, default=default, metavar="N",
        help=f"samples per process call (default: {default})",
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``info``, ``process`` and ``bench`` to the command line's subparsers."""
    p = sub.add_parser("info", help="describe a model file")
    p.add_argument("model", metavar="MODEL", help=".nam or RTNeural .json model file")
    _add_engine(p, "inference engine used to load the model")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser(
        "process",
        help="run a model on an audio file",
        description=(
            "Run MODEL on IN and write OUT. Reads .wav .flac .ogg .aiff .npy; writes .wav "
            "(32-bit float), .flac (24-bit) or .npy (float32). Each channel is processed "
            "independently from a reset model."
        ),
    )
    p.add_argument("model", metavar="MODEL", help=".nam or RTNeural .json model file")
    p.add_argument("input", metavar="IN", help="input audio file")
    p.add_argument("output", metavar="OUT", help="output audio file (replaced atomically)")
    _add_block_size(p, DEFAULT_PROCESS_BLOCK)
    _add_engine(p, "inference engine")
    p.add_argument(
        "--resample",
        action="store_true",
        help="if IN's sample rate differs from the model's, resample with soxr to the "
        "model rate and back (otherwise that is an error)",
    )
    p.add_argument(
        "--controls",
        type=control_list,
        metavar="V1,V2,...",
        help="constant values of the model's control inputs (default: all 0.0); "
        "write --controls=-0.5,1 for a leading negative value",
    )
    p.set_defaults(func=_cmd_process)

    p = sub.add_parser("bench", help="measure inference speed")
    p.add_argument("models", metavar="MODEL", nargs="*", help="model files")
    _add_block_size(p, DEFAULT_BENCH_BLOCK)
    p.add_argument(
        "--seconds", type=positive_float, default=None, metavar="S", help="seconds of audio to process per model"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--plugin",
        metavar="PLUGIN",
        help="also time this built VST3 in pedalboard against the bare core on MODEL (one MODEL)",
    )
    p.add_argument(
        "--render",
        metavar="PLUGIN",
        help="instead: dataset rendering throughput of an instrument with 1 and 2 worker processes, and the ratio",
    )
    p.add_argument("--render-jobs", type=positive_int, default=48, help="renders per timing (default: 48)")
    p.set_defaults(func=_cmd_bench)
