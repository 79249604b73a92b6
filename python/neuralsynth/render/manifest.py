"""``manifest.json``: what a rendered dataset holds and how it was made; written atomically.

Its ``columns`` come from :func:`.schema.column_docs`, its ``features`` from the render settings.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "neuralsynth-render-dataset"
FORMAT_VERSION = 1

def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def software_versions() -> dict[str, str | None]:
    """Versions of what made the data (None: not importable)."""
    versions: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("neuralsynth", "dawdreamer", "numpy", "pyarrow", "soundfile", "librosa", "scipy", "soxr", "ray"):
        if name == "ray" and "ray" not in sys.modules:
            continue
        try:
            module = __import__(name)
            versions[name] = str(getattr(module, "__version__", None))
        except Exception:
            versions[name] = None
    try:
        import soundfile

        versions["libsndfile"] = str(soundfile.__libsndfile_version__)
    except Exception:
        versions["libsndfile"] = None
    return versions


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON to a hidden temporary file, fsync it and rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=2, sort_keys=False, default=str)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of ``folder``, or None if there is none or it is not ours."""
    path = folder / MANIFEST_NAME
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        return None
    return doc
