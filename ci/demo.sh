#!/usr/bin/env bash
# The main job on the bundled default model: info, process, bench.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
DATA=$(python3 -c "import neuralsynth, pathlib; print(pathlib.Path(neuralsynth.__file__).parent / 'data')")
mkdir -p out
echo "== neuralsynth info"
neuralsynth info "$DATA/wavenet_a1_standard.nam"
echo "== neuralsynth process"
neuralsynth process "$DATA/wavenet_a1_standard.nam" "$DATA/input.wav" out/demo_output.wav --block-size 64
echo "== neuralsynth bench"
neuralsynth bench ${BENCH_ARGS:-}
echo "== neuralsynth build / test / validate (plugin from the bundled model)"
neuralsynth build "$DATA/wavenet_a1_standard.nam" --name "Tweed Drive" --out dist
neuralsynth test "dist/Tweed Drive.vst3" --reference "$DATA/wavenet_a1_standard.nam" --report out/report
neuralsynth validate "dist/Tweed Drive.vst3" --quick
