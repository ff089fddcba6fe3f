"""The tick and lot grid: Hyperliquid's perp rules, checked against a rule written out independently.

A price is valid when it has at most ``6 - sz_decimals`` decimals and at most 5 significant figures,
except that a whole-dollar price is always valid. ``valid`` below states exactly that, digit by digit,
so the grid's arithmetic (ticks by magnitude) is checked against the rule, not against itself.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pf_mock.grid import _EPS, Grid, _ceil, _floor

BTC, ETH, ATOM, DOGE = Grid(5), Grid(4), Grid(2), Grid(0)


def valid(grid: Grid, units: int) -> bool:
    """The rule itself: units are 10**-(6 - sz) USD, so the decimals limit holds by construction;
    what remains is 5 significant figures (trailing zeros do not count) or a whole-dollar price."""
    if units <= 0:
        return False
    return units % grid.price_scale == 0 or len(str(units).rstrip("0")) <= 5


def units_of(grid: Grid, price: str) -> int:
    """A decimal price written as text to exact units (fails if it has too many decimals)."""
    exact = Fraction(price) * grid.price_scale
    assert exact.denominator == 1, f"{price} has more than {grid.price_decimals} decimals"
    return int(exact)


def next_valid_above(grid: Grid, units: int) -> int:
    """The smallest valid price above ``units``, found by the rule (not by Grid's ticks)."""
    candidate = units + 1
    step = 10 ** max(0, len(str(candidate)) - 5)
    by_figures = -(-candidate // step) * step           # may become a power of ten: still valid
    by_dollar = -(-candidate // grid.price_scale) * grid.price_scale
    return min(by_figures, by_dollar)


def prev_valid_below(grid: Grid, units: int) -> int:
    """The largest valid price below ``units`` (0 if there is none)."""
    candidate = units - 1
    if candidate <= 0:
        return 0
    step = 10 ** max(0, len(str(candidate)) - 5)
    return max(candidate // step * step, candidate // grid.price_scale * grid.price_scale)


# ---- the rule, by example ---------------------------------------------------------------------------
@pytest.mark.parametrize("grid, price, tick", [
    (BTC, "70814", "1"),            # sz 5: 1 decimal allowed, but 5 figures leave no room for it
    (BTC, "9999.9", "0.1"),
    (BTC, "123456", "1"),           # 6 figures, but a whole-dollar price is always valid
    (ETH, "3802.9", "0.1"),         # sz 4: 2 decimals allowed, 5 figures allow 1 here
    (ETH, "999.99", "0.01"),
    (ETH, "38029", "1"),
    (ATOM, "8.5588", "0.0001"),     # sz 2: 4 decimals
    (ATOM, "0.0123", "0.0001"),     # ... and the decimals limit binds before the figures do
    (DOGE, "0.16221", "0.00001"),   # sz 0: 6 decimals allowed, 5 figures allow 5
    (DOGE, "0.014279", "0.000001"),
    (DOGE, "1.2345", "0.0001"),
])
def test_tick_at_known_prices(grid: Grid, price: str, tick: str) -> None:
    units = units_of(grid, price)
    assert grid.is_on_grid(units)
    assert valid(grid, units)
    assert grid.tick_size(units) == float(tick)
    assert grid.tick_at(units) == units_of(grid, tick)


@pytest.mark.parametrize("grid, price", [
    (BTC, "12345.6"),       # 6 significant figures with a fraction
    (BTC, "70814.5"),
    (BTC, "100000.5"),
    (ETH, "3802.95"),
    (ETH, "1234.56"),
    (ATOM, "12.3456"),
    (DOGE, "0.162215"),
    (DOGE, "1.23456"),
])
def test_prices_off_the_grid(grid: Grid, price: str) -> None:
    units = units_of(grid, price)
    assert not valid(grid, units)
    assert not grid.is_on_grid(units)


def test_too_many_decimals_is_never_representable() -> None:
    # BTC allows one decimal: 70814.25 has two, so it cannot even be written in units; rounding
    # passively lands on the grid on each side.
    assert BTC.price_down(70814.25) == units_of(BTC, "70814")
    assert BTC.price_up(70814.25) == units_of(BTC, "70815")
    # ATOM (sz 2) allows 4 decimals: 0.012345 has 5 figures but 6 decimals.
    assert ATOM.price_down(0.012345) == units_of(ATOM, "0.0123")
    assert ATOM.price_up(0.012345) == units_of(ATOM, "0.0124")


def test_integer_prices_are_always_valid() -> None:
    for grid in (BTC, ETH, ATOM, DOGE):
        for dollars in (1, 7, 100_003, 1_234_567):
            units = dollars * grid.price_scale
            assert grid.is_on_grid(units), (grid, dollars)
            assert grid.price_down(float(dollars)) == units
            assert grid.price_up(float(dollars)) == units


@pytest.mark.parametrize("grid", [BTC, ETH, ATOM, DOGE, Grid(1), Grid(3)])
def test_is_on_grid_matches_the_rule_across_powers_of_ten(grid: Grid) -> None:
    for power in range(3, 9):
        centre = 10 ** power
        for units in range(centre - 150, centre + 150):
            assert grid.is_on_grid(units) == valid(grid, units), (grid, units)


# ---- passive rounding -------------------------------------------------------------------------------
def test_passive_rounding_examples() -> None:
    assert BTC.price_down(70814.9) == units_of(BTC, "70814")
    assert BTC.price_up(70814.1) == units_of(BTC, "70815")
    assert BTC.price_down(70814.0) == BTC.price_up(70814.0) == units_of(BTC, "70814")
    assert ETH.price_down(3802.95) == units_of(ETH, "3802.9")
    assert ETH.price_up(3802.95) == units_of(ETH, "3803")
    assert DOGE.price_down(0.162219) == units_of(DOGE, "0.16221")
    assert DOGE.price_up(0.162211) == units_of(DOGE, "0.16222")


def test_passive_rounding_across_a_power_of_ten() -> None:
    # Below 10,000 BTC has a 0.1 tick; from 10,000 on the tick is 1.
    assert BTC.price_up(9999.95) == units_of(BTC, "10000")
    assert BTC.price_down(9999.95) == units_of(BTC, "9999.9")
    assert BTC.price_down(10000.5) == units_of(BTC, "10000")
    assert BTC.price_up(10000.5) == units_of(BTC, "10001")
    # ETH: 0.01 below 1,000, 0.1 from 1,000.
    assert ETH.price_up(999.995) == units_of(ETH, "1000")
    assert ETH.price_down(1000.05) == units_of(ETH, "1000")
    assert ETH.price_up(1000.05) == units_of(ETH, "1000.1")
    # DOGE: 0.000001 below 0.1, 0.00001 from 0.1.
    assert DOGE.price_up(0.0999995) == units_of(DOGE, "0.1")
    assert DOGE.price_down(0.0999995) == units_of(DOGE, "0.099999")
    assert DOGE.price_up(0.100005) == units_of(DOGE, "0.10001")


def test_float_dust_lands_on_the_intended_price() -> None:
    # 0.1 + 0.2 is 0.30000000000000004: it means 0.3, on both sides.
    assert DOGE.price_down(0.1 + 0.2) == DOGE.price_up(0.1 + 0.2) == units_of(DOGE, "0.3")
    assert ETH.price_down(3802.9000000000001) == units_of(ETH, "3802.9")
    assert ETH.price_up(1.1 * 3) == units_of(ETH, "3.3")


def test_to_price_prints_the_grid_value() -> None:
    assert BTC.to_price(units_of(BTC, "9999.9")) == 9999.9
    assert ETH.to_price(units_of(ETH, "3802.9")) == 3802.9
    assert DOGE.to_price(units_of(DOGE, "0.16221")) == 0.16221
    assert repr(DOGE.to_price(units_of(DOGE, "0.16221"))) == "0.16221"


# ---- sizes and notionals ----------------------------------------------------------------------------
def test_lots_for_usd_rounds_down_to_the_lot() -> None:
    btc_70814 = units_of(BTC, "70814")
    # $100 / 70814 = 0.0014121... BTC: 141 lots of 0.00001, never 142.
    assert BTC.lots_for_usd(100.0, btc_70814) == 141
    assert BTC.notional(btc_70814, 141) <= 100.0 < BTC.notional(btc_70814, 142)
    # Exactly one lot's worth more is still rounded down, never up.
    assert BTC.lots_for_usd(70.814, btc_70814) == 100
    assert BTC.lots_for_usd(70.81399, btc_70814) == 99
    doge = units_of(DOGE, "0.16221")
    assert DOGE.lots_for_usd(100.0, doge) == 616       # 616.48 whole coins
    assert DOGE.lots_for_usd(0.16221 * 3, doge) == 3   # float product, exact intent
    assert BTC.lots_for_usd(0.0, btc_70814) == 0
    assert BTC.lots_for_usd(-5.0, btc_70814) == 0
    assert BTC.lots_for_usd(100.0, 0) == 0


def test_a_float_within_a_millionth_of_an_integer_is_that_integer_from_either_side() -> None:
    """The snapping under every size and price (``grid._floor``, ``grid._ceil``), pinned on each side of
    each boundary with exact binary offsets: 2**-20 (under 1e-6) snaps, 2**-19 (over it) does not."""
    near, far = 2.0 ** -20, 2.0 ** -19
    assert near < _EPS < far
    for n in (0, 1, 7, 141, 70_814, 2**30):              # (exact offsets: at 2**30 a float still has 2**-22)
        assert _floor(n + 1 - near) == n + 1 and _floor(n + 1 - far) == n
        assert _floor(n + near) == n and _floor(n + far) == n and _floor(n + 0.5) == n
        assert _ceil(n + near) == n and _ceil(n + far) == n + 1
        assert _ceil(n + 1 - near) == n + 1 and _ceil(n + 1 - far) == n + 1 and _ceil(n + 0.5) == n + 1
    assert _floor(2.0 ** 60) == 2**60 and _ceil(2.0 ** 60) == 2**60
    assert _floor(0.1 + 0.2) == 0 and _floor((0.1 + 0.2) * 10) == 3 and _ceil((0.1 + 0.2) * 10) == 3


def test_lots_down_and_to_size() -> None:
    assert BTC.lots_down(0.001419) == 141
    assert BTC.lots_down(0.1 + 0.2) == 30_000
    assert ETH.to_size(141) == 0.0141
    assert DOGE.lots_down(616.9) == 616
    assert DOGE.lots_down(-1.0) == 0


def test_notional_is_exact() -> None:
    # Price units times lots is micro-dollars: 70814.0 * 0.00141 = 99.84774 exactly.
    assert BTC.notional(units_of(BTC, "70814"), 141) == 99.84774
    assert ETH.notional(units_of(ETH, "3802.9"), 264) == 100.39656     # 3802.9 * 0.0264
    assert DOGE.notional(units_of(DOGE, "0.16221"), 616) == 99.92136
    # Float products drift on both of these; the integer products do not.
    assert 3802.9 * 0.0264 != 100.39656 and 0.16221 * 616 != 99.92136


# ---- the property -----------------------------------------------------------------------------------
grids = st.integers(min_value=0, max_value=5).map(Grid)


@st.composite
def grid_and_price(draw):
    grid = draw(grids)
    lowest = 1 / grid.price_scale                     # one price unit: the smallest representable price
    price = draw(st.floats(min_value=lowest, max_value=2_000_000.0, allow_nan=False, allow_infinity=False))
    return grid, price


EPS = 1e-6      # the grid reads a float this close (in units) to a grid point as that point


@given(grid_and_price())
def test_passive_rounding_brackets_the_price_with_nothing_between(case) -> None:
    grid, price = case
    x = Fraction(price) * grid.price_scale            # the exact price, in units
    down, up = grid.price_down(price), grid.price_up(price)

    assert valid(grid, down) and grid.is_on_grid(down)
    assert valid(grid, up) and grid.is_on_grid(up)
    assert down <= x + EPS and x - EPS <= up
    assert down <= up
    # Nothing valid lies strictly between price_down(p) and p, nor between p and price_up(p).
    assert next_valid_above(grid, down) > x - EPS
    assert prev_valid_below(grid, up) < x + EPS
    # On the grid already: both roundings leave it alone.
    if grid.is_on_grid(down) and abs(x - down) <= EPS:
        assert up == down


@given(grids, st.integers(min_value=1, max_value=10**12))
def test_is_on_grid_is_the_rule(grid: Grid, units: int) -> None:
    assert grid.is_on_grid(units) == valid(grid, units)


@given(grids, st.integers(min_value=1, max_value=10**10),
       st.floats(min_value=0.0, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_lots_for_usd_is_the_largest_affordable_whole_lot(grid: Grid, units: int, usd: float) -> None:
    lots = grid.lots_for_usd(usd, units)
    assert lots >= 0
    # In micro-dollars: lots * units fits the budget and one more lot would not, up to the grid's
    # dust allowance (EPS of a lot) and the float division's own rounding.
    micro = Fraction(usd) * 1_000_000
    slack = (Fraction(EPS) + Fraction(4e-16) * micro / units) * units
    assert units * lots <= micro + slack
    assert units * (lots + 1) > micro - slack
    assert grid.notional(units, lots) == float(Fraction(units * lots, 1_000_000))
