"""The refresh loop's margin check is a quote's: the initial margin with the re-posted sides added, plus
what filling them at once may cost (the part of a price worse than the mark, and the taker fee when a
side crosses the book), against the equity. Short of it, the refresh posts nothing and the session says
``insufficient_balance``.

The set-up: a post-only (ALO) bid 20 bps over the mid, so every refresh re-posts a side that would
cross (and is skipped: nothing fills, the equity stays the starting balance), with a 1% taker fee so
that what filling at once would cost is large; the margin used beside it is an ETH bid resting 1% under
its mark. The ETH bid is sized so that the equity falls half-way into that cost (refused), or
clears it by half of it (taken)."""

from __future__ import annotations

import pytest

from pf_mock.messages import QuoteRequest
from pf_mock.testing import MockExchange

BTC, ETH = "BTC-PERP", "ETH-PERP"
BALANCE = 200.0
FEE_BPS = 100.0
BTC_USD = 2_000.0
OVER_BPS = 20.0             # the ALO bid's distance over the mid: what it would pay over the mark
LEVERAGE = 50               # both markets' maximum leverage (checked below)


def session_after_a_refresh(eth_margin: float) -> tuple[str | None, MockExchange]:
    ex = MockExchange(seed=3, starting_balance=BALANCE, taker_fee_bps=FEE_BPS)
    assert ex.catalog.resolve(BTC).max_leverage == ex.catalog.resolve(ETH).max_leverage == LEVERAGE
    me = ex.register()
    quoted = ex.quote(me, QuoteRequest(BTC, bid_price=ex.mid(BTC) * (1 + OVER_BPS / 1e4), bid_size=BTC_USD,
                                       time_in_force="ALO", auto_refresh=True, refresh_interval_seconds=1))
    assert quoted.bid.skipped == "would_cross"
    # an ETH bid 1% under the mark: its margin is its size at the mark, over the leverage
    eth = ex.quote(me, QuoteRequest(ETH, bid_price=ex.mark_price(ETH) * 0.99,
                                    bid_size=eth_margin * LEVERAGE * 0.99))
    assert eth.bid.order_id is not None
    ex.advance(1)                                   # the refresh re-posts the BTC bid, 20 bps over the mid
    assert [o.symbol for o in ex.orders(me).orders] == [ETH]
    assert ex.fills(me) == [] and ex.equity(me) == BALANCE
    return ex.session_of(me, BTC).reason, ex


AT_ONCE = BTC_USD * (OVER_BPS + FEE_BPS) / 1e4       # about $24: over the mark, and the taker fee
BTC_MARGIN = BTC_USD / LEVERAGE                       # about $40


def test_the_refresh_counts_what_filling_at_once_costs():
    # margin in use with the side: $200 - $12; with what filling it at once costs: $200 + $12
    reason, _ = session_after_a_refresh(BALANCE - BTC_MARGIN - AT_ONCE / 2)
    assert reason == "insufficient_balance"


def test_a_refresh_the_equity_covers_with_room_goes_ahead():
    # margin in use with the side and the cost of filling it at once: $200 - $12
    reason, _ = session_after_a_refresh(BALANCE - BTC_MARGIN - 1.5 * AT_ONCE)
    assert reason is None


def test_a_refresh_short_of_the_margin_alone_is_refused():
    reason, _ = session_after_a_refresh(BALANCE - BTC_MARGIN + AT_ONCE / 2)
    assert reason == "insufficient_balance"


# ---- every market marked at the refresh's instant ------------------------------------------------------
# A short ETH position on a market nobody watches (no order, no live session): that market is not brought
# forward while the BTC refresh loop runs, yet its mark at the refresh's instant is what counts, for the
# margin as for the equity. ETH drifts up 10% an hour (no volatility, no takers, no jumps) and BTC stands
# still, so in the hour to the refresh the short's margin grows by |position| x the move / 50 (about $8)
# and the equity falls by |position| x the move; the BTC bid is sized so that the equity at the refresh
# sits in the middle of that growth (refused), or clears the margin at the refresh's instant (taken).
CALM = {"volatility_annual": 0, "taker_rate_per_minute": 0, "jump_rate_per_hour": 0, "drift_bps_per_hour": 0}
HOUR = 3_600


def refresh_an_hour_later(room: float) -> tuple[str | None, list, float, float]:
    """The BTC session's reason and orders after its refresh an hour on, with the BTC bid sized to leave
    ``room`` (in margin dollars) under the equity at the refresh's instant with ETH marked then; also the
    ETH margin then and an hour before (the short's margin at the two marks)."""
    ex = MockExchange(seed=4, starting_balance=2_000)
    ex.set_regime(BTC, CALM)
    ex.set_regime(ETH, dict(CALM, drift_bps_per_hour=1_000))
    me = ex.register()
    ex.quote(me, QuoteRequest(ETH, ask_price=ex.mid(ETH) * 0.999, ask_size=4_000, time_in_force="IOC"))
    ex.cancel(me, ETH)                                      # the ETH session idles: the market goes quiet
    _, ledger = ex.inventory(me, ETH)
    short = -ledger.position
    eth = ex.market(ETH)
    now_us = ex.instant_us()
    then_us = now_us + HOUR * 1_000_000
    eth_now, eth_then = eth.mark_at(now_us), eth.mark_at(then_us)    # a quiet market's mark: any instant
    equity_then = ex.equity(me) - short * (eth_then - eth_now)
    eth_margin_now, eth_margin_then = short * eth_now / LEVERAGE, short * eth_then / LEVERAGE
    btc_margin = equity_then - eth_margin_then - room
    mid = ex.mid(BTC)
    ex.quote(me, QuoteRequest(BTC, bid_price=mid * (1 - 10e-4), bid_size=btc_margin * LEVERAGE * (1 - 10e-4),
                              auto_refresh=True, refresh_interval_seconds=HOUR))
    ex.advance(HOUR)
    assert ex.mid(BTC) == mid and ex.fills(me, BTC) == []
    assert eth.mark_at(then_us) == eth_then and ex.equity(me) == pytest.approx(equity_then, abs=1e-6)
    orders = [(o.symbol, o.size * o.price) for o in ex.orders(me).orders]
    return ex.session_of(me, BTC).reason, orders, eth_margin_now, eth_margin_then


def test_the_refresh_marks_a_quiet_market_at_the_refreshs_instant():
    _, _, now, then = refresh_an_hour_later(0.0)
    assert then - now > 6                                   # the short's margin grew by about $8
    # equity at the refresh: above the margin with ETH at the hour-old mark, under it with ETH marked then
    reason, orders, now, then = refresh_an_hour_later(-(then - now) / 2)
    assert reason == "insufficient_balance" and orders == []


def test_the_refresh_goes_ahead_when_the_equity_covers_the_margin_at_its_instant():
    reason, orders, now, then = refresh_an_hour_later(2.0)
    assert reason is None
    assert [symbol for symbol, _ in orders] == [BTC]
