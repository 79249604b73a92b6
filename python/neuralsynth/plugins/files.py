"""Plugin files: which format a path is, its bundle and its binary; the rule for parameter keys.

A plugin is a VST3 bundle (``Name.vst3/Contents/<arch>/Name.so``), an LV2 bundle (``Name.lv2/``
with ``manifest.ttl``), a VST2 shared object (``libName.so``) or an AU component (macOS). The
format follows from the suffix alone (:meth:`PluginFile.of`); :meth:`PluginFile.checked` also
looks inside, so that a host is never handed something that is not a plugin.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import NeuralSynthError

__all__ = [
    "FORMATS", "SUFFIXES", "PluginError", "PluginFile", "check_plugin_path", "file_name", "param_key", "plugin_format",
]

SUFFIXES = {".vst3": "vst3", ".lv2": "lv2", ".so": "vst2", ".component": "au"}
FORMATS = tuple(SUFFIXES.values())
_EXPECTED = "expected a .vst3 bundle, an .lv2 bundle, a VST2 .so or an AU .component"


class PluginError(NeuralSynthError):
    """A file is not a loadable plugin, or a host failed."""


def plugin_format(path: str | os.PathLike) -> str | None:
    """The plugin format a path's suffix names, or None."""
    return SUFFIXES.get(Path(path).suffix.lower())


def file_name(fmt: str, name: str) -> str:
    """The file (or bundle) name JUCE gives the plugin ``name`` in format ``fmt`` (a VST2 on
    Linux is ``lib<name>.so``)."""
    suffix = next(s for s, f in SUFFIXES.items() if f == fmt)
    return f"lib{name}{suffix}" if fmt == "vst2" else f"{name}{suffix}"


def param_key(name: str) -> str:
    """The key of a parameter name: lower case, every run of other characters one ``_``, trimmed
    (``"Input Gain (dB)"`` -> ``"input_gain_db"``). Names that differ only in spelling match by key."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class PluginFile:
    """A plugin path and its format (``"vst3"``, ``"lv2"``, ``"vst2"`` or ``"au"``)."""

    path: Path
    format: str

    @classmethod
    def of(cls, path: str | os.PathLike) -> PluginFile:
        """The plugin file at ``path``, by its suffix; a :class:`PluginError` for any other suffix."""
        fmt = plugin_format(path)
        if fmt is None:
            raise PluginError(f"{path}: not a plugin ({_EXPECTED})")
        return cls(Path(path), fmt)

    @classmethod
    def checked(cls, path: str | os.PathLike) -> PluginFile:
        """:meth:`of`, and the file exists and has what its format needs (a VST3 bundle its ELF
        binary, an LV2 bundle its manifest.ttl, a VST2 .so is an ELF shared object)."""
        p = Path(path)
        if not p.exists():
            raise PluginError(f"{path}: no such file or bundle")
        plugin = cls.of(p)
        if plugin.format == "vst3":
            binary = plugin.binary
            if binary is None:
                raise PluginError(f"{path}: not a VST3 bundle (no Contents/<arch>/*.so inside)")
            _check_elf(binary)
        elif plugin.format == "lv2":
            if not (p / "manifest.ttl").is_file():
                raise PluginError(f"{path}: not an LV2 bundle (no manifest.ttl)")
        elif plugin.format == "vst2":
            _check_elf(p)
        return plugin

    @property
    def bundle(self) -> Path | None:
        """The bundle folder (VST3, LV2, AU); None for a VST2 .so, which is a single file."""
        return None if self.format == "vst2" else self.path

    @property
    def binary(self) -> Path | None:
        """The shared object a host loads: the .so itself (VST2), the first ``Contents/<arch>/*.so``
        of a VST3, the first ``*.so`` of an LV2 bundle, ``Contents/MacOS/*`` of an AU; None when the
        bundle has none."""
        if self.format == "vst2":
            return self.path
        if not self.path.is_dir():
            return None
        pattern = {"vst3": "Contents/*/*.so", "lv2": "*.so", "au": "Contents/MacOS/*"}[self.format]
        binaries = sorted(self.path.glob(pattern))
        return binaries[0] if binaries else None


def check_plugin_path(path: str | os.PathLike) -> str:
    """Say clearly when a path is not a plugin, before any host touches it; the plugin's format."""
    return PluginFile.checked(path).format


def _check_elf(binary: Path) -> None:
    with open(binary, "rb") as f:
        magic = f.read(4)
    if magic != b"\x7fELF":
        raise PluginError(f"{binary}: not a plugin binary (not an ELF shared object)")
