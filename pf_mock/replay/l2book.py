"""A price-level book of a recording: total size per price, no orders.

Prices are integer ticks, sizes integer lots (see :mod:`pf_mock.replay.formats`). The reader uses it to
fold a snapshot with the diffs that arrived before it and to find stale crossed levels; the replayed
market uses it as the recorded (house) side of its book.

Each side is a plain ``{price: size}`` dict plus a sorted list of its prices: changing the size of an
existing level (most recorded updates) touches only the dict.
"""

from __future__ import annotations

from sortedcontainers import SortedList

BID = "bid"
ASK = "ask"


class L2Book:
    """Bids and asks as ``{price_ticks: size_lots}`` with their prices kept sorted; size 0 removes a level."""

    __slots__ = ("bids", "asks", "_bid_prices", "_ask_prices")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._bid_prices = SortedList()
        self._ask_prices = SortedList()

    def side(self, side: str) -> dict[int, int]:
        return self.bids if side == BID else self.asks

    def clear(self) -> None:
        self.load((), ())

    def set(self, side: str, price: int, size: int) -> int:
        """Set the size at ``price`` (0 removes the level); returns the size it had before."""
        if side == BID:
            levels, prices = self.bids, self._bid_prices
        else:
            levels, prices = self.asks, self._ask_prices
        before = levels.get(price, 0)
        if size > 0:
            levels[price] = size
            if not before:
                prices.add(price)
        elif before:
            del levels[price]
            prices.remove(price)
        return before

    def size(self, side: str, price: int) -> int:
        return (self.bids if side == BID else self.asks).get(price, 0)

    def best_bid(self) -> int | None:
        return self._bid_prices[-1] if self._bid_prices else None

    def best_ask(self) -> int | None:
        return self._ask_prices[0] if self._ask_prices else None

    def crossed(self) -> bool:
        return bool(self._bid_prices) and bool(self._ask_prices) and self._bid_prices[-1] >= self._ask_prices[0]

    def prices(self, side: str, best_first: bool = True):
        """The prices of a side, best first (or worst first), as an iterator."""
        prices = self._bid_prices if side == BID else self._ask_prices
        return reversed(prices) if (side == BID) == best_first else iter(prices)

    def levels(self, side: str, count: int | None = None) -> list[tuple[int, int]]:
        """The best ``count`` levels of a side, best first, as ``(price, size)``."""
        levels = self.bids if side == BID else self.asks
        out = []
        for price in self.prices(side):
            if count is not None and len(out) >= count:
                break
            out.append((price, levels[price]))
        return out

    def copy_state(self) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """Both sides as tuples of ``(price, size)`` in ascending price order."""
        return (tuple((p, self.bids[p]) for p in self._bid_prices),
                tuple((p, self.asks[p]) for p in self._ask_prices))

    def load(self, bids, asks) -> None:
        self.bids = {int(p): int(s) for p, s in bids if int(s) > 0}
        self.asks = {int(p): int(s) for p, s in asks if int(s) > 0}
        self._bid_prices = SortedList(self.bids)
        self._ask_prices = SortedList(self.asks)
