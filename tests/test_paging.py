"""The one cursor rule (``pf_mock.paging``): a cursor is up to 12 ASCII digits, and both listings that
page (fills and closed orders) hold to it, from both sides of every edge."""

from __future__ import annotations

import pytest

from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange
from pf_mock.messages import QuoteRequest
from pf_mock.paging import cursor_position, page_bounds

GOOD = [("0", 0), ("7", 7), ("000000000012", 12), ("999999999999", 999_999_999_999)]
BAD = ["", "-1", "+1", "1.0", " 1", "1 ", "0x1", "1e3", "9999999999999", "٣", "١٢", "²", "１", 3, 1.5]


@pytest.mark.parametrize("cursor,position", GOOD)
def test_a_cursor_of_up_to_twelve_ascii_digits_is_its_number(cursor, position):
    assert cursor_position(cursor) == position


def test_no_cursor_is_no_position():
    assert cursor_position(None) is None


@pytest.mark.parametrize("cursor", BAD)
def test_anything_else_is_a_400_on_the_cursor_field(cursor):
    with pytest.raises(ApiError) as e:
        cursor_position(cursor)
    assert (e.value.status, e.value.code, e.value.detail) == (400, "invalid_request", {"field": "cursor"})


@pytest.fixture(scope="module")
def traded():
    ex = Exchange()
    agent = ex.authenticate("pf_test_pagingtest")
    mid = ex.market("BTC-PERP").mid
    ex.quote(agent, QuoteRequest(symbol="BTC-PERP", bid_price=mid * 0.9999, bid_size=100,
                                 ask_price=mid * 1.0001, ask_size=100, auto_refresh=True))
    ex.advance(600)
    assert ex.fills(agent) and ex.orders(agent, status="closed").orders
    return ex, agent


@pytest.mark.parametrize("cursor", ["١", "٣", "²", "1234567890123", "-0"])
@pytest.mark.parametrize("listing", ["fills", "closed orders"])
def test_both_listings_refuse_the_same_cursors_and_change_nothing(traded, listing, cursor):
    ex, agent = traded
    before = (len(ex.fills(agent)), len(agent.closed_orders), ex.now())
    with pytest.raises(ApiError) as e:
        if listing == "fills":
            ex.fill_views(agent, cursor=cursor)
        else:
            ex.orders(agent, status="closed", cursor=cursor)
    assert (e.value.status, e.value.detail) == (400, {"field": "cursor"})
    assert (len(ex.fills(agent)), len(agent.closed_orders), ex.now()) == before


@pytest.mark.parametrize("listing", ["fills", "closed orders"])
def test_both_listings_take_the_first_position_as_zero(traded, listing):
    ex, agent = traded
    if listing == "fills":
        first = ex.fill_views(agent, cursor="0", limit=1).fills[0].fill_id
        assert first == ex.fills(agent)[0].fill_id
    else:
        first = ex.orders(agent, status="closed", cursor="0", limit=1).orders[0].order_id
        assert first == agent.closed_orders[0].order_id


def test_page_bounds():
    times = [1.0, 2.0, 2.0, 5.0]
    at = times.__getitem__
    assert page_bounds(4, 2) == (2, 4)                              # the newest limit
    assert page_bounds(4, 9) == (0, 4)
    assert page_bounds(4, 2, position=1) == (1, 3)                   # from a position on
    assert page_bounds(4, 2, position=4) == (4, 4)                   # at the end: empty
    assert page_bounds(4, 2, position=99) == (4, 4)                  # past the end: empty
    assert page_bounds(4, 2, since=2.0, time_at=at) == (1, 3)        # the oldest at or after since
    assert page_bounds(4, 2, since=2.0001, time_at=at) == (3, 4)
    assert page_bounds(4, 2, since=6.0, time_at=at) == (4, 4)
    assert page_bounds(4, 2, position=0, since=6.0, time_at=at) == (0, 2)   # a cursor outranks since
