"""The plugin commands::

    neuralsynth build [MODEL] --name NAME [--runtime-loader | --instrument [--no-model]] [--formats ...] ...
    neuralsynth test PLUGIN --reference MODEL [--host pedalboard|dawdreamer] [--sample-rate HZ] ...
    neuralsynth validate PLUGIN [--host pedalboard|dawdreamer] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..plugins.build import DEFAULT_FORMATS
from .errors import UsageError

__all__ = ["add_parsers"]

HOSTS = ("pedalboard", "dawdreamer")


def _build_model(args: argparse.Namespace) -> Path | None:
    """The model to embed, after checking that MODEL, --runtime-loader, --instrument and --no-model go together."""
    if args.no_model and not args.instrument:
        raise UsageError("--no-model goes with --instrument")
    if args.instrument:
        if args.no_model and args.model:
            raise UsageError("give a MODEL or --no-model, not both")
        if args.runtime_loader:
            raise UsageError("--runtime-loader is for effects, not --instrument")
        from ..synth import DEFAULT_MODEL

        return None if args.no_model else Path(args.model) if args.model else DEFAULT_MODEL
    if args.runtime_loader and args.model:
        raise UsageError("give a MODEL or --runtime-loader, not both")
    if not args.runtime_loader and not args.model:
        raise UsageError("give a MODEL to embed, or --runtime-loader for a plugin that loads model files")
    return Path(args.model) if args.model else None


def _cmd_build(args: argparse.Namespace) -> int:
    from ..plugins.build import build

    model = _build_model(args)
    built = build(
        model,
        args.name,
        formats=args.formats,
        out=Path(args.out),
        portable=args.portable,
        juce_dir=args.juce_dir,
        version=args.version,
        jobs=args.jobs,
        log=lambda msg: print(msg, file=sys.stderr),
        kind="instrument" if args.instrument else "effect",
    )
    for b in built:
        print(f"{b.format}\t{b.path}")
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    from ..plugins.files import check_plugin_path
    from ..plugins.regress import main

    check_plugin_path(Path(args.plugin))
    return main(
        args.plugin,
        args.reference,
        host=args.host,
        sample_rate=args.sample_rate,
        tolerance=args.tolerance,
        report=args.report,
        as_json=args.json,
        strict=args.strict,
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..plugins.files import check_plugin_path
    from ..plugins.validation import main

    check_plugin_path(Path(args.plugin))
    return main(args.plugin, host=args.host, quick=args.quick, as_json=args.json)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``build``, ``test`` and ``validate`` to the command line's subparsers."""
    p = sub.add_parser("build", help="build VST3/LV2/Standalone plugins around a model (CMake + JUCE)")
    p.add_argument("model", metavar="MODEL", nargs="?", help="model to embed (.nam or RTNeural .json)")
    p.add_argument("--name", required=True, help='plugin name, e.g. "Tweed Drive"')
    p.add_argument("--runtime-loader", action="store_true", help="no embedded model: the plugin loads model files")
    p.add_argument(
        "--instrument",
        action="store_true",
        help="build the NeuralSynth instrument (MIDI in); MODEL feeds its neural stage "
        "(default: the bundled NAM model)",
    )
    p.add_argument("--no-model", action="store_true", help="with --instrument: no neural stage")
    p.add_argument(
        "--formats",
        default=",".join(DEFAULT_FORMATS),
        help="comma-separated: vst3,lv2,standalone,vst2,au (default: %(default)s)",
    )
    p.add_argument("--out", default="dist", help="output folder (default: %(default)s)")
    p.add_argument("--portable", action="store_true", help="build for any x86-64-v2 CPU instead of -march=native")
    p.add_argument("--juce-dir", help="folder with JUCEConfig.cmake (default: $JUCE_DIR, then the system's)")
    p.add_argument("--version", default="0.1.0", help="plugin version (default: %(default)s)")
    p.add_argument("--jobs", type=int, help="parallel compile jobs (default: all cores)")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("test", help="run a built plugin in a real host against the Python reference")
    p.add_argument("plugin", metavar="PLUGIN", help=".vst3 / .lv2 bundle or VST2 .so")
    p.add_argument("--reference", required=True, help="the model file the plugin was built from")
    p.add_argument("--host", choices=HOSTS, default="pedalboard")
    p.add_argument("--sample-rate", type=float, help="host sample rate (default: the model's)")
    p.add_argument(
        "--tolerance", type=float, default=None,
        help="max abs error allowed (default: 1e-5 at the model's rate, 1e-3 when the host rate differs)",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="no float32 conditioning allowance: every signal must be within --tolerance",
    )
    p.add_argument("--report", help="write an HTML report with plots into this folder")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_test)

    p = sub.add_parser("validate", help="run the plugin validation battery")
    p.add_argument("plugin", metavar="PLUGIN", help=".vst3 / .lv2 bundle or VST2 .so")
    p.add_argument("--host", choices=HOSTS, default="pedalboard")
    p.add_argument("--quick", action="store_true", help="shorter signals")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_cmd_validate)
