"""A price-time-priority limit order book with integer prices and sizes.

The book knows nothing of time, money or agents beyond an opaque ``owner`` per order; it matches and
reports. Prices are integer price units and sizes integer lots (see ``grid.py``).

Layout, chosen for speed in pure Python:
- per side, one plain list of the occupied prices kept sorted with the best price last (bids
  ascending, asks descending), so the best price is ``[-1]``, a level swept away is a ``pop()``, and a
  new price is a C-level binary search and insert (cheap for the few hundred prices a book holds;
  a price beyond the best, the common case near the touch, is an ``append``);
- one ``Level`` per occupied price: a FIFO ``deque`` of orders that also keeps their live volume;
- cancellation is lazy: a cancelled order is marked dead and skipped when matching reaches it;
- so are emptied levels: a level whose last order is cancelled keeps its place in the sorted prices
  (an order at that price soon after, the common case near the touch, reuses it for free) and is
  dropped when it reaches the top of the book, or when empty levels outnumber live ones.
So a cancel is O(1), and the sorted lists change only when a price is first used or finally dropped.
The hot paths (resting an order, a cancel, a sweep's fills) are written out in place rather than
through helper calls: a Python call costs about as much as the rest of a cancel.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from operator import neg
from typing import Hashable, Iterator

GTC = "GTC"   # rests whatever does not match
IOC = "IOC"   # matches what it can, never rests
ALO = "ALO"   # post-only: refused whole if it would match at once
TIME_IN_FORCE = (GTC, IOC, ALO)

BUY = True
SELL = False
_NOBODY = object()      # the owner of an empty side's first order: equal to no one's
_UNSEARCHED = object()  # best_excluding has not yet looked past a side's first owner


class Order:
    """A resting order. Made by ``new_order`` (or by the book, which sets the same slots in place):
    ``Order()`` itself sets nothing, so that making one is a call in C, with no Python frame."""

    __slots__ = ("order_id", "owner", "is_buy", "price", "qty", "size", "live", "level", "sums")
    # order_id; owner (None for the house: background liquidity, takers); is_buy; price (units);
    # qty (lots left); size (lots at entry); live; level (the level it rests in: a level is dropped only
    # once it holds no live order); sums (its owner's Sums on its side; None for the house)

    def __repr__(self) -> str:  # pragma: no mutate block  (debug output only, no behaviour to test)
        side = "buy" if self.is_buy else "sell"
        return f"Order({self.order_id}, {side} {self.qty}/{self.size} @ {self.price}, owner={self.owner!r})"


def new_order(order_id: int, owner: Hashable | None, is_buy: bool, price: int, qty: int) -> Order:
    """A live order of ``qty`` lots, in no level and no owner's sums (a book sets those as it rests)."""
    order = Order()
    order.order_id = order_id
    order.owner = owner
    order.is_buy = is_buy
    order.price = price
    order.qty = order.size = qty
    order.live = True
    order.level = order.sums = None
    return order


class Sums:
    """An owner's resting orders on one side: their lots, and their price units x lots."""

    __slots__ = ("lots", "units")

    def __init__(self) -> None:
        self.lots = 0
        self.units = 0


class Level(deque):
    """The orders at one price in time priority (a cancelled one stays in place until matching reaches
    it or the level empties), and ``volume``, the live orders' lots: a level is empty when it is 0."""

    __slots__ = ("volume",)     # live lots, set when the level is made (no __init__: one call less)


class Fill:
    """One match: ``qty`` lots at the resting (maker) order's ``price``, against the incoming order
    ``taker_id`` of ``taker_owner`` on side ``taker_is_buy``. Like ``Order``, made by ``Fill()`` (a call in
    C, no Python frame) and filled in place by the book."""

    __slots__ = ("maker", "taker_id", "taker_owner", "taker_is_buy", "price", "qty")

    def __repr__(self) -> str:  # pragma: no mutate block  (debug output only, no behaviour to test)
        return f"Fill(maker={self.maker.order_id}, taker={self.taker_id}, {self.qty} @ {self.price})"


class Rested:
    """What a submission that rested whole did (most submissions): nothing filled, refused or cancelled,
    ``resting`` the order. It reads as a ``Result``; made with one slot, it costs less to make than one."""

    __slots__ = ("resting",)
    fills: tuple = ()
    self_trade_cancels: tuple = ()
    guard_cancels: tuple = ()
    drops: tuple = ()
    refused = False
    unfilled = 0
    filled = 0


class Result(Rested):
    """What a submission did, as a value: its fills, the order left resting (if any), the resting orders
    the sweep cancelled (by self-trade prevention, or because their owner's allowance ran out), and
    whether it was refused (ALO that would cross). ``drops`` lists every cancelled order in the sweep's
    order as ``(fills made before it, order, why)``, so a reader can replay fills and cancels as they
    happened."""

    # Class-level defaults, so nothing is made per instance until it is needed: the fills' list by a
    # match, the rarely used lists by the book when first needed. (A submission that only rests gets
    # a ``Rested``.)
    fills: list[Fill] = ()                   # type: ignore[assignment]
    resting: Order | None = None
    self_trade_cancels: list[Order] = ()     # type: ignore[assignment]
    guard_cancels: list[Order] = ()          # type: ignore[assignment]  # stopped by their owner's allowance
    drops: list[tuple[int, Order, str]] = ()  # type: ignore[assignment]
    refused = False
    unfilled = 0            # lots neither filled nor rested (IOC remainder)

    @property
    def filled(self) -> int:
        return sum(f.qty for f in self.fills)


class OrderBook:
    """The book of one market. It calls nobody: what a submission did comes back as its ``Result``.

    A limit on how much an owner's resting orders may fill is handed in with the submission
    (``allowance``: owner -> lots its resting orders may still fill in this sweep; owners not in it are
    not limited). The book takes each fill out of its owner's allowance as it makes it; an order whose
    owner's allowance runs out fills what is left of it and the rest of the order is cancelled (listed in
    ``guard_cancels``).
    """

    def __init__(self) -> None:
        self.bid_prices: list[int] = []     # ascending: the best bid is [-1]
        self.ask_prices: list[int] = []     # descending: the best ask is [-1]
        self.bid_levels: dict[int, Level] = {}
        self.ask_levels: dict[int, Level] = {}
        self.orders: dict[int, Order] = {}
        # The best prices, cached: the sorted lists are only consulted when a best level empties.
        self._best_bid: int | None = None
        self._best_ask: int | None = None
        self._empty_bids = 0    # emptied levels still listed, per side
        self._empty_asks = 0
        # Per owner (never the house), per side: the lots and price units x lots of its resting orders
        # (``Sums``), kept as orders rest, fill and leave, so an owner's open notional (margin reckons
        # bids and asks apart) costs the same with 10 or 10,000 orders resting. Each of its orders holds
        # its side's ``Sums``; an owner with nothing resting keeps its zeros.
        self._bid_sums: dict[Hashable, Sums] = {}
        self._ask_sums: dict[Hashable, Sums] = {}
        self._owned_total = 0
        # best_excluding's working, kept until the book next moves (a submission or a cancel drops it).
        self._tops: list | None = None

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
        for price in reversed(self.bid_prices if is_buy else self.ask_prices):
            level = book[price]
            if level.volume:
                found.append((price, level.volume))
                if len(found) == levels:
                    break
        return found

    def orders_at(self, is_buy: bool, price: int) -> Iterator[Order]:
        """Live orders at one price, in time priority."""
        level = (self.bid_levels if is_buy else self.ask_levels).get(price)
        if level:
            for order in level:
                if order.live:
                    yield order

    def iter_side(self, is_buy: bool) -> Iterator[Order]:
        """Live orders of one side, best price first, then time priority."""
        for price in reversed(self.bid_prices if is_buy else self.ask_prices):
            yield from self.orders_at(is_buy, price)    # callers stop early; do not change the book meanwhile

    def best_excluding(self, owner: Hashable) -> tuple[int | None, int | None]:
        """The best bid and ask among the orders of everyone but ``owner`` (the house included): the
        market's own spread as that owner sees it. Every session on a market asks at every event, so
        what is worked out is kept until the book next changes: per side, the first order's owner and
        price, and (only once the first order's owner asks) the first price of anyone else's order,
        a search that can run through a whole side of the house's ladder."""
        tops = self._tops
        if tops is None:
            tops = self._tops = [self._first(True), self._first(False)]
        return self._excluding(tops, 0, True, owner), self._excluding(tops, 1, False, owner)

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
        """``(live orders, sum of price units x lots)`` of ``owner``'s resting orders (the count is
        counted: the book keeps the sums, not each owner's count)."""
        if owner is None:
            return 0, 0
        count = sum(1 for order in self.orders.values() if order.owner == owner)
        bids, asks = self._bid_sums.get(owner), self._ask_sums.get(owner)
        return count, (bids.units if bids else 0) + (asks.units if asks else 0)

    def owned_sides(self, owner: Hashable) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((lots, price units x lots) of the bids, the same of the asks)`` of ``owner``'s resting
        orders, in O(1)."""
        bids, asks = self._bid_sums.get(owner), self._ask_sums.get(owner)
        return (bids.lots, bids.units) if bids else (0, 0), (asks.lots, asks.units) if asks else (0, 0)

    @property
    def owned_orders(self) -> int:
        """Live resting orders of every owner but the house."""
        return self._owned_total

    # ---- commands -----------------------------------------------------------------------------
    def submit(self, order_id: int, owner, is_buy: bool, price: int | None, qty: int,
               tif: str = GTC, allowance: dict | None = None) -> Result | Rested:
        """Match an incoming order, then rest what is left if ``tif`` allows.

        ``price=None`` is a market order (IOC with no limit). An order never trades with a resting
        order of the same owner: that resting order is cancelled instead (self-trade prevention).
        ``allowance`` (owner -> lots, see the class) limits the resting orders' fills; it is decremented
        in place by what they fill, so one allowance can serve several submissions at one instant.
        """
        if qty <= 0:
            raise ValueError("qty must be positive")
        orders = self.orders
        if order_id in orders:
            raise ValueError(f"duplicate order id {order_id}")
        self._tops = None
        result = None
        if price is None:
            tif = IOC
            best = self._best_ask if is_buy else self._best_bid
        elif is_buy:
            best = self._best_ask
            if best is not None and best > price:
                best = None         # does not cross
        else:
            best = self._best_bid
            if best is not None and best < price:
                best = None
        if best is not None:        # the order crosses
            result = Result()
            if tif == ALO:
                result.refused = True
                return result
            qty = self._match(order_id, owner, is_buy, price, qty, result, allowance)
            if not qty:
                return result
        if tif != GTC and tif != ALO:       # ALO got here only because it does not cross
            if result is None:
                result = Result()
            result.unfilled = qty
            return result
        # Rest what is left (written out here: this is most of what a book does).
        if is_buy:
            levels = self.bid_levels
            owned = self._bid_sums
            level = levels.get(price)
            if level is None:
                level = levels[price] = Level()
                level.volume = 0
                prices = self.bid_prices
                if not prices or price > prices[-1]:
                    prices.append(price)
                else:
                    insort(prices, price)
            elif not level.volume:
                self._empty_bids -= 1           # an emptied level comes back to life
            best = self._best_bid
            if best is None or price > best:
                self._best_bid = price
        else:
            levels = self.ask_levels
            owned = self._ask_sums
            level = levels.get(price)
            if level is None:
                level = levels[price] = Level()
                level.volume = 0
                prices = self.ask_prices
                if not prices or price < prices[-1]:
                    prices.append(price)
                else:
                    prices.insert(bisect_left(prices, -price, key=neg), price)
            elif not level.volume:
                self._empty_asks -= 1
            best = self._best_ask
            if best is None or price < best:
                self._best_ask = price
        if owner is None:
            sums = None
        else:
            try:
                sums = owned[owner]
            except KeyError:        # the owner's first order on this side
                sums = owned[owner] = Sums()
            sums.units += price * qty
            sums.lots += qty
            self._owned_total += 1
        # ``new_order`` written out: a call of a Python function costs as much again as the stores.
        if result is None:
            result = Rested()
        order = result.resting = orders[order_id] = Order()
        order.order_id = order_id
        order.owner = owner
        order.is_buy = is_buy
        order.price = price
        order.qty = order.size = qty
        order.live = True
        order.level = level
        order.sums = sums
        level.append(order)
        level.volume += qty
        return result

    def cancel(self, order_id: int) -> Order | None:
        """Remove a live order; returns it (with its remaining size), or None if unknown."""
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        self._tops = None
        order.live = False
        qty = order.qty
        sums = order.sums
        if sums is not None:        # it leaves its owner's sums
            sums.units -= order.price * qty
            sums.lots -= qty
            self._owned_total -= 1
        level = order.level
        level.volume -= qty
        if not level.volume:
            level.clear()
            price = order.price
            if order.is_buy:
                self._empty_bids += 1
                if price == self._best_bid:
                    self._refresh_best(True)
                elif self._empty_bids > 64 and self._empty_bids * 2 > len(self.bid_levels):
                    self._compact(True)
            else:
                self._empty_asks += 1
                if price == self._best_ask:
                    self._refresh_best(False)
                elif self._empty_asks > 64 and self._empty_asks * 2 > len(self.ask_levels):
                    self._compact(False)
        return order

    def reduce(self, order_id: int, lots: int) -> Order | None:
        """Take ``lots`` off a live order's remaining size; it keeps its place in the queue (a size decrease
        keeps time priority). Down to nothing, the order is cancelled. Returns the order, or None if unknown."""
        order = self.orders.get(order_id)
        if order is None or lots <= 0:
            return order
        if lots >= order.qty:
            return self.cancel(order_id)
        self._tops = None
        order.qty -= lots
        order.level.volume -= lots
        sums = order.sums
        if sums is not None:
            sums.units -= order.price * lots
            sums.lots -= lots
        return order

    def add_at_back(self, order_id: int, lots: int) -> bool:
        """Add ``lots`` to a live order that is the last live one of its price's queue (nobody waits behind
        it, so this is the same as a new order at the back); returns False, changing nothing, otherwise."""
        order = self.orders.get(order_id)
        if order is None or lots <= 0:
            return False
        last = next((o for o in reversed(order.level) if o.live), None)
        if last is not order:
            return False
        self._tops = None
        order.qty += lots
        order.size += lots
        order.level.volume += lots
        sums = order.sums
        if sums is not None:
            sums.units += order.price * lots
            sums.lots += lots
        return True

    def would_cross(self, is_buy: bool, price: int) -> bool:
        """Would a limit order at ``price`` match at once?"""
        if is_buy:
            return self._best_ask is not None and self._best_ask <= price
        return self._best_bid is not None and self._best_bid >= price

    # ---- state (snapshots) --------------------------------------------------------------------
    def state(self) -> dict:
        """Every live order, side by side, best price first, in queue order at each price: [order_id,
        owner, lots left, lots at entry] (see ``state_document.Book``)."""
        out = {}
        for name, is_buy in (("bids", True), ("asks", False)):
            levels = []
            for price in reversed(self.bid_prices if is_buy else self.ask_prices):   # best first
                queue = [[o.order_id, o.owner, o.qty, o.size] for o in self.orders_at(is_buy, price)]
                if queue:
                    levels.append([price, queue])
            out[name] = levels
        return out

    @classmethod
    def from_state(cls, state: dict, where: str = "book") -> "OrderBook":
        """The book ``state`` describes (checked: prices in order, ids unique, no order bigger than it
        was at entry, the sides not crossed). Raises ``InvalidState``."""
        from .errors import InvalidState
        book = cls()
        for name, is_buy in (("bids", True), ("asks", False)):
            levels = state[name]
            last = None
            for i, (price, queue) in enumerate(levels):
                if last is not None and (price >= last if is_buy else price <= last):
                    raise InvalidState(f"{where}.{name}.{i}", "prices must be distinct, best first")
                last = price
            # Laid worst price first, so each new level goes on the end of its side's sorted list;
            # bids are laid before asks, so an ask that would cross is found before it could match.
            for i in range(len(levels) - 1, -1, -1):
                price, queue = levels[i]
                if book.would_cross(is_buy, price):
                    raise InvalidState(f"{where}.{name}.{i}", "the best bid must be below the best ask")
                for j, (order_id, owner, qty, size) in enumerate(queue):
                    if order_id in book.orders or order_id == 0:
                        raise InvalidState(f"{where}.{name}.{i}.1.{j}", f"order id {order_id} is zero or used twice")
                    if qty > size:
                        raise InvalidState(f"{where}.{name}.{i}.1.{j}", "lots left must not exceed lots at entry")
                    if (owner is None) != (order_id < 0):
                        raise InvalidState(f"{where}.{name}.{i}.1.{j}",
                                           "the house's orders have negative ids, agents' positive ones")
                    book.submit(order_id, owner, is_buy, price, qty).resting.size = size
        return book

    # ---- internals ----------------------------------------------------------------------------

    def _drop_front(self, level: Level, maker: Order, result: Result, why: str) -> None:
        """Cancel the live order at the front of ``level`` in the middle of a sweep, and list it in the
        result under ``why`` (``self_trade_cancels`` or ``guard_cancels``, created on first use)."""
        level.popleft()
        maker.live = False
        del self.orders[maker.order_id]
        sums = maker.sums
        if sums is not None:
            sums.units -= maker.price * maker.qty
            sums.lots -= maker.qty
            self._owned_total -= 1
        level.volume -= maker.qty
        cancelled = getattr(result, why)
        if not cancelled:
            cancelled = []
            setattr(result, why, cancelled)
        cancelled.append(maker)
        drops = result.drops
        if not drops:
            drops = result.drops = []
        drops.append((len(result.fills), maker, why))

    def _refresh_best(self, is_buy: bool) -> None:
        """Find the best live price again, dropping emptied levels on the way."""
        if is_buy:
            prices, levels = self.bid_prices, self.bid_levels
        else:
            prices, levels = self.ask_prices, self.ask_levels
        best = None
        dropped = 0
        while prices:
            price = prices[-1]
            if levels[price].volume:
                best = price
                break
            prices.pop()
            del levels[price]
            dropped += 1
        if is_buy:
            self._best_bid = best
            self._empty_bids -= dropped
        else:
            self._best_ask = best
            self._empty_asks -= dropped

    def _compact(self, is_buy: bool) -> None:
        """Drop every emptied level of one side at once (amortised: only when they pile up)."""
        levels = self.bid_levels if is_buy else self.ask_levels
        live = {price: level for price, level in levels.items() if level.volume}
        levels.clear()
        levels.update(live)
        if is_buy:
            self.bid_prices = sorted(live)
            self._empty_bids = 0
        else:
            self.ask_prices = sorted(live, reverse=True)
            self._empty_asks = 0

    def _match(self, order_id: int, owner, is_buy: bool, limit: int | None, qty: int,
               result: Result, allowance: dict | None) -> int:
        if is_buy:
            prices, levels = self.ask_prices, self.ask_levels
        else:
            prices, levels = self.bid_prices, self.bid_levels
        orders = self.orders
        fills = result.fills = []
        moved = False           # a level left the top: the best price is looked for again at the end
        gone = 0                # owned orders filled whole (taken off the owned count once, at the end)
        while qty and prices:
            price = prices[-1]
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            level = levels[price]
            volume = level.volume       # kept here while this level matches; written back when it stops
            while qty and volume:
                maker = level[0]
                if not maker.live:
                    level.popleft()
                    continue
                if owner is not None and maker.owner == owner:
                    # Self-trade prevention: cancel the resting order, keep matching behind it.
                    level.volume = volume
                    self._drop_front(level, maker, result, "self_trade_cancels")
                    volume = level.volume
                    continue
                sums = maker.sums
                if allowance is not None and sums is not None and maker.owner in allowance:
                    level.volume = volume
                    fill = self._allowed_fill(level, maker, order_id, owner, is_buy, price, qty, result, allowance)
                    volume = level.volume
                    if fill is not None:
                        qty -= fill.qty
                        fills.append(fill)
                    continue
                take = maker.qty
                if take <= qty:         # the maker fills whole and leaves
                    level.popleft()
                    maker.live = False
                    maker.qty = 0
                    del orders[maker.order_id]
                    if sums is not None:
                        sums.units -= price * take
                        sums.lots -= take
                        gone += 1
                else:
                    take = qty
                    maker.qty -= take
                    if sums is not None:
                        sums.units -= price * take
                        sums.lots -= take
                volume -= take
                qty -= take
                fill = Fill()
                fill.maker = maker
                fill.taker_id = order_id
                fill.taker_owner = owner
                fill.taker_is_buy = is_buy
                fill.price = price
                fill.qty = take
                fills.append(fill)
            if volume:
                level.volume = volume
                break       # filled inside this level
            level.volume = 0
            level.clear()       # cancelled orders left behind its last live one go with it
            del levels[price]
            prices.pop()
            moved = True
            while prices and not levels[prices[-1]].volume:      # emptied levels now on top go too
                del levels[prices.pop()]
                if is_buy:
                    self._empty_asks -= 1
                else:
                    self._empty_bids -= 1
        if gone:
            self._owned_total -= gone
        if moved:
            best = prices[-1] if prices else None
            if is_buy:
                self._best_ask = best
            else:
                self._best_bid = best
        return qty

    def _allowed_fill(self, level: Level, maker: Order, order_id: int, owner, is_buy: bool, price: int,
                      qty: int, result: Result, allowance: dict) -> Fill | None:
        """A fill of a resting order whose owner has an allowance: what is left of the allowance may be
        less than the fill would take (that much fills, then the rest of the order is cancelled) or
        nothing (the order is cancelled without a fill). Returns the fill, or None."""
        take = maker.qty if maker.qty <= qty else qty
        allowed = allowance[maker.owner]
        stop = allowed < take
        if stop:
            take = allowed
            if take <= 0:
                self._drop_front(level, maker, result, "guard_cancels")
                return None
        allowance[maker.owner] = allowed - take
        maker.qty -= take
        level.volume -= take
        sums = maker.sums
        sums.units -= price * take
        sums.lots -= take
        if maker.qty == 0:
            level.popleft()
            maker.live = False
            del self.orders[maker.order_id]
            self._owned_total -= 1
        elif stop:
            self._drop_front(level, maker, result, "guard_cancels")
        fill = Fill()
        fill.maker = maker
        fill.taker_id = order_id
        fill.taker_owner = owner
        fill.taker_is_buy = is_buy
        fill.price = price
        fill.qty = take
        return fill
