"""Worker scaling of the render pool: renders/s with 1 and 2 (or more) workers, measured warm, in one run.

For each worker count a :class:`~.pool.LocalPool` is started (every worker has loaded the plugin and
warmed up its feature code before timing starts) and each worker renders one untimed job; then the
same ``jobs`` random-preset jobs are timed from hand-out to the last result, the worker counts taking
turns for ``rounds`` rounds (best round kept), so that other load on the machine hits them alike. What is timed is the
work of the pool: preset, settle + note render, FLAC encode/decode, features (unless
``features=False``) and the transfer of the rows to the parent; writing Parquet is not included.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from .jobs import make_jobs, make_settings, random_presets
from .pool import LocalPool

TARGET_SPEEDUP = 1.6  # two workers vs one on a two-core machine


_SPIN = (
    "import time\n"
    "t = time.perf_counter()\n"
    "x = 0\n"
    "for i in range({n}):\n"
    "    x += i * i\n"
    "print(time.perf_counter() - t)\n"
)


def _spin_times(processes: int, n: int) -> list[float]:
    import subprocess
    import sys

    procs = [
        subprocess.Popen([sys.executable, "-c", _SPIN.format(n=n)], stdout=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    return [float(p.communicate()[0]) for p in procs]


def cpu_scaling(processes: int, n: int = 4_000_000) -> float:
    """How much more pure-Python work ``processes`` processes get done than one, now (ideal: ``processes``).

    A yardstick for the render figures: on a machine busy with other work it falls well below ``processes``.
    """
    (one,) = _spin_times(1, n)
    many = _spin_times(processes, n)
    return processes * one / max(many)


def bench_workers(
    plugin_path: str,
    jobs: int = 48,
    workers: Sequence[int] = (1, 2),
    *,
    duration: float = 4.0,
    notes: Sequence[int] = (48, 60, 72),
    features: bool = True,
    rounds: int = 3,
    seed: int = 0,
    log: Callable[[str], None] | None = print,
) -> dict[str, Any]:
    """Renders/s for each worker count and the speedup of the largest count over the smallest.

    All pools are started (and warmed) first, then ``rounds`` rounds time each worker count in turn,
    so a change in the machine's load hits all counts alike; the best round of each count is used.
    """
    settings = make_settings(notes=notes, duration=duration, features=features)
    counts = sorted(set(int(w) for w in workers))
    pools: dict[int, LocalPool] = {}
    samples: dict[int, list[float]] = {c: [] for c in counts}
    failed: dict[int, int] = {c: 0 for c in counts}
    try:
        timed_jobs = None
        for count in counts:
            pool = pools[count] = LocalPool(plugin_path, settings, count, job_timeout=None)
            info = pool.start()
            presets = random_presets(math.ceil(jobs / len(notes)) + max(counts), seed, len(info.parameters))
            all_jobs = make_jobs(presets, settings)
            timed_jobs = all_jobs[:jobs]
            for _ in pool.run(all_jobs[-count:]):  # one job per worker: every worker has rendered once
                pass
        assert timed_jobs is not None
        for _ in range(max(1, rounds)):
            for count in counts:
                started = time.perf_counter()
                outcomes = list(pools[count].run(timed_jobs))
                elapsed = time.perf_counter() - started
                samples[count].append(len(outcomes) / elapsed)
                failed[count] += sum(1 for o in outcomes if not o.ok)
                if log:
                    log(f"render bench: {count} worker(s): {len(outcomes)} renders in {elapsed:.2f} s "
                        f"= {samples[count][-1]:.1f} renders/s")
    finally:
        for pool in pools.values():
            pool.close()
    rates = {c: max(v) for c, v in samples.items()}
    low, high = counts[0], counts[-1]
    speedup = rates[high] / rates[low] if rates.get(low) else float("nan")
    if high == low:
        machine = 1.0
    else:
        machine = cpu_scaling(high) / (1.0 if low == 1 else cpu_scaling(low))
    result: dict[str, Any] = {
        "plugin": str(plugin_path),
        "jobs": jobs,
        "duration": duration,
        "features": features,
        "rounds": rounds,
        "cpu_count": os.cpu_count(),
        "renders_per_second": rates,
        "samples": samples,
        "failed": failed,
        "speedup": speedup,
        "speedup_of": [high, low],
        "machine_scaling": machine,
        "target_speedup": TARGET_SPEEDUP,
        "meets_target": bool(speedup >= TARGET_SPEEDUP) if (low, high) == (1, 2) else None,
    }
    if log:
        verdict = ""
        if result["meets_target"] is not None:
            verdict = " (target >= 1.6x: " + ("met" if result["meets_target"] else "NOT met") + ")"
        log(f"render bench: {high} vs {low} worker(s), best of {rounds} rounds: {speedup:.2f}x{verdict}")
        log(
            f"render bench: the machine itself: {machine:.2f}x for {high} vs {low} processes of pure Python "
            f"(ideal {high / low:g}x; less means other work is using the cores)"
        )
    return result
