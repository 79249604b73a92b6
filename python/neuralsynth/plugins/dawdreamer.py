"""Opening a plugin in DawDreamer: the one place that makes a DawDreamer engine and processor.

DawDreamer loads VST2 and VST3 plugins from their path and LV2 plugins by URI from ``~/.lv2``
only (an LV2 bundle is copied there first). A plugin DawDreamer refuses is a
:class:`~neuralsynth.plugins.files.PluginError` naming the path.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..midi import MidiError, MidiEvent, write_midi_file
from .files import PluginError, PluginFile

__all__ = ["open_processor", "processor_target", "install_lv2_for_dawdreamer", "lv2_uri_of", "load_events"]


def lv2_uri_of(bundle: str | os.PathLike) -> str:
    """The URI of the plugin an LV2 bundle's manifest.ttl declares."""
    text = (Path(bundle) / "manifest.ttl").read_text(errors="replace")
    m = re.search(r"<([^>]+)>\s*\n?\s*a\s+lv2:Plugin", text)
    if not m:
        raise PluginError(f"{bundle}: no lv2:Plugin in manifest.ttl")
    return m.group(1)


def install_lv2_for_dawdreamer(bundle: str | os.PathLike) -> str:
    """DawDreamer finds LV2 plugins by URI in ~/.lv2 only: copy the bundle there; return the URI."""
    dest_root = Path.home() / ".lv2"
    dest_root.mkdir(exist_ok=True)
    dest = dest_root / Path(bundle).name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(bundle, dest)
    return lv2_uri_of(bundle)


def processor_target(path: str | os.PathLike) -> str:
    """What to give DawDreamer's ``make_plugin_processor`` for a plugin file (an LV2 is installed first)."""
    plugin = PluginFile.of(path)
    return install_lv2_for_dawdreamer(plugin.path) if plugin.format == "lv2" else str(plugin.path)


def open_processor(path: str | os.PathLike, sample_rate: float = 44100.0, block_size: int = 512,
                   name: str = "plugin") -> tuple[Any, Any]:
    """A DawDreamer ``RenderEngine`` at ``sample_rate``/``block_size`` and the plugin's processor in it.

    Keep the engine alive as long as the processor is used: the engine owns it.
    """
    import dawdreamer

    target = processor_target(path)
    engine = dawdreamer.RenderEngine(float(sample_rate), int(block_size))
    try:
        processor = engine.make_plugin_processor(name, target)
    except Exception as e:  # noqa: BLE001 - the host's own error, re-raised with the path
        raise PluginError(f"{path}: DawDreamer could not load it: {e}") from e
    return engine, processor


def load_events(processor: Any, events: Sequence[MidiEvent], sample_rate: float) -> None:
    """Replace a processor's MIDI with ``events`` (sorted ``(sample, message)`` pairs) at exact samples.

    The events go in through a MIDI file (:func:`~neuralsynth.midi.write_midi_file`): ``load_midi``
    keeps controllers and pitch bend, ``add_midi_note`` only notes.
    """
    if not events:
        processor.clear_midi()
        return
    with tempfile.TemporaryDirectory(prefix="ns-midi-") as tmp:
        midi = Path(tmp) / "events.mid"
        try:
            write_midi_file(midi, events, sample_rate)
        except MidiError as e:
            raise PluginError(str(e)) from None
        if not processor.load_midi(str(midi), clear_previous=True, beats=False, all_events=True):
            raise PluginError("DawDreamer could not load the MIDI events")
