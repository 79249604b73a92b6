"""Argument types of the command line: each turns an option's text into a value or says what is wrong.

Used as ``type=`` of ``argparse`` options; argparse prints the message as
``neuralsynth CMD: error: argument --OPT: <message>`` and exits with status 2.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["control_list", "non_negative_int", "positive_float", "positive_int", "seconds", "tolerance"]


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _number(text: str, what: str = "a number") -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None


def positive_int(text: str) -> int:
    """A whole number >= 1 (block sizes, counts, workers, ...)."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    """A whole number >= 0 (seeds, numbers of rows to check, ...)."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = _number(text)
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def tolerance(text: str) -> float:
    """A finite number >= 0 (a largest difference allowed)."""
    value = _number(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A finite number of seconds >= 0."""
    value = _number(text, "a number of seconds")
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}")
    return value


def control_list(text: str) -> list[float]:
    """Comma-separated finite numbers: ``0.5,1`` -> [0.5, 1.0]."""
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
            raise argparse.ArgumentTypeError(f"control values must be finite, got {item!r}")
        values.append(value)
    return values
