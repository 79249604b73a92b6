"""A progress bar on stderr (rich) with renders/s and ETA; silent when stderr is not a terminal or --quiet."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class RenderProgress:
    """``with RenderProgress(total) as p: p.advance(ok=True)``; ``p.note(text)`` prints above the bar."""

    def __init__(self, total: int, *, enabled: bool | None = None, stream: TextIO | None = None) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = bool(self.stream.isatty()) if enabled is None else enabled
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> RenderProgress:
        self.started = time.monotonic()
        if self.enabled and self.total > 0:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]render"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]} renders/s"),
                TextColumn("{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("render", total=self.total, rate="-", failed=0)
        return self

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return (self.done + self.failed) / elapsed if elapsed > 0 else 0.0

    def advance(self, ok: bool = True) -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
        if self._progress is not None:
            self._progress.update(self._task, advance=1, rate=f"{self.rate:.1f}", failed=self.failed)

    def note(self, text: str) -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
