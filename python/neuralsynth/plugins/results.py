"""Result records shared by `neuralsynth test`, its report and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SignalResult:
    """One test signal run through the plugin and through the reference, aligned."""

    name: str
    sample_rate: float
    input: np.ndarray  # (channels, n) float32, what the host fed the plugin
    plugin: np.ndarray  # (channels, n) plugin output, shifted by `lag` to line up with the reference
    reference: np.ndarray  # (channels, n) reference output
    lag: int  # samples the plugin output was shifted by (the latency found)
    max_abs_error: float
    esr: float  # error-to-signal ratio, sum(e^2) / sum(ref^2)
    snr_db: float
    realtime_factor: float  # seconds of audio the host processed per second of wall time
    tolerance: float
    passed: bool
    notes: list[str] = field(default_factory=list)
    # The float32 conditioning floor: how far the float64 reference itself moves when the
    # input is scaled by (1 +- 2^-23). A high-gain model near slow zero crossings amplifies
    # rounding enormously; no float32 implementation can beat this floor.
    floor: float = 0.0
    effective_tolerance: float = 0.0
    core_max_abs_error: float | None = None  # plugin vs the same C++ core through the bridge

    def as_dict(self) -> dict:
        return {
            "signal": self.name,
            "sample_rate": self.sample_rate,
            "samples": int(self.input.shape[-1]),
            "channels": int(self.input.shape[0]),
            "lag": self.lag,
            "max_abs_error": self.max_abs_error,
            "esr": self.esr,
            "snr_db": self.snr_db,
            "realtime_factor": self.realtime_factor,
            "tolerance": self.tolerance,
            "passed": self.passed,
            "notes": self.notes,
            "float32_floor": self.floor,
            "effective_tolerance": self.effective_tolerance,
            "core_max_abs_error": self.core_max_abs_error,
        }
