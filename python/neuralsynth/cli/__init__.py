"""The ``neuralsynth`` command line.

::

    neuralsynth info | process | bench     models on audio files          (model_cmds)
    neuralsynth build | test | validate    plugins                        (plugin_cmds)
    neuralsynth preset show | to-json | from-json | random                (preset_cmds)
    neuralsynth render | dataset check     preset datasets                (render_cmds)
    neuralsynth train | predict | evaluate preset inference               (inverse_cmds)

Each command module adds its parsers with ``add_parsers(sub)``; the argument types are in
:mod:`~neuralsynth.cli.validators`. Errors the program anticipates (bad model or audio files,
wrong sample rate, ...) are printed as ``neuralsynth: error: <message>`` on stderr with exit
status 2, without a traceback (:mod:`~neuralsynth.cli.errors`). Set the environment variable
``NEURALSYNTH_TRACEBACK=1`` to see the traceback of an unexpected failure.
"""

from __future__ import annotations

import argparse

from . import inverse_cmds, model_cmds, plugin_cmds, preset_cmds
from .errors import PROG, run_command

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``neuralsynth`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run neural amp / effect models (NAM, RTNeural) on audio files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    model_cmds.add_parsers(sub)
    plugin_cmds.add_parsers(sub)
    preset_cmds.add_parsers(sub)
    inverse_cmds.add_parsers(sub)
    try:
        from . import render_cmds
    except ImportError:  # pragma: no cover - the render extra is not installed
        pass
    else:
        render_cmds.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (status 2) and --help (status 0)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    return run_command(args.func, args)
