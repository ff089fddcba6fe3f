"""The exchange: markets, agents, quotes, hedges and the accounting of every fill. No HTTP in here.

Every operation first brings the markets it touches to the clock's "now" (they advance lazily), then
acts at that instant. Markets report fills and events back through the ``MarketObserver`` methods at
the bottom (``allow_fill``, ``on_fill``, ``after_event``); sessions and their guardrails live in
``guardrails.py`` and run from there, at the simulated instant of each fill, refresh and price move.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

from .agents import (ACTIVE, AGENT_ID_PATTERN, GUARDRAILS, IDLE, KEY_PATTERN, PAUSED, STOPPED, Agent,
                     QuoteShape, Session, agent_id_for_key)
from .book import ALO, GTC, IOC, TIME_IN_FORCE, Order
from .catalog import MIN_NOTIONAL_USD, Catalog, UnknownMarket, load_catalog
from .clock import Clock, ManualClock
from .errors import ApiError, invalid_key, invalid_request, is_number, market_not_found, unauthorized
from .guardrails import SessionKeeper
from .ids import public_id
from .ledger import FillRecord, PnlWindow
from .market import AgentFill, Market
from .model import move_problem, regime_problem

MIN_REFRESH_INTERVAL_S = 0.5
MAX_ADVANCE_S = 7 * 24 * 3600    # one clock advance: a week of live markets is minutes of work; more could stall
MAX_QUOTE_NUMBER = 1e12          # no price, USD size or guardrail beyond this (bigger ones overflow the grid)

@dataclass(frozen=True)
class ExchangeConfig:
    seed: int = 0
    starting_balance: float = 10_000.0
    strict_auth: bool = False
    maker_rebate_bps: float = 2.5       # the seed's -0.025% maker rebate, paid to the maker
    taker_fee_bps: float = 4.5          # the seed's +0.045% taker fee


@dataclass
class QuoteRequest:
    symbol: str
    bid_price: float | None = None
    bid_size: float | None = None
    ask_price: float | None = None
    ask_size: float | None = None
    time_in_force: str = GTC
    auto_refresh: bool | None = None
    refresh_interval_seconds: float | None = None
    max_inventory_usd: float | None = None
    max_spread_bps: float | None = None
    auto_hedge_threshold_usd: float | None = None
    session_stop_loss_usd: float | None = None


@dataclass
class SideOutcome:
    """What happened to one side of a quote."""

    order_id: str | None = None
    price: float | None = None
    size_usd: float | None = None
    qty: float | None = None
    skipped: str | None = None


@dataclass
class QuoteResult:
    symbol: str
    bid: SideOutcome
    ask: SideOutcome
    session: Session
    time: float


@dataclass
class HedgeResult:
    symbol: str
    is_buy: bool
    size: float
    size_usd: float
    fill_price: float
    fee_usd: float
    slippage_usd: float
    net_delta_usd: float
    time: float
    fills: list[FillRecord] = field(default_factory=list)


@dataclass
class PnlReport:
    symbol: str | None
    since: float
    until: float
    window: PnlWindow


class Exchange:
    def __init__(self, config: ExchangeConfig | None = None, clock: Clock | None = None,
                 catalog: Catalog | None = None):
        self.config = config or ExchangeConfig()
        self.clock = clock or ManualClock()
        self.catalog = catalog or load_catalog()
        self.seed = self.config.seed
        self._start()

    def _start(self) -> None:
        self.started_at = self.clock.now()
        self.markets: dict[str, Market] = {}
        self.agents: dict[str, Agent] = {}
        self._keys: dict[str, str] = {}
        self.sessions = SessionKeeper(self)
        self._taker_kind = "quote"
        self._registrations = 0
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
        now = self.now()
        for market in list(self.markets.values()):
            if not market.is_quiet():
                market.advance_to(now)
        return now

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
            market = self.markets[spec.symbol] = Market(spec, self.seed, self.started_at, observer=self)
        market.advance_to(self.now())
        return market

    def peek(self, name: str) -> Market | None:
        """The market if it exists, without advancing it (for checks that must not move time)."""
        return self.markets.get(self.spec(name).symbol)

    def jump(self, name: str, move_bps: float) -> Market:
        problem = move_problem(move_bps)
        if problem:
            raise invalid_request(problem, field="move_bps")
        market = self.market(name)
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
            raise invalid_key("Malformed API key: expected pf_test_ or pf_live_ followed by at least 8 of [A-Za-z0-9_].")
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
        self._registrations += 1
        digest = hashlib.sha256(f"{self.seed}:register:{self._registrations}".encode()).hexdigest()
        key = "pf_test_" + digest[:32]
        return self._add_agent(agent_id or "ag_" + digest[32:44], key)

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

    def equity(self, agent: Agent) -> float:
        return agent.cash + sum(ledger.position * self.markets[s].mid for s, ledger in agent.ledgers.items())

    def open_orders(self, agent: Agent, symbol: str | None = None) -> list[tuple[Market, object]]:
        markets = [self.market(symbol)] if symbol else [self.market(s) for s in agent.sessions]
        return [(m, info) for m in markets for info in m.open_orders(agent.agent_id)]

    def margin_required(self, agent: Agent, extra: dict[str, float] | None = None) -> float:
        """Initial margin: each market's open notional (positions at the mid, plus open orders) over
        its maximum leverage. ``extra`` adds notional that is about to be posted."""
        notional: dict[str, float] = dict(extra or {})
        for symbol, ledger in agent.ledgers.items():
            notional[symbol] = notional.get(symbol, 0.0) + abs(ledger.position) * self.markets[symbol].mid
        for symbol in agent.sessions:
            market = self.markets[symbol]
            for info in market.open_orders(agent.agent_id):
                notional[symbol] = notional.get(symbol, 0.0) + market.grid.notional(info.order.price, info.order.qty)
        return sum(n / self.catalog.resolve(s).max_leverage for s, n in notional.items())

    # ---- market making ------------------------------------------------------------------------
    def quote(self, agent: Agent, req: QuoteRequest) -> QuoteResult:
        self._check_quote(req)
        market = self.market(req.symbol)
        self.sync(agent)
        symbol = market.symbol
        session = agent.session(symbol)
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
        posted = sum(grid.notional(*side) for side in (bid, ask) if side is not None)
        required = self.margin_required(agent, {symbol: posted})
        equity = self.equity(agent)
        if required > equity:
            raise ApiError(402, "insufficient_balance",
                           f"These orders need ${required:,.2f} of margin; equity is ${equity:,.2f}.",
                           required_margin_usd=round(required, 6), equity_usd=round(equity, 6))

        # Valid: from here on the quote takes effect.
        self._configure_session(agent, market, session, req)
        mid = market.mid
        session.shape = QuoteShape(
            bid_bps=(mid - grid.to_price(bid[0])) / mid * 1e4 if bid else None,
            ask_bps=(grid.to_price(ask[0]) - mid) / mid * 1e4 if ask else None,
            bid_usd=req.bid_size if bid else None,
            ask_usd=req.ask_size if ask else None,
            tif=req.time_in_force,
        )
        bid_out, ask_out = self.post_quote(agent, market, session, bid, ask, req.time_in_force)
        self.sessions.enforce(market)
        return QuoteResult(symbol, bid_out, ask_out, session, market.now)

    def cancel(self, agent: Agent, symbol: str) -> tuple[str, list[str]]:
        market = self.market(symbol)
        cancelled = market.cancel_all(agent.agent_id)
        session = agent.sessions.get(market.symbol)
        if session is not None:
            self.sessions.stop_refresh(session)
            if session.status != STOPPED:
                self.sessions.set_status(agent, market, session, IDLE, None)
        ids = [public_id("ord", market.spec.index, order.order_id) for order in cancelled]
        return market.symbol, ids

    def hedge(self, agent: Agent, symbol: str, hedge_pct: float = 1.0) -> HedgeResult:
        if not (is_number(hedge_pct) and 0 < hedge_pct <= 1):
            raise invalid_request("hedge_pct must be a number in (0, 1].", field="hedge_pct")
        market = self.market(symbol)
        ledger = agent.ledgers.get(market.symbol)
        if ledger is None or ledger.lots == 0:
            raise ApiError(409, "no_inventory", f"No inventory to hedge on {market.symbol}.")
        lots = int(abs(ledger.lots) * hedge_pct + 1e-9)
        if lots <= 0:
            raise ApiError(400, "order_too_small", "hedge_pct of the position rounds to zero lots.",
                           field="hedge_pct")
        result = self.market_order(agent, market, ledger.lots < 0, lots, "hedge")
        if result is None:
            raise ApiError(409, "no_liquidity", f"The {market.symbol} book has no liquidity to hedge against.")
        self.sessions.enforce(market)
        return result

    def session_reset(self, agent: Agent, symbol: str) -> Session:
        market = self.market(symbol)
        session = agent.session(market.symbol)
        if session.status == STOPPED:
            session.stopped_at = None
            self.sessions.set_status(agent, market, session, IDLE, None)
        return session

    def session_of(self, agent: Agent, symbol: str) -> Session:
        market = self.market(symbol)
        return agent.session(market.symbol)

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
        found = [f for ledger in ledgers for f in ledger.fills if since is None or f.time >= since]
        found.sort(key=lambda f: f.time)
        if limit is None:
            return found
        return found[-limit:] if limit > 0 else []

    def pnl(self, agent: Agent, symbol: str | None = None, since: float | None = None,
            until: float | None = None) -> PnlReport:
        now = self.now()
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
            total = total + PnlWindow.of(agent.ledgers[s], start, until, market.mid_at(start),
                                         market.mid if until >= market.now else market.mid_at(until))
        return PnlReport(name, since, until, total)

    # ---- quoting internals --------------------------------------------------------------------
    @staticmethod
    def _check_quote(req: QuoteRequest) -> None:
        if req.time_in_force not in TIME_IN_FORCE:
            raise invalid_request("time_in_force must be GTC, ALO or IOC.", field="time_in_force")
        for side in ("bid", "ask"):
            price, size = getattr(req, f"{side}_price"), getattr(req, f"{side}_size")
            if (price is None) != (size is None):
                missing = f"{side}_size" if size is None else f"{side}_price"
                raise invalid_request(f"A {side} needs both {side}_price and {side}_size.", field=missing)
            for name, value in ((f"{side}_price", price), (f"{side}_size", size)):
                if value is not None and not (0 < value <= MAX_QUOTE_NUMBER):
                    raise invalid_request(f"{name} must be a positive number up to {MAX_QUOTE_NUMBER:g}.",
                                          field=name)
        if req.bid_price is None and req.ask_price is None:
            raise invalid_request("A quote needs at least one whole side: bid_price and bid_size, or ask_price "
                                  "and ask_size.", field="bid_price")
        if req.bid_price is not None and req.ask_price is not None and req.bid_price >= req.ask_price:
            raise ApiError(400, "crossed_quote", "bid_price must be below ask_price.",
                           bid_price=req.bid_price, ask_price=req.ask_price)
        if req.refresh_interval_seconds is not None and not (
                math.isfinite(req.refresh_interval_seconds) and req.refresh_interval_seconds >= MIN_REFRESH_INTERVAL_S):
            raise invalid_request(f"refresh_interval_seconds must be at least {MIN_REFRESH_INTERVAL_S}.",
                                  field="refresh_interval_seconds")
        for name in GUARDRAILS:
            value = getattr(req, name)
            if value is not None and not (0 < value <= MAX_QUOTE_NUMBER):
                raise invalid_request(f"{name} must be a positive number up to {MAX_QUOTE_NUMBER:g}.", field=name)

    def _configure_session(self, agent: Agent, market: Market, session: Session, req: QuoteRequest) -> None:
        for name in GUARDRAILS:
            value = getattr(req, name)
            if value is not None:
                session.guardrails[name] = float(value)
        if req.refresh_interval_seconds is not None:
            session.refresh_interval_seconds = float(req.refresh_interval_seconds)
        if not session.live:
            ledger = agent.ledger(market.symbol, market.grid.lot_scale)
            session.started_at = market.now
            session.stopped_at = None
            session.equity_at_start = ledger.totals.cash + ledger.position * market.mid
            self.sessions.set_status(agent, market, session, ACTIVE, None)
        if req.auto_refresh is True and not session.auto_refresh:
            session.auto_refresh = True
            self.sessions.start_refresh(agent, market, session)
        elif req.auto_refresh is False and session.auto_refresh:
            self.sessions.stop_refresh(session)

    def post_quote(self, agent: Agent, market: Market, session: Session, bid, ask, tif: str):
        """Post what the guardrails allow of a bid and an ask (``(units, lots)`` or None)."""
        bid_out, ask_out = SideOutcome(), SideOutcome()
        if self.sessions.spread_too_wide(agent, market, session):
            market.cancel_all(agent.agent_id)       # paused: nothing of the session rests in the book
            self.sessions.set_status(agent, market, session, PAUSED, "market_spread_wide")
            for side, out in ((bid, bid_out), (ask, ask_out)):
                if side is not None:
                    out.skipped = "market_spread_wide"
            return bid_out, ask_out
        if session.status == PAUSED:
            # The spread is back under the limit: quoting resumes now, before anything can trade.
            self.sessions.set_status(agent, market, session, ACTIVE, None)
        ledger = agent.ledger(market.symbol, market.grid.lot_scale)
        for is_buy, side, out in ((True, bid, bid_out), (False, ask, ask_out)):
            if side is None:
                continue
            units, lots = side
            headroom = self.sessions.headroom(session, ledger.lots, market, is_buy)
            if headroom is not None and lots > headroom:
                lots = headroom
                if lots <= 0 or market.grid.notional(units, lots) < MIN_NOTIONAL_USD:
                    out.skipped = "max_inventory"
                    continue
            if tif == ALO and market.book.would_cross(is_buy, units):
                out.skipped = "would_cross"
                continue
            self._taker_kind = "quote"
            order_id, result = market.place(agent.agent_id, is_buy, units, lots, tif)
            out.order_id = public_id("ord", market.spec.index, order_id)
            out.price = market.grid.to_price(units)
            out.size_usd = market.grid.notional(units, lots)
            out.qty = market.grid.to_size(lots)
        return bid_out, ask_out

    def market_order(self, agent: Agent, market: Market, is_buy: bool, lots: int, kind: str) -> HedgeResult | None:
        """A market order for the agent; None if nothing filled."""
        ledger = agent.ledger(market.symbol, market.grid.lot_scale)
        before = len(ledger.fills)
        self._taker_kind = kind
        try:
            market.place(agent.agent_id, is_buy, None, lots, IOC, tag=kind)
        finally:
            self._taker_kind = "quote"
        fills = ledger.fills[before:]
        if not fills:
            return None
        size = sum(f.size for f in fills)
        size_usd = sum(f.notional for f in fills)
        return HedgeResult(
            symbol=market.symbol, is_buy=is_buy, size=size, size_usd=size_usd, fill_price=size_usd / size,
            fee_usd=sum(f.fee for f in fills), slippage_usd=-sum(f.edge for f in fills),
            net_delta_usd=ledger.position * market.mid, time=market.now, fills=fills)

    # ---- what the markets tell us (MarketObserver) --------------------------------------------
    def allow_fill(self, market: Market, maker: Order, lots: int) -> int:
        return self.sessions.allow_fill(market, maker, lots)

    def on_fill(self, market: Market, fill: AgentFill) -> None:
        agent = self.agents[fill.owner]
        grid = market.grid
        notional = grid.notional(fill.price, fill.lots)
        if fill.maker:
            fee, kind = -notional * self.config.maker_rebate_bps / 1e4, "quote"
        else:
            fee, kind = notional * self.config.taker_fee_bps / 1e4, self._taker_kind
        agent.ledger(market.symbol, grid.lot_scale).apply(
            fill_id=public_id("fill", market.spec.index, fill.seq),
            order_id=public_id("ord", market.spec.index, fill.order_id),
            is_buy=fill.is_buy, price=grid.to_price(fill.price), lots=fill.lots, notional=notional,
            maker=fill.maker, fee=fee, mid=fill.mid, kind=kind, time=fill.time)
        session = agent.sessions.get(market.symbol)
        if session is not None and kind == "quote":
            session.hedge_due = True

    def after_event(self, market: Market) -> None:
        self.sessions.enforce(market)
