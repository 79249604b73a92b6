"""What a check gives back: a result record, the exceptions a check raises, the report lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

SKIPPED_HOST = "skipped (host)"


class CheckFailed(Exception):
    """A check found the plugin misbehaving; the message says how."""


class CheckSkipped(Exception):
    """A check does not apply to this plugin (e.g. an instrument without a bypass parameter)."""


@dataclass
class CheckResult:
    name: str
    passed: bool
    detail: str
    seconds: float
    skipped: bool = False  # a skipped check has passed=False but does not count as failed

    @property
    def failed(self) -> bool:
        return not self.passed and not self.skipped

    @property
    def status(self) -> str:
        return "SKIP" if self.skipped else ("PASS" if self.passed else "FAIL")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status}


def raise_problems(problems: Sequence[str]) -> None:
    """CheckFailed with every problem found, if there is one."""
    if problems:
        raise CheckFailed("; ".join(problems))


def result_line(r: CheckResult, progress: bool = False) -> str:
    """One line of the table (``progress``: with the time the check took)."""
    timing = f" ({r.seconds:.1f} s)" if progress and not r.skipped else ""
    return f"{r.status:<4}  {r.name:<15} {r.detail}{timing}"


def summary(results: Sequence[CheckResult]) -> str:
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    skipped = sum(r.skipped for r in results)
    return f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else "")
