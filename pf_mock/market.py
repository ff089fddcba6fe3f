"""One simulated market: its book, its house liquidity, its takers and its lazy event loop.

Nothing here runs on a timer. ``advance_to(t)`` processes, in time order, every event up to ``t``:
the market's own stream (house re-centring, takers) and whatever was scheduled on it (refresh loops,
scenario steps). A market that nobody has orders in is skipped over in whole minutes (see
``PricePath.skip_to``), keeping only the last ``DETAIL_WINDOW_S`` seconds event by event, so that an
idle market costs next to nothing however long it sleeps.

Three generators, each seeded from (server seed, symbol, stream), keep the market's own randomness
apart from anything agents do: ``price`` drives event times and the mid, ``takers`` the taker
orders, ``liquidity`` the house's level sizes. The mid path and the taker stream are therefore the
same whatever agents do; only who gets filled changes.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import random
from collections import deque
from dataclasses import dataclass
from typing import Callable, Protocol

from .book import GTC, IOC, Fill, Order, OrderBook, Result
from .catalog import MarketSpec
from .grid import Grid
from .liquidity import BackgroundLiquidity
from .model import PricePath, Regime, taker_size_usd

DETAIL_WINDOW_S = 60.0          # an idle market is simulated event by event for this last stretch
TAKER_REACH_SPREADS = 9.0       # a taker accepts prices up to this many spreads beyond the mid (was 6:
                                # a large taker may now sweep ~9 bps into a 1 bp market, so quotes 10 bps
                                # out fill now and then; majors' 28-level ladder always reaches beyond it)
CANDLE_MINUTES_KEPT = 3 * 24 * 60
TRADES_KEPT = 500


def stream_seed(seed: int, symbol: str, stream: str) -> int:
    """A stable 64-bit seed for one of a market's generators (Python's hash() is salted per run)."""
    digest = hashlib.sha256(f"{seed}:{symbol.upper()}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(slots=True)
class AgentFill:
    """One agent's side of a fill, as the market saw it."""

    seq: int
    order_id: int
    owner: object
    is_buy: bool
    price: int          # price units
    lots: int
    maker: bool
    mid: float
    time: float
    kind: str = "quote"     # the tag of the agent's order that filled: "quote", "hedge", "auto_hedge"


@dataclass(slots=True)
class OrderInfo:
    order: Order
    owner: object
    tif: str
    created_at: float
    tag: str = "quote"


@dataclass(slots=True)
class Trade:
    price: int
    lots: int
    taker_is_buy: bool
    time: float


class MarketObserver(Protocol):
    """What the exchange hears from a market, at the simulated instant things happen."""

    def allow_fill(self, market: "Market", maker: Order, lots: int) -> int: ...
    def on_fill(self, market: "Market", fill: AgentFill) -> None: ...
    def after_event(self, market: "Market") -> None: ...


@dataclass
class Candle:
    minute: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class Market:
    def __init__(self, spec: MarketSpec, seed: int, start: float,
                 observer: MarketObserver | None = None, regime: Regime | None = None):
        self.spec = spec
        self.symbol = spec.symbol
        self.grid = Grid(spec.sz_decimals)
        self.book = OrderBook()
        self.observer = observer
        self.now = start
        self.started_at = start
        self.regime = regime or spec.regime
        self.path = PricePath(random.Random(stream_seed(seed, spec.symbol, "price")), start,
                              spec.initial_mid, self.regime)
        self._takers = random.Random(stream_seed(seed, spec.symbol, "takers"))
        self.house = BackgroundLiquidity(self.grid, random.Random(stream_seed(seed, spec.symbol, "liquidity")))
        self._order_seq = 0
        self._fill_seq = 0
        self._schedule: list[tuple[float, int, Callable[["Market"], None]]] = []
        self._schedule_seq = 0
        self.agent_orders: dict[int, OrderInfo] = {}
        self._taking: dict[int, str] = {}  # order id -> tag of an agent's order while it takes liquidity
        self.watchers = 0                  # sessions whose guardrails must see every event
        self.trades: deque[Trade] = deque(maxlen=TRADES_KEPT)
        self.trades_printed = 0            # every trade ever printed: readers find the new ones by count
        self.candles: deque[Candle] = deque(maxlen=CANDLE_MINUTES_KEPT)
        self.mid_times: list[float] = [start]
        self.mid_values: list[float] = [self.path.mid]
        self.events_processed = 0
        self.minutes_skipped = 0
        self.book.on_fill = self._on_book_fill
        self.book.guard = self._guard
        self._record_mid(start, self.path.mid)
        self._recentre()

    # ---- reading ------------------------------------------------------------------------------
    @property
    def mid(self) -> float:
        return self.path.mid

    def mid_at(self, t: float) -> float:
        """The mid in force at time ``t`` (the last sample at or before it)."""
        i = bisect.bisect_right(self.mid_times, t) - 1
        return self.mid_values[max(i, 0)]

    def best_bid(self) -> int | None:
        return self.book.best_bid()

    def best_ask(self) -> int | None:
        return self.book.best_ask()

    def best_excluding(self, owner) -> tuple[int | None, int | None]:
        """Best bid and ask of the book without ``owner``'s orders: the market's own spread."""
        def first(is_buy: bool) -> int | None:
            for order in self.book.iter_side(is_buy):
                if order.owner != owner:
                    return order.price
            return None
        return first(True), first(False)

    def trades_since(self, printed: int) -> tuple[list[Trade], bool]:
        """The trades printed after the first ``printed`` ones, oldest first, and whether some of them
        have already left the kept window (so the list is not all of them)."""
        new = self.trades_printed - printed
        if new <= 0:
            return [], False
        kept = min(new, len(self.trades))
        return list(self.trades)[-kept:], kept < new

    def open_orders(self, owner) -> list[OrderInfo]:
        self._prune_orders()
        return [info for info in self.agent_orders.values() if info.owner == owner]

    def is_quiet(self) -> bool:
        """True when nothing an agent owns or watches depends on this market's individual events."""
        return not self.book.owned_orders and not self.watchers and not self._schedule

    # ---- time ---------------------------------------------------------------------------------
    def schedule(self, when: float, action: Callable[["Market"], None]) -> None:
        self._schedule_seq += 1
        heapq.heappush(self._schedule, (max(when, self.now), self._schedule_seq, action))

    def advance_to(self, t: float) -> None:
        """Process every event up to and including time ``t``, in time order."""
        if t <= self.now:
            return
        if self.is_quiet() and t - self.now > DETAIL_WINDOW_S + 1.0:
            self._skip_to(t - DETAIL_WINDOW_S)
        schedule = self._schedule
        path = self.path
        while True:
            next_event = path.next_time()
            if schedule and schedule[0][0] <= next_event:
                if schedule[0][0] > t:
                    break
                when, _, action = heapq.heappop(schedule)
                self.now = when
                action(self)
                self._after_event()
                continue
            if next_event > t:
                break
            self._step()
        self.now = t

    # ---- commands -----------------------------------------------------------------------------
    def next_order_id(self) -> int:
        self._order_seq += 1
        return self._order_seq

    def place(self, owner, is_buy: bool, price: int | None, lots: int, tif: str = GTC,
              tag: str = "quote") -> tuple[int, Result]:
        """An agent's order, at ``self.now``. Fills are reported to the observer as they happen."""
        order_id = self.next_order_id()
        self._taking[order_id] = tag
        try:
            result = self.book.submit(order_id, owner, is_buy, price, lots, tif)
        finally:
            del self._taking[order_id]
        for trade in result.fills:
            self._print(trade)
        if result.resting is not None:
            result.resting.size = lots      # the order's size, not just what rested after it took liquidity
            self.agent_orders[order_id] = OrderInfo(result.resting, owner, tif, self.now, tag)
        if result.fills:
            self._recentre(post_only=True)  # the house refills behind an agent's sweep, so no side stays empty
        return order_id, result

    def cancel(self, order_id: int) -> Order | None:
        self.agent_orders.pop(order_id, None)
        return self.book.cancel(order_id)

    def cancel_all(self, owner, is_buy: bool | None = None) -> list[Order]:
        cancelled = []
        for info in self.open_orders(owner):
            if is_buy is None or info.order.is_buy == is_buy:
                order = self.cancel(info.order.order_id)
                if order is not None:
                    cancelled.append(order)
        return cancelled

    def jump(self, move_bps: float) -> None:
        """Move the mid at once; the house re-centres, picking off quotes the move ran through."""
        if move_bps <= -10_000:
            raise ValueError("a jump cannot take the price to zero or below")
        self.path.shift(math.log1p(move_bps / 1e4))
        self._record_mid(self.now, self.path.mid)
        self._recentre()
        self._after_event()

    def set_regime(self, regime: Regime) -> None:
        self.regime = regime
        self.path.set_regime(regime, self.now)
        self._recentre()
        self._after_event()

    # ---- internals ----------------------------------------------------------------------------
    def _step(self) -> None:
        event = self.path.pop()
        self.now = event.time
        self.events_processed += 1
        self._record_mid(event.time, self.path.mid)
        self._recentre()
        if event.is_taker:
            self._taker()
            self._recentre()    # fast makers refill what the taker swept, at the same instant
        self._after_event()

    def _after_event(self) -> None:
        if self.observer is not None:
            self.observer.after_event(self)

    def _skip_to(self, until: float) -> None:
        if self._schedule:
            until = min(until, self._schedule[0][0])
        if until <= self.now:
            return
        self.house.clear(self.book)
        skipped = self.path.skip_to(until)
        if skipped is not None:
            self.minutes_skipped += len(skipped.ends)
            self.mid_times.extend(skipped.ends)
            self.mid_values.extend(skipped.closes)
            rows = list(zip(skipped.ends, skipped.opens, skipped.highs, skipped.lows, skipped.closes,
                            skipped.volumes))
            end, o, h, lo, c, v = rows[0]
            self._merge_candle(int((end - 1e-9) // 60), o, h, lo, c, v)    # may finish a started minute
            self.candles.extend(Candle(int((end - 1e-9) // 60), o, h, lo, c, v)
                                for end, o, h, lo, c, v in rows[1:][-CANDLE_MINUTES_KEPT:])
        self.now = self.path.time
        self._recentre()

    def _recentre(self, post_only: bool = False) -> None:
        results = self.house.recentre(self.book, self.path.mid, self.regime, self.next_order_id, post_only)
        for result in results:
            for trade in result.fills:
                self._print(trade)

    def _taker(self) -> None:
        rng, regime, mid = self._takers, self.regime, self.path.mid
        informed = rng.random() < regime.informed_share
        coin = rng.random() < 0.5
        usd = taker_size_usd(rng, regime)
        is_buy = self.path.log_mid_ahead() > self.path.log_mid if informed else coin
        reach = TAKER_REACH_SPREADS * regime.spread_bps / 1e4
        bound = self.house.floor_for(is_buy)
        if is_buy:
            limit = self.grid.price_up(mid * (1 + reach))
            limit = limit if bound is None else min(limit, bound)
        else:
            limit = self.grid.price_down(mid * (1 - reach))
            limit = limit if bound is None else max(limit, bound)
        lots = self.grid.lots_for_usd(usd, max(int(mid * self.grid.price_scale), 1))
        if lots <= 0 or limit <= 0:
            return
        result = self.book.submit(self.next_order_id(), None, is_buy, limit, lots, IOC)
        for trade in result.fills:
            self._print(trade)

    def _print(self, trade: Fill) -> None:
        self.trades.append(Trade(trade.price, trade.qty, trade.taker_is_buy, self.now))
        self.trades_printed += 1
        candle = self.candles[-1] if self.candles else None
        if candle is not None:
            candle.volume += self.grid.notional(trade.price, trade.qty)

    def _on_book_fill(self, trade: Fill) -> None:
        maker = trade.maker
        if self.observer is None or (maker.owner is None and trade.taker_owner is None):
            return
        mid = self.path.mid
        if maker.owner is not None:
            info = self.agent_orders.get(maker.order_id)
            if maker.qty == 0:
                self.agent_orders.pop(maker.order_id, None)
            self._fill_seq += 1
            self.observer.on_fill(self, AgentFill(self._fill_seq, maker.order_id, maker.owner, maker.is_buy,
                                                  trade.price, trade.qty, True, mid, self.now,
                                                  info.tag if info is not None else "quote"))
        if trade.taker_owner is not None:
            self._fill_seq += 1
            self.observer.on_fill(self, AgentFill(self._fill_seq, trade.taker_id, trade.taker_owner,
                                                  trade.taker_is_buy, trade.price, trade.qty, False, mid,
                                                  self.now, self._taking.get(trade.taker_id, "quote")))

    def _guard(self, maker: Order, lots: int) -> int:
        if self.observer is None:
            return lots
        return self.observer.allow_fill(self, maker, lots)

    def _prune_orders(self) -> None:
        dead = [oid for oid, info in self.agent_orders.items() if not info.order.live]
        for oid in dead:
            del self.agent_orders[oid]

    def _record_mid(self, t: float, mid: float) -> None:
        self.mid_times.append(t)
        self.mid_values.append(mid)
        last = self.candles[-1] if self.candles else None
        opening = last.close if last is not None else mid      # a new minute opens where the last closed
        self._merge_candle(int(t // 60), opening, max(opening, mid), min(opening, mid), mid, 0.0)

    def _merge_candle(self, minute: int, o: float, h: float, lo: float, c: float, volume: float) -> None:
        candle = self.candles[-1] if self.candles else None
        if candle is not None and candle.minute == minute:
            candle.high = max(candle.high, h)
            candle.low = min(candle.low, lo)
            candle.close = c
            candle.volume += volume
        else:
            self.candles.append(Candle(minute, o, h, lo, c, volume))
