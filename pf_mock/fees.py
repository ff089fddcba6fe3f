"""Fees: what a fill costs or pays. The seed's schedule is a 0.025% rebate to the maker and a 0.045%
fee on the taker; an exchange can be configured with other rates (``ExchangeConfig``)."""

from __future__ import annotations

from dataclasses import dataclass

MAKER_REBATE_BPS = 2.5      # the seed's -0.025% maker rebate, paid to the maker
TAKER_FEE_BPS = 4.5         # the seed's +0.045% taker fee


@dataclass(frozen=True)
class FeeSchedule:
    maker_rebate_bps: float = MAKER_REBATE_BPS
    taker_fee_bps: float = TAKER_FEE_BPS

    def fee(self, notional: float, maker: bool) -> float:
        """The fee on a fill of ``notional`` USD: negative (a rebate) for the maker, positive for the taker."""
        if maker:
            return -notional * self.maker_rebate_bps / 1e4
        return notional * self.taker_fee_bps / 1e4
