"""The push feed: what changed on one market, and for one agent, as server-sent events.

A subscriber names a market and, with its API key, is an agent (and, with admin rights, may ask for the
leaderboard). Every ``TICK_S`` of wall time, while at least one subscriber is connected, one task reads
each watched (market, agent) through the exchange's ordinary read methods and hands each subscriber the
parts that changed since its last message; when the last subscriber leaves the task ends, so a server
nobody watches runs nothing. In realtime mode that read brings a watched market to the clock's now (the
same as any REST read of it would); in manual mode time stands still and only what requests changed is
sent.

Nothing here can make the exchange wait for a browser: the task never awaits a subscriber. Each
subscriber keeps at most one pending snapshot of each kind (a newer one replaces it) and at most
``MAX_ROWS`` pending trades and fills (past that the oldest go and the next message says ``gap: true``,
so a client knows to re-read them over REST). A slow reader gets fewer, fuller messages; a vanished one
costs a few kilobytes until its connection is noticed closed.
"""

from __future__ import annotations

import asyncio
import bisect
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from ..agents import Agent
from ..clock import to_ms
from ..errors import ApiError
from ..exchange import Exchange
from ..ids import public_id
from ..market import Market
from . import views

TICK_S = 0.25               # wall seconds between looks at the watched markets
MAX_ROWS = 1000             # trades (and fills) kept for one slow subscriber before the oldest are dropped
PNL_POINTS_PER_TICK = 200   # PnL points sent per tick at most (one per new fill, then one for "now")
LEADERBOARD_EVERY_S = 1.0   # the leaderboard is the costliest read: at most once a second

SNAPSHOT_KINDS = ("reset", "clock", "price", "book", "orders", "inventory", "pnl", "session", "leaderboard")
ROW_KINDS = ("trades", "marks", "fills")
MARKS_PER_TICK = 200        # mark-price samples sent per tick at most (evenly thinned)
MARKS_HISTORY_S = 300.0     # a newcomer gets the mark price of the last five minutes


@dataclass(frozen=True)
class Topic:
    """What one subscriber watches: a market, and optionally an agent and the leaderboard."""

    symbol: str
    agent_id: str | None = None
    depth: int = 20
    leaderboard: bool = False


class Subscriber:
    """One connection's pending messages, coalesced: never more than one snapshot of a kind, and at
    most ``MAX_ROWS`` trades and fills."""

    def __init__(self, topic: Topic):
        self.topic = topic
        self.snapshots: dict[str, dict] = {}
        self.rows: dict[str, deque] = {kind: deque(maxlen=MAX_ROWS) for kind in ROW_KINDS}
        self.gaps: set[str] = set()
        self.pnl_points: deque = deque(maxlen=MAX_ROWS)
        self.wake = asyncio.Event()
        self.closed = False

    def put_snapshot(self, kind: str, data: dict) -> None:
        self.snapshots[kind] = data
        self.wake.set()

    def put_rows(self, kind: str, rows: list[dict], gap: bool) -> None:
        queue = self.rows[kind]
        if gap or len(queue) + len(rows) > MAX_ROWS:
            self.gaps.add(kind)
        queue.extend(rows)
        self.wake.set()

    def put_pnl_points(self, points: list[dict]) -> None:
        if len(self.pnl_points) + len(points) > MAX_ROWS:
            self.gaps.add("pnl")
        self.pnl_points.extend(points)
        self.wake.set()

    def drain(self) -> list[tuple[str, dict]]:
        """Everything pending, as (event name, data), in a fixed order: rows first (they happened
        before the snapshots that follow them)."""
        out: list[tuple[str, dict]] = []
        for kind in ROW_KINDS:
            if self.rows[kind] or kind in self.gaps:
                out.append((kind, {kind: list(self.rows[kind]), "gap": kind in self.gaps}))
                self.rows[kind].clear()
                self.gaps.discard(kind)
        for kind in SNAPSHOT_KINDS:
            data = self.snapshots.pop(kind, None)
            if kind == "pnl" and (self.pnl_points or "pnl" in self.gaps):
                data = dict(data or {}, points=list(self.pnl_points), gap="pnl" in self.gaps)
                self.pnl_points.clear()
                self.gaps.discard("pnl")
            if data is not None:
                out.append((kind, data))
        self.wake.clear()
        return out


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


@dataclass
class Watch:
    """The feed's memory of one topic: what was last sent, and where the new trades and fills start."""

    market: Market | None = None        # a reset replaces the market object: then everything is new
    agent: Agent | None = None
    trades_printed: int = 0
    marks_until: float = 0.0            # mark-price samples up to this instant have been sent
    fills_seen: int = 0
    last: dict[str, Any] = field(default_factory=dict)
    subscribers: list[Subscriber] = field(default_factory=list)


def _without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


class FeedHub:
    """All subscribers of one exchange, and the one task that feeds them while there are any."""

    def __init__(self, exchange_of: Callable[[], Exchange],
                 leaderboard: Callable[[Exchange], dict] | None = None, tick_s: float = TICK_S):
        self._exchange_of = exchange_of       # read each time: the app may be handed a new exchange
        self._leaderboard = leaderboard
        self.tick_s = tick_s
        self.watches: dict[Topic, Watch] = {}
        self._task: asyncio.Task | None = None
        self._leaderboard_at = -1e18
        self.ticks = 0                        # how many looks the task took (tests check it sleeps)

    # ---- subscribing --------------------------------------------------------------------------
    @property
    def subscribers(self) -> int:
        return sum(len(w.subscribers) for w in self.watches.values())

    def join(self, topic: Topic) -> Subscriber:
        """A new subscriber, handed a full snapshot of the topic as it is now."""
        watch = self.watches.get(topic)
        if watch is not None:
            self._look(topic, watch)           # older subscribers get what changed before this one came
        else:
            watch = self.watches[topic] = Watch()
        subscriber = Subscriber(topic)
        watch.subscribers.append(subscriber)
        watch.last.clear()                     # so that this look sends everything, as a snapshot
        self._look(topic, watch, first=subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        subscriber.closed = True
        watch = self.watches.get(subscriber.topic)
        if watch is None:
            return
        if subscriber in watch.subscribers:
            watch.subscribers.remove(subscriber)
        if not watch.subscribers:
            del self.watches[subscriber.topic]
        if not self.watches and self._task is not None:
            self._task.cancel()
            self._task = None

    def close(self) -> None:
        """End every subscriber's stream (the server is shutting down: open streams must not hold it)."""
        for watch in self.watches.values():
            for subscriber in watch.subscribers:
                subscriber.closed = True
                subscriber.wake.set()

    async def _run(self) -> None:
        while self.watches:
            await asyncio.sleep(self.tick_s)
            self.ticks += 1
            for topic, watch in list(self.watches.items()):
                if self.watches.get(topic) is watch:
                    self._look(topic, watch)
                await asyncio.sleep(0)          # one topic at a time: requests get their turn between

    # ---- reading the exchange -------------------------------------------------------------------
    def _look(self, topic: Topic, watch: Watch, first: Subscriber | None = None) -> None:
        """Read the topic's state; send what changed (to ``first`` only: everything, as a snapshot)."""
        ex = self._exchange_of()
        try:
            market = ex.market(topic.symbol)
        except ApiError:
            return
        agent = ex.agents.get(topic.agent_id) if topic.agent_id else None
        if market is not watch.market or agent is not watch.agent:      # new, or the exchange was reset
            if watch.market is not None and first is None:
                for sub in watch.subscribers:   # a client should forget what it drew: it all starts over
                    sub.put_snapshot("reset", {"symbol": market.symbol, "timestamp": to_ms(market.now)})
            watch.market, watch.agent = market, agent
            watch.trades_printed = market.trades_printed
            watch.marks_until = market.now
            watch.fills_seen = len(self._fills_of(agent, market))
            watch.last.clear()
        targets = [first] if first is not None else watch.subscribers

        def offer(kind: str, data: dict, compare: dict | None = None) -> None:
            key = data if compare is None else compare
            if first is None and watch.last.get(kind) == key:
                return
            watch.last[kind] = key
            for sub in targets:
                sub.put_snapshot(kind, data)

        if first is None:
            trades, gap = market.trades_since(watch.trades_printed)
            watch.trades_printed = market.trades_printed
            if trades or gap:
                rows = [views.trade(market, t) for t in trades]
                for sub in targets:
                    sub.put_rows("trades", rows, gap)

        marks = self._marks(market, market.now - MARKS_HISTORY_S if first is not None else watch.marks_until)
        if first is None:
            watch.marks_until = market.now
        if marks:
            for sub in targets:
                sub.put_rows("marks", marks, False)

        clock = ex.clock
        offer("clock", {"mode": clock.mode, "now": to_ms(ex.now()), "speed": clock.speed})
        price = views.price(market)
        offer("price", price, _without(price, "timestamp"))
        offer("book", self._book(market, topic, agent))
        if agent is not None:
            self._agent_parts(ex, market, agent, watch, offer, targets, first)
        if topic.leaderboard and self._leaderboard is not None:
            now = asyncio.get_running_loop().time()
            if first is not None or now - self._leaderboard_at >= LEADERBOARD_EVERY_S:
                self._leaderboard_at = now
                board = self._leaderboard(ex)
                offer("leaderboard", board, _without(board, "timestamp"))

    @staticmethod
    def _marks(market: Market, after: float) -> list[dict]:
        """The mark price's samples after ``after`` (every event moves it), thinned to at most
        ``MARKS_PER_TICK``, always keeping the last."""
        start = bisect.bisect_right(market.mid_times, after)
        count = len(market.mid_times) - start
        if count <= 0:
            return []
        step = -(-count // MARKS_PER_TICK)
        picked = list(range(start, len(market.mid_times), step))
        if picked[-1] != len(market.mid_times) - 1:
            picked.append(len(market.mid_times) - 1)
        return [{"timestamp": to_ms(market.mid_times[i]), "mark_price": market.mid_values[i]} for i in picked]

    def _book(self, market: Market, topic: Topic, agent: Agent | None) -> dict:
        """The order book as ``GET .../orderbook`` shows it, each level with ``mine``: the size of the
        agent's own orders there (0 for everyone else's, and for a subscriber without a key)."""
        book = views.orderbook(market, topic.depth)
        mine: dict[tuple[bool, float], float] = {}
        if agent is not None:
            grid = market.grid
            for info in market.open_orders(agent.agent_id):
                key = (info.order.is_buy, grid.to_price(info.order.price))
                mine[key] = mine.get(key, 0.0) + grid.to_size(info.order.qty)
        for is_buy, levels in ((True, book["bids"]), (False, book["asks"])):
            for level in levels:
                level["mine"] = round(mine.get((is_buy, level["price"]), 0.0), 12)
        return book

    @staticmethod
    def _fills_of(agent: Agent | None, market: Market) -> list:
        ledger = agent.ledgers.get(market.symbol) if agent is not None else None
        return ledger.fills if ledger is not None else []

    def _agent_parts(self, ex: Exchange, market: Market, agent: Agent, watch: Watch, offer, targets,
                     first: Subscriber | None) -> None:
        symbol = market.symbol
        fills = self._fills_of(agent, market)
        new = fills[watch.fills_seen:] if first is None else []
        watch.fills_seen = len(fills)
        if new:
            rows = [views.fill(f) for f in new]
            for sub in targets:
                sub.put_rows("fills", rows, False)
        elif first is not None:
            new = fills[-PNL_POINTS_PER_TICK:]     # a newcomer's PnL chart starts with the recent history
        orders = [views.order(m, info, public_id("ord", m.spec.index, info.order.order_id))
                  for m, info in ex.open_orders(agent, symbol)]
        offer("orders", {"symbol": symbol, "orders": orders})
        _, ledger = ex.inventory(agent, symbol)
        inventory = views.inventory(market, ledger)
        offer("inventory", inventory, _without(inventory, "timestamp"))
        now_pnl = views.pnl(ex.pnl(agent, symbol))
        if new:     # the decomposition at each new fill's instant, then now: the PnL chart's points
            times = sorted({f.time for f in new})[-PNL_POINTS_PER_TICK:]
            points = [dict(views.pnl(ex.pnl(agent, symbol, None, t)), timestamp=to_ms(t)) for t in times]
            for sub in targets:
                sub.put_pnl_points(points)
        offer("pnl", dict(now_pnl, timestamp=to_ms(market.now)), _without(now_pnl, "until"))
        session = agent.sessions.get(symbol)
        if session is not None:
            events = ex.analytics.for_agent(agent.agent_id, symbol).guardrail_events
            offer("session", dict(views.session(session), events=[views.guardrail_event(e) for e in events]))
