"""`neuralsynth build`: turn a model into VST3 / LV2 / Standalone (/ VST2 / AU) plugins with CMake + JUCE.

The CMake project is ``plugin_src/`` (shipped inside the package). Its build tree is cached
per configuration (formats, portability, JUCE location, package version) under
``$NEURALSYNTH_CACHE`` (default ``~/.cache/neuralsynth``): the JUCE modules and the
processor compile once, and the next model only recompiles the generated identity/model
sources and the format wrappers. ccache is used when installed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import NeuralSynthError
from .files import file_name

FORMAT_TARGETS = {"vst3": "VST3", "lv2": "LV2", "standalone": "Standalone", "vst2": "VST", "au": "AU"}
DEFAULT_FORMATS = ("vst3", "lv2", "standalone")
MANUFACTURER_CODE = "Nsyn"


class BuildError(NeuralSynthError):
    """A plugin could not be built."""


@dataclass(frozen=True)
class BuiltPlugin:
    format: str
    path: Path


def plugin_source_dir() -> Path:
    """``plugin_src/`` from the installed package, or from the source checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "plugin_src", here.parent.parent / "plugin_src"):
        if (candidate / "CMakeLists.txt").is_file() and (candidate / "core" / "neuralsynth_core.h").is_file():
            return candidate
    raise BuildError("plugin sources not found (expected plugin_src/ in the package or the source checkout)")


def plugin_code(name: str) -> str:
    """A stable four-character plugin code derived from the name: one upper-case letter then three lower."""
    digest = hashlib.sha1(name.encode()).digest()
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return "N" + "".join(alphabet[b % len(alphabet)] for b in digest[:3])


def lv2_uri(code: str) -> str:
    return f"urn:neuralsynth:{MANUFACTURER_CODE}:{code}"


def cache_root() -> Path:
    return Path(os.environ.get("NEURALSYNTH_CACHE", Path.home() / ".cache" / "neuralsynth"))


def parse_formats(text: str | Sequence[str] | None) -> list[str]:
    if text is None:
        items = list(DEFAULT_FORMATS)
    elif isinstance(text, str):
        items = [f.strip().lower() for f in text.split(",") if f.strip()]
    else:
        items = [f.lower() for f in text]
    bad = [f for f in items if f not in FORMAT_TARGETS]
    if bad or not items:
        raise BuildError(f"unknown format(s) {', '.join(bad) or '(none)'}: choose from {', '.join(FORMAT_TARGETS)}")
    if "au" in items and sys.platform != "darwin":
        raise BuildError("AU plugins can only be built on macOS; drop 'au' from --formats on this machine")
    if "vst2" in items and not Path("/usr/include/pluginterfaces/vst2.x/aeffect.h").is_file():
        raise BuildError("VST2 needs the clean-room VST2 headers: apt-get install fst-dev (or drop 'vst2')")
    return list(dict.fromkeys(items))


KINDS = {"effect": "NeuralSynthEffect", "instrument": "NeuralSynthInstrument"}


def check_model(model: Path, kind: str = "effect") -> str:
    """Load the model with the core before anything compiles; raise ModelError with the loader's message."""
    from ..model import load_model

    m = load_model(model)
    if kind == "instrument" and (m.num_inputs != 1 or m.num_outputs != 1):
        raise BuildError(
            f"{model}: the instrument's neural stage needs a model with 1 input and 1 output, "
            f"this one has {m.num_inputs} inputs and {m.num_outputs} outputs"
        )
    if m.num_outputs != 1:
        raise BuildError(f"{model}: the model has {m.num_outputs} outputs; an effect plugin needs exactly one")
    if m.num_inputs - 1 > 8:
        raise BuildError(f"{model}: the model has {m.num_inputs - 1} control inputs; at most 8 are supported")
    return f"{m.architecture}, {m.num_weights} weights, {m.num_inputs - 1} controls, {m.sample_rate:g} Hz"


def _run(cmd: list[str], log: Path, what: str) -> None:
    with open(log, "a") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise BuildError(f"{what} failed (exit {proc.returncode}); last lines of {log}:\n{tail}")


def _copy_atomic(src: Path, dest: Path) -> None:
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    if src.is_dir():
        shutil.copytree(src, tmp, symlinks=True)
    else:
        shutil.copy2(src, tmp)
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old) if old.is_dir() else old.unlink()


def build(
    model: Path | None,
    name: str,
    formats: Sequence[str] | str | None = None,
    out: Path = Path("dist"),
    portable: bool = False,
    juce_dir: str | None = None,
    version: str = "0.1.0",
    jobs: int | None = None,
    log=print,  # noqa: ANN001
    kind: str = "effect",
) -> list[BuiltPlugin]:
    """Build plugins. kind "effect" embeds `model` (None: a runtime-loader effect); kind "instrument"
    builds the NeuralSynth instrument with `model` in its neural stage (None: no neural stage)."""
    if kind not in KINDS:
        raise BuildError(f"unknown plugin kind {kind!r}: choose effect or instrument")
    target = KINDS[kind]
    fmts = parse_formats(formats)
    if not name or any(c in name for c in '/\\:"') or name != name.strip():
        raise BuildError(f"--name {name!r}: give a plain name without / \\ : or quotes")
    if model is not None:
        model = Path(model).resolve()
        summary = check_model(model, kind)
        log(f"model: {model.name} ({summary})")
    elif kind == "instrument":
        log("model: none (the instrument's neural stage is off)")
    else:
        log("model: none embedded (runtime-loader plugin)")
    if shutil.which("cmake") is None:
        raise BuildError("cmake is not installed (ci/setup.sh installs it)")
    juce_dir = juce_dir or os.environ.get("JUCE_DIR")
    src = plugin_source_dir()
    from .. import __version__

    key_text = "|".join(
        [kind, ",".join(sorted(fmts)), str(portable), str(juce_dir), __version__, platform.machine(), str(src)]
    )
    key = hashlib.sha1(key_text.encode()).hexdigest()[:12]
    build_dir = cache_root() / "plugin-build" / key
    build_dir.mkdir(parents=True, exist_ok=True)
    code = plugin_code(name)
    log_file = build_dir / "build.log"
    log_file.write_text("")
    gen = ["-G", "Ninja"] if shutil.which("ninja") else []
    defs = [
        f"-DNS_KIND={kind}",
        f"-DNS_PLUGIN_NAME={name}",
        f"-DNS_PLUGIN_CODE={code}",
        f"-DNS_MANUFACTURER_CODE={MANUFACTURER_CODE}",
        f"-DNS_PLUGIN_VERSION={version}",
        f"-DNS_FORMATS={';'.join(FORMAT_TARGETS[f] for f in fmts)}",
        f"-DNS_MODEL_FILE={model if model else ''}",
        f"-DNS_LV2_URI={lv2_uri(code)}",
        f"-DNS_PORTABLE={'ON' if portable else 'OFF'}",
        "-DCMAKE_BUILD_TYPE=Release",
    ]
    if juce_dir:
        defs.append(f"-DJUCE_DIR={juce_dir}")
    if shutil.which("ccache"):
        defs += ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"]
    t0 = time.perf_counter()
    with open(build_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        log(f"building {name!r} (code {code}) in {build_dir} ...")
        _run(["cmake", "-S", str(src), "-B", str(build_dir), *gen, *defs], log_file, "CMake configure")
        targets = [f"{target}_{FORMAT_TARGETS[f]}" for f in fmts]
        cmd = ["cmake", "--build", str(build_dir), "--target", *targets]
        cmd += ["-j", str(jobs or os.cpu_count() or 2)]
        _run(cmd, log_file, "plugin build")
        art = build_dir / f"{target}_artefacts" / "Release"
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        results = []
        for f in fmts:
            src_path = art / FORMAT_TARGETS[f] / (name if f == "standalone" else file_name(f, name))
            if not src_path.exists():
                raise BuildError(f"the build finished but {src_path} is missing (see {log_file})")
            dest = out / src_path.name
            _copy_atomic(src_path, dest)
            results.append(BuiltPlugin(f, dest.resolve()))
    log(f"built in {time.perf_counter() - t0:.1f} s")
    return results
