"""The battery's checks by name, in the order they run (the functions: :mod:`.effect_checks`,
:mod:`.instrument_checks`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    title: str


CHECKS: tuple[Check, ...] = (
    Check("load", "create/destroy repeatedly; two instances at once"),
    Check("sample_rates", "44.1 / 48 / 96 kHz"),
    Check("block_sizes", "block sizes 1..4096 == 512-block output"),
    Check("varying_blocks", "varying call sizes == one call"),
    Check("silence", "silence in: finite, below -120 dBFS after the tail"),
    Check("full_scale", "full-scale noise and square wave"),
    Check("automation", "random parameter automation"),
    Check("state", "state round trip"),
    Check("reset", "reset == fresh instance"),
    Check("bypass", "bypass passes the input through"),
    Check("channels", "mono and stereo"),
    Check("non_finite", "NaN / Inf input"),
)
CHECK_NAMES: tuple[str, ...] = tuple(c.name for c in CHECKS)
CHECK_BY_NAME: dict[str, Check] = {c.name: c for c in CHECKS}
