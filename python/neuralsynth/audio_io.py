"""Reading, writing and resampling audio files.

Audio is handled as float32 arrays of shape ``(frames, channels)``.

Reading supports ``.wav``, ``.flac``, ``.ogg``, ``.aiff``/``.aif`` (through soundfile) and
``.npy`` (a 1-D array is mono, a 2-D array is ``(frames, channels)``; no sample rate).
Writing supports ``.wav`` (32-bit float), ``.flac`` (24-bit PCM) and ``.npy`` (float32) and
is atomic: the data goes to a temporary file in the destination directory, which then
replaces the destination in one step, so a failure never leaves a half-written file or
clobbers an existing one.

Every problem is reported as :class:`~neuralsynth.errors.AudioError` naming the file.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import warnings
from typing import Any

import numpy as np
import soundfile
import soxr

from neuralsynth.errors import AudioError

__all__ = [
    "READ_EXTENSIONS",
    "WRITE_EXTENSIONS",
    "check_output_path",
    "read_audio",
    "resample",
    "write_audio",
]

#: Extensions :func:`read_audio` accepts (case-insensitive).
READ_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".npy")
#: Extensions :func:`write_audio` accepts (case-insensitive).
WRITE_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".npy")

# Largest data size (bytes) written as plain RIFF WAV; above it RF64 is used.
_WAV_MAX_BYTES = 0xFFFF_FFFF - 1024


def _extension(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _describe_extension(ext: str) -> str:
    return f"extension {ext!r}" if ext else "no extension"


def _check_read_extension(path: str) -> str:
    ext = _extension(path)
    if ext not in READ_EXTENSIONS:
        raise AudioError(
            f"{path}: unsupported audio file type ({_describe_extension(ext)}); "
            f"supported for reading: {', '.join(READ_EXTENSIONS)}"
        )
    return ext


def read_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, float | None]:
    """Read an audio file.

    Returns ``(data, sample_rate)``: ``data`` is a float32 array of shape
    ``(frames, channels)``; ``sample_rate`` is in Hz, or ``None`` for ``.npy`` files,
    which carry no rate.

    Raises :class:`AudioError` if the file is missing, has an unsupported extension,
    cannot be decoded, is empty, has the wrong number of dimensions or holds
    non-finite or non-floating-point samples.
    """
    name = os.fspath(path)
    ext = _check_read_extension(name)
    if not os.path.exists(name):
        raise AudioError(f"{name}: no such file")
    if os.path.isdir(name):
        raise AudioError(f"{name}: is a directory, not an audio file")

    rate: float | None
    if ext == ".npy":
        data = _read_npy(name)
        rate = None
    else:
        data, rate = _read_soundfile(name)

    if data.shape[0] == 0 or data.shape[1] == 0:
        raise AudioError(
            f"{name}: the file holds no audio ({data.shape[0]} frames, "
            f"{data.shape[1]} channels)"
        )
    if not np.all(np.isfinite(data)):
        bad = int(np.count_nonzero(~np.isfinite(data)))
        raise AudioError(f"{name}: {bad} sample(s) are not finite (NaN or infinity)")
    return data, rate


def _read_soundfile(name: str) -> tuple[np.ndarray, float]:
    try:
        data, rate = soundfile.read(name, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioError(f"{name}: cannot be read as audio ({exc})") from exc
    except OSError as exc:
        raise AudioError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    return np.ascontiguousarray(data, dtype=np.float32), float(rate)


def _read_npy(name: str) -> np.ndarray:
    try:
        loaded: Any = np.load(name, allow_pickle=False)
    except OSError as exc:
        raise AudioError(f"{name}: cannot be read ({exc.strerror or exc})") from exc
    except (ValueError, EOFError, TypeError) as exc:
        raise AudioError(f"{name}: not a valid .npy array file ({exc})") from exc
    if not isinstance(loaded, np.ndarray):
        with contextlib.suppress(Exception):
            loaded.close()
        raise AudioError(f"{name}: holds an .npz archive, not a single .npy array")
    arr: np.ndarray = loaded
    if not np.issubdtype(arr.dtype, np.floating):
        raise AudioError(
            f"{name}: holds {arr.dtype} values; expected floating-point samples "
            "(float32 or float64, full scale = 1.0)"
        )
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    elif arr.ndim != 2:
        raise AudioError(
            f"{name}: array has {arr.ndim} dimensions (shape {arr.shape}); expected 1 "
            "(frames,) for mono or 2 (frames, channels)"
        )
    return _to_float32(name, arr, "sample(s) are not finite (NaN or infinity)")


def _to_float32(name: str, arr: np.ndarray, non_finite: str) -> np.ndarray:
    """Convert to contiguous float32; AudioError on non-finite or out-of-range values."""
    finite = np.isfinite(arr)
    if not np.all(finite):
        bad = int(np.count_nonzero(~finite))
        raise AudioError(f"{name}: {bad} {non_finite}")
    with np.errstate(over="ignore"):
        out = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(out)):
        bad = int(np.count_nonzero(~np.isfinite(out)))
        raise AudioError(
            f"{name}: {bad} sample(s) are not finite as float32 (magnitude above 3.4e38)"
        )
    return out


def check_output_path(path: str | os.PathLike[str]) -> str:
    """Check that ``path`` can be written by :func:`write_audio`; return its extension.

    Checks the extension, that the directory exists and that ``path`` is not a
    directory. Raises :class:`AudioError` otherwise. Nothing is written.
    """
    name = os.fspath(path)
    ext = _extension(name)
    if ext not in WRITE_EXTENSIONS:
        raise AudioError(
            f"{name}: unsupported output file type ({_describe_extension(ext)}); "
            f"supported for writing: {', '.join(WRITE_EXTENSIONS)}"
        )
    if os.path.isdir(name):
        raise AudioError(f"{name}: is a directory")
    directory = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(directory):
        raise AudioError(f"{name}: directory {directory} does not exist")
    return ext


def _prepare_output(name: str, data: Any) -> np.ndarray:
    arr = np.asarray(data)
    if not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise AudioError(f"{name}: cannot write {arr.dtype} data as audio")
    if arr.ndim == 1:
        arr = arr[:, np.newaxis]
    elif arr.ndim != 2:
        raise AudioError(
            f"{name}: audio to write has shape {arr.shape}; expected (frames,) or "
            "(frames, channels)"
        )
    if arr.shape[1] == 0:
        raise AudioError(f"{name}: audio to write has no channels")
    return _to_float32(
        name, arr, "non-finite sample(s) (NaN or infinity); refusing to write them"
    )


def _check_rate(name: str, sample_rate: Any) -> int:
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        raise AudioError(f"{name}: invalid sample rate {sample_rate!r}") from None
    if not math.isfinite(rate) or rate < 1 or rate != round(rate):
        raise AudioError(
            f"{name}: sample rate {sample_rate!r} cannot be stored; the file needs a "
            "positive whole number of Hz"
        )
    return round(rate)


def _default_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_audio(
    path: str | os.PathLike[str], data: Any, sample_rate: float | None
) -> None:
    """Write audio atomically.

    ``data`` is ``(frames, channels)`` or ``(frames,)``. ``.wav`` is written as 32-bit
    float (RF64 beyond 4 GiB), ``.flac`` as 24-bit PCM (a warning is issued and the
    samples are clipped if they exceed full scale), ``.npy`` as float32 with shape
    ``(frames,)`` for mono and ``(frames, channels)`` otherwise (``sample_rate`` is
    ignored and may be ``None``).

    Raises :class:`AudioError` (before writing anything) for an unsupported
    extension, a missing directory, a bad shape, non-finite samples or an invalid
    sample rate, and if writing fails; an existing file at ``path`` is then left as
    it was and no temporary file remains.
    """
    name = os.fspath(path)
    ext = check_output_path(name)
    arr = _prepare_output(name, data)
    rate = 0 if ext == ".npy" else _check_rate(name, sample_rate)

    if ext == ".flac":
        peak = float(np.max(np.abs(arr))) if arr.size else 0.0
        if peak > 1.0:
            clipped = int(np.count_nonzero(np.abs(arr) > 1.0))
            warnings.warn(
                f"{name}: {clipped} sample(s) exceed full scale (peak {peak:.4g}) and are "
                "clipped in 24-bit FLAC; write .wav (32-bit float) to keep them",
                stacklevel=2,
            )
            arr = np.clip(arr, -1.0, 1.0)

    directory = os.path.dirname(os.path.abspath(name))
    base = os.path.basename(name)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise AudioError(
            f"{name}: cannot create a file in {directory} ({exc.strerror or exc})"
        ) from exc

    done = False
    try:
        with os.fdopen(fd, "wb") as handle:
            if ext == ".npy":
                np.save(handle, arr[:, 0] if arr.shape[1] == 1 else arr)
            elif ext == ".wav":
                container = "RF64" if arr.nbytes > _WAV_MAX_BYTES else "WAV"
                soundfile.write(handle, arr, rate, subtype="FLOAT", format=container)
            else:
                soundfile.write(handle, arr, rate, subtype="PCM_24", format="FLAC")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_file_mode())
        os.replace(tmp, name)
        done = True
    except OSError as exc:
        raise AudioError(f"{name}: cannot be written ({exc.strerror or exc})") from exc
    except (soundfile.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise AudioError(f"{name}: cannot be written ({exc})") from exc
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def resample(x: Any, from_rate: float, to_rate: float) -> np.ndarray:
    """Resample ``x`` along axis 0 from ``from_rate`` to ``to_rate`` Hz with soxr (VHQ).

    ``x`` is ``(frames,)`` or ``(frames, channels)``; float32 and float64 input keep
    their dtype, anything else is converted to float32. The result has about
    ``frames * to_rate / from_rate`` frames, aligned in time with the input (soxr
    compensates its own delay). Equal rates return a copy.
    """
    rates = []
    for label, value in (("source", from_rate), ("target", to_rate)):
        try:
            rate = float(value)
        except (TypeError, ValueError):
            raise AudioError(
                f"resample: invalid {label} sample rate {value!r}"
            ) from None
        if not math.isfinite(rate) or rate <= 0:
            raise AudioError(f"resample: invalid {label} sample rate {value!r}")
        rates.append(rate)
    src, dst = rates

    arr = np.asarray(x)
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float32)
    if arr.ndim not in (1, 2):
        raise AudioError(
            f"resample: expected (frames,) or (frames, channels), got shape {arr.shape}"
        )
    if src == dst or arr.shape[0] == 0:
        return arr.copy()
    out: np.ndarray = soxr.resample(np.ascontiguousarray(arr), src, dst, quality="VHQ")
    return out
