#!/usr/bin/env bash
# One-time (idempotent) set-up on Debian 12 / Ubuntu: system packages, Python
# packages, and the package itself (which builds the C++ bridge with CMake).
# Safe to run again: it skips what is already there and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

# Core + bridge: compiler, CMake, Eigen, nlohmann_json. Plugins: JUCE 7 (Debian's juce-modules-source),
# libsoxr (resampling inside the plugins), fst-dev (VST2 headers), xvfb/xauth (Standalone tests), ccache.
# Datasets: dpf-plugins-vst (Nekobi, a third-party VST2 synth the tests render), FFmpeg 5 libraries
# (Hugging Face datasets decodes Audio with torchcodec, which loads them).
APT_PACKAGES=(build-essential cmake ninja-build pkg-config libeigen3-dev nlohmann-json3-dev libsndfile1
              juce-modules-source libsoxr-dev libsoxr0 fst-dev dpf-plugins-vst xvfb xauth ccache procps
              libavcodec59 libavformat59 libavutil57 libswresample4 libswscale6 libavdevice59 libavfilter8)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
# Build tools first (the package is built without build isolation so no index access is needed mid-build).
$PY -m pip install -q --disable-pip-version-check "scikit-build-core>=0.9" "cffi>=1.16" cmake ninja 2>&1 | grep -v "WARNING" || true
$PY -m pip install -q --disable-pip-version-check --no-build-isolation ".[test,plugins,render,ray,inverse]" 2>&1 | grep -v "WARNING" || true
# torchcodec (for datasets' Audio decoding) needs torch. Only the CPU build is wanted; install it
# when this machine has that wheel locally (a plain `pip install torch` pulls GBs of CUDA packages).
if ! $PY -c "import torchcodec" 2>/dev/null && ls /opt/wheels/torch-2.13.0+cpu-*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --disable-pip-version-check "torch==2.13.0" "torchcodec==0.13.0" "onnx>=1.15" "onnxscript>=0.1" 2>&1 | grep -v "WARNING" || true
fi
$PY -c "import neuralsynth, neuralsynth.model as m; m.lib(); print('setup: neuralsynth', neuralsynth.__version__, 'bridge built with', m.build_flags())"
command -v neuralsynth >/dev/null || { echo "setup: the neuralsynth command is not on PATH" >&2; exit 1; }
