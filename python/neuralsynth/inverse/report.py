"""The ``evaluate`` HTML report of preset inference: one self-contained ``index.html`` plus ``summary.json``.

``write_report(out_dir, title, sets, examples, info)`` writes into ``out_dir`` (created if missing):

``index.html``
    Everything inline: CSS, images as base64 PNG data URIs (matplotlib, Agg canvas, object-oriented API only: no
    pyplot, no global backend switch), audio players as ``<audio controls src="data:audio/wav;base64,...">``
    holding 16-bit PCM WAV. Layout: a provenance table (``info``); then per test set a metrics table (methods x
    metrics, ``mean [lo, hi]``, the best mean of each column in bold, an arrow in the header saying which
    direction is better), the ratio rows, a per-parameter error-bar chart (MAE with its CI for continuous
    parameters, ``1 - accuracy`` with its CI for discrete ones) with the numbers in a collapsible table; then the
    examples: per sound (target first, then each render) a log-mel spectrogram (one colour scale shared by the
    row) and a player.
``summary.json``
    ``title``, ``info``, the metric table, every set's numbers and the examples' names and shapes: everything
    but audio and images. NaN is written as ``null``, +-infinity as the strings ``"inf"`` / ``"-inf"`` (JSON has
    no infinity), tuples as lists.

Size: players hold at most ``max_audio_seconds`` (default 6 s) from the start of each sound, at the sound's own
rate and channel count (more than 2 channels are averaged to mono), so a 6 s stereo 48 kHz player is 1.5 MB of
base64; ``player_sample_rate`` resamples the players (soxr) and ``player_mono`` mixes them to mono to shrink the
page. Images are rendered at ``dpi`` (default 80, at most 150). Samples beyond +-1 are clipped in the players
only (the caption says so).

Atomicity: all input is validated and the whole page and JSON are built in memory before anything is written;
each file is then written to a temporary file in ``out_dir`` and moved into place with ``os.replace``
(``summary.json`` first, ``index.html`` last). A failure (bad input raises ``ValueError`` naming the set,
method, example or render at fault) leaves any previous report untouched and no partial file behind.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .metrics import METRICS, MetricInfo, log_mel_spectrogram

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Example", "MethodSummary", "SetSummary", "write_report"]

INDEX = "index.html"
SUMMARY = "summary.json"
SPEC_N_FFT = 2048
SPEC_HOP = 512
SPEC_N_MELS = 128
SPEC_RANGE = math.log(1e8)  # colour range below the row's peak: 80 dB in ln(power) units
MAX_DPI = 150
MAX_CHANNELS = 16
TIMES = "\u00d7"  # the multiplication sign after a ratio


# ---------------------------------------------------------------------------- the data the caller fills in


@dataclass
class MethodSummary:
    """One method on one test set.

    Attributes:
        name: e.g. ``"network+candidates"``, ``"network"``, ``"nearest-neighbour"``, ``"random"``.
        metrics: metric key -> ``(mean, lo, hi)``, keys as :data:`neuralsynth.inverse.metrics.METRICS` (other keys
            are shown after those, without a direction).
        skipped: metric key -> number of items skipped (NaN f0); may be empty.
        seconds_per_item: inference time per item, if measured.
    """

    name: str
    metrics: dict[str, tuple[float, float, float]]
    skipped: dict[str, int] = field(default_factory=dict)
    seconds_per_item: float | None = None


@dataclass
class SetSummary:
    """One test set.

    Attributes:
        name: e.g. ``"random test split"``, ``"factory presets"``, ``"Nekobi"``.
        num_items: items in the set.
        methods: one summary per method, in display order.
        ratios: ``(metric, baseline, method, (ratio, lo, hi))`` with ratio = mean(baseline) / mean(method), as
            :func:`neuralsynth.inverse.metrics.ratio_ci` returns; baseline and method name entries of ``methods``.
        parameter_errors: :func:`neuralsynth.inverse.metrics.parameter_errors` of the main method (may be empty).
        parameter_names: names of the parameters, indexed by the ``index`` of ``parameter_errors``.
    """

    name: str
    num_items: int
    methods: list[MethodSummary]
    ratios: list[tuple[str, str, str, tuple[float, float, float]]] = field(default_factory=list)
    parameter_errors: list[dict] = field(default_factory=list)
    parameter_names: list[str] = field(default_factory=list)


@dataclass
class Example:
    """One sound shown with players and spectrograms.

    Attributes:
        set_name: the test set it comes from (examples are grouped by it, in order of first appearance).
        name: e.g. the preset name.
        sample_rate: Hz, of the target and of every render.
        target: ``(n,)`` or ``(channels, n)`` float audio, full scale +-1.
        renders: method name -> re-rendered audio, same conventions.
    """

    set_name: str
    name: str
    sample_rate: int
    target: np.ndarray
    renders: dict[str, np.ndarray]


# ---------------------------------------------------------------------------- validation


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _triple(value: Any, where: str) -> tuple[float, float, float]:
    if not isinstance(value, (tuple, list, np.ndarray)) or len(value) != 3 or not all(_is_number(v) for v in value):
        raise ValueError(f"{where}: expected a (mean, lo, hi) tuple of three numbers, got {value!r}")
    return (float(value[0]), float(value[1]), float(value[2]))


def _check_method(m: Any, where: str) -> None:
    if not isinstance(m, MethodSummary):
        raise ValueError(f"{where}: expected a MethodSummary, got {type(m).__name__}")
    if not isinstance(m.name, str) or not m.name:
        raise ValueError(f"{where}: method name must be a non-empty string, got {m.name!r}")
    where = f"{where} ({m.name!r})"
    if not isinstance(m.metrics, Mapping):
        raise ValueError(f"{where}: metrics must be a dict of metric key -> (mean, lo, hi)")
    for key, value in m.metrics.items():
        if not isinstance(key, str):
            raise ValueError(f"{where}: metric keys must be strings, got {key!r}")
        _triple(value, f"{where}, metric {key!r}")
    if not isinstance(m.skipped, Mapping):
        raise ValueError(f"{where}: skipped must be a dict of metric key -> count")
    for key, count in m.skipped.items():
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"{where}: skipped[{key!r}] must be a non-negative int, got {count!r}")
    s = m.seconds_per_item
    if s is not None and not (_is_number(s) and (math.isnan(float(s)) or float(s) >= 0.0)):
        raise ValueError(f"{where}: seconds_per_item must be None or a number >= 0, got {s!r}")


def _check_set(s: Any, i: int) -> None:
    if not isinstance(s, SetSummary):
        raise ValueError(f"sets[{i}]: expected a SetSummary, got {type(s).__name__}")
    where = f"set {s.name!r}"
    if not isinstance(s.name, str) or not s.name:
        raise ValueError(f"sets[{i}]: name must be a non-empty string, got {s.name!r}")
    if isinstance(s.num_items, bool) or not isinstance(s.num_items, (int, np.integer)) or s.num_items < 0:
        raise ValueError(f"{where}: num_items must be a non-negative int, got {s.num_items!r}")
    if not isinstance(s.methods, Sequence):
        raise ValueError(f"{where}: methods must be a list of MethodSummary")
    names = []
    for j, m in enumerate(s.methods):
        _check_method(m, f"{where}, methods[{j}]")
        names.append(m.name)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{where}: method names must be unique, repeated: {', '.join(dupes)}")
    for j, row in enumerate(s.ratios):
        if not isinstance(row, (tuple, list)) or len(row) != 4:
            raise ValueError(f"{where}, ratios[{j}]: expected (metric, baseline, method, (ratio, lo, hi)), got {row!r}")
        metric, baseline, method, value = row
        _triple(value, f"{where}, ratios[{j}]")
        for role, name in (("baseline", baseline), ("method", method)):
            if name not in names:
                raise ValueError(
                    f"{where}, ratios[{j}]: {role} {name!r} is not one of the set's methods ({', '.join(names)})"
                )
        if not isinstance(metric, str):
            raise ValueError(f"{where}, ratios[{j}]: metric must be a string key, got {metric!r}")
    if not all(isinstance(n, str) for n in s.parameter_names):
        raise ValueError(f"{where}: parameter_names must be strings")
    for j, e in enumerate(s.parameter_errors):
        if not isinstance(e, Mapping):
            raise ValueError(f"{where}, parameter_errors[{j}]: expected a dict, got {type(e).__name__}")
        missing = [k for k in ("index", "kind", "metric", "value", "lo", "hi") if k not in e]
        if missing:
            raise ValueError(f"{where}, parameter_errors[{j}]: missing {', '.join(missing)}")
        idx = e["index"]
        if isinstance(idx, bool) or not isinstance(idx, (int, np.integer)) or not 0 <= idx < len(s.parameter_names):
            raise ValueError(
                f"{where}, parameter_errors[{j}]: index {idx!r} does not name one of the "
                f"{len(s.parameter_names)} parameter_names"
            )
        if e["metric"] not in ("mae", "accuracy"):
            raise ValueError(f"{where}, parameter_errors[{j}]: metric must be 'mae' or 'accuracy', got {e['metric']!r}")
        _triple((e["value"], e["lo"], e["hi"]), f"{where}, parameter_errors[{j}]")


def _check_audio(audio: Any, where: str) -> np.ndarray:
    """(channels, n) float64 copy of one sound, or a ValueError saying what is wrong with it."""
    if not isinstance(audio, np.ndarray):
        raise ValueError(f"{where}: audio must be a numpy array, got {type(audio).__name__}")
    if not np.issubdtype(audio.dtype, np.floating):
        raise ValueError(f"{where}: audio must be floating point (full scale +-1), got dtype {audio.dtype}")
    if audio.ndim == 1:
        audio = audio[None, :]
    elif audio.ndim != 2 or not 1 <= audio.shape[0] <= MAX_CHANNELS:
        raise ValueError(f"{where}: audio must be (n,) or (channels, n) with 1..{MAX_CHANNELS} channels, "
                         f"got shape {audio.shape}")
    if audio.shape[1] == 0:
        raise ValueError(f"{where}: audio is empty")
    bad = ~np.isfinite(audio)
    if bad.any():
        n_nan = int(np.isnan(audio).sum())
        raise ValueError(
            f"{where}: audio contains non-finite samples ({n_nan} NaN, {int(bad.sum()) - n_nan} Inf), "
            f"the first at sample {int(np.nonzero(bad)[1].min())}"
        )
    return audio.astype(np.float64)


def _check_example(ex: Any, i: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    if not isinstance(ex, Example):
        raise ValueError(f"examples[{i}]: expected an Example, got {type(ex).__name__}")
    where = f"example {ex.name!r} (set {ex.set_name!r})"
    sr = ex.sample_rate
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or not 8000 <= sr <= 768000:
        raise ValueError(f"{where}: sample_rate must be an int in 8000..768000 Hz, got {sr!r}")
    target = _check_audio(ex.target, f"{where}, target")
    if not isinstance(ex.renders, Mapping):
        raise ValueError(f"{where}: renders must be a dict of method name -> audio")
    renders = {str(k): _check_audio(v, f"{where}, render {k!r}") for k, v in ex.renders.items()}
    return target, renders


# ---------------------------------------------------------------------------- formatting


def _fmt(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.4g}"


def _fmt_ci(value: tuple[float, float, float], suffix: str = "") -> str:
    mean, lo, hi = value
    if math.isnan(mean):
        return "n/a"
    return f"{_fmt(mean)}{suffix} [{_fmt(lo)}, {_fmt(hi)}]"


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _jsonable(obj: Any) -> Any:
    """JSON-ready copy: NaN -> None, +-inf -> "inf"/"-inf", numpy -> Python, tuples -> lists, Paths -> str."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(asdict(obj))
    if isinstance(obj, (Path, _dt.datetime, _dt.date)):
        return str(obj)
    return str(obj)


def _metric_columns(methods: Sequence[MethodSummary]) -> list[tuple[str, MetricInfo | None]]:
    present = [k for m in methods for k in m.metrics]
    known = [(info.key, info) for info in METRICS if info.key in present]
    known_keys = {info.key for info in METRICS}
    extra: list[tuple[str, MetricInfo | None]] = []
    for k in present:
        if k not in known_keys and all(k != e[0] for e in extra):
            extra.append((k, None))
    return known + extra


def _best(values: list[float], higher: bool) -> set[int]:
    finite = [(i, v) for i, v in enumerate(values) if not math.isnan(v)]
    if not finite:
        return set()
    target = max(v for _, v in finite) if higher else min(v for _, v in finite)
    return {i for i, v in finite if v == target}


# ---------------------------------------------------------------------------- images and audio


def _png(fig: Figure, dpi: int) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _parameter_chart(s: SetSummary, dpi: int) -> str:
    rows = s.parameter_errors
    fig = _figure(7.5, 1.4 + 0.2 * len(rows))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))
    styles = (("mae", "#1f77b4", "continuous: MAE"), ("accuracy", "#d62728", "discrete: 1 - accuracy"))
    for kind, colour, label in styles:
        sel = [i for i, e in enumerate(rows) if e["metric"] == kind]
        if not sel:
            continue
        v = np.array([float(rows[i]["value"]) for i in sel])
        lo = np.array([float(rows[i]["lo"]) for i in sel])
        hi = np.array([float(rows[i]["hi"]) for i in sel])
        if kind == "accuracy":
            v, lo, hi = 1.0 - v, 1.0 - hi, 1.0 - lo
        err = np.nan_to_num(np.stack([np.maximum(v - lo, 0.0), np.maximum(hi - v, 0.0)]), nan=0.0)
        ax.errorbar(v, y[sel], xerr=err, fmt="o", ms=4, capsize=2, color=colour, label=label)
    ax.set_yticks(y, [s.parameter_names[int(e["index"])] for e in rows], fontsize=7)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(left=0.0)
    ax.set_xlabel("error (normalised parameter units); bars: 95 % bootstrap CI")
    ax.grid(axis="x", alpha=0.3)
    fig.legend(fontsize=7, loc="outside upper center", ncols=2, frameon=False)
    return _png(fig, dpi)


def _spectrograms(sounds: list[tuple[str, np.ndarray]], sample_rate: int, dpi: int) -> tuple[list[str], float, float]:
    """One PNG per sound, log-mel on a colour scale shared by the row; returns (data URIs, vmin, vmax)."""
    mels = [log_mel_spectrogram(a, sample_rate, n_fft=SPEC_N_FFT, hop=SPEC_HOP, n_mels=SPEC_N_MELS) for _, a in sounds]
    vmax = max(float(m.max()) for m in mels)
    vmin = max(min(float(m.min()) for m in mels), vmax - SPEC_RANGE)
    if vmax <= vmin:
        vmax = vmin + 1.0
    uris = []
    for (label, audio), mel in zip(sounds, mels, strict=True):
        fig = _figure(3.4, 2.3)
        ax = fig.add_subplot(1, 1, 1)
        seconds = audio.shape[-1] / sample_rate
        ax.imshow(mel.T, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
                  extent=(0.0, seconds, 0, SPEC_N_MELS), interpolation="nearest")
        ax.set_title(label, fontsize=8)
        ax.set_xlabel("s", fontsize=7)
        ax.set_ylabel("mel band", fontsize=7)
        ax.tick_params(labelsize=6)
        uris.append(_png(fig, dpi))
    return uris, vmin, vmax


def _wav(audio: np.ndarray, sample_rate: int, max_seconds: float, out_rate: int | None, mono: bool) -> tuple[str, bool]:
    """16-bit WAV data URI of the first max_seconds; returns (uri, clipped)."""
    import soundfile

    x = audio[:, : max(1, int(round(max_seconds * sample_rate)))]
    if mono or x.shape[0] > 2:
        x = x.mean(axis=0, keepdims=True)
    rate = sample_rate
    if out_rate is not None and out_rate != sample_rate:
        import soxr

        x = np.ascontiguousarray(soxr.resample(x.T, sample_rate, out_rate).T)
        rate = out_rate
    clipped = bool(np.abs(x).max() > 1.0)
    x = np.clip(x, -1.0, 1.0)
    buf = io.BytesIO()
    soundfile.write(buf, np.ascontiguousarray(x.T), rate, format="WAV", subtype="PCM_16")
    return "data:audio/wav;base64," + base64.b64encode(buf.getvalue()).decode("ascii"), clipped


# ---------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 110em; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.unit { font-weight: normal; color: #666; font-size: 0.85em; } .skipped { color: #a60; font-size: 0.85em; }
.note { color: #555; font-size: 0.9em; } pre { margin: 0; white-space: pre-wrap; font-size: 0.85em; }
.row { display: flex; flex-wrap: wrap; gap: 0.8em; } figure { margin: 0; } figcaption { font-size: 0.85em; }
audio { display: block; width: 272px; }
"""


def _info_table(info: Mapping[str, Any]) -> str:
    rows = []
    for key, value in info.items():
        if isinstance(value, (Mapping, list, tuple)):
            cell = f"<pre>{_esc(json.dumps(_jsonable(value), indent=1))}</pre>"
        else:
            cell = _esc(_fmt(value) if isinstance(value, float) else value)
        rows.append(f"<tr><th>{_esc(key)}</th><td>{cell}</td></tr>")
    return '<table class="info">' + "".join(rows) + "</table>" if rows else ""


def _metrics_table(s: SetSummary) -> str:
    cols = _metric_columns(s.methods)
    head = ["<th>method</th>"]
    for key, info in cols:
        if info is None:
            head.append(f"<th>{_esc(key)}</th>")
        else:
            arrow = "\u2191" if info.higher_is_better else "\u2193"
            unit = f' <span class="unit">({_esc(info.unit)})</span>' if info.unit else ""
            head.append(f'<th title="{_esc(info.direction)}">{_esc(info.name)} {arrow}{unit}</th>')
    timed = any(m.seconds_per_item is not None for m in s.methods)
    if timed:
        head.append('<th>time <span class="unit">(s / item)</span></th>')
    best = {}
    for key, info in cols:
        if info is not None:
            means = [float(m.metrics[key][0]) if key in m.metrics else math.nan for m in s.methods]
            best[key] = _best(means, info.higher_is_better)
    body = []
    for i, m in enumerate(s.methods):
        cells = [f"<th>{_esc(m.name)}</th>"]
        for key, _ in cols:
            if key not in m.metrics:
                cells.append('<td class="num">\u2013</td>')
                continue
            text = _esc(_fmt_ci(_triple(m.metrics[key], key)))
            if i in best.get(key, ()):
                text = f"<b>{text}</b>"
            n_skip = int(m.skipped.get(key, 0))
            if n_skip:
                text += f' <span class="skipped">({n_skip} skipped)</span>'
            cells.append(f'<td class="num">{text}</td>')
        if timed:
            cells.append(f'<td class="num">{_esc(_fmt(m.seconds_per_item))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    legend = (
        '<p class="note">mean [95 % bootstrap CI] over the set\'s items; \u2193 lower is better, \u2191 higher is '
        "better; the best mean of each column is bold. Skipped: items without a value (f0: no frame voiced in "
        "both sounds).</p>"
    )
    return '<table class="metrics"><tr>' + "".join(head) + "</tr>" + "".join(body) + "</table>" + legend


def _ratio_table(s: SetSummary) -> str:
    if not s.ratios:
        return ""
    rows = ["<tr><th>metric</th><th>baseline</th><th>method</th><th>mean(baseline) / mean(method)</th>"
            "<th>method better if</th></tr>"]
    for metric, baseline, method, value in s.ratios:
        try:
            info: MetricInfo | None = next(m for m in METRICS if m.key == metric)
        except StopIteration:
            info = None
        better = "" if info is None else ("&lt; 1" if info.higher_is_better else "&gt; 1")
        name = metric if info is None else info.name
        cell = _esc(_fmt_ci(_triple(value, metric), suffix=TIMES))
        rows.append(
            f"<tr><td>{_esc(name)}</td><td>{_esc(baseline)}</td><td>{_esc(method)}</td>"
            f'<td class="num">{cell}</td><td>{better}</td></tr>'
        )
    return ('<h3>Ratios</h3><table class="ratios">' + "".join(rows) + "</table>"
            '<p class="note">Paired bootstrap over the same items (95 % CI).</p>')


def _parameter_section(s: SetSummary, dpi: int) -> str:
    if not s.parameter_errors:
        return ""
    rows = ["<tr><th>#</th><th>parameter</th><th>kind</th><th>metric</th><th>value [95 % CI]</th></tr>"]
    for e in s.parameter_errors:
        kind = str(e["kind"]) + (f" ({e['steps']} steps)" if e.get("steps") else "")
        value = _fmt_ci((float(e["value"]), float(e["lo"]), float(e["hi"])))
        rows.append(
            f"<tr><td>{int(e['index'])}</td><td>{_esc(s.parameter_names[int(e['index'])])}</td><td>{_esc(kind)}</td>"
            f'<td>{_esc(e["metric"])}</td><td class="num">{_esc(value)}</td></tr>'
        )
    img = _parameter_chart(s, dpi)
    return (
        "<h3>Per-parameter error</h3>"
        f'<img class="params" alt="per-parameter error of set {_esc(s.name)}" src="{img}">'
        '<details><summary>numbers</summary><table class="parameters">' + "".join(rows) + "</table></details>"
    )


def _examples_section(
    examples: Sequence[Example],
    checked: list[tuple[np.ndarray, dict[str, np.ndarray]]],
    dpi: int,
    max_audio_seconds: float,
    player_sample_rate: int | None,
    player_mono: bool,
) -> str:
    if not examples:
        return ""
    order: list[str] = []
    for ex in examples:
        if ex.set_name not in order:
            order.append(ex.set_name)
    out = ["<h2>Examples</h2>",
           f'<p class="note">log-mel spectrograms (n_fft {SPEC_N_FFT}, hop {SPEC_HOP}, {SPEC_N_MELS} bands, '
           "ln(power + 1e-5)), one colour scale per row spanning at most 80 dB below the row's peak; players hold "
           f"the first {max_audio_seconds:g} s.</p>"]
    for set_name in order:
        out.append(f"<h3>{_esc(set_name)}</h3>")
        for ex, (target, renders) in zip(examples, checked, strict=True):
            if ex.set_name != set_name:
                continue
            sounds = [("target", target), *renders.items()]
            uris, vmin, vmax = _spectrograms(sounds, int(ex.sample_rate), dpi)
            figs = []
            for (label, audio), uri in zip(sounds, uris, strict=True):
                wav, clipped = _wav(audio, int(ex.sample_rate), max_audio_seconds, player_sample_rate, player_mono)
                note = ' <span class="skipped">(clipped to \u00b11 in the player)</span>' if clipped else ""
                figs.append(
                    f'<figure><img alt="{_esc(ex.name)}: {_esc(label)}" src="{uri}">'
                    f"<figcaption>{_esc(label)}{note}</figcaption>"
                    f'<audio controls preload="none" src="{wav}"></audio></figure>'
                )
            seconds = target.shape[1] / ex.sample_rate
            out.append(
                f'<div class="example"><h4>{_esc(ex.name)} <span class="unit">({seconds:.2f} s, '
                f"{ex.sample_rate} Hz, colour {vmin:.1f}..{vmax:.1f})</span></h4>"
                f'<div class="row">{"".join(figs)}</div></div>'
            )
    return "".join(out)


def _summary(title: str, sets: Sequence[SetSummary], examples: Sequence[Example], info: Mapping[str, Any],
             checked: list[tuple[np.ndarray, dict[str, np.ndarray]]], generated: str) -> dict[str, Any]:
    return {
        "title": title,
        "generated": generated,
        "info": info,
        "metrics": [asdict(m) for m in METRICS],
        "sets": [
            {
                "name": s.name,
                "num_items": s.num_items,
                "methods": [
                    {
                        "name": m.name,
                        "metrics": {k: dict(zip(("mean", "lo", "hi"), _triple(v, k), strict=True))
                                    for k, v in m.metrics.items()},
                        "skipped": dict(m.skipped),
                        "seconds_per_item": m.seconds_per_item,
                    }
                    for m in s.methods
                ],
                "ratios": [
                    dict(metric=r[0], baseline=r[1], method=r[2], **dict(zip(("ratio", "lo", "hi"), r[3], strict=True)))
                    for r in s.ratios
                ],
                "parameter_errors": [
                    {**e, "name": s.parameter_names[int(e["index"])]} for e in s.parameter_errors
                ],
                "parameter_names": list(s.parameter_names),
            }
            for s in sets
        ],
        "examples": [
            {
                "set_name": ex.set_name,
                "name": ex.name,
                "sample_rate": int(ex.sample_rate),
                "num_samples": int(target.shape[1]),
                "channels": int(target.shape[0]),
                "renders": list(renders),
            }
            for ex, (target, renders) in zip(examples, checked, strict=True)
        ],
    }


# ---------------------------------------------------------------------------- public entry point


def _atomic_write(tmp_paths: list[Path], path: Path, text: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    tmp_paths.append(tmp)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    return tmp


def write_report(
    out_dir: str | os.PathLike[str],
    title: str,
    sets: list[SetSummary],
    examples: list[Example],
    info: dict,
    *,
    dpi: int = 80,
    max_audio_seconds: float = 6.0,
    player_sample_rate: int | None = None,
    player_mono: bool = False,
) -> Path:
    """Write ``index.html`` and ``summary.json`` into ``out_dir`` (created if missing); returns the index.html path.

    Args:
        out_dir: report folder; files other than the two written are left alone.
        title: page title.
        sets: one :class:`SetSummary` per test set, in display order.
        examples: sounds to show (grouped by ``set_name``).
        info: free-form provenance (model dir, dataset paths, manifest summary, timings); shown as a table at the
            top and stored in summary.json. Nested dicts/lists are shown as JSON.
        dpi: image resolution, 30..150.
        max_audio_seconds: players hold at most this much from the start of each sound.
        player_sample_rate: resample the players to this rate (None: the example's own rate).
        player_mono: mix the players to mono.

    Raises:
        ValueError: bad input (wrong types or shapes, NaN/Inf audio, a ratio naming an unknown method, a
            parameter index without a name, ...), naming what is wrong. Nothing is written then.
    """
    if not isinstance(title, str):
        raise ValueError(f"title must be a string, got {type(title).__name__}")
    if not isinstance(info, Mapping):
        raise ValueError(f"info must be a dict, got {type(info).__name__}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, np.integer)) or not 30 <= dpi <= MAX_DPI:
        raise ValueError(f"dpi must be an int in 30..{MAX_DPI}, got {dpi!r}")
    if not (_is_number(max_audio_seconds) and float(max_audio_seconds) > 0.0):
        raise ValueError(f"max_audio_seconds must be a number > 0, got {max_audio_seconds!r}")
    if player_sample_rate is not None and (
        isinstance(player_sample_rate, bool)
        or not isinstance(player_sample_rate, (int, np.integer))
        or not 8000 <= player_sample_rate <= 192000
    ):
        raise ValueError(f"player_sample_rate must be None or an int in 8000..192000, got {player_sample_rate!r}")
    if not isinstance(sets, Sequence) or not isinstance(examples, Sequence):
        raise ValueError("sets and examples must be lists")
    for i, s in enumerate(sets):
        _check_set(s, i)
    checked = [_check_example(ex, i) for i, ex in enumerate(examples)]

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: report folder exists and is not a directory")
    generated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")

    # Build everything in memory first: a failure here writes nothing.
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        f'<p class="note">generated {_esc(generated)}</p>',
        _info_table(info),
    ]
    for s in sets:
        parts.append(f'<h2>{_esc(s.name)} <span class="unit">({int(s.num_items)} items)</span></h2>')
        parts.append(_metrics_table(s))
        parts.append(_ratio_table(s))
        parts.append(_parameter_section(s, int(dpi)))
    parts.append(_examples_section(examples, checked, int(dpi), float(max_audio_seconds), player_sample_rate,
                                   bool(player_mono)))
    parts.append("</body></html>\n")
    page = "\n".join(p for p in parts if p)
    summary = json.dumps(
        _jsonable(_summary(title, sets, examples, info, checked, generated)), indent=2, allow_nan=False
    ) + "\n"

    out.mkdir(parents=True, exist_ok=True)
    tmp_paths: list[Path] = []
    try:
        tmp_summary = _atomic_write(tmp_paths, out / SUMMARY, summary)
        tmp_index = _atomic_write(tmp_paths, out / INDEX, page)
        os.replace(tmp_summary, out / SUMMARY)
        os.replace(tmp_index, out / INDEX)
    finally:
        for tmp in tmp_paths:
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
    return out / INDEX
