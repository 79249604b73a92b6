"""Run a built plugin in a real host: pedalboard (VST3) or DawDreamer (VST3, VST2, LV2).

Both hosts are wrapped behind one small interface: ``process(audio, sample_rate)`` with
audio shaped ``(channels, samples)`` float32, ``set_parameter(name, value)`` in the
parameter's own units, ``reset()``, and ``parameter_names``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..errors import NeuralSynthError

HOSTS = ("pedalboard", "dawdreamer")


class PluginError(NeuralSynthError):
    """A file is not a loadable plugin, or a host failed."""


def plugin_format(path: Path) -> str:
    p = Path(path)
    if p.suffix == ".vst3":
        return "vst3"
    if p.suffix == ".lv2":
        return "lv2"
    if p.suffix == ".so":
        return "vst2"
    if p.suffix == ".component":
        return "au"
    raise PluginError(f"{path}: not a plugin (expected a .vst3 bundle, an .lv2 bundle, a VST2 .so or an AU .component)")


def check_plugin_path(path: Path) -> str:
    """Say clearly when a path is not a plugin, before any host touches it."""
    p = Path(path)
    if not p.exists():
        raise PluginError(f"{path}: no such file or bundle")
    fmt = plugin_format(p)
    if fmt == "vst3":
        binaries = list((p / "Contents").glob("*/*.so")) if p.is_dir() else []
        if not binaries:
            raise PluginError(f"{path}: not a VST3 bundle (no Contents/<arch>/*.so inside)")
        _check_elf(binaries[0])
    elif fmt == "lv2":
        if not (p / "manifest.ttl").is_file():
            raise PluginError(f"{path}: not an LV2 bundle (no manifest.ttl)")
    elif fmt == "vst2":
        _check_elf(p)
    return fmt


def _check_elf(binary: Path) -> None:
    with open(binary, "rb") as f:
        magic = f.read(4)
    if magic != b"\x7fELF":
        raise PluginError(f"{binary}: not a plugin binary (not an ELF shared object)")


def lv2_uri_of(bundle: Path) -> str:
    text = (Path(bundle) / "manifest.ttl").read_text(errors="replace")
    m = re.search(r"<([^>]+)>\s*\n?\s*a\s+lv2:Plugin", text)
    if not m:
        raise PluginError(f"{bundle}: no lv2:Plugin in manifest.ttl")
    return m.group(1)


def install_lv2_for_dawdreamer(bundle: Path) -> str:
    """DawDreamer finds LV2 plugins by URI in ~/.lv2 only: copy the bundle there; return the URI."""
    dest_root = Path.home() / ".lv2"
    dest_root.mkdir(exist_ok=True)
    dest = dest_root / Path(bundle).name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(bundle, dest)
    return lv2_uri_of(bundle)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class PedalboardHost:
    name = "pedalboard"
    compensates_latency = True  # pedalboard trims the reported latency from what it returns

    def __init__(self, path: Path) -> None:
        fmt = check_plugin_path(path)
        if fmt != "vst3":
            raise PluginError(f"{path}: pedalboard on Linux loads VST3 plugins only; use --host dawdreamer for {fmt}")
        import pedalboard

        try:
            self.plugin = pedalboard.load_plugin(str(path))
        except Exception as e:  # noqa: BLE001 - the host's own error, re-raised with the path
            raise PluginError(f"{path}: pedalboard could not load it: {e}") from e
        self._params = self.plugin.parameters
        self._config: tuple[float, int, int] | None = None

    @property
    def parameter_names(self) -> list[str]:
        return list(self._params.keys())

    def _key(self, name: str) -> str:
        if name in self._params:
            return name
        for key in self._params:
            if key.startswith(_snake(name)):
                return key
        raise PluginError(f"no parameter {name!r}; the plugin has {', '.join(self._params)}")

    def set_parameter(self, name: str, value: float) -> None:
        key = self._key(name)
        if str(getattr(self.plugin, key)) in ("True", "False"):  # pedalboard wants bools for switches
            value = bool(value)
        setattr(self.plugin, key, value)

    def get_parameter(self, name: str) -> float:
        value = getattr(self.plugin, self._key(name))
        return float(bool(value)) if str(value) in ("True", "False") else float(value)

    def process(self, audio: np.ndarray, sample_rate: float, block_size: int = 512, reset: bool = True) -> np.ndarray:
        x = np.ascontiguousarray(audio, dtype=np.float32)
        config = (float(sample_rate), int(block_size), x.shape[0])
        if config != self._config:
            # pedalboard re-prepares the plugin when the rate or block size changes, but the
            # first call after that comes out wrong when the plugin's latency changed with it
            # (seen with pedalboard 0.9.26: the stale latency is applied once). A short
            # silent call at the new configuration settles it; reset=True then starts clean.
            self.plugin.process(
                np.zeros((x.shape[0], int(block_size)), np.float32), config[0], buffer_size=config[1], reset=True
            )
            self._config = config
            reset = True
        return self.plugin.process(x, config[0], buffer_size=config[1], reset=reset)

    def reset(self) -> None:
        self.plugin.reset()

    @property
    def raw_state(self) -> bytes:
        return self.plugin.raw_state

    @raw_state.setter
    def raw_state(self, value: bytes) -> None:
        self.plugin.raw_state = value


class DawDreamerHost:
    name = "dawdreamer"
    compensates_latency = False

    def __init__(self, path: Path, sample_rate: float = 48000.0, block_size: int = 512) -> None:
        fmt = check_plugin_path(path)
        import dawdreamer as daw

        self._daw = daw
        self.path = Path(path)
        self.sample_rate = float(sample_rate)
        self.block_size = int(block_size)
        self.engine = daw.RenderEngine(self.sample_rate, self.block_size)
        target = install_lv2_for_dawdreamer(self.path) if fmt == "lv2" else str(self.path)
        try:
            self.proc = self.engine.make_plugin_processor("plugin", target)
        except Exception as e:  # noqa: BLE001
            raise PluginError(f"{path}: DawDreamer could not load it: {e}") from e
        self._desc = {d["name"]: d for d in self.proc.get_parameters_description()}
        self._values: dict[str, float] = {}

    @property
    def parameter_names(self) -> list[str]:
        return list(self._desc)

    def _find(self, name: str) -> dict:
        if name in self._desc:
            return self._desc[name]
        for n, d in self._desc.items():
            if _snake(n) == _snake(name) or _snake(name).startswith(_snake(n)):
                return d
        raise PluginError(f"no parameter {name!r}; the plugin has {', '.join(self._desc)}")

    def set_parameter(self, name: str, value: float) -> None:
        # DawDreamer takes normalised 0..1 values; the ranges below are the plugin's own.
        d = self._find(name)
        lo, hi = _RANGES.get(_snake(d["name"]), (0.0, 1.0))
        norm = (float(value) - lo) / (hi - lo)
        self.proc.set_parameter(int(d["index"]), float(np.clip(norm, 0.0, 1.0)))

    def process(
        self, audio: np.ndarray, sample_rate: float, block_size: int | None = None, reset: bool = True
    ) -> np.ndarray:
        if float(sample_rate) != self.sample_rate or (block_size and int(block_size) != self.block_size):
            # Read the parameters before the old engine (which owns the processor) goes away.
            params = {int(d["index"]): self.proc.get_parameter(int(d["index"])) for d in self._desc.values()}
            self.sample_rate = float(sample_rate)
            self.block_size = int(block_size or self.block_size)
            self.proc = None
            self.engine = self._daw.RenderEngine(self.sample_rate, self.block_size)
            target = install_lv2_for_dawdreamer(self.path) if self.path.suffix == ".lv2" else str(self.path)
            self.proc = self.engine.make_plugin_processor("plugin", target)
            for i, v in params.items():
                self.proc.set_parameter(i, v)
        x = np.ascontiguousarray(audio, dtype=np.float32)
        n = x.shape[1]
        play = self.engine.make_playback_processor("input", x)
        self.engine.load_graph([(play, []), (self.proc, ["input"])])
        # Render whole blocks and cut: DawDreamer renders a duration, rounded to blocks.
        blocks = -(-n // self.block_size)
        self.engine.render(blocks * self.block_size / self.sample_rate)
        y = np.asarray(self.engine.get_audio(), dtype=np.float32)
        return y[:, :n]

    def reset(self) -> None:
        pass  # each render starts a fresh graph run; DawDreamer calls reset/prepare itself


_RANGES = {"input_gain": (-24.0, 24.0), "output_gain": (-24.0, 24.0), "mix": (0.0, 100.0)}


def open_plugin(path: str | os.PathLike, host: str = "pedalboard", sample_rate: float = 48000.0, block_size: int = 512):  # noqa: ANN201
    if host == "pedalboard":
        return PedalboardHost(Path(path))
    if host == "dawdreamer":
        return DawDreamerHost(Path(path), sample_rate, block_size)
    raise PluginError(f"unknown host {host!r}: choose from {', '.join(HOSTS)}")
