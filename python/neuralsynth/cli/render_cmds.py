"""The dataset commands::

    neuralsynth render PLUGIN (--presets DIR | --random N --seed S) --out DIR
        [--notes 48,60,72] [--velocities 100] [--duration 4] [--note-length S] [--sample-rate 44100]
        [--block-size 512] [--workers N] [--ray ADDRESS] [--shard-size 64] [--fixed NAME=VALUE ...]
        [--resume | --no-resume] [--no-features] [--quiet]
    neuralsynth dataset check DIR [--json] [--no-decode] [--bridge N [--model M] [--tolerance T]] [--rerender N]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..render.jobs import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_DURATION,
    DEFAULT_NOTES,
    DEFAULT_RESET,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_SETTLE,
    DEFAULT_SHARD_SIZE,
    DEFAULT_VELOCITIES,
    RESET_MODES,
)
from .errors import error, note
from .validators import non_negative_int, positive_int, seconds, tolerance

__all__ = ["add_parsers"]


def _cmd_render(args: argparse.Namespace) -> int:
    from ..render.errors import RenderOptionError
    from ..render.jobs import make_settings, parse_int_list
    from ..render.run import DEFAULT_JOB_TIMEOUT, RenderRequest, render_dataset

    if args.presets is None and args.random is None:
        raise RenderOptionError("give --presets DIR (a folder of .fxp files) or --random N --seed S")
    if args.random is not None and args.seed is None:
        raise RenderOptionError("--random N needs --seed S (the dataset must be reproducible)")
    if args.random is not None and args.random < 1:
        raise RenderOptionError(f"--random needs at least 1 preset, got {args.random}")
    if args.fixed and args.random is None:
        raise RenderOptionError("--fixed pins parameters of --random presets; it has no effect with --presets")
    settings = make_settings(
        sample_rate=args.sample_rate,
        block_size=args.block_size,
        notes=parse_int_list(args.notes, "notes", 0, 127),
        velocities=parse_int_list(args.velocities, "velocities", 1, 127),
        duration=args.duration,
        note_length=args.note_length,
        settle=args.settle,
        reset=args.reset,
    )
    timeout = DEFAULT_JOB_TIMEOUT if args.job_timeout is None else (args.job_timeout or None)
    req = RenderRequest(
        plugin=args.plugin,
        out=Path(args.out),
        settings=settings,
        presets_dir=args.presets,
        random_count=args.random,
        seed=args.seed,
        fixed=list(args.fixed or []),
        workers=args.workers,
        ray_address=args.ray,
        shard_size=args.shard_size,
        resume=args.resume,
        features=args.features,
        job_timeout=timeout,
        progress=False if args.quiet else None,
        verbose=args.verbose,
    )
    log = (lambda _m: None) if args.quiet else note
    summary = render_dataset(req, log=log)
    rate = f", {summary.renders_per_second:.1f} renders/s" if summary.renders else ""
    print(
        f"{summary.out}: {summary.rendered} rows, {summary.failed} failed, {summary.jobs} jobs in {summary.shards} "
        f"shard(s) ({summary.shards_reused} reused, {summary.shards_written} written){rate}, "
        f"{summary.seconds:.1f} s"
    )
    if summary.failed and not args.quiet:
        for f in summary.manifest["failures"][:20]:
            note(f"failed job {f['job_index']} ({f['preset_name']}, note {f['note']}): {f['reason']}")
        if summary.failed > 20:
            note(f"... {summary.failed - 20} more failures in {summary.out}/manifest.json")
    if summary.rendered == 0 and summary.failed > 0:
        error("every job failed; see the reasons above and in manifest.json")
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from ..render.check import check_dataset

    report = check_dataset(Path(args.folder), decode=args.decode)
    extra = []
    if args.bridge:
        from ..render.verify import verify_bridge

        extra.append(verify_bridge(Path(args.folder), args.bridge, model=args.model, tolerance=args.tolerance))
    if args.rerender:
        from ..render.verify import verify_rerender

        extra.append(verify_rerender(Path(args.folder), args.rerender))
    if args.json:
        doc = report.to_dict()
        doc["verify"] = [e.to_dict() for e in extra]
        print(json.dumps(doc, indent=2))
    else:
        for line in report.lines():
            print(line)
        for e in extra:
            for line in e.lines():
                print(line)
    return 0 if report.ok and all(e.ok for e in extra) else 1


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``render`` and ``dataset check`` to the command line's subparsers."""
    p = sub.add_parser(
        "render",
        help="render a preset dataset (Parquet shards + manifest) through a plugin in DawDreamer",
        description=(
            "Render every (preset, note, velocity) through PLUGIN, one DawDreamer engine per worker, into Parquet "
            "shards of FLAC audio, parameters and features plus manifest.json. An interrupted run continues where "
            "it stopped; presets that fail and worker crashes are recorded in the manifest."
        ),
    )
    p.add_argument("plugin", metavar="PLUGIN", help="instrument plugin: a VST2 .so or a .vst3 bundle")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--presets", metavar="DIR", help="render every .fxp under DIR (category: the sub-folder)")
    src.add_argument("--random", type=positive_int, metavar="N", help="render N random parameter vectors")
    p.add_argument("--seed", type=non_negative_int, metavar="S", help="seed of --random (required with it)")
    p.add_argument(
        "--fixed", action="append", metavar="NAME=VALUE",
        help="with --random: pin a parameter (name or index) to a normalized value; repeatable",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--notes", default=",".join(map(str, DEFAULT_NOTES)), help="MIDI notes (default: %(default)s)")
    p.add_argument("--velocities", default=",".join(map(str, DEFAULT_VELOCITIES)), help="(default: %(default)s)")
    p.add_argument(
        "--duration", type=float, default=DEFAULT_DURATION, metavar="S", help="seconds (default: %(default)s)"
    )
    p.add_argument("--note-length", type=float, metavar="S", help="seconds the note is held (default: 0.75 x duration)")
    p.add_argument("--sample-rate", type=int, default=DEFAULT_SAMPLE_RATE, help="Hz (default: %(default)s)")
    p.add_argument("--block-size", type=positive_int, default=DEFAULT_BLOCK_SIZE, help="(default: %(default)s)")
    p.add_argument(
        "--settle", type=seconds, default=DEFAULT_SETTLE, metavar="S",
        help="silence rendered before each note so the previous job dies out (default: %(default)s)",
    )
    p.add_argument(
        "--reset", choices=RESET_MODES, default=DEFAULT_RESET,
        help="how one plugin instance is kept from carrying state between jobs: prime = play each note once "
        "before rendering it (default), reload = a new instance per job, settle = silence only",
    )
    p.add_argument("--workers", type=positive_int, metavar="N", help="worker processes or Ray actors (default: cores)")
    p.add_argument("--ray", metavar="ADDRESS", help="render on a Ray cluster ('local' starts one here)")
    p.add_argument(
        "--shard-size", type=positive_int, default=DEFAULT_SHARD_SIZE, help="jobs per shard (default: %(default)s)"
    )
    p.add_argument(
        "--resume", action=argparse.BooleanOptionalAction, default=True,
        help="keep complete shards of an earlier run of the same dataset (default: on); --no-resume starts over",
    )
    p.add_argument(
        "--features", action=argparse.BooleanOptionalAction, default=True,
        help="compute log-mel, MFCC, f0 and loudness columns (default: on)",
    )
    p.add_argument(
        "--job-timeout", type=seconds, metavar="S",
        help="kill a worker busy with one job longer than this and retry the job (default: 120; 0: never)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar and no notes")
    p.add_argument("--verbose", action="store_true", help="show what plugins and workers print")
    p.set_defaults(func=_cmd_render)

    p = sub.add_parser("dataset", help="work with rendered datasets")
    dsub = p.add_subparsers(dest="dataset_command", metavar="COMMAND", required=True)
    c = dsub.add_parser(
        "check",
        help="validate a rendered dataset",
        description="Check row counts against the manifest, ids, NaN, that the audio decodes, and feature shapes. "
        "Exit status 0 when the dataset is sound, 1 when problems were found.",
    )
    c.add_argument("folder", metavar="DIR", help="a folder made by neuralsynth render")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.add_argument("--no-decode", dest="decode", action="store_false", help="do not decode the audio (faster)")
    c.add_argument("--bridge", type=non_negative_int, default=0, metavar="N",
                   help="NeuralSynth instrument datasets: re-render N rows through the C bridge and compare")
    c.add_argument("--model", help="with --bridge: the model in the instrument's neural stage (default: bundled)")
    c.add_argument("--tolerance", type=tolerance, default=1e-6,
                   help="with --bridge: max abs difference (default: %(default)g)")
    c.add_argument("--rerender", type=non_negative_int, default=0, metavar="N",
                   help="any plugin: re-render N rows in DawDreamer from the stored parameters and compare; "
                   "rows of different presets must differ")
    c.set_defaults(func=_cmd_check)
