"""The book's own refusals and upkeep, on the public ``OrderBook`` API: a described book (``from_state``)
is refused with the dotted field and the rule it breaks (a snapshot's restore answers 400
``invalid_snapshot`` with exactly those), and the emptied price levels the book keeps listed stay
bounded however often its best level empties (a leak there changes no answer, only memory)."""

from __future__ import annotations

import pytest

from pf_mock.book import OrderBook
from pf_mock.errors import InvalidState

GOOD = {"bids": [[100, [[1, "a", 2, 3]]], [99, [[-1, None, 4, 4]]]],
        "asks": [[101, [[2, "b", 1, 1]]], [102, [[-2, None, 5, 6]]]]}


def with_side(name: str, levels: list) -> dict:
    return dict(GOOD, **{name: levels})


def test_a_well_formed_book_is_taken_as_described():
    book = OrderBook.from_state(GOOD, "markets.0.book")
    assert book.state() == GOOD
    assert book.best_bid() == 100 and book.best_ask() == 101


@pytest.mark.parametrize("state, field, rule", [
    # prices distinct and best first, on each side: a repeated price and a worse-before-better one
    (with_side("bids", [[100, [[1, "a", 1, 1]]], [100, [[3, "a", 1, 1]]]]), "bids.1", "prices must be distinct, best first"),
    (with_side("bids", [[99, [[1, "a", 1, 1]]], [100, [[3, "a", 1, 1]]]]), "bids.1", "prices must be distinct, best first"),
    (with_side("asks", [[101, [[2, "b", 1, 1]]], [101, [[3, "b", 1, 1]]]]), "asks.1", "prices must be distinct, best first"),
    (with_side("asks", [[102, [[2, "b", 1, 1]]], [101, [[3, "b", 1, 1]]]]), "asks.1", "prices must be distinct, best first"),
    (with_side("asks", [[100, [[2, "b", 1, 1]]]]), "asks.0", "the best bid must be below the best ask"),
    (with_side("asks", [[101, [[1, "b", 1, 1]]]]), "asks.0.1.0", "order id 1 is zero or used twice"),
    (with_side("asks", [[101, [[0, "b", 1, 1]]]]), "asks.0.1.0", "order id 0 is zero or used twice"),
    (with_side("asks", [[101, [[2, "b", 2, 1]]]]), "asks.0.1.0", "lots left must not exceed lots at entry"),
    (with_side("asks", [[101, [[-3, "b", 1, 1]]]]), "asks.0.1.0",
     "the house's orders have negative ids, agents' positive ones"),
    (with_side("asks", [[101, [[3, None, 1, 1]]]]), "asks.0.1.0",
     "the house's orders have negative ids, agents' positive ones"),
])
def test_a_book_that_breaks_a_rule_is_refused_with_its_field_and_rule(state, field, rule):
    with pytest.raises(InvalidState) as refused:
        OrderBook.from_state(state, "markets.0.book")
    assert (refused.value.field, refused.value.rule) == (f"markets.0.book.{field}", rule)
    answer = refused.value.refusal()
    assert (answer.status, answer.code) == (400, "invalid_snapshot")


@pytest.mark.parametrize("is_buy", [True, False])
def test_emptied_levels_stay_bounded_when_the_best_level_empties_every_round(is_buy):
    """Each round a new best price is posted and cancelled (the walk to the next live price drops its
    level), then a one-off price away from the touch is posted and cancelled (left listed, emptied). The
    walk drops exactly the levels it passes, so the count of emptied levels stays true and those left
    behind are compacted once they pile up; a count that drifted down by one a round would never let
    them be compacted."""
    book = OrderBook()
    sign = 1 if is_buy else -1
    live = 100_000
    book.submit(1, None, is_buy, live, 1)               # the live level under everything that follows
    oid = 2
    for r in range(600):
        book.submit(oid, None, is_buy, live + sign * (1 + r), 1)     # a new best price ...
        book.cancel(oid)                                             # ... emptied: the walk drops it
        book.submit(oid + 1, None, is_buy, live - sign * (1 + r), 1)  # a one-off price behind the best
        book.cancel(oid + 1)
        oid += 2
        assert (book.best_bid() if is_buy else book.best_ask()) == live
    levels, prices = (book.bid_levels, book.bid_prices) if is_buy else (book.ask_levels, book.ask_prices)
    assert len(levels) < 140 and len(prices) < 140          # 600 emptied one-off prices were not all kept
    assert book.depth(is_buy, 5) == [(live, 1)]
