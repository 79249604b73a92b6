"""``neuralsynth render``: render preset datasets through a plugin in DawDreamer.

Modules: :mod:`.jobs` (settings, presets, the numbered job list, seeding), :mod:`.worker` (one engine
per process), :mod:`.pool` (local worker processes with crash replacement), :mod:`.ray_backend`
(the same on Ray actors), :mod:`.shards` (Parquet rows, atomic writes, resume checks),
:mod:`.manifest`, :mod:`.run` (the whole run), :mod:`.check` (dataset validator),
:mod:`.progress` and :mod:`.bench` (worker scaling).
"""

from __future__ import annotations

from .errors import DatasetError, RenderError, RenderOptionError

__all__ = ["DatasetError", "RenderError", "RenderOptionError"]
