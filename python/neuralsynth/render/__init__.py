"""``neuralsynth render``: render preset datasets through a plugin in DawDreamer.

Modules: :mod:`.jobs` (settings with their feature settings, presets, the numbered job list, seeding),
:mod:`.schema` (the row's columns, described once), :mod:`.worker` (one engine per process),
:mod:`.failures` (the retry policy and failure record of both backends), :mod:`.pool` (local worker
processes with crash replacement), :mod:`.ray_backend` (the same on Ray actors), :mod:`.faults`
(fault injection for the tests), :mod:`.shards` (Parquet rows, atomic writes, resume checks),
:mod:`.manifest`, :mod:`.run` (the whole run), :mod:`.check` (dataset validator), :mod:`.verify`
(re-render checks), :mod:`.progress` and :mod:`.bench` (worker scaling).
"""

from __future__ import annotations

from .errors import DatasetError, RenderError, RenderOptionError

__all__ = ["DatasetError", "RenderError", "RenderOptionError"]
