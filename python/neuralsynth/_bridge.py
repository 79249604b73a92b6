"""Loads the C bridge (``libneuralsynth_bridge``) with cffi in ABI mode.

The library is found, in order, at ``$NEURALSYNTH_BRIDGE`` (a path to the
shared library), next to this file in ``_lib/`` (where ``pip install`` puts
it), or in ``build/`` of a source checkout. A portable build
(``NEURALSYNTH_PORTABLE=ON``) ships an x86-64-v2 baseline and one library per
newer level (v3: AVX2/FMA, v4: AVX-512); the best one the CPU runs is loaded,
or the one ``$NEURALSYNTH_ISA`` names.

The C declarations are not repeated here: they are read from the bridge's header,
``neuralsynth_bridge.h``, which every build installs beside the library (the text between
its ``ns-cdef`` markers), so Python always declares what the loaded library was built from.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from cffi import FFI

from .errors import ModelError

_LIB_NAME = {"darwin": "libneuralsynth_bridge.dylib", "win32": "neuralsynth_bridge.dll"}.get(
    sys.platform, "libneuralsynth_bridge.so"
)


def _candidates() -> list[Path]:
    here = Path(__file__).resolve().parent
    found = []
    env = os.environ.get("NEURALSYNTH_BRIDGE")
    if env:
        found.append(Path(env))
    found.append(here / "_lib" / _LIB_NAME)
    root = here.parent.parent
    found.append(root / "build" / _LIB_NAME)
    return found


HEADER_NAME = "neuralsynth_bridge.h"
_CDEF_BEGIN = "/* ns-cdef: begin */"
_CDEF_END = "/* ns-cdef: end */"


def header_path() -> Path:
    """The bridge header that declares the library :func:`lib` loads: beside the first library
    found, else the source checkout's ``bridge/``."""
    for path in _candidates():
        if path.is_file() and (path.parent / HEADER_NAME).is_file():
            return path.parent / HEADER_NAME
    source = Path(__file__).resolve().parent.parent.parent / "bridge" / HEADER_NAME
    if source.is_file():
        return source
    raise ImportError(
        f"the neuralsynth bridge header {HEADER_NAME} was not found beside the library or in the source "
        "checkout; reinstall the package (`pip install .`) so the build installs it"
    )


def cdef_text(header: str) -> str:
    """The declarations cffi takes from the header text: the ns-cdef region without ``NS_API``."""
    try:
        body = header.split(_CDEF_BEGIN, 1)[1].split(_CDEF_END, 1)[0]
    except IndexError:
        raise ImportError(f"{HEADER_NAME}: the {_CDEF_BEGIN} ... {_CDEF_END} region is missing") from None
    return re.sub(r"\bNS_API\s+", "", body)


def status_names(header: str) -> dict[int, str]:
    """Status code -> short name ("io", "parse", ...), from the header's ns_status enum."""
    return {int(v): name.lower() for name, v in re.findall(r"\bNS_ERR_([A-Z_]+)\s*=\s*(\d+)", cdef_text(header))}


_HEADER = header_path().read_text()
ffi = FFI()
ffi.cdef(cdef_text(_HEADER))
STATUS_NAMES = status_names(_HEADER)

ISA_LEVELS = ("x86-64-v2", "x86-64-v3", "x86-64-v4")


def variant_path(base: Path, level: int) -> Path:
    """The library of a portable build for x86-64 level ``level`` (3, 4) beside the baseline."""
    stem, dot, ext = base.name.partition(".")
    return base.with_name(f"{stem}-x86-64-v{level}{dot}{ext}")


_VARIANT = re.compile(r"^(?P<stem>.+)-x86-64-v(?P<level>[34])(?P<ext>\..+)$")


def _forced_level() -> int | None:
    forced = os.environ.get("NEURALSYNTH_ISA", "").strip()
    if not forced:
        return None
    if forced not in ISA_LEVELS:
        raise ImportError(f"NEURALSYNTH_ISA={forced!r}: expected one of {', '.join(ISA_LEVELS)}")
    return int(forced[-1])


def _load(path: Path):  # noqa: ANN202 - cffi library object
    """Open the bridge at ``path``.

    - ``path`` is the x86-64-v2 baseline of a portable build (its flags say so): open the best
      per-level library beside it that this CPU runs, or the level ``$NEURALSYNTH_ISA`` names.
    - ``path`` is a per-level library itself: open it if the CPU runs that level (checked with
      the baseline beside it, which runs anywhere).
    - otherwise (a native build): open it; ``$NEURALSYNTH_ISA`` is refused, and per-level files
      left beside it by an earlier portable build are ignored.
    """
    forced = _forced_level()
    m = _VARIANT.match(path.name)
    if m:
        level = int(m["level"])
        if forced is not None and forced != level:
            raise ImportError(f"NEURALSYNTH_ISA=x86-64-v{forced} contradicts NEURALSYNTH_BRIDGE={path}")
        base = path.with_name(m["stem"] + m["ext"])
        if base.is_file():
            cpu = int(ffi.dlopen(str(base)).ns_cpu_level())
            if level > cpu:
                raise ImportError(f"{path.name} needs x86-64-v{level}; this CPU supports level {cpu} at most")
        return ffi.dlopen(str(path))
    handle = ffi.dlopen(str(path))
    flags = ffi.string(handle.ns_build_flags()).decode()
    if "-march=x86-64-v2" not in flags:
        if forced is not None:
            raise ImportError(
                f"NEURALSYNTH_ISA=x86-64-v{forced}: {path} is not a portable build (built with {flags}); "
                "build with -C cmake.define.NEURALSYNTH_PORTABLE=ON for the per-level libraries"
            )
        return handle
    variants = {lv: variant_path(path, lv) for lv in (3, 4) if variant_path(path, lv).is_file()}
    cpu = int(handle.ns_cpu_level())
    if forced is not None:
        if forced > cpu:
            raise ImportError(f"NEURALSYNTH_ISA=x86-64-v{forced}: this CPU supports x86-64 level {cpu} at most")
        if forced == 2:
            return handle
        if forced not in variants:
            raise ImportError(f"NEURALSYNTH_ISA=x86-64-v{forced}: no {variant_path(path, forced).name} beside {path}")
        return ffi.dlopen(str(variants[forced]))
    for level in (4, 3):
        if level <= cpu and level in variants:
            return ffi.dlopen(str(variants[level]))
    return handle


@lru_cache(maxsize=1)
def lib():  # noqa: ANN201 - cffi library object
    tried = _candidates()
    for path in tried:
        if path.is_file():
            return _load(path)
    raise ImportError(
        "the neuralsynth bridge library is not built; looked in: "
        + ", ".join(str(p) for p in tried)
        + ". Install the package with `pip install .` (it builds the bridge with CMake), "
        "or set NEURALSYNTH_BRIDGE to the library path."
    )


class ErrorBuffer:
    """A C buffer for error messages, and the check that turns a status into ModelError."""

    SIZE = 4096

    def __init__(self) -> None:
        self.buf = ffi.new("char[]", self.SIZE)

    def check(self, status: int) -> None:
        if status != 0:
            msg = ffi.string(self.buf).decode("utf-8", "replace") or "unknown error"
            err = ModelError(msg)
            err.code = STATUS_NAMES.get(status, str(status))  # type: ignore[attr-defined]
            raise err
