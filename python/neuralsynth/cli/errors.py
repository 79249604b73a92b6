"""How the command line reports: notes and errors on stderr, and exceptions mapped to exit statuses.

Errors the program anticipates (any :class:`~neuralsynth.errors.NeuralSynthError`: bad model,
audio, preset or plugin files, bad option values, failed renders, ...) are printed as
``neuralsynth: error: <message>`` with exit status 2, without a traceback. An interrupt exits
with 130, running out of memory with 1, and any other exception is an internal error (status 1)
whose traceback the environment variable ``NEURALSYNTH_TRACEBACK=1`` shows.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from ..errors import NeuralSynthError

__all__ = ["PROG", "UsageError", "error", "note", "run_command"]

PROG = "neuralsynth"


class UsageError(NeuralSynthError):
    """Options that do not go together, found after parsing (reported like any anticipated error)."""


def note(message: str) -> None:
    """Print ``neuralsynth: note: <message>`` on stderr."""
    print(f"{PROG}: note: {message}", file=sys.stderr)


def error(message: str) -> None:
    """Print ``neuralsynth: error: <message>`` on stderr."""
    print(f"{PROG}: error: {message}", file=sys.stderr)


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command function with its parsed arguments; return its exit status (see the module)."""
    try:
        return int(func(args))
    except NeuralSynthError as exc:
        error(str(exc))
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        error("out of memory")
        return 1
    except Exception as exc:
        if os.environ.get("NEURALSYNTH_TRACEBACK"):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} (set NEURALSYNTH_TRACEBACK=1 for details)",
            file=sys.stderr,
        )
        return 1
