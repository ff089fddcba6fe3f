"""``OrderBook.add_at_back``: lots added to an order that is the last live one of its price's queue are
the same as if it had been posted that much bigger (nobody waits behind it, so nobody's place changes).
The oracle is a second book where it was: the owner's resting sums (what margin reads), the depth, the
book's state and what a sweep fills must all agree. Refused (False, nothing changed) for an unknown
order, no lots, or an order someone waits behind."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pf_mock.book import GTC, IOC, OrderBook

PRICE = 100
MINE = 99           # the order lots are added to


def observed(book: OrderBook, owner) -> tuple:
    return (book.owned(owner), book.owned_sides(owner), book.owned_orders, book.depth(True, 10),
            book.depth(False, 10), book.state(), book.best_bid(), book.best_ask())


def build(others: list, owner, is_buy: bool, qty: int) -> OrderBook:
    book = OrderBook()
    for i, (who, offset, lots) in enumerate(others, start=1):
        book.submit(i, who, is_buy, PRICE - offset if is_buy else PRICE + offset, lots, GTC)
    book.submit(MINE, owner, is_buy, PRICE, qty, GTC)
    return book


OTHERS = st.lists(st.tuples(st.sampled_from([None, "a", "b"]), st.integers(0, 2), st.integers(1, 30)), max_size=6)


@settings(max_examples=min(60, settings.default.max_examples), deadline=None)
@given(others=OTHERS, owner=st.sampled_from([None, "a", "me"]), is_buy=st.booleans(), qty=st.integers(1, 30),
       added=st.integers(1, 30))
def test_lots_added_at_the_back_are_as_if_the_order_had_been_posted_that_big(others, owner, is_buy, qty, added):
    grown, posted = build(others, owner, is_buy, qty), build(others, owner, is_buy, qty + added)
    assert grown.add_at_back(MINE, added)
    for who in (owner, "a", "b", None):
        assert observed(grown, who) == observed(posted, who)
    # A sweep of the whole side fills the same orders, the same lots, in the same order.
    everything = sum(lots for _, lots in posted.depth(is_buy, 10))
    swept = [grown.submit(500, "taker", not is_buy, None, everything, IOC),
             posted.submit(500, "taker", not is_buy, None, everything, IOC)]
    made = [[(f.maker.order_id, f.maker.owner, f.price, f.qty) for f in result.fills] for result in swept]
    assert made[0] == made[1]
    assert swept[0].filled == everything
    assert observed(grown, owner) == observed(posted, owner)
    assert grown.owned(owner) == (0, 0)


def test_the_owners_sums_grow_by_the_lots_at_the_orders_price():
    book = build([("a", 0, 5)], "me", True, 7)
    assert book.owned_sides("me") == ((7, 7 * PRICE), (0, 0))
    assert book.add_at_back(MINE, 3)
    assert book.owned_sides("me") == ((10, 10 * PRICE), (0, 0))
    assert book.owned("me") == (1, 10 * PRICE)
    assert book.get(MINE).qty == 10 and book.depth(True, 1) == [(PRICE, 15)]


@pytest.mark.parametrize("lots, taken", [(-1, False), (0, False), (1, True)])
def test_some_lots_are_needed(lots, taken):
    book = build([], "me", False, 4)
    before = observed(book, "me")
    assert book.add_at_back(MINE, lots) is taken
    if taken:
        assert book.owned_sides("me") == ((0, 0), (5, 5 * PRICE))
    else:
        assert observed(book, "me") == before


def test_an_order_someone_waits_behind_is_refused_and_nothing_changes():
    book = build([], "me", True, 4)
    book.submit(7, "a", True, PRICE, 2, GTC)            # behind it at its price
    before = observed(book, "me"), observed(book, "a")
    assert not book.add_at_back(MINE, 3)
    assert not book.add_at_back(12345, 3)               # no such order
    assert (observed(book, "me"), observed(book, "a")) == before


def test_an_order_behind_that_has_left_does_not_count():
    book = build([], "me", True, 4)
    book.submit(7, "a", True, PRICE, 2, GTC)
    book.cancel(7)                                      # it left the queue: nobody waits behind any more
    assert book.add_at_back(MINE, 3)
    assert book.owned_sides("me") == ((7, 7 * PRICE), (0, 0)) and book.depth(True, 1) == [(PRICE, 7)]
