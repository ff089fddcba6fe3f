"""The exchange: markets, agents, quotes, hedges and the accounting of every fill. No HTTP in here.

Every operation first brings the markets it touches to the clock's "now" (they advance lazily), then
acts at that instant. Markets report fills and events back through the ``MarketObserver`` methods at
the bottom (``allow_fill``, ``on_fill``, ``after_event``); sessions and their guardrails live in
``sessions.py`` and run from there, at the simulated instant of each fill, refresh and price move.
Orders reach markets through ``orders.py``, from here and from the sessions alike. The read methods
answer with the contract's messages (``messages.py``), so every front reuses the same calls.
"""

from __future__ import annotations

import heapq
import bisect
import math
import secrets
from dataclasses import dataclass
from typing import Mapping

from . import closed, orders, views
from .closed import ClosedOrder
from .agents import AGENT_ID_PATTERN, KEY_PATTERN, Agent, agent_id_for_key
from .analytics import Analytics
from .catalog import MIN_NOTIONAL_USD, Catalog, UnknownMarket, load_catalog
from .clock import Clock, ManualClock, to_ms
from .errors import ApiError, invalid_key, invalid_request, is_number, is_whole, market_not_found, unauthorized
from .ledger import FillRecord, PnlWindow
from .book import Order
from .market import AgentFill, Market, OrderClosed
from .messages import (DEFAULT_ORDERS_PAGE, MAX_ADVANCE_S, MAX_ORDERS_PAGE, Account, Candles, Fills, Interval,
                       MarketDetail, MarketList, OrderBook, OrderStatus, Orders, Pnl, Position, Price, QuoteRequest,
                       Trades, Window)
from .model import band_problem, move_problem, regime_problem
from .orders import SideOutcome, TakerResult
from .sessions import STOPPED, QuoteShape, Session, Sessions
from .source import MarketFactory, halted_error

WINDOWS_S = {"5m": 300.0, "1h": 3600.0, "24h": 86400.0}

@dataclass(frozen=True)
class ExchangeConfig:
    seed: int = 0
    starting_balance: float = 10_000.0
    strict_auth: bool = False
    maker_rebate_bps: float = 2.5       # the seed's -0.025% maker rebate, paid to the maker
    taker_fee_bps: float = 4.5          # the seed's +0.045% taker fee


@dataclass
class QuoteResult:
    symbol: str
    bid: SideOutcome
    ask: SideOutcome
    session: Session
    time: float


@dataclass
class PnlReport:
    symbol: str | None
    since: float
    until: float
    window: PnlWindow


class Exchange:
    def __init__(self, config: ExchangeConfig | None = None, clock: Clock | None = None,
                 catalog: Catalog | None = None, sources: Mapping[str, MarketFactory] | None = None):
        self.config = config or ExchangeConfig()
        self.clock = clock or ManualClock()
        self.catalog = catalog or load_catalog()
        # symbol -> what makes its market (default: the synthetic ``Market``); e.g. a replayed recording
        self.sources: dict[str, MarketFactory] = dict(sources or {})
        self.seed = self.config.seed
        self._start()

    def _start(self) -> None:
        self.started_at = self.clock.now()
        self.started_us = self.clock.now_us()
        self._event_us: int | None = None
        self._ran_to_us: int | None = None
        self.markets: dict[str, Market] = {}
        self.agents: dict[str, Agent] = {}
        self._keys: dict[str, str] = {}
        self.analytics = Analytics()              # running per-agent statistics (analytics.py)
        self.sessions = Sessions(self.agents, self.markets, self.catalog, self.analytics,
                                 taker_fee_bps=self.config.taker_fee_bps)
        self.scenario_name: str | None = None     # set by pf_mock.scenarios.apply_scenario; a reset clears it
        self.scenario_run = None                  # that scenario's pending events check this is still theirs

    # ---- time and markets ---------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def reset(self, seed: int | None = None) -> None:
        """Forget agents, orders and fills; restart the clock and every market from the seed."""
        if seed is not None:
            self.seed = seed
        self.clock.restart()
        self._start()

    def advance(self, seconds: float) -> float:
        """Manual clock only: move time forward, then bring every market with live agent business to
        the new instant (idle markets stay lazy and catch up when next touched)."""
        if not hasattr(self.clock, "advance"):
            raise ApiError(409, "clock_not_manual", "The clock is in realtime mode; start with --clock manual.")
        if not (is_number(seconds) and 0 <= seconds <= MAX_ADVANCE_S):
            raise invalid_request(f"seconds must be a number from 0 to {MAX_ADVANCE_S:g} (a week) per call.",
                                  field="seconds", limit=MAX_ADVANCE_S)
        self.clock.advance(seconds)
        self.run_to(self.clock.now_us())
        return self.now()

    def run_to(self, t: int) -> None:
        """Process every market's events up to ``t`` (microseconds) in one global time order (ties: catalog
        order), so that what one market's event reads of another (margin, equity) is that market as it
        stands at that instant, however the clock was stepped. Quiet markets have no events; their
        scheduled steps (scenarios) are events like any other."""
        if t == self._ran_to_us:
            return                          # already done for this instant (one request reads many markets)
        self._ran_to_us = t
        heap: list[tuple[int, int, Market]] = []
        for market in self.markets.values():
            when = market.next_event_us()
            if when is not None and when <= t:
                heapq.heappush(heap, (when, market.spec.index, market))
        while heap:
            when, index, market = heapq.heappop(heap)
            self._event_us = when
            try:
                market.step_until(t)
            finally:
                self._event_us = None
            when = market.next_event_us()
            if when is not None and when <= t:
                heapq.heappush(heap, (when, index, market))
        for market in self.markets.values():
            if not market.is_quiet():
                market.advance_to(t)

    def ran_to_us(self) -> int:
        """The instant every market with live business was last brought to (the start, before any was)."""
        return self.started_us if self._ran_to_us is None else self._ran_to_us

    def instant_us(self) -> int:
        """The instant being processed: an event's during ``run_to``, else the clock's."""
        return self._event_us if self._event_us is not None else self.clock.now_us()

    def spec(self, name: str):
        try:
            return self.catalog.resolve(name)
        except UnknownMarket:
            raise market_not_found(name) from None

    def market(self, name: str) -> Market:
        """The market called ``name``, advanced to now (created on first touch)."""
        spec = self.spec(name)
        market = self.markets.get(spec.symbol)
        if market is None:
            factory = self.sources.get(spec.symbol, Market)
            market = self.markets[spec.symbol] = factory(spec, self.seed, self.started_us, observer=self)
        now = self.clock.now_us()
        if self._event_us is None:
            self.run_to(now)
        market.advance_to(now if self._event_us is None else self._event_us)
        return market

    def peek(self, name: str) -> Market | None:
        """The market if it exists, without advancing it (for checks that must not move time)."""
        return self.markets.get(self.spec(name).symbol)

    def jump(self, name: str, move_bps: float) -> Market:
        problem = move_problem(move_bps)
        if problem:
            raise invalid_request(problem, field="move_bps")
        market = self.market(name)
        problem = band_problem(market.spec.initial_mid, market.mark, move_bps)
        if problem:
            raise invalid_request(problem, field="move_bps")
        market.jump(float(move_bps))
        return market

    def set_regime(self, name: str, changes: dict) -> Market:
        market = self.market(name)
        for key, value in changes.items():
            problem = regime_problem(key, value)
            if problem:
                raise invalid_request(problem, field=key)
        regime = market.regime.with_changes(**{k: float(v) for k, v in changes.items()})
        market.set_regime(regime)
        return market

    # ---- agents -------------------------------------------------------------------------------
    def agent_for_key(self, key: str) -> Agent | None:
        """The agent that holds ``key``, if any; unlike ``authenticate`` it never provisions one."""
        agent_id = self._keys.get(key)
        return self.agents.get(agent_id) if agent_id is not None else None

    def authenticate(self, key: str | None) -> Agent:
        if not key:
            raise unauthorized()
        agent_id = self._keys.get(key)
        if agent_id is not None:
            return self.agents[agent_id]
        if not KEY_PATTERN.match(key):
            raise invalid_key("Malformed API key: expected pf_test_ or pf_live_ followed by 8 to 120 of [A-Za-z0-9_].")
        if self.config.strict_auth:
            raise invalid_key("Unknown API key; register with POST /v1/agents/register.")
        agent_id = agent_id_for_key(key)
        while agent_id in self.agents:      # a registered agent already took that name
            agent_id = agent_id_for_key(agent_id + key)
        return self._add_agent(agent_id, key)

    def register(self, agent_id: str | None = None) -> Agent:
        if agent_id is not None:
            if not isinstance(agent_id, str) or not AGENT_ID_PATTERN.match(agent_id):
                raise invalid_request("agent_id must be 1-64 of [A-Za-z0-9_-].", field="agent_id")
            if agent_id in self.agents:
                raise ApiError(409, "agent_exists", f"An agent named {agent_id!r} is already registered.")
        # From the OS's secure source, never from the seed: determinism covers markets and fills, not
        # secrets (a key derived from a printed seed could be computed by any other agent).
        key = "pf_test_" + secrets.token_hex(16)
        while key in self._keys:
            key = "pf_test_" + secrets.token_hex(16)
        if agent_id is None:
            agent_id = "ag_" + secrets.token_hex(6)
            while agent_id in self.agents:
                agent_id = "ag_" + secrets.token_hex(6)
        return self._add_agent(agent_id, key)

    def _add_agent(self, agent_id: str, key: str) -> Agent:
        agent = Agent(agent_id, key, self.now(), self.config.starting_balance)
        self.agents[agent_id] = agent
        self._keys[key] = agent_id
        return agent

    def claim_faucet(self, agent: Agent) -> float:
        if agent.faucet_claimed:
            raise ApiError(409, "already_claimed", "This agent has already claimed the faucet.")
        agent.faucet_claimed = True
        agent.deposits += 1.0
        return 1.0

    def sync(self, agent: Agent) -> None:
        """Bring every market the agent has business in to now."""
        for symbol in list(agent.sessions.keys() | agent.ledgers.keys()):
            self.market(symbol)

    def mark(self, symbol: str) -> float:
        """A market's mark price at the instant being processed (quiet markets included, exactly)."""
        return self.markets[symbol].mark_at(self.instant_us())

    def equity(self, agent: Agent) -> float:
        return orders.equity(agent, self.markets, self.instant_us())

    def open_orders(self, agent: Agent, symbol: str | None = None) -> list[tuple[Market, object]]:
        markets = [self.market(symbol)] if symbol else [self.market(s) for s in agent.sessions]
        return [(m, info) for m in markets for info in m.open_orders(agent.agent_id)]

    def margin_required(self, agent: Agent, extra: dict[str, float] | None = None) -> float:
        """Initial margin in use (see ``orders.margin_in_use``); ``extra`` adds notional about to be posted."""
        return orders.margin_in_use(agent, self.markets, self.catalog, self.instant_us(), extra)

    # ---- market making ------------------------------------------------------------------------
    def quote(self, agent: Agent, req: QuoteRequest) -> QuoteResult:
        self._check_quote(req)
        market = self.market(req.symbol)
        if market.halted_at is not None:
            raise halted_error(market)
        self.sync(agent)
        symbol = market.symbol
        session = self.sessions.of(agent, symbol)
        if session.status == STOPPED:
            raise ApiError(409, "session_stopped",
                           f"The session on {symbol} was stopped ({session.reason}); POST /v1/mm/session/reset first.",
                           reason=session.reason)
        grid = market.grid
        bid = ask = None
        if req.bid_price is not None:
            units = grid.price_down(req.bid_price)
            bid = (units, grid.lots_for_usd(req.bid_size, units))
        if req.ask_price is not None:
            units = grid.price_up(req.ask_price)
            ask = (units, grid.lots_for_usd(req.ask_size, units))
        for name, side in (("bid", bid), ("ask", ask)):
            if side is not None and (side[0] <= 0 or grid.notional(*side) < MIN_NOTIONAL_USD):
                raise ApiError(400, "order_too_small",
                               f"The {name} side is under the ${MIN_NOTIONAL_USD:g} minimum once sized to whole lots "
                               f"at its price.", field=f"{name}_size", min_notional_usd=MIN_NOTIONAL_USD)
        mark_units = market.mark_units()
        mark = grid.to_price(mark_units)
        for name, side in (("bid", bid), ("ask", ask)):
            if side is not None and orders.out_of_band(grid.to_price(side[0]), mark):
                low, high = orders.band(mark)
                raise ApiError(400, "price_out_of_band",
                               f"The {name} price {grid.to_price(side[0]):g} is more than "
                               f"{orders.PRICE_BAND * 100:g}% from the mark price {mark:g}: limit prices must be "
                               f"from {low:g} to {high:g}.", field=f"{name}_price", price=grid.to_price(side[0]),
                               mark_price=mark, band_pct=orders.PRICE_BAND * 100, min_price=low, max_price=high)
        # Margin at the worse of each price and the mark, and what filling at once may cost on top.
        posted = at_once = 0.0
        for is_buy, side in ((True, bid), (False, ask)):
            if side is not None:
                notional, cost = orders.side_cost(market, is_buy, side[0], side[1], mark_units,
                                                  self.config.taker_fee_bps)
                posted += notional
                at_once += cost
        required = self.margin_required(agent, {symbol: posted}) + at_once
        equity = self.equity(agent)
        if required > equity:
            raise ApiError(402, "insufficient_balance",
                           f"These orders need ${required:,.2f} of margin; equity is ${equity:,.2f}.",
                           required_margin_usd=round(required, 6), equity_usd=round(equity, 6))

        # Valid: from here on the quote takes effect.
        self.sessions.configure(agent, market, session, req.guardrails(), req.refresh_interval_seconds,
                                req.auto_refresh)
        mid = market.mid
        session.shape = QuoteShape(
            bid_bps=(mid - grid.to_price(bid[0])) / mid * 1e4 if bid else None,
            ask_bps=(grid.to_price(ask[0]) - mid) / mid * 1e4 if ask else None,
            bid_usd=req.bid_size if bid else None,
            ask_usd=req.ask_size if ask else None,
            tif=req.time_in_force,
        )
        bid_out, ask_out = self.sessions.post(agent, market, session, bid, ask, req.time_in_force)
        self.sessions.enforce(market)
        return QuoteResult(symbol, bid_out, ask_out, session, market.now)

    def cancel(self, agent: Agent, symbol: str) -> tuple[str, list[str]]:
        market = self.market(symbol)
        cancelled = market.cancel_all(agent.agent_id, closed.CLIENT)
        self.sessions.cancelled(agent, market)
        ids = [orders.order_id(market, order.order_id) for order in cancelled]
        return market.symbol, ids

    def hedge(self, agent: Agent, symbol: str, hedge_pct: float = 1.0) -> TakerResult:
        if not (is_number(hedge_pct) and 0 < hedge_pct <= 1):
            raise invalid_request("hedge_pct must be a number in (0, 1].", field="hedge_pct")
        market = self.market(symbol)
        if market.halted_at is not None:
            raise halted_error(market)
        ledger = agent.ledgers.get(market.symbol)
        if ledger is None or ledger.lots == 0:
            raise ApiError(409, "no_inventory", f"No inventory to hedge on {market.symbol}.")
        lots = int(abs(ledger.lots) * hedge_pct + 1e-9)
        if lots <= 0:
            raise ApiError(400, "order_too_small", "hedge_pct of the position rounds to zero lots.",
                           field="hedge_pct")
        result = orders.market_order(agent, market, ledger.lots < 0, lots, "hedge")
        if result is None:
            raise ApiError(409, "no_liquidity", f"The {market.symbol} book has no liquidity to hedge against.")
        self.sessions.enforce(market)
        return result

    def session_reset(self, agent: Agent, symbol: str) -> Session:
        return self.sessions.reset(agent, self.market(symbol))

    def session_of(self, agent: Agent, symbol: str) -> Session:
        return self.sessions.of(agent, self.market(symbol).symbol)

    def inventory(self, agent: Agent, symbol: str):
        market = self.market(symbol)
        return market, agent.ledger(market.symbol, market.grid.lot_scale)

    def fills(self, agent: Agent, symbol: str | None = None, since: float | None = None,
              limit: int | None = None) -> list[FillRecord]:
        """The agent's fills at or after ``since``, oldest first: all of them, or the newest ``limit``."""
        if symbol:
            market = self.market(symbol)
            ledgers = [agent.ledgers[market.symbol]] if market.symbol in agent.ledgers else []
        else:
            self.sync(agent)
            ledgers = list(agent.ledgers.values())
        since_ms = None if since is None else to_ms(since)
        found = [f for ledger in ledgers for f in ledger.fills if since_ms is None or to_ms(f.time) >= since_ms]
        found.sort(key=lambda f: f.time)
        if limit is None:
            return found
        return found[-limit:] if limit > 0 else []

    def fill_page(self, agent: Agent, symbol: str | None = None, since: float | None = None,
                  cursor: str | None = None, limit: int = 100) -> tuple[list[FillRecord], str | None]:
        """One page of the agent's fills, oldest first, and the cursor of the next page (None at the
        end). Fills are in the order they happened, across markets (or on ``symbol``'s market). With
        ``cursor`` (from the page before, with the same ``symbol``): the ``limit`` after it (``since`` is
        then ignored; a cursor past the newest fill gives an empty page). With ``since``: the oldest
        ``limit`` at or after it. With neither: the newest ``limit``."""
        if symbol:
            market = self.market(symbol)
            ledger = agent.ledgers.get(market.symbol)
            if ledger is None:
                return [], None
            count = len(ledger.fills)
            time_at = (lambda i: ledger.fills.time[i])
            read = (lambda a, b: ledger.fills[a:b])
        else:
            self.sync(agent)
            order = agent.fill_order
            count, time_at, read = len(order), order.time, order.records
        if cursor is not None:          # it goes on from its page; a since given with it has done its work
            if not (isinstance(cursor, str) and cursor.isdigit() and len(cursor) <= 12):
                raise invalid_request("cursor must be a next_cursor this route answered.", field="cursor")
            start = min(int(cursor), count)
        elif since is not None:
            start = bisect.bisect_left(range(count), since, key=time_at)
        else:
            start = max(0, count - limit)
        stop = min(count, start + limit)
        return read(start, stop), (str(stop) if stop < count else None)

    def pnl(self, agent: Agent, symbol: str | None = None, since: float | None = None,
            until: float | None = None, window: Window | None = None) -> PnlReport:
        """PnL over (since, until] in seconds (until defaults to now, since to the agent's creation), or
        over the ``window`` (5m, 1h, 24h) that ends at ``until``."""
        now = self.now()
        if window is not None:
            if since is not None:
                raise invalid_request("Give either window or since, not both.", field="window")
            since = (now if until is None else until) - WINDOWS_S[window]
        until = now if until is None else min(until, now)
        since_given = since
        since = agent.created_at if since is None else since
        if since > until:
            raise invalid_request("since must not be after until.", field="since")
        if symbol:
            market = self.market(symbol)
            symbols = [market.symbol] if market.symbol in agent.ledgers else []
            name = market.symbol
        else:
            self.sync(agent)
            symbols, name = sorted(agent.ledgers), None
        # With no ``since`` the window starts before the agent's first fill, even one made at the very
        # instant the agent was created (a manual clock that has not moved): (since, until] would drop it.
        start = -math.inf if since_given is None else since
        total = PnlWindow()
        for s in symbols:
            market = self.markets[s]
            total = total + PnlWindow.of(agent.ledgers[s], start, until,
                                         market.mark_at(max(start, market.started_at)), market.mark_at(until))
        return PnlReport(name, since, until, total)

    # ---- reads: what every front answers with (the contract's messages, see views.py) -----------
    def list_markets(self, limit: int = 100, offset: int = 0) -> MarketList:
        specs = self.catalog.specs[offset:offset + limit]
        items = [views.market_item(spec, self.market(spec.symbol)) for spec in specs]
        return MarketList(markets=items, count=len(items), total=len(self.catalog), offset=offset)

    def market_detail(self, symbol: str) -> MarketDetail:
        market = self.market(symbol)
        return views.market_detail(market.spec, market)

    def price(self, symbol: str) -> Price:
        return views.price(self.market(symbol))

    def orderbook(self, symbol: str, depth: int = 20) -> OrderBook:
        return views.orderbook(self.market(symbol), depth)

    def trades(self, symbol: str, limit: int = 100) -> Trades:
        return views.trades(self.market(symbol), limit)

    def candles(self, symbol: str, interval: Interval = "1m", limit: int = 100) -> Candles:
        return views.candles(self.market(symbol), interval, limit)

    def account(self, agent: Agent) -> Account:
        self.sync(agent)
        positions = [Position(symbol=s, position=l.position, net_delta_usd=views.usd(l.position * self.mark(s)))
                     for s, l in sorted(agent.ledgers.items()) if l.lots]
        return Account(agent_id=agent.agent_id, balance_usd=views.usd(agent.cash),
                       equity_usd=views.usd(self.equity(agent)), open_orders=len(self.open_orders(agent)),
                       positions=positions)

    def orders(self, agent: Agent, symbol: str | None = None, status: OrderStatus = "open",
               cursor: str | None = None, limit: int | None = None) -> Orders:
        """The agent's open orders (all of them), or a page of those that left the book, oldest first:
        without ``cursor`` the newest ``limit``; with it (a ``next_cursor`` answered before, or ``0`` for
        the oldest kept) the ``limit`` from there on. ``cursor`` and ``limit`` page closed orders only: the
        open listing is always whole (a schema cannot tie a parameter to another's value, so they are
        taken there, and change nothing)."""
        if status == "open":
            return Orders(orders=[views.order(m, info) for m, info in self.open_orders(agent, symbol)])
        if status != "closed":
            raise invalid_request("status must be open or closed.", field="status")
        limit = DEFAULT_ORDERS_PAGE if limit is None else limit
        if not (is_whole(limit) and 1 <= limit <= MAX_ORDERS_PAGE):
            raise invalid_request(f"limit must be a whole number from 1 to {MAX_ORDERS_PAGE}.", field="limit")
        if cursor is not None and not (isinstance(cursor, str) and cursor.isascii() and cursor.isdigit()
                                       and len(cursor) <= 12):
            raise invalid_request("cursor must be a next_cursor this route answered.", field="cursor")
        if symbol:
            name = self.market(symbol).symbol
        else:
            self.sync(agent)            # every order that left a book by now is filed
            name = None
        found, after = agent.closed_orders.page(name, None if cursor is None else int(cursor), limit)
        return Orders(orders=[views.closed_order(c) for c in found], next_cursor=None if after is None else str(after))

    def fill_views(self, agent: Agent, symbol: str | None = None, since: float | None = None,
                   cursor: str | None = None, limit: int = 100) -> Fills:
        found, next_cursor = self.fill_page(agent, symbol, since, cursor, limit)
        return Fills(fills=[views.fill(f) for f in found], next_cursor=next_cursor)

    def pnl_view(self, agent: Agent, symbol: str | None = None, since: float | None = None,
                 until: float | None = None, window: Window | None = None) -> Pnl:
        report = self.pnl(agent, symbol, since, until, window)
        return views.pnl(report.symbol, report.since, report.until, report.window)

    # ---- quoting internals --------------------------------------------------------------------
    @staticmethod
    def _check_quote(req: QuoteRequest) -> None:
        """What one field alone cannot say (each field's type and range is ``QuoteRequest``'s own check)."""
        for side in ("bid", "ask"):
            price, size = getattr(req, f"{side}_price"), getattr(req, f"{side}_size")
            if (price is None) != (size is None):
                missing = f"{side}_size" if size is None else f"{side}_price"
                raise invalid_request(f"A {side} needs both {side}_price and {side}_size.", field=missing)
        if req.bid_price is None and req.ask_price is None:
            raise invalid_request("A quote needs at least one whole side: bid_price and bid_size, or ask_price "
                                  "and ask_size.", field="bid_price")
        if req.bid_price is not None and req.ask_price is not None and req.bid_price >= req.ask_price:
            raise ApiError(400, "crossed_quote", "bid_price must be below ask_price.",
                           bid_price=req.bid_price, ask_price=req.ask_price)

    # ---- what the markets tell us (MarketObserver) --------------------------------------------
    def allow_fill(self, market: Market, maker: Order, lots: int) -> int:
        return self.sessions.allow_fill(market, maker, lots)

    def on_fill(self, market: Market, fill: AgentFill) -> None:
        agent = self.agents[fill.owner]
        grid = market.grid
        notional = grid.notional(fill.price, fill.lots)
        if fill.maker:
            fee = -notional * self.config.maker_rebate_bps / 1e4
        else:
            fee = notional * self.config.taker_fee_bps / 1e4
        record = agent.ledger(market.symbol, grid.lot_scale).apply(
            fill_id=orders.fill_id(market, fill.seq), order_id=orders.order_id(market, fill.order_id),
            is_buy=fill.is_buy, price=grid.to_price(fill.price), lots=fill.lots, notional=notional,
            maker=fill.maker, fee=fee, mid=fill.mid, kind=fill.kind, time=fill.time)
        self.analytics.on_fill(agent.agent_id, market, record)
        session = agent.sessions.get(market.symbol)
        if session is not None and fill.kind == "quote":
            session.hedge_due = True

    def on_close(self, market: Market, closed_order: OrderClosed) -> None:
        agent = self.agents.get(closed_order.owner)
        if agent is None:
            return
        c, grid = closed_order, market.grid
        agent.closed_orders.append(ClosedOrder(
            orders.order_id(market, c.seq), market.symbol, c.is_buy, grid.to_price(c.price), grid.to_size(c.size),
            grid.to_size(c.remaining), grid.notional(c.price, c.remaining), c.tif, c.created_at, c.time, c.status,
            c.reason))

    def after_event(self, market: Market) -> None:
        self.analytics.after_event(market)
        self.sessions.enforce(market)
