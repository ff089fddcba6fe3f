"""One simulated market: its book, its house liquidity, its takers and its lazy event loop.

Nothing here runs on a timer. A market is in one of two modes, decided afresh at every event:

- **quiet** (no agent order rests in it, no live session watches it): time passes without events. The
  fair value is a function of time (``model.FairValue``), and so is the book: when someone looks, the
  house's ladder is laid out as it stands at that instant. Nothing is simulated, nothing is recorded, so
  a quiet market costs nothing and reading it changes nothing. Its tape shows the trades of its
  *recent stretch* only: from the start of the previous whole minute (or from when it went quiet, if
  later) to now, simulated event by event from the house's ladder as it stood then (``tape``), so the
  same at any instant however often it was read. Older quiet stretches were fast-forwarded: a
  fast-forwarded market reports only trades it made. At the very instant it goes quiet it keeps the
  book it had (an agent that cancels everything and quotes again at one instant finds the market as
  it left it); from the next instant on, its book is the house's ladder laid out afresh.
- **live** (agents' business): every sample of the fair value is an event, processed in time order with
  whatever is scheduled on the market (refresh loops; scenario steps, which cost nothing until they
  fire): the house re-centres, takers trade, agents get filled.

The exogenous part - fair value, event times, takers' sizes, sides and information, the house's sizes -
comes from streams keyed by (seed, symbol, minute), so it is the same whatever agents do and however
the clock was stepped; agents change only who gets filled.

Time is integer microseconds (``now_us``); ``now`` is the same instant in float seconds.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Callable

from .book import GTC, IOC, Fill, Order, OrderBook, Result
from .catalog import MarketSpec
from .closed import CANCELLED, CLIENT, EXPIRED, FILLED, IOC_REMAINDER, MAX_INVENTORY, SELF_TRADE
from .clock import US_PER_S, to_us
from .guardrails import allowance
from .grid import Grid
from .liquidity import BackgroundLiquidity
from .model import CHUNK_US, TAKER, ChunkPlan, FairValue, Regime
from .models import DEFAULT_MODELS, MarketModels
from .models.impact import ImpactState

CANDLE_MINUTES_KEPT = 3 * 24 * 60
TRADES_KEPT = 5_000            # the API shows at most 500; a busy minute can print more than that
MINUTE_US = 60 * US_PER_S
_UNKNOWN = object()


def _us(t: float | int) -> int:
    return t if isinstance(t, int) else to_us(t)


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
    mid: float          # the mark price at the fill (grid price)
    time: float
    kind: str = "quote"     # the tag of the agent's order that filled: "quote", "hedge", "auto_hedge"


@dataclass(slots=True)
class OrderClosed:
    """An agent's order left the book (or, taking liquidity, never rested): when, how and why."""

    seq: int
    owner: object
    is_buy: bool
    price: int          # price units
    size: int           # lots at entry
    remaining: int      # lots not filled
    tif: str
    created_at: float
    time: float
    status: str         # closed.FILLED, CANCELLED or EXPIRED
    reason: str | None  # see closed.REASONS


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
    time_us: int

    @property
    def time(self) -> float:
        return self.time_us / US_PER_S


@dataclass(slots=True)
class Candle:
    """One minute that had trades: OHLC in price units, volume in USD."""

    minute: int
    open: int
    high: int
    low: int
    close: int
    volume: float = 0.0


Limits = dict      # owner -> (max_inventory_usd, its ledger): what the caller hands down with a command


def unbooked_lots(news: list) -> dict:
    """Owner -> signed lots of the agent fills in ``news`` (a market's, not yet taken to the ledgers)."""
    lots: dict = {}
    for item in news:
        if type(item) is AgentFill:
            lots[item.owner] = lots.get(item.owner, 0) + (item.lots if item.is_buy else -item.lots)
    return lots


class Market:
    """The synthetic market source (``source.MarketSource``)."""

    synthetic = True        # a model, not a recording
    halted_at = None        # a synthetic market never ends

    def __init__(self, spec: MarketSpec, seed: int, start: float | int,
                 regime: Regime | None = None,
                 fair: FairValue | None = None, models: MarketModels | None = None):
        start_us = _us(start)
        self.models = models or DEFAULT_MODELS
        self.spec = spec
        self.symbol = spec.symbol
        self.grid = Grid(spec.sz_decimals)
        self._price_scale = self.grid.price_scale
        self.book = OrderBook()
        # What agents' orders did (``AgentFill``, ``OrderClosed``), in order, until the one who gave the
        # command takes it (``take_news``) and books it; and the inventory limits that command handed down.
        self.news: list[AgentFill | OrderClosed] = []
        self._limits: Limits | None = None
        self.now_us = start_us
        self.started_us = start_us
        self.fair = fair or FairValue(seed, spec.symbol, start_us, spec.initial_mid, regime or spec.regime,
                                      self.models.arrivals)
        self._house_seq = 0
        self.house = BackgroundLiquidity(self.grid, self._next_house_id, self.models.book_shape)
        self.impact = ImpactState()         # agents' trades' moves of the fair value (models/impact.py)
        self._order_seq = 0
        self._fill_seq = 0
        self._schedule: list[tuple[int, int, Callable[["Market"], None]]] = []
        self._schedule_seq = 0
        self.agent_orders: dict[int, OrderInfo] = {}
        self.watchers = 0                  # sessions whose guardrails must see every event
        self.trades: deque[Trade] = deque(maxlen=TRADES_KEPT)
        self.trades_printed = 0            # every trade ever printed: readers find the new ones by count
        self.candles: deque[Candle] = deque(maxlen=CANDLE_MINUTES_KEPT)
        self.events_processed = 0
        self.active = False                # an agent's order, a jump, a regime or a scheduled step came here
        self._plan: ChunkPlan | None = None  # the book is laid out: the minute being simulated ...
        self._i = 0                          # ... and its last processed sample
        self._was_live = False               # live at the last event (else quiet since _quiet_since)
        self._quiet_since = start_us
        self._scratch: Market | None = None  # a quiet market's recent stretch, simulated for its tape
        self._mark_memo = (0.0, 0)           # (fair value, its mark in price units): read many times an event
        self._best_memo: list = [None] * 6   # a quiet book's sample (4 parts), best bid, best ask

    # ---- reading ------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        return self.now_us / US_PER_S

    @property
    def started_at(self) -> float:
        return self.started_us / US_PER_S

    @property
    def regime(self) -> Regime:
        return self.fair.regime

    @property
    def live(self) -> bool:
        return self._plan is not None

    def mark_units(self, t: float | int | None = None) -> int:
        """The mark price (the fair value on the tick grid, nearest tick) at ``t`` (default now)."""
        at = self.now_us if t is None else _us(t)
        plan = self._plan
        if at == self.now_us and plan is not None and plan.chunk == at // CHUNK_US:
            fair = plan.fair[self._i]         # the sample being simulated is the one in force now
        else:
            fair = self.fair.price_at(at)
        if self.impact:
            fair *= self.impact.factor(at)
        memo = self._mark_memo
        if memo[0] == fair:
            return memo[1]
        units = fair * self._price_scale
        tick = self.grid.tick_at(max(int(units), 1))
        mark = max(round(units / tick), 1) * tick
        self._mark_memo = (fair, mark)
        return mark

    def fair_at(self, t: float | int) -> float:
        """The fair value itself (not on the grid) in force at ``t``: what scenarios and jumps move."""
        at = _us(t)
        return self.fair.price_at(at) * self.impact.factor(at)

    def fair_samples(self, t0: float | int, t1: float | int) -> list[tuple[float, float]]:
        """The fair value's samples (seconds, price) between ``t0`` and ``t1``."""
        factor = self.impact.factor
        return [(t / US_PER_S, p * factor(t)) for t, p in self.fair.samples(_us(t0), _us(t1))]

    @property
    def mark(self) -> float:
        return self.grid.to_price(self.mark_units())

    def mark_at(self, t: float | int) -> float:
        return self.grid.to_price(self.mark_units(t))

    @property
    def mid(self) -> float:
        """The book's midpoint ``(best_bid + best_ask) / 2``, as Hyperliquid's mids (the mark if a side is empty)."""
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return self.mark
        return (bid + ask) / 2 / self.grid.price_scale

    def best_bid(self) -> int | None:
        if self._plan is None:
            return self._quiet_best(True)
        return self.book.best_bid()

    def best_ask(self) -> int | None:
        if self._plan is None:
            return self._quiet_best(False)
        return self.book.best_ask()

    def depth(self, is_buy: bool, levels: int) -> list[tuple[int, int]]:
        self._materialize()
        return self.book.depth(is_buy, levels)

    def would_cross(self, is_buy: bool, price: int) -> bool:
        self._materialize()
        return self.book.would_cross(is_buy, price)

    def best_excluding(self, owner) -> tuple[int | None, int | None]:
        """Best bid and ask of the book without ``owner``'s orders: the market's own spread."""
        self._materialize()
        return self.book.best_excluding(owner)

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

    def tape(self) -> tuple[list[Trade], list[Candle]]:
        """The trades and minute candles the market shows: those it recorded while live, then, if it
        is quiet, those of its recent stretch (see the module's docstring)."""
        trades, candles = list(self.trades), list(self.candles)
        if self._was_live:
            return trades, candles
        scratch = self._recent_stretch()
        trades.extend(scratch.trades)
        for c in scratch.candles:
            last = candles[-1] if candles else None
            if last is not None and last.minute == c.minute:
                candles[-1] = Candle(c.minute, last.open, max(last.high, c.high), min(last.low, c.low), c.close,
                                     last.volume + c.volume)
            else:
                candles.append(Candle(c.minute, c.open, c.high, c.low, c.close, c.volume))
        return trades[-TRADES_KEPT:], candles[-CANDLE_MINUTES_KEPT:]

    def _stretch_start(self) -> int:
        return max(self._quiet_since, (self.now_us // CHUNK_US - 1) * CHUNK_US)

    def _recent_stretch(self) -> "Market":
        start = self._stretch_start()
        scratch = self._scratch
        if scratch is None or scratch.started_us != start or scratch.now_us > self.now_us:
            scratch = self._scratch = Market(self.spec, 0, start, fair=self.fair, models=self.models)
            scratch.impact = self.impact    # the same moves of the fair value as this market's
            scratch.watchers = 1
            scratch._was_live = True        # live from its start: it has no recent stretch of its own
        scratch.advance_to(self.now_us)
        return scratch

    def _adopt_recent_stretch(self) -> None:
        """Going live, or changing the path while quiet: what the tape shows now becomes history."""
        if self._was_live:
            return
        if self.now_us == self._quiet_since and self._plan is not None:
            self._scratch = None            # quiet for no time at all: nothing printed, the book as it was
            return
        if self._stretch_is_empty():
            # No taker arrives in the stretch, so its tape is empty (the house's own orders never cross
            # each other): nothing to adopt, and no scratch market to lay out to find that out (a cancel,
            # then a quote a moment on).
            self._scratch = None
            self._quiet_since = self.now_us
            return
        scratch = self._recent_stretch()
        for trade in scratch.trades:
            self._record(trade.price, trade.lots, trade.taker_is_buy, trade.time_us, trade.time_us // MINUTE_US)
        self._scratch = None
        self._quiet_since = self.now_us

    def _stretch_is_empty(self) -> bool:
        """True when the recent stretch's tape is empty: none of the steps its scratch market, laid out at
        the stretch's start, would take up to now (the samples after the one in force at the start, as
        ``_step`` walks them) is a taker's."""
        start, now = self._stretch_start(), self.now_us
        plan = self.fair.plan(start // CHUNK_US)
        i = max(plan.index_at(start), 0) + 1
        while True:
            times, kinds = plan.times, plan.kinds
            for j in range(i, len(times)):
                if times[j] > now:
                    return True
                if kinds[j] == TAKER:
                    return False
            if (plan.chunk + 1) * CHUNK_US > now:
                return True
            plan, i = self.fair.plan(plan.chunk + 1), 0

    def is_quiet(self) -> bool:
        """True when nothing an agent owns or watches depends on this market's individual events."""
        return not self.book.owned_orders and not self.watchers

    # ---- time ---------------------------------------------------------------------------------
    def schedule(self, when: float | int, action: Callable[["Market"], None]) -> None:
        self._schedule_seq += 1
        self.active = True
        heapq.heappush(self._schedule, (max(_us(when), self.now_us), self._schedule_seq, action))

    def next_event_us(self) -> int | None:
        """When this market next has something to do by itself (None: never, while it stays quiet)."""
        scheduled = self._schedule[0][0] if self._schedule else None
        if self.is_quiet():
            return scheduled
        self._materialize()
        sample = self._next_sample_time()
        return sample if scheduled is None else min(scheduled, sample)

    def advance_to(self, t: float | int) -> None:
        """Process every event up to and including time ``t``, in time order (with nobody told of them:
        the exchange steps a market through ``step_until`` and looks after each event itself)."""
        target = _us(t)
        while self.step_until(target) is not None:
            pass
        self.stand_at(target)

    def stand_at(self, target: int) -> None:
        """Move to ``target`` (µs), with no event of the market's left at or before it."""
        if target > self.now_us:
            self.now_us = target
            self._leave_quiet_instant()

    def _leave_quiet_instant(self) -> None:
        """A quiet market keeps the book it had as it went quiet for that instant only (so an agent
        that cancels and quotes again at one instant finds the book as it was); once time has moved
        on, the book is laid out afresh when looked at."""
        if self._plan is not None and not self._was_live and self.now_us > self._quiet_since:
            self._plan = None

    def step_until(self, target: int, limits: Limits | None = None) -> bool | None:
        """Process the next event if it is at or before ``target``: None when there is none, else whether
        the agents' guardrails and statistics should look at the market now (always, here). What it did
        to agents' orders is in ``news``; ``limits`` as for ``place``."""
        before, self._limits = self._limits, limits
        try:
            return self._next_event(target)
        finally:
            self._limits = before

    def _next_event(self, target: int) -> bool | None:
        schedule = self._schedule
        if self.is_quiet():
            if self._was_live:
                self._was_live = False
                self._quiet_since = self.now_us
            # The book is no longer simulated: from the next instant on, laid out when looked at.
            self._leave_quiet_instant()
            if schedule and schedule[0][0] <= target:
                when, _, action = heapq.heappop(schedule)
                self.now_us = max(self.now_us, when)
                self._leave_quiet_instant()
                action(self)
                return True
            return None
        self._go_live()
        sample = self._next_sample_time()
        # At a shared instant the market's own event comes first: what is scheduled then (a refresh, a
        # scenario step) sees the market as it stands at that instant.
        if schedule and schedule[0][0] < sample:
            if schedule[0][0] > target:
                return None
            when, _, action = heapq.heappop(schedule)
            self.now_us = max(self.now_us, when)
            action(self)
            return True
        if sample > target:
            return None
        self._step()
        return True

    # ---- commands -----------------------------------------------------------------------------
    def next_order_id(self) -> int:
        self._order_seq += 1
        return self._order_seq

    def place(self, owner, is_buy: bool, price: int | None, lots: int, tif: str = GTC,
              tag: str = "quote", limits: Limits | None = None, order_id: int | None = None) -> tuple[int, Result]:
        """An agent's order, at ``self.now``. What it did to agents' orders is added to ``news``; ``limits``
        (owner -> (max_inventory_usd, ledger)) caps what resting orders may fill; ``order_id``: a number
        ``next_order_id`` gave out before, for an order that was on its way (``inflight.py``)."""
        self._go_live()
        self.active = True
        if order_id is None:
            order_id = self.next_order_id()
        before = self._limits
        if limits is not None:
            self._limits = limits
        try:
            allowed = self._allowance(not is_buy) if self._limits else None
            result = self.book.submit(order_id, owner, is_buy, price, lots, tif, allowed)
        finally:
            self._limits = before
        if result.fills or result.drops:
            self._report(result, tag)
        self._print(result.fills, is_buy)
        if result.fills:
            # The agent took liquidity: its order moves the fair value (models/impact.py).
            usd = sum(self.grid.notional(f.price, f.qty) for f in result.fills)
            regime = self.regime
            permanent, transient = self.models.impact.move(regime, usd)
            sign = 1.0 if is_buy else -1.0
            self.impact.add(self.now_us, sign * permanent, sign * transient, regime.impact_decay_seconds)
        if result.resting is not None:
            result.resting.size = lots      # the order's size, not just what rested after it took liquidity
            self.agent_orders[order_id] = OrderInfo(result.resting, owner, tif, self.now, tag)
        elif tag == "quote" and price is not None and not result.refused:
            # Filled whole on arrival, or an IOC's remainder: it never rested, but it was an order.
            status = EXPIRED if result.unfilled else FILLED
            self.news.append(OrderClosed(order_id, owner, is_buy, price, lots, result.unfilled, tif, self.now,
                                         self.now, status, IOC_REMAINDER if result.unfilled else None))
        if result.fills:
            self._recentre(post_only=True)  # the house refills behind an agent's sweep, so no side stays empty
        return order_id, result

    def cancel(self, order_id: int, reason: str = CLIENT) -> Order | None:
        """Take an agent's order out of the book; ``reason`` says why (see ``closed.REASONS``)."""
        info = self.agent_orders.pop(order_id, None)
        order = self.book.cancel(order_id)
        if order is not None:
            self._closed(info, order, CANCELLED, reason)
        return order

    def cancel_all(self, owner, reason: str, is_buy: bool | None = None) -> list[Order]:
        cancelled = []
        for info in self.open_orders(owner):
            if is_buy is None or info.order.is_buy == is_buy:
                order = self.cancel(info.order.order_id, reason)
                if order is not None:
                    cancelled.append(order)
        return cancelled

    def jump(self, move_bps: float, limits: Limits | None = None) -> None:
        """Move the fair value at once; the house re-centres, picking off quotes the move ran through (into
        ``news``; ``limits`` as for ``place``)."""
        if move_bps <= -10_000:
            raise ValueError("a jump cannot take the price to zero or below")
        import math
        self.active = True
        self._adopt_recent_stretch()
        self.fair.shift(self.now_us, math.log1p(move_bps / 1e4))
        self._after_change(limits)

    def set_regime(self, regime: Regime, limits: Limits | None = None) -> None:
        self.active = True
        self._adopt_recent_stretch()
        self.fair.set_regime(self.now_us, regime)
        self._after_change(limits)

    # ---- state (snapshots) --------------------------------------------------------------------
    def state(self) -> dict:
        """Everything the market needs to go on exactly as it would have (see ``state_document.Market``):
        each part writes its own (``FairValue.state``, ``OrderBook.state``, ``BackgroundLiquidity.state``,
        and each scheduled action's ``state()``). Caches (the quiet tape's scratch market, memos) are left
        out: they are rebuilt to the same values when next needed."""
        self._prune_orders()
        regimes = self.fair.regimes()
        return {
            "symbol": self.symbol, "now_us": self.now_us, "fair": self.fair.state(), "book": self.book.state(),
            "house": self.house.state(regimes), "impact": self.impact.state(), "house_seq": self._house_seq,
            "order_seq": self._order_seq,
            "fill_seq": self._fill_seq,
            "agent_orders": [[oid, info.tif, info.created_at, info.tag] for oid, info in self.agent_orders.items()],
            "schedule": [[when, seq, action.state()] for when, seq, action in sorted(self._schedule, key=lambda e: e[:2])],
            "schedule_seq": self._schedule_seq,
            "trades": [[t.price, t.lots, t.taker_is_buy, t.time_us] for t in self.trades],
            "trades_printed": self.trades_printed,
            "candles": [[c.minute, c.open, c.high, c.low, c.close, c.volume] for c in self.candles],
            "events_processed": self.events_processed, "active": self.active,
            "plan": None if self._plan is None else [self._plan.chunk, self._i],
            "was_live": self._was_live, "quiet_since_us": self._quiet_since,
        }

    @classmethod
    def from_state(cls, spec: MarketSpec, seed: int, start_us: int, state: dict, make_regime,
                   make_action, where: str = "market") -> "Market":
        """The market ``state`` describes. ``make_regime(dict, where)`` makes a checked ``Regime``;
        ``make_action(market, dict, where)`` a scheduled action. Raises ``InvalidState``."""
        from .errors import InvalidState
        market = cls(spec, seed, start_us)
        now = state["now_us"]
        if not start_us <= now:
            raise InvalidState(f"{where}.now_us", "must not be before the exchange's start")
        market.now_us = now
        fair = market.fair = FairValue.from_state(seed, spec.symbol, state["fair"], make_regime, f"{where}.fair")
        if fair.start_us != start_us:
            raise InvalidState(f"{where}.fair.start_us", "must be the exchange's start")
        if state["fair"]["changes"] and state["fair"]["changes"][-1]["at_us"] > now:     # (they are in time order)
            raise InvalidState(f"{where}.fair.changes", "no change may lie after the market's now")
        book = OrderBook.from_state(state["book"], f"{where}.book")
        market.book = book
        market._house_seq = state["house_seq"]
        market._order_seq = state["order_seq"]
        market._fill_seq = state["fill_seq"]
        for order in book.orders.values():
            if order.order_id > market._order_seq or order.order_id < market._house_seq:
                raise InvalidState(f"{where}.book", f"order id {order.order_id} lies beyond the market's counters "
                                                    f"(order_seq, house_seq)")
        regimes = fair.regimes()
        market.house.restore_state(state["house"], book, regimes, f"{where}.house")
        impact = state["impact"]
        if not (len(impact["times"]) == len(impact["permanent"]) == len(impact["transient"]) == len(impact["decay_s"])) \
                or impact["times"] != sorted(impact["times"]) or (impact["times"] and impact["times"][-1] > now):
            raise InvalidState(f"{where}.impact", "four lists of one length, times in order, none after now")
        market.impact = ImpactState.from_state(impact)
        for i, (oid, tif, created_at, tag) in enumerate(state["agent_orders"]):
            order = book.get(oid)
            if order is None or order.owner is None or oid in market.agent_orders:
                raise InvalidState(f"{where}.agent_orders.{i}", "must name an agent's resting order, once")
            if created_at > now / US_PER_S:
                raise InvalidState(f"{where}.agent_orders.{i}.2", "must not be after the market's now")
            market.agent_orders[oid] = OrderInfo(order, order.owner, tif, created_at, tag)
        if len(market.agent_orders) != book.owned_orders:
            raise InvalidState(f"{where}.agent_orders", "must list every agent's resting order")
        load_schedule_and_tape(market, state, now, make_action, where,
                               lambda at, rule: InvalidState(f"{where}.{at}", rule))
        market.events_processed = state["events_processed"]
        market.active = state["active"]
        market._was_live = state["was_live"]
        market._quiet_since = state["quiet_since_us"]
        if not start_us <= market._quiet_since <= now:
            raise InvalidState(f"{where}.quiet_since_us", "must lie between the exchange's start and the market's now")
        if state["plan"] is not None:
            chunk, i = state["plan"]
            if not start_us // CHUNK_US <= chunk <= now // CHUNK_US:
                raise InvalidState(f"{where}.plan.0", "must be a minute from the market's start to its now")
            plan = fair.plan(chunk)
            if i >= len(plan.times) or plan.times[i] > now:
                raise InvalidState(f"{where}.plan.1", "must be a sample of that minute, not after now")
            market._plan, market._i = plan, i
        return market

    # ---- internals ----------------------------------------------------------------------------
    def _next_house_id(self) -> int:
        self._house_seq -= 1                # house orders count down, so agents' ids never depend on them
        return self._house_seq

    def _quiet_best(self, is_buy: bool) -> int | None:
        fair, widen, regime, noise = self.fair.sample_at(self.now_us)
        if self.impact:
            fair *= self.impact.factor(self.now_us)
        # The house's best is a function of the sample alone (the draws and regime held here, so that
        # neither can be mistaken for another): a listing asks for it several times.
        memo = self._best_memo
        if memo[0] != fair or memo[1] != widen or memo[2] is not regime or memo[3] is not noise:
            memo = self._best_memo = [fair, widen, regime, noise, _UNKNOWN, _UNKNOWN]
        side = 4 if is_buy else 5
        if memo[side] is _UNKNOWN:
            memo[side] = self.house.best(fair, widen, regime, noise, is_buy)
        return memo[side]

    def _go_live(self) -> None:
        if not self._was_live:
            self._adopt_recent_stretch()
            self._was_live = True
        self._materialize()

    def _materialize(self) -> None:
        """Lay the house's ladder out as it stands now, if the book is not being simulated."""
        if self._plan is not None:
            return
        plan = self.fair.plan(self.now_us // CHUNK_US)
        self._plan, self._i = plan, max(plan.index_at(self.now_us), 0)
        i = self._i
        fair = plan.fair[i] * self.impact.factor(self.now_us) if self.impact else plan.fair[i]
        if not self.book.owned_orders and self.house.stands(self.book, fair, plan.widen[i], plan.regime,
                                                              plan.noise):
            return      # the ladder left standing is the one laying it out afresh would give (quiet a moment)
        if self.book.owned_orders:
            self.house.clear(self.book)
        else:
            # Nothing but the house's orders rests: a new book is that book with all of them cancelled.
            self.book = OrderBook()
            self.house.drop()
        self.house.forget()
        self._recentre()

    def _after_change(self, limits: Limits | None) -> None:
        """A regime change or jump at now: pick the new plan up and re-centre on it."""
        if self._plan is None:
            return
        plan = self.fair.plan(self.now_us // CHUNK_US)
        self._plan, self._i = plan, max(plan.index_at(self.now_us), 0)
        before = self._limits
        if limits is not None:
            self._limits = limits
        try:
            self._recentre()
        finally:
            self._limits = before

    def _next_sample_time(self) -> int:
        plan = self._plan
        if self._i + 1 < len(plan.times):
            return plan.times[self._i + 1]
        return (plan.chunk + 1) * CHUNK_US

    def _step(self) -> None:
        plan, i = self._plan, self._i + 1
        if i >= len(plan.times):
            plan, i = self.fair.plan(plan.chunk + 1), 0
            self._plan = plan
        self._i = i
        self.now_us = plan.times[i]
        self.events_processed += 1
        self._recentre()
        if plan.kinds[i] == TAKER:
            self._taker(plan, i)
            self._recentre()    # fast makers refill what the taker swept, at the same instant
        elif self.book.owned_orders:
            self._turn_over(plan.regime)

    def _turn_over(self, regime: Regime) -> None:
        """A house update: the house's depth at the levels where agents' orders wait turns over
        (``models/queue.py``), cancels ahead of them moving them up."""
        levels = sorted({(info.order.is_buy, info.order.price) for info in self.agent_orders.values()
                         if info.order.live})
        self.house.turn_over(self.book, levels, regime, self.models.queue)

    def _recentre(self, post_only: bool = False) -> None:
        plan, i = self._plan, self._i
        fair = plan.fair[i] * self.impact.factor(self.now_us) if self.impact else plan.fair[i]
        widen, regime, house, book = plan.widen[i], plan.regime, self.house, self.book
        # The allowances (inventory limits in lots) matter only where the house's new orders can meet an
        # agent's: worked out then only (``_allowance`` is None for a side no one is limited on).
        allowance = None
        if book.owned_orders and house.meets_agents(book, fair, widen, regime):
            allowance = (self._allowance(False), self._allowance(True))
        results = house.recentre(book, fair, widen, regime, plan.noise, self.now_us, post_only, allowance)
        for result in results:
            self._report(result)
            if result.fills:
                self._print(result.fills, result.fills[0].taker_is_buy)

    def _taker(self, plan: ChunkPlan, i: int) -> None:
        j = plan.takers[i]
        regime = plan.regime
        models = self.models
        usd = models.sizes.size_usd(regime, plan.size_z[j])
        is_buy = models.informed.side(self.fair, plan.times[i], plan.values[i], regime, usd, plan.informed_u[j],
                                      plan.fast_u[j], plan.side_u[j])
        if is_buy is None:
            is_buy = models.signs.side(self.fair.metaorders, plan.times[i], regime, plan.fast_u[j], plan.side_u[j])
        fair_units = max(int(plan.fair[i] * self._price_scale), 1)
        lots = self.grid.lots_for_usd(usd, fair_units)
        limit = self.house.floor_for(is_buy)
        if lots <= 0 or not limit:
            return
        result = self.book.submit(self._next_house_id(), None, is_buy, limit, lots, IOC, self._allowance(not is_buy))
        self._report(result)
        self._print(result.fills, is_buy)

    def _print(self, fills: list[Fill], taker_is_buy: bool) -> None:
        """Record one order's fills as trades: one print per price it traded at, as a tape shows."""
        if not fills:
            return
        now = self.now_us
        minute = now // MINUTE_US
        grid = self.grid
        price, lots = fills[0].price, 0
        for fill in fills:
            if fill.price != price:
                self._record(price, lots, taker_is_buy, now, minute)
                price, lots = fill.price, 0
            lots += fill.qty
        self._record(price, lots, taker_is_buy, now, minute)

    def _record(self, price: int, lots: int, taker_is_buy: bool, now: int, minute: int) -> None:
        self.house.dirty = True
        self.trades.append(Trade(price, lots, taker_is_buy, now))
        self.trades_printed += 1
        volume = self.grid.notional(price, lots)
        candle = self.candles[-1] if self.candles else None
        if candle is not None and candle.minute == minute:
            candle.high = max(candle.high, price)
            candle.low = min(candle.low, price)
            candle.close = price
            candle.volume += volume
        else:
            self.candles.append(Candle(minute, price, price, price, price, volume))

    def take_news(self) -> list:
        """What agents' orders did since it was last taken (fills and closes, in order); the taker books it."""
        news, self.news = self.news, []
        return news

    def _allowance(self, maker_is_buy: bool) -> dict | None:
        """Lots each limited agent's resting orders on that side may still fill at this instant (from the
        limits the command handed down, and the fills of this command not yet booked), handed to the book
        with a submission; None when no one is limited."""
        if not self._limits or not self.book.owned_orders:
            return None
        unbooked, mark = unbooked_lots(self.news), self.mark
        return allowance(self._limits, unbooked, self.grid.lot_scale, mark, maker_is_buy)

    def _report(self, result: Result, taker_tag: str = "quote") -> None:
        """What one submission did, told in the order it happened: each fill, and each resting order the
        sweep cancelled."""
        drops = result.drops
        if not drops:
            for fill in result.fills:
                self._filled(fill, taker_tag)
            return
        d, n = 0, len(drops)
        for i, fill in enumerate(result.fills):
            while d < n and drops[d][0] == i:
                self._dropped(drops[d][1], drops[d][2])
                d += 1
            self._filled(fill, taker_tag)
        for _, order, why in drops[d:]:
            self._dropped(order, why)

    def _filled(self, trade: Fill, taker_tag: str) -> None:
        maker = trade.maker
        if maker.owner is None:
            plan = self._plan
            self.house.eat(trade.price, maker.is_buy, self.grid.notional(trade.price, trade.qty), self.now_us,
                           plan.regime if plan is not None else self.fair.regime)
        if maker.owner is None and trade.taker_owner is None:
            return
        mark = self.mark_units()
        if maker.owner is not None:
            info = self.agent_orders.get(maker.order_id)
            if maker.qty == 0:
                self.agent_orders.pop(maker.order_id, None)
            self._fill_seq += 1
            self.news.append(AgentFill(self._fill_seq, maker.order_id, maker.owner, maker.is_buy, trade.price,
                                       trade.qty, True, self.grid.to_price(mark), self.now,
                                       info.tag if info is not None else "quote"))
            if maker.qty == 0:
                self._closed(info, maker, FILLED, None)
        if trade.taker_owner is not None:
            self._fill_seq += 1
            self.news.append(AgentFill(self._fill_seq, trade.taker_id, trade.taker_owner, trade.taker_is_buy,
                                       trade.price, trade.qty, False, self.grid.to_price(mark), self.now, taker_tag))

    def _dropped(self, order: Order, why: str) -> None:
        """A sweep cancelled a resting order: self-trade prevention, or the inventory guard stopped it."""
        if order.owner is None:
            return
        info = self.agent_orders.pop(order.order_id, None)
        self._closed(info, order, CANCELLED, SELF_TRADE if why == "self_trade_cancels" else MAX_INVENTORY)

    def _closed(self, info: OrderInfo | None, order: Order, status: str, reason: str | None) -> None:
        if info is None:
            return
        self.news.append(OrderClosed(order.order_id, order.owner, order.is_buy, order.price, order.size, order.qty,
                                         info.tif, info.created_at, self.now, status, reason))

    def _prune_orders(self) -> None:
        if not self.agent_orders:
            return
        dead = [oid for oid, info in self.agent_orders.items() if not info.order.live]
        for oid in dead:
            del self.agent_orders[oid]


def load_schedule_and_tape(market, state: dict, now: int, make_action, where: str, bad) -> None:
    """A market state's scheduled steps, kept trades and candles, checked and laid into ``market`` (a new
    synthetic or replayed market: both keep them alike). ``bad(field, rule)`` makes the error to raise."""
    seqs = set()
    for i, (when, seq, action) in enumerate(state["schedule"]):
        if seq in seqs or seq > state["schedule_seq"] or when < now:
            raise bad(f"schedule.{i}", "sequence numbers unique and at most schedule_seq, times not before "
                                       "the market's now")
        seqs.add(seq)
        market._schedule.append((when, seq, make_action(market, action, f"{where}.schedule.{i}.2")))
    heapq.heapify(market._schedule)
    market._schedule_seq = state["schedule_seq"]
    last = None
    for i, (price, lots, taker_is_buy, t) in enumerate(state["trades"]):
        if t > now or (last is not None and t < last):
            raise bad(f"trades.{i}.3", "trades in time order, none after the market's now")
        last = t
        market.trades.append(Trade(price, lots, taker_is_buy, t))
    if state["trades_printed"] < len(market.trades):
        raise bad("trades_printed", "must count at least the trades kept")
    market.trades_printed = state["trades_printed"]
    last = None
    for i, (minute, o, h, low, c, volume) in enumerate(state["candles"]):
        if (last is not None and minute <= last) or minute > now // MINUTE_US or not low <= min(o, c) <= max(o, c) <= h:
            raise bad(f"candles.{i}", "minutes in order, none after now; low <= open, close <= high")
        last = minute
        market.candles.append(Candle(minute, o, h, low, c, volume))
