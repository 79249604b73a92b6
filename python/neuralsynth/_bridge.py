"""Loads the C bridge (``libneuralsynth_bridge``) with cffi in ABI mode.

The library is found, in order, at ``$NEURALSYNTH_BRIDGE`` (a path to the
shared library), next to this file in ``_lib/`` (where ``pip install`` puts
it), or in ``build/`` of a source checkout. A portable build
(``NEURALSYNTH_PORTABLE=ON``) ships an x86-64-v2 baseline and one library per
newer level (v3: AVX2/FMA, v4: AVX-512); the best one the CPU runs is loaded,
or the one ``$NEURALSYNTH_ISA`` names.
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from pathlib import Path

from cffi import FFI

from .errors import ModelError

CDEF = """
typedef struct ns_model ns_model;
typedef struct ns_model_info {
    char architecture[32];
    char format[16];
    char version[32];
    double sample_rate;
    int sample_rate_known;
    int num_inputs;
    int num_outputs;
    long long num_weights;
    long long macs_per_sample;
    int receptive_field;
    int latency;
    int max_block_size;
    long long state_bytes;
} ns_model_info;
const char* ns_version(void);
const char* ns_build_flags(void);
int ns_cpu_level(void);
int ns_model_load_file(const char* path, double sample_rate, int max_block_size, ns_model** out,
                       char* err, size_t err_len);
int ns_model_load_text(const char* json_text, size_t len, const char* name, double sample_rate,
                       int max_block_size, ns_model** out, char* err, size_t err_len);
void ns_model_free(ns_model* m);
int ns_model_prepare(ns_model* m, double sample_rate, int max_block_size, char* err, size_t err_len);
int ns_model_info_get(const ns_model* m, ns_model_info* info);
int ns_model_process(ns_model* m, const float* const* inputs, float* const* outputs, int n);
int ns_model_reset(ns_model* m);
int ns_model_bench(ns_model* m, int block_size, long long num_samples, double* ns_per_sample,
                   char* err, size_t err_len);
typedef struct ns_synth ns_synth;
typedef struct ns_param_info {
    char id[32];
    char name[48];
    char unit[8];
    char group[24];
    char choices[128];
    float min_value, max_value, default_value;
    int scale;
} ns_param_info;
typedef struct ns_midi_event {
    int sample;
    unsigned char status, data1, data2, pad;
} ns_midi_event;
int ns_synth_param_count(void);
int ns_synth_param_info(int index, ns_param_info* info);
float ns_synth_param_from_normalized(int index, float normalized);
float ns_synth_param_to_normalized(int index, float value);
int ns_synth_create(double sample_rate, int max_block_size, ns_synth** out, char* err, size_t err_len);
void ns_synth_free(ns_synth* s);
int ns_synth_load_model_file(ns_synth* s, const char* path, char* err, size_t err_len);
int ns_synth_set_param(ns_synth* s, int index, float value);
int ns_synth_set_param_normalized(ns_synth* s, int index, float normalized);
float ns_synth_get_param(const ns_synth* s, int index);
int ns_synth_reset(ns_synth* s);
int ns_synth_process(ns_synth* s, const ns_midi_event* events, int num_events, float* left, float* right, int n);
int ns_synth_active_voices(const ns_synth* s);
"""

STATUS_NAMES = {
    1: "io",
    2: "parse",
    3: "format",
    4: "unsupported",
    5: "limit",
    6: "argument",
    7: "memory",
    8: "internal",
}

ffi = FFI()
ffi.cdef(CDEF)

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
