"""The house's background liquidity: real orders in the book, re-centred on the fair value at every event.

The house quotes a ladder of ``levels`` prices per side on a fixed grid of step ``G`` (a whole number
of ticks, about ``spread_bps / 2`` wide). Its best levels sit half a spread from the fair value, where
the spread *breathes*: it is the regime's ``spread_bps`` times the sample's ``widen`` factor (the
volatility in force, and the decay after a jump, see ``model``). Because the grid is absolute rather
than relative to the fair value, a small move changes only the levels at the edges; the rest keep their
place in the queue, as real resting liquidity does.

Level sizes are ``depth_usd`` growing outward by ``DEPTH_GROWTH`` a level, times a log-normal factor
drawn per minute and price (``noise``, from the minute's keyed stream): so the book laid out at any
instant is a function of (seed, symbol, time), never of how often it was looked at.

When the fair value moves through an agent's stale quote, the house's new level on the other side
crosses it and takes it: that is how stale quotes get picked off. A level that takers have eaten down to
less than half its size is replaced by a fresh order at the back of the queue.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from .book import ALO, GTC, OrderBook, Result
from .grid import Grid
from .model import Regime

SIZE_SIGMA = 0.35          # log-normal spread of the house's level sizes
DEPTH_GROWTH = 0.15        # each level further out holds 15% more of depth_usd than the one inside it


class BackgroundLiquidity:
    def __init__(self, grid: Grid, next_id: Callable[[], int]):
        self.grid = grid
        self.next_id = next_id
        self.step = 0                       # ladder step in price units; 0 = no ladder yet
        self.last_bid = 0                   # the ladder's outermost prices, as last laid out
        self.last_ask = 0
        self.bids: dict[int, int] = {}      # price units -> house order id
        self.asks: dict[int, int] = {}
        self.dirty = True                   # something traded since the last re-centre (set by the market)
        self.eaten: set[int] = set()        # prices where a house order traded since then (set by the market)
        self._laid_out: tuple | None = None  # the layout of the last re-centre

    def layout(self, fair: float, widen: float, regime: Regime) -> tuple[int, int, int, int]:
        """(step, top bid, top ask, levels) of the ladder around ``fair`` with the spread widened by ``widen``."""
        scale = self.grid.price_scale
        units = fair * scale
        tick = self.grid.tick_at(max(int(units), 1))
        step = max(tick, round(units * regime.spread_bps / 2e4 / tick) * tick)
        # The best levels sit half a (breathing) spread from the fair value give or take half a step,
        # so that on average the house's spread is the regime's spread times the widening.
        half = units * regime.spread_bps * widen / 2e4
        top_bid = math.floor((units - half + step / 2) / step) * step
        top_ask = math.ceil((units + half - step / 2) / step) * step
        if top_bid <= 0:
            top_bid = step
        if top_ask <= top_bid:
            top_ask = top_bid + step
        return step, top_bid, top_ask, regime.levels

    def levels(self, fair: float, widen: float, regime: Regime, noise: np.ndarray,
               is_buy: bool) -> Iterator[tuple[int, int]]:
        """The (price, lots) of one side's ladder, best first (levels too small for a lot are left out)."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        sign, top = (-1, top_bid) if is_buy else (1, top_ask)
        for i in range(n):
            price = top + sign * i * step
            if price <= 0:
                return
            lots = self.grid.lots_for_usd(self._usd(regime, noise, price, step, i), price)
            if lots > 0:
                yield price, lots

    def best(self, fair: float, widen: float, regime: Regime, noise: np.ndarray, is_buy: bool) -> int | None:
        return next((price for price, _ in self.levels(fair, widen, regime, noise, is_buy)), None)

    @staticmethod
    def _usd(regime: Regime, noise: np.ndarray, price: int, step: int, i: int) -> float:
        return regime.depth_usd * (1.0 + DEPTH_GROWTH * i) * math.exp(
            SIZE_SIGMA * float(noise[(price // step) % len(noise)]))

    def recentre(self, book: OrderBook, fair: float, widen: float, regime: Regime, noise: np.ndarray,
                 post_only: bool = False) -> list[Result]:
        """Move the ladder to ``fair``; returns the results of any house order that traded.

        ``post_only`` refills without taking anything: used right after an agent's own order, when
        the fair value has not moved, so that only a moving fair value picks quotes off."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        key = (step, top_bid, top_ask, n, regime)
        if key == self._laid_out:
            if not self.dirty:
                return []                   # the same ladder, nothing eaten: nothing to do (the common case)
            return self._refill(book, key, noise, post_only)
        if step != self.step:
            self.clear(book)
            self.step = step
        low_bid = max(top_bid - (n - 1) * step, step)
        high_ask = top_ask + (n - 1) * step
        self.last_bid, self.last_ask = low_bid, high_ask
        # Drop what fell out of the ladder (or was eaten down) before adding anything, so the
        # house never crosses itself.
        self._prune(book, self.bids, low_bid, top_bid, self.eaten)
        self._prune(book, self.asks, top_ask, high_ask, self.eaten)
        results = []
        grid = self.grid
        for i in range(n):
            for is_buy, price, side in ((True, top_bid - i * step, self.bids),
                                        (False, top_ask + i * step, self.asks)):
                if price <= 0 or price in side:
                    continue
                lots = grid.lots_for_usd(self._usd(regime, noise, price, step, i), price)
                if lots <= 0:
                    continue
                order_id = self.next_id()
                result = book.submit(order_id, None, is_buy, price, lots, ALO if post_only else GTC)
                if result.resting is not None:
                    side[price] = order_id
                if result.fills:
                    results.append(result)
        self._laid_out = key
        self.dirty = bool(results)
        self.eaten.clear()
        return results

    def _refill(self, book: OrderBook, key: tuple, noise: np.ndarray, post_only: bool) -> list[Result]:
        """The same ladder as last time, but something traded: replace just the levels eaten down to
        less than half (what the full re-centre's prune and fill would do, touching only those)."""
        step, top_bid, top_ask, n, regime = key
        results = []
        eaten, self.eaten = self.eaten, set()
        for price in sorted(eaten):
            if price <= top_bid:
                is_buy, side, i = True, self.bids, (top_bid - price) // step
            elif price >= top_ask:
                is_buy, side, i = False, self.asks, (price - top_ask) // step
            else:
                continue
            if i >= n or price % step:
                continue
            order_id = side.get(price)
            order = book.get(order_id) if order_id is not None else None
            if order is not None and order.qty * 2 >= order.size:
                continue
            if order is not None:
                book.cancel(order_id)
            side.pop(price, None)
            lots = self.grid.lots_for_usd(self._usd(regime, noise, price, step, i), price)
            if lots <= 0:
                continue
            new_id = self.next_id()
            result = book.submit(new_id, None, is_buy, price, lots, ALO if post_only else GTC)
            if result.resting is not None:
                side[price] = new_id
            if result.fills:
                results.append(result)
        self.dirty = bool(results)
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
        self.step = 0
        self._laid_out = None

    @staticmethod
    def _prune(book: OrderBook, side: dict[int, int], low: int, high: int, eaten: set[int]) -> None:
        """Drop the levels outside [low, high], and those takers ate down to less than half."""
        for price in [p for p in side if not low <= p <= high]:
            book.cancel(side.pop(price))
        for price in eaten:
            order_id = side.get(price)
            if order_id is None:
                continue
            order = book.get(order_id)
            if order is None or order.qty * 2 < order.size:
                if order is not None:
                    book.cancel(order_id)
                del side[price]
