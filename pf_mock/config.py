"""An exchange's settings: the seed, the starting balance, open or strict auth, and the fees."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .fees import MAKER_REBATE_BPS, TAKER_FEE_BPS, FeeSchedule


@dataclass(frozen=True)
class ExchangeConfig:
    seed: int = 0
    starting_balance: float = 10_000.0
    strict_auth: bool = False
    maker_rebate_bps: float = MAKER_REBATE_BPS
    taker_fee_bps: float = TAKER_FEE_BPS
    latency_ms: float | None = None     # every market's regime starts at this median latency (None: the catalog's)

    @cached_property
    def fees(self) -> FeeSchedule:
        return FeeSchedule(self.maker_rebate_bps, self.taker_fee_bps)
