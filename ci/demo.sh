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
