"""A recorded market, replayed: the second implementation of the market source (``pf_mock.source``).

The recorded book is the house. Agents' orders never enter it; each resting agent order keeps a place in
the recorded queue at its price (``queue.py``), and the recording decides when it is reached:

1. **Joining.** An order that does not cross the recorded book rests at the back of the recorded queue at
   its price: the recorded size there (less what agents took, rule 5) is ahead of it.
2. **Trades at its price.** A recorded trade at the order's price (a buy taker for an ask, a sell taker
   for a bid) consumes the queue ahead first; what goes past it fills the order (``queue.FILL_BELOW``).
   Several agent orders at one price share what went past in the order they arrived.
3. **Trades through its price.** A recorded trade at a worse price for the maker (a buy at more than the
   ask, a sell below the bid) went through the whole level: the order fills whole.
4. **The book through its price.** When after an update the recorded best ask is at or below an agent's
   bid (or the best bid at or above an ask) the order fills whole, at its own price: the recorded
   counterparty would have matched it.
5. **Marketable agent orders** walk the recorded book at the instant they arrive, level by level up to
   their limit, and print on the tape. What they took is hidden from later agent orders (not offered
   again) until the recording next updates that level.
6. **Decreases of its level** shrink the queue ahead as the queue model says; agents' resting orders do not
   trade with each other (each agent trades with the recording).
7. **Latency** (``latency.py``): limit orders and cancels reach the book a constant time after they are
   sent; market orders (hedges) at once.
8. **Fills are partial** by default (rule 2 fills what went past the queue ahead); with
   ``partial_fills=False`` an order that is reached fills whole, as hftbacktest's no-partial-fill exchange.
9. **The end.** After the recording's last event the market is halted: reads keep the last state, orders
   are refused (``Exchange`` answers ``409 market_halted``), resting orders stay and can be cancelled.

Maker fills of agents do not print: the recorded trade that reached them is on the tape already. Every
fill is held to the inventory limits its command handed down (``limits``), as on the synthetic market, and
what agents' orders did goes into ``news`` for the one who gave the command to book.

Lazy as the synthetic market: with no agent order resting or on its way and no live session, the market is
*quiet* and time passes by applying recorded events in bulk, with no observer calls. Otherwise every
instant of the recording that moves the top of the book, prints a trade or fills an agent is an event
after which ``step_until`` answers True: the exchange runs the guardrails and statistics then.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Callable

from ..book import ALO, GTC, IOC, Order, Result, new_order
from ..catalog import MarketSpec
from ..closed import CANCELLED, CLIENT, EXPIRED, FILLED, IOC_REMAINDER, MAX_INVENTORY, SELF_TRADE
from ..clock import US_PER_S, to_us
from ..guardrails import allowance
from ..market import (CANDLE_MINUTES_KEPT, MINUTE_US, TRADES_KEPT, AgentFill, Candle, OrderClosed, OrderInfo, Trade,
                      load_schedule_and_tape, unbooked_lots)
from .l2book import ASK, BID, L2Book
from .queue import FILL_BELOW, QueuePosition
from .data import KIND_LEVEL, ReplayData

_NEW = 0
_CANCEL = 1


def _us(t) -> int:
    return t if isinstance(t, int) else to_us(t)


class AgentOrders:
    """Agents' resting orders on a replayed market, with the margin bookkeeping ``orders.py`` reads
    (``owned``, ``owned_sides``, ``owned_orders``): the part of ``OrderBook``'s interface the rest of pf-mock uses."""

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.queues: dict[int, QueuePosition] = {}
        self.at: dict[tuple[bool, int], list[int]] = {}     # (is_buy, price) -> order ids, in arrival order
        self._owned: dict[object, list[int]] = {}
        self._total = 0

    def owned(self, owner) -> tuple[int, int]:
        found = self._owned.get(owner)
        return (found[0], found[1]) if found is not None else (0, 0)

    def owned_sides(self, owner) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((lots, price units x lots) of the bids, the same of the asks)``, as ``OrderBook.owned_sides``."""
        found = self._owned.get(owner)
        if found is None:
            return (0, 0), (0, 0)
        return (found[2], found[3]), (found[4], found[1] - found[3])

    @property
    def owned_orders(self) -> int:
        return self._total

    def _own(self, owner, is_buy: bool, count: int, price: int, lots: int) -> None:
        found = self._owned.setdefault(owner, [0, 0, 0, 0, 0])     # orders, units x lots, bid lots, bid units x lots, ask lots
        found[0] += count
        found[1] += price * lots
        if is_buy:
            found[2] += lots
            found[3] += price * lots
        else:
            found[4] += lots
        self._total += count
        if not found[0]:
            del self._owned[owner]

    def add(self, order: Order, ahead: float) -> None:
        self.orders[order.order_id] = order
        self.queues[order.order_id] = QueuePosition(ahead)
        self.at.setdefault((order.is_buy, order.price), []).append(order.order_id)
        self._own(order.owner, order.is_buy, 1, order.price, order.qty)

    def remove(self, order: Order) -> None:
        if self.orders.pop(order.order_id, None) is None:
            return
        del self.queues[order.order_id]
        key = (order.is_buy, order.price)
        ids = self.at[key]
        ids.remove(order.order_id)
        if not ids:
            del self.at[key]
        order.live = False
        self._own(order.owner, order.is_buy, -1, order.price, -order.qty)

    def reduce(self, order: Order, lots: int) -> None:
        order.qty -= lots
        self._own(order.owner, order.is_buy, 0, order.price, -lots)


class ReplayMarket:
    synthetic = False

    def __init__(self, spec: MarketSpec, source, start) -> None:
        """``source``: the ``source.ReplaySource`` that holds the data and the models."""
        data: ReplayData = source.data
        self.spec = spec
        self.symbol = spec.symbol
        self.source = source
        self.data = data
        self.grid = data.grid
        self.queue_model = source.queue
        self.latency = source.latency
        self.partial_fills = source.partial_fills
        self.news: list[AgentFill | OrderClosed] = []      # what agents' orders did, until taken (take_news)
        self._limits = None                                # the inventory limits the command handed down
        self.house = L2Book()
        self.house.load(data.snapshot_bids, data.snapshot_asks)
        self.taken: dict[tuple[bool, int], int] = {}      # (bid side?, price) -> lots agents took
        self.book = AgentOrders()
        self.agent_orders: dict[int, OrderInfo] = {}
        self._cancelling: dict[int, OrderInfo] = {}        # cancels on their way: the order may still fill
        self._pending: list = []                          # (arrival µs, seq, kind, payload)
        self._pending_seq = 0
        self._schedule: list = []
        self._schedule_seq = 0
        self._order_seq = 0
        self._fill_seq = 0
        self._group = 0                                   # next group of recorded events
        self._next_i = 0                                  # next recorded event
        self.watchers = 0
        self.active = False
        self.trades: deque[Trade] = deque(maxlen=TRADES_KEPT)
        self.trades_printed = 0
        self.candles: deque[Candle] = deque(maxlen=CANDLE_MINUTES_KEPT)
        self.events_processed = 0
        self.regime = spec.regime          # the catalog's synthetic parameters, shown for reference only
        start_us = _us(start)
        self.started_us = start_us
        self.now_us = data.start_us
        self._quiet_to(max(start_us, data.start_us))
        self.now_us = start_us

    # ---- reading ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.now_us / US_PER_S

    @property
    def started_at(self) -> float:
        return self.started_us / US_PER_S

    @property
    def live(self) -> bool:
        return not self.is_quiet()

    @property
    def halted_at(self) -> float | None:
        """The recording's end (seconds) once the market has reached it, else None."""
        return self.data.end_us / US_PER_S if self.now_us >= self.data.end_us and self._exhausted() else None

    @property
    def ends_at(self) -> float:
        return self.data.end_us / US_PER_S

    def _exhausted(self) -> bool:
        return self._group >= len(self.data.group_ends)

    def mark_units(self, t=None) -> int:
        """The recorded mid (floored to a price unit) at ``t`` (default now)."""
        return self.data.mid_at(self.now_us if t is None else _us(t))

    @property
    def mark(self) -> float:
        return self.grid.to_price(self.mark_units())

    def mark_at(self, t) -> float:
        return self.grid.to_price(self.mark_units(t))

    def fair_at(self, t) -> float:
        return self.mark_at(t)

    def fair_samples(self, t0, t1) -> list[tuple[float, float]]:
        return [(t / US_PER_S, self.grid.to_price(u)) for t, u in self.data.mid_changes(_us(t0), _us(t1))]

    def _visible(self, is_bid: bool, price: int) -> int:
        size = (self.house.bids if is_bid else self.house.asks).get(price, 0)
        if size and self.taken:
            size -= self.taken.get((is_bid, price), 0)
        return size

    def _best(self, is_bid: bool) -> int | None:
        best = self.house.best_bid() if is_bid else self.house.best_ask()
        if best is None or not self.taken or self._visible(is_bid, best) > 0:
            return best
        for price in self.house.prices(BID if is_bid else ASK):
            if self._visible(is_bid, price) > 0:
                return price
        return None

    def best_bid(self) -> int | None:
        """The best bid of the book: recorded levels (less what agents took) and agents' resting bids."""
        best = self._best(True)
        own = max((p for (b, p) in self.book.at if b), default=None)
        return own if best is None or (own is not None and own > best) else best

    def best_ask(self) -> int | None:
        best = self._best(False)
        own = min((p for (b, p) in self.book.at if not b), default=None)
        return own if best is None or (own is not None and own < best) else best

    @property
    def mid(self) -> float:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return self.mark
        return (bid + ask) / 2 / self.grid.price_scale

    def depth(self, is_buy: bool, levels: int) -> list[tuple[int, int]]:
        """Up to ``levels`` (price, lots), best first: the recorded book (less what agents took) plus the
        agents' resting orders."""
        if levels <= 0:
            return []
        found: dict[int, int] = {}
        for price in self.house.prices(BID if is_buy else ASK):
            if len(found) >= levels:
                break
            size = self._visible(is_buy, price)
            if size > 0:
                found[price] = size
        orders = self.book.orders
        for (b, price), ids in self.book.at.items():
            if b == is_buy:
                found[price] = found.get(price, 0) + sum(orders[i].qty for i in ids)
        return sorted(found.items(), reverse=is_buy)[:levels]

    def would_cross(self, is_buy: bool, price: int) -> bool:
        best = self._best(not is_buy)
        if best is None:
            return False
        return best <= price if is_buy else best >= price

    def best_excluding(self, owner) -> tuple[int | None, int | None]:
        """Best bid and ask without ``owner``'s orders (other agents' included)."""
        bid, ask = self._best(True), self._best(False)
        for (is_buy, price), ids in self.book.at.items():
            if any(self.book.orders[i].owner != owner for i in ids):
                if is_buy and (bid is None or price > bid):
                    bid = price
                if not is_buy and (ask is None or price < ask):
                    ask = price
        return bid, ask

    def trades_since(self, printed: int) -> tuple[list[Trade], bool]:
        new = self.trades_printed - printed
        if new <= 0:
            return [], False
        kept = min(new, len(self.trades))
        return list(self.trades)[-kept:], kept < new

    def open_orders(self, owner) -> list[OrderInfo]:
        return [info for info in self.agent_orders.values() if info.owner == owner]

    def tape(self) -> tuple[list[Trade], list[Candle]]:
        return list(self.trades), list(self.candles)

    def is_quiet(self) -> bool:
        return not self.book.orders and not self.watchers and not self._pending and not self.agent_orders

    # ---- time ---------------------------------------------------------------------------------
    def schedule(self, when, action: Callable) -> None:
        self._schedule_seq += 1
        self.active = True
        heapq.heappush(self._schedule, (max(_us(when), self.now_us), self._schedule_seq, action))

    def _next_recorded_us(self) -> int | None:
        if self._exhausted():
            return None
        return self.data.times[self._next_i]

    def _drop_steps_after_end(self) -> None:
        """A recording's market runs no scheduled step after its end: a session's auto-refresh there would
        only re-post orders the halted market refuses."""
        schedule = self._schedule
        if schedule and schedule[0][0] > self.data.end_us:
            schedule.clear()            # the heap's top is its earliest step: all of them are past the end

    def next_event_us(self) -> int | None:
        self._drop_steps_after_end()
        candidates = []
        if self._schedule:
            candidates.append(self._schedule[0][0])
        if self._pending:
            candidates.append(self._pending[0][0])
        if not self.is_quiet():
            recorded = self._next_recorded_us()
            if recorded is not None:
                candidates.append(recorded)
        return min(candidates) if candidates else None

    def advance_to(self, t) -> None:
        target = _us(t)
        while self.step_until(target) is not None:
            pass
        self.stand_at(target)

    def stand_at(self, target: int) -> None:
        """Move to ``target`` (µs), with no event of the market's left at or before it."""
        if target > self.now_us:
            self.now_us = target

    def take_news(self) -> list:
        """What agents' orders did since it was last taken (fills and closes, in order); the taker books it."""
        news, self.news = self.news, []
        return news

    def step_until(self, target: int, limits=None) -> bool | None:
        before, self._limits = self._limits, limits
        try:
            return self._next_event(target)
        finally:
            self._limits = before

    def _next_event(self, target: int) -> bool | None:
        """Process the next event at or before ``target`` (recorded instants first at a shared time, then
        orders arriving, then scheduled steps): None when there is none, else whether the agents'
        guardrails and statistics should look at the market now (a recorded instant that changed nothing
        an agent sees is not worth a look)."""
        self._drop_steps_after_end()
        if self.is_quiet():
            scheduled = self._schedule[0][0] if self._schedule else None
            upto = target if scheduled is None else min(target, scheduled)
            self._quiet_to(upto)
            if scheduled is not None and scheduled <= target:
                when, _, action = heapq.heappop(self._schedule)
                self.now_us = max(self.now_us, when)
                action(self)
                return True
            return None
        recorded = self._next_recorded_us()
        pending = self._pending[0][0] if self._pending else None
        scheduled = self._schedule[0][0] if self._schedule else None
        first = min(t for t in (recorded, pending, scheduled, target + 1) if t is not None)
        if first > target:
            return None
        if recorded == first:
            return self._apply_group(notify=True)
        if pending == first:
            when, _, kind, payload = heapq.heappop(self._pending)
            self.now_us = max(self.now_us, when)
            self._arrive(kind, payload)
        else:
            when, _, action = heapq.heappop(self._schedule)
            self.now_us = max(self.now_us, when)
            action(self)
        return True

    def _quiet_to(self, target: int) -> None:
        """Apply the recorded events up to ``target`` in bulk: nobody is in the market to hear them."""
        data = self.data
        ends = data.group_ends
        times = data.times
        while self._group < len(ends) and times[self._next_i] <= target:
            self._apply_group(notify=False)
        if target > self.now_us:
            self.now_us = target

    def _apply_group(self, notify: bool) -> bool:
        data = self.data
        i = self._next_i
        end = data.group_ends[self._group]
        self._group += 1
        self._next_i = end
        t = data.times[i]
        if t > self.now_us:
            self.now_us = t
        self.events_processed += 1
        kinds, sides, prices, sizes = data.kinds, data.sides, data.prices, data.sizes
        house = self.house
        at = self.book.at
        taken = self.taken
        before_top = (house.best_bid(), house.best_ask()) if notify else None
        printed = False
        filled = False
        while i < end:
            price, size, side = prices[i], sizes[i], sides[i]
            if kinds[i] == KIND_LEVEL:
                old = house.set(BID if side else ASK, price, size)
                if taken:
                    taken.pop((side, price), None)
                if at:
                    ids = at.get((side, price))
                    if ids:
                        model = self.queue_model
                        for oid in ids:
                            model.on_level_change(self.book.queues[oid], old, size)
            else:
                self._record(price, size, side, t)
                printed = True
                if at:
                    filled |= self._recorded_trade(side, price, size)
            i += 1
        if at:
            filled |= self._crossed_fills()
        return notify and (printed or filled or before_top != (house.best_bid(), house.best_ask()))

    # ---- fills from the recording ---------------------------------------------------------------
    def _recorded_trade(self, taker_buys: bool, price: int, lots: int) -> bool:
        """A recorded trade: agents' orders on the maker side at or better than its price."""
        is_buy = not taker_buys            # the agents' side that a taker of this side meets
        keys = [key for key in self.book.at if key[0] == is_buy
                and (key[1] >= price if is_buy else key[1] <= price)]
        if not keys:
            return False
        keys.sort(key=lambda k: -k[1] if is_buy else k[1])
        filled = False
        model = self.queue_model
        for key in keys:
            ids = list(self.book.at.get(key, ()))
            if key[1] != price:                        # the trade went through this price
                for oid in ids:
                    order = self.book.orders.get(oid)
                    if order is not None:
                        filled |= self._fill_maker(order, order.qty)
                continue
            shared = 0                                  # what earlier agent orders here took of the trade
            for oid in ids:
                order = self.book.orders.get(oid)
                if order is None:
                    continue
                pos = self.book.queues[oid]
                model.on_trade(pos, lots)
                if pos.ahead < FILL_BELOW:
                    reach = int(-pos.ahead + 0.5) - shared
                    if reach <= 0:
                        continue
                    take = order.qty if not self.partial_fills else min(order.qty, reach)
                    shared += take
                    pos.ahead = 0.0
                    filled |= self._fill_maker(order, take)
        return filled

    def _crossed_fills(self) -> bool:
        """Agents' orders the recorded book has moved through (rule 4)."""
        bid, ask = self._best(True), self._best(False)
        hit = [oid for (is_buy, price), ids in self.book.at.items()
               if (is_buy and ask is not None and price >= ask) or (not is_buy and bid is not None and price <= bid)
               for oid in ids]
        filled = False
        for oid in sorted(hit):
            order = self.book.orders.get(oid)
            if order is not None:
                filled |= self._fill_maker(order, order.qty)
        return filled

    def _fill_maker(self, order: Order, lots: int) -> bool:
        allowed = lots
        if self._limits and order.owner in self._limits:
            room = allowance({order.owner: self._limits[order.owner]}, unbooked_lots(self.news), self.grid.lot_scale,
                             self.mark, order.is_buy)
            allowed = min(lots, room[order.owner])
        if allowed <= 0:
            self._drop(order, MAX_INVENTORY)
            return False
        self.book.reduce(order, allowed)
        done = order.qty == 0
        info = self.agent_orders.get(order.order_id) or self._cancelling.get(order.order_id)
        if done:
            self.book.remove(order)
            self.agent_orders.pop(order.order_id, None)
        self._report(order.order_id, order.owner, order.is_buy, order.price, allowed, True,
                     info.tag if info is not None else "quote")
        if done:
            self._cancelling.pop(order.order_id, None)
            self._closed(info, order, FILLED, None)
        elif allowed < lots:
            self._drop(order, MAX_INVENTORY)
        return True

    def _drop(self, order: Order, reason: str) -> None:
        self.book.remove(order)
        info = self.agent_orders.pop(order.order_id, None) or self._cancelling.pop(order.order_id, None)
        self._closed(info, order, CANCELLED, reason)

    def _report(self, order_id: int, owner, is_buy: bool, price: int, lots: int, maker: bool, tag: str) -> None:
        self._fill_seq += 1
        self.news.append(AgentFill(self._fill_seq, order_id, owner, is_buy, price, lots, maker,
                                              self.mark, self.now, tag))

    # ---- commands -----------------------------------------------------------------------------
    def next_order_id(self) -> int:
        self._order_seq += 1
        return self._order_seq

    def place(self, owner, is_buy: bool, price: int | None, lots: int, tif: str = GTC,
              tag: str = "quote", limits=None) -> tuple[int, Result]:
        """An agent's order at ``now``: a market order (``price=None``) takes the book at once; a limit
        order reaches the book after the latency (at once when it is 0)."""
        self.active = True
        order_id = self.next_order_id()
        result = Result()
        if self.halted_at is not None:
            result.refused = True
            result.unfilled = lots
            return order_id, result
        if price is None:
            self._take(order_id, owner, is_buy, None, lots, tag, result)
            result.unfilled = lots - result.filled
            return order_id, result
        order = new_order(order_id, owner, is_buy, price, lots)
        info = OrderInfo(order, owner, tif, self.now, tag)
        arrive = self.latency.entry_us(self.now_us)
        if arrive <= self.now_us:
            self._enter(order, info, result)
        else:
            self.agent_orders[order_id] = info
            result.resting = order
            self._push(arrive, _NEW, (order, info))
        return order_id, result

    def cancel(self, order_id: int, reason: str = CLIENT) -> Order | None:
        info = self.agent_orders.pop(order_id, None)
        if info is None:
            return None
        arrive = self.latency.entry_us(self.now_us)
        if arrive <= self.now_us:
            self._cancel_now(info, reason)
        else:
            self._cancelling[order_id] = info
            self._push(arrive, _CANCEL, (info, reason))
        return info.order

    def cancel_all(self, owner, reason: str, is_buy: bool | None = None) -> list[Order]:
        out = []
        for info in self.open_orders(owner):
            if is_buy is None or info.order.is_buy == is_buy:
                order = self.cancel(info.order.order_id, reason)
                if order is not None:
                    out.append(order)
        return out

    def jump(self, move_bps: float, limits=None) -> None:
        from ..errors import ApiError
        raise ApiError(409, "market_replayed", f"{self.symbol} replays a recording: its price cannot be moved.")

    def set_regime(self, regime, limits=None) -> None:
        from ..errors import ApiError
        raise ApiError(409, "market_replayed", f"{self.symbol} replays a recording: it has no regime to change.")

    # ---- orders reaching the book -----------------------------------------------------------------
    def _push(self, when: int, kind: int, payload) -> None:
        self._pending_seq += 1
        heapq.heappush(self._pending, (when, self._pending_seq, kind, payload))

    def _arrive(self, kind: int, payload) -> None:
        if kind == _NEW:
            order, info = payload
            listed = self.agent_orders.pop(order.order_id, None) is info
            if not listed and self._cancelling.get(order.order_id) is not info:
                return
            # an order whose cancel is on its way still reaches the book, until the cancel does
            self._enter(order, info, Result(), listed)
        else:
            info, reason = payload
            self._cancelling.pop(info.order.order_id, None)
            self._cancel_now(info, reason)

    def _cancel_now(self, info: OrderInfo, reason: str) -> None:
        order = info.order
        if order.order_id in self.book.orders:
            self.book.remove(order)
            self._closed(info, order, CANCELLED, reason)
        elif order.live and order.qty:
            # never reached the book: cancelled on its way (its arrival finds it gone)
            order.live = False
            self._closed(info, order, CANCELLED, reason)

    def _enter(self, order: Order, info: OrderInfo, result: Result, listed: bool = True) -> None:
        """A limit order reaches the book: it takes what it crosses (rule 5), then rests (rule 1)."""
        lots = order.size
        crosses = self.would_cross(order.is_buy, order.price)
        if crosses and info.tif == ALO:
            order.live = False
            result.refused = True
            self._closed(info, order, EXPIRED, None)
            return
        if crosses:
            self._take(order.order_id, order.owner, order.is_buy, order.price, lots, info.tag, result)
            order.qty = lots - result.filled
        if order.qty <= 0:
            order.live = False
            if info.tag == "quote":
                self._closed(info, order, FILLED, None)
            return
        if info.tif == IOC:
            order.live = False
            result.unfilled = order.qty
            if info.tag == "quote":
                self._closed(info, order, EXPIRED, IOC_REMAINDER)
            return
        ahead = self._visible(order.is_buy, order.price)
        self.book.add(order, max(ahead, 0))
        if listed:
            self.agent_orders[order.order_id] = info
        result.resting = order

    def _take(self, order_id: int, owner, is_buy: bool, limit: int | None, lots: int, tag: str,
              result: Result) -> None:
        """Walk the recorded book from the best level, up to ``limit``; print one trade per price."""
        side = ASK if is_buy else BID
        levels = self.house.asks if is_buy else self.house.bids
        remaining = lots
        took: list[tuple[int, int]] = []
        for price in self.house.prices(side):
            if remaining <= 0 or (limit is not None and (price > limit if is_buy else price < limit)):
                break
            key = (not is_buy, price)
            available = levels[price] - self.taken.get(key, 0)
            if available <= 0:
                continue
            # self-trade prevention: the agent's own resting orders on the other side at this price
            for oid in list(self.book.at.get(key, ())):
                mine = self.book.orders[oid]
                if mine.owner == owner:
                    if not result.self_trade_cancels:
                        result.self_trade_cancels = []
                    result.self_trade_cancels.append(mine)
                    self._drop(mine, SELF_TRADE)
            take = min(available, remaining)
            self.taken[key] = self.taken.get(key, 0) + take
            remaining -= take
            took.append((price, take))
        if took and not isinstance(result.fills, list):
            result.fills = []           # Result's default is an empty tuple, made a list when something fills
        for price, take in took:
            self._record(price, take, is_buy, self.now_us)
            result.fills.append(_TakerFill(price, take))
            self._report(order_id, owner, is_buy, price, take, False, tag)

    # ---- tape -----------------------------------------------------------------------------------
    def _record(self, price: int, lots: int, taker_is_buy: bool, now: int) -> None:
        self.trades.append(Trade(price, lots, taker_is_buy, now))
        self.trades_printed += 1
        minute = now // MINUTE_US
        volume = self.grid.notional(price, lots)
        candle = self.candles[-1] if self.candles else None
        if candle is not None and candle.minute == minute:
            if price > candle.high:
                candle.high = price
            if price < candle.low:
                candle.low = price
            candle.close = price
            candle.volume += volume
        else:
            self.candles.append(Candle(minute, price, price, price, price, volume))

    def _closed(self, info: OrderInfo | None, order: Order, status: str, reason: str | None) -> None:
        if info is None:
            return
        self.news.append(OrderClosed(order.order_id, order.owner, order.is_buy, order.price, order.size,
                                         order.qty, info.tif, info.created_at, self.now, status, reason))

    # ---- state (for snapshots) ---------------------------------------------------------------------
    def state(self) -> dict:
        """Everything that makes this market what it is now, as plain data (the snapshot document's
        ``replay`` market entry): which recording it replays and with which models, where it is in it, the
        recorded book, what agents took, agents' resting orders with their queue places, orders and
        cancels on their way, the scheduled steps (sessions' refresh loops), the tape and the counters."""
        def order_row(order: Order, info: OrderInfo | None):
            return [order.order_id, order.owner, order.is_buy, order.price, order.qty, order.size,
                    None if info is None else [info.tif, info.created_at, info.tag]]
        infos = {**self._cancelling, **self.agent_orders}
        return {
            "source": "replay", "symbol": self.symbol, "recording": self.source.identity(),
            "now_us": self.now_us, "started_us": self.started_us,
            "group": self._group, "next_i": self._next_i,
            "house": [list(map(list, side)) for side in self.house.copy_state()],
            "taken": [[b, p, lots] for (b, p), lots in sorted(self.taken.items())],
            "resting": [order_row(o, infos.get(oid)) + [list(self.book.queues[oid].state())]
                        for oid, o in self.book.orders.items()],
            "open": [order_row(info.order, info) for oid, info in infos.items() if oid not in self.book.orders],
            "cancelling": [[oid, info.order.order_id] for oid, info in self._cancelling.items()],
            "listed": list(self.agent_orders),
            "pending": [[when, seq, kind, payload[0].order.order_id if kind == _CANCEL else payload[0].order_id,
                         payload[1] if kind == _CANCEL else None]
                        for when, seq, kind, payload in sorted(self._pending, key=lambda e: e[:2])],
            "schedule": [[when, seq, action.state()] for when, seq, action in sorted(self._schedule,
                                                                                      key=lambda e: e[:2])],
            "schedule_seq": self._schedule_seq,
            "active": self.active,
            "trades": [[t.price, t.lots, t.taker_is_buy, t.time_us] for t in self.trades],
            "trades_printed": self.trades_printed,
            "candles": [[c.minute, c.open, c.high, c.low, c.close, c.volume] for c in self.candles],
            "counters": [self._order_seq, self._fill_seq, self._pending_seq, self.events_processed],
        }

    @classmethod
    def from_state(cls, spec: MarketSpec, source, start_us: int, state: dict, make_action,
                   where: str = "market") -> "ReplayMarket":
        """The market ``state`` (from ``state()``) describes, made afresh from ``source`` (which must be the
        recording and models the state names). ``make_action(market, dict, where)`` makes a scheduled step.
        Every value is checked against the recording and the others; raises ``InvalidState`` (the field and
        the rule) and touches nothing outside the new market."""
        from ..errors import InvalidState

        def bad(at: str, rule: str):
            return InvalidState(f"{where}.{at}" if at else where, rule)

        ident = source.identity()
        for key in ("digest", "venue", "symbol", "queue", "latency_us", "partial_fills"):
            if state["recording"][key] != ident[key]:
                raise bad(f"recording.{key}", f"must be the recording this server replays for {spec.symbol} "
                                              f"({key} {ident[key]!r}): start it with the same --replay "
                                              f"recording and options")
        if state["symbol"] != spec.symbol:
            raise bad("symbol", "a state of another market")
        data: ReplayData = source.data
        now = state["now_us"]
        if state["started_us"] != start_us:
            raise bad("started_us", "must be the exchange's start (started_us)")
        if now < start_us:
            raise bad("now_us", "must not be before the exchange's start")
        market = cls(spec, source, start_us)
        market.now_us, market.started_us = now, start_us
        # The place in the recording: group ``g`` is applied, the next one is not, and the time says so.
        group, next_i, ends, times = state["group"], state["next_i"], data.group_ends, data.times
        if group > len(ends):
            raise bad("group", f"must be at most the recording's {len(ends)} groups of events")
        if next_i != (ends[group - 1] if group else 0):
            raise bad("next_i", "must be the first event of the next group (group_ends[group - 1])")
        if group and times[next_i - 1] > now:
            raise bad("group", "the events applied must not lie after the market's now")
        if group < len(ends) and times[next_i] <= now:
            raise bad("group", "every recorded event at or before the market's now must be applied")
        market._group, market._next_i = group, next_i
        # The recorded book at that place.
        bids, asks = state["house"]
        for i, levels in enumerate((bids, asks)):
            if len({p for p, _ in levels}) != len(levels):
                raise bad(f"house.{i}", "each price once")
        best_bid = max((p for p, _ in bids), default=None)
        best_ask = min((p for p, _ in asks), default=None)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            raise bad("house", "the recorded book is never crossed: best bid below best ask")
        market.house.load(bids, asks)
        sides = ({p: s for p, s in asks}, {p: s for p, s in bids})       # by "bid side?"
        taken = {}
        for i, (is_bid, price, lots) in enumerate(state["taken"]):
            if (is_bid, price) in taken or lots > sides[is_bid].get(price, 0):
                raise bad(f"taken.{i}", "each level once, and no more than the recorded level holds")
            taken[(is_bid, price)] = lots
        market.taken = taken
        # Agents' orders: resting (in the recorded queue), open but on their way, cancels on their way.
        order_seq, fill_seq, pending_seq, events = state["counters"]
        by_id: dict[int, OrderInfo] = {}
        orders: dict[int, Order] = {}
        resting = []
        for name in ("resting", "open"):
            for i, row in enumerate(state[name]):
                oid, owner, is_buy, price, qty, size, meta = row[:7]
                if oid in orders or oid > order_seq:
                    raise bad(f"{name}.{i}.0", "order ids unique and at most the order counter (counters.0)")
                if qty > size:
                    raise bad(f"{name}.{i}.4", "lots left must not exceed the order's lots")
                if meta is None and name == "open":
                    raise bad(f"{name}.{i}.6", "an order on its way has its details")
                if meta is not None and meta[1] > now / US_PER_S:
                    raise bad(f"{name}.{i}.6.1", "must not be after the market's now")
                order = orders[oid] = new_order(oid, owner, is_buy, price, qty)
                order.size = size
                if meta is not None:
                    by_id[oid] = OrderInfo(order, owner, meta[0], meta[1], meta[2])
                if name == "resting":
                    resting.append((order, row[7]))
        for order, queue in resting:
            market.book.add(order, 0)
            market.book.queues[order.order_id] = QueuePosition.from_state(queue)
        cancelling = set()
        for i, (oid, same) in enumerate(state["cancelling"]):
            if oid != same or oid not in by_id or oid in cancelling:
                raise bad(f"cancelling.{i}", "must name, once, an agent's order ([id, id])")
            cancelling.add(oid)
        for oid, _ in state["cancelling"]:         # in the order they were cancelled
            market._cancelling[oid] = by_id[oid]
        listed = state["listed"]
        if len(set(listed)) != len(listed) or set(listed) != set(by_id) - cancelling:
            raise bad("listed", "must list, once each, every agent's order with its details that is not being "
                                "cancelled")
        for oid in listed:
            market.agent_orders[oid] = by_id[oid]
        keys, arriving = set(), set()
        for i, (when, seq, kind, oid, reason) in enumerate(state["pending"]):
            if (when, seq) in keys or seq > pending_seq or when < now:
                raise bad(f"pending.{i}", "(time, sequence) unique, sequence at most counters.2, times not "
                                          "before the market's now")
            keys.add((when, seq))
            info = by_id.get(oid)
            if info is None:
                raise bad(f"pending.{i}.3", "must name an agent's order")
            if kind == _NEW:
                if oid in market.book.orders or oid in arriving or reason is not None:
                    raise bad(f"pending.{i}", "an order arrives once, only if it is not resting yet, with no "
                                              "reason")
                arriving.add(oid)
                payload = (info.order, info)
            else:
                if oid not in cancelling or reason is None:
                    raise bad(f"pending.{i}", "a cancel on its way names an order being cancelled and a reason")
                payload = (info, reason)
            market._pending.append((when, seq, kind, payload))
        heapq.heapify(market._pending)
        for i, row in enumerate(state["open"]):
            if row[0] not in arriving:
                raise bad(f"open.{i}", "an order not resting must be on its way (in pending)")
        market.active = state["active"]
        load_schedule_and_tape(market, state, now, make_action, where, bad)
        market._order_seq, market._fill_seq, market._pending_seq, market.events_processed = order_seq, fill_seq, \
            pending_seq, events
        return market

    def restore(self, state: dict) -> None:
        """Put the market back in ``state`` (from ``state()``, on a market made from the same source);
        scheduled steps are left as they are (their owners re-arm them). For a checked restore with the
        schedule, see ``from_state``."""
        if state["symbol"] != self.symbol:
            raise ValueError("a state of another market")
        self.now_us, self.started_us = state["now_us"], state["started_us"]
        self._group, self._next_i = state["group"], state["next_i"]
        bids, asks = state["house"]
        self.house.load(bids, asks)
        self.taken = {(b, p): lots for b, p, lots in state["taken"]}
        self.book = AgentOrders()
        self.agent_orders, self._cancelling = {}, {}
        by_id: dict[int, OrderInfo] = {}

        def make(row):
            oid, owner, is_buy, price, qty, size, meta = row[:7]
            order = new_order(oid, owner, is_buy, price, qty)
            order.size = size
            info = OrderInfo(order, owner, meta[0], meta[1], meta[2]) if meta is not None else None
            if info is not None:
                by_id[oid] = info
            return order, info

        for row in state["resting"]:
            order, info = make(row)
            self.book.add(order, 0)
            self.book.queues[order.order_id] = QueuePosition.from_state(row[7])
        for row in state["open"]:
            make(row)
        for oid, _ in state["cancelling"]:
            self._cancelling[oid] = by_id[oid]
        for oid in state["listed"]:
            self.agent_orders[oid] = by_id[oid]
        self._pending = []
        for when, seq, kind, oid, reason in state["pending"]:
            info = by_id[oid]
            payload = (info, reason) if kind == _CANCEL else (info.order, info)
            self._pending.append((when, seq, kind, payload))
        heapq.heapify(self._pending)
        self.trades = deque((Trade(*row) for row in state["trades"]), maxlen=TRADES_KEPT)
        self.trades_printed = state["trades_printed"]
        self.candles = deque((Candle(*row) for row in state["candles"]), maxlen=CANDLE_MINUTES_KEPT)
        self._order_seq, self._fill_seq, self._pending_seq, self.events_processed = state["counters"]
        self.active = state["active"]


class _TakerFill:
    """One level an agent's marketable order took (what ``Result.fills`` lists)."""

    __slots__ = ("price", "qty")

    def __init__(self, price: int, qty: int) -> None:
        self.price = price
        self.qty = qty
