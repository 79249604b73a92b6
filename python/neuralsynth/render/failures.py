"""What becomes of a job that fails: one retry policy for the local pool and Ray, and the failure record.

A failure has a kind: the worker died while rendering (``CRASH``: a plugin segfault, the OOM killer, a
Ray actor lost), it was busy too long and was killed (``TIMEOUT``), the render had NaN/Inf samples
(``NAN``), or the worker reported another error (``ERROR``: a preset that does not load, a plugin
exception). The default :class:`RetryPolicy` gives crashed and timed-out jobs a second attempt on a
fresh worker; NaN and errors are final (a preset does the same thing again).
"""

from __future__ import annotations

import dataclasses
import enum
from collections import deque
from dataclasses import dataclass
from typing import Any

from .jobs import Job
from .schema import job_columns


class FailureKind(enum.Enum):
    CRASH = "crash"
    TIMEOUT = "timeout"
    NAN = "nan"
    ERROR = "error"

    @property
    def lost_worker(self) -> bool:
        """The worker is gone (crashed, or killed for taking too long) and has to be replaced."""
        return self in (FailureKind.CRASH, FailureKind.TIMEOUT)


@dataclass
class Outcome:
    """What became of one job: a row, or the reason it failed."""

    job: Job
    row: dict[str, Any] | None = None
    error: str | None = None
    attempts: int = 1
    kind: FailureKind | None = None  # of a failure

    @property
    def ok(self) -> bool:
        return self.row is not None


@dataclass(frozen=True)
class RetryPolicy:
    """How often a job is tried, and after which kinds of failure it is tried again."""

    max_attempts: int = 2
    retry: frozenset[FailureKind] = frozenset({FailureKind.CRASH, FailureKind.TIMEOUT})

    def done(self, job: Job, row: dict[str, Any]) -> Outcome:
        return Outcome(job, row=row, attempts=job.attempt + 1)

    def failed(self, job: Job, kind: FailureKind, reason: str, pending: deque[Job]) -> Outcome | None:
        """Attempt ``job.attempt`` of ``job`` failed: the final outcome, or None with the next attempt put first
        in ``pending``.

        A retried kind that runs out of attempts says how many it had: ``worker crashed (SIGSEGV) on every
        attempt (2)``.
        """
        attempts = job.attempt + 1
        if kind in self.retry:
            if attempts < self.max_attempts:
                pending.appendleft(dataclasses.replace(job, attempt=attempts))
                return None
            reason = f"{reason} on {'every attempt' if attempts > 1 else 'its only attempt'} ({attempts})"
        return Outcome(job, error=reason, attempts=attempts, kind=kind)


DEFAULT_POLICY = RetryPolicy()


def failure_record(outcome: Outcome) -> dict[str, Any]:
    """A failed job as the manifest and the shard metadata list it: its job columns, the reason, the attempts."""
    # job_index first, as the failures are listed by it
    return {"job_index": outcome.job.index, **job_columns(outcome.job), "reason": outcome.error,
            "attempts": outcome.attempts}
