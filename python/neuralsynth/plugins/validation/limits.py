"""Tolerances, limits and configurations the checks share (effects and instruments alike)."""

from __future__ import annotations

TOL_BLOCK = 1e-5  # block-size and call-size invariance, return to defaults after automation
TOL_EXACT = 1e-6  # state round trip, reset, bypass, identical instances / channels
SILENCE_LEVEL = 1e-6  # -120 dBFS
AUTOMATION_PEAK = 1000.0  # +60 dBFS: even at extreme gains the output must not run away

SAMPLE_RATES = (44100, 48000, 96000)
BLOCK_SIZES = (1, 16, 64, 100, 512, 4096)
MAX_BLOCK = 4096
