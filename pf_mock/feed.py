"""The push feed: what changed on one market, and for one agent, as server-sent events.

A subscriber names a market and, with its API key, is an agent (and, with admin rights, may ask for the
leaderboard). Every ``TICK_S`` of wall time, while at least one subscriber is connected, one task reads
each watched market (and each watching agent's part of it) through the exchange's ordinary read methods
and hands each subscriber the parts that changed since its last message; when the last subscriber leaves
the task ends, so a server nobody watches runs nothing. In realtime mode that read brings a watched
market to the clock's now (the same as any REST read of it would); in manual mode time stands still and
only what requests changed is sent.

Work is shared: a market's parts (price, book, new trades, mark samples) are read and encoded to JSON
once per look however many watch it, an agent's parts once however many pages it has open, the
leaderboard once a second for everyone.

Nothing here can make the exchange wait for a browser: the task never awaits a subscriber. Each
subscriber keeps at most one pending message of each snapshot kind (a newer one replaces it) and at most
``MAX_ROWS`` pending rows of each row kind (trades, mark samples, fills, PnL points; past that the
oldest go and the next message of that kind says ``gap: true``, so a client knows to re-read them over
REST). A slow reader gets fewer, fuller messages; a vanished one costs a few kilobytes until its
connection is noticed closed.

The events, in the order one look sends them (see the README for their fields): ``hello`` (first, once),
rows ``trades``, ``marks``, ``fills``, ``pnl_points``, then snapshots ``reset``, ``clock``, ``price``,
``book``, ``orders``, ``inventory``, ``pnl``, ``session``, ``leaderboard``.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from . import views
from .agents import Agent
from .clock import to_ms
from .errors import ApiError
from .exchange import Exchange
from .market import Market
from .messages import Leaderboard

TICK_S = 0.25               # wall seconds between looks at the watched markets
KEEPALIVE_S = 15.0          # a comment line this often keeps proxies from closing a quiet stream
MAX_ROWS = 1000             # rows of one kind kept for one slow subscriber before the oldest are dropped
PNL_POINTS_PER_LOOK = 200   # PnL points sent per look at most (one per instant with new fills)
MARKS_PER_LOOK = 50         # mark-price samples sent per look at most (evenly thinned: the bulk of the feed)
MARKS_HISTORY_S = 300.0     # a newcomer gets the mark price of the last five minutes
LEADERBOARD_EVERY_S = 1.0   # the leaderboard is the costliest read: at most once a second

ROW_KINDS = ("trades", "marks", "fills", "pnl_points")
SNAPSHOT_KINDS = ("reset", "clock", "price", "book", "orders", "inventory", "pnl", "session", "leaderboard")


def encode(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


def frame(event: str, json_text: str) -> bytes:
    return f"event: {event}\ndata: {json_text}\n\n".encode()


def sse(event: str, data: dict) -> bytes:
    return frame(event, encode(data))


@dataclass(frozen=True)
class Topic:
    """What one subscriber watches: a market, and optionally an agent and the leaderboard."""

    symbol: str
    agent_id: str | None = None
    depth: int = 20
    leaderboard: bool = False


def topic_for(exchange: Exchange, symbol: str, key: str | None, depth: int = 20, leaderboard: bool = False) -> Topic:
    """What a subscriber asks to watch, checked as REST checks it: 404 ``market_not_found`` for a market
    the exchange does not list, and a key (None: no agent) answered 401 exactly as on REST."""
    spec = exchange.spec(symbol)            # the market itself is read at the first look
    agent = exchange.authenticate(key) if key is not None else None
    return Topic(spec.symbol, agent.agent_id if agent else None, depth, leaderboard)


class Subscriber:
    """One connection's pending messages, coalesced: never more than one of a snapshot kind, and at
    most ``MAX_ROWS`` rows of a row kind. Everything is held already encoded."""

    def __init__(self, topic: Topic):
        self.topic = topic
        self.snapshots: dict[str, str] = {}
        self.rows: dict[str, deque[str]] = {kind: deque(maxlen=MAX_ROWS) for kind in ROW_KINDS}
        self.gaps: set[str] = set()
        self.wake = asyncio.Event()
        self.closed = False

    def put_snapshot(self, kind: str, json_text: str) -> None:
        self.snapshots[kind] = json_text
        self.wake.set()

    def put_rows(self, kind: str, rows: list[str], gap: bool = False) -> None:
        queue = self.rows[kind]
        if gap or len(queue) + len(rows) > MAX_ROWS:
            self.gaps.add(kind)
        queue.extend(rows)
        self.wake.set()

    def drain(self) -> bytes:
        """Everything pending as one piece of the event stream: rows first (they happened before the
        snapshots that follow them), each kind in a fixed order."""
        out = []
        for kind in ROW_KINDS:
            rows = self.rows[kind]
            if rows or kind in self.gaps:
                gap = "true" if kind in self.gaps else "false"
                out.append(frame(kind, f'{{"{kind}":[{",".join(rows)}],"gap":{gap}}}'))
                rows.clear()
                self.gaps.discard(kind)
        for kind in SNAPSHOT_KINDS:
            json_text = self.snapshots.pop(kind, None)
            if json_text is not None:
                out.append(frame(kind, json_text))
        self.wake.clear()
        return b"".join(out)

    def pending(self) -> list[tuple[str, dict]]:
        """What ``drain`` would send, decoded (for tests and for reading in Python)."""
        events = []
        for block in self.drain().decode().split("\n\n"):
            if block:
                event, data = block.split("\n", 1)
                events.append((event[len("event: "):], json.loads(data[len("data: "):])))
        return events


class Part:
    """The last value of one snapshot kind and its encoding: sent again only when the value changes
    (``key``: the value without what changes every look, such as its timestamp)."""

    __slots__ = ("key", "json")

    def __init__(self) -> None:
        self.key: Any = None
        self.json: str | None = None

    def update(self, json_text: str, key: Any = None) -> bool:
        key = json_text if key is None else key
        if self.json is not None and key == self.key:
            return False
        self.key, self.json = key, json_text
        return True


@dataclass
class AgentWatch:
    """One agent's part of a watched market (or, for ``agent_id`` None, the keyless subscribers')."""

    agent: Agent | None = None
    market: Market | None = None        # the market object the agent's cursor and parts belong to
    fills_seen: int = 0
    parts: dict[str, Part] = field(default_factory=dict)
    subscribers: list[Subscriber] = field(default_factory=list)

    def part(self, kind: str) -> Part:
        found = self.parts.get(kind)
        if found is None:
            found = self.parts[kind] = Part()
        return found


@dataclass
class MarketWatch:
    """One watched market at one depth: where its new trades and mark samples start, its shared parts,
    and the agents watching it."""

    symbol: str
    depth: int
    market: Market | None = None        # a reset replaces the market object: then everything is new
    book: dict | None = None            # the last book read, levels with mine = 0
    trades_printed: int = 0
    marks_until: float = 0.0
    board_sent: str | None = None       # the leaderboard encoding this market's subscribers last got
    parts: dict[str, Part] = field(default_factory=dict)
    agents: dict[str | None, AgentWatch] = field(default_factory=dict)

    def part(self, kind: str) -> Part:
        found = self.parts.get(kind)
        if found is None:
            found = self.parts[kind] = Part()
        return found

    def subscribers(self):
        for watch in self.agents.values():
            yield from watch.subscribers


def _without(data, *keys: str) -> dict:
    """``data`` (a dict or a message) without ``keys``: what decides whether it changed."""
    if not isinstance(data, dict):
        return data.model_dump(exclude=set(keys))
    return {k: v for k, v in data.items() if k not in keys}


class FeedHub:
    """All subscribers of one exchange, and the one task that feeds them while there are any."""

    def __init__(self, exchange_of: Callable[[], Exchange],
                 leaderboard: Callable[[Exchange], Leaderboard] | None = None, tick_s: float = TICK_S,
                 catch_up: Callable[[], Awaitable[None]] | None = None):
        self._exchange_of = exchange_of       # read each time: the app may be handed a new exchange
        self._leaderboard = leaderboard
        # Awaited before each round of looks and before a newcomer's first: a realtime clock far ahead
        # of the markets is caught up in slices (turns.py), never by one of the feed's reads in one go.
        self.ready = catch_up or _nothing
        self.tick_s = tick_s
        self.watches: dict[tuple[str, int], MarketWatch] = {}
        self._task: asyncio.Task | None = None
        self._board = Part()
        self._board_at = -1e18
        self.ticks = 0                        # how many looks the task took (tests check it sleeps)

    # ---- subscribing --------------------------------------------------------------------------
    @property
    def subscribers(self) -> int:
        return sum(1 for watch in self.watches.values() for _ in watch.subscribers())

    def join(self, topic: Topic) -> Subscriber:
        """A new subscriber, handed a full snapshot of what it watches as it is now."""
        key = (topic.symbol, topic.depth)
        watch = self.watches.get(key)
        if watch is None:
            watch = self.watches[key] = MarketWatch(topic.symbol, topic.depth)
        self._look(watch)                      # older subscribers get what changed before this one came
        subscriber = Subscriber(topic)
        agent_watch = watch.agents.get(topic.agent_id)
        if agent_watch is None:
            agent_watch = watch.agents[topic.agent_id] = AgentWatch()
            self._look_agent(self._exchange_of(), watch, topic.agent_id, agent_watch, watch.book)
        agent_watch.subscribers.append(subscriber)
        self._welcome(watch, agent_watch, subscriber)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return subscriber

    async def stream(self, topic: Topic):
        """One subscriber's event stream: ``hello`` first (what it watches, and the tick), then only what
        changed, and a keep-alive comment whenever it has been quiet for ``KEEPALIVE_S``."""
        hello = {"symbol": topic.symbol, "agent_id": topic.agent_id, "depth": topic.depth,
                 "leaderboard": topic.leaderboard, "tick_ms": round(self.tick_s * 1000)}
        await self.ready()                      # a realtime clock's catch-up first, if one is due (in slices)
        subscriber = self.join(topic)           # here, not before the stream: left again however it ends
        try:
            yield sse("hello", hello)
            while not subscriber.closed:
                batch = subscriber.drain()
                if batch:
                    yield batch
                try:
                    await asyncio.wait_for(subscriber.wake.wait(), KEEPALIVE_S)
                except TimeoutError:
                    yield b": keepalive\n\n"
        finally:
            self.leave(subscriber)

    def leave(self, subscriber: Subscriber) -> None:
        subscriber.closed = True
        key = (subscriber.topic.symbol, subscriber.topic.depth)
        watch = self.watches.get(key)
        agent_watch = watch.agents.get(subscriber.topic.agent_id) if watch else None
        if agent_watch is None:
            return
        if subscriber in agent_watch.subscribers:
            agent_watch.subscribers.remove(subscriber)
        if not agent_watch.subscribers:
            del watch.agents[subscriber.topic.agent_id]
        if not watch.agents:
            del self.watches[key]
        if not self.watches and self._task is not None:
            self._task.cancel()
            self._task = None

    def close(self) -> None:
        """End every subscriber's stream (the server is shutting down: open streams must not hold it)."""
        for watch in self.watches.values():
            for subscriber in watch.subscribers():
                subscriber.closed = True
                subscriber.wake.set()

    async def _run(self) -> None:
        while self.watches:
            await asyncio.sleep(self.tick_s)
            await self.ready()
            self.ticks += 1
            for key, watch in list(self.watches.items()):
                if self.watches.get(key) is watch:
                    self._look(watch)
                await asyncio.sleep(0)          # one market at a time: requests get their turn between

    # ---- reading the exchange -------------------------------------------------------------------
    def _welcome(self, watch: MarketWatch, agent_watch: AgentWatch, subscriber: Subscriber) -> None:
        """Hand a newcomer the current state of everything it watches, and some history to draw."""
        market = watch.market
        if market is None:
            return
        marks = self._marks(market, market.now - MARKS_HISTORY_S)
        if marks:
            subscriber.put_rows("marks", marks)
        fills = _fills_of(agent_watch.agent, market)
        if fills:
            ex = self._exchange_of()
            subscriber.put_rows("pnl_points", self._pnl_points(ex, agent_watch.agent, market, fills))
        shared = {kind: part for kind, part in watch.parts.items() if kind not in agent_watch.parts}
        for kind, part in {**shared, **agent_watch.parts}.items():     # the agent's own book over the shared
            if part.json is not None:
                subscriber.put_snapshot(kind, part.json)
        if subscriber.topic.leaderboard and self._leaderboard is not None:
            self._refresh_board(self._exchange_of(), force=self._board.json is None)
            subscriber.put_snapshot("leaderboard", self._board.json)

    def _look(self, watch: MarketWatch) -> None:
        """Read one market and its watching agents; hand every subscriber what changed for it."""
        ex = self._exchange_of()
        try:
            market = ex.market(watch.symbol)
        except ApiError:
            return
        everyone = list(watch.subscribers())
        if market is not watch.market:                  # new, or the exchange was reset
            if watch.market is not None:
                reset = encode({"symbol": market.symbol, "timestamp": to_ms(market.now)})
                for sub in everyone:                    # a client should forget what it drew: all starts over
                    sub.put_snapshot("reset", reset)
            watch.market = market
            watch.trades_printed = market.trades_printed
            watch.marks_until = market.now
            watch.parts.clear()

        trades, gap = market.trades_since(watch.trades_printed)
        watch.trades_printed = market.trades_printed
        if trades or gap:
            rows = [views.trade(market, t).model_dump_json() for t in trades]
            for sub in everyone:
                sub.put_rows("trades", rows, gap)
        marks = self._marks(market, watch.marks_until)
        watch.marks_until = market.now
        if marks:
            for sub in everyone:
                sub.put_rows("marks", marks)

        clock = ex.clock
        self._offer(watch.part("clock"), everyone, "clock",
                    encode({"mode": clock.mode, "now": to_ms(ex.now()), "speed": clock.speed}))
        price = ex.price(market.symbol)
        self._offer(watch.part("price"), everyone, "price", price.model_dump_json(), _without(price, "timestamp"))
        book = watch.book = ex.orderbook(market.symbol, watch.depth).model_dump()
        for side in ("bids", "asks"):
            for level in book[side]:
                level["mine"] = 0.0
        shared_book = watch.part("book")
        book_changed = shared_book.update(encode(book), _without(book, "timestamp"))

        for agent_id, agent_watch in watch.agents.items():
            own_book = self._look_agent(ex, watch, agent_id, agent_watch, book)
            if own_book is None:
                had_own = agent_watch.parts.pop("book", None) is not None
                if book_changed or had_own:
                    for sub in agent_watch.subscribers:
                        sub.put_snapshot("book", shared_book.json)

        wants_board = [sub for sub in everyone if sub.topic.leaderboard]
        if wants_board and self._leaderboard is not None:
            self._refresh_board(ex)
            if watch.board_sent is not self._board.json:    # new since this market's subscribers had one
                watch.board_sent = self._board.json
                for sub in wants_board:
                    sub.put_snapshot("leaderboard", self._board.json)

    def _refresh_board(self, ex: Exchange, force: bool = False) -> None:
        """Read the leaderboard again if a second has passed since the last read (one read serves every
        market's subscribers; its encoding changes only when the board does)."""
        now = asyncio.get_running_loop().time()
        if not force and now - self._board_at < LEADERBOARD_EVERY_S:
            return
        self._board_at = now
        board = self._leaderboard(ex)
        self._board.update(board.model_dump_json(), _without(board, "timestamp"))

    @staticmethod
    def _offer(part: Part, subscribers: list[Subscriber], kind: str, json_text: str, key: Any = None) -> None:
        if part.update(json_text, key):
            for sub in subscribers:
                sub.put_snapshot(kind, part.json)

    def _look_agent(self, ex: Exchange, watch: MarketWatch, agent_id: str | None, agent_watch: AgentWatch,
                    book: dict | None = None) -> dict | None:
        """One agent's parts of the market; returns its own book (levels with ``mine``) when it has
        orders in it, else None (its subscribers get the shared book)."""
        market = watch.market
        if agent_id is None or market is None:
            return None
        agent = ex.agents.get(agent_id)
        if agent is not agent_watch.agent or market is not agent_watch.market:  # first look, or a reset
            agent_watch.agent, agent_watch.market = agent, market
            agent_watch.fills_seen = len(_fills_of(agent, market))
            agent_watch.parts.clear()
        if agent is None:
            return None
        subs = agent_watch.subscribers
        symbol = market.symbol
        fills = _fills_of(agent, market)
        new = fills[agent_watch.fills_seen:]
        agent_watch.fills_seen = len(fills)
        if new:
            rows = [views.fill(f).model_dump_json() for f in new]
            points = self._pnl_points(ex, agent, market, new)
            for sub in subs:
                sub.put_rows("fills", rows)
                sub.put_rows("pnl_points", points)

        own = market.open_orders(agent.agent_id)
        own_book = None
        if own and book is not None:
            grid = market.grid
            mine: dict[tuple[bool, float], float] = {}
            for info in own:
                key = (info.order.is_buy, grid.to_price(info.order.price))
                mine[key] = mine.get(key, 0.0) + grid.to_size(info.order.qty)
            own_book = {**book, "bids": [dict(level, mine=round(mine.get((True, level["price"]), 0.0), 12))
                                         for level in book["bids"]],
                        "asks": [dict(level, mine=round(mine.get((False, level["price"]), 0.0), 12))
                                 for level in book["asks"]]}
            self._offer(agent_watch.part("book"), subs, "book", encode(own_book), _without(own_book, "timestamp"))
        orders = [views.order(market, info).model_dump() for info in own]
        self._offer(agent_watch.part("orders"), subs, "orders", encode({"symbol": symbol, "orders": orders}))
        inventory = views.inventory(*ex.inventory(agent, symbol))
        self._offer(agent_watch.part("inventory"), subs, "inventory", inventory.model_dump_json(),
                    _without(inventory, "timestamp"))
        pnl = ex.pnl_view(agent, symbol).model_dump()
        self._offer(agent_watch.part("pnl"), subs, "pnl", encode(dict(pnl, timestamp=to_ms(market.now))),
                    _without(pnl, "until"))
        session = agent.sessions.get(symbol)
        if session is not None:
            events = ex.analytics.for_agent(agent.agent_id, symbol).guardrail_events
            view = dict(views.session(session).model_dump(),
                        events=[views.guardrail_event(e).model_dump() for e in events])
            self._offer(agent_watch.part("session"), subs, "session", encode(view))
        return own_book

    @staticmethod
    def _pnl_points(ex: Exchange, agent: Agent, market: Market, fills: list) -> list[str]:
        """The PnL decomposition at each instant with fills (the newest ``PNL_POINTS_PER_LOOK``)."""
        times = sorted({f.time for f in fills})[-PNL_POINTS_PER_LOOK:]
        return [encode(dict(ex.pnl_view(agent, market.symbol, None, t).model_dump(), timestamp=to_ms(t)))
                for t in times]

    @staticmethod
    def _marks(market: Market, after: float) -> list[str]:
        """The mark price's samples after ``after`` (every event moves it), thinned to at most
        ``MARKS_PER_LOOK``, always keeping the last."""
        # The fair value's samples (a function of time: reading them changes nothing), over at most the last
        # minute, each shown as the mark price (on the tick grid).
        samples = [t for t, _ in market.fair_samples(max(after, market.now - 60.0), market.now) if t > after]
        if not samples:
            return []
        step = -(-len(samples) // MARKS_PER_LOOK)
        picked = samples[::step]
        if picked[-1] != samples[-1]:
            picked.append(samples[-1])
        return [encode({"timestamp": to_ms(t), "mark_price": market.mark_at(t)}) for t in picked]


async def _nothing() -> None:
    return None


def _fills_of(agent: Agent | None, market: Market) -> list:
    ledger = agent.ledgers.get(market.symbol) if agent is not None else None
    return ledger.fills if ledger is not None else []
