"""Which host runs which check, for effects and for instruments, and why it skips the others."""

from __future__ import annotations

from .checks import CHECK_NAMES
from .results import SKIPPED_HOST, CheckResult

# Checks a host can run on an effect; hosts not listed run all of them.
HOST_CHECKS: dict[str, frozenset[str]] = {
    "dawdreamer": frozenset({"load", "sample_rates", "block_sizes", "silence", "full_scale", "channels"}),
}
SKIP_REASONS: dict[str, str] = {
    "dawdreamer": "DawDreamer renders every call from a fresh graph and exposes no parameter values or state",
}
# The same for instruments: DawDreamer can read and set (normalized) parameters, automate them
# within a render and reach the bypass parameter, but it cannot continue a render or restore state.
INSTRUMENT_HOST_CHECKS: dict[str, frozenset[str]] = {
    "dawdreamer": frozenset(CHECK_NAMES) - {"varying_blocks", "state"},
}
INSTRUMENT_SKIP_REASONS: dict[str, str] = {
    "dawdreamer": "DawDreamer renders every call from the start (a render cannot continue another) and its "
                  "load_state opens an editor, which fails or crashes headless",
}


def host_runs(host: str, name: str, instrument: bool = False) -> bool:
    table = INSTRUMENT_HOST_CHECKS if instrument else HOST_CHECKS
    return name in table.get(host, frozenset(CHECK_NAMES))


def skipped_by_host(host: str, name: str, instrument: bool = False) -> CheckResult:
    """The "skipped (host)" result of a check the host cannot run."""
    reasons = INSTRUMENT_SKIP_REASONS if instrument else SKIP_REASONS
    reason = reasons.get(host, f"not supported with host {host}")
    return CheckResult(name, False, f"{SKIPPED_HOST}: {reason}", 0.0, skipped=True)
