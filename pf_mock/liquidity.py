"""The house's background liquidity: real orders in the book, re-centred on the fair value at every event.

Where the house quotes and how much it shows is the book shape's business (``models/book_shape.py``):
a touch a whole number of ticks wide around the fair value, and behind it a ladder of ``levels`` prices
per side on a fixed grid of step ``G`` (a whole number of ticks). Because that grid is absolute rather
than relative to the fair value, a small move changes only the touch and the ladder's edges; the rest
keep their place in the queue, as real resting liquidity does.

Level sizes are the shape's, times a log-normal factor drawn per minute and price (``noise``, from the
minute's keyed stream): so the book laid out at any instant is a function of (seed, symbol, time), never
of how often it was looked at.

When the fair value moves through an agent's stale quote, the house's new level on the other side
crosses it and takes it: that is how stale quotes get picked off. What takers eat comes back at a rate
(the shape's refill): each side carries a deficit in USD that decays with time, new house orders show
less while it lasts, and a level eaten down to less than half is replaced by a fresh order at the back
of the queue only once its side has mostly refilled. A side an agent swept bare is laid out again at
once, so the book always has two sides.

The house's own state beyond its orders is ``deficit`` and ``deficit_us`` per side (``state()``).
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

import numpy as np

from .book import ALO, GTC, OrderBook, Result
from .grid import Grid
from .models.book_shape import SIZE_SIGMA, BookShape

class BackgroundLiquidity:
    def __init__(self, grid: Grid, next_id: Callable[[], int], shape: BookShape | None = None):
        self.grid = grid
        self.next_id = next_id
        self.shape = shape or BookShape()
        self.step = 0                       # ladder step in price units; 0 = no ladder yet
        self.last_bid = 0                   # the ladder's outermost prices, as last laid out
        self.last_ask = 0
        self.bids: dict[int, int] = {}      # the ladder behind the touch: price units -> house order id
        self.asks: dict[int, int] = {}
        self.touch: dict[bool, tuple[int, int] | None] = {True: None, False: None}   # side -> (price, id)
        self.deficit: dict[bool, float] = {True: 0.0, False: 0.0}   # USD eaten and not yet refilled, per side
        self.deficit_us: dict[bool, int] = {True: 0, False: 0}      # ... as of this instant
        self.dirty = True                   # something traded since the last re-centre (set by the market)
        self.eaten: set[int] = set()        # prices where a house order traded and was not yet replaced
        self._laid_out: tuple | None = None  # the layout of the last re-centre
        self._scale = grid.price_scale
        self._ticks = (0, -1, 0)            # (lowest, highest units, tick): the tick of the last magnitude seen
        self._expected: tuple | None = None  # stands(): (layout, noise, bid sizes, ask sizes) last worked out

    # ---- the refill state -----------------------------------------------------------------------
    def refill_state(self) -> dict:
        """The refill state: each side's deficit and its instant (also part of ``state``)."""
        return {"deficit_bid": self.deficit[True], "deficit_ask": self.deficit[False],
                "deficit_bid_us": self.deficit_us[True], "deficit_ask_us": self.deficit_us[False]}

    def set_refill_state(self, state: dict) -> None:
        self.deficit = {True: float(state["deficit_bid"]), False: float(state["deficit_ask"])}
        self.deficit_us = {True: int(state["deficit_bid_us"]), False: int(state["deficit_ask_us"])}

    def forget(self) -> None:
        """No deficit on either side: the book laid out afresh (a quiet market has no history)."""
        self.deficit = {True: 0.0, False: 0.0}

    def eat(self, price: int, is_buy: bool, usd: float, now_us: int, regime) -> None:
        """A house order at ``price`` (a bid if ``is_buy``) traded ``usd`` at ``now_us``."""
        self.eaten.add(price)
        self.dirty = True
        self._decay(is_buy, now_us, regime)
        self.deficit[is_buy] += usd

    def _decay(self, is_buy: bool, now_us: int, regime) -> None:
        elapsed = now_us - self.deficit_us[is_buy]
        if elapsed > 0:
            self.deficit[is_buy] = self.shape.decay(self.deficit[is_buy], elapsed, regime)
            self.deficit_us[is_buy] = now_us

    # ---- the layout -----------------------------------------------------------------------------
    def layout(self, fair: float, widen: float, regime) -> tuple[int, int, int, int]:
        """(step, touch bid, touch ask, levels) of the ladder around ``fair`` with the spread widened by
        ``widen``; the ladder behind the touch starts at the first multiple of ``step`` beyond it."""
        units = fair * self._scale
        whole = max(int(units), 1)
        low, high, tick = self._ticks
        if not low <= whole <= high:          # a new order of magnitude (rare): its tick, once
            digits = len(str(whole))
            tick = self.grid.tick_at(whole)
            self._ticks = low, high, tick = 10 ** (digits - 1), 10 ** digits - 1, tick
        shape = self.shape
        top_bid, top_ask = shape.touch(units, tick, widen, regime)
        return shape.step(units, tick, regime), top_bid, top_ask, max(regime.levels, 2)

    @staticmethod
    def _deep_tops(step: int, top_bid: int, top_ask: int) -> tuple[int, int]:
        """The ladder's first prices behind the touch: the multiples of ``step`` just beyond it."""
        return (top_bid - 1) // step * step, (top_ask // step + 1) * step

    def levels(self, fair: float, widen: float, regime, noise: np.ndarray,
               is_buy: bool) -> Iterator[tuple[int, int]]:
        """The (price, lots) of one side's fresh ladder, best first (levels too small for a lot are left out)."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        deep_bid, deep_ask = self._deep_tops(step, top_bid, top_ask)
        touch = top_bid if is_buy else top_ask
        lots = self.grid.lots_for_usd(self._usd(regime, noise, touch, 0), touch)
        if lots > 0:
            yield touch, lots
        sign, top = (-1, deep_bid) if is_buy else (1, deep_ask)
        for i in range(n - 1):
            price = top + sign * i * step
            if price <= 0:
                return
            lots = self.grid.lots_for_usd(self._usd(regime, noise, price, i + 1), price)
            if lots > 0:
                yield price, lots

    def best(self, fair: float, widen: float, regime, noise: np.ndarray, is_buy: bool) -> int | None:
        return next((price for price, _ in self.levels(fair, widen, regime, noise, is_buy)), None)

    def _usd(self, regime, noise: np.ndarray, price: int, i: int) -> float:
        return self.shape.level_usd(regime, i) * math.exp(SIZE_SIGMA * float(noise[price % len(noise)]))

    # ---- keeping the ladder -------------------------------------------------------------------------
    def recentre(self, book: OrderBook, fair: float, widen: float, regime, noise: np.ndarray,
                 now_us: int = 0, post_only: bool = False, allowance: tuple | None = None) -> list[Result]:
        """Move the ladder to ``fair`` at ``now_us``; returns the results of any house order that traded
        or cancelled a resting order (``allowance``: the book's, per resting side, ``[asks', bids']``).

        ``post_only`` refills without taking anything: used right after an agent's own order, when
        the fair value has not moved, so that only a moving fair value picks quotes off.

        Only what changed is touched: the touch if it moved, the ladder's levels that left it, the
        eaten levels whose side has refilled enough, and the prices the ladder gained (or that have
        no order), inside out, bid before ask. A full lay-out happens only when the step changes."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        key = (step, top_bid, top_ask, n, regime)
        laid = self._laid_out
        if key == laid and not self.dirty:
            return []                       # the same ladder, nothing eaten: nothing to do (the common case)
        shape = self.shape
        self._decay(True, now_us, regime)
        self._decay(False, now_us, regime)
        deep_bid, deep_ask = self._deep_tops(step, top_bid, top_ask)
        if step != self.step or laid is None or laid[3] != n or laid[4] is not regime:
            self.clear(book)
            self.step = step
            old_bid = old_ask = None
        else:
            old_bid = (self.last_bid, self._deep_tops(step, laid[1], laid[2])[0])   # the ranges laid out last time
            old_ask = (self._deep_tops(step, laid[1], laid[2])[1], self.last_ask)
        low_bid = max(deep_bid - (n - 2) * step, step)
        high_ask = deep_ask + (n - 2) * step
        self.last_bid, self.last_ask = low_bid, high_ask
        replace = {side: shape.may_replace(self.deficit[side], regime) or self._bare(book, side)
                   for side in (True, False)}
        for side in (True, False):
            if replace[side] and not shape.may_replace(self.deficit[side], regime):
                self.deficit[side] = 0.0    # swept bare: laid out again at once
        # Drop what left the ladder (or was eaten down, where its side may refill) before adding anything,
        # so the house never crosses itself.
        eaten, self.eaten = self.eaten, set()
        wanted: list[tuple[int, bool, int]] = []           # (level, is_buy, price) to fill in
        self._update_touch(book, top_bid, True, eaten, replace[True], wanted)
        self._update_touch(book, top_ask, False, eaten, replace[False], wanted)
        self._update(book, self.bids, old_bid, low_bid, deep_bid, step, eaten, replace[True], wanted, True, deep_bid)
        self._update(book, self.asks, old_ask, deep_ask, high_ask, step, eaten, replace[False], wanted, False,
                     deep_ask)
        wanted.sort(key=lambda w: (w[0], not w[1]))
        results = []
        traded = False
        grid = self.grid
        factor = {side: shape.refill_factor(self.deficit[side], regime) for side in (True, False)}
        for i, is_buy, price in wanted:
            lots = grid.lots_for_usd(self._usd(regime, noise, price, i) * factor[is_buy], price)
            if lots <= 0:
                continue
            order_id = self.next_id()
            result = book.submit(order_id, None, is_buy, price, lots, ALO if post_only else GTC,
                                 None if allowance is None else allowance[not is_buy])
            if result.resting is not None:
                if i == 0:
                    self.touch[is_buy] = (price, order_id)
                else:
                    (self.bids if is_buy else self.asks)[price] = order_id
            if result.fills or result.drops:
                results.append(result)
                traded = traded or bool(result.fills)
        self._laid_out = key
        self.dirty = traded or bool(self.eaten)
        return results

    def _bare(self, book: OrderBook, is_buy: bool) -> bool:
        """True when the house has no live order left on one side (an agent swept it)."""
        orders = book.orders
        touch = self.touch[is_buy]
        if touch is not None and touch[1] in orders:
            return False
        return not any(order_id in orders for order_id in (self.bids if is_buy else self.asks).values())

    @staticmethod
    def _eaten_down(book: OrderBook, order_id: int) -> bool:
        order = book.get(order_id)
        return order is None or order.qty * 2 < order.size

    def _update_touch(self, book: OrderBook, price: int, is_buy: bool, eaten: set[int], replace: bool,
                      wanted: list) -> None:
        """The touch: cancelled when it moved, or when it was eaten down and its side may refill; listed
        to be placed when it has no order."""
        current = self.touch[is_buy]
        if current is not None:
            if current[0] != price:
                book.cancel(current[1])
                current = None
            elif price in eaten and self._eaten_down(book, current[1]):
                if replace:
                    book.cancel(current[1])
                    current = None
                else:
                    self.eaten.add(price)   # wait for the side to refill
        if current is None:
            self.touch[is_buy] = None
            wanted.append((0, is_buy, price))

    def _update(self, book: OrderBook, side: dict[int, int], old: tuple[int, int] | None, low: int, high: int,
                step: int, eaten: set[int], replace: bool, wanted: list, is_buy: bool, top: int) -> None:
        """One side's ladder behind the touch: drop the levels outside [low, high] and those eaten down
        to less than half (once the side may refill); list the prices of [low, high] that then have no
        order (with their level: 1 for ``top``, the first behind the touch)."""
        waiting = self.eaten
        if old is None or len(side) > 2 * ((high - low) // step + 1):
            for price in [p for p in side if not low <= p <= high]:
                book.cancel(side.pop(price))
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
            # Missing: the part of the new range the old did not cover, and holes in the overlap (the
            # eaten ones dropped below make some). What is left of the side lies in the overlap, so its
            # count tells whether the overlap has a hole (then look at every price; rare).
            overlap_low, overlap_high = max(low, old_low), min(high, old_high)
            holes = None
            if overlap_high < overlap_low:
                holes = range(low, high + 1, step)
        outermost = low if is_buy else high      # what stops takers (floor_for): always replaced at once
        for price in eaten:
            order_id = side.get(price)
            if order_id is None or not self._eaten_down(book, order_id):
                continue
            if replace or price == outermost:
                book.cancel(order_id)
                del side[price]
            else:
                waiting.add(price)
        if holes is None:
            if len(side) < (overlap_high - overlap_low) // step + 1:
                holes = range(low, high + 1, step)
            else:
                holes = [*range(low, overlap_low, step), *range(overlap_high + step, high + 1, step)]
        for price in holes:
            if price > 0 and price not in side:
                wanted.append((1 + ((top - price) // step if is_buy else (price - top) // step), is_buy, price))

    def stands(self, book: OrderBook, fair: float, widen: float, regime, noise: np.ndarray) -> bool:
        """True when the ladder in ``book`` is exactly the one ``clear`` then ``recentre`` would lay out
        now: the same layout, each of its levels one whole house order of the size it would get, and
        nothing else. It is then marked freshly laid out (nothing eaten, no deficit), as a fresh lay-out
        would leave it."""
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
        for is_buy, side, sizes in ((True, self.bids, expected[2]), (False, self.asks, expected[3])):
            touch = self.touch[is_buy]
            if touch is None or len(side) + 1 != len(sizes):
                return False
            for price, order_id in (touch, *side.items()):
                order = orders.get(order_id)
                if order is None or order.qty != sizes.get(price) or order.size != order.qty:
                    return False
        self._laid_out = key                # with this regime object, as a fresh lay-out would leave it
        self.dirty = False
        self.eaten.clear()
        self.forget()
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
                "dirty": self.dirty, "eaten": sorted(self.eaten), "laid_out": laid,
                "touch": [None if self.touch[side] is None else list(self.touch[side]) for side in (True, False)],
                "deficit": [self.deficit[True], self.deficit[False]],
                "deficit_us": [self.deficit_us[True], self.deficit_us[False]]}

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
        for i, is_buy in enumerate((True, False)):
            touch = state["touch"][i]
            if touch is not None:
                order = book.get(touch[1])
                if order is not None and (order.owner is not None or order.is_buy != is_buy or order.price != touch[0]):
                    raise InvalidState(f"{where}.touch.{i}", "must name a house order at that price on that side "
                                                            "(or one no longer in the book)")
                touch = (touch[0], touch[1])
            self.touch[is_buy] = touch
        self.deficit = {True: float(state["deficit"][0]), False: float(state["deficit"][1])}
        self.deficit_us = {True: int(state["deficit_us"][0]), False: int(state["deficit_us"][1])}
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
        for is_buy in (True, False):
            touch = self.touch[is_buy]
            if touch is not None:
                book.cancel(touch[1])
            self.touch[is_buy] = None
        self.step = 0
        self._laid_out = None
