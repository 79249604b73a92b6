#!/usr/bin/env bash
# The whole test suite (does its own set-up first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
export OPENBLAS_NUM_THREADS=1
# The portable bridges (x86-64-v2 baseline + v3 + v4) that tests/test_isa_variants.py runs the
# core's oracle tests on; built here, before the timed suite (incremental, through ccache).
export NEURALSYNTH_PORTABLE_BUILD="$PWD/build/portable"
mkdir -p build
if ! { [ -f "$NEURALSYNTH_PORTABLE_BUILD/CMakeCache.txt" ] || \
       cmake -S . -B "$NEURALSYNTH_PORTABLE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNEURALSYNTH_PORTABLE=ON \
         -DNEURALSYNTH_TESTS=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache; } >build/portable.log 2>&1 || \
   ! cmake --build "$NEURALSYNTH_PORTABLE_BUILD" -j 2 >>build/portable.log 2>&1; then
  tail -n 60 build/portable.log
  echo "ci/test.sh: the portable bridge build failed (log: build/portable.log)" >&2
  exit 1
fi
# The plugins the suite's fixtures use, into the build cache (set-up, not test time).
python3 tests/prebuild.py
python3 -m ruff check python tests
# Run from the tests directory so the installed package (with its built bridge) is what is tested.
cd tests && python3 -m pytest -q -p no:cacheprovider "$@"
