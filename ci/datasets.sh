#!/usr/bin/env bash
# The instrument and its preset dataset, end to end (does its own set-up first):
#   build the NeuralSynth instrument (VST2, VST3, LV2, Standalone) with the bundled NAM model in its
#   neural stage; render the factory presets at three notes with two workers; validate the dataset
#   (rows, NaN, audio, feature shapes, the bridge render equal to the DawDreamer render for a sample
#   of rows, re-renders from the stored parameters) and load it with Hugging Face datasets; run the
#   validate battery on the instrument with MIDI; render random .fxp presets of a third-party VST2
#   synth (Nekobi) and check the audio follows the presets.
# .ci/run runs it after the test suite. OUT (default out/datasets) receives plugins and datasets.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
OUT=${OUT:-out/datasets}
rm -rf "$OUT"
mkdir -p "$OUT"
echo "== build the instrument"
neuralsynth build --instrument --name NeuralSynth --formats vst2,vst3,lv2,standalone --out "$OUT/dist"
echo "== render the factory presets (65 presets x notes 48,60,72, 2 workers)"
neuralsynth render "$OUT/dist/libNeuralSynth.so" --presets presets/factory --notes 48,60,72 --workers 2 \
  --out "$OUT/factory" --quiet
echo "== check the dataset (bridge vs DawDreamer on 24 rows, re-render 6 rows)"
neuralsynth dataset check "$OUT/factory" --bridge 24 --rerender 6
python3 - "$OUT/factory" <<'PY'
import glob, sys
import datasets, numpy as np
files = sorted(glob.glob(f"{sys.argv[1]}/shard-*.parquet"))
ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=f"{sys.argv[1]}/.hf-cache")
assert ds.num_rows == 195, ds.num_rows
try:
    import torchcodec  # noqa: F401
    audio = ds.cast_column("audio", datasets.Audio())[0]["audio"].get_all_samples()
    print(f"datasets: {ds.num_rows} rows; row 0 decodes to {tuple(audio.data.shape)} at {audio.sample_rate} Hz")
except ImportError:
    import io, soundfile
    raw = ds.cast_column("audio", datasets.Audio(decode=False))[0]["audio"]["bytes"]
    a, sr = soundfile.read(io.BytesIO(raw))
    print(f"datasets: {ds.num_rows} rows; row 0 decodes (soundfile; no torchcodec) to {a.shape} at {sr} Hz")
row = ds[0]
print("features:", {k: np.asarray(row[k]).shape for k in ("log_mel", "mfcc", "f0_hz", "loudness_db")})
PY
echo "== validate the instrument (MIDI): VST3 in pedalboard, VST2 in DawDreamer"
neuralsynth validate "$OUT/dist/NeuralSynth.vst3" --quick
neuralsynth validate "$OUT/dist/libNeuralSynth.so" --host dawdreamer --quick
echo "== a third-party synth: random .fxp presets of Nekobi (dpf-plugins-vst) rendered and checked"
neuralsynth preset random /usr/lib/vst/Nekobi-vst.so --count 4 --seed 7 --out "$OUT/nekobi-presets"
neuralsynth render /usr/lib/vst/Nekobi-vst.so --presets "$OUT/nekobi-presets" --notes 48,60 --duration 1.5 \
  --workers 2 --out "$OUT/nekobi" --quiet
neuralsynth dataset check "$OUT/nekobi" --rerender 8
echo "datasets: all checks passed"
