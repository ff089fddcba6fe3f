"""Taker signs with long memory: metaorders split into child orders (Lillo, Mike and Farmer's model of
the long memory of order flow, Phys. Rev. E 71, 066122, 2005).

Metaorders start as a Poisson stream (``meta_rate_per_minute``), each with a side (either, evenly) and a
length in seconds drawn from a Pareto law (``meta_min_seconds``, index ``meta_length_index``; cut at one
half-hour period). An uninformed taker arriving while metaorders are active is, with probability
``meta_share``, a child of one of them, picked evenly, and trades its side; otherwise its side is a coin
toss. Because lengths are heavy-tailed, the same side keeps coming back over many trades: the signs'
autocorrelation decays slowly (a power law) instead of vanishing after a few trades. Informed takers keep
their own rule (``market``: they trade the way the fair value is about to move).

The metaorders of each half-hour period come from that period's keyed stream (``metaorders``), so the
signs are a function of (seed, symbol, time), read lazily: a taker needs its own period and the one
before it (a metaorder lasts at most a period).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

PERIOD_US = 30 * 60_000_000             # metaorders are drawn a half-hour period at a time
PERIODS_KEPT = 4


class Metaorders:
    """One market's metaorders, period by period (a small cache; everything re-derivable from the stream)."""

    def __init__(self, stream):
        self._stream = stream
        # (period, parameters) -> the period's arrays (``period``) and, for ``active_sides``, the same as
        # Python lists: its metaorders as (start, end, side), and every start and end, sorted.
        self._periods: dict[tuple[int, tuple], tuple] = {}
        # active_sides' last answer: (the regime's metaorder parameters, from, until, sides). The active
        # set changes only where a metaorder starts or ends (or a period begins), so the same answer holds
        # for every instant from the last such point at or before it up to the next one.
        self._active: tuple = (None, 0, 0, [])

    def period(self, s: int, regime) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, sides) in microseconds of the metaorders starting in period ``s``."""
        return self._period(s, regime)[:3]

    def _period(self, s: int, regime) -> tuple:
        key = (s, (regime.meta_rate_per_minute, regime.meta_min_seconds, regime.meta_length_index))
        got = self._periods.get(key)
        if got is not None:
            return got
        gen = self._stream.generator(s)
        n = int(gen.poisson(regime.meta_rate_per_minute * PERIOD_US / 60e6))
        starts = s * PERIOD_US + gen.integers(0, PERIOD_US, n)
        u = gen.random(n)
        lengths = np.minimum(regime.meta_min_seconds * (1.0 - u) ** (-1.0 / regime.meta_length_index),
                             PERIOD_US / 1e6)
        sides = gen.random(n) < 0.5
        ends = starts + (lengths * 1e6).astype(np.int64)
        spans = list(zip(starts.tolist(), ends.tolist(), sides.tolist()))
        points = sorted(starts.tolist() + ends.tolist())
        got = (starts, ends, sides, spans, points)
        self._periods[key] = got
        if len(self._periods) > PERIODS_KEPT:
            del self._periods[min(self._periods)]
        return got

    def active_sides(self, t_us: int, regime) -> list[bool]:
        """The sides of the metaorders active at ``t_us``, oldest first (a list the caller must not change)."""
        params = (regime.meta_rate_per_minute, regime.meta_min_seconds, regime.meta_length_index)
        memo = self._active
        if memo[1] <= t_us < memo[2] and memo[0] == params:
            return memo[3]
        s = t_us // PERIOD_US
        out: list[tuple[int, bool]] = []
        since, until = s * PERIOD_US, (s + 1) * PERIOD_US
        # Python lists rather than the arrays: a period holds tens of metaorders, too few for numpy's
        # per-call cost to pay (this runs at every uninformed taker whose stretch has ended).
        for p in (s - 1, s):
            spans, points = self._period(p, regime)[3:]
            out.extend((start, side) for start, end, side in spans if start <= t_us < end)
            i = bisect_right(points, t_us)          # the starts and ends at or before t_us, then after it
            if i:
                since = max(since, points[i - 1])
            if i < len(points):
                until = min(until, points[i])
        out.sort()
        active = [side for _, side in out]
        self._active = (params, since, until, active)
        return active


@dataclass(frozen=True)
class TakerSigns:
    """An uninformed taker's side, from its two uniforms and the metaorders active at its instant."""

    def side(self, metaorders: Metaorders, t_us: int, regime, child_u: float, side_u: float) -> bool:
        if regime.meta_share > 0.0 and regime.meta_rate_per_minute > 0.0 and child_u < regime.meta_share:
            active = metaorders.active_sides(t_us, regime)
            if active:
                return active[min(int(side_u * len(active)), len(active) - 1)]
        return side_u < 0.5
