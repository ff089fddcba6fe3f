"""Book shape: where the house quotes, how much it shows, and how fast what takers eat comes back.

**The touch.** The house's best bid and best ask are a whole number of ticks apart:
``max(1, round(spread_bps x widen / tick_bps))`` ticks, centred on the fair value to within half a
tick. ``widen`` is the breathing factor of ``model`` (the volatility in force, and the decay after a
jump), so the touch still widens with volatility and after jumps. On the majors ``spread_bps`` is below
one tick, so the touch is one tick wide most of the time, as on the recorded books (Binance's BTCUSDT
perpetual: one tick 99.7% of one-second samples; Hyperliquid's BTC: a one-tick median).

**The ladder behind it.** Levels ``step`` apart on an absolute grid (a whole number of ticks, about
``ladder_step_bps``; half the spread when that is 0), starting at the first grid price beyond the touch:
a small move of the fair value changes only the touch and the ladder's edges, the rest keep their place
in the queue.

**Sizes.** The touch shows ``depth_usd``; the ladder's level ``i`` (1 = the first behind the touch)
``depth_usd x ladder_depth_ratio x (1 + depth_growth x (i - 1))``, so ``depth_usd`` scales the whole
book; each times a log-normal factor of spread ``SIZE_SIGMA`` drawn per minute and price
(``liquidity``). The ladder's grid is absolute, so a level keeps its size as the fair value drifts
towards it: a small ``depth_growth`` keeps the depth near the touch from swelling as the market drifts
into its far levels.

**Refill at a rate.** What takers eat from the house is a per-side *deficit* in USD that decays with
time constant ``depth_refill_seconds``. New house orders on a side (a price the ladder moved to, or an
eaten level replaced) show their size times ``1 / (1 + deficit / depth_usd)``, and a level eaten down
to less than half is replaced only once the deficit is back under half the touch's size. So a sweep
leaves the book thin for a few seconds instead of being refilled in the same instant.

**Scaled per market** (``BookScaling``). One reference book, the majors' as set from the recorded BTC
perpetual books at BTC-PERP's daily volume, is scaled to each market by its *trading activity*
``W = volatility_annual x daily_volume_usd`` relative to the reference's, following market
microstructure invariance (Kyle and Obizhaeva, "Market Microstructure Invariance: Empirical
Hypotheses", Econometrica 84(4), 2016): the bid-ask spread, in returns, goes as ``sigma x W^(-1/3)``
and the typical order (a "bet") as ``daily volume x W^(-2/3)`` of the dollar volume. So, with ``r = W /
W_ref``:

- ``spread_bps = reference spread x (volatility / reference volatility) x r^(-1/3)``;
- ``depth_usd = reference depth x (daily volume / reference daily volume) x r^(-2/3)``: the touch holds
  the same number of typical orders on every market (a chosen reading: invariance sizes the orders,
  not the book).

The ladder's shape behind the touch (its step in bps, its ratio and growth, its number of levels, its
refill time) is the reference's on every market; ``depth_usd`` sizes all of it. The catalog applies
the rule once per market (``catalog.regime_for``); the scaled figures are ordinary regime fields, so a
scenario or ``/_mock/markets/{symbol}/regime`` still changes them directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SIZE_SIGMA = 0.35           # log-normal spread of the house's level sizes (synthetic)


@dataclass(frozen=True)
class BookShape:
    """The house's ladder as a function of the fair value (in price units), the tick there, the
    breathing factor and the regime. Stateless: the refill state lives with the house's orders."""

    def step(self, units: float, tick: int, regime) -> int:
        """The ladder's grid step in price units: a whole number of ticks."""
        bps = regime.ladder_step_bps or regime.spread_bps / 2.0
        return max(tick, round(units * bps / 1e4 / tick) * tick)

    def touch(self, units: float, tick: int, widen: float, regime) -> tuple[int, int]:
        """(best bid, best ask) of the house in price units: ``n`` ticks apart around ``units``."""
        n = max(1, round(units * regime.spread_bps * widen / 1e4 / tick))
        bid = math.floor(units / tick - (n - 1) / 2.0) * tick
        if bid <= 0:
            bid = tick
        return bid, bid + n * tick

    @staticmethod
    def level_usd(regime, i: int) -> float:
        """The size of level ``i`` before its noise: 0 is the touch, 1 the first level behind it."""
        if i == 0:
            return regime.depth_usd
        return regime.depth_usd * regime.ladder_depth_ratio * (1.0 + regime.depth_growth * (i - 1))

    @staticmethod
    def decay(deficit: float, elapsed_us: int, regime) -> float:
        """What is left of a side's deficit ``elapsed_us`` later."""
        if deficit <= 0.0 or elapsed_us <= 0:
            return deficit
        tau = regime.depth_refill_seconds
        if tau <= 0.0:
            return 0.0
        left = deficit * math.exp(-elapsed_us / 1e6 / tau)
        return left if left > 1e-3 * regime.depth_usd else 0.0

    @staticmethod
    def refill_factor(deficit: float, regime) -> float:
        """The share of its size a new house order shows while its side has ``deficit`` USD missing."""
        return 1.0 / (1.0 + deficit / regime.depth_usd) if deficit > 0.0 else 1.0

    @staticmethod
    def may_replace(deficit: float, regime) -> bool:
        """An eaten level is replaced only once its side's deficit is under half the touch's size."""
        return deficit < 0.5 * regime.depth_usd


@dataclass(frozen=True)
class BookScaling:
    """The touch's width and the book's size of a market from a reference book and the market's trading
    activity (volatility x daily volume): see the module's text. The defaults are the majors' book as set
    from the recorded BTC perpetual books, at BTC-PERP's daily volume and volatility."""

    reference_spread_bps: float = 0.1               # BTC-PERP: under one tick ($1 = 0.14 bps)
    reference_depth_usd: float = 180_000.0          # BTC-PERP's touch, per side
    reference_daily_volume_usd: float = 2.1e9       # BTC-PERP's 24 h volume as the platform publishes it
    reference_volatility: float = 0.55              # BTC-PERP's annual volatility (catalog.VOLATILITY)

    def activity_ratio(self, daily_volume_usd: float, volatility_annual: float) -> float:
        """``W / W_ref``, ``W`` = volatility x daily volume."""
        return (volatility_annual * daily_volume_usd) / (self.reference_volatility * self.reference_daily_volume_usd)

    def spread_bps(self, daily_volume_usd: float, volatility_annual: float) -> float:
        r = self.activity_ratio(daily_volume_usd, volatility_annual)
        return self.reference_spread_bps * (volatility_annual / self.reference_volatility) * r ** (-1.0 / 3.0)

    def depth_usd(self, daily_volume_usd: float, volatility_annual: float) -> float:
        r = self.activity_ratio(daily_volume_usd, volatility_annual)
        return self.reference_depth_usd * (daily_volume_usd / self.reference_daily_volume_usd) * r ** (-2.0 / 3.0)

    def depth_factor(self, daily_volume_usd: float, volatility_annual: float) -> float:
        """The market's depth over the reference's (what its depth targets are scaled by)."""
        return self.depth_usd(daily_volume_usd, volatility_annual) / self.reference_depth_usd
