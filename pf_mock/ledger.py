"""One agent's accounting on one market: position, cash and the PnL decomposition.

For a fill of ``q`` base units at price ``p`` with the mid at ``m`` and side sign ``s`` (+1 buy,
-1 sell), its *edge* is ``s (m - p) q``. The cash it moves is ``-s p q - fee``, which splits as
``edge - fee - s m q``: so the change of equity (cash + position x mid) over any window is exactly

    net_pnl = spread_income + rebates + inventory_pnl - hedge_cost

with ``spread_income`` the edges of maker fills, ``rebates`` the maker rebates, ``hedge_cost`` the
taker fees plus slippage (minus the edges of taker fills), and ``inventory_pnl`` the position marked
to the mid over time: ``pos_end m_end - pos_start m_start - sum(s m q)``. Every fill stores the running
totals after it, so any window is the difference of two snapshots.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

from .clock import to_ms


def shown_ms(t: float) -> float:
    """The millisecond a client is shown for time ``t`` (seconds): windows compare on it, so that a
    client's own ``since`` and ``until`` (taken from timestamps it was shown) cut exactly there."""
    return t if math.isinf(t) else to_ms(t)


@dataclass(slots=True)
class Totals:
    """Running totals after a fill (or zero before the first)."""

    lots: int = 0               # signed position in lots
    cash: float = 0.0           # USD moved by this market's fills, fees included
    mid_cost: float = 0.0       # sum of s * m * q: the position's cost at the mid
    spread_income: float = 0.0
    rebates: float = 0.0
    fees: float = 0.0
    slippage: float = 0.0
    realized_inventory: float = 0.0   # average-cost realized part of inventory_pnl
    volume: float = 0.0
    maker_fills: int = 0
    taker_fills: int = 0


@dataclass(slots=True)
class FillRecord:
    fill_id: str
    order_id: str
    symbol: str
    is_buy: bool
    price: float
    size: float
    notional: float
    maker: bool
    fee: float          # positive = paid, negative = rebate received
    mid: float
    kind: str           # "quote", "hedge" or "auto_hedge"
    time: float
    edge: float
    after: Totals


class AverageCost:
    """Average-cost basis of a signed position (kept in whole lots, so flat is exactly flat)."""

    __slots__ = ("unit", "lots", "avg", "realized")

    def __init__(self, unit: float) -> None:
        self.unit = unit        # base units per lot
        self.lots = 0
        self.avg = 0.0
        self.realized = 0.0

    def add(self, signed_lots: int, price: float) -> float:
        """Apply a trade; returns the PnL it realized against the basis."""
        held = self.lots
        total = held + signed_lots
        if held == 0 or (held > 0) == (signed_lots > 0):
            self.avg = (abs(held) * self.avg + abs(signed_lots) * price) / abs(total)
            self.lots = total
            return 0.0
        closing = min(abs(signed_lots), abs(held))
        realized = closing * self.unit * (price - self.avg) * (1.0 if held > 0 else -1.0)
        self.realized += realized
        if total == 0:
            self.avg = 0.0
        elif (total > 0) != (held > 0):
            self.avg = price            # flipped: the rest opens at this price
        self.lots = total
        return realized


class SymbolLedger:
    def __init__(self, symbol: str, lot_scale: int):
        self.symbol = symbol
        self.lot_scale = lot_scale
        self.fills: list[FillRecord] = []
        self._times: list[float] = []
        self.totals = Totals()
        self.at_fill_prices = AverageCost(1.0 / lot_scale)  # the trader's view: entries at fill prices
        self._at_mids = AverageCost(1.0 / lot_scale)        # the decomposition's view: entries at the mid

    @property
    def lots(self) -> int:
        return self.totals.lots

    @property
    def position(self) -> float:
        return self.totals.lots / self.lot_scale

    def apply(self, *, fill_id: str, order_id: str, is_buy: bool, price: float, lots: int, notional: float,
              maker: bool, fee: float, mid: float, kind: str, time: float) -> FillRecord:
        s = 1.0 if is_buy else -1.0
        signed_lots = lots if is_buy else -lots
        q = lots / self.lot_scale
        edge = s * (mid - price) * q
        prev = self.totals
        t = Totals(
            lots=prev.lots + signed_lots,
            cash=prev.cash - s * notional - fee,
            mid_cost=prev.mid_cost + s * mid * q,
            spread_income=prev.spread_income + (edge if maker else 0.0),
            rebates=prev.rebates + (-fee if maker else 0.0),
            fees=prev.fees + (0.0 if maker else fee),
            slippage=prev.slippage + (0.0 if maker else -edge),
            realized_inventory=prev.realized_inventory + self._at_mids.add(signed_lots, mid),
            volume=prev.volume + notional,
            maker_fills=prev.maker_fills + (1 if maker else 0),
            taker_fills=prev.taker_fills + (0 if maker else 1),
        )
        self.at_fill_prices.add(signed_lots, price)
        record = FillRecord(fill_id, order_id, self.symbol, is_buy, price, q, notional, maker, fee, mid, kind,
                            time, edge, t)
        self.totals = t
        self.fills.append(record)
        self._times.append(to_ms(time))
        return record

    def totals_at(self, t: float) -> Totals:
        """The running totals including every fill shown at or before the millisecond of ``t``."""
        i = bisect.bisect_right(self._times, shown_ms(t))
        return self.fills[i - 1].after if i else Totals()


@dataclass
class PnlWindow:
    spread_income: float = 0.0
    rebates: float = 0.0
    inventory_pnl: float = 0.0
    realized_inventory_pnl: float = 0.0
    unrealized_inventory_pnl: float = 0.0
    fees: float = 0.0
    hedge_cost: float = 0.0
    net_pnl: float = 0.0
    volume_usd: float = 0.0
    fills: int = 0
    maker_fills: int = 0
    taker_fills: int = 0
    equity_change: float = 0.0      # cash + position x mid, end minus start: equals net_pnl

    @classmethod
    def of(cls, ledger: SymbolLedger, since: float, until: float, mid_since: float, mid_until: float) -> "PnlWindow":
        """The decomposition over fills in ``(since, until]`` (compared on shown milliseconds), marking
        the position at the given mark prices."""
        a, b = ledger.totals_at(since), ledger.totals_at(until)
        unit = 1.0 / ledger.lot_scale
        pos_a, pos_b = a.lots * unit, b.lots * unit
        inventory = pos_b * mid_until - pos_a * mid_since - (b.mid_cost - a.mid_cost)
        realized = b.realized_inventory - a.realized_inventory
        fees = b.fees - a.fees
        hedge_cost = fees + (b.slippage - a.slippage)
        spread = b.spread_income - a.spread_income
        rebates = b.rebates - a.rebates
        return cls(
            spread_income=spread,
            rebates=rebates,
            inventory_pnl=inventory,
            realized_inventory_pnl=realized,
            unrealized_inventory_pnl=inventory - realized,
            fees=fees,
            hedge_cost=hedge_cost,
            net_pnl=spread + rebates + inventory - hedge_cost,
            volume_usd=b.volume - a.volume,
            fills=(b.maker_fills + b.taker_fills) - (a.maker_fills + a.taker_fills),
            maker_fills=b.maker_fills - a.maker_fills,
            taker_fills=b.taker_fills - a.taker_fills,
            equity_change=(b.cash + pos_b * mid_until) - (a.cash + pos_a * mid_since),
        )

    def __add__(self, other: "PnlWindow") -> "PnlWindow":
        return PnlWindow(**{k: getattr(self, k) + getattr(other, k) for k in self.__dataclass_fields__})
