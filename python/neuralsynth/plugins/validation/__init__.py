"""Our own plugin validator: a battery of host-level checks for the project's effects and instrument.

pluginval and Steinberg's validator are not available, so ``neuralsynth validate PLUGIN`` runs
this battery through a real host (pedalboard or DawDreamer, see :mod:`neuralsynth.plugins.hosts`)
and reports every check by name with PASS / FAIL / SKIP.

Each check is independent: it opens its own plugin instances, and an exception inside a check
is a FAIL of that check, never a crash of the battery. By default the checks run in a child
process (:mod:`.isolation`), so a plugin (or host) that crashes or hangs fails the check in
progress and the battery goes on with the next check in a new child.

The twelve checks (:mod:`.checks`) exist for effects (:mod:`.effect_checks`, driven with audio)
and for instruments (MIDI in, no audio input: pedalboard's ``is_instrument``, DawDreamer's zero
input channels; :mod:`.instrument_checks`, driven with MIDI). The kind is found by opening one
instance in the process that runs the checks.

DawDreamer renders each call from a fresh graph and exposes neither an effect's parameter values
nor the plugin state, so with ``host="dawdreamer"`` the checks that need streaming, state or
parameter access are listed as "skipped (host)" (:mod:`.host_support`); skipped checks count
neither as passed nor as failed.

Modules: :mod:`.results` (CheckResult, the report lines), :mod:`.context` (the host interfaces and
the per-battery Context), :mod:`.measures` (levels, differences, pitch), :mod:`.params` (parameters
as the checks set them), :mod:`.check_steps` (steps both kinds of check share), :mod:`.battery`
(running checks in this process), :mod:`.runner` (validating a plugin file, the report).
"""

from __future__ import annotations

from .battery import check_function, run_check, run_checks, run_or_skip, selected_checks
from .checks import CHECK_BY_NAME, CHECK_NAMES, CHECKS, Check
from .context import Context, Host, InstrumentHost, Opener, plugin_opener
from .host_support import HOST_CHECKS, INSTRUMENT_HOST_CHECKS, host_runs, skipped_by_host
from .results import SKIPPED_HOST, CheckFailed, CheckResult, CheckSkipped, result_line, summary
from .runner import main, run_validation

__all__ = [
    "CHECKS", "CHECK_BY_NAME", "CHECK_NAMES", "HOST_CHECKS", "INSTRUMENT_HOST_CHECKS", "SKIPPED_HOST",
    "Check", "CheckFailed", "CheckResult", "CheckSkipped", "Context", "Host", "InstrumentHost", "Opener",
    "check_function", "host_runs", "main", "plugin_opener", "result_line", "run_check", "run_checks",
    "run_or_skip", "run_validation", "selected_checks", "skipped_by_host", "summary",
]
