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

import numpy as np

from .errors import is_number

SECONDS_PER_YEAR = 365 * 24 * 3600      # perps trade around the clock
INFORMED_HORIZON_S = 10.0               # how far ahead informed takers see the mid
TAKER_SIZE_SIGMA = 1.5                  # log-normal spread of taker sizes (was 1.0): a heavier tail, as real
                                        # trade sizes have, so a few takers sweep several levels (what fills
                                        # quotes a few bps out) while most only nibble at the touch
TAKER_SIZE_CAP = 50.0                   # no single taker beyond 50x the median (was 25x, room for the heavier
                                        # tail; binds for ~0.5% of takers). Kept below half the depth of a
                                        # mid or small tier's 20-level ladder, so no taker can empty a side


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


# (lowest, highest, lowest excluded) for each regime field a client may set.
_REGIME_RANGES = {
    "volatility_annual": (0.0, 20.0, False),
    "spread_bps": (0.0, 10_000.0, True),
    "depth_usd": (0.0, None, True),
    "taker_rate_per_minute": (0.0, 6_000.0, False),
    "informed_share": (0.0, 1.0, False),
    "drift_bps_per_hour": (None, None, False),
    "taker_size_usd": (0.0, None, True),
    "jump_rate_per_hour": (0.0, 3_600.0, False),
    "jump_bps": (0.0, 5_000.0, False),
}


def regime_range(key: str) -> tuple[float | None, float | None, bool]:
    """``(lowest, highest, lowest excluded)`` of the client-settable regime field ``key``."""
    return _REGIME_RANGES.get(key, (None, None, False))


def _describe_range(low, high, strict) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'above' if strict else 'at least'} {low:g}")
    if high is not None:
        parts.append(f"at most {high:g}")
    return " and ".join(parts) or "any number"


def regime_expectation(key: str) -> str:
    """What the regime field ``key`` takes, e.g. "a number above 0 and at most 10000"."""
    allowed = _describe_range(*_REGIME_RANGES.get(key, (None, None, False)))
    return allowed if allowed == "any number" else f"a number {allowed}"


def regime_problem(key: str, value) -> str | None:
    """What is wrong with ``value`` for the client-settable regime field ``key`` (None if nothing).
    Shared by the regime route and the scenario loader, so both accept exactly the same values."""
    if key not in Regime.EDITABLE:
        return f"{key} is not a regime field; use one of {', '.join(Regime.EDITABLE)}."
    if not is_number(value):
        return f"{key} must be a number."
    low, high, strict = _REGIME_RANGES.get(key, (None, None, False))
    if (low is not None and (value <= low if strict else value < low)) or (high is not None and value > high):
        return f"{key} is out of range ({_describe_range(low, high, strict)})."
    return None


MOVE_BPS_RANGE = (-10_000, 100_000)     # a jump above -100% (a price stays positive), up to 1000x
MOVE_BPS_EXPECTED = f"a number above {MOVE_BPS_RANGE[0]} and at most {MOVE_BPS_RANGE[1]}"


def move_problem(move_bps) -> str | None:
    """What is wrong with a jump of ``move_bps`` (None if nothing); shared like ``regime_problem``."""
    low, high = MOVE_BPS_RANGE
    if not (is_number(move_bps) and low < move_bps <= high):
        return f"move_bps must be {MOVE_BPS_EXPECTED}."
    return None


@dataclass(slots=True)
class SkippedMinutes:
    """A fast-forwarded stretch, one entry per step: when it ended and its mid OHLC and volume."""

    ends: list[float]
    opens: list[float]
    highs: list[float]
    lows: list[float]
    closes: list[float]
    volumes: list[float]


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
    def log_mid(self) -> float:
        return self._log_mid

    @log_mid.setter
    def log_mid(self, value: float) -> None:
        self._log_mid = value
        self.mid = round_mid(math.exp(value))

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

    def skip_to(self, until: float) -> "SkippedMinutes | None":
        """Jump the walk to ``until`` in steps of at most a minute (aligned to the minute), without
        individual events.

        Used for stretches where nobody has an order in the book: the mid's law is the same as
        event by event (the increments of a Brownian motion add up), and each step's high and low
        are drawn from the exact distribution of a Brownian bridge's maximum and minimum. The
        stretch is drawn at once with numpy, from one seed taken from the market's own generator,
        so it stays deterministic and costs microseconds per simulated day.
        """
        self._plan.clear()
        if until <= self.time + 1e-9:
            self._extend(self.time + INFORMED_HORIZON_S)
            return None
        regime = self.regime
        first_boundary = (math.floor(self.time / 60.0) + 1.0) * 60.0
        ends = np.append(np.arange(first_boundary, until - 1e-9, 60.0), until)
        starts = np.concatenate(([self.time], ends[:-1]))
        dt = ends - starts
        gen = np.random.default_rng(self.rng.getrandbits(64))
        var = regime.volatility_annual ** 2 * dt / SECONDS_PER_YEAR
        steps = self._drift_rate() * dt + np.sqrt(var) * gen.standard_normal(len(dt))
        if regime.jump_rate_per_hour > 0.0 and regime.jump_bps > 0.0:
            for i, count in enumerate(gen.poisson(regime.jump_rate_per_hour * dt / 3600.0)):
                if count:
                    sizes = gen.exponential(regime.jump_bps * 1e-4, count)
                    steps[i] += float(np.sum(np.where(gen.random(count) < 0.5, sizes, -sizes)))
        closes = self.log_mid + np.cumsum(steps)
        opens = np.concatenate(([self.log_mid], closes[:-1]))
        move2 = (closes - opens) ** 2
        highs = (opens + closes + np.sqrt(move2 - 2.0 * var * np.log1p(-gen.random(len(dt))))) / 2.0
        lows = (opens + closes - np.sqrt(move2 - 2.0 * var * np.log1p(-gen.random(len(dt))))) / 2.0
        takers = gen.poisson(regime.taker_rate_per_minute * dt / 60.0)
        volumes = takers * mean_taker_size_usd(regime)
        self.time = float(until)
        self.log_mid = float(closes[-1])
        self._extend(self.time + INFORMED_HORIZON_S)
        return SkippedMinutes(ends.tolist(), round_mids(np.exp(opens)), round_mids(np.exp(highs)),
                              round_mids(np.exp(lows)), round_mids(np.exp(closes)), volumes.tolist())

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

    def _drift_rate(self) -> float:
        """Log drift per second: the trend, less the Ito term that keeps the mid's mean on the trend."""
        regime = self.regime
        return regime.drift_bps_per_hour * 1e-4 / 3600.0 - regime.volatility_annual ** 2 / (2.0 * SECONDS_PER_YEAR)

    def _drift(self, dt: float) -> float:
        return self._drift_rate() * dt

    def _jumps(self, dt: float) -> float:
        regime = self.regime
        if regime.jump_rate_per_hour <= 0.0 or regime.jump_bps <= 0.0:
            return 0.0
        move = 0.0
        for _ in range(_poisson(self.rng, regime.jump_rate_per_hour * dt / 3600.0)):
            size = self.rng.expovariate(1.0 / regime.jump_bps) * 1e-4
            move += size if self.rng.random() < 0.5 else -size
        return move


MID_SIG_FIGS = 10       # the mid is kept to 10 significant figures: exp(log(70814.5)) prints as 70814.5


def round_mid(x: float) -> float:
    """``x`` to ``MID_SIG_FIGS`` significant figures (the same arithmetic as ``round_mids``)."""
    scale = 10.0 ** (MID_SIG_FIGS - 1 - math.floor(math.log10(x)))
    return round(x * scale) / scale


def round_mids(xs: np.ndarray) -> list[float]:
    scale = 10.0 ** (MID_SIG_FIGS - 1 - np.floor(np.log10(xs)))
    return (np.round(xs * scale) / scale).tolist()


def mean_taker_size_usd(regime: Regime) -> float:
    """The mean of ``taker_size_usd``: a log-normal capped at ``TAKER_SIZE_CAP`` medians,
    E[min(X, c)] = m e^(s^2/2) Phi((ln(c/m) - s^2)/s) + c (1 - Phi(ln(c/m)/s))."""
    m, s, cap = regime.taker_size_usd, TAKER_SIZE_SIGMA, TAKER_SIZE_CAP
    k = math.log(cap)

    def phi(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    return m * (math.exp(s * s / 2.0) * phi((k - s * s) / s) + cap * (1.0 - phi(k / s)))


def taker_size_usd(rng: random.Random, regime: Regime) -> float:
    size = regime.taker_size_usd * math.exp(TAKER_SIZE_SIGMA * rng.gauss(0.0, 1.0))
    return min(size, TAKER_SIZE_CAP * regime.taker_size_usd)


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: Knuth's product method for small means, a rounded normal for larger ones
    (where the two agree closely and the normal costs one draw instead of ``lam``)."""
    if lam <= 0.0:
        return 0
    if lam > 12.0:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
