"""Market-making sessions, one per agent and symbol: their status and reason, the server-side refresh
loop and the guardrails, enforced at the simulated instant of every fill, refresh and price move.

The exchange owns one ``Sessions``. Before a sweep a market asks the exchange how much each agent's
resting orders may fill (``allowance``); after every event the exchange runs the guardrails
(``enforce``). Sessions trade only through ``orders`` (``place``, ``market_order``), as the exchange
does, so every order is posted one way and every fill is accounted for in one place. What a session
posts and each guardrail that acts is written down as a value (``analytics.Posted``, ``Tripped``) in
``notes``, in order; the exchange hands those to the analytics. Nothing here calls the exchange or the
analytics.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from . import booking, closed, orders
from .agents import Agent
from .analytics import Posted, Tripped
from .catalog import MIN_NOTIONAL_USD, Catalog
from .fees import FeeSchedule
from .guardrails import AUTO_HEDGE, MAX_INVENTORY, MAX_SPREAD, NAMES as GUARDRAILS, STOP_LOSS, inventory_lots
from .market import Market
from .messages import DEFAULT_REFRESH_INTERVAL_S
from .orders import SideOutcome, Sized

IDLE, ACTIVE, PAUSED, STOPPED = "idle", "active", "paused", "stopped"
STATUSES = (IDLE, ACTIVE, PAUSED, STOPPED)


@dataclass
class QuoteShape:
    """The last quote of a session, as distances from the mid: what the refresh loop re-posts."""

    bid_bps: float | None
    ask_bps: float | None
    bid_usd: float | None
    ask_usd: float | None
    tif: str


@dataclass
class Session:
    symbol: str
    status: str = IDLE
    reason: str | None = None
    guardrails: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(GUARDRAILS))
    auto_refresh: bool = False
    refresh_interval_seconds: float = DEFAULT_REFRESH_INTERVAL_S
    started_at: float | None = None
    stopped_at: float | None = None
    shape: QuoteShape | None = None
    generation: int = 0                 # bumps when the refresh loop is stopped; old timers lapse
    equity_at_start: float = 0.0        # this market's cash + position x mid when the session began
    hedge_due: bool = False             # a fill happened since the auto-hedge last looked
    # Some guardrail is set (they are set, never unset): the shortcut of ``Sessions.enforce``, not state.
    guarded: bool = field(default=False, repr=False, compare=False)

    @property
    def live(self) -> bool:
        return self.status in (ACTIVE, PAUSED)

    def guard(self, name: str) -> float | None:
        return self.guardrails.get(name)


class RefreshTick:
    """One pending turn of a session's refresh loop, scheduled on its market: data, not a closure, so
    that a snapshot can write it down (``state``) and a restore make it again. A tick whose session
    was stopped or restarted since (its ``generation`` is old) lapses: it does nothing, schedules nothing."""

    __slots__ = ("sessions", "agent_id", "generation")

    def __init__(self, sessions: "Sessions", agent_id: str, generation: int):
        self.sessions = sessions
        self.agent_id = agent_id
        self.generation = generation

    def __call__(self, m: Market) -> None:
        agent = self.sessions.agents[self.agent_id]
        session = agent.sessions[m.symbol]
        if session.generation != self.generation or not session.auto_refresh or not session.live:
            return
        self.sessions.refresh(agent, m, session)
        if session.generation == self.generation and session.auto_refresh and session.live:
            m.schedule(m.now + session.refresh_interval_seconds, self)

    def state(self) -> dict:
        return {"type": "refresh", "agent_id": self.agent_id, "generation": self.generation}


class Sessions:
    def __init__(self, agents: Mapping[str, Agent], markets: Mapping[str, Market], catalog: Catalog,
                 fees: FeeSchedule | None = None, taker_fee_bps: float = 4.5):
        self.agents = agents            # the exchange's own tables, read here, never replaced
        self.markets = markets
        self.catalog = catalog
        self.fees = fees or FeeSchedule()        # what booking a fill charges
        self.taker_fee_bps = taker_fee_bps      # a refresh that crosses the book pays it: its margin counts it
        self.notes: list[Posted | Tripped] = []      # every post and every guardrail that acted, in order
        self.live: dict[str, dict[str, Session]] = {}   # symbol -> agent id -> its live session there
        self._limits: dict[str, dict | None] = {}      # symbol -> ``limits``, until a session there changes

    # ---- one session's life ---------------------------------------------------------------------
    @staticmethod
    def of(agent: Agent, symbol: str) -> Session:
        """The agent's session on ``symbol`` (a new, idle one on first use)."""
        session = agent.sessions.get(symbol)
        if session is None:
            session = agent.sessions[symbol] = Session(symbol)
        return session

    def set_status(self, agent: Agent, market: Market, session: Session, status: str, reason: str | None) -> None:
        if status == PAUSED and session.status != PAUSED:
            self.notes.append(Tripped(agent.agent_id, market, MAX_SPREAD.name, reason))
        session.status, session.reason = status, reason
        self._limits.pop(market.symbol, None)
        live = self.live.setdefault(market.symbol, {})
        if session.live:
            live[agent.agent_id] = session
        else:
            live.pop(agent.agent_id, None)
        market.watchers = len(live)

    def configure(self, agent: Agent, market: Market, session: Session, guardrails: Mapping[str, float | None],
                  refresh_interval_seconds: float | None, auto_refresh: bool | None) -> None:
        """Apply what a quote says about its session: guardrails, the refresh loop, and a start if idle."""
        self._limits.pop(market.symbol, None)
        for name in GUARDRAILS:
            value = guardrails.get(name)
            if value is not None:
                session.guardrails[name] = float(value)
                session.guarded = True
        if refresh_interval_seconds is not None:
            session.refresh_interval_seconds = float(refresh_interval_seconds)
        starting = not session.live
        if starting:
            session.started_at = market.now
            session.stopped_at = None
            self.set_status(agent, market, session, ACTIVE, None)
        if auto_refresh is True and not session.auto_refresh:
            session.auto_refresh = True
            self.start_refresh(agent, market, session)
        elif auto_refresh is False and session.auto_refresh:
            self.stop_refresh(session)
        if starting:
            # A live session always has its ledger (``post`` and the guardrails read it): made here.
            ledger = agent.ledger(market.symbol, market.grid.lot_scale)
            session.equity_at_start = ledger.totals.cash + ledger.position * market.mark

    def cancelled(self, agent: Agent, market: Market) -> None:
        """The agent cancelled its orders on this market: the refresh loop stops and the session idles."""
        session = agent.sessions.get(market.symbol)
        if session is not None:
            self.stop_refresh(session)
            if session.status != STOPPED:
                self.set_status(agent, market, session, IDLE, None)
        self.settle(market)         # the cancelled orders, filed

    def reset(self, agent: Agent, market: Market) -> Session:
        """Clear a stopped session so quoting may start again (position and history stay)."""
        session = self.of(agent, market.symbol)
        if session.status == STOPPED:
            session.stopped_at = None
            self.set_status(agent, market, session, IDLE, None)
        return session

    def stop(self, agent: Agent, market: Market, session: Session) -> None:
        market.cancel_all(agent.agent_id, closed.STOP_LOSS)
        self.stop_refresh(session)
        session.stopped_at = market.now
        self.notes.append(Tripped(agent.agent_id, market, STOP_LOSS.name, "stop_loss"))
        self.set_status(agent, market, session, STOPPED, "stop_loss")

    # ---- posting ----------------------------------------------------------------------------------
    def post(self, agent: Agent, market: Market, session: Session, bid: Sized, ask: Sized,
             tif: str, seqs: tuple[int | None, int | None] = (None, None)) -> tuple[SideOutcome, SideOutcome]:
        """Post what the guardrails allow of a bid and an ask (``seqs``: their order numbers, if given out)."""
        bid_out, ask_out = SideOutcome(), SideOutcome()
        if self.spread_too_wide(agent, market, session):
            self.set_status(agent, market, session, PAUSED, "market_spread_wide")
            market.cancel_all(agent.agent_id, closed.SPREAD_PAUSE)  # paused: nothing of the session rests
            for side, out in ((bid, bid_out), (ask, ask_out)):
                if side is not None:
                    out.skipped = "market_spread_wide"
            return bid_out, ask_out
        if session.status == PAUSED:
            # The spread is back under the limit: quoting resumes now, before anything can trade.
            self.set_status(agent, market, session, ACTIVE, None)
        ledger = agent.ledgers[market.symbol]       # made when the session started (``configure``)
        limits = self.limits(market)
        outcomes = [bid_out, ask_out]
        for i, (is_buy, side) in enumerate(((True, bid), (False, ask))):
            if side is None:
                continue
            units, lots = side
            headroom = self.headroom(session, ledger.lots, market, is_buy)
            if headroom is not None and lots > headroom:
                lots = headroom
                if lots <= 0 or market.grid.notional(units, lots) < MIN_NOTIONAL_USD:
                    outcomes[i].skipped = "max_inventory"
                    continue
            outcomes[i] = orders.place(agent, market, is_buy, units, lots, tif, limits, seqs[i])
            if market.news:
                self.settle(market)
            if outcomes[i].order_id is not None:
                self.notes.append(Posted(agent.agent_id, market, is_buy, outcomes[i].size_usd))
        return outcomes[0], outcomes[1]

    # ---- the refresh loop -------------------------------------------------------------------------
    def start_refresh(self, agent: Agent, market: Market, session: Session) -> None:
        market.schedule(market.now + session.refresh_interval_seconds,
                        RefreshTick(self, agent.agent_id, session.generation))

    def stop_refresh(self, session: Session) -> None:
        session.auto_refresh = False
        session.generation += 1

    def refresh(self, agent: Agent, market: Market, session: Session) -> None:
        """Cancel the session's orders and re-post the last quote's shape around the current mid."""
        market.cancel_all(agent.agent_id, closed.REFRESH)
        shape = session.shape
        if shape is None or session.status != ACTIVE:
            return
        mid, grid = market.mid, market.grid
        mark_units = market.mark_units()
        mark = grid.to_price(mark_units)
        sides = []
        for bps, usd, rounding, sign in ((shape.bid_bps, shape.bid_usd, grid.price_down, -1),
                                         (shape.ask_bps, shape.ask_usd, grid.price_up, 1)):
            if bps is None:
                sides.append(None)
                continue
            units = rounding(mid * (1 + sign * bps / 1e4))
            lots = grid.lots_for_usd(usd, units)
            fits = units > 0 and grid.notional(units, lots) >= MIN_NOTIONAL_USD
            sides.append((units, lots) if fits and not orders.out_of_band(grid.to_price(units), mark) else None)
        # Margin as a quote's: each side at the worse of its price and the mark, plus what filling at once costs.
        notional = at_once = 0.0
        for is_buy, side in zip((True, False), sides):
            if side is not None:
                size, cost = orders.side_cost(market, is_buy, side[0], side[1], mark_units, self.taker_fee_bps)
                notional += size
                at_once += cost
        # Every market marked at this refresh's instant (one global event order: the others stand there too).
        required = orders.margin_in_use(agent, self.markets, self.catalog, market.now_us, {market.symbol: notional})
        if required + at_once > orders.equity(agent, self.markets, market.now_us):
            session.reason = "insufficient_balance"
            return
        if session.reason == "insufficient_balance":
            session.reason = None
        self.post(agent, market, session, sides[0], sides[1], shape.tif)

    # ---- the guardrails ---------------------------------------------------------------------------
    def headroom(self, session: Session, lots: int, market: Market, is_buy: bool,
                 mark: float | None = None) -> int | None:
        """Lots a fill on this side may add before |net delta| would pass max_inventory_usd (``mark``:
        the market's mark, when the caller has just read it)."""
        limit = session.guardrails.get(MAX_INVENTORY.name) if session.live else None
        if limit is None:
            return None
        max_lots = inventory_lots(limit, market.grid.lot_scale, market.mark if mark is None else mark)
        return max(0, max_lots - lots) if is_buy else max(0, max_lots + lots)

    def held_side(self, session: Session, lots: int, market: Market, mark: float | None = None) -> bool | None:
        """The side max_inventory_usd holds (True = bid, False = ask), or None. A side is held once the
        headroom it has left is under the minimum order: from then on no quote or refresh can post it,
        so a resting order on it goes too (fills stop at a whole lot under the limit, so |net delta|
        itself may never quite reach the limit)."""
        if not lots:
            return None
        if mark is None:
            mark = market.mark
        growing_buy = lots > 0
        headroom = self.headroom(session, lots, market, growing_buy, mark)
        if headroom is None or headroom * mark / market.grid.lot_scale >= MIN_NOTIONAL_USD:
            return None
        return growing_buy

    def spread_too_wide(self, agent: Agent, market: Market, session: Session) -> bool:
        limit = session.guard(MAX_SPREAD.name)
        if limit is None:
            return False
        bid, ask = market.best_excluding(agent.agent_id)
        if bid is None or ask is None:
            return True
        return MAX_SPREAD.breached((ask - bid) * 2e4 / (ask + bid), limit)

    def session_pnl(self, agent: Agent, market: Market, session: Session, mark: float | None = None) -> float:
        ledger = agent.ledgers.get(market.symbol)
        if ledger is None:
            return 0.0
        return ledger.totals.cash + ledger.position * (market.mark if mark is None else mark) - session.equity_at_start

    def enforce(self, market: Market, mark: float | None = None) -> None:
        """Run every live session's guardrails on this market at this instant. A guardrail's own
        orders (auto-hedges) can fill other agents, so it goes round until nothing is left to do.
        ``mark``: the market's mark, when the caller has just read it (it holds until a session acts)."""
        live = self.live.get(market.symbol)
        if not live:
            return
        for _ in range(len(live) + 2):
            acted = False
            for agent_id, session in list(live.items()):
                if not session.guarded:
                    # All guard_session would do: no guardrail acts, and the auto-hedge has looked. (Such
                    # a session is always active, and its ledger was made when it started.)
                    session.hedge_due = False
                    continue
                acted |= self.guard_session(self.agents[agent_id], market, session, mark)
                mark = None     # a session's guardrails may have traded or cancelled: the next one reads it
            if not acted:
                break
        if market.news:
            self.settle(market)     # what the guardrails cancelled, filed

    def guard_session(self, agent: Agent, market: Market, session: Session, mark: float | None = None) -> bool:
        """Apply the guardrails of one session; True if it traded (so others should look again). ``mark``:
        the market's mark, when the caller has just read it."""
        if not session.live:
            return False
        # The mark is read once, and again only after this session has traded or cancelled.
        if mark is None:
            mark = market.mark
        guardrails = session.guardrails
        traded = False
        stop_loss = guardrails.get(STOP_LOSS.name)
        if stop_loss is not None and STOP_LOSS.breached(self.session_pnl(agent, market, session, mark), stop_loss):
            self.stop(agent, market, session)
            return False
        ledger = agent.ledgers[market.symbol]       # made when the session started (``configure``)
        threshold = guardrails.get(AUTO_HEDGE.name)
        if session.hedge_due:
            session.hedge_due = False
            if threshold is not None and AUTO_HEDGE.breached(ledger.position * mark, threshold) and ledger.lots:
                traded = self.market_order(agent, market, ledger.lots < 0, abs(ledger.lots), "auto_hedge") > 0
                if traded:
                    self.notes.append(Tripped(agent.agent_id, market, AUTO_HEDGE.name))
                mark = market.mark
                if stop_loss is not None and STOP_LOSS.breached(self.session_pnl(agent, market, session, mark),
                                                                stop_loss):
                    self.stop(agent, market, session)
                    return traded
        if guardrails.get(MAX_SPREAD.name) is not None:
            wide = self.spread_too_wide(agent, market, session)
            if wide and session.status == ACTIVE:
                self.set_status(agent, market, session, PAUSED, "market_spread_wide")
                market.cancel_all(agent.agent_id, closed.SPREAD_PAUSE)
                mark = market.mark
            elif not wide and session.status == PAUSED:
                self.set_status(agent, market, session, ACTIVE, None)
        lots = ledger.lots
        held = self.held_side(session, lots, market, mark) if lots else None     # no position: no side held
        if held is not None:
            market.cancel_all(agent.agent_id, closed.MAX_INVENTORY, is_buy=held)
        if session.status == ACTIVE:        # a paused session's reason stays market_spread_wide
            if held is not None:
                reason = f"{MAX_INVENTORY.name}: {'bid' if held else 'ask'} held"
                if session.reason != reason:
                    self.notes.append(Tripped(agent.agent_id, market, MAX_INVENTORY.name, reason))
                session.reason = reason
            elif session.reason and session.reason.startswith(MAX_INVENTORY.name):
                session.reason = None
        return traded

    # ---- what the markets did ------------------------------------------------------------------------
    def limits(self, market: Market) -> dict | None:
        """The inventory limits handed down with every command on ``market``: agent id -> (its live
        session's max_inventory_usd, its ledger), for the live sessions that set one (None: nobody). The
        market turns them into lots at the mark of each sweep, so the limit holds at every fill. Kept per
        market until a session there changes its status or guardrails."""
        symbol = market.symbol
        try:
            return self._limits[symbol]
        except KeyError:
            pass
        found = None
        for agent_id, session in self.live.get(symbol, {}).items():
            limit = session.guardrails.get(MAX_INVENTORY.name)
            if limit is not None:
                if found is None:
                    found = {}
                found[agent_id] = (limit, self.agents[agent_id].ledgers[symbol])
        self._limits[symbol] = found
        return found

    def settle(self, market: Market) -> None:
        """Book what the market's commands did to agents' orders (its news), in order: every fill in its
        ledger, every closed order filed; the fills go to the notes for the analytics. Done at once after
        anything that fills (what follows reads the ledgers); a cancel's closes wait for the next one, or for
        the exchange's at the end of the operation or event."""
        if market.news:
            self.notes.extend(booking.settle(self.agents, market, self.fees))

    def market_order(self, agent: Agent, market: Market, is_buy: bool, lots: int, kind: str) -> int:
        """A market order for the agent, booked; how many fills of the agent's it booked (the last ones of
        its ledger: a hedge sums them up with ``orders.taker_result``)."""
        limits = self.limits(market)
        ledger = agent.ledgers[market.symbol]       # a hedge has a position; a live session, its ledger
        before = len(ledger.fills)
        orders.market_order(agent, market, is_buy, lots, kind, limits)
        self.settle(market)
        return len(ledger.fills) - before
