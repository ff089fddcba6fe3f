"""The replayed market's fill rules (docs/replay.md), each on a hand-made recording whose answer is worked
out by hand here; its ends; latency; the two queue models; state and restore; determinism."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from pf_mock.clock import ManualClock
from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.messages import QuoteRequest
from pf_mock.replay.formats import RecordedLevel, Recording, RecordedBook, RecordedTrade
from pf_mock.replay.latency import ConstantLatency
from pf_mock.replay.queue import PowerProbQueue, QueuePosition, RiskAverseQueue
from pf_mock.replay.source import ReplaySource, catalog_with
from pf_mock.catalog import load_catalog

T0 = 1_700_000_000_000_000_000      # ns
MS = 1_000_000                      # ns
KEY = "pf_test_alice_12345678"
# price ticks of 0.1 USD around 1000.0 (10000 ticks); lots of 0.001 BTC
BIDS = ((10000, 5000), (9999, 3000), (9998, 3000))     # 1000.0 x 5 BTC, 999.9 x 3, 999.8 x 3
ASKS = ((10001, 5000), (10002, 3000), (10003, 3000))


def recording(*events, end_ms: int = 10_000) -> Recording:
    """A snapshot at T0, the given events, and a last quiet level update at ``end_ms``."""
    tail = RecordedLevel(T0 + end_ms * MS, 0, "ask", 10010, 1)
    return Recording(path="hand-made", venue="test", symbol="BTCUSDT", base="BTC", tick=Decimal("0.1"),
                     lot=Decimal("0.001"), events=[RecordedBook(T0, 0, BIDS, ASKS), *events, tail])


def at(ms: int) -> int:
    return T0 + ms * MS


def level(ms, side, price, size):
    return RecordedLevel(at(ms), 0, side, price, size)


def trade(ms, price, size, taker):
    return RecordedTrade(at(ms), 0, price, size, taker)


def exchange(rec: Recording, latency_ms: float = 0.0, queue=None, partial=True) -> Exchange:
    source = ReplaySource(rec, queue=queue or RiskAverseQueue(), latency=ConstantLatency(latency_ms),
                          partial_fills=partial)
    catalog = catalog_with(load_catalog(), {"BTC-PERP": source})
    return Exchange(ExchangeConfig(), ManualClock(rec.start_ns / 1e9), catalog=catalog,
                    sources={"BTC-PERP": source})


def quote(ex, bid=None, ask=None, usd=1000.0):
    agent = ex.authenticate(KEY)
    req = QuoteRequest(symbol="BTC-PERP", bid_price=bid, bid_size=usd if bid else None,
                       ask_price=ask, ask_size=usd if ask else None)
    return ex.quote(agent, req)


def fills(ex):
    agent = ex.authenticate(KEY)
    ledger = agent.ledgers.get("BTC-PERP")
    return [] if ledger is None else [(f.is_buy, f.price, round(f.size, 6), f.maker) for f in ledger.fills]


def to(ex, ms):
    ex.advance((at(ms) - T0) / 1e9 - (ex.now() - T0 / 1e9))


# 1000 USD at 1000.0 is 1 BTC = 1000 lots


def test_the_recorded_book_is_served_on_its_own_grid():
    ex = exchange(recording())
    price = ex.price("BTC-PERP")
    assert (price.best_bid, price.best_ask, price.mid) == (1000.0, 1000.1, 1000.05)
    book = ex.orderbook("BTC-PERP", 2)
    assert [(lv.price, lv.size) for lv in book.bids] == [(1000.0, 5.0), (999.9, 3.0)]
    detail = ex.market_detail("BTC-PERP")
    assert detail.tick_size == 0.1 and detail.sz_decimals == 3 and detail.simulation.synthetic is False
    assert ex.market_detail("ETH-PERP").simulation.synthetic is True       # the others stay synthetic


def test_an_order_joins_the_back_and_trades_consume_the_queue_ahead_first():
    rec = recording(trade(100, 10000, 5000, "sell"), trade(200, 10000, 400, "sell"), trade(300, 10000, 2000, "sell"))
    ex = exchange(rec)
    quote(ex, bid=1000.0)                         # 5 BTC recorded ahead of it
    to(ex, 100)
    assert fills(ex) == []                        # exactly the queue ahead traded: not reached
    to(ex, 200)
    assert fills(ex) == [(True, 1000.0, 0.4, True)]      # 0.4 went past the queue: partial fill
    to(ex, 300)
    assert fills(ex) == [(True, 1000.0, 0.4, True), (True, 1000.0, 0.6, True)]


def test_without_partial_fills_a_reached_order_fills_whole():
    rec = recording(trade(100, 10000, 5001, "sell"))
    ex = exchange(rec, partial=False)
    quote(ex, bid=1000.0)
    to(ex, 100)
    assert fills(ex) == [(True, 1000.0, 1.0, True)]


def test_a_trade_at_another_price_or_side_does_not_touch_the_order():
    rec = recording(trade(100, 10001, 9000, "buy"), trade(200, 9999, 0, "sell"))
    ex = exchange(rec)
    quote(ex, bid=999.9)
    to(ex, 100)
    assert fills(ex) == []


def test_a_trade_through_the_price_fills_whole():
    rec = recording(trade(100, 9999, 1, "sell"))
    ex = exchange(rec)
    quote(ex, bid=1000.0)
    to(ex, 99)
    assert fills(ex) == []
    to(ex, 100)
    assert fills(ex) == [(True, 1000.0, 1.0, True)]


def test_risk_averse_queue_only_caps_at_the_level_on_a_decrease():
    rec = recording(level(100, "bid", 10000, 2000), trade(200, 10000, 2000, "sell"), trade(300, 10000, 1, "sell"))
    ex = exchange(rec)
    quote(ex, bid=1000.0)
    to(ex, 200)
    assert fills(ex) == []                        # ahead capped at 2 BTC, then 2 BTC traded: not past it
    to(ex, 300)
    assert fills(ex) == [(True, 1000.0, 0.001, True)]


def test_power_queue_splits_a_decrease_between_ahead_and_behind():
    # the order joins behind 5 BTC; 5 BTC more join behind it; the level falls back to 5 BTC with no trade:
    # with equal sizes ahead and behind, half the decrease (2.5 BTC) comes from ahead
    rec = recording(level(100, "bid", 10000, 10000), level(200, "bid", 10000, 5000),
                    trade(300, 10000, 2500, "sell"), trade(400, 10000, 1, "sell"))
    ex = exchange(rec, queue=PowerProbQueue(3))
    quote(ex, bid=1000.0)
    to(ex, 300)
    assert fills(ex) == []
    to(ex, 400)
    assert fills(ex) == [(True, 1000.0, 0.001, True)]


def test_power_queue_arithmetic():
    model = PowerProbQueue(2)
    pos = QueuePosition(3)                    # 3 ahead, 1 behind of a level of 4
    model.on_level_change(pos, 4, 2)          # a decrease of 2: behind's share 1/(9+1) = 0.1
    assert pos.ahead == pytest.approx(3 - 0.9 * 2)
    pos = QueuePosition(1)
    model.on_trade(pos, 1)                    # the trade counted once ...
    model.on_level_change(pos, 5, 4)          # ... so the decrease it caused moves nothing more
    assert pos.ahead == 0 and pos.traded == 0
    pos = QueuePosition(0.5)                  # the share asked of the back beyond it comes from the front
    PowerProbQueue(1).on_level_change(pos, 1, 0)
    assert pos.ahead == 0
    risk = RiskAverseQueue()
    pos = QueuePosition(5)
    risk.on_level_change(pos, 8, 7)
    assert pos.ahead == 5
    risk.on_level_change(pos, 7, 3)
    assert pos.ahead == 3


def test_the_book_moving_through_the_order_fills_it():
    rec = recording(level(100, "ask", 10001, 0), level(100, "ask", 10000, 700))
    ex = exchange(rec)
    quote(ex, bid=1000.0)
    to(ex, 100)
    assert fills(ex) == [(True, 1000.0, 1.0, True)]


def test_a_marketable_order_walks_the_book_and_what_it_took_is_not_offered_again():
    rec = recording(level(500, "ask", 10001, 5000))           # the recording refreshes 1000.1 at 500 ms
    ex = exchange(rec)
    quote(ex, bid=1000.2, usd=6001.2)                          # 6 BTC: 5 at 1000.1, 1 at 1000.2
    assert fills(ex) == [(True, 1000.1, 5.0, False), (True, 1000.2, 1.0, False)]
    assert ex.price("BTC-PERP").best_ask == 1000.2             # 1000.1 is taken, 2 BTC left at 1000.2
    assert [(lv.price, lv.size) for lv in ex.orderbook("BTC-PERP", 1).asks] == [(1000.2, 2.0)]
    trades = ex.trades("BTC-PERP", 5).trades
    assert [(t.price, t.size, t.side) for t in trades] == [(1000.2, 1.0, "buy"), (1000.1, 5.0, "buy")]
    to(ex, 500)
    assert ex.price("BTC-PERP").best_ask == 1000.1             # refreshed by the recording: offered again


def test_latency_delays_orders_and_cancels():
    rec = recording(trade(10, 9999, 1, "sell"), trade(30, 9999, 1, "sell"), trade(60, 9999, 1, "sell"))
    ex = exchange(rec, latency_ms=20)
    answer = quote(ex, bid=1000.0)
    assert answer.bid.order_id is not None
    agent = ex.authenticate(KEY)
    assert len(ex.open_orders(agent, "BTC-PERP")) == 1       # open from the agent's view at once
    to(ex, 10)
    assert fills(ex) == []                                    # not there yet at 10 ms
    to(ex, 30)
    assert fills(ex) == [(True, 1000.0, 1.0, True)]
    quote(ex, bid=1000.0)
    to(ex, 50)
    ex.cancel(agent, "BTC-PERP")                              # sent at 50 ms, reaches the book at 70 ms
    to(ex, 60)
    assert len(fills(ex)) == 2                                # filled while the cancel was on its way


def test_a_cancel_before_arrival_means_the_order_never_fills():
    rec = recording(trade(100, 9999, 1, "sell"))
    ex = exchange(rec, latency_ms=20)
    quote(ex, bid=1000.0)
    ex.cancel(ex.authenticate(KEY), "BTC-PERP")
    to(ex, 200)
    assert fills(ex) == []
    closed = ex.orders(ex.authenticate(KEY), "BTC-PERP", status="closed").orders
    assert [c.status for c in closed] == ["cancelled"]


def test_the_market_halts_at_the_end_of_the_recording():
    rec = recording(trade(100, 9999, 1, "sell"), end_ms=1000)
    ex = exchange(rec)
    quote(ex, bid=1000.0)
    to(ex, 999)
    quote(ex, ask=1000.5)                                     # still open a moment before the end
    to(ex, 5000)
    before = ex.orderbook("BTC-PERP", 5)
    with pytest.raises(ApiError) as info:
        quote(ex, bid=999.0)
    assert info.value.status == 409 and info.value.code == "market_halted"
    assert info.value.detail["ended_at"] == (T0 + 1000 * MS) // 1_000_000
    with pytest.raises(ApiError) as info:
        ex.hedge(ex.authenticate(KEY), "BTC-PERP")
    assert info.value.code == "market_halted"
    to(ex, 9000)
    after = ex.orderbook("BTC-PERP", 5)
    assert (before.bids, before.asks) == (after.bids, after.asks)       # the last state, kept
    pnl = ex.pnl_view(ex.authenticate(KEY), "BTC-PERP")
    assert pnl.fills == 1                                     # the session's PnL stays readable


def test_a_replayed_market_cannot_be_moved():
    ex = exchange(recording())
    with pytest.raises(ApiError) as info:
        ex.jump("BTC-PERP", 10)
    assert (info.value.status, info.value.code) == (409, "market_replayed")
    with pytest.raises(ApiError):
        ex.set_regime("BTC-PERP", {"spread_bps": 2})


def test_state_and_restore_give_the_same_future():
    rec = recording(trade(100, 10000, 2000, "sell"), level(150, "bid", 10000, 4000),
                    trade(300, 10000, 4000, "sell"), trade(400, 10001, 7000, "buy"))
    ex = exchange(rec, latency_ms=20)
    quote(ex, bid=1000.0, ask=1000.1)
    to(ex, 120)
    market = ex.markets["BTC-PERP"]
    state = market.state()
    assert json.loads(json.dumps(state)) == state             # plain data
    copy = ex.sources["BTC-PERP"](market.spec, 0, market.started_us)
    copy.restore(state)
    assert copy.state() == state
    to(ex, 500)
    copy.advance_to(market.now_us)
    assert copy.state() == market.state()                     # the restored market went the same way
    assert fills(ex) == [(True, 1000.0, 1.0, True), (False, 1000.1, 0.999, True)]


def test_same_recording_same_requests_same_bytes():
    from app_client import AppClient
    from pf_mock.api import AppOptions, create_app

    rec = recording(trade(100, 10000, 6000, "sell"), level(200, "ask", 10001, 100), trade(300, 10001, 200, "buy"))

    def run() -> list[bytes]:
        ex = exchange(rec, latency_ms=5)
        with AppClient(create_app(ex, AppOptions())) as client:
            headers = {"Authorization": f"Bearer {KEY}"}
            out = []
            body = {"symbol": "BTC-PERP", "bid_price": 1000.0, "bid_size": 1000, "ask_price": 1000.1, "ask_size": 50}
            out.append(client.post("/v1/mm/quote", json=body, headers=headers).content)
            for _ in range(4):
                client.post("/_mock/clock/advance", json={"seconds": 0.1})
                for path in ("/v1/mm/fills?symbol=BTC-PERP", "/v1/markets/BTC-PERP/orderbook",
                             "/v1/mm/pnl?symbol=BTC-PERP", "/v1/markets/BTC-PERP/trades"):
                    out.append(client.get(path, headers=headers).content)
            return out

    first, second = run(), run()
    assert first == second
    assert b"fill_" in b"".join(first)          # something filled, so the bytes say something


def test_a_refused_quote_on_a_halted_market_changes_nothing():
    rec = recording(end_ms=100)
    ex = exchange(rec)
    agent = ex.authenticate(KEY)
    to(ex, 200)
    ex.market("BTC-PERP")
    before = (dict(agent.sessions), len(ex.markets["BTC-PERP"].agent_orders), agent.cash)
    with pytest.raises(ApiError):
        quote(ex, bid=999.0, ask=1001.0)
    assert (dict(agent.sessions), len(ex.markets["BTC-PERP"].agent_orders), agent.cash) == before


from hypothesis import given, settings, strategies as st  # noqa: E402

ACTIONS = st.lists(st.tuples(st.integers(0, 400),            # ms to advance first
                             st.integers(-3, 3),             # bid offset in ticks from the touch
                             st.integers(-3, 3),             # ask offset
                             st.integers(1, 3),              # size, BTC
                             st.booleans()),                 # cancel before quoting
                   min_size=1, max_size=8)
# trades at 999.9 to 1000.1 and level changes on bids 999.8-1000.0 and asks 1000.1-1000.3 (never crossed)
FLOW = recording(*sorted([*[trade(50 + 37 * i, 10000 + (i % 3) - (i % 2), 700 + 300 * (i % 4),
                                  "sell" if i % 2 else "buy") for i in range(60)],
                          *[level(60 + 41 * i, "bid" if i % 2 else "ask",
                                  (9998 if i % 2 else 10001) + (i % 3), 1000 * (i % 4)) for i in range(50)]],
                         key=lambda e: e.ts), end_ms=3000)


def play(actions, latency_ms):
    ex = exchange(FLOW, latency_ms=latency_ms, queue=PowerProbQueue(2))
    agent = ex.authenticate(KEY)
    agent.deposits = 1e9
    t = 0
    for wait, bid_off, ask_off, size, cancel in actions:
        t += wait
        to(ex, t)
        market = ex.market("BTC-PERP")
        assert not market.house.crossed()
        if cancel:
            ex.cancel(agent, "BTC-PERP")
        bb, ba = market.grid.to_price(market.house.best_bid()), market.grid.to_price(market.house.best_ask())
        bid, ask = round(bb - bid_off * 0.1, 1), round(ba + ask_off * 0.1, 1)
        if ex.markets["BTC-PERP"].halted_at is None and bid < ask:
            quote(ex, bid=bid, ask=ask, usd=size * 1000.0)
    to(ex, 3500)
    return ex, agent


@settings(max_examples=15)
@given(ACTIONS, st.sampled_from([0, 15]))
def test_fills_never_exceed_orders_and_the_same_actions_give_the_same_fills(actions, latency_ms):
    ex, agent = play(actions, latency_ms)
    ledger = agent.ledgers.get("BTC-PERP")
    fills = [] if ledger is None else list(ledger.fills)
    by_order: dict[str, float] = {}
    for f in fills:
        by_order[f.order_id] = by_order.get(f.order_id, 0.0) + f.size
    sizes = {}
    for c in ex.orders(agent, "BTC-PERP", status="closed", limit=500).orders:
        sizes[c.order_id] = c.size
    for oid, filled in by_order.items():
        if oid in sizes:
            assert filled <= sizes[oid] + 1e-9
    assert (0.0 if ledger is None else ledger.position) == pytest.approx(
        sum(f.size if f.is_buy else -f.size for f in fills))
    _, again = play(actions, latency_ms)
    second = again.ledgers.get("BTC-PERP")
    assert [(f.time, f.price, f.size, f.is_buy) for f in fills] == \
        ([] if second is None else [(f.time, f.price, f.size, f.is_buy) for f in second.fills])


def test_auto_refresh_stops_at_the_end_of_the_recording():
    rec = recording(end_ms=12_000)
    ex = exchange(rec)
    agent = ex.authenticate(KEY)
    ex.quote(agent, QuoteRequest(symbol="BTC-PERP", bid_price=999.0, bid_size=1000, ask_price=1001.0,
                                 ask_size=1000, auto_refresh=True, refresh_interval_seconds=5))
    market = ex.markets["BTC-PERP"]
    to(ex, 11_000)
    ids_before = {info.order.order_id for _, info in ex.open_orders(agent, "BTC-PERP")}
    assert len(ids_before) == 2 and market._order_seq == 6          # posted at 0 s, 5 s and 10 s
    to(ex, 60_000)
    assert market._order_seq == 6                                   # nothing re-posted after 12 s
    assert {info.order.order_id for _, info in ex.open_orders(agent, "BTC-PERP")} == ids_before


def test_the_listing_says_halted_after_the_end():
    ex = exchange(recording(end_ms=500))
    assert ex.market_detail("BTC-PERP").status == "active"
    to(ex, 499)
    assert ex.market_detail("BTC-PERP").status == "active"
    to(ex, 500)
    assert ex.market_detail("BTC-PERP").status == "halted"
    assert ex.market_detail("ETH-PERP").status == "active"
