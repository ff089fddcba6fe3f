"""Taker sizes: a log-normal body with a Pareto tail, and no cap.

A taker's size comes from one standard normal draw ``z`` (from the minute's keyed stream, so it is a
function of (seed, symbol, time)). Below the ``taker_tail_quantile`` of the body it is log-normal:
``taker_size_usd x exp(taker_size_sigma x z)`` (``taker_size_usd`` is then the median). Above it the
size continues as a Pareto tail of index ``taker_tail_index`` from the same quantile, so the survival
function is continuous there and falls as ``size ** -taker_tail_index`` beyond: heavy, and without a
hard cap (the house's ladder stops any taker short of its outermost level, ``liquidity.floor_for``).
A tail index of 0 keeps the plain log-normal.

The recorded Binance BTCUSDT perpetual has a median taker order of about $1.85k, a 99th percentile near
$440k and a tail index near 1.05 (the figures of issue 21, measured by ``benchmarks/calibration.py``);
the majors' numbers in ``catalog.TIERS`` are set from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

_SQRT2 = math.sqrt(2.0)


@lru_cache(maxsize=64)
def _threshold(quantile: float) -> tuple[float, float]:
    """(z, survival) at the body's quantile: the standard normal's inverse there, by bisection."""
    lo, hi = -10.0, 10.0
    for _ in range(80):
        mid = (lo + hi) / 2.0
        if 0.5 * math.erfc(-mid / _SQRT2) < quantile:
            lo = mid
        else:
            hi = mid
    z = (lo + hi) / 2.0
    return z, 0.5 * math.erfc(z / _SQRT2)


@dataclass(frozen=True)
class TakerSizes:
    """A taker's size in USD from its standard normal draw."""

    def size_usd(self, regime, z: float) -> float:
        body = regime.taker_size_usd * math.exp(regime.taker_size_sigma * z)
        alpha = regime.taker_tail_index
        if alpha <= 0.0:
            return body
        z_t, tail = _threshold(regime.taker_tail_quantile)
        if z <= z_t:
            return body
        # The draw's survival within the tail, mapped onto the Pareto survival (x / x_t) ** -alpha.
        u = max(0.5 * math.erfc(z / _SQRT2) / tail, 1e-300)
        x_t = regime.taker_size_usd * math.exp(regime.taker_size_sigma * z_t)
        return x_t * u ** (-1.0 / alpha)
