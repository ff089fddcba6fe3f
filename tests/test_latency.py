"""Order-entry latency (models/latency.py, inflight.py): the model's figures against its cited source, and
what a quote or a cancel on its way does and does not do. Every exchange here sets its latency itself
(``latency_ms=``), or is marked ``latency`` to run with the documented default."""

from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pytest
from app_client import AppClient
from hypothesis import given, settings
from hypothesis import strategies as st

from pf_mock import state as core
from pf_mock.api import AppOptions, create_app
from pf_mock.catalog import Catalog, load_catalog
from pf_mock.errors import ApiError, InvalidState
from pf_mock.messages import QuoteRequest
from pf_mock.model import Regime
from pf_mock.bounds import DEFAULT_LATENCY_MS
from pf_mock.models.latency import DEFAULT_LATENCY_SIGMA, MAX_DELAY_MS, OrderLatency
from pf_mock.testing import MockExchange

BTC = "BTC-PERP"
ALT = "ATOM-PERP"       # a "mid" tier market: a spread of a few ticks, room to sit inside it


def exchange(latency_ms: float, sigma: float | None = None, seed: int = 0, symbols=(BTC,)) -> MockExchange:
    ex = MockExchange(seed=seed, latency_ms=latency_ms)
    if sigma is not None:
        for symbol in symbols:
            ex.set_regime(symbol, {"latency_sigma": sigma})
    return ex


def bid(symbol: str, price: float, usd: float = 100, **extra) -> QuoteRequest:
    return QuoteRequest(symbol, bid_price=price, bid_size=usd, **extra)


def us(seconds: float) -> int:
    return int(round(seconds * 1e6))


# ---- the model -------------------------------------------------------------------------------------
def test_the_default_is_hyperliquids_documented_median_and_99th_percentile():
    regime = Regime(1, 1, 1, 1, 0, latency_ms=DEFAULT_LATENCY_MS, latency_sigma=DEFAULT_LATENCY_SIGMA)
    model = OrderLatency()
    assert model.quantile_ms(regime, 0.5) == pytest.approx(200.0, abs=1e-9)
    assert model.quantile_ms(regime, 0.99) == pytest.approx(900.0, abs=0.5)     # the sigma is rounded to 4 places
    # the draws follow the quantiles (an independent sample of the same law)
    rng = np.random.default_rng(7)
    draws = np.array([model.delay_us(regime, rng) for _ in range(20_000)]) / 1000.0
    assert np.median(draws) == pytest.approx(200.0, rel=0.03)
    assert np.quantile(draws, 0.99) == pytest.approx(900.0, rel=0.08)
    assert draws.min() > 0


def test_every_catalog_market_starts_with_the_documented_latency():
    regimes = {s.regime.latency_ms for s in load_catalog().specs}, {s.regime.latency_sigma for s in load_catalog().specs}
    assert regimes == ({DEFAULT_LATENCY_MS}, {DEFAULT_LATENCY_SIGMA})


def test_a_catalog_at_a_latency_is_made_once_and_every_market_has_the_value_given():
    """``with_latency`` keeps what it made (its specs are frozen, so exchanges and restores share them):
    the same catalog for the same latency, every market at that value, -0.0 not mistaken for 0.0 (they
    compare equal, but a document would show the sign), and only the last few latencies kept. (On three
    of the catalog's markets, a catalog of its own: each whole one made costs milliseconds.)"""
    assert load_catalog().with_latency(0) is load_catalog().with_latency(0.0)      # the suite's own
    base = Catalog(load_catalog().specs[:3])
    assert base.with_latency(None) is base
    at = base.with_latency(250)
    assert base.with_latency(250.0) is at and {s.regime.latency_ms for s in at} == {250.0}
    assert {s.regime.latency_sigma for s in at} == {DEFAULT_LATENCY_SIGMA} and len(at) == len(base) == 3
    other = base.with_latency(40.5)
    assert other is not at and {s.regime.latency_ms for s in other} == {40.5}
    assert {math.copysign(1.0, s.regime.latency_ms) for s in base.with_latency(0.0)} == {1.0}
    assert {math.copysign(1.0, s.regime.latency_ms) for s in base.with_latency(-0.0)} == {-1.0}
    assert {math.copysign(1.0, s.regime.latency_ms) for s in base.with_latency(0.0)} == {1.0}
    for ms in range(1, 3 * base.LATENCIES_KEPT):
        assert {s.regime.latency_ms for s in base.with_latency(ms)} == {float(ms)}
    assert len(base._with_latency) <= base.LATENCIES_KEPT


def test_a_zero_median_is_no_delay_whatever_the_sigma_and_a_delay_is_capped():
    model, rng = OrderLatency(), np.random.default_rng(1)
    assert {model.delay_us(Regime(1, 1, 1, 1, 0, latency_ms=0.0, latency_sigma=3.0), rng) for _ in range(50)} == {0}
    wild = Regime(1, 1, 1, 1, 0, latency_ms=60_000.0, latency_sigma=3.0)
    delays = [model.delay_us(wild, rng) for _ in range(200)]
    assert max(delays) == MAX_DELAY_MS * 1000 and min(delays) < MAX_DELAY_MS * 1000
    constant = Regime(1, 1, 1, 1, 0, latency_ms=250.0, latency_sigma=0.0)
    assert {model.delay_us(constant, rng) for _ in range(20)} == {250_000}


@pytest.mark.latency
def test_serve_and_the_plugin_default_to_the_documented_model():
    ex = MockExchange()
    assert ex.market(BTC).regime.latency_ms == DEFAULT_LATENCY_MS
    assert MockExchange(latency_ms=0).market(BTC).regime.latency_ms == 0


# ---- a quote and a cancel on their way -------------------------------------------------------------
def test_a_quote_reaches_the_book_at_created_at_not_a_microsecond_before():
    ex = exchange(300.0, sigma=0.0)
    me = ex.register()
    mid = ex.market(BTC).mid
    sent = ex.now()
    result = ex.quote(me, bid(BTC, mid * 0.999))
    assert us(result.created_at) - us(sent) == 300_000 and result.time == sent
    assert ex.orders(me).orders == []                       # on its way: not listed, not in the book
    assert ex.market(BTC).book.owned_orders == 0
    ex.advance(0.299999)
    assert ex.orders(me).orders == []
    ex.advance(0.000001)
    listed = ex.orders(me).orders
    assert [o.order_id for o in listed] == [result.bid.order_id]
    assert listed[0].created_at == us(result.created_at) // 1000


def test_with_latency_zero_a_quote_rests_at_once_and_nothing_is_drawn():
    ex = exchange(0.0)
    me = ex.register()
    result = ex.quote(me, bid(BTC, ex.market(BTC).mid * 0.999))
    assert result.created_at is None and len(ex.orders(me).orders) == 1
    assert ex.flight.sent == {} and ex.flight.last == {} and not ex.market(BTC)._schedule


def test_a_refused_quote_is_answered_at_once_and_leaves_nothing_on_its_way():
    ex = exchange(300.0)
    me = ex.register()
    mid = ex.market(BTC).mid
    with pytest.raises(ApiError) as crossed:
        ex.quote(me, QuoteRequest(BTC, bid_price=mid, bid_size=100, ask_price=mid * 0.99, ask_size=100))
    with pytest.raises(ApiError) as small:
        ex.quote(me, bid(BTC, mid * 0.999, usd=1))
    assert (crossed.value.code, small.value.code) == ("crossed_quote", "order_too_small")
    assert ex.flight.sent == {} and ex.flight.quotes == {} and not ex.market(BTC)._schedule


def test_margin_counts_the_quotes_on_their_way():
    ex = exchange(5_000.0, sigma=0.0)
    me = ex.register()
    mid = ex.market(BTC).mid
    most = 10_000 * ex.spec(BTC).max_leverage        # equity x leverage: the notional margin allows
    ex.quote(me, bid(BTC, mid * 0.99, usd=0.6 * most))      # ~0.61 of it at the mark
    with pytest.raises(ApiError) as refused:
        ex.quote(me, bid(BTC, mid * 0.99, usd=0.6 * most))  # ~1.21 with the first, still on its way
    assert refused.value.status == 402
    ex.quote(me, bid(BTC, mid * 0.99, usd=0.3 * most))      # ~0.91: taken
    assert len(ex.flight.quotes[(me.agent_id, BTC)]) == 2


@pytest.mark.parametrize("seed", [5, 7])
def test_a_cancel_sent_at_a_jump_arrives_too_late_and_the_stale_quote_fills_before_it(seed):
    """The quote sits 10 bps under the mid; the mid jumps 9 bps down and the agent cancels at that instant.
    With no latency the cancel takes the quote out at once; with 5 s the market of those 5 s reaches it.
    (Two seeds where it does: with the book's depth scaled from ATOM's activity, the touch in front of the
    quote holds ~$39k, so in most seeds the quote survives the 5 s.)"""
    fills = {}
    for latency in (0.0, 5_000.0):
        ex = exchange(latency, sigma=0.0, seed=seed, symbols=(ALT,))
        me = ex.register()
        placed = ex.quote(me, bid(ALT, ex.market(ALT).mid * (1 - 10e-4)))
        ex.advance(6)                                    # it has reached the book (5 s at most)
        assert [o.order_id for o in ex.orders(me, ALT).orders] == [placed.bid.order_id]
        ex.jump(ALT, -9)
        t = ex.now()
        _, ids, at = ex.cancel_at(me, ALT)
        assert ids == [placed.bid.order_id] and us(at) - us(t) == us(latency / 1000)
        ex.advance(6)
        fills[latency] = [f.time - t for f in ex.fills(me, ALT)]
        closed = ex.orders(me, ALT, status="closed").orders
        assert [c.order_id for c in closed] == [placed.bid.order_id]
        assert closed[0].status == ("filled" if fills[latency] else "cancelled")
    assert fills[0.0] == []
    assert fills[5_000.0] and all(0 < dt <= 5.0 for dt in fills[5_000.0])


def test_an_alo_side_that_would_cross_on_arrival_is_filed_expired_with_its_reason():
    ex = exchange(5_000.0, sigma=0.0)
    me = ex.register()
    market = ex.market(BTC)
    best_bid = market.grid.to_price(market.best_bid())
    sent = ex.quote(me, bid(BTC, best_bid, time_in_force="ALO"))
    assert sent.bid.order_id is not None and sent.bid.skipped is None
    ex.jump(BTC, -20)                                    # the asks come down through the bid before it arrives
    ex.advance(5)
    assert ex.orders(me).orders == [] and ex.fills(me) == []
    closed = ex.orders(me, status="closed").orders
    assert [(c.order_id, c.status, c.reason) for c in closed] == [(sent.bid.order_id, "expired", "would_cross")]
    assert closed[0].created_at == closed[0].closed_at == us(sent.created_at) // 1000


# ---- determinism: the draws depend on the requests alone -------------------------------------------
OPS = st.lists(st.tuples(st.sampled_from([0.0, 0.03, 0.3, 1.2]), st.sampled_from(["quote", "cancel"]),
                         st.sampled_from([0, 1])), min_size=2, max_size=7)


def play(ops, steps: int, reads: bool) -> tuple[list, bytes, dict]:
    ex = exchange(200.0, seed=4)            # the documented sigma: random delays
    agents = [ex.authenticate(f"pf_test_latency_agent_{i}") for i in range(2)]     # keys of our own: same bytes
    answers, arrivals = [], {0: [], 1: []}
    for dt, op, who in ops:
        for _ in range(steps):
            ex.advance(dt / steps)
            if reads:
                ex.orders(agents[who]), ex.price(BTC), ex.orderbook(BTC)
        if op == "quote":
            mid = ex.market(BTC).mid
            r = ex.quote(agents[who], bid(BTC, mid * 0.9995))
            answers.append((r.bid.order_id, us(r.created_at or r.time)))
            arrivals[who].append(us(r.created_at or r.time))
        else:
            _, ids, at = ex.cancel_at(agents[who], BTC)
            answers.append((ids, us(at)))
            arrivals[who].append(us(at))
    # Everything on its way arrives (60 s is the longest delay); then what the agents are answered. (Not the
    # snapshot's bytes: a read of a quiet market lays its book out, which uses up house order numbers a
    # snapshot shows, with or without latency; no answer shows them.)
    ex.advance(61)
    seen = [ex.flight.state()]
    for agent in agents:
        seen += [ex.fill_views(agent, limit=1000), ex.orders(agent), ex.orders(agent, status="closed", limit=1000),
                 ex.account(agent), ex.pnl_view(agent)]
    return answers, [x if isinstance(x, dict) else x.model_dump_json() for x in seen], arrivals


@settings(max_examples=max(4, settings.default.max_examples // 5))
@given(ops=OPS)
def test_latency_draws_do_not_depend_on_reads_or_on_how_time_is_stepped(ops):
    one = play(ops, steps=1, reads=False)
    split = play(ops, steps=3, reads=True)
    assert one[0] == split[0]
    assert one[1] == split[1]
    assert one[1][0]["sent"] == {BTC: len(ops)}          # one draw a message, none for reads
    # one agent's messages reach the book in the order sent
    for times in one[2].values():
        assert times == sorted(times)


# ---- the HTTP answers ------------------------------------------------------------------------------
def test_the_http_answers_say_when_the_quote_and_the_cancel_reach_the_book():
    ex = exchange(400.0, sigma=0.0)
    with AppClient(create_app(ex, AppOptions())) as client:
        auth = {"Authorization": "Bearer pf_test_latency_1234"}
        mid = client.get(f"/v1/markets/{BTC}/price").json()["mid"]
        q = client.post("/v1/mm/quote", headers=auth, json={"symbol": BTC, "bid_price": mid * 0.999, "bid_size": 100})
        assert q.status_code == 200
        q = q.json()
        assert q["created_at"] == q["timestamp"] + 400 and q["bid_id"]
        assert client.get("/v1/mm/orders", headers=auth).json()["orders"] == []
        c = client.post("/v1/mm/cancel", headers=auth, json={"symbol": BTC}).json()
        assert c["order_ids"] == [q["bid_id"]] and c["cancelled"] == 1 and c["cancelled_at"] == q["timestamp"] + 400
        assert client.post("/_mock/clock/advance", json={"seconds": 1}).status_code == 200
        assert client.get("/v1/mm/orders", headers=auth).json()["orders"] == []
        closed = client.get("/v1/mm/orders", headers=auth, params={"status": "closed"}).json()["orders"]
        assert [(o["order_id"], o["status"], o["created_at"], o["closed_at"]) for o in closed] == \
            [(q["bid_id"], "cancelled", q["created_at"], q["created_at"])]


BAD_REGIMES = ['{"latency_ms": -1}', '{"latency_ms": 60000.001}', '{"latency_ms": 1e308}', '{"latency_ms": "200"}',
               '{"latency_ms": NaN}', '{"latency_ms": [1]}', '{"latency_sigma": -0.1}', '{"latency_sigma": 3.01}',
               '{"latency_sigma": true}']


def test_a_bad_latency_regime_is_a_400_and_changes_nothing():
    ex = exchange(200.0)
    with AppClient(create_app(ex, AppOptions())) as client:
        before = client.get(f"/v1/markets/{BTC}").json()
        for body in BAD_REGIMES:
            r = client.post(f"/_mock/markets/{BTC}/regime", content=body, headers={"content-type": "application/json"})
            assert r.status_code in (400, 422) and set(r.json()) >= {"error", "message"}, body
            assert client.get(f"/v1/markets/{BTC}").json() == before, body
            assert ex.market(BTC).regime.latency_ms == 200.0
        for value in (-1, "slow", 60_001):                  # a scenario file's regime is checked the same way
            document = {"name": "lat", "description": "d", "markets": {BTC: {"regime": {"latency_ms": value}}}}
            r = client.post("/_mock/scenario", json={"scenario": document})
            assert r.status_code == 400 and r.json()["error"] == "invalid_scenario", value
            assert ex.market(BTC).regime.latency_ms == 200.0 and ex.scenario_name is None
        ok = client.post(f"/_mock/markets/{BTC}/regime", json={"latency_ms": 60_000, "latency_sigma": 3})
        assert ok.status_code == 200 and ok.json()["regime"]["latency_ms"] == 60_000


# ---- snapshots -------------------------------------------------------------------------------------
def test_a_snapshot_carries_the_messages_on_their_way_and_a_restore_goes_on_byte_for_byte():
    ex = exchange(200.0, seed=9)
    me = ex.register("lat_snap")
    mid = ex.market(BTC).mid
    ex.quote(me, QuoteRequest(BTC, bid_price=mid * 0.9999, bid_size=300, ask_price=mid * 1.0001, ask_size=300))
    ex.advance(0.05)
    ex.cancel(me, BTC)
    ex.quote(me, bid(BTC, mid * 0.9998))
    document = core.dumps(core.snapshot(ex))
    doc = json.loads(document)
    kinds = [a[2]["type"] for m in doc["markets"] for a in m["schedule"]]
    assert kinds.count("quote") == 2 and kinds.count("cancel") == 1 and doc["inflight"]["last"]
    copy = MockExchange(seed=1)
    core.restore(copy, document)
    assert core.dumps(core.snapshot(copy)) == document
    for t in (0.1, 0.3, 2.0):
        ex.advance(t), copy.advance(t)
        assert core.dumps(core.snapshot(copy)) == core.dumps(core.snapshot(ex))
    again = ex.quote(me, bid(BTC, mid * 0.9997))
    assert copy.quote(copy.agents["lat_snap"], bid(BTC, mid * 0.9997)).created_at == again.created_at


def test_a_message_on_its_way_with_an_id_the_market_never_gave_out_is_refused():
    ex = exchange(200.0, seed=9)
    me = ex.register("lat_snap")
    ex.quote(me, bid(BTC, ex.market(BTC).mid * 0.9999))
    doc = core.snapshot(ex)
    market = next(m for m in doc["markets"] if m["symbol"] == BTC)
    action = next(a[2] for a in market["schedule"] if a[2]["type"] == "quote")
    action["ids"][0] = market["order_seq"] + 1
    copy = MockExchange(seed=1)
    before = core.dumps(core.snapshot(copy))
    with pytest.raises(InvalidState):
        core.restore(copy, core.dumps(doc))
    assert core.dumps(core.snapshot(copy)) == before


def test_the_plugins_fixtures_act_at_once_unless_told_a_latency(pytester):
    pytester.makepyfile(test_inner='''
import pytest

def test_default(pf_mock):
    assert pf_mock.exchange.market("BTC-PERP").regime.latency_ms == 0

@pytest.mark.pf_mock(latency_ms=200)
def test_marked(pf_mock):
    assert pf_mock.exchange.market("BTC-PERP").regime.latency_ms == 200
''')
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--pf-mock-latency-ms", "50",
                                 "-k", "default").assert_outcomes(failed=1)
