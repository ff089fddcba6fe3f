"""The exchange's markets and the event loop that brings them to now: each market is made on first
touch (by its symbol's source, ``source.MarketFactory``) and stepped event by event, since markets call
nobody. After each event what it did to agents' orders (the market's news) is booked
(``Sessions.settle``), the statistics move to its instant and the guardrails look. It also hands the
sessions' notes (posts, fills booked, guardrails that acted) to the analytics, in order. No HTTP in here.
"""

from __future__ import annotations

from typing import Mapping

from . import timeline
from .agents import Agent
from .analytics import Analytics
from .catalog import Catalog, MarketSpec, UnknownMarket
from .clock import Clock
from .errors import market_not_found
from .market import Market
from .sessions import Sessions
from .source import MarketFactory


class Stepper:
    """The markets, made on first touch; brings them to an instant in one global time order and looks
    after each event."""

    def __init__(self, clock: Clock, markets: dict[str, Market], sessions: Sessions, analytics: Analytics,
                 started_us: int, ran_to_us: int | None = None, *, catalog: Catalog, seed: int,
                 sources: Mapping[str, MarketFactory]):
        self.clock = clock
        self.markets = markets
        self.sessions = sessions
        self.analytics = analytics
        self.started_us = started_us
        self.catalog = catalog              # the markets there are, by name
        self.seed = seed
        self.sources = sources              # symbol -> what makes its market (default: the synthetic ``Market``)
        self.event_us: int | None = None     # the event being processed during ``run_to``
        self.ran_to: int | None = ran_to_us  # the instant ``run_to`` last brought every live market to

    # ---- the markets --------------------------------------------------------------------------
    def spec(self, name: str) -> MarketSpec:
        """The catalog's market called ``name`` (a 404 market_not_found if there is none)."""
        try:
            return self.catalog.resolve(name)
        except UnknownMarket:
            raise market_not_found(name) from None

    def market_now(self, name: str) -> Market:
        """The market called ``name``, advanced to now (made on first touch)."""
        spec = self.spec(name)
        market = self.markets.get(spec.symbol)
        if market is None:
            factory = self.sources.get(spec.symbol, Market)
            market = self.markets[spec.symbol] = factory(spec, self.seed, self.started_us)
        self.to_now(market)
        return market

    def sync(self, agent: Agent) -> None:
        """Bring every market the agent has business in to now."""
        for symbol in list(agent.sessions.keys() | agent.ledgers.keys()):
            self.market_now(symbol)

    def symbol_or_sync(self, agent: Agent, symbol: str | None) -> str | None:
        """Bring ``symbol``'s market to now and answer its name, or with no symbol all the agent's (None)."""
        if symbol:
            return self.market_now(symbol).symbol
        self.sync(agent)
        return None

    def mark(self, symbol: str) -> float:
        """A market's mark price at the instant being processed (quiet markets included, exactly)."""
        return self.markets[symbol].mark_at(self.instant_us())

    # ---- time ---------------------------------------------------------------------------------

    def run_to(self, t: int) -> None:
        """Process every market's events up to ``t`` (microseconds) in one global time order (see
        ``timeline``), so that what one market's event reads of another (margin, equity) is that market as
        it stands at that instant, however the clock was stepped. Quiet markets have no events; their
        scheduled steps (scenarios) are events like any other."""
        if t == self.ran_to:
            return                          # already done for this instant (one request reads many markets)
        self.ran_to = t
        for when, market in timeline.due_events(self.markets.values(), t):
            self.event_us = when
            try:
                self.step(market, t)
            finally:
                self.event_us = None
        for market in self.markets.values():
            if not market.is_quiet():
                self.bring(market, t)

    def to_now(self, market: Market) -> None:
        """Every live market to the clock's now and ``market`` with them (during an event: to its instant)."""
        now = self.clock.now_us()
        if self.event_us is None:
            self.run_to(now)
        self.bring(market, now if self.event_us is None else self.event_us)

    def bring(self, market: Market, t: int) -> None:
        """Step one market through its events up to ``t``, looking after each, then stand it at ``t``."""
        while self.step(market, t) is not None:
            pass
        market.stand_at(t)

    def step(self, market: Market, t: int) -> bool | None:
        """The market's next event at or before ``t``, booked and looked after (None: it has none)."""
        limits = self.sessions.limits(market)
        look = market.step_until(t, limits)
        if look:
            self.after_event(market)
        elif market.news:
            self.sessions.settle(market)
        return look

    def ran_to_us(self) -> int:
        """The instant every market with live business was last brought to (the start, before any was)."""
        return self.started_us if self.ran_to is None else self.ran_to

    def instant_us(self) -> int:
        """The instant being processed: an event's during ``run_to``, else the clock's."""
        return self.event_us if self.event_us is not None else self.clock.now_us()

    def jump(self, market: Market, move_bps: float) -> None:
        market.jump(move_bps, self.sessions.limits(market))
        self.after_event(market)

    def change_regime(self, market: Market, regime) -> None:
        market.set_regime(regime, self.sessions.limits(market))
        self.after_event(market)

    def after_event(self, market: Market) -> None:
        """A market processed an event (or was changed) at its now: what it did to agents' orders is booked,
        the statistics move to now and the guardrails look (a guardrail's own trades are booked as made)."""
        self.sessions.settle(market)
        self.hand_notes()
        mark = market.mark          # read once: the statistics and the guardrails see the same instant
        self.analytics.after_event(market, mark)
        self.sessions.enforce(market, mark)
        self.hand_notes()

    def noting(self) -> "Stepper":
        """``with stepper.noting(): ...``: an operation outside the event loop, after which (however it ends)
        the sessions' notes are handed to the analytics."""
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        self.hand_notes()

    def hand_notes(self) -> None:
        """What the sessions noted (posts, fills booked, guardrails that acted), handed to the analytics in
        order."""
        notes = self.sessions.notes
        if notes:
            self.sessions.notes = []
            self.analytics.take(notes)
