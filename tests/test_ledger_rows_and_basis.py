"""The ledger's small contracts, each by hand-worked figures: a ledger gives back as a snapshot's rows
exactly the fills it was built from (and ``load`` takes them back), it refuses to ``load`` over fills it
already has, and the average-cost basis of a position restarts at the trade's price when the trade
flips the position, from a position of a single lot as from any other."""

from __future__ import annotations

import pytest

from pf_mock.ledger import AverageCost, FillOrder, SymbolLedger

SYMBOL = "ETH-PERP"
# [symbol, fill_id, order_id, is_buy, price, lots, notional, maker, fee, mid, kind, time]: the order ids
# are not the fill ids, so a row that took one for the other would show it.
ROWS = [
    (SYMBOL, "fill_00000000000a", "ord_0000000000ff", True, 2000.5, 3, 60.015, True, -0.006, 2000.75, "quote",
     1_767_225_600.25),
    (SYMBOL, "fill_00000000000b", "ord_000000000100", False, 2001.0, 5, 100.05, False, 0.045, 2000.5, "hedge",
     1_767_225_601.5),
    (SYMBOL, "fill_0000000001c2", "ord_00000000abcd", False, 1999.25, 1, 19.9925, False, 0.009, 1999.5,
     "auto_hedge", 1_767_225_601.5),
]


def built(rows) -> SymbolLedger:
    ledger = SymbolLedger(SYMBOL, 100, FillOrder())
    for (_, fill_id, order_id, is_buy, price, lots, notional, maker, fee, mid, kind, time) in rows:
        ledger.apply(fill_id=fill_id, order_id=order_id, is_buy=is_buy, price=price, lots=lots, notional=notional,
                     maker=maker, fee=fee, mid=mid, kind=kind, time=time)
    return ledger


def test_a_ledger_gives_back_the_fills_it_was_built_from_as_rows():
    assert SymbolLedger(SYMBOL, 100).rows() == []
    rows = built(ROWS).rows()
    assert rows == ROWS
    assert [type(v) for v in rows[0]] == [type(v) for v in ROWS[0]]
    loaded = SymbolLedger(SYMBOL, 100)
    loaded.load(rows)
    assert loaded.rows() == ROWS and loaded.lots == 3 - 5 - 1


def test_load_refuses_a_ledger_that_has_fills_and_leaves_it_as_it_was():
    ledger = built(ROWS[:1])
    for rows in ([], ROWS[1:]):
        with pytest.raises(ValueError, match="^load takes an empty ledger$"):
            ledger.load(rows)
        assert ledger.rows() == ROWS[:1]


@pytest.mark.parametrize("held", [1, 2])
def test_a_flip_restarts_the_basis_at_the_trades_price(held):
    unit = 0.25                                             # base units per lot (exact in binary)
    long_then_short = AverageCost(unit)
    assert long_then_short.add(held, 100.0) == 0.0
    assert (long_then_short.lots, long_then_short.avg) == (held, 100.0)
    # selling held + 2 lots at 110 closes the long at +10 a base unit and opens 2 lots short at 110
    assert long_then_short.add(-(held + 2), 110.0) == held * unit * 10.0
    assert (long_then_short.lots, long_then_short.avg) == (-2, 110.0)
    # buying 2 at 105 closes that short at +5 a base unit: flat, no basis
    assert long_then_short.add(2, 105.0) == 2 * unit * 5.0
    assert (long_then_short.lots, long_then_short.avg, long_then_short.realized) == (0, 0.0, (held * 10 + 10) * unit)

    short_then_long = AverageCost(unit)
    short_then_long.add(-held, 100.0)
    assert short_then_long.add(held + 2, 90.0) == held * unit * 10.0
    assert (short_then_long.lots, short_then_long.avg) == (2, 90.0)


def test_adding_to_a_single_lot_averages_and_closing_it_exactly_goes_flat():
    basis = AverageCost(1.0)
    basis.add(1, 100.0)
    basis.add(3, 104.0)
    assert (basis.lots, basis.avg) == (4, 103.0)
    one = AverageCost(1.0)
    one.add(1, 100.0)
    assert one.add(-1, 99.0) == -1.0 and (one.lots, one.avg) == (0, 0.0)


def test_a_ledgers_trader_basis_follows_a_flip_from_one_lot():
    ledger = built([(SYMBOL, "fill_000000000001", "ord_000000000001", True, 100.0, 1, 1.0, True, 0.0, 100.0, "quote",
                     1_767_225_600.0),
                    (SYMBOL, "fill_000000000002", "ord_000000000002", False, 110.0, 3, 3.3, False, 0.0, 110.0,
                     "hedge", 1_767_225_601.0)])
    basis = ledger.at_fill_prices
    assert (basis.lots, basis.avg) == (-2, 110.0)
    assert basis.realized == pytest.approx(10.0 / 100)
