"""The system's libsoxr (the library the plugins link), for resampling the reference.

The python-soxr wheel bundles its own libsoxr build, whose filters differ slightly from
Debian's libsoxr 0.1.3 near the band edge; "resampled the same way" as the plugin means
calling the same library. Both resamplers use libsoxr's defaults (float32 interleaved,
SOXR_HQ), as plugin_src/effect/RateBridge.h does.
"""

from __future__ import annotations

import ctypes.util
from functools import lru_cache

import numpy as np
from cffi import FFI

from ..errors import NeuralSynthError

_ffi = FFI()
_ffi.cdef(
    """
    typedef struct soxr * soxr_t;
    typedef char const * soxr_error_t;
    char const * soxr_version(void);
    soxr_t soxr_create(double input_rate, double output_rate, unsigned num_channels, soxr_error_t * error,
                       void const * io_spec, void const * quality_spec, void const * runtime_spec);
    soxr_error_t soxr_process(soxr_t resampler, void const * in, size_t ilen, size_t * idone,
                              void * out, size_t olen, size_t * odone);
    void soxr_delete(soxr_t);
    """
)


@lru_cache(maxsize=1)
def _lib():  # noqa: ANN202
    name = ctypes.util.find_library("soxr") or "libsoxr.so.0"
    try:
        return _ffi.dlopen(name)
    except OSError as e:
        raise NeuralSynthError(f"libsoxr not found ({e}); install it: apt-get install libsoxr0") from e


def version() -> str:
    return _ffi.string(_lib().soxr_version()).decode()


def resample(x: np.ndarray, in_rate: float, out_rate: float) -> np.ndarray:
    """Resample a 1-D signal with a fresh libsoxr stream, flushed at the end (float32)."""
    lib = _lib()
    src = np.ascontiguousarray(x, dtype=np.float32)
    n_out = int(round(src.size * out_rate / in_rate))
    out = np.zeros(n_out + 64, np.float32)
    err = _ffi.new("soxr_error_t *")
    s = lib.soxr_create(float(in_rate), float(out_rate), 1, err, _ffi.NULL, _ffi.NULL, _ffi.NULL)
    if err[0] != _ffi.NULL:
        raise NeuralSynthError("soxr: " + _ffi.string(err[0]).decode())
    try:
        idone = _ffi.new("size_t *")
        odone = _ffi.new("size_t *")
        pos_in, pos_out = 0, 0
        pin = _ffi.cast("float *", src.ctypes.data)
        pout = _ffi.cast("float *", out.ctypes.data)
        while pos_in < src.size:
            lib.soxr_process(s, pin + pos_in, src.size - pos_in, idone, pout + pos_out, out.size - pos_out, odone)
            pos_in += idone[0]
            pos_out += odone[0]
            if idone[0] == 0 and odone[0] == 0:
                break
        while pos_out < n_out:  # flush: NULL input drains the filter
            lib.soxr_process(s, _ffi.NULL, 0, idone, pout + pos_out, out.size - pos_out, odone)
            if odone[0] == 0:
                break
            pos_out += odone[0]
    finally:
        lib.soxr_delete(s)
    return out[:n_out]
