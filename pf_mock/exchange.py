"""The exchange: the facade every front calls. It owns the clock, the markets and the agents, and hands the
work to where it lives: agents and auth in ``auth.py``, order entry in ``entry.py`` (posting through
``orders.py``), reads in ``reads.py`` and ``views.py``, paging in ``paging.py``, fees in ``fees.py``, the
mock's controls in ``controls.py``, and the markets, made on first touch and brought to now by the event
loop, in ``stepping.py`` (markets call nobody; what they did is booked by whoever gave the command), with
the messages on their way in ``inflight.py``. No HTTP in here.
"""

from __future__ import annotations

from typing import Mapping

from . import auth, controls, entry, orders, paging, reads, views
from .agents import Agent
from .analytics import Analytics
from .catalog import Catalog, load_catalog
from .clock import US_PER_S, Clock, ManualClock
from .entry import QuoteResult
from .errors import invalid_request
from .config import ExchangeConfig
from .inflight import InFlight
from .ledger import FillRecord
from .market import Market
from .messages import (Account, Candles, Fills, Interval, MarketDetail, MarketList, OrderBookView,
                       OrderStatus, Orders, Pnl, Price, QuoteRequest, Trades, Window)
from .orders import TakerResult
from .reads import PnlReport
from .sessions import Session, Sessions
from .source import MarketFactory
from .stepping import Stepper


class Exchange:
    def __init__(self, config: ExchangeConfig | None = None, clock: Clock | None = None,
                 catalog: Catalog | None = None, sources: Mapping[str, MarketFactory] | None = None):
        self.config = config or ExchangeConfig()
        self.clock = clock or ManualClock()
        self.base_catalog = catalog or load_catalog()       # before --latency-ms (a restore starts from it)
        self.catalog = self.base_catalog.with_latency(self.config.latency_ms)
        # symbol -> what makes its market (default: the synthetic ``Market``); e.g. a replayed recording
        self.sources: dict[str, MarketFactory] = dict(sources or {})
        self.seed = self.config.seed
        self._start()

    def _start(self) -> None:
        self.started_at = self.clock.now()
        self.started_us = self.clock.now_us()
        self.markets: dict[str, Market] = {}
        self.agents: dict[str, Agent] = {}
        self._keys: dict[str, str] = {}
        self.analytics = Analytics()              # running per-agent statistics (analytics.py)
        self.sessions = Sessions(self.agents, self.markets, self.catalog, self.config.fees, self.config.taker_fee_bps)
        self.stepper = Stepper(self.clock, self.markets, self.sessions, self.analytics, self.started_us,
                               catalog=self.catalog, seed=self.seed, sources=self.sources)
        self.flight = InFlight(self.seed)         # quotes and cancels on their way (inflight.py)
        self.scenario_name: str | None = None     # set by pf_mock.scenarios.apply_scenario; a reset clears it
        self.scenario_run = None                  # that scenario's pending events check this is still theirs

    def install(self, *, config: ExchangeConfig, seed: int, clock: Clock, started_at: float, started_us: int,
                markets: dict, agents: dict, keys: dict, analytics: Analytics, sessions: Sessions, stepper: Stepper,
                scenario_name: str | None, scenario_run, flight: InFlight, catalog: Catalog) -> None:
        """A restored state (``state.build``'s parts, made beside this exchange) becomes this exchange's."""
        self.config, self.seed, self.clock, self.started_at, self.started_us = config, seed, clock, started_at, started_us
        self.markets, self.agents, self._keys, self.analytics, self.sessions = markets, agents, keys, analytics, sessions
        self.stepper, self.scenario_name, self.scenario_run = stepper, scenario_name, scenario_run
        self.flight, self.catalog = flight, catalog

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
        controls.check_advance(self.clock, seconds)
        self.clock.advance(seconds)
        self.run_to(self.clock.now_us())
        return self.now()

    def run_to(self, t: int) -> None:
        """Every market's events up to ``t`` (microseconds), in one time order (``Stepper.run_to``)."""
        self.stepper.run_to(t)

    def ran_to_us(self) -> int:
        return self.stepper.ran_to_us()

    def instant_us(self) -> int:
        """The instant being processed: an event's during ``run_to``, else the clock's."""
        return self.stepper.instant_us()

    def spec(self, name: str):
        return self.stepper.spec(name)

    def market(self, name: str) -> Market:
        """The market called ``name``, advanced to now (created on first touch: ``Stepper.market_now``)."""
        return self.stepper.market_now(name)

    def peek(self, name: str) -> Market | None:
        """The market if it exists, without advancing it (for checks that must not move time)."""
        return self.markets.get(self.spec(name).symbol)

    def jump(self, name: str, move_bps: float) -> Market:
        controls.check_move(move_bps)
        market = self.market(name)
        controls.check_jump(market, move_bps)
        self.stepper.jump(market, float(move_bps))
        return market

    def set_regime(self, name: str, changes: dict) -> Market:
        market = self.market(name)
        self.stepper.change_regime(market, controls.regime_with(market, changes))
        return market

    # ---- agents and auth (auth.py) -----------------------------------------------------------------
    def agent_for_key(self, key: str) -> Agent | None:
        """The agent that holds ``key``, if any; unlike ``authenticate`` it never provisions one."""
        return auth.agent_for_key(self.agents, self._keys, key)

    def authenticate(self, key: str | None) -> Agent:
        return auth.authenticate(self.agents, self._keys, key, self.config.strict_auth, self.now(),
                                 self.config.starting_balance)

    def register(self, agent_id: str | None = None) -> Agent:
        return auth.register(self.agents, self._keys, agent_id, self.now(), self.config.starting_balance)

    def claim_faucet(self, agent: Agent) -> float:
        return auth.claim_faucet(agent)

    def sync(self, agent: Agent) -> None:
        """Bring every market the agent has business in to now (``Stepper.sync``)."""
        self.stepper.sync(agent)

    def equity(self, agent: Agent) -> float:
        return orders.equity(agent, self.markets, self.instant_us())

    def open_orders(self, agent: Agent, symbol: str | None = None) -> list[tuple[Market, object]]:
        markets = [self.market(symbol)] if symbol else [self.market(s) for s in agent.sessions]
        return [(m, info) for m in markets for info in m.open_orders(agent.agent_id)]

    def margin_required(self, agent: Agent, extra: dict[str, float] | None = None) -> float:
        """Initial margin in use (see ``orders.margin_in_use``); ``extra`` adds notional about to be posted."""
        return orders.margin_in_use(agent, self.markets, self.catalog, self.instant_us(), extra)

    # ---- order entry (entry.py) -----------------------------------------------------------------
    def quote(self, agent: Agent, req: QuoteRequest) -> QuoteResult:
        entry.check_quote(req)
        market = self.stepper.market_now(req.symbol)
        entry.check_trading(market)
        self.sync(agent)
        with self.stepper.noting():
            return entry.send_quote(self.flight, self.sessions, agent, market, req, self.catalog,
                                    self.stepper.instant_us(), self.config.taker_fee_bps)

    def cancel(self, agent: Agent, symbol: str) -> tuple[str, list[str]]:
        return self.cancel_at(agent, symbol)[:2]

    def cancel_at(self, agent: Agent, symbol: str) -> tuple[str, list[str], float]:
        """Cancel the agent's orders on ``symbol``: the ids it takes out and when it reaches the book."""
        market = self.market(symbol)
        with self.stepper.noting():
            ids, when = entry.send_cancel(self.flight, self.sessions, agent, market)
            return market.symbol, ids, when / US_PER_S

    def hedge(self, agent: Agent, symbol: str, hedge_pct: float = 1.0) -> TakerResult:
        entry.check_hedge_pct(hedge_pct)
        market = self.market(symbol)
        with self.stepper.noting():
            return entry.hedge(self.sessions, agent, market, hedge_pct)

    def session_reset(self, agent: Agent, symbol: str) -> Session:
        market = self.market(symbol)
        with self.stepper.noting():
            return self.sessions.reset(agent, market)

    def session_of(self, agent: Agent, symbol: str) -> Session:
        return self.sessions.of(agent, self.market(symbol).symbol)

    def inventory(self, agent: Agent, symbol: str):
        market = self.market(symbol)
        return market, agent.ledger(market.symbol, market.grid.lot_scale)

    # ---- reads (reads.py, views.py; paging.py) -----------------------------------------------------
    def fills(self, agent: Agent, symbol: str | None = None, since: float | None = None,
              limit: int | None = None) -> list[FillRecord]:
        """The agent's fills at or after ``since``, oldest first: all of them, or the newest ``limit``."""
        return reads.fills_since(reads.ledgers_of(agent, self.stepper.symbol_or_sync(agent, symbol)), since, limit)

    def pnl(self, agent: Agent, symbol: str | None = None, since: float | None = None,
            until: float | None = None, window: Window | None = None) -> PnlReport:
        """PnL over (since, until] in seconds (until defaults to now, since to the agent's creation), or
        over the ``window`` (5m, 1h, 24h) that ends at ``until``."""
        start, since, until = reads.pnl_span(self.now(), agent.created_at, since, until, window)
        name = self.stepper.symbol_or_sync(agent, symbol)
        return PnlReport(name, since, until, reads.pnl_total(agent, self.markets, name, start, until))

    def list_markets(self, limit: int = 100, offset: int = 0) -> MarketList:
        specs = self.catalog.specs[offset:offset + limit]
        items = [views.market_item(spec, self.market(spec.symbol)) for spec in specs]
        return MarketList(markets=items, count=len(items), total=len(self.catalog), offset=offset)

    def market_detail(self, symbol: str) -> MarketDetail:
        market = self.market(symbol)
        return views.market_detail(market.spec, market)

    def price(self, symbol: str) -> Price:
        return views.price(self.market(symbol))

    def orderbook(self, symbol: str, depth: int = 20) -> OrderBookView:
        return views.orderbook(self.market(symbol), depth)

    def trades(self, symbol: str, limit: int = 100) -> Trades:
        return views.trades(self.market(symbol), limit)

    def candles(self, symbol: str, interval: Interval = "1m", limit: int = 100) -> Candles:
        return views.candles(self.market(symbol), interval, limit)

    def account(self, agent: Agent) -> Account:
        self.sync(agent)
        marks = {s: self.stepper.mark(s) for s, l in agent.ledgers.items() if l.lots}
        return reads.account(agent, marks, self.equity(agent), len(self.open_orders(agent)))

    def orders(self, agent: Agent, symbol: str | None = None, status: OrderStatus = "open",
               cursor: str | None = None, limit: int | None = None) -> Orders:
        """The agent's open orders (all of them), or a page of those that left the book (``reads.closed_orders``);
        ``cursor`` and ``limit`` page closed orders only, and change nothing for the open listing."""
        if status == "open":
            return Orders(orders=[views.order(m, info) for m, info in self.open_orders(agent, symbol)])
        if status != "closed":
            raise invalid_request("status must be open or closed.", field="status")
        limit, position = reads.closed_orders_limit(limit), paging.cursor_position(cursor)
        return reads.closed_orders(agent, self.stepper.symbol_or_sync(agent, symbol), position, limit)

    def fill_views(self, agent: Agent, symbol: str | None = None, since: float | None = None,
                   cursor: str | None = None, limit: int = 100) -> Fills:
        """One page of the agent's fills and the next page's cursor (see ``reads.fill_page``)."""
        found, next_cursor = reads.fill_page(agent, self.stepper.symbol_or_sync(agent, symbol), since, cursor, limit)
        return Fills(fills=[views.fill(f) for f in found], next_cursor=next_cursor)

    def pnl_view(self, agent: Agent, symbol: str | None = None, since: float | None = None,
                 until: float | None = None, window: Window | None = None) -> Pnl:
        report = self.pnl(agent, symbol, since, until, window)
        return views.pnl(report.symbol, report.since, report.until, report.window)
