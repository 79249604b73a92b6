"""What to render: settings, the preset list (fxp files or seeded random vectors) and the job list.

A job is one (preset, note, velocity). Jobs are numbered in a fixed order (presets sorted, then
notes, then velocities), so a job's index, its shard and its random parameter vector depend only on
the options, never on the number of workers or on the order in which workers finish.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import RenderOptionError

if TYPE_CHECKING:
    from ..features import FeatureSettings

DEFAULT_NOTES = (48, 60, 72)
DEFAULT_VELOCITIES = (100,)
DEFAULT_DURATION = 4.0
DEFAULT_SAMPLE_RATE = 44100
DEFAULT_BLOCK_SIZE = 512
DEFAULT_SHARD_SIZE = 64
DEFAULT_SETTLE = 0.5
NOTE_LENGTH_FRACTION = 0.75
RESET_MODES = ("prime", "reload", "settle")
DEFAULT_RESET = "prime"


@dataclass(frozen=True)
class RenderSettings:
    """How each job is rendered. ``note_length`` is resolved (never None)."""

    sample_rate: int = DEFAULT_SAMPLE_RATE
    block_size: int = DEFAULT_BLOCK_SIZE
    notes: tuple[int, ...] = DEFAULT_NOTES
    velocities: tuple[int, ...] = DEFAULT_VELOCITIES
    duration: float = DEFAULT_DURATION
    note_length: float = DEFAULT_DURATION * NOTE_LENGTH_FRACTION
    # Seconds of silence rendered after applying a preset and before the note: envelopes, filters
    # and reverb tails of the previous job die out.
    settle: float = DEFAULT_SETTLE
    # How a reused plugin instance is kept from carrying state from one job into the next:
    #   "prime"  (default) settle, play the job's note once and discard it, settle, then render the
    #            note: state that silence does not clear (per-voice parameter smoothing that only runs
    #            while a voice sounds, accent/glide memory of the previous note) is then set by the job
    #            itself, so a row does not depend on the jobs rendered before it in that worker;
    #   "reload" a new plugin instance for every job (exactly a fresh render; costs a plugin load per job);
    #   "settle" silence only (fastest; enough only for plugins whose state dies out in silence).
    reset: str = DEFAULT_RESET
    # The feature columns and how they are computed (None: no feature columns). They travel to the
    # workers with the rest, so what a worker computes is what the manifest records (features_dict).
    features: FeatureSettings | None = None

    def __post_init__(self) -> None:
        if self.features is not None and self.features.sample_rate != self.sample_rate:
            raise RenderOptionError(
                f"feature settings for {self.features.sample_rate} Hz, the render is at {self.sample_rate} Hz"
            )

    @property
    def num_samples(self) -> int:
        return int(self.duration * self.sample_rate)  # as DawDreamer: (int64)(seconds * rate)

    def with_features(self, features: bool | FeatureSettings) -> RenderSettings:
        """These settings with features (``True``: the ones set, else the defaults for the sample rate) or
        without (``False``), or with the given :class:`~neuralsynth.features.FeatureSettings`."""
        if features is False:
            chosen = None
        elif features is True:
            chosen = self.features if self.features is not None else _default_features(self.sample_rate)
        else:
            chosen = features
        return self if chosen == self.features else dataclasses.replace(self, features=chosen)

    def features_dict(self) -> dict[str, Any] | None:
        """The feature settings as the manifest records them (None: no feature columns)."""
        return None if self.features is None else self.features.to_dict()

    def to_dict(self) -> dict[str, object]:
        """The render settings as the manifest records them (the features: :meth:`features_dict`)."""
        return {
            "sample_rate": self.sample_rate,
            "block_size": self.block_size,
            "notes": list(self.notes),
            "velocities": list(self.velocities),
            "duration": self.duration,
            "note_length": self.note_length,
            "settle": self.settle,
            "reset": self.reset,
        }


def make_settings(
    *,
    sample_rate: int = DEFAULT_SAMPLE_RATE,
    block_size: int = DEFAULT_BLOCK_SIZE,
    notes: Sequence[int] = DEFAULT_NOTES,
    velocities: Sequence[int] = DEFAULT_VELOCITIES,
    duration: float = DEFAULT_DURATION,
    note_length: float | None = None,
    settle: float = DEFAULT_SETTLE,
    reset: str = DEFAULT_RESET,
    features: bool | FeatureSettings = True,
) -> RenderSettings:
    """Checked settings; ``note_length`` defaults to 0.75 x ``duration``; ``features`` as
    :meth:`RenderSettings.with_features` takes it (default: the default features)."""
    if not 8000 <= sample_rate <= 655350:  # the features need 8 kHz or more; FLAC stores up to 655350 Hz
        raise RenderOptionError(f"sample rate must be between 8000 and 655350 Hz, got {sample_rate}")
    if not 1 <= block_size <= 65536:
        raise RenderOptionError(f"block size must be between 1 and 65536, got {block_size}")
    if not notes:
        raise RenderOptionError("no notes given")
    if not velocities:
        raise RenderOptionError("no velocities given")
    for n in notes:
        if not 0 <= n <= 127:
            raise RenderOptionError(f"MIDI notes must be within 0..127, got {n}")
    for v in velocities:
        if not 1 <= v <= 127:
            raise RenderOptionError(f"velocities must be within 1..127, got {v}")
    if not (math.isfinite(duration) and duration > 0):
        raise RenderOptionError(f"duration must be a positive number of seconds, got {duration}")
    if int(duration * sample_rate) < 1:
        raise RenderOptionError(f"duration {duration} s is shorter than one sample")
    if note_length is None:
        note_length = duration * NOTE_LENGTH_FRACTION
    if not (math.isfinite(note_length) and note_length > 0):
        raise RenderOptionError(f"note length must be a positive number of seconds, got {note_length}")
    if not (math.isfinite(settle) and settle >= 0):
        raise RenderOptionError(f"settle time must be zero or more seconds, got {settle}")
    if reset not in RESET_MODES:
        raise RenderOptionError(f"reset must be one of {', '.join(RESET_MODES)}, got {reset!r}")
    return RenderSettings(
        sample_rate=int(sample_rate),
        block_size=int(block_size),
        notes=tuple(int(n) for n in notes),
        velocities=tuple(int(v) for v in velocities),
        duration=float(duration),
        note_length=float(note_length),
        settle=float(settle),
        reset=reset,
    ).with_features(features)


def _default_features(sample_rate: int) -> FeatureSettings:
    from ..features import FeatureSettings

    return FeatureSettings(sample_rate)


def parse_int_list(text: str, what: str, low: int, high: int) -> list[int]:
    """``"48,60,72"`` -> [48, 60, 72], each within low..high; ranges ``"60-64"`` are allowed too."""
    values: list[int] = []
    for part in text.split(","):
        item = part.strip()
        if not item:
            raise RenderOptionError(f"bad {what} list {text!r}: empty item (write e.g. 48,60,72)")
        m = re.fullmatch(r"(\d+)\s*-\s*(\d+)", item)
        try:
            items = list(range(int(m.group(1)), int(m.group(2)) + 1)) if m else [int(item)]
        except ValueError:
            raise RenderOptionError(
                f"bad {what} list {text!r}: {item!r} is not a whole number (write e.g. 48,60,72)"
            ) from None
        if not items:
            raise RenderOptionError(f"bad {what} list {text!r}: empty range {item!r}")
        for value in items:
            if not low <= value <= high:
                raise RenderOptionError(f"{what} must be within {low}..{high}, got {value} in {text!r}")
        values.extend(items)
    if len(set(values)) != len(values):
        raise RenderOptionError(f"bad {what} list {text!r}: a value appears twice")
    return values


@dataclass(frozen=True)
class Preset:
    """One sound to render: an fxp file (``path``) or a normalized parameter vector (``params``)."""

    name: str
    category: str
    path: str | None = None
    params: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Job:
    index: int
    id: str
    preset: Preset
    note: int
    velocity: int
    attempt: int = field(default=0, compare=False)


def _fxp_name(path: Path) -> str:
    """The program name stored in an fxp, or the file stem when it cannot be read."""
    try:
        from ..presets import read_fxp
    except ImportError:  # pragma: no cover - the presets module is part of the package
        return path.stem
    try:
        fxp = read_fxp(path)
    except Exception:  # a broken file: the worker reports the real failure when it loads it
        return path.stem
    name = getattr(fxp, "name", None) or getattr(fxp, "program_name", None)
    if isinstance(fxp, dict):
        name = fxp.get("name") or fxp.get("program_name")
    name = str(name).strip("\x00 ").strip() if name else ""
    return name or path.stem


def find_presets(folder: str | Path) -> list[Preset]:
    """Every ``.fxp`` under ``folder`` (recursively), sorted by relative path.

    The category is the folder that holds the file, relative to ``folder`` ("" at top level,
    "Bass" for ``folder/Bass/x.fxp``, "Bass/Sub" for ``folder/Bass/Sub/x.fxp``).
    """
    root = Path(folder)
    if not root.exists():
        raise RenderOptionError(f"{folder}: no such presets folder")
    if not root.is_dir():
        raise RenderOptionError(f"{folder}: not a folder (--presets takes a folder of .fxp files)")
    files = sorted(
        (p for p in root.rglob("*") if p.suffix.lower() == ".fxp" and p.is_file()),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    if not files:
        raise RenderOptionError(f"{folder}: no .fxp presets in this folder or below")
    presets = []
    for path in files:
        parent = path.parent.relative_to(root).as_posix()
        presets.append(
            Preset(name=_fxp_name(path), category="" if parent == "." else parent, path=str(path.resolve()))
        )
    return presets


def random_vector(seed: int, index: int, num_params: int) -> np.ndarray:
    """Parameter vector ``index`` of seed ``seed``: uniform in [0, 1), independent of everything else."""
    return np.random.default_rng([seed, index]).random(num_params)


def random_presets(count: int, seed: int, num_params: int, fixed: dict[int, float] | None = None) -> list[Preset]:
    """``count`` random presets named ``random-000000``...; ``fixed`` pins parameters (index -> value)."""
    if count < 1:
        raise RenderOptionError(f"--random needs at least 1 preset, got {count}")
    if seed < 0:
        raise RenderOptionError(f"--seed must be zero or positive, got {seed}")
    presets = []
    for i in range(count):
        vec = random_vector(seed, i, num_params)
        for index, value in (fixed or {}).items():
            vec[index] = value
        presets.append(Preset(name=f"random-{i:06d}", category="random", params=tuple(float(v) for v in vec)))
    return presets


def parse_fixed(items: Iterable[str], names: Sequence[str]) -> dict[int, float]:
    """``["Cutoff=0.5", "3=1"]`` -> {index: value}; a name or an index, a normalized value in 0..1."""
    fixed: dict[int, float] = {}
    for item in items:
        key, sep, value_text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise RenderOptionError(f"bad --fixed {item!r}: write NAME=VALUE, e.g. --fixed Cutoff=0.5")
        try:
            value = float(value_text)
        except ValueError:
            raise RenderOptionError(f"bad --fixed {item!r}: {value_text.strip()!r} is not a number") from None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise RenderOptionError(f"bad --fixed {item!r}: values are normalized, within 0..1")
        if key in names:
            index = list(names).index(key)
        elif key.isdigit() and int(key) < len(names):
            index = int(key)
        else:
            matches = [i for i, n in enumerate(names) if n.lower() == key.lower()]
            if len(matches) != 1:
                shown = ", ".join(repr(n) for n in names[:40])
                more = f" and {len(names) - 40} more" if len(names) > 40 else ""
                raise RenderOptionError(
                    f"bad --fixed {item!r}: the plugin has no parameter {key!r} (it has {shown}{more})"
                )
            index = matches[0]
        fixed[index] = value
    return fixed


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "preset"


def make_jobs(presets: Sequence[Preset], settings: RenderSettings) -> list[Job]:
    """All (preset, note, velocity) jobs, numbered from 0 in preset, note, velocity order."""
    jobs: list[Job] = []
    for preset in presets:
        slug = _slug(f"{preset.category}/{preset.name}" if preset.category else preset.name)
        for note in settings.notes:
            for velocity in settings.velocities:
                index = len(jobs)
                job_id = f"{index:06d}-{slug}-n{note:03d}-v{velocity:03d}"
                jobs.append(Job(index=index, id=job_id, preset=preset, note=note, velocity=velocity))
    return jobs


def shard_ranges(num_jobs: int, shard_size: int) -> list[range]:
    """Job index ranges of the shards: shard k holds jobs k*size .. (k+1)*size - 1."""
    if shard_size < 1:
        raise RenderOptionError(f"shard size must be at least 1, got {shard_size}")
    return [range(start, min(start + shard_size, num_jobs)) for start in range(0, num_jobs, shard_size)]
