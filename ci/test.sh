#!/usr/bin/env bash
# The whole test suite (does its own set-up first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
export OPENBLAS_NUM_THREADS=1
python3 -m ruff check python tests
# Run from the tests directory so the installed package (with its built bridge) is what is tested.
cd tests && python3 -m pytest -q -p no:cacheprovider "$@"
