"""Statistics of a recording (pf_mock/replay/stats.py) on hand-made recordings with answers worked out here."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pf_mock.replay.formats import RecordedLevel, Recording, RecordedBook, RecordedTrade
from pf_mock.replay.stats import (fill_through, sample_book, sign_autocorrelation, spread_ticks, taker_gaps,
                                  taker_orders, taker_sizes)

T0 = 1_700_000_000_000_000_000
S = 1_000_000_000


def rec(*events, end_s=30) -> Recording:
    snap = RecordedBook(T0, T0, ((10000, 1000), (9999, 2000)), ((10001, 1000), (10003, 4000)))
    tail = RecordedLevel(T0 + end_s * S, T0 + end_s * S, "ask", 10050, 1)
    return Recording("hand", "test", "BTCUSDT", "BTC", Decimal("0.1"), Decimal("0.001"), [snap, *events, tail])


def trade(s, price, size, taker, exch=None):
    t = T0 + int(s * S)
    return RecordedTrade(t, T0 + int((exch if exch is not None else s) * S), price, size, taker)


def test_spread_in_ticks_from_one_second_samples():
    r = rec(RecordedLevel(T0 + int(1.5 * S), 0, "ask", 10001, 0), RecordedLevel(T0 + int(3.2 * S), 0, "ask", 10002, 5), end_s=4)
    samples = sample_book(r)
    # samples at 0 s (1 tick), 1.5 s (the first update after 1 s: 3 ticks), 3.2 s (2 ticks), 4 s (2 ticks)
    assert [a - b for a, b in zip(samples.asks, samples.bids)] == [1, 3, 2, 2]
    found = spread_ticks(samples)
    assert found["mean"] == 2.0 and found["share_one_tick"] == 0.25
    # within 10 bps of a 1000.05 mid (1 USD): every level listed
    assert samples.band_bid[0] == 3000 and samples.touch_ask[0] == 1000


def test_taker_orders_group_prints_of_one_exchange_instant():
    r = rec(trade(1, 10001, 500, "buy", exch=1), trade(1.001, 10003, 500, "buy", exch=1), trade(2, 10000, 1000, "sell"))
    orders = taker_orders(r)
    assert [(o.is_buy, round(o.size, 6), round(o.notional, 4), o.worst_price) for o in orders] == [
        (True, 1.0, round(0.5 * 1000.1 + 0.5 * 1000.3, 4), pytest.approx(1000.3)), (False, 1.0, 1000.0, 1000.0)]
    sizes = taker_sizes(orders)
    assert sizes["count"] == 2 and sizes["median"] == pytest.approx((1000.2 + 1000.0) / 2)
    gaps = taker_gaps(orders)
    assert gaps["mean"] == pytest.approx(1.0)


def test_sign_autocorrelation_of_a_known_sequence():
    signs = "++--" * 25
    r = rec(*[trade(1 + i * 0.1, 10001 if c == "+" else 10000, 1, "buy" if c == "+" else "sell")
              for i, c in enumerate(signs)])
    found = sign_autocorrelation(taker_orders(r), lags=(1, 2, 4))
    assert found[2] == pytest.approx(-1.0) and found[4] == pytest.approx(1.0) and abs(found[1]) < 0.05


def test_fill_through_and_its_markout():
    # mid 1000.05; at 2 s a sell taker prints at 999.9 (1.5 bps below the mid) and the mid then falls 1 USD
    r = rec(trade(2, 9999, 1, "sell"), RecordedLevel(T0 + 3 * S, 0, "bid", 10000, 0), RecordedLevel(T0 + 3 * S, 0, "bid", 9999, 0),
            RecordedLevel(T0 + 3 * S, 0, "bid", 9990, 10), RecordedLevel(T0 + 3 * S, 0, "ask", 10001, 0),
            RecordedLevel(T0 + 3 * S, 0, "ask", 10003, 0), RecordedLevel(T0 + 3 * S, 0, "ask", 9991, 10), end_s=70)
    curve = fill_through(r, offsets_bps=(1.0, 2.5), every_s=5, markout_s=60)
    quotes = 2 * 14                              # 14 whole 5 s windows in 70 s, a bid and an ask each
    assert curve[1.0]["fill_share"] == pytest.approx(1 / quotes)
    assert curve[2.5]["fill_share"] == 0
    bid = 10000.5 * (1 - 1e-4)
    assert curve[1.0]["markout_60s_bps"] == pytest.approx((9990.5 - bid) / bid * 1e4)
