"""A quote side that crosses the book fills at once as a taker, so the margin check reserves the taker
fee on all of it on top of the margin (``orders.side_cost``): an agent who can pay for the crossing
order but not its fee is refused 402 ``insufficient_balance``, and a side that does not cross reserves
no fee. The oracle is the fee alone: the same quote on the same market (same seed) with the taker fee
at 0 and at ``FEE_BPS`` must differ in ``required_margin_usd`` by the fee on the side's notional, and
by nothing when the side rests."""

from __future__ import annotations

import math

import pytest

from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.messages import QuoteRequest

SYMBOL = "BTC-PERP"
KEY = "pf_test_crossing_fee"
FEE_BPS = 100.0         # 1%: large enough that the fee is many cents on a $2,000 side
SIZE_USD = 2_000.0
POOR = 1.0              # a dollar of equity: every such quote is refused, and says what it needed


def exchange(fee_bps: float, balance: float = POOR) -> Exchange:
    return Exchange(ExchangeConfig(seed=5, starting_balance=balance, taker_fee_bps=fee_bps))


def touch(ex: Exchange) -> tuple[float, float]:
    book = ex.orderbook(SYMBOL, 1)
    return book.bids[0].price, book.asks[0].price


def side(ex: Exchange, where: str) -> dict:
    """A $2,000 bid or ask at the touch of the other side (crosses) or a hair inside it (rests; the
    grid rounds a bid down and an ask up to the next tick, so it is one tick away from crossing)."""
    best_bid, best_ask = touch(ex)
    return {"at_ask": {"bid_price": best_ask, "bid_size": SIZE_USD},
            "under_ask": {"bid_price": best_ask * (1 - 1e-9), "bid_size": SIZE_USD},
            "at_bid": {"ask_price": best_bid, "ask_size": SIZE_USD},
            "over_bid": {"ask_price": best_bid * (1 + 1e-9), "ask_size": SIZE_USD}}[where]


def required(fee_bps: float, where: str) -> float:
    """``required_margin_usd`` of the 402 that the quote gets from an agent with a dollar."""
    ex = exchange(fee_bps)
    with pytest.raises(ApiError) as refused:
        ex.quote(ex.authenticate(KEY), QuoteRequest(SYMBOL, **side(ex, where)))
    assert refused.value.code == "insufficient_balance"
    return refused.value.detail["required_margin_usd"]


@pytest.mark.parametrize("where", ["at_ask", "at_bid"])
def test_a_crossing_side_reserves_the_taker_fee_on_all_of_it(where):
    fee = required(FEE_BPS, where) - required(0.0, where)
    # The side is sized to whole lots at its price: its notional is SIZE_USD less at most one lot's worth.
    ex = exchange(0.0)
    price = touch(ex)[1 if where == "at_ask" else 0]
    one_lot = price * 10 ** -ex.catalog.resolve(SYMBOL).sz_decimals
    assert (SIZE_USD - one_lot) * FEE_BPS / 1e4 - 2e-6 <= fee <= SIZE_USD * FEE_BPS / 1e4 + 2e-6


@pytest.mark.parametrize("where", ["under_ask", "over_bid"])
def test_a_side_one_tick_from_crossing_reserves_no_fee(where):
    assert math.isclose(required(FEE_BPS, where), required(0.0, where), abs_tol=2e-6)


def test_an_agent_who_cannot_pay_the_fee_cannot_cross():
    need = required(FEE_BPS, "at_ask")
    without_fee = required(0.0, "at_ask")
    assert need - without_fee > 10.0            # the fee is what lies between the two balances below
    for balance, accepted in ((need - 0.01, False), (need + 0.01, True)):
        ex = exchange(FEE_BPS, balance)
        me = ex.authenticate(KEY)
        if accepted:
            ex.quote(me, QuoteRequest(SYMBOL, **side(ex, "at_ask")))
            assert ex.fill_views(me, SYMBOL).fills, "it crossed: it filled as a taker"
        else:
            with pytest.raises(ApiError) as refused:
                ex.quote(me, QuoteRequest(SYMBOL, **side(ex, "at_ask")))
            assert refused.value.code == "insufficient_balance"
            assert me.cash == balance and not ex.fill_views(me, SYMBOL).fills       # nothing happened
