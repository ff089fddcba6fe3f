"""A price-level book of a recording: total size per price, no orders.

Prices are integer ticks (or price units), sizes integer lots (see :mod:`pf_mock.replay.formats`). The reader
uses it to fold a snapshot with the diffs that arrived before it and to find stale crossed levels; the
replayed market uses it as the recorded (house) side of its book.

Each side is a plain ``{price: size}`` dict plus a heap of its prices for the best one (bids negated), with
lazy deletion: a removed price stays in the heap until it reaches the top, and the heap is rebuilt when
stale entries pile up. Recorded streams change deep levels all the time; this keeps each change a dict
operation and, for a new price, one C-level heap push. Ordered walks (``prices``) sort on demand.
"""

from __future__ import annotations

import heapq

BID = "bid"
ASK = "ask"


class L2Book:
    """Bids and asks as ``{price: size}``; a size of 0 removes a level."""

    __slots__ = ("bids", "asks", "_bid_heap", "_ask_heap")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._bid_heap: list[int] = []      # negated prices
        self._ask_heap: list[int] = []

    def side(self, side: str) -> dict[int, int]:
        return self.bids if side == BID else self.asks

    def clear(self) -> None:
        self.load((), ())

    def set(self, side: str, price: int, size: int) -> int:
        """Set the size at ``price`` (0 removes the level); returns the size it had before."""
        if side == BID:
            levels = self.bids
            before = levels.get(price, 0)
            if size > 0:
                levels[price] = size
                if not before:
                    heap = self._bid_heap
                    heapq.heappush(heap, -price)
                    if len(heap) > 2 * len(levels) + 64:
                        self._bid_heap = [-p for p in levels]
                        heapq.heapify(self._bid_heap)
            elif before:
                del levels[price]
            return before
        levels = self.asks
        before = levels.get(price, 0)
        if size > 0:
            levels[price] = size
            if not before:
                heap = self._ask_heap
                heapq.heappush(heap, price)
                if len(heap) > 2 * len(levels) + 64:
                    self._ask_heap = list(levels)
                    heapq.heapify(self._ask_heap)
        elif before:
            del levels[price]
        return before

    def size(self, side: str, price: int) -> int:
        return (self.bids if side == BID else self.asks).get(price, 0)

    def best_bid(self) -> int | None:
        heap, levels = self._bid_heap, self.bids
        while heap:
            price = -heap[0]
            if price in levels:
                return price
            heapq.heappop(heap)
        return None

    def best_ask(self) -> int | None:
        heap, levels = self._ask_heap, self.asks
        while heap:
            price = heap[0]
            if price in levels:
                return price
            heapq.heappop(heap)
        return None

    def crossed(self) -> bool:
        bid, ask = self.best_bid(), self.best_ask()
        return bid is not None and ask is not None and bid >= ask

    def prices(self, side: str, best_first: bool = True) -> list[int]:
        """The prices of a side, best first (or worst first)."""
        levels = self.bids if side == BID else self.asks
        return sorted(levels, reverse=(side == BID) == best_first)

    def levels(self, side: str, count: int | None = None) -> list[tuple[int, int]]:
        """The best ``count`` levels of a side, best first, as ``(price, size)``."""
        levels = self.bids if side == BID else self.asks
        if count is None:
            prices = self.prices(side)
        elif side == BID:
            prices = heapq.nlargest(count, levels)
        else:
            prices = heapq.nsmallest(count, levels)
        return [(p, levels[p]) for p in prices]

    def copy_state(self) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
        """Both sides as tuples of ``(price, size)`` in ascending price order."""
        return (tuple((p, self.bids[p]) for p in sorted(self.bids)),
                tuple((p, self.asks[p]) for p in sorted(self.asks)))

    def load(self, bids, asks) -> None:
        self.bids = {int(p): int(s) for p, s in bids if int(s) > 0}
        self.asks = {int(p): int(s) for p, s in asks if int(s) > 0}
        self._bid_heap = [-p for p in self.bids]
        heapq.heapify(self._bid_heap)
        self._ask_heap = list(self.asks)
        heapq.heapify(self._ask_heap)
