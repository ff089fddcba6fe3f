"""Margin cannot be borrowed through a bad price.

A limit price more than ``PRICE_BAND`` (5%) from the mark is 400 ``price_out_of_band``, with the band and
the mark in the body; an order is margined at the worse of its price and the mark, and what filling it
at once may cost (the price worse than the mark, the taker fee) must fit too.

The property (a hypothesis state machine of quotes, hedges, cancels, jumps and clock advances at any
prices and sizes, two agents, two markets of different maximum leverage): after every quote the exchange
takes, the agent's margin in use — every position at the mark and every resting order at the worse of
its price and the mark, each market's over its maximum leverage, walked order by order here — is at most
its equity; a hedge (which only ever reduces a position) never adds to it; and a request refused
changes nothing. Jumps and advances move prices, which can carry an agent past its margin (there are no
liquidations in the mock), so nothing is asserted after them; a quote sent while past it is refused.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from contract_asserts import assert_error
from pf_mock import orders
from pf_mock.catalog import load_catalog
from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.messages import QuoteRequest

KEYS = ("pf_test_margin_bound_a", "pf_test_margin_bound_b")
LOW_LEVERAGE = next(s.symbol for s in load_catalog().specs if s.max_leverage <= 5)
SYMBOLS = ("BTC-PERP", LOW_LEVERAGE)
TOLERANCE = 1e-6


def walked_margin(ex: Exchange, agent) -> float:
    """The oracle: order by order, at the worse of each price and the mark; positions at the mark."""
    total = 0.0
    for symbol, market in ex.markets.items():
        mark = market.mark_units(ex.now())
        resting = sum(max(o.price, mark) * o.qty for o in market.book.orders.values() if o.owner == agent.agent_id)
        ledger = agent.ledgers.get(symbol)
        held = abs(ledger.position) * market.grid.to_price(mark) if ledger is not None else 0.0
        total += (held + resting / 1_000_000) / ex.catalog.resolve(symbol).max_leverage
    return total


def equity(ex: Exchange, agent) -> float:
    return agent.cash + sum(l.position * ex.markets[s].mark_at(ex.now()) for s, l in agent.ledgers.items())


def fingerprint(ex: Exchange) -> tuple:
    """Everything a refused request must leave as it was."""
    books = tuple((s, tuple(sorted((o.order_id, o.qty) for o in m.book.orders.values())), len(m.trades))
                  for s, m in sorted(ex.markets.items()))
    agents = tuple((a.agent_id, a.cash, tuple((s, l.lots, len(l.fills)) for s, l in sorted(a.ledgers.items())),
                    tuple((s, m.book.owned_sides(a.agent_id)) for s, m in sorted(ex.markets.items())),
                    tuple((s, x.status, x.reason, tuple(x.guardrails.items())) for s, x in sorted(a.sessions.items())
                          if x.status != "idle" or x.started_at is not None))     # a refusal may look one up
                   for a in ex.agents.values())
    return books, agents, ex.now()


# Prices relative to the mark: anywhere (most far outside the band), the band's edges from both sides,
# and the usual few basis points.
OFFSETS = st.one_of(st.floats(-0.999, 3.0), st.sampled_from([-0.0501, -0.0499, -0.05, 0.05, 0.0499, 0.0501]),
                    st.floats(-0.003, 0.003))
SIZES = st.one_of(st.floats(10, 1e7), st.floats(10, 5_000))


class MarginMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.ex = Exchange(ExchangeConfig(seed=0))
        self.agents = [self.ex.authenticate(key) for key in KEYS]
        for symbol in SYMBOLS:
            self.ex.market(symbol)

    def _attempt(self, action) -> bool:
        """Run ``action``; True if taken. A refusal must change nothing."""
        before = fingerprint(self.ex)
        try:
            action()
        except ApiError as refused:
            assert refused.status < 500
            assert fingerprint(self.ex) == before, refused.code
            return False
        return True

    @rule(who=st.integers(0, 1), symbol=st.sampled_from(SYMBOLS), bid=st.none() | OFFSETS, ask=st.none() | OFFSETS,
          bid_usd=SIZES, ask_usd=SIZES, tif=st.sampled_from(["GTC", "IOC", "ALO"]))
    def quote(self, who, symbol, bid, ask, bid_usd, ask_usd, tif):
        agent = self.agents[who]
        mark = self.ex.market(symbol).mark
        sides = {}
        if bid is not None:
            sides.update(bid_price=mark * (1 + bid), bid_size=bid_usd)
        if ask is not None:
            sides.update(ask_price=mark * (1 + ask), ask_size=ask_usd)
        if not sides:
            sides = {"bid_price": mark * 0.999, "bid_size": bid_usd}
        request = QuoteRequest(symbol, time_in_force=tif, **sides)
        if self._attempt(lambda: self.ex.quote(agent, request)):
            used, worth = walked_margin(self.ex, agent), equity(self.ex, agent)
            assert used <= worth + TOLERANCE, (used, worth)

    @rule(who=st.integers(0, 1), symbol=st.sampled_from(SYMBOLS), pct=st.floats(0.01, 1.0))
    def hedge(self, who, symbol, pct):
        agent = self.agents[who]
        before = walked_margin(self.ex, agent)
        if self._attempt(lambda: self.ex.hedge(agent, symbol, pct)):
            assert walked_margin(self.ex, agent) <= before + TOLERANCE

    @rule(who=st.integers(0, 1), symbol=st.sampled_from(SYMBOLS))
    def cancel(self, who, symbol):
        agent = self.agents[who]
        before = walked_margin(self.ex, agent)
        self.ex.cancel(agent, symbol)
        assert walked_margin(self.ex, agent) <= before + TOLERANCE

    @rule(symbol=st.sampled_from(SYMBOLS), bps=st.floats(-800, 800))
    def jump(self, symbol, bps):
        self._attempt(lambda: self.ex.jump(symbol, bps))

    @rule(seconds=st.floats(0.5, 120))
    def advance(self, seconds):
        self.ex.advance(seconds)


MarginMachine.TestCase.settings = settings(stateful_step_count=20, max_examples=min(25, settings.default.max_examples),
                                           deadline=None)
TestMarginBound = MarginMachine.TestCase


# ---- examples: the band's answer, and the issue's case ------------------------------------------
def test_the_issues_ask_at_half_a_dollar_is_out_of_band_and_changes_nothing(client, auth):
    client.get("/v1/account", headers=auth)
    mark = client.get("/v1/markets/BTC-PERP/price").json()["mark_price"]
    before = (client.get("/v1/account", headers=auth).json(), client.get("/v1/mm/orders", headers=auth).json(),
              client.get("/v1/markets/BTC-PERP/orderbook").json())
    r = client.post("/v1/mm/quote", headers=auth, json={"symbol": "BTC-PERP", "ask_price": 0.5, "ask_size": 100})
    body = assert_error(r, 400, "price_out_of_band", field="ask_price")
    assert body["mark_price"] == mark and body["band_pct"] == 5
    assert body["min_price"] == pytest.approx(mark * 0.95) and body["max_price"] == pytest.approx(mark * 1.05)
    assert "5%" in body["message"] and str(mark).rstrip("0").rstrip(".") in body["message"]
    after = (client.get("/v1/account", headers=auth).json(), client.get("/v1/mm/orders", headers=auth).json(),
             client.get("/v1/markets/BTC-PERP/orderbook").json())
    assert after == before


@pytest.mark.parametrize("side", ["bid", "ask"])
def test_the_band_is_pinned_from_both_sides(side):
    ex = Exchange(ExchangeConfig(seed=0, starting_balance=1e9))
    me = ex.authenticate(KEYS[0])
    market = ex.market("BTC-PERP")
    mark, grid = market.mark, market.grid
    tick = grid.tick_size(market.mark_units())
    low, high = orders.band(mark)
    # Just inside: the band's edge rounded inward to the tick (the bid's rounding is down, the ask's up).
    inside = grid.to_price(grid.price_up(low)) if side == "bid" else grid.to_price(grid.price_down(high))
    outside = inside - tick if side == "bid" else inside + tick
    ex.quote(me, QuoteRequest("BTC-PERP", time_in_force="ALO", **{f"{side}_price": inside, f"{side}_size": 100}))
    with pytest.raises(ApiError) as refused:
        ex.quote(me, QuoteRequest("BTC-PERP", time_in_force="ALO", **{f"{side}_price": outside, f"{side}_size": 100}))
    assert refused.value.code == "price_out_of_band" and refused.value.detail["field"] == f"{side}_price"


def test_a_crossing_ask_is_margined_at_the_mark_and_its_cost_at_once():
    """The issue's case inside the band: a $10,000 agent selling far below the mark. At the limit price
    the order looks small; at the mark, with the price given away, it is refused."""
    ex = Exchange(ExchangeConfig(seed=0))
    me = ex.authenticate(KEYS[0])
    market = ex.market("BTC-PERP")
    mark = market.mark
    lev = ex.catalog.resolve("BTC-PERP").max_leverage
    # The most the old rule took: notional at the limit price equal to equity x leverage.
    price = mark * 0.951
    usd = 10_000 * lev * 0.99
    with pytest.raises(ApiError) as refused:
        ex.quote(me, QuoteRequest("BTC-PERP", ask_price=price, ask_size=usd))
    assert refused.value.code == "insufficient_balance"
    assert refused.value.detail["required_margin_usd"] > 10_000
    assert me.ledgers.get("BTC-PERP") is None or me.ledgers["BTC-PERP"].lots == 0


def test_a_passive_bid_is_margined_at_the_mark():
    """A bid below the mark buys what is worth the mark: margined at the mark, not its own price."""
    ex = Exchange(ExchangeConfig(seed=0))
    me = ex.authenticate(KEYS[0])
    market = ex.market("BTC-PERP")
    lev = ex.catalog.resolve("BTC-PERP").max_leverage
    price = market.mark * 0.96
    posted = ex.quote(me, QuoteRequest("BTC-PERP", bid_price=price, bid_size=1_000)).bid
    assert ex.margin_required(me) == pytest.approx(posted.qty * market.mark / lev)


def test_a_refresh_posts_no_side_out_of_band():
    """The refresh loop re-posts a quote's shape around the mid; a side whose price would be out of the
    band is not posted (the other side is)."""
    from pf_mock.sessions import QuoteShape

    ex = Exchange(ExchangeConfig(seed=0))
    me = ex.authenticate(KEYS[0])
    mark = ex.market("BTC-PERP").mark
    ex.quote(me, QuoteRequest("BTC-PERP", bid_price=mark * 0.999, bid_size=100, ask_price=mark * 1.001, ask_size=100))
    market = ex.market("BTC-PERP")
    session = me.sessions["BTC-PERP"]
    for bid_bps, posted in ((600.0, False), (400.0, True)):        # 6% under the mid: out; 4%: in
        session.shape = QuoteShape(bid_bps=bid_bps, ask_bps=1.0, bid_usd=100.0, ask_usd=100.0, tif="GTC")
        ex.sessions.refresh(me, market, session)
        sides = sorted(info.order.is_buy for info in market.open_orders(me.agent_id))
        assert sides == ([False, True] if posted else [False])
