"""A reference accountant: the PnL of one agent on one market, worked out from its fills alone.

It shares no code with the ledger and is written the slow, obvious way, so that a slip in the ledger
shows up as a difference. It reads fills as the API prints them (``side``, ``price``, ``size``,
``fee_usd``, ``liquidity``, ``mid_at_fill``) and marks at whatever mark the caller gives (the API's
``mark_price``), so it does not care how the mark itself is made.

Two average-cost books are kept, because the API reports two views of the same position:
- the trader's (``/v1/mm/inventory``): entries at fill prices, realized PnL against that average;
- the decomposition's (``/v1/mm/pnl``): entries at the mark at each fill, so that ``inventory_pnl``
  (the position marked over time) splits into a realized and an unrealized part.

``inventory_pnl`` itself is summed interval by interval, position times mark change, rather than from
end-point totals as the ledger does; the two agree only if both are right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FLAT = 1e-9     # sizes are sums of floats; a position this small is flat (the finest lot is 1e-5)


@dataclass
class AverageBook:
    """A signed position and its average entry, with PnL realized whenever it shrinks."""

    position: float = 0.0
    entry: float = 0.0          # average entry price of what is held; 0 when flat
    realized: float = 0.0

    def trade(self, signed_qty: float, price: float) -> None:
        if self.position == 0.0 or (self.position > 0) == (signed_qty > 0):
            # Opening or adding: the entry is the size-weighted average of old and new.
            total = abs(self.position) + abs(signed_qty)
            self.entry = (abs(self.position) * self.entry + abs(signed_qty) * price) / total
            self.position += signed_qty
            return
        # Reducing (and maybe flipping): the part that closes realizes against the entry.
        closing = min(abs(signed_qty), abs(self.position))
        if self.position > 0:
            self.realized += closing * (price - self.entry)     # sold what was bought at the entry
        else:
            self.realized += closing * (self.entry - price)     # bought back what was sold at the entry
        left = abs(signed_qty) - closing
        self.position += signed_qty
        if abs(self.position) < FLAT:
            self.position, self.entry = 0.0, 0.0
        elif left > 0:
            self.entry = price          # flipped: what is left opens a new position at this price

    def unrealized(self, mark: float) -> float:
        return self.position * (mark - self.entry)


@dataclass
class Reference:
    """The expected figures for one agent on one market, from flat, after ``replay``."""

    cash: float = 0.0               # USD moved by the fills, fees included
    spread_income: float = 0.0
    rebates: float = 0.0
    fees: float = 0.0
    slippage: float = 0.0
    volume: float = 0.0
    maker_fills: int = 0
    taker_fills: int = 0
    inventory_pnl: float = 0.0
    trader: AverageBook = field(default_factory=AverageBook)      # at fill prices
    at_marks: AverageBook = field(default_factory=AverageBook)    # at the mark of each fill
    last_mark: float | None = None
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def position(self) -> float:
        return self.trader.position

    def fill(self, f: dict) -> None:
        qty, price, mark, fee = f["size"], f["price"], f["mid_at_fill"], f["fee_usd"]
        buy = f["side"] == "buy"
        signed = qty if buy else -qty
        self.move_mark(mark)
        paid = qty * price
        self.cash += -paid - fee if buy else paid - fee
        self.volume += paid
        # A buy below the mark (or a sell above it) earned the difference: that is its edge.
        edge = (mark - price) * qty if buy else (price - mark) * qty
        if f["liquidity"] == "maker":
            self.maker_fills += 1
            self.spread_income += edge
            self.rebates += -fee
        else:
            self.taker_fills += 1
            self.fees += fee
            self.slippage += -edge
        self.trader.trade(signed, price)
        self.at_marks.trade(signed, mark)
        self.kinds[f["kind"]] = self.kinds.get(f["kind"], 0) + 1

    def move_mark(self, mark: float) -> None:
        """The mark moves to ``mark`` with the position as it is: that move is inventory PnL."""
        if self.last_mark is not None:
            self.inventory_pnl += self.position * (mark - self.last_mark)
        self.last_mark = mark

    def replay(self, fills: list[dict], mark_now: float) -> "Reference":
        """Apply ``fills`` (oldest first, as the API lists them), then mark at ``mark_now``."""
        for f in fills:
            self.fill(f)
        self.move_mark(mark_now)
        return self

    # ---- the figures the API reports ------------------------------------------------------------
    def equity_change(self, mark: float) -> float:
        return self.cash + self.position * mark

    def hedge_cost(self) -> float:
        return self.fees + self.slippage

    def expected_pnl(self, mark: float) -> dict[str, float]:
        """``/v1/mm/pnl`` over the agent's whole history, marked at ``mark`` now."""
        realized = self.at_marks.realized
        return {
            "spread_income": self.spread_income,
            "rebates": self.rebates,
            "fees": self.fees,
            "hedge_cost": self.hedge_cost(),
            "inventory_pnl": self.inventory_pnl,
            "realized_inventory_pnl": realized,
            "unrealized_inventory_pnl": self.at_marks.unrealized(mark),
            "net_pnl": self.equity_change(mark),
            "volume_usd": self.volume,
            "fills": self.maker_fills + self.taker_fills,
            "maker_fills": self.maker_fills,
            "taker_fills": self.taker_fills,
        }

    def expected_inventory(self, mark: float) -> dict[str, float | None]:
        """``/v1/mm/inventory`` marked at ``mark``."""
        flat = abs(self.position) < FLAT
        return {
            "position": self.position,
            "net_delta_usd": self.position * mark,
            "avg_entry_price": None if flat else self.trader.entry,
            "unrealized_pnl": 0.0 if flat else self.trader.unrealized(mark),
            "realized_pnl": self.trader.realized,
        }
