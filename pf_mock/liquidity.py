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
        # The house's lots posted again at the back of a level where an agent waits (turn_over): (is_buy,
        # price) -> their order ids. They go with the level: dropped when the house's side no longer has it.
        self.behind: dict[tuple[bool, int], list[int]] = {}
        self.deficit: dict[bool, float] = {True: 0.0, False: 0.0}   # USD eaten and not yet refilled, per side
        self.deficit_us: dict[bool, int] = {True: 0, False: 0}      # ... as of this instant
        self.dirty = True                   # something traded since the last re-centre (set by the market)
        self.eaten: set[int] = set()        # prices where a house order traded and was not yet replaced
        self._laid_out: tuple | None = None  # the layout of the last re-centre
        self._scale = grid.price_scale
        self._ticks = (0, -1, 0)            # (lowest, highest units, tick): the tick of the last magnitude seen
        self._expected: tuple | None = None  # stands(): (layout, noise, bid sizes, ask sizes) last worked out
        self._memo: list = [None, None, None, None]         # _tables(): regime, its level sizes, noise, its factors
        self._layout: tuple = (None, None, None, None)      # layout(): (fair, widen, regime, its answer) last asked

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
            deficit = self.deficit[is_buy]
            if deficit > 0.0:               # a side with nothing missing has nothing to decay (the shape agrees)
                self.deficit[is_buy] = self.shape.decay(deficit, elapsed, regime)
            self.deficit_us[is_buy] = now_us

    # ---- the layout -----------------------------------------------------------------------------
    def layout(self, fair: float, widen: float, regime) -> tuple[int, int, int, int]:
        """(step, touch bid, touch ask, levels) of the ladder around ``fair`` with the spread widened by
        ``widen``; the ladder behind the touch starts at the first multiple of ``step`` beyond it."""
        last = self._layout
        if last[0] == fair and last[1] == widen and last[2] is regime:
            return last[3]                    # asked again at one instant (before and after a taker, ...)
        units = fair * self._scale
        whole = max(int(units), 1)
        low, high, tick = self._ticks
        if not low <= whole <= high:          # a new order of magnitude (rare): its tick, once
            digits = len(str(whole))
            tick = self.grid.tick_at(whole)
            self._ticks = low, high, tick = 10 ** (digits - 1), 10 ** digits - 1, tick
        shape = self.shape
        top_bid, top_ask = shape.touch(units, tick, widen, regime)
        laid = shape.step(units, tick, regime), top_bid, top_ask, max(regime.levels, 2)
        self._layout = (fair, widen, regime, laid)
        return laid

    def meets_agents(self, book: OrderBook, fair: float, widen: float, regime) -> bool:
        """True when an agent's order rests at or through the touch that ``recentre`` would lay out now:
        only then can an order the house places fill an agent's (its bids lie at or below its touch bid,
        its asks at or above its touch ask), so only then does ``recentre`` need an allowance."""
        _, top_bid, top_ask, _ = self.layout(fair, widen, regime)
        levels = book.ask_levels
        for price in reversed(book.ask_prices):         # from the best ask up
            if price > top_bid:
                break
            for order in levels[price]:
                if order.live and order.owner is not None:
                    return True
        levels = book.bid_levels
        for price in reversed(book.bid_prices):         # from the best bid down
            if price < top_ask:
                break
            for order in levels[price]:
                if order.live and order.owner is not None:
                    return True
        return False

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
        sizes, mults = self._tables(regime, noise)
        return sizes[i] * mults[price % len(mults)]

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
            old_deep_bid, old_deep_ask = self._deep_tops(step, laid[1], laid[2])
            old_bid = (self.last_bid, old_deep_bid)     # the ranges laid out last time
            old_ask = (old_deep_ask, self.last_ask)
        low_bid = max(deep_bid - (n - 2) * step, step)
        high_ask = deep_ask + (n - 2) * step
        self.last_bid, self.last_ask = low_bid, high_ask
        deficit = self.deficit
        replace_bid = shape.may_replace(deficit[True], regime)
        if not replace_bid and self._bare(book, True):
            replace_bid = True
            deficit[True] = 0.0             # swept bare: laid out again at once
        replace_ask = shape.may_replace(deficit[False], regime)
        if not replace_ask and self._bare(book, False):
            replace_ask = True
            deficit[False] = 0.0
        # Drop what left the ladder (or was eaten down, where its side may refill) before adding anything,
        # so the house never crosses itself.
        eaten, self.eaten = self.eaten, set()
        wanted: list[tuple[int, bool, int]]                # (level, is_sell, price) to fill in
        results: list[Result] = []
        if old_bid is None:
            # Nothing of the house's is left: every level, inside out, bid before ask.
            wanted = [(0, False, top_bid), (0, True, top_ask)]
            bid, ask = deep_bid, deep_ask
            for i in range(1, n):
                if bid >= low_bid:
                    wanted.append((i, False, bid))
                wanted.append((i, True, ask))
                bid -= step
                ask += step
            keep = None
        else:
            wanted = []
            moved: list[tuple[bool, int, int]] = []        # (is_buy, price, id) of touches the touch left
            self._update_touch(book, top_bid, True, eaten, replace_bid, wanted, moved)
            self._update_touch(book, top_ask, False, eaten, replace_ask, wanted, moved)
            self._update(book, self.bids, old_bid, low_bid, deep_bid, step, eaten, replace_bid, wanted, True,
                         deep_bid)
            self._update(book, self.asks, old_ask, deep_ask, high_ask, step, eaten, replace_ask, wanted, False,
                         deep_ask)
            keep = self._keep_or_cancel(book, moved, wanted) if moved else None
            if self.behind and (moved or old_bid != (low_bid, deep_bid) or old_ask != (deep_ask, high_ask)):
                self._drop_behind(book, wanted, keep)   # only a moving touch or ladder takes prices from a side
            if not wanted:
                self._laid_out = key
                self.dirty = bool(self.eaten)
                return results
            wanted.sort()                   # inside out, bid before ask (one entry per level and side)
        traded = False
        lots_for_usd = self.grid.lots_for_usd
        sizes, mults = self._tables(regime, noise)
        width = len(mults)
        factor_bid = shape.refill_factor(deficit[True], regime)
        factor_ask = shape.refill_factor(deficit[False], regime)
        tif = ALO if post_only else GTC
        next_id, submit = self.next_id, book.submit
        for i, is_sell, price in wanted:
            is_buy = not is_sell
            lots = lots_for_usd(sizes[i] * mults[price % width] * (factor_ask if is_sell else factor_bid), price)
            if keep and (is_buy, price) in keep:
                kept = keep.pop((is_buy, price))
                if book.orders[kept].qty * 2 >= lots or self._queued_behind(book, kept):
                    (self.asks if is_sell else self.bids)[price] = kept     # it keeps its place in the queue
                    continue
                book.cancel(kept)           # too small for a level: replaced (nobody queues behind it)
            if lots <= 0:
                continue
            order_id = next_id()
            result = submit(order_id, None, is_buy, price, lots, tif, None if allowance is None else allowance[is_sell])
            if result.resting is not None:
                if i == 0:
                    self.touch[is_buy] = (price, order_id)
                else:
                    (self.asks if is_sell else self.bids)[price] = order_id
            if result.fills or result.drops:
                results.append(result)
                traded = traded or bool(result.fills)
        self._laid_out = key
        self.dirty = traded or bool(self.eaten)
        return results

    def _tables(self, regime, noise: np.ndarray) -> tuple[list[float], list[float]]:
        """The sizes of the ladder's levels before their noise (``BookShape.level_usd`` of 0 .. levels - 1)
        under ``regime``, and each noise draw's factor ``exp(SIZE_SIGMA x draw)``: worked out once per
        regime and per minute's draws (``_usd`` multiplies the two)."""
        memo = self._memo
        if memo[0] is not regime:
            level_usd = self.shape.level_usd
            memo[0], memo[1] = regime, [level_usd(regime, i) for i in range(max(regime.levels, 2))]
        if memo[2] is not noise:
            memo[2], memo[3] = noise, [math.exp(SIZE_SIGMA * draw) for draw in noise.tolist()]
        return memo[1], memo[3]

    def _bare(self, book: OrderBook, is_buy: bool) -> bool:
        """True when the house has no live order left on one side (an agent swept it)."""
        orders = book.orders
        touch = self.touch[is_buy]
        if touch is not None and touch[1] in orders:
            return False
        # The ladder before the re-posted lots: it is where a live order is usually found first.
        if any(order_id in orders for order_id in (self.bids if is_buy else self.asks).values()):
            return False
        return not any(side is is_buy and any(i in orders for i in ids) for (side, _), ids in self.behind.items())

    @staticmethod
    def _eaten_down(book: OrderBook, order_id: int) -> bool:
        order = book.get(order_id)
        return order is None or order.qty * 2 < order.size

    @staticmethod
    def _queued_behind(book: OrderBook, order_id: int) -> bool:
        """True when an agent's order waits behind the house's live order ``order_id`` at its price: the
        house then keeps what is left of it rather than replace it at the back of the queue (which would
        put the agent ahead of depth it joined behind)."""
        order = book.get(order_id)
        if order is None or len(order.level) < 2:
            return False
        behind = False
        for other in book.orders_at(order.is_buy, order.price):
            if other is order:
                behind = True
            elif behind and other.owner is not None:
                return True
        return False

    def _update_touch(self, book: OrderBook, price: int, is_buy: bool, eaten: set[int], replace: bool,
                      wanted: list, moved: list) -> None:
        """The touch: when it moved, the order it left is listed in ``moved`` (kept as a ladder level if
        the ladder wants one there, see ``_keep_or_cancel``) and a ladder order already resting at the new
        price becomes the touch, keeping its place in the queue; cancelled when it was eaten down and its
        side may refill; listed to be placed when it has no order."""
        current = self.touch[is_buy]
        if current is not None:
            if current[0] != price:
                moved.append((is_buy, current[0], current[1]))
                current = None
            elif price in eaten and self._eaten_down(book, current[1]):
                if replace and not self._queued_behind(book, current[1]):
                    book.cancel(current[1])
                    current = None
                else:
                    self.eaten.add(price)   # wait for the side to refill
        if current is None:
            ladder = self.bids if is_buy else self.asks
            order_id = ladder.get(price)
            if order_id is not None and (not self._eaten_down(book, order_id)
                                         or self._queued_behind(book, order_id)):
                del ladder[price]           # the depth resting there stays where it stands in the queue
                self.touch[is_buy] = (price, order_id)
                return
            self.touch[is_buy] = None
            wanted.append((0, not is_buy, price))

    def _drop_behind(self, book: OrderBook, wanted: list, keep: dict | None) -> None:
        """Cancel the re-posted lots (``behind``) at prices the house's side no longer has (before anything
        new is placed, so that the house never crosses itself), and forget those that left the book."""
        orders = book.orders
        placing = {(not sell, at) for _, sell, at in wanted}
        for key in list(self.behind):
            is_buy, price = key
            touch = self.touch[is_buy]
            held = ((touch is not None and touch[0] == price) or price in (self.bids if is_buy else self.asks)
                    or (keep is not None and key in keep) or key in placing)
            ids = [i for i in self.behind[key] if i in orders]
            if not held:
                for order_id in ids:
                    book.cancel(order_id)
                ids = []
            if ids:
                self.behind[key] = ids
            else:
                del self.behind[key]

    def turn_over(self, book: OrderBook, levels, regime, model) -> None:
        """One house update's turnover (``models/queue.py``) at each ``(is_buy, price)`` of ``levels`` (where
        agents' orders wait, in a fixed order): the model's lots are cancelled ahead of the level's first
        agent order and behind it (size decreases: every order keeps its place), and posted again at the
        back of the level, so the level keeps its size and the agent moves up by what left ahead of it."""
        if self.behind:
            for key in [key for key in self.behind if key not in levels]:
                self._fold(book, key)
        if model.cancel_share(regime) <= 0.0:
            return
        bid_levels, ask_levels = book.bid_levels, book.ask_levels
        for is_buy, price in levels:
            level = (bid_levels if is_buy else ask_levels).get(price)
            if level is None or len(level) < 2:
                continue                    # the agent's order alone at its price: nothing turns over
            ahead, behind, first = [], [], None
            for order in book.orders_at(is_buy, price):
                if order.owner is not None:
                    if first is None:
                        first = order
                elif first is None:
                    ahead.append(order)
                else:
                    behind.append(order)
            if first is None:
                continue
            front, back = model.split(sum(o.qty for o in ahead), sum(o.qty for o in behind), regime)
            if front + back <= 0:
                continue
            self._take(book, ahead, front)
            self._take(book, behind, back)
            ids = self.behind[(is_buy, price)] = [i for i in self.behind.get((is_buy, price), ()) if i in book.orders]
            if ids and book.add_at_back(ids[-1], front + back):
                continue                    # the last order of the queue is the house's re-posted lots: they grow
            order_id = self.next_id()
            book.submit(order_id, None, is_buy, price, front + back, GTC)   # same side and price: rests at the back
            ids.append(order_id)

    def _fold(self, book: OrderBook, key: tuple[bool, int]) -> None:
        """No agent waits at this level any more: its re-posted lots go back into the house's own order
        there (then the last of the level's queue: nobody's place changes), or into a new one when that
        order has traded away; the level keeps its size. At a price the house no longer holds they leave."""
        is_buy, price = key
        ids = self.behind[key]
        touch = self.touch[is_buy]
        at_touch = touch is not None and touch[0] == price
        ladder = self.bids if is_buy else self.asks
        own = touch[1] if at_touch else ladder.get(price)
        if own is not None and own in book.orders:
            extra = set(ids)
            after = False
            for order in book.orders_at(is_buy, price):
                if order.order_id == own:
                    after = True
                elif after and order.order_id not in extra:
                    return                  # someone else's order behind its own: keep the lots as they are
        del self.behind[key]
        lots = 0
        for order_id in ids:
            order = book.cancel(order_id)
            if order is not None:
                lots += order.qty
        if lots <= 0 or own is None:
            return
        if book.add_at_back(own, lots):
            return
        order_id = self.next_id()           # its own order traded away: the lots become the level's order
        book.submit(order_id, None, is_buy, price, lots, GTC)        # (a price of its side: it cannot cross)
        if at_touch:
            self.touch[is_buy] = (price, order_id)
        else:
            ladder[price] = order_id

    def _take(self, book: OrderBook, orders: list, lots: int) -> None:
        """Cancel ``lots`` from ``orders`` (house orders of one level), the latest first; an order taken
        down to nothing leaves, and its price is then treated as eaten (replaced once its side may refill)."""
        for order in reversed(orders):
            if lots <= 0:
                return
            take = min(lots, order.qty)
            lots -= take
            if take == order.qty:
                self.eaten.add(order.price)
                self.dirty = True
            book.reduce(order.order_id, take)

    @staticmethod
    def _keep_or_cancel(book: OrderBook, moved: list, wanted: list) -> dict:
        """The orders a moving touch left: those at a price where the ladder wants a level are returned
        (``(is_buy, price) -> id``; the placement keeps each one there when it holds at least half the
        level's size or an agent queues behind it), the others are cancelled now, before anything new is
        placed, so that the house never crosses itself."""
        ladder_wanted = {(not sell, at) for level, sell, at in wanted if level}    # (is_buy, price), touch left out
        keep = {}
        for is_buy, price, order_id in moved:
            if order_id in book.orders and (is_buy, price) in ladder_wanted:
                keep[(is_buy, price)] = order_id
            else:
                book.cancel(order_id)
        return keep

    def _update(self, book: OrderBook, side: dict[int, int], old: tuple[int, int] | None, low: int, high: int,
                step: int, eaten: set[int], replace: bool, wanted: list, is_buy: bool, top: int) -> None:
        """One side's ladder behind the touch: drop the levels outside [low, high] and those eaten down
        to less than half (once the side may refill); list the prices of [low, high] that then have no
        order (with their level: 1 for ``top``, the first behind the touch)."""
        if old is not None and old[0] == low and old[1] == high and (not eaten or side.keys().isdisjoint(eaten)):
            count = (high - low) // step + 1
            if count <= len(side) <= 2 * count:
                return                  # the same range, every level there, none eaten (the common case)
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
            if price == outermost or (replace and not self._queued_behind(book, order_id)):
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
                wanted.append((1 + ((top - price) // step if is_buy else (price - top) // step), not is_buy, price))

    def stands(self, book: OrderBook, fair: float, widen: float, regime, noise: np.ndarray) -> bool:
        """True when the ladder in ``book`` is exactly the one ``clear`` then ``recentre`` would lay out
        now: the same layout, each of its levels one whole house order of the size it would get, and
        nothing else. It is then marked freshly laid out (nothing eaten, no deficit), as a fresh lay-out
        would leave it."""
        step, top_bid, top_ask, n = self.layout(fair, widen, regime)
        key = (step, top_bid, top_ask, n, regime)
        if key != self._laid_out or self.behind:
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
                "deficit_us": [self.deficit_us[True], self.deficit_us[False]],
                "behind": [[is_buy, price, list(ids)] for (is_buy, price), ids in self.behind.items()]}

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
        behind: dict[tuple[bool, int], list[int]] = {}
        for i, (is_buy, price, ids) in enumerate(state.get("behind", ())):
            for order_id in ids or [None]:
                order = None if order_id is None else book.get(order_id)
                if (is_buy, price) in behind or (order is not None and (order.owner is not None or order.is_buy != is_buy
                                                                         or order.price != price)):
                    raise InvalidState(f"{where}.behind.{i}", "each side and price once, naming house orders at that "
                                                              "price on that side (or ones no longer in the book)")
            behind[(is_buy, price)] = list(ids)
        self.behind = behind
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
        """Cancel every house order in ``book`` and forget them (no ladder until the next re-centre)."""
        for ids in self.behind.values():
            for order_id in ids:
                book.cancel(order_id)
        for side in (self.bids, self.asks):
            for order_id in side.values():
                book.cancel(order_id)
        for is_buy in (True, False):
            touch = self.touch[is_buy]
            if touch is not None:
                book.cancel(touch[1])
        self.drop()

    def drop(self) -> None:
        """Forget every house order without touching a book: for a book that was thrown away (a market
        whose book held nothing but the house's orders starts a new one rather than cancel them all)."""
        self.behind = {}
        self.bids.clear()
        self.asks.clear()
        self.touch[True] = self.touch[False] = None
        self.step = 0
        self._laid_out = None
