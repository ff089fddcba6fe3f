"""A recording laid out for replay: its grid (the recording's own tick and lot), its events converted once
onto that grid (price units, lots, µs), and its mid through time."""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_right
from functools import cached_property
from dataclasses import dataclass, field
from decimal import Decimal

from ..grid import PERP_DECIMALS, Grid
from .formats import RecordedLevel, Recording, RecordingError, RecordedBook
from .l2book import BID, L2Book

US = 1000       # recording times are ns; the exchange's are µs

KIND_LEVEL = 0
KIND_TRADE = 1


@dataclass(frozen=True, slots=True)
class FixedTickGrid(Grid):
    """A grid whose tick is the recording's (in price units), whatever the price: the recorded venue's
    rule, not Hyperliquid's five significant figures."""

    tick_units: int = 1

    def tick_at(self, units: int) -> int:
        return self.tick_units


def grid_for(recording: Recording) -> FixedTickGrid:
    """The recording's lot as size decimals (``10**-s``), its tick in the matching price units."""
    s = recording.size_decimals
    if s > PERP_DECIMALS:
        raise RecordingError(f"{recording.path}: lot {recording.lot} is finer than 1e-{PERP_DECIMALS}")
    tick_units = recording.tick * (10 ** (PERP_DECIMALS - s))
    if tick_units != tick_units.to_integral_value() or tick_units < 1:
        raise RecordingError(f"{recording.path}: tick {recording.tick} is finer than the price unit "
                             f"1e-{PERP_DECIMALS - s} of a market with lot {recording.lot}")
    return FixedTickGrid(s, tick_units=int(tick_units))


@dataclass
class ReplayData:
    """The recording on the market's grid: prices in price units, sizes in lots, times in µs."""

    recording: Recording
    grid: FixedTickGrid
    snapshot_bids: tuple
    snapshot_asks: tuple
    start_us: int
    end_us: int
    # one entry per event after the snapshot
    times: list = field(repr=False)
    kinds: list = field(repr=False)
    sides: list = field(repr=False)     # level: True for the bid side; trade: True when the taker bought
    prices: list = field(repr=False)
    sizes: list = field(repr=False)
    group_ends: list = field(repr=False)    # index one past each run of events sharing a time
    mid_times: list = field(repr=False)     # the recorded mid (price units, floored) after each change
    mid_units: list = field(repr=False)

    @classmethod
    def build(cls, recording: Recording) -> "ReplayData":
        grid = grid_for(recording)
        tick_units = grid.tick_units
        lot_factor = recording.lot * grid.lot_scale
        if lot_factor != lot_factor.to_integral_value():
            raise RecordingError(f"{recording.path}: lot {recording.lot} is not a whole number of 1e-{grid.sz_decimals}")
        lot_factor = int(lot_factor)
        events = recording.events
        snap = events[0]
        if type(snap) is not RecordedBook:
            raise RecordingError(f"{recording.path}: the stream does not start with a snapshot")
        bids = tuple((p * tick_units, s * lot_factor) for p, s in snap.bids)
        asks = tuple((p * tick_units, s * lot_factor) for p, s in snap.asks)
        rest = events[1:]
        if any(type(e) is RecordedBook for e in rest):
            raise RecordingError(f"{recording.path}: a second snapshot in the normalised stream")
        times = [e.ts // US for e in rest]
        kinds = [KIND_LEVEL if type(e) is RecordedLevel else KIND_TRADE for e in rest]
        sides = [e.side == BID if type(e) is RecordedLevel else e.taker == "buy" for e in rest]
        prices = [e.price * tick_units for e in rest]
        sizes = [e.size * lot_factor for e in rest]
        group_ends = [i + 1 for i in range(len(times)) if i + 1 == len(times) or times[i + 1] != times[i]]
        start_us = snap.ts // US
        # the recorded mid through time (price units, floored), from the reader's tops of the book
        mid_times, mid_units = [start_us], []
        for ts, bid, ask in tops_of(recording):
            mid = _mid_of(None if bid is None else bid * tick_units, None if ask is None else ask * tick_units)
            t = max(ts // US, start_us)
            if not mid_units:
                mid_units.append(mid)
            elif mid != mid_units[-1]:
                if mid_times[-1] == t:
                    mid_units[-1] = mid
                else:
                    mid_times.append(t)
                    mid_units.append(mid)
        end_us = times[-1] if times else start_us
        return cls(recording, grid, bids, asks, start_us, end_us, times, kinds, sides, prices, sizes, group_ends,
                   mid_times, mid_units)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the recording as replayed: its grid, first book and every event (time, kind, side,
        price, size), in order. Two files that replay the same (a capture and its Tardis conversion) have
        the same digest; any other recording, or a cut of this one, another."""
        h = hashlib.sha256()
        h.update(f"{self.grid.sz_decimals}/{self.grid.tick_units}/{self.start_us}/{self.end_us}/".encode())
        for side in (self.snapshot_bids, self.snapshot_asks):
            h.update(array("q", [x for level in side for x in level]).tobytes())
            h.update(b"|")
        for column in (self.times, self.kinds, self.sides, self.prices, self.sizes):
            h.update(array("q", column).tobytes())
            h.update(b"|")
        return h.hexdigest()

    def mid_at(self, t_us: int) -> int:
        """The recorded mid (price units) in force at ``t_us`` (the first one before the start)."""
        i = bisect_right(self.mid_times, t_us) - 1
        return self.mid_units[max(i, 0)]

    def mid_changes(self, t0_us: int, t1_us: int) -> list[tuple[int, int]]:
        """The mid's changes in ``(t0, t1]``: ``(time µs, price units)``."""
        lo = bisect_right(self.mid_times, t0_us)
        hi = bisect_right(self.mid_times, t1_us)
        return list(zip(self.mid_times[lo:hi], self.mid_units[lo:hi]))


def tops_of(recording: Recording) -> list:
    """The recording's tops of the book (``Recording.tops``), or, for a recording built without them, the
    same list worked out by replaying its book."""
    if recording.tops is not None:
        return recording.tops
    found = []
    for ts, book in recording.books():
        top = (book.best_bid(), book.best_ask())
        if not found or found[-1][1:] != top:
            found.append((ts, top[0], top[1]))
    return found


def _mid(book: L2Book) -> int:
    return _mid_of(book.best_bid(), book.best_ask())


def _mid_of(bid, ask) -> int:
    if bid is None and ask is None:
        return 0
    if bid is None or ask is None:
        return bid if ask is None else ask
    return (bid + ask) // 2




def price_decimal(data: ReplayData, units: int) -> Decimal:
    return Decimal(units) / data.grid.price_scale
