"""Running the battery in this process: one check (its effect or instrument version), or many."""

from __future__ import annotations

import gc
import time
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path

from .checks import CHECK_BY_NAME, CHECK_NAMES, Check
from .context import Context, Opener
from .effect_checks import EFFECT_CHECKS
from .host_support import host_runs, skipped_by_host
from .instrument_checks import INSTRUMENT_CHECKS
from .results import CheckFailed, CheckResult, CheckSkipped, result_line


def check_function(check: Check, ctx: Context) -> Callable[[Context], str]:
    """The check's function for this kind of plugin (effect or instrument)."""
    return (INSTRUMENT_CHECKS if ctx.instrument else EFFECT_CHECKS)[check.name]


def run_check(check: Check, ctx: Context) -> CheckResult:
    """One check (its instrument version for an instrument); any exception is a FAIL with the message."""
    t0 = time.perf_counter()
    skipped = False
    try:
        detail = check_function(check, ctx)(ctx)
        passed = True
    except CheckFailed as e:
        detail, passed = str(e), False
    except CheckSkipped as e:
        detail, passed, skipped = (str(e) if str(e).startswith("skipped") else f"skipped: {e}"), False, True
    except Exception as e:  # noqa: BLE001 - a check never takes the battery down
        where = traceback.extract_tb(e.__traceback__)[-1]
        detail = f"{type(e).__name__}: {e} (at {Path(where.filename).name}:{where.lineno})"
        passed = False
    finally:
        gc.collect()
    return CheckResult(check.name, passed, " ".join(detail.split()), time.perf_counter() - t0, skipped=skipped)


def run_or_skip(name: str, ctx: Context) -> CheckResult:
    """The check, or its "skipped (host)" result when the host cannot run it for this kind of plugin."""
    if not host_runs(ctx.host, name, ctx.instrument):
        return skipped_by_host(ctx.host, name, ctx.instrument)
    return run_check(CHECK_BY_NAME[name], ctx)


def selected_checks(checks: Iterable[str] | None) -> list[str]:
    """The names asked for, in battery order (all of them for None); ValueError for unknown names."""
    if checks is None:
        return list(CHECK_NAMES)
    names = list(checks)
    unknown = [n for n in names if n not in CHECK_BY_NAME]
    if unknown:
        raise ValueError(f"unknown checks {', '.join(unknown)}; the checks are {', '.join(CHECK_NAMES)}")
    return [n for n in CHECK_NAMES if n in names]


def run_checks(opener: Opener, host: str = "pedalboard", quick: bool = False,
               log: Callable[[str], None] | None = print, checks: Iterable[str] | None = None,
               streaming: bool | None = None) -> list[CheckResult]:
    """Run the battery in this process on instances made by ``opener(sample_rate, block_size)``."""
    ctx = Context(opener, host, quick, streaming=host != "dawdreamer" if streaming is None else streaming)
    results = []
    for name in selected_checks(checks):
        r = run_or_skip(name, ctx)
        results.append(r)
        if log is not None:
            log(result_line(r, progress=True))
    return results
