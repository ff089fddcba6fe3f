"""Hyperliquid's price and size grid, in exact integers.

A perp with ``sz_decimals = s`` trades sizes in lots of ``10**-s`` base units, and prices with at most
``6 - s`` decimals and at most 5 significant figures (integer prices are always allowed).
Source: Hyperliquid's tick and lot rules (``../shared/reference/README.md``).

We keep every price as an integer count of ``10**-(6 - s)`` USD ("price units") and every size as an
integer count of lots. Because the two exponents add up to 6, ``price_units * lots`` is the notional in
micro-dollars, exactly: no drifting floats inside the book.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PERP_DECIMALS = 6   # Hyperliquid: perp prices carry at most 6 - sz_decimals decimals
SIG_FIGS = 5        # ... and at most 5 significant figures
_EPS = 1e-6         # a float this close to a grid point is that grid point (input like 0.1 + 0.2)


@dataclass(frozen=True, slots=True)
class Grid:
    """The tick and lot grid of one market."""

    sz_decimals: int
    # Derived once: the scales are read on every event and every fill (powers of ten each time add up).
    price_decimals: int = field(init=False, repr=False, compare=False)
    price_scale: int = field(init=False, repr=False, compare=False)
    lot_scale: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        price_decimals = PERP_DECIMALS - self.sz_decimals
        object.__setattr__(self, "price_decimals", price_decimals)     # frozen: set once, here
        object.__setattr__(self, "price_scale", 10 ** price_decimals)
        object.__setattr__(self, "lot_scale", 10 ** self.sz_decimals)

    # ---- prices -------------------------------------------------------------------------------
    def tick_at(self, units: int) -> int:
        """The tick (in price units) for prices of the magnitude of ``units``.

        Five significant figures allow steps of ``10**(digits - 5)``; an integer price is always
        valid, so the tick never exceeds one whole dollar (``price_scale`` units).
        """
        digits = len(str(units)) if units > 0 else 1
        return min(10 ** max(0, digits - SIG_FIGS), self.price_scale)

    def is_on_grid(self, units: int) -> bool:
        return units > 0 and units % self.tick_at(units) == 0

    def price_down(self, price: float) -> int:
        """The highest valid price at or below ``price``, in units (a bid's passive rounding)."""
        units = _floor(price * self.price_scale)
        if units <= 0:
            return 0
        return units - units % self.tick_at(units)

    def price_up(self, price: float) -> int:
        """The lowest valid price at or above ``price``, in units (an ask's passive rounding)."""
        units = max(_ceil(price * self.price_scale), 1)
        tick = self.tick_at(units)
        units = -(-units // tick) * tick
        # Rounding up can add a digit (9999.9 -> 10000.0); a coarser tick only ever includes the point.
        return units

    def to_price(self, units: int) -> float:
        """Units to a float price; the division is correctly rounded, so it prints as the grid value."""
        return units / self.price_scale

    def tick_size(self, units: int) -> float:
        return self.tick_at(units) / self.price_scale

    # ---- sizes --------------------------------------------------------------------------------
    def lots_for_usd(self, usd: float, units: int) -> int:
        """Whole lots whose notional at ``units`` is at most ``usd`` (rounded down to the lot)."""
        if units <= 0 or usd <= 0:
            return 0
        return _floor(usd * 1_000_000 / units)

    def lots_down(self, size: float) -> int:
        return max(_floor(size * self.lot_scale), 0)

    def to_size(self, lots: int) -> float:
        return lots / self.lot_scale

    @staticmethod
    def notional(units: int, lots: int) -> float:
        """USD notional of ``lots`` at ``units``: exact micro-dollars, one correctly rounded division."""
        return units * lots / 1_000_000


def _floor(x: float) -> int:
    """``floor(x)``, or the integer ``x`` lies within ``_EPS`` of (either side). One ``floor`` and at most
    two subtractions: every re-centre sizes its orders through here (``lots_for_usd``)."""
    down = math.floor(x)
    if x - down < _EPS:
        return down
    return down + 1 if down + 1 - x < _EPS else down


def _ceil(x: float) -> int:
    """``ceil(x)``, or the integer ``x`` lies within ``_EPS`` of (either side)."""
    up = math.ceil(x)
    if up - x < _EPS:
        return up
    return up - 1 if x - (up - 1) < _EPS else up
