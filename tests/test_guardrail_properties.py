"""The guardrails as properties: a hypothesis state machine drives the core exchange (no HTTP, for
speed) with random quotes, guardrail settings, jumps of the mid, regime changes, clock advances,
hedges, cancels and resets, and checks after every step, and at the instant of every fill:

- fills never carry |net delta| past max_inventory_usd (only price moves may);
- nothing fills for a paused, stopped or idle session; a paused or stopped session has no orders;
- a live session is paused exactly while the market's own spread is wider than max_spread_bps;
- a live session's PnL is above -session_stop_loss_usd (or it would have been stopped);
- an auto-hedge leaves the position flat, and the side max_inventory holds has no resting order;
- every PnL figure equals the independent reference accountant's (tests/reference_accountant.py).
"""

from __future__ import annotations

import math

from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from pf_mock import orders, views
from pf_mock.catalog import MIN_NOTIONAL_USD
from pf_mock.clock import ManualClock
from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, ExchangeConfig, QuoteRequest
from pf_mock.market import AgentFill, Market
from pf_mock.sessions import ACTIVE, IDLE, PAUSED, STOPPED
from reference_accountant import Reference

SYMBOL = "BTC-PERP"
KEY = "pf_test_property_12345678"
TOLERANCE = 1e-6


class WatchedExchange(Exchange):
    """The core exchange, with every fill recorded as it is booked (at once, after the command or event
    that made it), together with the state of its owner's session just before it."""

    def _start(self) -> None:
        super()._start()
        self.fill_log: list[dict] = []
        settle = self.sessions.settle

        def watched(market: Market) -> None:
            lots: dict = {}
            for fill in market.news:
                if type(fill) is not AgentFill:
                    continue
                agent = self.agents[fill.owner]
                session = agent.sessions.get(market.symbol)
                ledger = agent.ledgers.get(market.symbol)
                before = lots.get(fill.owner, ledger.lots if ledger else 0)
                after = lots[fill.owner] = before + (fill.lots if fill.is_buy else -fill.lots)
                self.fill_log.append(dict(
                    status=session.status if session else None,
                    limit=session.guard("max_inventory_usd") if session else None, before=before, after=after,
                    mid=fill.mid, time=fill.time, maker=fill.maker, kind=fill.kind,
                    order_id=orders.order_id(market, fill.order_id), lot_scale=market.grid.lot_scale))
            settle(market)

        self.sessions.settle = watched


def check_fills(log: list[dict]) -> None:
    """What must hold of each fill at the instant it was made."""
    for f in log:
        if f["maker"] or f["kind"] == "quote":
            assert f["status"] == ACTIVE, f"a {f['status']} session traded: {f}"
        if f["kind"] == "auto_hedge":
            assert f["status"] in (ACTIVE, PAUSED)
        if f["limit"] is not None and f["status"] in (ACTIVE, PAUSED) and abs(f["after"]) > abs(f["before"]):
            delta = abs(f["after"]) / f["lot_scale"] * f["mid"]
            assert delta <= f["limit"] * (1 + 1e-12) + TOLERANCE, f"a fill took |delta| to {delta} > {f['limit']}"
    # An auto-hedge (a market order, maybe several fills) ends flat.
    last_of_order = {f["order_id"]: f for f in log if f["kind"] == "auto_hedge"}
    for f in last_of_order.values():
        assert f["after"] == 0, f"an auto-hedge left {f['after']} lots"


GUARD_VALUES = {
    "max_inventory_usd": st.floats(20, 1_500),
    "max_spread_bps": st.floats(2, 50),
    "auto_hedge_threshold_usd": st.floats(50, 2_000),
    "session_stop_loss_usd": st.floats(1, 60),
}


class GuardrailMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ex = WatchedExchange(ExchangeConfig(seed=0), ManualClock())
        self.agent = self.ex.authenticate(KEY)
        self.checked = 0            # fills of the log already checked

    # ---- helpers ------------------------------------------------------------------------------
    @property
    def market(self) -> Market:
        return self.ex.market(SYMBOL)

    @property
    def session(self):
        return self.ex.sessions.of(self.agent, SYMBOL)

    def orders(self, is_buy: bool | None = None) -> list:
        return [info for info in self.market.open_orders(self.agent.agent_id)
                if is_buy is None or info.order.is_buy == is_buy]

    def check_new_fills(self) -> None:
        check_fills(self.ex.fill_log[self.checked:])
        times = [f["time"] for f in self.ex.fill_log]
        assert times == sorted(times)
        self.checked = len(self.ex.fill_log)

    # ---- rules --------------------------------------------------------------------------------
    @initialize(bid_bps=st.floats(0, 20), ask_bps=st.floats(0, 20), usd=st.floats(50, 600),
                guards=st.fixed_dictionaries({}, optional=GUARD_VALUES), interval=st.floats(0.5, 10))
    def start_quoting(self, bid_bps, ask_bps, usd, guards, interval):
        """Every history starts with a session that refreshes itself, so that things happen."""
        self.quote(bid_bps, ask_bps, usd, usd, guards, True, interval, "GTC")

    @rule(bid_bps=st.none() | st.floats(-8, 40), ask_bps=st.none() | st.floats(-8, 40),
          bid_usd=st.floats(15, 600), ask_usd=st.floats(15, 600),
          guards=st.fixed_dictionaries({}, optional=GUARD_VALUES),
          auto_refresh=st.sampled_from([None, True, False]),
          interval=st.none() | st.floats(0.5, 10),
          tif=st.sampled_from(["GTC", "GTC", "ALO", "IOC"]))
    def quote(self, bid_bps, ask_bps, bid_usd, ask_usd, guards, auto_refresh, interval, tif):
        if bid_bps is None and ask_bps is None:
            bid_bps = 5.0
        mid = self.market.mid
        req = QuoteRequest(symbol=SYMBOL, time_in_force=tif, auto_refresh=auto_refresh,
                           refresh_interval_seconds=interval, **guards)
        if bid_bps is not None:
            req.bid_price, req.bid_size = mid * (1 - bid_bps / 1e4), bid_usd
        if ask_bps is not None:
            req.ask_price, req.ask_size = mid * (1 + ask_bps / 1e4), ask_usd
        was = self.session.status
        try:
            result = self.ex.quote(self.agent, req)
        except ApiError as error:
            if error.code == "session_stopped":
                assert was == STOPPED
            else:
                assert error.code in ("crossed_quote", "order_too_small", "insufficient_balance"), error.code
            assert was != STOPPED or error.code in ("session_stopped", "crossed_quote")
            return
        assert was != STOPPED
        if result.session.status == PAUSED:
            assert result.bid.order_id is None and result.ask.order_id is None
        for out, usd in ((result.bid, bid_usd), (result.ask, ask_usd)):
            if out.order_id is not None:
                assert out.size_usd <= usd + TOLERANCE      # never more than asked (maybe cut)

    @rule(move=st.floats(-300, 300))
    def jump(self, move):
        self.ex.jump(SYMBOL, move)

    @rule(seconds=st.floats(0.5, 30))
    def advance(self, seconds):
        self.ex.advance(seconds)

    @rule(spread=st.sampled_from([1.0, 3.0, 30.0, 80.0]))
    def regime(self, spread):
        self.ex.set_regime(SYMBOL, {"spread_bps": spread})

    @rule()
    def cancel(self):
        was = self.session.status
        self.ex.cancel(self.agent, SYMBOL)
        assert self.orders() == []
        assert self.session.status == (STOPPED if was == STOPPED else IDLE)
        assert not self.session.auto_refresh

    @rule()
    def reset(self):
        was = self.session.status
        self.ex.session_reset(self.agent, SYMBOL)
        if was == STOPPED:
            assert self.session.status == IDLE and self.session.stopped_at is None

    @rule(pct=st.floats(0.05, 1.0))
    def hedge(self, pct):
        try:
            self.ex.hedge(self.agent, SYMBOL, pct)
        except ApiError as error:
            assert error.code in ("no_inventory", "order_too_small", "no_liquidity"), error.code

    # ---- invariants ---------------------------------------------------------------------------
    @invariant()
    def fills_respect_the_guardrails(self):
        self.check_new_fills()

    @invariant()
    def sessions_are_consistent(self):
        ex, market, session = self.ex, self.market, self.session
        if session.status in (PAUSED, STOPPED, IDLE):
            assert self.orders() == [], f"a {session.status} session has orders"
        if session.status == STOPPED:
            assert session.stopped_at is not None and not session.auto_refresh
            assert session.reason == "stop_loss"
        if not session.live:
            return
        stop = session.guard("session_stop_loss_usd")
        if stop is not None:
            assert ex.sessions.session_pnl(self.agent, market, session) > -stop
        spread_limit = session.guard("max_spread_bps")
        if spread_limit is not None:
            bid, ask = market.best_excluding(self.agent.agent_id)
            wide = bid is None or ask is None or (ask - bid) / market.grid.price_scale / market.mid * 1e4 > spread_limit
            assert (session.status == PAUSED) == wide
            if wide:
                assert session.reason == "market_spread_wide"
        limit = session.guard("max_inventory_usd")
        ledger = self.agent.ledgers.get(SYMBOL)
        if limit is not None and ledger is not None and ledger.lots:
            if abs(ledger.position * market.mid) >= limit:
                growing_buy = ledger.lots > 0
                assert self.orders(is_buy=growing_buy) == [], "a held side still rests"
                if session.status == ACTIVE:
                    assert session.reason == f"max_inventory_usd: {'bid' if growing_buy else 'ask'} held"

    @invariant()
    def pnl_matches_the_reference(self):
        report = self.ex.pnl(self.agent, SYMBOL)
        w = report.window
        market, ledger = self.ex.inventory(self.agent, SYMBOL)
        mark = views.inventory(market, ledger).mark_price
        fills = [views.fill(f).model_dump(mode="json") for f in self.ex.fills(self.agent, SYMBOL)]
        expected = Reference().replay(fills, mark)
        for name, value in expected.expected_pnl(mark).items():
            assert math.isclose(getattr(w, name), value, abs_tol=TOLERANCE), (name, getattr(w, name), value)
        assert math.isclose(w.net_pnl, w.equity_change, abs_tol=TOLERANCE)
        equity_change = self.ex.equity(self.agent) - self.agent.starting_balance - self.agent.deposits
        assert math.isclose(w.net_pnl, equity_change, abs_tol=TOLERANCE)
        assert w.fills == len(self.ex.fill_log)


GuardrailMachine.TestCase.settings = settings(stateful_step_count=30, deadline=None)
TestGuardrailProperties = GuardrailMachine.TestCase


@settings(deadline=None)
@given(limit=st.floats(20, 1_000),
       quotes=st.lists(st.tuples(st.booleans(), st.floats(0, 30), st.floats(15, 600)), min_size=1, max_size=5),
       move=st.floats(-300, 300), seconds=st.floats(0, 10))
def test_stacked_quotes_fill_up_to_the_inventory_limit_and_no_further(limit, quotes, move, seconds):
    """Orders stacked on one side or both, each cut to the headroom when posted, then a jump runs
    through some of them: fills stop at the limit and what is left of the growing side goes."""
    ex = WatchedExchange(ExchangeConfig(seed=0), ManualClock())
    agent = ex.authenticate(KEY)
    for is_bid, bps, usd in quotes:
        mid = ex.market(SYMBOL).mid
        price = mid * (1 - bps / 1e4) if is_bid else mid * (1 + bps / 1e4)
        side = dict(bid_price=price, bid_size=usd) if is_bid else dict(ask_price=price, ask_size=usd)
        result = ex.quote(agent, QuoteRequest(symbol=SYMBOL, max_inventory_usd=limit, **side))
        out = result.bid if is_bid else result.ask
        assert out.order_id is not None or out.skipped == "max_inventory"
        if out.order_id is not None:       # nothing has filled yet: each side alone fits the limit at the mid
            assert out.size_usd <= usd + TOLERANCE and out.qty * mid <= limit + TOLERANCE
    ex.jump(SYMBOL, move)
    ex.advance(seconds)
    check_fills(ex.fill_log)

    market, session = ex.market(SYMBOL), ex.sessions.of(agent, SYMBOL)
    ledger = agent.ledgers.get(SYMBOL)
    lots = ledger.lots if ledger else 0
    if lots:
        growing_buy = lots > 0
        room = math.floor(limit * market.grid.lot_scale / market.mid + 1e-9) - abs(lots)
        held = room * market.mid / market.grid.lot_scale < MIN_NOTIONAL_USD
        resting = [i for i in market.open_orders(agent.agent_id) if i.order.is_buy == growing_buy]
        event("held" if held else "under the limit")
        if held:
            assert resting == [] and session.reason == f"max_inventory_usd: {'bid' if growing_buy else 'ask'} held"
        else:
            assert session.reason is None
