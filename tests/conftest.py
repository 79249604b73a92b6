"""Shared fixtures: paths to the outside oracles and the model generators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Keep numpy's BLAS single-threaded: the reference models do many small products
# and the CI machine has two cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

FIXTURES = Path(__file__).parent / "fixtures"
NAM_DIR = FIXTURES / "nam"
RTNEURAL_DIR = FIXTURES / "rtneural"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
