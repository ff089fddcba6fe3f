"""Margin is kept incrementally (the book sums each owner's resting notional per side as orders rest, fill
and leave), so it must always equal the slow way: walk every live order in the book, each at the worse
of its price and the mark (a bound above that walk when the mark is outside the book's best prices). Random quotes,
crossing quotes, fills from the simulated flow, hedges, auto-hedges, max-inventory cancels, self-trade
cancels, jumps and cancels drive two agents on two markets; after each step the running figures are
checked against that walk."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.messages import QuoteRequest

SYMBOLS = ("BTC-PERP", "ETH-PERP")
KEYS = ("pf_test_margin_one", "pf_test_margin_two")


def walked_margin(ex: Exchange, agent) -> float:
    """The oracle: every live order of the agent in every book at the worse of its price and the mark,
    plus positions at the mark price (the contract's), over leverage."""
    total = 0.0
    for symbol, market in ex.markets.items():
        mark = market.mark_units(ex.now())
        resting = sum(max(o.price, mark) * o.qty for o in market.book.orders.values() if o.owner == agent.agent_id)
        ledger = agent.ledgers.get(symbol)
        held = abs(ledger.position) * market.mark_at(ex.now()) if ledger is not None else 0.0
        total += (held + resting / 1_000_000) / ex.catalog.resolve(symbol).max_leverage
    return total


def check(ex: Exchange) -> None:
    for market in ex.markets.values():
        owners = {o.owner for o in market.book.orders.values() if o.owner is not None}
        assert market.book.owned_orders == sum(1 for o in market.book.orders.values() if o.owner is not None)
        for owner in owners | set(ex.agents):
            live = [o for o in market.book.orders.values() if o.owner == owner]
            assert market.book.owned(owner) == (len(live), sum(o.price * o.qty for o in live))
            assert market.book.owned_sides(owner) == tuple(
                (sum(o.qty for o in live if o.is_buy == buy), sum(o.price * o.qty for o in live if o.is_buy == buy))
                for buy in (True, False))
    # The mark inside the book's best prices everywhere: the running figure is the walk's, exactly.
    inside = all((m.book.best_bid() or 0) <= m.mark_units(ex.now()) <= (m.book.best_ask() or float("inf"))
                 for m in ex.markets.values())
    for agent in ex.agents.values():
        walked, running = walked_margin(ex, agent), ex.margin_required(agent)
        tolerance = 1e-9 * max(1.0, walked)
        assert running >= walked - tolerance
        if inside:
            assert abs(running - walked) <= tolerance


step = st.one_of(
    st.tuples(st.just("quote"), st.integers(0, 1), st.sampled_from(SYMBOLS), st.floats(-30, 30), st.floats(-30, 30),
              st.floats(10, 3000), st.sampled_from(["GTC", "ALO", "IOC"]), st.none() | st.floats(50, 2000),
              st.none() | st.floats(100, 5000)),
    st.tuples(st.just("advance"), st.floats(0.5, 120)),
    st.tuples(st.just("cancel"), st.integers(0, 1), st.sampled_from(SYMBOLS)),
    st.tuples(st.just("hedge"), st.integers(0, 1), st.sampled_from(SYMBOLS), st.floats(0.1, 1)),
    st.tuples(st.just("jump"), st.sampled_from(SYMBOLS), st.floats(-80, 80)),
)


@settings(max_examples=min(40, settings.default.max_examples), deadline=None)   # fewer if a profile asks
@given(st.lists(step, min_size=1, max_size=25), st.integers(0, 3))
def test_the_running_margin_is_the_walked_margin(steps, seed):
    ex = Exchange(ExchangeConfig(seed=seed))
    agents = [ex.authenticate(key) for key in KEYS]
    for op in steps:
        try:
            if op[0] == "quote":
                _, who, symbol, bid_bps, ask_bps, usd, tif, max_inventory, hedge_at = op
                mid = ex.market(symbol).mid
                bid, ask = mid * (1 - bid_bps / 1e4), mid * (1 + ask_bps / 1e4)
                sides = {"bid_price": bid, "bid_size": usd} if bid < ask else {}
                if not sides or ask_bps > 0:
                    sides.update(ask_price=max(ask, bid * 1.0001), ask_size=usd)
                ex.quote(agents[who], QuoteRequest(symbol, time_in_force=tif, max_inventory_usd=max_inventory,
                                                   auto_hedge_threshold_usd=hedge_at, **sides))
            elif op[0] == "advance":
                ex.advance(op[1])
            elif op[0] == "cancel":
                ex.cancel(agents[op[1]], op[2])
            elif op[0] == "hedge":
                ex.hedge(agents[op[1]], op[2], op[3])
            else:
                ex.jump(op[1], op[2])
        except ApiError:
            pass            # a refused step changes nothing; the figures must still agree
        check(ex)


def test_many_resting_orders_are_all_counted():
    ex = Exchange(ExchangeConfig(seed=1))
    me = ex.authenticate(KEYS[0])
    mid = ex.market("BTC-PERP").mid
    for i in range(200):
        ex.quote(me, QuoteRequest("BTC-PERP", bid_price=mid * (0.99 - i * 1e-4), bid_size=50.0))
    check(ex)
    assert ex.market("BTC-PERP").book.owned(me.agent_id)[0] == 200
