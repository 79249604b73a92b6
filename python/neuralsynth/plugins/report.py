"""HTML report of a `neuralsynth test` run: summary table, per-signal plots, results.json.

``write_report(out_dir, results, meta)`` writes ``out_dir/index.html``, one set of PNGs per
signal (overlay of plugin and reference, error over time, spectrograms) and ``results.json``
(``{**meta, "date": ..., "signals": [r.as_dict(), ...], "files": [...]}``, the same shape as
``neuralsynth test --json`` plus the date and the list of files the report owns).

Everything is rendered into a temporary directory next to ``out_dir`` first and only then
moved into place, ``index.html`` last, so a run that fails while rendering leaves the previous
report (or nothing) behind rather than half a report. Images a previous report listed in its
``results.json`` that the new one does not use are removed afterwards.

matplotlib is imported only when a report is written, and only its object-oriented API with
the Agg canvas is used: no pyplot, no global backend switch, no figure registry to leak into.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import numpy as np

from .results import SignalResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

ErrorScale = Literal["linear", "log", "both"]

LOG_FLOOR = 1e-12  # |error| floor on the log axis
ZOOM_SECONDS = 0.020  # width of the zoomed overlay window
SPEC_RANGE_DB = 120.0  # colour range of the spectrograms, below their peak
_MAX_FRAMES = 800  # spectrogram columns at most
_INDEX = "index.html"
_RESULTS = "results.json"
_PNG_NAME = re.compile(r"^[A-Za-z0-9._-]+\.png$")


# ---------------------------------------------------------------------------- public entry point


def write_report(
    out_dir: Path,
    results: list[SignalResult],
    meta: dict,
    *,
    error_scale: ErrorScale = "both",
    max_points: int = 20_000,
    dpi: int = 100,
) -> Path:
    """Write the report into ``out_dir`` (created if missing) and return the path of its index.html.

    ``error_scale`` picks the error plot: ``"linear"`` (signed plugin - reference with the
    tolerance as dashed lines), ``"log"`` (|error| on a log axis, floored at 1e-12) or
    ``"both"`` (two panels). ``max_points`` bounds the points drawn per line; longer signals
    are reduced to a min/max envelope, which keeps every peak visible.
    """
    if error_scale not in ("linear", "log", "both"):
        raise ValueError(f"error_scale must be 'linear', 'log' or 'both', not {error_scale!r}")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir}: report directory exists and is not a directory")
    parent = out_dir.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    date = str(meta.get("date") or _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")).strip()

    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    try:
        images = _render_images(tmp, results, error_scale=error_scale, max_points=max(int(max_points), 100), dpi=dpi)
        files = [name for per_signal in images for _, name in per_signal]
        payload = {**meta, "date": date, "signals": [r.as_dict() for r in results], "files": files}
        (tmp / _RESULTS).write_text(json.dumps(payload, indent=2, default=_json_default) + "\n", encoding="utf-8")
        (tmp / _INDEX).write_text(_render_html(results, meta, date, images), encoding="utf-8")
        _commit(tmp, out_dir, files)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / _INDEX


def _commit(tmp: Path, out_dir: Path, files: list[str]) -> None:
    """Move the rendered files into out_dir (images first, index.html last) and drop stale images."""
    old_files = _previous_files(out_dir / _RESULTS)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in [*files, _RESULTS, _INDEX]:
        os.replace(tmp / name, out_dir / name)
    for name in set(old_files) - set(files):
        try:
            (out_dir / name).unlink()
        except FileNotFoundError:
            pass


def _previous_files(results_json: Path) -> list[str]:
    """The images the report already in place says it owns (plain *.png names only, nothing else)."""
    try:
        listed = json.loads(results_json.read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    if not isinstance(listed, list):
        return []
    return [f for f in listed if isinstance(f, str) and _PNG_NAME.match(f)]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Path, _dt.datetime, _dt.date)):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


# ---------------------------------------------------------------------------- data helpers


def _channel0(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    a = a.reshape(1, -1) if a.ndim <= 1 else a.reshape(a.shape[0], -1)
    return a[0].astype(np.float64) if a.shape[0] else np.zeros(0)


def _finite(x: np.ndarray) -> np.ndarray:
    """x with inf and NaN replaced by NaN, so matplotlib leaves gaps instead of blowing up the axes."""
    return np.where(np.isfinite(x), x, np.nan)


def _envelope(t: np.ndarray, x: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ~max_points points tracing the min and max of x per bucket (in time order)."""
    n = x.size
    if n <= max_points:
        return t, x
    size = math.ceil(n / (max_points // 2))
    buckets = math.ceil(n / size)
    xp = np.concatenate([x, np.full(buckets * size - n, np.nan)]).reshape(buckets, size)
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduce(xp, axis=1)
        hi = np.fmax.reduce(xp, axis=1)
    starts = t[np.arange(buckets) * size]
    mids = t[np.minimum(np.arange(buckets) * size + size // 2, n - 1)]
    return np.column_stack([starts, mids]).ravel(), np.column_stack([lo, hi]).ravel()


def _max_envelope(t: np.ndarray, x: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most max_points points tracing the max of x per bucket (for |error| on a log axis)."""
    n = x.size
    if n <= max_points:
        return t, x
    size = math.ceil(n / max_points)
    buckets = math.ceil(n / size)
    xp = np.concatenate([x, np.full(buckets * size - n, np.nan)]).reshape(buckets, size)
    return t[np.arange(buckets) * size], np.fmax.reduce(xp, axis=1)


def _worst_index(err: np.ndarray) -> int:
    """Index of the largest |error|; a non-finite sample counts as the largest (the first one wins)."""
    if err.size == 0:
        return 0
    mag = np.abs(err)
    mag = np.where(np.isfinite(mag), mag, np.inf)
    return int(np.argmax(mag))


def _stft_db(x: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude spectrogram in dBFS (a full-scale sine reads about 0 dB): (times s, freqs Hz, dB[f, t]).

    Hann frames of up to 2048 samples; for long signals the frame starts are spread evenly
    over the signal (at most _MAX_FRAMES columns) instead of overlapping by a fixed hop, so
    the cost does not grow with the length of the signal.
    """
    from scipy.signal import get_window

    x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    nper = int(min(2048, max(16, 2 ** math.floor(math.log2(max(x.size, 2)) - 2))))
    if x.size < nper:
        x = np.pad(x, (0, nper - x.size))
    n_frames = min(_MAX_FRAMES, max(1, (x.size - nper) // (nper // 4) + 1))
    starts = np.linspace(0, x.size - nper, n_frames).round().astype(np.int64)
    win = get_window("hann", nper)
    frames = x[starts[:, None] + np.arange(nper)[None, :]] * win
    mag = np.abs(np.fft.rfft(frames, axis=1)) * (2.0 / win.sum())
    db = 20.0 * np.log10(np.maximum(mag, LOG_FLOOR)).T
    return (starts + nper / 2) / rate, np.fft.rfftfreq(nper, 1.0 / rate), db


def _limit(r: SignalResult) -> float:
    """The error the signal had to stay within: the effective tolerance when the run set one."""
    eff = getattr(r, "effective_tolerance", 0.0)
    return float(eff) if eff is not None and np.isfinite(eff) and eff > 0 else float(r.tolerance)


def _slug(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:60]
    return s or "signal"


def _tex_safe(text: str) -> str:
    """Text for a matplotlib label: no mathtext ($ ... $) interpretation."""
    return text.replace("$", r"\$")


# ---------------------------------------------------------------------------- plots


def _render_images(
    tmp: Path, results: Sequence[SignalResult], *, error_scale: ErrorScale, max_points: int, dpi: int
) -> list[list[tuple[str, str]]]:
    """Render every signal's PNGs into tmp; returns per signal a list of (caption, file name)."""
    import matplotlib

    rc = {
        "text.usetex": False,
        "font.size": 9,
        "axes.titlesize": 10,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "legend.fontsize": 8,
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "path.simplify": True,
        "agg.path.chunksize": 10_000,
    }
    out: list[list[tuple[str, str]]] = []
    with matplotlib.rc_context(rc):
        for i, r in enumerate(results):
            stem = f"{i + 1:02d}-{_slug(r.name)}"
            y, ref = _channel0(r.plugin), _channel0(r.reference)
            n = min(y.size, ref.size)
            y, ref = y[:n], ref[:n]
            rate = float(r.sample_rate) if r.sample_rate and np.isfinite(r.sample_rate) and r.sample_rate > 0 else 1.0
            err = y - ref
            channels = np.asarray(r.plugin).shape[0] if np.asarray(r.plugin).ndim > 1 else 1
            label = _tex_safe(r.name) + (f" (channel 0 of {channels})" if channels > 1 else "")
            figs = [
                ("Plugin vs reference", f"{stem}-overlay.png", _overlay_figure(label, y, ref, err, rate, max_points)),
                ("Error over time", f"{stem}-error.png",
                 _error_figure(label, err, rate, _limit(r), float(r.tolerance), float(getattr(r, "floor", 0.0) or 0.0),
                               error_scale, max_points)),
                ("Spectrograms", f"{stem}-spectrogram.png", _spectrogram_figure(label, y, ref, err, rate)),
            ]
            for _, name, fig in figs:
                fig.savefig(tmp / name, format="png", dpi=dpi)
                fig.clear()  # no pyplot registry to close it from; drop the artists right away
            out.append([(caption, name) for caption, name, _ in figs])
    return out


def _new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _legend_outside(ax: Any) -> None:
    """Legend to the right of the axes, where it cannot hide any of the data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0.0)


def _overlay_figure(label: str, y: np.ndarray, ref: np.ndarray, err: np.ndarray, rate: float,
                    max_points: int) -> Figure:
    n = y.size
    t = np.arange(n) / rate
    zoom = max(8, int(round(ZOOM_SECONDS * rate)))
    long_signal = n > 2.5 * zoom
    fig = _new_figure(10, 5.6 if long_signal else 3.4)
    axes = fig.subplots(2 if long_signal else 1, 1, squeeze=False)[:, 0]

    ax = axes[0]
    ax.plot(*_envelope(t, _finite(ref), max_points), color="tab:blue", lw=1.6, label="reference")
    ax.plot(*_envelope(t, _finite(y), max_points), color="tab:orange", lw=0.8, ls="--", label="plugin")
    ax.set_xlim(0, max(t[-1], 1.0 / rate) if n else 1.0)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("amplitude [full scale]")
    ax.set_title(f"{label}: plugin vs reference" + (" (min/max envelope)" if n > max_points else ""))
    if not long_signal:
        _legend_outside(ax)
        return fig

    k = _worst_index(err)
    lo = min(max(0, k - zoom // 2), max(0, n - zoom))
    hi = min(n, lo + zoom)
    ax.axvspan(lo / rate, hi / rate, color="tab:red", alpha=0.15, label="zoomed window")
    _legend_outside(ax)

    bx = axes[1]
    tz = np.arange(lo, hi) / rate * 1e3
    marker = "." if hi - lo <= 200 else None
    bx.plot(tz, _finite(ref[lo:hi]), color="tab:blue", lw=1.6, marker=marker, label="reference")
    bx.plot(tz, _finite(y[lo:hi]), color="tab:orange", lw=0.8, ls="--", marker=marker, label="plugin")
    worst = abs(err[k]) if err.size else 0.0
    bx.axvline(k / rate * 1e3, color="tab:red", lw=0.8, ls=":", label=f"largest |error| = {worst:.3g}")
    bx.set_xlim(tz[0], tz[-1])
    bx.set_xlabel("time [ms]")
    bx.set_ylabel("amplitude [full scale]")
    bx.set_title(f"zoom: {(hi - lo) / rate * 1e3:.0f} ms around the largest error (t = {k / rate:.4f} s)")
    _legend_outside(bx)
    return fig


def _error_figure(label: str, err: np.ndarray, rate: float, tol: float, nominal: float, floor: float,
                  scale: ErrorScale, max_points: int) -> Figure:
    """Error panels; tol is the pass limit (dashed), nominal the tolerance asked for (dotted, when it differs)
    and floor the float32 conditioning floor of the reference (dash-dot on the log panel, when measured)."""
    t = np.arange(err.size) / rate
    tol_label = "pass limit" if tol != nominal else "tolerance"
    show_nominal = tol != nominal and np.isfinite(nominal) and nominal > 0
    show_floor = np.isfinite(floor) and floor > 0
    panels = ["linear", "log"] if scale == "both" else [scale]
    fig = _new_figure(10, 2.9 * len(panels) + 0.3)
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    has_tol = np.isfinite(tol) and tol > 0
    bad = int(np.count_nonzero(~np.isfinite(err)))
    xmax = max(t[-1], 1.0 / rate) if err.size else 1.0
    for ax, kind in zip(axes, panels, strict=True):
        if kind == "linear":
            ax.plot(*_envelope(t, _finite(err), max_points), color="tab:purple", lw=0.8, label="plugin − reference")
            if has_tol:
                ax.axhline(tol, color="tab:red", ls="--", lw=1.0, label=f"{tol_label} ±{tol:.3g}")
                ax.axhline(-tol, color="tab:red", ls="--", lw=1.0)
            if show_nominal:
                ax.axhline(nominal, color="0.4", ls=":", lw=1.0, label=f"tolerance asked for ±{nominal:.3g}")
                ax.axhline(-nominal, color="0.4", ls=":", lw=1.0)
            finite = np.abs(err[np.isfinite(err)])
            peak = max(float(finite.max()) if finite.size else 0.0, tol if has_tol else 0.0)
            if peak > 0:
                ax.set_ylim(-1.15 * peak, 1.15 * peak)
            ax.set_ylabel("error [full scale]")
            ax.set_title(f"{label}: error (plugin − reference)")
        else:
            mag = np.abs(err)
            mag = np.where(np.isfinite(mag), np.maximum(mag, LOG_FLOOR), np.nan)
            ax.plot(*_max_envelope(t, mag, max_points), color="tab:purple", lw=0.8,
                    label="|plugin − reference|" + (" (max envelope)" if err.size > max_points else ""))
            if has_tol:
                ax.axhline(tol, color="tab:red", ls="--", lw=1.0, label=f"{tol_label} {tol:.3g}")
            if show_nominal:
                ax.axhline(nominal, color="0.4", ls=":", lw=1.0, label=f"tolerance asked for {nominal:.3g}")
            if show_floor:
                ax.axhline(floor, color="tab:green", ls="-.", lw=1.0, label=f"float32 floor {floor:.3g}")
            ax.set_yscale("log")
            top = float(np.nanmax(mag)) if np.any(np.isfinite(mag)) else 1.0
            top = max(top, tol if has_tol else 0.0, nominal if show_nominal else 0.0, LOG_FLOOR * 10)
            ax.set_ylim(LOG_FLOOR / 2, top * 10)
            ax.set_ylabel("|error| [full scale, log]")
            ax.set_title(f"{label}: |error| (log scale, floor {LOG_FLOOR:g})")
        if bad:
            first = int(np.argmax(~np.isfinite(err)))
            ax.axvline(first / rate, color="tab:red", lw=1.0, ls=":", label=f"first non-finite at {first / rate:.4f} s")
        ax.set_xlim(0, xmax)
        ax.set_xlabel("time [s]")
        _legend_outside(ax)
    if bad:
        fig.suptitle(f"{bad} non-finite error samples (not drawn)", color="tab:red", fontsize=9)
    return fig


def _spectrogram_figure(label: str, y: np.ndarray, ref: np.ndarray, err: np.ndarray, rate: float) -> Figure:
    fig = _new_figure(15, 4.2)
    axes = fig.subplots(1, 3, sharey=True)
    specs = [_stft_db(s, rate) for s in (y, ref, err)]
    vmax = max(float(specs[0][2].max()), float(specs[1][2].max()))
    emax = float(specs[2][2].max())
    titles = ["plugin output", "reference", "error (plugin − reference)"]
    ranges = [(vmax - SPEC_RANGE_DB, vmax)] * 2 + [(emax - SPEC_RANGE_DB, emax)]
    images = []
    duration = max(y.size, 1) / rate
    for ax, (_, freqs, db), title, (lo, hi) in zip(axes, specs, titles, ranges, strict=True):
        # columns are frames spread evenly over the signal: stretch them over its whole duration
        # (each column sits within half a frame of its frame's centre)
        extent = (0.0, duration, freqs[0] / 1e3, freqs[-1] / 1e3)
        images.append(ax.imshow(db, origin="lower", aspect="auto", extent=extent, vmin=lo, vmax=hi,
                                cmap="magma"))
        ax.set_xlim(0.0, duration)
        ax.set_title(title)
        ax.set_xlabel("time [s]")
        ax.grid(False)
    axes[0].set_ylabel("frequency [kHz]")
    fig.colorbar(images[1], ax=list(axes[:2]), label="level [dBFS] (shared scale)", pad=0.01)
    cb = fig.colorbar(images[2], ax=axes[2], pad=0.01)
    cb.set_label(f"level [dBFS] (error peak {emax - vmax:+.0f} dB re signal peak)")
    fig.suptitle(f"{label}: spectrograms", fontsize=10)
    return fig


# ---------------------------------------------------------------------------- HTML


def _fmt(value: Any, spec: str) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "—" if value is None else str(value)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    return format(v, spec)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1560px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f2f2f2; }
td.name, th.name, dl td { text-align: left; }
.pass { background: #d9f2d9; color: #145214; font-weight: bold; }
.fail { background: #f8d4d4; color: #8a1010; font-weight: bold; }
.badge { padding: 0.1em 0.5em; border-radius: 0.3em; font-size: 0.8em; vertical-align: middle; }
section { border-top: 2px solid #ddd; margin-top: 2em; padding-top: 0.5em; }
figure { margin: 0.8em 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; }
.meta td { text-align: left; border: none; padding: 0.1em 0.7em 0.1em 0; }
.notes li { margin: 0.2em 0; }
"""


def _render_html(results: Sequence[SignalResult], meta: dict, date: str,
                 images: Sequence[Sequence[tuple[str, str]]]) -> str:
    plugin = meta.get("plugin", "—")
    n_pass = sum(1 for r in results if r.passed)
    overall = "PASS" if results and n_pass == len(results) else "FAIL"
    head_rows = [
        ("Plugin", plugin),
        ("Host", meta.get("host", "—")),
        ("Reference", meta.get("reference", "—")),
        ("Sample rate", f"{_fmt(meta.get('sample_rate'), 'g')} Hz" if meta.get("sample_rate") is not None else "—"),
        ("Date", date),
    ]
    shown = {"plugin", "host", "reference", "sample_rate", "date"}
    head_rows += [(str(k).replace("_", " ").capitalize(), v) for k, v in meta.items() if k not in shown]

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>neuralsynth test report: {_e(plugin)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>neuralsynth test report: {_e(plugin)}</h1>",
        '<table class="meta">',
        *(f"<tr><td><b>{_e(k)}</b></td><td>{_e(v)}</td></tr>" for k, v in head_rows),
        "</table>",
        f'<p><span class="badge {overall.lower()}">{overall}</span> '
        f"{n_pass} of {len(results)} signals passed.</p>",
    ]

    if results:
        show_floor = any((getattr(r, "floor", 0.0) or 0.0) > 0 for r in results)
        show_core = any(getattr(r, "core_max_abs_error", None) is not None for r in results)
        parts += [
            "<table>",
            '<tr><th class="name">signal</th><th>max abs error</th><th>ESR</th><th>SNR [dB]</th>'
            "<th>lag [samples]</th><th>real-time factor</th><th>limit</th>"
            + ("<th>float32 floor</th>" if show_floor else "")
            + ("<th>max abs error vs core</th>" if show_core else "")
            + "<th>result</th></tr>",
        ]
        for i, r in enumerate(results):
            verdict = "PASS" if r.passed else "FAIL"
            core = getattr(r, "core_max_abs_error", None)
            parts.append(
                f'<tr><td class="name"><a href="#{_e(_anchor(i, r))}">{_e(r.name)}</a></td>'
                f"<td>{_fmt(r.max_abs_error, '.3e')}</td><td>{_fmt(r.esr, '.3e')}</td>"
                f"<td>{_fmt(r.snr_db, '.1f')}</td><td>{_e(r.lag)}</td>"
                f"<td>{_fmt(r.realtime_factor, '.1f')}×</td><td>{_limit_text(r)}</td>"
                + (f"<td>{_fmt(getattr(r, 'floor', 0.0), '.1e')}</td>" if show_floor else "")
                + (f"<td>{_fmt(core, '.3e') if core is not None else '—'}</td>" if show_core else "")
                + f'<td class="{verdict.lower()}">{verdict}</td></tr>'
            )
        parts.append("</table>")
    else:
        parts.append("<p>No signals were run.</p>")

    for i, (r, imgs) in enumerate(zip(results, images, strict=True)):
        verdict = "PASS" if r.passed else "FAIL"
        a = np.asarray(r.input)
        samples = a.shape[-1] if a.ndim else 0
        channels = a.shape[0] if a.ndim > 1 else 1
        rate = float(r.sample_rate) if r.sample_rate else 0.0
        duration = f"{samples / rate:.3f} s" if rate > 0 else "—"
        parts += [
            f'<section id="{_e(_anchor(i, r))}">',
            f'<h2>{_e(r.name)} <span class="badge {verdict.lower()}">{verdict}</span></h2>',
            '<table class="meta">',
            f"<tr><td>samples</td><td>{samples} × {channels} channels ({duration} at {_fmt(rate, 'g')} Hz)</td></tr>",
            f"<tr><td>max abs error</td><td>{_fmt(r.max_abs_error, '.3e')} (limit {_limit_text(r)})</td></tr>",
            *([f"<tr><td>float32 floor</td><td>{_fmt(r.floor, '.3e')}</td></tr>"]
              if (getattr(r, "floor", 0.0) or 0.0) > 0 else []),
            *([f"<tr><td>max abs error vs core</td><td>{_fmt(r.core_max_abs_error, '.3e')}</td></tr>"]
              if getattr(r, "core_max_abs_error", None) is not None else []),
            f"<tr><td>ESR / SNR</td><td>{_fmt(r.esr, '.3e')} / {_fmt(r.snr_db, '.1f')} dB</td></tr>",
            f"<tr><td>lag</td><td>{_e(r.lag)} samples</td></tr>",
            f"<tr><td>real-time factor</td><td>{_fmt(r.realtime_factor, '.1f')}×</td></tr>",
            "</table>",
        ]
        if r.notes:
            parts += ['<ul class="notes">', *(f"<li>{_e(note)}</li>" for note in r.notes), "</ul>"]
        for caption, name in imgs:
            parts.append(
                f'<figure><img src="{_e(quote(name))}" alt="{_e(caption)}: {_e(r.name)}" loading="lazy">'
                f"<figcaption>{_e(caption)}</figcaption></figure>"
            )
        parts.append("</section>")

    parts += [
        f'<p><a href="{_RESULTS}">{_RESULTS}</a> holds these numbers in machine-readable form.</p>',
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(parts)


def _limit_text(r: SignalResult) -> str:
    limit = _limit(r)
    text = _fmt(limit, ".1e")
    return text if limit == r.tolerance else f"{text} (tolerance {_fmt(r.tolerance, '.1e')})"


def _anchor(i: int, r: SignalResult) -> str:
    return f"signal-{i + 1}-{_slug(r.name)}"
