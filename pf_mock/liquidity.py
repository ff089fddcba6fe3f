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
        self._scale = grid.price_scale
        self._ticks = (0, -1, 0)            # (lowest, highest units, tick): the tick of the last magnitude seen
        self._expected: tuple | None = None  # stands(): (layout, noise, bid sizes, ask sizes) last worked out

    def layout(self, fair: float, widen: float, regime: Regime) -> tuple[int, int, int, int]:
        """(step, top bid, top ask, levels) of the ladder around ``fair`` with the spread widened by ``widen``."""
        units = fair * self._scale
        whole = max(int(units), 1)
        low, high, tick = self._ticks
        if not low <= whole <= high:          # a new order of magnitude (rare): its tick, once
            digits = len(str(whole))
            tick = self.grid.tick_at(whole)
            self._ticks = low, high, tick = 10 ** (digits - 1), 10 ** digits - 1, tick
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
        the fair value has not moved, so that only a moving fair value picks quotes off.

        Only what changed is touched: the levels that left the ladder or were eaten down go, and the
        prices the ladder gained (or that have no order) get one, inside out, bid before ask. A full
        lay-out happens only when the step changes."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        key = (step, top_bid, top_ask, n, regime)
        laid = self._laid_out
        if key == laid:
            if not self.dirty:
                return []                   # the same ladder, nothing eaten: nothing to do (the common case)
            return self._refill(book, key, noise, post_only)
        if step != self.step or laid is None or laid[3] != n or laid[4] is not regime:
            self.clear(book)
            self.step = step
            old_bid = old_ask = None
        else:
            old_bid = (self.last_bid, laid[1])     # the ranges laid out last time
            old_ask = (laid[2], self.last_ask)
        low_bid = max(top_bid - (n - 1) * step, step)
        high_ask = top_ask + (n - 1) * step
        self.last_bid, self.last_ask = low_bid, high_ask
        # Drop what fell out of the ladder (or was eaten down) before adding anything, so the
        # house never crosses itself.
        eaten, self.eaten = self.eaten, set()
        wanted: list[tuple[int, bool, int]] = []           # (level, is_buy, price) to fill in
        self._update(book, self.bids, old_bid, low_bid, top_bid, step, eaten, wanted, True, top_bid)
        self._update(book, self.asks, old_ask, top_ask, high_ask, step, eaten, wanted, False, top_ask)
        wanted.sort(key=lambda w: (w[0], not w[1]))
        results = []
        grid = self.grid
        usd = self._usd
        for i, is_buy, price in wanted:
            lots = grid.lots_for_usd(usd(regime, noise, price, step, i), price)
            if lots <= 0:
                continue
            order_id = self.next_id()
            result = book.submit(order_id, None, is_buy, price, lots, ALO if post_only else GTC)
            if result.resting is not None:
                (self.bids if is_buy else self.asks)[price] = order_id
            if result.fills:
                results.append(result)
        self._laid_out = key
        self.dirty = bool(results)
        return results

    def _update(self, book: OrderBook, side: dict[int, int], old: tuple[int, int] | None, low: int, high: int,
                step: int, eaten: set[int], wanted: list, is_buy: bool, top: int) -> None:
        """One side: drop the levels outside [low, high] and those eaten down to less than half; list
        the prices of [low, high] that then have no order (with their level, counted from ``top``)."""
        if old is None or len(side) > 2 * ((high - low) // step + 1):
            self._prune(book, side, low, high, eaten)
            holes = range(low, high + 1, step)
        else:
            old_low, old_high = old
            # What left: the old range outside the new (walked by price, so a small move costs little).
            for price in range(old_low, min(old_high, low - step) + 1, step):
                order_id = side.pop(price, None)
                if order_id is not None:
                    book.cancel(order_id)
            for price in range(max(old_low, high + step), old_high + 1, step):
                order_id = side.pop(price, None)
                if order_id is not None:
                    book.cancel(order_id)
            for price in eaten:
                order_id = side.get(price)
                if order_id is None:
                    continue
                order = book.get(order_id)
                if order is None or order.qty * 2 < order.size:
                    if order is not None:
                        book.cancel(order_id)
                    del side[price]
            # Missing: the part of the new range the old did not cover, and holes (eaten, or never filled)
            # in the overlap. What is left of the side lies in the overlap, so its count tells whether
            # the overlap has a hole (then look at every price; rare).
            overlap_low, overlap_high = max(low, old_low), min(high, old_high)
            if overlap_high < overlap_low:
                holes = range(low, high + 1, step)
            elif len(side) < (overlap_high - overlap_low) // step + 1:
                holes = range(low, high + 1, step)
            else:
                holes = [*range(low, overlap_low, step), *range(overlap_high + step, high + 1, step)]
        for price in holes:
            if price > 0 and price not in side:
                wanted.append(((top - price) // step if is_buy else (price - top) // step, is_buy, price))

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

    def stands(self, book: OrderBook, fair: float, widen: float, regime: Regime, noise: np.ndarray) -> bool:
        """True when the ladder in ``book`` is exactly the one ``clear`` then ``recentre`` would lay out
        now: the same layout, each of its levels one whole house order of the size it would get, and
        nothing else. It is then marked freshly laid out (nothing eaten), as ``recentre`` would leave it."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        key = (step, top_bid, top_ask, n, regime)
        if key != self._laid_out:
            return False
        expected = self._expected
        if expected is None or expected[0] != key or expected[1] is not noise:
            # The sizes depend on the layout and the minute's noise only: work them out once for both.
            expected = self._expected = (key, noise, dict(self.levels(fair, widen, regime, noise, True)),
                                         dict(self.levels(fair, widen, regime, noise, False)))
        orders = book.orders
        for side, sizes in ((self.bids, expected[2]), (self.asks, expected[3])):
            if side.keys() != sizes.keys():
                return False
            for price, order_id in side.items():
                order = orders.get(order_id)
                if order is None or order.qty != sizes[price] or order.size != order.qty:
                    return False
        self._laid_out = key                # with this regime object, as a fresh lay-out would leave it
        self.dirty = False
        self.eaten.clear()
        return True

    # ---- state (snapshots) --------------------------------------------------------------------
    def state(self, regimes: list) -> dict:
        """The ladder as laid out (see ``state_document.House``). ``regimes``: the regime objects of the
        market's timeline, so that the laid-out regime is named by its place there (the ladder compares
        regimes by identity: a restore must hand back the very object the market's plan holds)."""
        laid = self._laid_out
        if laid is not None:
            index = next((i for i, r in enumerate(regimes) if r is laid[4]), None)
            if index is None:
                index = next(i for i, r in enumerate(regimes) if r == laid[4])
            laid = [*laid[:4], index]
        return {"step": self.step, "last_bid": self.last_bid, "last_ask": self.last_ask,
                "bids": [[p, i] for p, i in self.bids.items()], "asks": [[p, i] for p, i in self.asks.items()],
                "dirty": self.dirty, "eaten": sorted(self.eaten), "laid_out": laid}

    def restore_state(self, state: dict, book: OrderBook, regimes: list, where: str = "house") -> None:
        """Take the ladder ``state`` describes over ``book`` (its orders already there). Raises ``InvalidState``."""
        from .errors import InvalidState
        for name, is_buy in (("bids", True), ("asks", False)):
            side: dict[int, int] = {}
            for i, (price, order_id) in enumerate(state[name]):
                order = book.get(order_id)
                if price in side or (order is not None and (order.owner is not None or order.is_buy != is_buy
                                                             or order.price != price)):
                    raise InvalidState(f"{where}.{name}.{i}", "each price once, naming a house order at that "
                                                               "price on that side (or one no longer in the book)")
                side[price] = order_id
            setattr(self, name, side)
        self.step, self.last_bid, self.last_ask = state["step"], state["last_bid"], state["last_ask"]
        self.dirty = state["dirty"]
        self.eaten = set(state["eaten"])
        laid = state["laid_out"]
        if laid is not None:
            if laid[4] >= len(regimes):
                raise InvalidState(f"{where}.laid_out.4", "must name a regime of the market's timeline")
            laid = (*laid[:4], regimes[laid[4]])
        self._laid_out = laid

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
