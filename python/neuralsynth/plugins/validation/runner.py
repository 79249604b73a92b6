"""Validating a plugin file: the battery through a host, in a child process by default; the report."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from ..files import PluginError, check_plugin_path
from ..hosts import HOSTS
from .battery import run_checks, selected_checks
from .context import plugin_opener
from .isolation import run_isolated
from .results import CheckResult, result_line, summary


def run_validation(path: str | os.PathLike, host: str = "pedalboard", quick: bool = False,
                   log: Callable[[str], None] | None = print, *, checks: Iterable[str] | None = None,
                   isolate: bool = True, timeout: float | None = None) -> list[CheckResult]:
    """Run the battery on the plugin at ``path`` through ``host``; one CheckResult per check.

    ``quick`` shortens the signals (for tests). ``isolate`` runs the checks in a child process
    so that a crash or hang (``timeout`` seconds per check) fails that check only.
    """
    names = selected_checks(checks)
    path = str(path)
    try:
        if host not in HOSTS:
            raise PluginError(f"unknown host {host!r}: choose from {', '.join(HOSTS)}")
        fmt = check_plugin_path(Path(path))
        if host == "pedalboard" and fmt != "vst3":
            raise PluginError(f"{path}: pedalboard on Linux loads VST3 plugins only; use --host dawdreamer for {fmt}")
    except PluginError as e:
        results = [CheckResult(n, False, str(e), 0.0) if n == names[0] else
                   CheckResult(n, False, "not run: the plugin cannot be loaded", 0.0, skipped=True) for n in names]
        if log is not None:
            for r in results:
                log(result_line(r, progress=True))
        return results
    # Which checks the host skips depends on the kind of plugin (effect or instrument), which
    # the process running the checks finds out: every check goes there.
    if isolate:
        return run_isolated(path, host, quick, names, log, timeout or (180.0 if quick else 600.0))
    return run_checks(plugin_opener(path, host), host, quick, log, names)


def main(path: str | os.PathLike, host: str = "pedalboard", quick: bool = False, as_json: bool = False) -> int:
    """``neuralsynth validate``: print a table (or JSON) and return 1 if any check failed."""
    progress = None if as_json else (lambda s: print(s, file=sys.stderr, flush=True))
    results = run_validation(path, host=host, quick=quick, log=progress)
    failed = any(r.failed for r in results)
    if as_json:
        print(json.dumps({
            "plugin": str(path), "host": host, "quick": quick,
            "passed": sum(r.passed for r in results), "failed": sum(r.failed for r in results),
            "skipped": sum(r.skipped for r in results), "ok": not failed,
            "checks": [r.to_dict() for r in results],
        }, indent=2))
    else:
        print(f"{Path(path).name} via {host}{' (quick)' if quick else ''}")
        for r in results:
            print(result_line(r))
        print(summary(results))
    return 1 if failed else 0
