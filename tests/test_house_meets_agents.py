"""The house asks for the agents' inventory allowances only when its re-centre can fill an agent's order
(``BackgroundLiquidity.meets_agents``): an agent's ask at or below the touch bid it would lay out, or an
agent's bid at or above its touch ask. Each boundary is pinned from both sides, and the house's own
orders there never count."""

from __future__ import annotations

import itertools

from pf_mock.book import GTC, OrderBook
from pf_mock.catalog import load_catalog
from pf_mock.grid import Grid
from pf_mock.liquidity import BackgroundLiquidity

SPEC = load_catalog().resolve("BTC-PERP")
FAIR = 70_814.37


def house_and_book() -> tuple[BackgroundLiquidity, OrderBook, int, int, int]:
    ids = itertools.count(-1, -1)
    grid = Grid(SPEC.sz_decimals)
    house = BackgroundLiquidity(grid, lambda: next(ids))
    _, top_bid, top_ask, _ = house.layout(FAIR, 1.0, SPEC.regime)
    return house, OrderBook(), top_bid, top_ask, grid.tick_at(top_bid)


def meets(house: BackgroundLiquidity, book: OrderBook) -> bool:
    return house.meets_agents(book, FAIR, 1.0, SPEC.regime)


def test_an_agents_ask_counts_at_the_touch_bid_and_not_a_tick_above() -> None:
    house, book, top_bid, _, tick = house_and_book()
    book.submit(1, "agent", False, top_bid + tick, 3, GTC)
    assert not meets(house, book)
    book.submit(2, "agent", False, top_bid, 3, GTC)
    assert meets(house, book)
    book.cancel(2)
    assert not meets(house, book)


def test_an_agents_bid_counts_at_the_touch_ask_and_not_a_tick_below() -> None:
    house, book, _, top_ask, tick = house_and_book()
    book.submit(1, "agent", True, top_ask - tick, 3, GTC)
    assert not meets(house, book)
    book.submit(2, "agent", True, top_ask, 3, GTC)
    assert meets(house, book)


def test_the_houses_own_orders_through_its_touch_do_not_count() -> None:
    house, book, top_bid, top_ask, tick = house_and_book()
    book.submit(-100, None, False, top_bid - tick, 5, GTC)     # a stale house ask below the new touch bid
    book.submit(-101, None, True, top_bid - 2 * tick, 5, GTC)
    assert not meets(house, book)
    book.submit(3, "agent", False, top_bid - tick, 1, GTC)    # behind the house's order at that price
    assert meets(house, book)
    house2, book2, _, top_ask2, _ = house_and_book()
    book2.submit(-100, None, True, top_ask2 + tick, 5, GTC)
    assert not meets(house2, book2)
    book2.submit(4, "agent", True, top_ask2 + 3 * tick, 1, GTC)
    assert meets(house2, book2)
