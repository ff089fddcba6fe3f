"""A price-time-priority limit order book with integer prices and sizes.

The book knows nothing of time, money or agents beyond an opaque ``owner`` per order; it matches and
reports. Prices are integer price units and sizes integer lots (see ``grid.py``).

Layout, chosen for speed in pure Python:
- one ``SortedList`` of the occupied prices per side, so the best price is ``[0]`` or ``[-1]``;
- one ``Level`` per occupied price: a FIFO ``deque`` of orders plus the live count and volume;
- cancellation is lazy: a cancelled order is marked dead and skipped when matching reaches it;
- so are emptied levels: a level whose last order is cancelled keeps its place in the sorted prices
  (an order at that price soon after, the common case near the touch, reuses it for free) and is
  dropped when it reaches the top of the book, or when empty levels outnumber live ones.
So a cancel is O(1), and the sorted lists change only when a price is first used or finally dropped.
"""

from __future__ import annotations

from collections import deque
from typing import Hashable, Iterator

from sortedcontainers import SortedList

GTC = "GTC"   # rests whatever does not match
IOC = "IOC"   # matches what it can, never rests
ALO = "ALO"   # post-only: refused whole if it would match at once
TIME_IN_FORCE = (GTC, IOC, ALO)

BUY = True
SELL = False
_NOBODY = object()      # the owner of an empty side's first order: equal to no one's
_UNSEARCHED = object()  # best_excluding has not yet looked past a side's first owner


class Order:
    __slots__ = ("order_id", "owner", "is_buy", "price", "qty", "size", "live")

    def __init__(self, order_id: int, owner: Hashable | None, is_buy: bool, price: int, qty: int):
        self.order_id = order_id
        self.owner = owner      # None for the house (background liquidity, takers)
        self.is_buy = is_buy
        self.price = price
        self.qty = qty          # remaining lots
        self.size = qty         # original lots
        self.live = True

    def __repr__(self) -> str:  # pragma: no mutate block  (debug output only, no behaviour to test)
        side = "buy" if self.is_buy else "sell"
        return f"Order({self.order_id}, {side} {self.qty}/{self.size} @ {self.price}, owner={self.owner!r})"


class Level:
    __slots__ = ("queue", "count", "volume")

    def __init__(self) -> None:
        self.queue: deque[Order] = deque()
        self.count = 0      # live orders
        self.volume = 0     # live lots


class Fill:
    """One match: ``qty`` lots at the resting (maker) order's price."""

    __slots__ = ("maker", "taker_id", "taker_owner", "taker_is_buy", "price", "qty")

    def __init__(self, maker: Order, taker_id: int, taker_owner, taker_is_buy: bool, price: int, qty: int):
        self.maker = maker
        self.taker_id = taker_id
        self.taker_owner = taker_owner
        self.taker_is_buy = taker_is_buy
        self.price = price
        self.qty = qty


class Result:
    """What a submission did: its fills, the order left resting (if any), orders cancelled by
    self-trade prevention, and whether it was refused (ALO that would cross)."""

    # Class-level defaults: most submissions only rest, so only ``fills`` is made per instance; the
    # rarely used lists are created by the book when first needed.
    resting: Order | None = None
    self_trade_cancels: list[Order] = ()     # type: ignore[assignment]
    guard_cancels: list[Order] = ()          # type: ignore[assignment]  # orders the guard stopped
    refused = False
    unfilled = 0            # lots neither filled nor rested (IOC remainder)

    def __init__(self) -> None:
        self.fills: list[Fill] = []

    @property
    def filled(self) -> int:
        return sum(f.qty for f in self.fills)


class OrderBook:
    """The book of one market.

    Two optional hooks let the owner of the book see inside a sweep, at the instant it happens:
    ``guard(maker, qty) -> allowed`` is asked before an owned resting order fills and may allow less
    (the rest of that order is then cancelled), ``on_fill(fill)`` is told of each fill as it is made,
    and ``on_drop(order, why)`` of each resting order a sweep cancels (``why``: ``self_trade_cancels``
    or ``guard_cancels``), so that no order leaves the book unseen. All are None by default and cost
    nothing then.
    """

    def __init__(self) -> None:
        self.guard = None
        self.on_fill = None
        self.on_drop = None
        self.bid_prices = SortedList()     # best bid is [-1]
        self.ask_prices = SortedList()     # best ask is [0]
        self.bid_levels: dict[int, Level] = {}
        self.ask_levels: dict[int, Level] = {}
        self.orders: dict[int, Order] = {}
        # The best prices, cached: the sorted lists are only consulted when a best level empties.
        self._best_bid: int | None = None
        self._best_ask: int | None = None
        self._empty = {True: 0, False: 0}  # emptied levels still listed, per side (True = bids)
        # Per owner (never the house): [live orders, sum of price units x lots, bid lots, bid price units x
        # lots, ask lots]. Kept as orders rest, fill and leave, so an owner's open notional costs the same
        # with 10 or 10,000 orders resting.
        self._owned: dict[Hashable, list[int]] = {}
        self._owned_total = 0
        self.changes = 0        # submissions and cancels so far: what was worked out from the book holds till it moves
        self._tops: list | None = None      # best_excluding's working, and the count it was made at

    # ---- queries ------------------------------------------------------------------------------
    def best_bid(self) -> int | None:
        return self._best_bid

    def best_ask(self) -> int | None:
        return self._best_ask

    def get(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def depth(self, is_buy: bool, levels: int) -> list[tuple[int, int]]:
        """Up to ``levels`` aggregated ``(price, lots)`` pairs from the best price outwards."""
        book = self.bid_levels if is_buy else self.ask_levels
        found: list[tuple[int, int]] = []
        if levels <= 0:
            return found
        for price in (reversed(self.bid_prices) if is_buy else self.ask_prices):
            level = book[price]
            if level.count:
                found.append((price, level.volume))
                if len(found) == levels:
                    break
        return found

    def orders_at(self, is_buy: bool, price: int) -> Iterator[Order]:
        """Live orders at one price, in time priority."""
        level = (self.bid_levels if is_buy else self.ask_levels).get(price)
        if level:
            for order in level.queue:
                if order.live:
                    yield order

    def iter_side(self, is_buy: bool) -> Iterator[Order]:
        """Live orders of one side, best price first, then time priority."""
        prices = reversed(self.bid_prices) if is_buy else iter(self.ask_prices)
        for price in prices:     # callers stop early; do not change the book while iterating
            yield from self.orders_at(is_buy, price)

    def best_excluding(self, owner: Hashable) -> tuple[int | None, int | None]:
        """The best bid and ask among the orders of everyone but ``owner`` (the house included): the
        market's own spread as that owner sees it. Every session on a market asks at every event, so
        what is worked out is kept until the book next changes: per side, the first order's owner and
        price, and (only once the first order's owner asks) the first price of anyone else's order,
        a search that can run through a whole side of the house's ladder."""
        tops = self._tops
        if tops is None or tops[0] != self.changes:
            tops = self._tops = [self.changes, self._first(True), self._first(False)]
        return self._excluding(tops, 1, True, owner), self._excluding(tops, 2, False, owner)

    def _first(self, is_buy: bool) -> list:
        """[owner of the side's first order, its price, the next owner's price (not yet searched)]."""
        order = next(self.iter_side(is_buy), None)
        return [_NOBODY, None, None] if order is None else [order.owner, order.price, _UNSEARCHED]

    def _excluding(self, tops: list, i: int, is_buy: bool, owner: Hashable) -> int | None:
        first_owner, first_price, other = tops[i]
        if owner != first_owner:
            return first_price
        if other is _UNSEARCHED:
            other = tops[i][2] = next((o.price for o in self.iter_side(is_buy) if o.owner != owner), None)
        return other

    def __len__(self) -> int:
        return len(self.orders)

    def owned(self, owner: Hashable) -> tuple[int, int]:
        """``(live orders, sum of price units x lots)`` of ``owner``'s resting orders, in O(1)."""
        found = self._owned.get(owner)
        return (found[0], found[1]) if found is not None else (0, 0)

    def owned_sides(self, owner: Hashable) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((lots, price units x lots) of the bids, the same of the asks)`` of ``owner``'s resting
        orders, in O(1)."""
        found = self._owned.get(owner)
        if found is None:
            return (0, 0), (0, 0)
        return (found[2], found[3]), (found[4], found[1] - found[3])

    @property
    def owned_orders(self) -> int:
        """Live resting orders of every owner but the house."""
        return self._owned_total

    def _own(self, owner: Hashable, is_buy: bool, orders: int, price: int, lots: int) -> None:
        found = self._owned.get(owner)
        if found is None:
            found = self._owned[owner] = [0, 0, 0, 0, 0]
        found[0] += orders
        found[1] += price * lots
        if is_buy:
            found[2] += lots
            found[3] += price * lots
        else:
            found[4] += lots
        self._owned_total += orders
        if not found[0]:
            del self._owned[owner]

    # ---- commands -----------------------------------------------------------------------------
    def submit(self, order_id: int, owner, is_buy: bool, price: int | None, qty: int,
               tif: str = GTC) -> Result:
        """Match an incoming order, then rest what is left if ``tif`` allows.

        ``price=None`` is a market order (IOC with no limit). An order never trades with a resting
        order of the same owner: that resting order is cancelled instead (self-trade prevention).
        """
        if qty <= 0:
            raise ValueError("qty must be positive")
        if order_id in self.orders:
            raise ValueError(f"duplicate order id {order_id}")
        self.changes += 1
        result = Result()
        best = self._best_ask if is_buy else self._best_bid
        if price is None:
            tif = IOC
            crosses = best is not None
        else:
            crosses = best is not None and (best <= price if is_buy else best >= price)
        if not crosses:
            remaining = qty
        elif tif == ALO:
            result.refused = True
            return result
        else:
            remaining = self._match(order_id, owner, is_buy, price, qty, result)
        if remaining:
            if tif == GTC or tif == ALO:    # ALO got here only because it does not cross
                result.resting = self._rest(Order(order_id, owner, is_buy, price, remaining))
            else:
                result.unfilled = remaining
        return result

    def cancel(self, order_id: int) -> Order | None:
        """Remove a live order; returns it (with its remaining size), or None if unknown."""
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        self.changes += 1
        order.live = False
        if order.owner is not None:
            self._own(order.owner, order.is_buy, -1, order.price, -order.qty)
        levels = self.bid_levels if order.is_buy else self.ask_levels
        level = levels[order.price]
        level.count -= 1
        level.volume -= order.qty
        if level.count == 0:
            level.queue.clear()
            self._empty[order.is_buy] += 1
            if order.price == (self._best_bid if order.is_buy else self._best_ask):
                self._refresh_best(order.is_buy)
            elif self._empty[order.is_buy] > 64 and self._empty[order.is_buy] * 2 > len(levels):
                self._compact(order.is_buy)
        return order

    def would_cross(self, is_buy: bool, price: int) -> bool:
        """Would a limit order at ``price`` match at once?"""
        if is_buy:
            return self._best_ask is not None and self._best_ask <= price
        return self._best_bid is not None and self._best_bid >= price

    # ---- internals ----------------------------------------------------------------------------

    def _drop_front(self, level: Level, maker: Order, result: Result, why: str) -> None:
        """Cancel the live order at the front of ``level`` in the middle of a sweep, and list it in the
        result under ``why`` (``self_trade_cancels`` or ``guard_cancels``, created on first use)."""
        level.queue.popleft()
        maker.live = False
        del self.orders[maker.order_id]
        if maker.owner is not None:
            self._own(maker.owner, maker.is_buy, -1, maker.price, -maker.qty)
        level.count -= 1
        level.volume -= maker.qty
        cancelled = getattr(result, why)
        if not cancelled:
            cancelled = []
            setattr(result, why, cancelled)
        cancelled.append(maker)
        if self.on_drop is not None:
            self.on_drop(maker, why)

    def _refresh_best(self, is_buy: bool) -> None:
        """Find the best live price again, dropping emptied levels on the way."""
        if is_buy:
            prices, levels, end = self.bid_prices, self.bid_levels, -1
        else:
            prices, levels, end = self.ask_prices, self.ask_levels, 0
        best = None
        while prices:
            price = prices[end]
            if levels[price].count:
                best = price
                break
            del prices[end]
            del levels[price]
            self._empty[is_buy] -= 1
        if is_buy:
            self._best_bid = best
        else:
            self._best_ask = best

    def _compact(self, is_buy: bool) -> None:
        """Drop every emptied level of one side at once (amortised: only when they pile up)."""
        if is_buy:
            levels = self.bid_levels
        else:
            levels = self.ask_levels
        live = {price: level for price, level in levels.items() if level.count}
        levels.clear()
        levels.update(live)
        if is_buy:
            self.bid_prices = SortedList(live)
        else:
            self.ask_prices = SortedList(live)
        self._empty[is_buy] = 0

    def _rest(self, order: Order) -> Order:
        price = order.price
        if order.is_buy:
            level = self.bid_levels.get(price)
            if level is None:
                level = self.bid_levels[price] = Level()
                self.bid_prices.add(price)
            elif not level.count:
                self._empty[True] -= 1          # an emptied level comes back to life
            best = self._best_bid
            if best is None or price > best:
                self._best_bid = price
        else:
            level = self.ask_levels.get(price)
            if level is None:
                level = self.ask_levels[price] = Level()
                self.ask_prices.add(price)
            elif not level.count:
                self._empty[False] -= 1
            best = self._best_ask
            if best is None or price < best:
                self._best_ask = price
        level.queue.append(order)
        level.count += 1
        level.volume += order.qty
        self.orders[order.order_id] = order
        if order.owner is not None:
            self._own(order.owner, order.is_buy, 1, price, order.qty)
        return order

    def _match(self, order_id: int, owner, is_buy: bool, limit: int | None, qty: int,
               result: Result) -> int:
        if is_buy:
            prices, levels = self.ask_prices, self.ask_levels
        else:
            prices, levels = self.bid_prices, self.bid_levels
        orders = self.orders
        fills = result.fills
        guard, on_fill = self.guard, self.on_fill
        price = self._best_ask if is_buy else self._best_bid
        while qty and price is not None:
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            level = levels[price]
            queue = level.queue
            while qty and level.count:
                maker = queue[0]
                if not maker.live:
                    queue.popleft()
                    continue
                if owner is not None and maker.owner == owner:
                    # Self-trade prevention: cancel the resting order, keep matching behind it.
                    self._drop_front(level, maker, result, "self_trade_cancels")
                    continue
                take = maker.qty if maker.qty <= qty else qty
                stop = False
                if guard is not None and maker.owner is not None:
                    allowed = guard(maker, take)
                    if allowed < take:
                        stop = True
                        take = allowed
                        if take <= 0:
                            self._drop_front(level, maker, result, "guard_cancels")
                            continue
                maker.qty -= take
                level.volume -= take
                qty -= take
                if maker.owner is not None:
                    self._own(maker.owner, maker.is_buy, 0 if maker.qty else -1, price, -take)
                fill = Fill(maker, order_id, owner, is_buy, price, take)
                fills.append(fill)
                if maker.qty == 0:
                    queue.popleft()
                    maker.live = False
                    del orders[maker.order_id]
                    level.count -= 1
                elif stop:
                    self._drop_front(level, maker, result, "guard_cancels")
                if on_fill is not None:
                    on_fill(fill)
            if level.count:
                break       # filled inside this level
            del levels[price]
            if is_buy:
                del prices[0]
            else:
                del prices[-1]
            self._refresh_best(not is_buy)
            price = self._best_ask if is_buy else self._best_bid
        return qty
