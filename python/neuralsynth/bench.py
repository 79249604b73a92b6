"""`neuralsynth bench`: speed of the C++ core, with the machine's own yardstick.

Timing runs inside C++ (``ns_model_bench``), single thread, float32, in blocks of
``block_size``. In the same run the machine's float32 matrix-product throughput
(numpy sgemm, one thread) is measured, and each model's arithmetic rate is given
as a share of it, so figures compare across noisy machines. Models are measured
round-robin over several rounds; the median and the best are reported.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .model import Model, build_flags

RATE = 48000.0

# The project's speed targets (2-core machine, -march=native, block 64) and the figures
# measured for other engines on the same machine type and flags when the targets were set.
TARGETS_NS = {"nam-wavenet-standard": 600.0, "lstm-16": 80.0, "gru-8": 55.0}
OTHERS_NS = {
    "nam-wavenet-standard": "NeuralAmpModelerCore 949",
    "lstm-16": "NeuralAmpModelerCore 106, RTNeural 97",
    "gru-8": "RTNeural 70",
}


@dataclass
class Result:
    name: str
    architecture: str
    weights: int
    macs_per_sample: int
    ns_per_sample: float
    ns_min: float
    realtime_factor: float  # seconds of audio processed per second of CPU at 48 kHz
    gflops: float
    sgemm_share: float
    target_ns: float | None
    others: str | None


def standard_suite(seed: int = 0) -> list[tuple[str, dict]]:
    """The benchmarked models, with random weights (speed does not depend on them)."""
    from . import modelgen

    rng = np.random.default_rng(seed)
    suite: list[tuple[str, dict]] = []
    for preset in ("standard", "lite", "feather", "nano"):
        suite.append((f"nam-wavenet-{preset}", modelgen.nam_wavenet_preset(rng, preset)))
    for h in (8, 16, 24, 32):
        suite.append((f"lstm-{h}", modelgen.nam_lstm(rng, h)))
    for h in (8, 16, 32):
        suite.append((f"gru-{h}", modelgen.rtneural_rnn(rng, "gru", h)))
    return suite


def sgemm_gflops(seconds: float = 0.3, n: int = 512) -> float:
    """Single-thread float32 matrix-product throughput of this machine, via numpy."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        threadpool_limits = None
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    ctx = threadpool_limits(limits=1) if threadpool_limits else _nullcontext()
    with ctx:
        a @ b
        reps, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            a @ b
            reps += 1
        dt = time.perf_counter() - t0
    return 2.0 * n**3 * reps / dt / 1e9


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: object) -> None:
        return None


def run(
    models: list[tuple[str, Model]], block_size: int = 64, seconds: float = 0.2, rounds: int = 5, chunks: int = 10
) -> tuple[list[Result], float]:
    """Each model runs ``seconds`` per round, as ``chunks`` separately timed pieces; models take
    turns within a round. The median and the best are over all pieces: short pieces let the
    median step around bursts of load from other tenants instead of averaging them in."""
    samples: dict[str, list[float]] = {name: [] for name, _ in models}
    gemm: list[float] = []
    calib = {name: max(m.bench(block_size, 4800), 1.0) for name, m in models}
    for _ in range(rounds):
        gemm.append(sgemm_gflops(seconds))
        for name, m in models:
            n = int(min(max(seconds / chunks * 1e9 / calib[name], 4 * block_size), 50_000_000))
            samples[name].extend(m.bench(block_size, n) for _ in range(chunks))
    peak = statistics.median(gemm)
    results = []
    for name, m in models:
        ns = statistics.median(samples[name])
        gflops = 2.0 * m.macs_per_sample / ns
        results.append(
            Result(
                name=name,
                architecture=m.architecture,
                weights=m.num_weights,
                macs_per_sample=m.macs_per_sample,
                ns_per_sample=ns,
                ns_min=min(samples[name]),
                realtime_factor=1e9 / RATE / ns,
                gflops=gflops,
                sgemm_share=gflops / peak,
                target_ns=TARGETS_NS.get(name),
                others=OTHERS_NS.get(name),
            )
        )
    return results, peak


def plugin_vs_core(plugin: str, model: str, block_size: int = 512, seconds: float = 2.0, rounds: int = 5) -> dict:
    """ns/sample of the plugin in pedalboard (mono, DC blocker and smoothing included) and of the
    bare core through the bridge, on the same model and block size, interleaved in one run."""
    from .plugins.hosts import open_plugin

    core = Model.from_file(model, max_block_size=block_size)
    host = open_plugin(plugin, "pedalboard", core.sample_rate, block_size)
    n = int(seconds * core.sample_rate)
    x = (0.3 * np.random.default_rng(0).standard_normal(n)).astype(np.float32)[None, :]
    host.process(x[:, : block_size * 4], core.sample_rate, block_size=block_size)  # settle the configuration
    p_ns, c_ns = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        host.process(x, core.sample_rate, block_size=block_size, reset=False)
        p_ns.append((time.perf_counter() - t0) * 1e9 / n)
        c_ns.append(core.bench(block_size, n))
    p, c = statistics.median(p_ns), statistics.median(c_ns)
    return {"plugin": plugin, "model": model, "block_size": block_size, "plugin_ns_per_sample": p,
            "core_ns_per_sample": c, "ratio": p / c}


def main(
    models: list[str] | None = None, block_size: int = 64, seconds: float | None = None, as_json: bool = False,
    plugin: str | None = None,
) -> int:
    seconds = 0.25 if seconds is None else float(seconds)
    if block_size < 1:
        raise ValueError("--block-size must be >= 1")
    if plugin:
        if not models or len(models) != 1:
            raise ValueError("--plugin needs exactly one MODEL: the model the plugin embeds")
        r = plugin_vs_core(plugin, models[0], block_size=max(block_size, 64), seconds=max(seconds * 4, 1.0))
        if as_json:
            print(json.dumps(r, indent=2))
        else:
            verdict = "within 15%" if r["ratio"] <= 1.15 else "MORE than 15% slower"
            print(f"plugin in pedalboard: {r['plugin_ns_per_sample']:.1f} ns/sample; bare core through the bridge: "
                  f"{r['core_ns_per_sample']:.1f} ns/sample; ratio {r['ratio']:.3f} ({verdict}); block "
                  f"{r['block_size']}, medians of 5 interleaved rounds")
        return 0
    loaded: list[tuple[str, Model]] = []
    if models:
        for path in models:
            loaded.append((Path(path).name, Model.from_file(path, max_block_size=max(block_size, 64))))
    else:
        for name, doc in standard_suite():
            loaded.append((name, Model.from_text(json.dumps(doc), name=name, max_block_size=max(block_size, 64))))
    results, peak = run(loaded, block_size=block_size, seconds=seconds)
    if as_json:
        print(
            json.dumps(
                {
                    "block_size": block_size,
                    "sample_rate": RATE,
                    "build_flags": build_flags(),
                    "sgemm_gflops": peak,
                    "models": [asdict(r) for r in results],
                },
                indent=2,
            )
        )
        return 0
    print(f"neuralsynth bench: block size {block_size}, float32, one thread, build flags: {build_flags()}")
    print(f"machine yardstick: numpy sgemm (1 thread) {peak:.1f} GFLOP/s")
    header = (
        f"{'model':<24}{'weights':>8}{'MAC/smp':>9}{'ns/sample':>11}{'(best)':>9}{'x realtime':>12}"
        f"{'GFLOP/s':>9}{'of sgemm':>9}  target"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        target = ""
        if r.target_ns is not None:
            med = "met" if r.ns_per_sample <= r.target_ns else "missed"
            best = "met" if r.ns_min <= r.target_ns else "missed"
            target = f"<= {r.target_ns:.0f} ns: median {med}, best {best} (others: {r.others})"
        print(
            f"{r.name:<24}{r.weights:>8}{r.macs_per_sample:>9}{r.ns_per_sample:>11.1f}{r.ns_min:>9.1f}"
            f"{r.realtime_factor:>12.1f}{r.gflops:>9.1f}{100 * r.sgemm_share:>8.1f}%  {target}"
        )
    print(
        "ns/sample: median of 50 timed pieces, 10 per model in each of 5 interleaved rounds (best piece in "
        "brackets); x realtime = seconds of 48 kHz audio per "
        "second of one core. Shared machines are noisy: compare the sgemm share across runs, not absolute times."
    )
    return 0
