"""The house's background liquidity: real orders in the book, re-centred on the mid at every event.

The house quotes a ladder of ``levels`` prices per side on a fixed grid of step ``G`` (a whole number
of ticks, about ``spread_bps / 2`` wide), starting half a spread away from the mid. Because the grid is
absolute rather than relative to the mid, a small move of the mid changes only the levels at the edges;
the rest keep their place in the queue, as real resting liquidity does.

When the mid moves through an agent's stale quote, the house's new level on the other side crosses it
and takes it: that is how stale quotes get picked off. A level that takers have eaten down to less than
half its size is replaced by a fresh order at the back of the queue.
"""

from __future__ import annotations

import math
import random
from typing import Callable

from .book import ALO, GTC, OrderBook, Result
from .grid import Grid
from .model import Regime

SIZE_SIGMA = 0.35          # log-normal spread of the house's level sizes
DEPTH_GROWTH = 0.15        # each level further out holds 15% more of depth_usd than the one inside it


class BackgroundLiquidity:
    def __init__(self, grid: Grid, rng: random.Random):
        self.grid = grid
        self.rng = rng
        self.step = 0                       # ladder step in price units; 0 = no ladder yet
        self.last_bid = 0                   # the ladder's outermost prices, as last laid out
        self.last_ask = 0
        self.bids: dict[int, int] = {}      # price units -> house order id
        self.asks: dict[int, int] = {}

    def recentre(self, book: OrderBook, mid: float, regime: Regime,
                 next_id: Callable[[], int], post_only: bool = False) -> list[Result]:
        """Move the ladder to ``mid``; returns the results of any house order that traded.

        ``post_only`` refills without taking anything: used right after an agent's own order, when
        the mid has not moved, so that only a moving mid picks quotes off."""
        grid = self.grid
        scale = grid.price_scale
        tick = grid.tick_at(max(int(mid * scale), 1))
        step = max(tick, round(mid * scale * regime.spread_bps / 2e4 / tick) * tick)
        if step != self.step:
            self.clear(book)
            self.step = step
        # The best levels sit half a spread from the mid give or take half a step, so that on
        # average the house's spread is the regime's spread.
        half = mid * scale * regime.spread_bps / 2e4
        top_bid = math.floor((mid * scale - half + step / 2) / step) * step
        top_ask = math.ceil((mid * scale + half - step / 2) / step) * step
        if top_bid <= 0:
            top_bid = step
        if top_ask <= top_bid:
            top_ask = top_bid + step
        n = regime.levels
        low_bid = max(top_bid - (n - 1) * step, step)
        high_ask = top_ask + (n - 1) * step
        self.last_bid, self.last_ask = low_bid, high_ask
        # Drop what fell out of the ladder (or was eaten down) before adding anything, so the
        # house never crosses itself.
        self._prune(book, self.bids, low_bid, top_bid)
        self._prune(book, self.asks, top_ask, high_ask)
        results = []
        for i in range(n):
            for is_buy, price, side in ((True, top_bid - i * step, self.bids),
                                        (False, top_ask + i * step, self.asks)):
                if price <= 0 or price in side:
                    continue
                usd = regime.depth_usd * (1.0 + DEPTH_GROWTH * i) * math.exp(SIZE_SIGMA * self.rng.gauss(0.0, 1.0))
                lots = grid.lots_for_usd(usd, price)
                if lots <= 0:
                    continue
                order_id = next_id()
                result = book.submit(order_id, None, is_buy, price, lots, ALO if post_only else GTC)
                if result.resting is not None:
                    side[price] = order_id
                if result.fills:
                    results.append(result)
        return results

    def floor_for(self, is_buy: bool) -> int | None:
        """The furthest price a taker may reach: one step inside the ladder's outermost level, so that
        no taker, however large, can empty a side of the book."""
        if not self.step:
            return None
        return self.last_ask - self.step if is_buy else self.last_bid + self.step

    def clear(self, book: OrderBook) -> None:
        for side in (self.bids, self.asks):
            for order_id in side.values():
                book.cancel(order_id)
            side.clear()

    @staticmethod
    def _prune(book: OrderBook, side: dict[int, int], low: int, high: int) -> None:
        for price in [p for p in side]:
            order = book.get(side[price])
            if order is None or not (low <= price <= high) or order.qty * 2 < order.size:
                if order is not None:
                    book.cancel(order.order_id)
                del side[price]
