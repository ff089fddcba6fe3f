"""Orders that left the book: each agent's closed orders, with their status and the reason, so that no
order disappears without a trace (``GET /v1/mm/orders?status=closed``).

An order leaves the book one way only: a market says so at the instant it happens (``Market`` reports
an ``OrderClosed`` to its observer) and the exchange files it here. The reason is given where the order
is taken out: a client's cancel, the refresh loop, a guardrail (``sessions.py``), self-trade prevention
and the inventory guard inside a sweep (``book.py`` through ``market.py``), a fill, an IOC's remainder.

Kept compactly and bounded: in columns (typed arrays, 60 bytes an order), the newest ``CLOSED_KEPT`` of
each agent; older ones are dropped (their fills stay in the ledger for good). Positions count every
order the agent ever closed, dropped ones included, so a cursor keeps its place as the oldest go.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import get_args

from .messages import CloseReason, CloseStatus, TimeInForce

# The names are the API's (messages.py); unpacked here so the core says which one it means.
STATUSES = get_args(CloseStatus)
FILLED, CANCELLED, EXPIRED = STATUSES
# Why an order left the book (None: it filled). ``ioc``: an IOC order's remainder, which never rests.
CLIENT, REFRESH, SELF_TRADE, MAX_INVENTORY, SPREAD_PAUSE, STOP_LOSS, IOC_REMAINDER, WOULD_CROSS = get_args(CloseReason)
REASONS = (None, *get_args(CloseReason))
TIFS = get_args(TimeInForce)

CLOSED_KEPT = 5_000         # per agent: about 360 KB at most (60 bytes an order, plus the trimming slack)
_SLACK = 1_024              # trim in batches, so dropping the oldest costs O(1) an order, amortised


@dataclass(slots=True)
class ClosedOrder:
    """One order that left the book, in the API's units (base units, USD, seconds)."""

    order_id: str           # public (``ord_`` + 12 hex)
    symbol: str
    is_buy: bool
    price: float
    size: float             # base units at entry
    remaining: float        # base units not filled when it left
    notional: float         # USD of what remained
    tif: str
    created_at: float
    closed_at: float
    status: str
    reason: str | None


class ClosedOrders:
    """One agent's closed orders across its markets, in the order they left the book."""

    def __init__(self) -> None:
        self.dropped = 0                    # closed orders no longer kept (the oldest)
        self.symbols: list[str] = []
        self._symbol_index: dict[str, int] = {}
        self.ids = array("q")
        self.symbol_at = array("H")
        self.flags = array("H")             # bit 0: buy; bits 1-2: tif; bits 3-4: status; bits 5-8: reason
        self.price, self.size, self.remaining = array("d"), array("d"), array("d")
        self.notional, self.created_at, self.closed_at = array("d"), array("d"), array("d")

    def _columns(self) -> tuple[array, ...]:
        return (self.ids, self.symbol_at, self.flags, self.price, self.size, self.remaining, self.notional,
                self.created_at, self.closed_at)

    def __len__(self) -> int:
        """Every order ever closed, dropped ones included (the end of the positions)."""
        return self.dropped + len(self.ids)

    def append(self, c: ClosedOrder) -> None:
        prefix, _, digits = c.order_id.rpartition("_")
        if prefix != "ord":
            raise ValueError(f"unexpected order id {c.order_id!r}")
        s = self._symbol_index.get(c.symbol)
        if s is None:
            s = self._symbol_index[c.symbol] = len(self.symbols)
            self.symbols.append(c.symbol)
        self.ids.append(int(digits, 16))
        self.symbol_at.append(s)
        self.flags.append(int(c.is_buy) | TIFS.index(c.tif) << 1 | STATUSES.index(c.status) << 3
                          | REASONS.index(c.reason) << 5)
        for column, value in ((self.price, c.price), (self.size, c.size), (self.remaining, c.remaining),
                              (self.notional, c.notional), (self.created_at, c.created_at),
                              (self.closed_at, c.closed_at)):
            column.append(value)
        if len(self.ids) > CLOSED_KEPT + _SLACK:
            extra = len(self.ids) - CLOSED_KEPT
            for column in self._columns():
                del column[:extra]
            self.dropped += extra

    def __getitem__(self, position: int) -> ClosedOrder:
        """The closed order at ``position`` (counting dropped ones: it must still be kept)."""
        i = position - self.dropped
        if not 0 <= i < len(self.ids):
            raise IndexError("closed order not kept")
        flags = self.flags[i]
        return ClosedOrder(f"ord_{self.ids[i]:012x}", self.symbols[self.symbol_at[i]], bool(flags & 1),
                           self.price[i], self.size[i], self.remaining[i], self.notional[i],
                           TIFS[flags >> 1 & 3], self.created_at[i], self.closed_at[i], STATUSES[flags >> 3 & 3],
                           REASONS[flags >> 5 & 15])

    def page(self, symbol: str | None, cursor: int | None, limit: int) -> tuple[list[ClosedOrder], int | None]:
        """Up to ``limit`` closed orders (only ``symbol``'s, if given), oldest first, and the position the
        next page starts at (None when no kept order after this page matches). Without ``cursor``: the
        newest ``limit``. With it: the ``limit`` from that position on (from the oldest kept, if those
        before it were dropped)."""
        wanted = None if symbol is None else self._symbol_index.get(symbol, -1)
        at = self.symbol_at
        n = len(self.ids)

        def matches(i: int) -> bool:
            return wanted is None or at[i] == wanted

        found: list[int] = []
        if cursor is None:
            i = n - 1
            while i >= 0 and len(found) < limit:
                if matches(i):
                    found.append(i)
                i -= 1
            found.reverse()
            return [self[self.dropped + i] for i in found], None
        i = max(cursor - self.dropped, 0)
        while i < n and len(found) < limit:
            if matches(i):
                found.append(i)
            i += 1
        more = any(matches(j) for j in range(i, n))
        return [self[self.dropped + i] for i in found], (self.dropped + i if more else None)
