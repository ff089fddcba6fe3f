"""The market model's parts, each a small object with its assumptions in the open.

- ``Regime``: the parameters in force (volatility, spread, depth, taker activity, informed share, drift).
- ``PricePath``: the mid as a random walk in log price, sampled only at event instants. Future events
  are drawn a little ahead (a look-ahead buffer) so that informed takers can lean the way the price is
  about to move; drawing ahead does not change the walk's law.
- ``taker_size_usd``: taker order sizes, log-normal around the regime's median.

The mid is exogenous: agents' and takers' trades do not move it (no price impact). Adverse selection
comes from informed takers and from stale quotes that the moving mid runs through.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import asdict, dataclass, fields, replace

SECONDS_PER_YEAR = 365 * 24 * 3600      # perps trade around the clock
INFORMED_HORIZON_S = 10.0               # how far ahead informed takers see the mid
TAKER_SIZE_SIGMA = 1.0                  # log-normal spread of taker sizes
TAKER_SIZE_CAP = 25.0                   # no single taker beyond 25x the median


@dataclass(frozen=True)
class Regime:
    """What the market is like right now. All fields are synthetic, set per liquidity tier."""

    volatility_annual: float            # of the mid, in log terms (0.5 = 50%/year)
    spread_bps: float                   # typical width of the background spread
    depth_usd: float                    # house liquidity per price level at the touch
    taker_rate_per_minute: float        # Poisson arrival rate of taker orders
    informed_share: float               # share of takers that trade the way the mid is about to move
    drift_bps_per_hour: float = 0.0     # deterministic trend of the mid
    taker_size_usd: float = 5_000.0     # median taker order (log-normal)
    updates_per_minute: float = 60.0    # how often the house re-centres its quotes (mid samples)
    levels: int = 20                    # house price levels per side
    jump_rate_per_hour: float = 0.0     # Poisson rate of jumps in the mid
    jump_bps: float = 0.0               # typical jump size (Laplace, either sign)

    # The subset that /_mock/markets/{symbol}/regime may change, as the contract names them.
    EDITABLE = ("volatility_annual", "spread_bps", "depth_usd", "taker_rate_per_minute",
                "informed_share", "drift_bps_per_hour", "taker_size_usd", "jump_rate_per_hour",
                "jump_bps")

    def with_changes(self, **changes) -> "Regime":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def event_rate_per_second(self) -> float:
        return (self.updates_per_minute + self.taker_rate_per_minute) / 60.0


@dataclass(slots=True)
class PlannedEvent:
    time: float
    log_mid: float
    is_taker: bool


class PricePath:
    """The mid's random walk and the market's event times, drawn from the market's own generator.

    Events form one Poisson stream (house updates + takers); at each, the log mid moves by
    ``(drift - vol**2/2) dt + vol sqrt(dt) Z`` plus an occasional jump. Events are planned up to
    ``INFORMED_HORIZON_S`` ahead so the model can tell where the mid is going.
    """

    def __init__(self, rng: random.Random, start: float, mid: float, regime: Regime):
        self.rng = rng
        self.regime = regime
        self.time = start
        self.log_mid = math.log(mid)
        self._plan: deque[PlannedEvent] = deque()
        self._extend(start + INFORMED_HORIZON_S)

    @property
    def mid(self) -> float:
        return math.exp(self.log_mid)

    def next_time(self) -> float:
        return self._plan[0].time

    def pop(self) -> PlannedEvent:
        """Move to the next planned event and return it."""
        event = self._plan.popleft()
        self.time, self.log_mid = event.time, event.log_mid
        self._extend(event.time + INFORMED_HORIZON_S)
        return event

    def log_mid_ahead(self) -> float:
        """The log mid about ``INFORMED_HORIZON_S`` from now: what informed takers lean on."""
        return self._plan[-1].log_mid

    def shift(self, log_move: float) -> None:
        """A jump now: the mid and every planned point move together, so the walk goes on from there."""
        self.log_mid += log_move
        for event in self._plan:
            event.log_mid += log_move

    def set_regime(self, regime: Regime, now: float) -> None:
        """From ``now`` on, the walk follows ``regime``: replan what was drawn under the old one."""
        self.regime = regime
        self._plan.clear()
        self.time = now
        self._extend(now + INFORMED_HORIZON_S)

    def skip_to(self, until: float, on_minute) -> None:
        """Jump the walk to ``until`` in whole steps of at most a minute, without individual events.

        Used for stretches where nobody has an order in the book: the mid's law is the same as
        event by event (the increments of a Brownian motion add up), and each step reports an
        OHLC with a high and low drawn from the exact Brownian-bridge maximum.
        """
        self._plan.clear()
        regime, rng = self.regime, self.rng
        while self.time < until:
            dt = min(60.0 - self.time % 60.0, until - self.time)
            if dt <= 1e-9:
                dt = min(60.0, until - self.time)
            var = regime.volatility_annual ** 2 * dt / SECONDS_PER_YEAR
            start = self.log_mid
            end = start + self._drift(dt) + math.sqrt(var) * rng.gauss(0.0, 1.0) + self._jumps(dt)
            rise = math.sqrt((end - start) ** 2 - 2.0 * var * math.log(1.0 - rng.random()))
            fall = math.sqrt((end - start) ** 2 - 2.0 * var * math.log(1.0 - rng.random()))
            high = (start + end + rise) / 2.0
            low = (start + end - fall) / 2.0
            takers = _poisson(rng, regime.taker_rate_per_minute * dt / 60.0)
            volume = takers * regime.taker_size_usd * math.exp(TAKER_SIZE_SIGMA ** 2 / 2.0)
            self.time += dt
            self.log_mid = end
            on_minute(self.time, math.exp(start), math.exp(high), math.exp(low), math.exp(end), volume)
        self._extend(self.time + INFORMED_HORIZON_S)

    # ---- internals ----------------------------------------------------------------------------
    def _extend(self, horizon: float) -> None:
        rng, regime = self.rng, self.regime
        rate = regime.event_rate_per_second
        taker_share = regime.taker_rate_per_minute / 60.0 / rate
        last_time = self._plan[-1].time if self._plan else self.time
        last_mid = self._plan[-1].log_mid if self._plan else self.log_mid
        vol_per_s = regime.volatility_annual / math.sqrt(SECONDS_PER_YEAR)
        while last_time < horizon:
            dt = rng.expovariate(rate)
            last_mid += self._drift(dt) + vol_per_s * math.sqrt(dt) * rng.gauss(0.0, 1.0) + self._jumps(dt)
            last_time += dt
            self._plan.append(PlannedEvent(last_time, last_mid, rng.random() < taker_share))

    def _drift(self, dt: float) -> float:
        regime = self.regime
        return (regime.drift_bps_per_hour * 1e-4 / 3600.0
                - regime.volatility_annual ** 2 / (2.0 * SECONDS_PER_YEAR)) * dt

    def _jumps(self, dt: float) -> float:
        regime = self.regime
        if regime.jump_rate_per_hour <= 0.0 or regime.jump_bps <= 0.0:
            return 0.0
        move = 0.0
        for _ in range(_poisson(self.rng, regime.jump_rate_per_hour * dt / 3600.0)):
            size = self.rng.expovariate(1.0 / regime.jump_bps) * 1e-4
            move += size if self.rng.random() < 0.5 else -size
        return move


def taker_size_usd(rng: random.Random, regime: Regime) -> float:
    size = regime.taker_size_usd * math.exp(TAKER_SIZE_SIGMA * rng.gauss(0.0, 1.0))
    return min(size, TAKER_SIZE_CAP * regime.taker_size_usd)


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: Knuth's product method for small means, a rounded normal for large ones."""
    if lam <= 0.0:
        return 0
    if lam > 50.0:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
