"""Running the battery in a child process: a crash or hang fails the check in progress, not the battery.

The child runs the checks one after another and reports each; when it crashes, stops answering
or runs past the time a check gets, the check in progress fails with what happened and a new
child goes on with the checks left.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from .battery import run_or_skip
from .context import Context, plugin_opener
from .results import CheckResult, result_line


def _worker(path: str, host: str, quick: bool, names: list[str], conn: Any) -> None:
    try:
        os.dup2(2, 1)  # native code printing to stdout must not corrupt the parent's table / JSON
    except OSError:
        pass
    ctx = Context(plugin_opener(path, host), host, quick, streaming=host != "dawdreamer")
    for name in names:
        conn.send(("start", name))
        conn.send(("result", asdict(run_or_skip(name, ctx))))
    conn.send(("end", None))
    conn.close()


def _exit_text(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"crashed ({signal.Signals(-code).name})"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def run_isolated(path: str, host: str, quick: bool, names: list[str], log: Callable[[str], None] | None,
                  timeout: float) -> list[CheckResult]:
    mp = multiprocessing.get_context("spawn")
    done: dict[str, CheckResult] = {}
    pending = list(names)
    while pending:
        recv, send = mp.Pipe(duplex=False)
        proc = mp.Process(target=_worker, args=(path, host, quick, list(pending), send), daemon=True)
        proc.start()
        send.close()
        current: str | None = None
        started = time.monotonic()
        failure: str | None = None
        while True:
            left = timeout - (time.monotonic() - started)
            if left <= 0:
                proc.kill()
                failure = f"timed out after {timeout:.0f} s"
                break
            if not recv.poll(min(left, 1.0)):
                if not proc.is_alive() and not recv.poll(0.1):
                    failure = _exit_text(proc.exitcode)
                    break
                continue
            try:
                kind, payload = recv.recv()
            except EOFError:
                proc.join(5)
                failure = _exit_text(proc.exitcode)
                break
            if kind == "start":
                current, started = payload, time.monotonic()
            elif kind == "result":
                r = CheckResult(**payload)
                done[r.name] = r
                pending.remove(r.name)
                current = None
                if log is not None:
                    log(result_line(r, progress=True))
            else:
                break
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()
        if failure is not None and pending:
            victim = current if current in pending else pending[0]
            r = CheckResult(victim, False, f"the plugin host process {failure} during this check",
                            time.monotonic() - started)
            done[victim] = r
            pending.remove(victim)
            if log is not None:
                log(result_line(r, progress=True))
    return [done[n] for n in names]
