"""The portable build (NEURALSYNTH_PORTABLE=ON): an x86-64-v2 baseline bridge plus one bridge per
newer x86-64 level, the best one the CPU runs loaded at import. Each level has its own vector
code (SSE 4-wide, AVX2 8-wide, AVX-512 16-wide), so the core's oracle tests run on every level
this machine supports, not only on the native build the rest of the suite uses.

The build lands in ``$NEURALSYNTH_PORTABLE_BUILD`` (ci/test.sh builds it there beforehand) or in
the neuralsynth cache; CMake makes it incremental.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from neuralsynth.plugins.build import cache_root

ROOT = Path(__file__).resolve().parent.parent
LEVELS = (2, 3, 4)

pytestmark = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64") or not sys.platform.startswith("linux"),
    reason="per-level bridges are built for x86-64 Linux here",
)


def cpu_level_from_proc() -> int:
    """The x86-64 level of this CPU from the kernel's feature flags (independent of the bridge's
    own check, which uses the compiler's cpuid code)."""
    flags: set[str] = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    v2 = {"sse4_2", "popcnt", "ssse3"} <= flags
    v3 = v2 and {"avx2", "fma", "bmi1", "bmi2"} <= flags
    v4 = v3 and {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"} <= flags
    return 4 if v4 else 3 if v3 else 2 if v2 else 1


@pytest.fixture(scope="module")
def portable_build() -> Path:
    out = Path(os.environ.get("NEURALSYNTH_PORTABLE_BUILD") or cache_root() / "portable-bridge")
    cfg = ["cmake", "-S", str(ROOT), "-B", str(out), "-DNEURALSYNTH_PORTABLE=ON", "-DNEURALSYNTH_TESTS=OFF",
           "-DCMAKE_BUILD_TYPE=Release"]
    if shutil.which("ninja"):
        cfg += ["-G", "Ninja"]
    if shutil.which("ccache"):
        cfg += ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    if not (out / "CMakeCache.txt").is_file():
        subprocess.run(cfg, check=True, capture_output=True, text=True)
    r = subprocess.run(["cmake", "--build", str(out), "-j", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def _env(build: Path | None, isa: str | None, lib: str = "libneuralsynth_bridge.so") -> dict[str, str]:
    env = dict(os.environ)
    env.pop("NEURALSYNTH_BRIDGE", None)
    if build is not None:
        env["NEURALSYNTH_BRIDGE"] = str(build / lib)
    env.pop("NEURALSYNTH_ISA", None)
    if isa is not None:
        env["NEURALSYNTH_ISA"] = isa
    return env


_PROBE = (
    "from neuralsynth._bridge import lib\n"
    "from neuralsynth.model import build_flags\n"
    "print(lib().ns_cpu_level())\n"
    "print(build_flags())\n"
)


def _probe(build: Path | None, isa: str | None, lib: str = "libneuralsynth_bridge.so") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROBE], env=_env(build, isa, lib), capture_output=True, text=True,
                          cwd=str(ROOT / "tests"))


def test_every_level_is_built(portable_build: Path) -> None:
    names = sorted(p.name for p in portable_build.glob("libneuralsynth_bridge*.so"))
    assert names == ["libneuralsynth_bridge-x86-64-v3.so", "libneuralsynth_bridge-x86-64-v4.so",
                     "libneuralsynth_bridge.so"]


def test_the_best_level_the_cpu_runs_is_loaded(portable_build: Path) -> None:
    r = _probe(portable_build, None)
    assert r.returncode == 0, r.stderr
    level_line, flags = r.stdout.split("\n")[:2]
    cpu = cpu_level_from_proc()
    assert int(level_line) == cpu, "the bridge's cpuid check disagrees with /proc/cpuinfo"
    assert f"-march=x86-64-v{max(2, min(cpu, 4))}" in flags


@pytest.mark.parametrize("level", LEVELS)
def test_a_level_can_be_forced(portable_build: Path, level: int) -> None:
    if level > cpu_level_from_proc():
        pytest.skip(f"this CPU does not run x86-64-v{level}")
    r = _probe(portable_build, f"x86-64-v{level}")
    assert r.returncode == 0, r.stderr
    assert f"-march=x86-64-v{level}" in r.stdout.split("\n")[1]


def test_an_unknown_level_is_refused_by_name(portable_build: Path) -> None:
    r = _probe(portable_build, "avx9000")
    assert r.returncode != 0
    assert "NEURALSYNTH_ISA='avx9000'" in r.stderr and "x86-64-v3" in r.stderr


def test_a_per_level_library_can_be_named_directly(portable_build: Path) -> None:
    r = _probe(portable_build, None, "libneuralsynth_bridge-x86-64-v3.so")
    if cpu_level_from_proc() < 3:
        assert r.returncode != 0 and "needs x86-64-v3" in r.stderr
        return
    assert r.returncode == 0, r.stderr
    assert "-march=x86-64-v3" in r.stdout.split("\n")[1]
    r = _probe(portable_build, "x86-64-v4", "libneuralsynth_bridge-x86-64-v3.so")
    assert r.returncode != 0 and "contradicts" in r.stderr


def test_isa_is_refused_for_a_native_build(portable_build: Path) -> None:
    """The installed package (built -march=native by ci/setup.sh) has no per-level libraries:
    forcing a level must fail loudly, not run native code while claiming x86-64-v2."""
    native = _probe(None, None)
    assert native.returncode == 0, native.stderr
    if "-march=x86-64-v2" in native.stdout:
        pytest.skip("the installed package is itself a portable build")
    r = _probe(None, "x86-64-v2")
    assert r.returncode != 0 and "is not a portable build" in r.stderr


@pytest.mark.parametrize("level", LEVELS)
def test_core_oracle_tests_pass_on_each_level(portable_build: Path, level: int) -> None:
    """test_core.py (outside oracles, numpy reference for every layer and model, block-size
    invariance bit for bit) on that level's bridge."""
    if level > cpu_level_from_proc():
        pytest.skip(f"this CPU does not run x86-64-v{level}")
    probe = _probe(portable_build, f"x86-64-v{level}")
    assert probe.returncode == 0 and f"-march=x86-64-v{level}" in probe.stdout, probe.stderr
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "test_core.py"],
        env=_env(portable_build, f"x86-64-v{level}"), capture_output=True, text=True, cwd=str(ROOT / "tests"),
    )
    tail = r.stdout[-2500:]
    assert r.returncode == 0, tail
    assert " passed" in tail and "failed" not in tail
