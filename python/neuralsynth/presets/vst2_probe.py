"""Read a VST2 plugin's unique id, parameter and program counts and name, safely.

The plugin's shared object is loaded with ctypes in a child process (``python -m
neuralsynth.presets.vst2_probe PLUGIN OUT.json``), so a plugin that crashes or hangs while
loading cannot take the caller down. The child calls ``VSTPluginMain(hostCallback)`` (or the
old entry point ``main``); the host callback answers ``audioMasterVersion`` (opcode 1) with
2400 and everything else with 0. It then reads the ``AEffect`` struct::

    int32 magic ('VstP'); 4 function pointers: dispatcher, process, setParameter, getParameter;
    int32 numPrograms, numParams, numInputs, numOutputs, flags; intptr resvd1, resvd2;
    int32 initialDelay, realQualities, offQualities; float ioRatio; void* object, user;
    int32 uniqueID, version; processReplacing, processDoubleReplacing; char future[56]

asks the dispatcher for the names (effOpen, effGetEffectName, effGetVendorString,
effGetProductString) and closes the plugin (effClose). Results are cached per file
(path, size, modification time).
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from .fxp import PresetError, fourcc

__all__ = ["vst2_info", "Vst2ProbeError", "PROBE_TIMEOUT"]

PROBE_TIMEOUT = 60.0
VST_MAGIC = int.from_bytes(b"VstP", "big")
AUDIO_MASTER_VERSION = 1
EFF_OPEN, EFF_CLOSE = 0, 1
EFF_GET_EFFECT_NAME, EFF_GET_VENDOR_STRING, EFF_GET_PRODUCT_STRING = 45, 47, 48
EFF_FLAGS_HAS_EDITOR = 1 << 0
EFF_FLAGS_CAN_REPLACING = 1 << 4
EFF_FLAGS_PROGRAM_CHUNKS = 1 << 5
EFF_FLAGS_IS_SYNTH = 1 << 8

_cache: dict[tuple[str, int, int], dict[str, Any]] = {}


class Vst2ProbeError(PresetError):
    """A file could not be probed as a VST2 plugin (not a plugin, or it crashed while loading).

    A :class:`PresetError`, so code applying presets catches one exception type.
    """


# --------------------------------------------------------------------------- child side

_Dispatcher = ctypes.CFUNCTYPE(
    ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_ssize_t, ctypes.c_void_p,
    ctypes.c_float,
)
_HostCallback = ctypes.CFUNCTYPE(
    ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32, ctypes.c_ssize_t, ctypes.c_void_p,
    ctypes.c_float,
)


class _AEffect(ctypes.Structure):
    _fields_ = [
        ("magic", ctypes.c_int32),
        ("dispatcher", _Dispatcher),
        ("process", ctypes.c_void_p),
        ("setParameter", ctypes.c_void_p),
        ("getParameter", ctypes.c_void_p),
        ("numPrograms", ctypes.c_int32),
        ("numParams", ctypes.c_int32),
        ("numInputs", ctypes.c_int32),
        ("numOutputs", ctypes.c_int32),
        ("flags", ctypes.c_int32),
        ("resvd1", ctypes.c_ssize_t),
        ("resvd2", ctypes.c_ssize_t),
        ("initialDelay", ctypes.c_int32),
        ("realQualities", ctypes.c_int32),
        ("offQualities", ctypes.c_int32),
        ("ioRatio", ctypes.c_float),
        ("object", ctypes.c_void_p),
        ("user", ctypes.c_void_p),
        ("uniqueID", ctypes.c_int32),
        ("version", ctypes.c_int32),
        ("processReplacing", ctypes.c_void_p),
        ("processDoubleReplacing", ctypes.c_void_p),
        ("future", ctypes.c_char * 56),
    ]


def _host_callback(effect, opcode, index, value, ptr, opt):  # noqa: ANN001, ANN202 - C callback
    return 2400 if opcode == AUDIO_MASTER_VERSION else 0


def _dispatch_string(effect: _AEffect, opcode: int) -> str:
    buf = ctypes.create_string_buffer(512)  # the SDK's limits are 32-64 chars; plugins overrun them
    effect.dispatcher(ctypes.byref(effect), opcode, 0, 0, ctypes.cast(buf, ctypes.c_void_p), 0.0)
    return buf.value.decode("utf-8", "replace").strip()


def _probe_in_this_process(plugin: str) -> dict[str, Any]:
    """Load the plugin here. Only the child process calls this."""
    lib = ctypes.CDLL(os.path.abspath(plugin))
    entry = None
    for symbol in ("VSTPluginMain", "main"):
        try:
            entry = getattr(lib, symbol)
            break
        except AttributeError:
            continue
    if entry is None:
        return {"error": "no VSTPluginMain (or main) entry point: not a VST2 plugin"}
    entry.restype = ctypes.POINTER(_AEffect)
    entry.argtypes = [_HostCallback]
    callback = _HostCallback(_host_callback)
    ptr = entry(callback)
    if not ptr:
        return {"error": "VSTPluginMain returned NULL (the plugin refused to load)"}
    effect = ptr.contents
    magic = effect.magic & 0xFFFFFFFF
    if magic != VST_MAGIC:
        return {"error": f"AEffect magic: expected 'VstP', found {fourcc(magic)!r}"}
    info: dict[str, Any] = {
        "unique_id": effect.uniqueID & 0xFFFFFFFF,
        "version": effect.version,
        "num_params": effect.numParams,
        "num_programs": effect.numPrograms,
        "num_inputs": effect.numInputs,
        "num_outputs": effect.numOutputs,
        "flags": effect.flags,
        "initial_delay": effect.initialDelay,
    }
    effect.dispatcher(ptr, EFF_OPEN, 0, 0, None, 0.0)
    info["name"] = _dispatch_string(effect, EFF_GET_EFFECT_NAME)
    info["vendor"] = _dispatch_string(effect, EFF_GET_VENDOR_STRING)
    info["product"] = _dispatch_string(effect, EFF_GET_PRODUCT_STRING)
    effect.dispatcher(ptr, EFF_CLOSE, 0, 0, None, 0.0)
    return info


def _child_main(argv: list[str]) -> int:
    plugin, out = argv
    try:
        info = _probe_in_this_process(plugin)
    except OSError as e:
        info = {"error": f"cannot load it: {e}"}
    with open(out, "w") as f:
        json.dump(info, f)
    sys.stdout.flush()
    os._exit(0)  # skip the plugin's static destructors: some crash at exit


# --------------------------------------------------------------------------- parent side


def vst2_info(plugin_path: str | os.PathLike, timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """``unique_id`` (unsigned 32-bit), ``num_params``, ``num_programs``, ``name`` and more of a VST2 ``.so``.

    Also: ``unique_id_text`` (four characters), ``version``, ``num_inputs``, ``num_outputs``,
    ``flags``, ``program_chunks`` (the plugin saves state as an opaque chunk), ``is_synth``,
    ``vendor``, ``product``. Raises :class:`Vst2ProbeError` when the file is not a loadable
    VST2 plugin or the plugin crashes or hangs while loading.
    """
    path = Path(plugin_path)
    try:
        st = path.stat()
    except OSError:
        raise Vst2ProbeError(f"{plugin_path}: no such plugin file") from None
    if not path.is_file():
        raise Vst2ProbeError(f"{plugin_path}: expected a VST2 .so file, found a directory")
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _cache:
        return dict(_cache[key])
    with tempfile.TemporaryDirectory(prefix="ns-vst2-probe-") as tmp:
        out = Path(tmp) / "info.json"
        cmd = [sys.executable, "-m", "neuralsynth.presets.vst2_probe", str(path.resolve()), str(out)]
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # the folder holding neuralsynth/
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=tmp, env=env, check=False)
        except subprocess.TimeoutExpired:
            raise Vst2ProbeError(f"{plugin_path}: the plugin did not finish loading within {timeout:g} s") from None
        if proc.returncode != 0 or not out.is_file():
            how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            detail = ("; " + " | ".join(tail)) if tail else ""
            raise Vst2ProbeError(f"{plugin_path}: the plugin crashed while loading ({how}){detail}")
        info = json.loads(out.read_text())
    if "error" in info:
        raise Vst2ProbeError(f"{plugin_path}: {info['error']}")
    info["unique_id_text"] = fourcc(info["unique_id"])
    info["program_chunks"] = bool(info["flags"] & EFF_FLAGS_PROGRAM_CHUNKS)
    info["is_synth"] = bool(info["flags"] & EFF_FLAGS_IS_SYNTH)
    _cache[key] = info
    return dict(info)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python -m neuralsynth.presets.vst2_probe PLUGIN.so OUT.json", file=sys.stderr)
        sys.exit(2)
    _child_main(sys.argv[1:])
