"""Writes the NeuralSynth factory presets: presets/factory/<category>/<NN name>.fxp, a bank of
all of them (presets/factory.fxb) and a readable index (presets/factory/index.json).

Each preset is a designed set of real parameter values (in the parameters' units; anything not
named keeps the instrument's default) on top of a category template. The .fxp files are VST2
parameter lists (FxCk) holding normalized values, computed with the instrument's own mapping
(the C++ core, through the bridge), and carry the plugin id of the instrument built under
--plugin-name (default "NeuralSynth", the name `ci/demo.sh` and the tests build).

    python presets/make_factory.py [--out presets] [--plugin-name NeuralSynth] [--check]

--check regenerates in memory and fails if a file in --out differs (the files are reproducible).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from neuralsynth.plugins.build import plugin_code
from neuralsynth.presets import Bank, Program, parse_plugin_id, write_fxb, write_fxp
from neuralsynth.synth import parameters

CATEGORIES = ("bass", "lead", "pad", "pluck", "keys", "fx")

SINE, TRI, SAW, SQUARE, PULSE25, PULSE10, ORGAN, VOCAL = (i / 7 for i in range(8))

TEMPLATES: dict[str, dict[str, float]] = {
    "bass": dict(osc1_table=SAW, osc2_table=SQUARE, osc2_octave=-1, osc2_level=0.4, filter_cutoff=400.0,
                 filter_env_amount=24.0, filter_decay=250.0, filter_sustain=0.2, amp_attack=2.0, amp_decay=400.0,
                 amp_sustain=0.8, amp_release=120.0, reverb_mix=0.05, master_gain=0.0),
    "lead": dict(osc1_table=SAW, osc2_table=SAW, osc2_detune=8.0, osc2_level=0.6, filter_cutoff=2500.0,
                 filter_resonance=0.3, filter_env_amount=18.0, filter_decay=400.0, filter_sustain=0.5,
                 amp_attack=3.0, amp_sustain=0.9, amp_release=200.0, reverb_mix=0.15, master_gain=-2.0),
    "pad": dict(osc1_table=SAW, osc2_table=SAW, osc1_detune=-9.0, osc2_detune=9.0, osc2_level=0.8,
                filter_cutoff=1200.0, filter_env_amount=12.0, filter_attack=1200.0, filter_decay=2000.0,
                filter_sustain=0.6, filter_release=2000.0, amp_attack=900.0, amp_decay=1500.0, amp_sustain=0.9,
                amp_release=1800.0, reverb_mix=0.45, reverb_size=0.75, master_gain=-4.0),
    "pluck": dict(osc1_table=SAW, osc2_table=TRI, osc2_octave=1, osc2_level=0.3, filter_cutoff=600.0,
                  filter_env_amount=42.0, filter_attack=1.0, filter_decay=180.0, filter_sustain=0.0,
                  amp_attack=1.0, amp_decay=450.0, amp_sustain=0.0, amp_release=350.0, reverb_mix=0.25,
                  master_gain=0.0),
    "keys": dict(osc1_table=TRI, osc2_table=SINE, osc2_octave=1, osc2_level=0.35, filter_cutoff=3000.0,
                 filter_env_amount=12.0, filter_decay=600.0, filter_sustain=0.4, amp_attack=2.0, amp_decay=1200.0,
                 amp_sustain=0.35, amp_release=300.0, velocity_sens=0.8, reverb_mix=0.2, master_gain=0.0),
    "fx": dict(osc1_table=SAW, osc2_level=0.5, noise_level=0.3, filter_cutoff=1500.0, filter_resonance=0.5,
               amp_attack=20.0, amp_sustain=1.0, amp_release=1200.0, lfo_depth=0.4, reverb_mix=0.4,
               reverb_size=0.8, master_gain=-4.0),
}

# (name, category, overrides); names fit the 27 characters of an .fxp program name.
DESIGNS: list[tuple[str, str, dict[str, float]]] = [
    ("Sub Bass", "bass", dict(osc1_table=SINE, osc2_level=0.0, filter_cutoff=300.0, filter_env_amount=0.0)),
    ("Saw Bass", "bass", dict()),
    ("Square Bass", "bass", dict(osc1_table=SQUARE, osc2_table=SINE, filter_cutoff=600.0)),
    ("Acid Bass", "bass", dict(osc2_level=0.0, filter_resonance=0.85, filter_env_amount=48.0, filter_decay=160.0,
                               filter_cutoff=250.0, filter_sustain=0.0)),
    ("Reese Bass", "bass", dict(osc2_table=SAW, osc2_octave=0, osc1_detune=-14.0, osc2_detune=14.0, osc2_level=0.9,
                                lfo_target=1, lfo_rate=0.3, lfo_depth=0.15, filter_cutoff=700.0)),
    ("Pluck Bass", "bass", dict(amp_sustain=0.0, amp_decay=300.0, filter_env_amount=36.0, filter_decay=120.0)),
    ("Amp Bass", "bass", dict(neural_mix=0.8, neural_drive=12.0, filter_cutoff=900.0, master_gain=-6.0)),
    ("Wobble Bass", "bass", dict(lfo_target=1, lfo_rate=3.0, lfo_depth=0.45, lfo_shape=1, filter_resonance=0.6)),
    ("Formant Bass", "bass", dict(osc1_table=VOCAL, filter_cutoff=1200.0, filter_env_amount=6.0)),
    ("Octave Bass", "bass", dict(osc2_table=SAW, osc2_level=0.7, filter_cutoff=800.0)),
    ("Dirty Bass", "bass", dict(noise_level=0.15, noise_freq=800.0, neural_mix=0.6, neural_drive=18.0,
                                master_gain=-8.0)),
    ("Saw Lead", "lead", dict()),
    ("Square Lead", "lead", dict(osc1_table=SQUARE, osc2_table=SQUARE, osc2_octave=1, osc2_level=0.3)),
    ("Pulse Lead", "lead", dict(osc1_table=PULSE25, osc2_table=PULSE10, filter_cutoff=3500.0)),
    ("Glide Lead", "lead", dict(glide=120.0, osc2_detune=4.0)),
    ("Vibrato Lead", "lead", dict(lfo_target=0, lfo_rate=5.5, lfo_depth=0.04, osc1_table=TRI, osc2_level=0.3)),
    ("Amp Lead", "lead", dict(neural_mix=1.0, neural_drive=6.0, filter_cutoff=1800.0, master_gain=-8.0)),
    ("Vocal Lead", "lead", dict(osc1_table=VOCAL, osc2_table=VOCAL, filter_cutoff=5000.0, lfo_target=0,
                                lfo_rate=5.0, lfo_depth=0.02)),
    ("Organ Lead", "lead", dict(osc1_table=ORGAN, osc2_table=ORGAN, osc2_octave=1, filter_cutoff=6000.0)),
    ("Bright Lead", "lead", dict(filter_cutoff=8000.0, filter_resonance=0.2, osc2_detune=15.0)),
    ("Soft Lead", "lead", dict(osc1_table=TRI, osc2_table=SINE, filter_cutoff=1500.0, amp_attack=40.0)),
    ("Screamer", "lead", dict(neural_mix=1.0, neural_drive=18.0, filter_resonance=0.7, master_gain=-12.0)),
    ("Warm Pad", "pad", dict()),
    ("String Pad", "pad", dict(osc1_detune=-14.0, osc2_detune=14.0, filter_cutoff=2500.0, lfo_target=0,
                               lfo_rate=4.5, lfo_depth=0.01)),
    ("Glass Pad", "pad", dict(osc1_table=PULSE10, osc2_table=ORGAN, osc2_octave=1, filter_mode=2,
                              filter_cutoff=400.0, filter_env_amount=0.0)),
    ("Breath Pad", "pad", dict(noise_level=0.5, noise_freq=2500.0, noise_width=1.5, osc1_level=0.5)),
    ("Dark Pad", "pad", dict(filter_cutoff=400.0, osc1_table=TRI)),
    ("Choir Pad", "pad", dict(osc1_table=VOCAL, osc2_table=VOCAL, filter_cutoff=3000.0)),
    ("Sweep Pad", "pad", dict(lfo_target=1, lfo_rate=0.12, lfo_depth=0.35, filter_resonance=0.5)),
    ("Shimmer Pad", "pad", dict(osc2_octave=1, osc2_table=TRI, reverb_mix=0.7, reverb_size=0.95)),
    ("Analog Pad", "pad", dict(osc1_table=SQUARE, osc2_table=SAW, lfo_target=2, lfo_rate=0.4, lfo_depth=0.3)),
    ("Drone Pad", "pad", dict(osc2_octave=-1, amp_attack=2500.0, amp_release=4000.0)),
    ("Amp Pad", "pad", dict(neural_mix=0.4, neural_drive=3.0, master_gain=-6.0)),
    ("Bright Pluck", "pluck", dict(filter_cutoff=1500.0)),
    ("Soft Pluck", "pluck", dict(osc1_table=TRI, filter_env_amount=24.0)),
    ("Harp Pluck", "pluck", dict(osc1_table=TRI, osc2_table=SINE, amp_decay=900.0, reverb_mix=0.4)),
    ("Koto Pluck", "pluck", dict(osc1_table=PULSE25, filter_resonance=0.4, amp_decay=600.0)),
    ("Square Pluck", "pluck", dict(osc1_table=SQUARE)),
    ("Noise Pluck", "pluck", dict(noise_level=0.6, noise_freq=4000.0, osc1_level=0.5)),
    ("Bell Pluck", "pluck", dict(osc1_table=ORGAN, osc2_table=SINE, osc2_octave=2, amp_decay=1400.0)),
    ("Amp Pluck", "pluck", dict(neural_mix=0.9, neural_drive=9.0, master_gain=-6.0)),
    ("Marimba", "pluck", dict(osc1_table=SINE, osc2_table=SINE, osc2_octave=2, osc2_level=0.2, amp_decay=300.0,
                              filter_cutoff=3000.0, filter_env_amount=0.0)),
    ("Mute Pluck", "pluck", dict(filter_cutoff=250.0, filter_env_amount=24.0, amp_decay=200.0)),
    ("Echo Pluck", "pluck", dict(reverb_mix=0.6, reverb_size=0.9, reverb_damping=0.2)),
    ("EP Keys", "keys", dict()),
    ("Organ", "keys", dict(osc1_table=ORGAN, osc2_level=0.0, amp_sustain=1.0, amp_decay=50.0,
                           filter_env_amount=0.0, filter_cutoff=8000.0)),
    ("Clav", "keys", dict(osc1_table=PULSE10, filter_mode=1, filter_cutoff=1200.0, filter_resonance=0.4,
                          amp_decay=500.0, amp_sustain=0.1)),
    ("Toy Piano", "keys", dict(osc1_table=SQUARE, osc2_octave=2, amp_decay=700.0, amp_sustain=0.0)),
    ("Soft Keys", "keys", dict(osc1_table=SINE, filter_cutoff=1500.0, velocity_sens=1.0)),
    ("Pulse Keys", "keys", dict(osc1_table=PULSE25, filter_cutoff=2500.0)),
    ("Amp Organ", "keys", dict(osc1_table=ORGAN, amp_sustain=1.0, neural_mix=0.7, neural_drive=10.0,
                               master_gain=-6.0, lfo_target=3, lfo_rate=6.0, lfo_depth=0.2)),
    ("Vocal Keys", "keys", dict(osc1_table=VOCAL, osc2_table=TRI)),
    ("Bright Keys", "keys", dict(osc1_table=SAW, filter_cutoff=6000.0)),
    ("Dull Keys", "keys", dict(filter_cutoff=500.0, filter_env_amount=6.0)),
    ("Stab Keys", "keys", dict(osc1_table=SAW, osc2_table=SAW, osc2_detune=10.0, amp_decay=250.0, amp_sustain=0.0,
                               filter_env_amount=30.0, filter_decay=150.0)),
    ("Noise Sweep", "fx", dict(osc1_level=0.0, osc2_level=0.0, noise_level=1.0, lfo_target=1, lfo_shape=2,
                               lfo_rate=0.25, lfo_depth=0.5)),
    ("Laser", "fx", dict(noise_level=0.0, lfo_target=0, lfo_shape=2, lfo_rate=8.0, lfo_depth=0.8)),
    ("Wind", "fx", dict(osc1_level=0.0, osc2_level=0.0, noise_level=1.0, noise_width=0.5, noise_freq=900.0,
                        lfo_target=1, lfo_rate=0.2, lfo_depth=0.3)),
    ("Alarm", "fx", dict(noise_level=0.0, osc1_table=SQUARE, lfo_target=0, lfo_shape=3, lfo_rate=2.0,
                         lfo_depth=0.25)),
    ("Sample Hold", "fx", dict(lfo_target=1, lfo_shape=4, lfo_rate=8.0, lfo_depth=0.5, filter_resonance=0.8)),
    ("Riser", "fx", dict(glide=2000.0, noise_level=0.2, lfo_target=2, lfo_rate=0.5)),
    ("Drone FX", "fx", dict(osc2_octave=-2, osc1_table=VOCAL, lfo_target=2, lfo_rate=0.1, lfo_depth=0.6)),
    ("Bitter Amp", "fx", dict(neural_mix=1.0, neural_drive=24.0, noise_level=0.1, master_gain=-14.0)),
    ("Tremolo FX", "fx", dict(lfo_target=3, lfo_shape=3, lfo_rate=7.0, lfo_depth=1.0, noise_level=0.0)),
    ("Space", "fx", dict(reverb_mix=1.0, reverb_size=1.0, reverb_damping=0.1, noise_level=0.1)),
]


def design_values(category: str, overrides: dict[str, float]) -> dict[str, float]:
    params = parameters()
    values = {p.id: p.default for p in params}
    values.update(TEMPLATES[category])
    values.update(overrides)
    unknown = set(values) - {p.id for p in params}
    if unknown:
        raise SystemExit(f"unknown parameter(s) {sorted(unknown)} in a preset design")
    return values


def build_all(plugin_name: str) -> list[tuple[str, str, Program, dict[str, float]]]:
    params = parameters()
    plugin_id = parse_plugin_id(plugin_code(plugin_name))
    out = []
    for name, category, overrides in DESIGNS:
        values = design_values(category, overrides)
        normalized = [p.to_normalized(values[p.id]) for p in params]
        real = {p.id: p.from_normalized(n) for p, n in zip(params, normalized, strict=True)}  # what the plugin holds
        out.append((name, category, Program(name=name, plugin_id=plugin_id, params=normalized), real))
    return out


def write_all(out_dir: Path, plugin_name: str) -> list[Path]:
    presets = build_all(plugin_name)
    factory = out_dir / "factory"
    written = []
    index = {"plugin_name": plugin_name, "plugin_id": plugin_code(plugin_name), "presets": []}
    counters = dict.fromkeys(CATEGORIES, 0)
    for name, category, program, real in presets:
        counters[category] += 1
        rel = Path(category) / f"{counters[category]:02d} {name}.fxp"
        (factory / category).mkdir(parents=True, exist_ok=True)
        written.append(write_fxp(program, factory / rel))
        index["presets"].append({"name": name, "category": category, "file": str(rel), "values": real})
    (factory / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    written.append(factory / "index.json")
    bank = Bank(plugin_id=presets[0][2].plugin_id, programs=[p[2] for p in presets])
    written.append(write_fxb(bank, out_dir / "factory.fxb"))
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(Path(__file__).parent), help="folder to write into (default: presets/)")
    ap.add_argument("--plugin-name", default="NeuralSynth", help="name the instrument is built under")
    ap.add_argument("--check", action="store_true", help="fail if the files in --out differ from a fresh run")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            fresh = write_all(Path(tmp), args.plugin_name)
            bad = [p.relative_to(tmp) for p in fresh if not (out / p.relative_to(tmp)).is_file()
                   or (out / p.relative_to(tmp)).read_bytes() != p.read_bytes()]
            expected = {p.relative_to(tmp) for p in fresh}
            bad += [p.relative_to(out) for p in sorted((out / "factory").rglob("*"))
                    if p.is_file() and p.relative_to(out) not in expected]  # stale extra files
        if bad:
            print(f"{len(bad)} preset file(s) differ from a fresh run, e.g. {bad[0]}", file=sys.stderr)
            return 1
        print(f"{len(fresh)} files match")
        return 0
    if (out / "factory").is_dir():
        shutil.rmtree(out / "factory")
    written = write_all(out, args.plugin_name)
    counts = {c: sum(1 for _, cat, _ in DESIGNS if cat == c) for c in CATEGORIES}
    print(f"wrote {len(DESIGNS)} presets ({', '.join(f'{k} {v}' for k, v in counts.items())}) and "
          f"{len(written) - len(DESIGNS)} index/bank files under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
