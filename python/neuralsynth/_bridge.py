"""Loads the C bridge (``libneuralsynth_bridge``) with cffi in ABI mode.

The library is found, in order, at ``$NEURALSYNTH_BRIDGE`` (a path to the
shared library), next to this file in ``_lib/`` (where ``pip install`` puts
it), or in ``build/`` of a source checkout.
"""

from __future__ import annotations

import os
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


@lru_cache(maxsize=1)
def lib():  # noqa: ANN201 - cffi library object
    tried = _candidates()
    for path in tried:
        if path.is_file():
            return ffi.dlopen(str(path))
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
