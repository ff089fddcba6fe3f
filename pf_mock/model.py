"""The market model's exogenous parts, each a small named object with its parameters in the ``Regime``.

- **Fair value** (``FairValue``): the mark price, a random walk in log price with
  - *volatility clustering*: the variance in force is the regime's times ``exp(vol_of_vol x - c)``, where
    ``x`` is a standard normal state mixing two AR(1)s - one with a half-life of ``VOL_HALF_LIFE_MINUTES``,
    one of ``SLOW_VOL_HALF_LIFE_MINUTES`` carrying ``SLOW_VOL_SHARE`` of its variance (spells of hours and
    of days) - drawn at every half-hour period's start and interpolated linearly minute by minute in
    between (``c`` makes the factor average 1, so the annual volatility is the regime's);
  - *fat tails*: jumps (at most one a minute, with probability from ``jump_rate_per_hour``; Laplace sizes
    of scale ``jump_bps``). The diffusion gives up the jumps' share of the variance, so each tier keeps
    its annual volatility;
  - *drift* ``drift_bps_per_hour``.
  It is sampled exactly at the instants where something happens (house updates, takers, jumps, whole
  minutes).
- **Event times and takers**: house updates and takers arrive as Poisson streams; each taker has a size
  draw (``models/sizes.py`` turns it into USD: heavy-tailed, so a few sweep deep), a side, and is informed with
  probability ``informed_share``: it trades the way the fair value will move over its horizon, one second
  for a ``fast_informed_share`` of them (what makers feel within a second), ``informed_horizon_seconds``
  for the rest.
- **The breathing spread** (``widen``): the house's spread is ``spread_bps`` times the volatility factor
  (over its median) to the power ``spread_vol_sensitivity``, times ``1 + jump_spread_widening`` right after a jump, which
  decays back with time constant ``spread_refill_seconds``.

Everything here is a function of (seed, symbol, time) and of the regime changes and jumps requested, and
nothing else: every random number comes from ``streams``, keyed by the period or minute it belongs to.
The path is built coarse to fine. A half-hour period's log increment comes from the period's coarse
draws (its diffusion at the period's integrated variance, its number of jumps and their sizes); the
minutes inside it are the Brownian bridge between its ends through the period's own draws, and the
instants inside a minute the bridge between the minute's ends through the minute's. Fast-forwarding an
idle week therefore sums 336 coarse draws a market (vectorised), and simulating event by event visits
the very same values. The fair value is exogenous: trades do not move it.
"""

from __future__ import annotations

import bisect
import math
from array import array
from dataclasses import asdict, dataclass, fields, replace
from functools import cached_property, lru_cache

import numpy as np

from .ranges import EDITABLE_REGIME_FIELDS
from .streams import KeyedStream, stream_key
from .models.signs import Metaorders
from .models.arrivals import TakerArrivals

SECONDS_PER_YEAR = 365 * 24 * 3600      # perps trade around the clock
CHUNK_US = 60_000_000                   # the unit of keyed randomness: one simulated minute
CHUNK_S = CHUNK_US / 1e6
VOL_HALF_LIFE_MINUTES = 30.0            # volatility clustering: how long a calm or wild spell lasts
HOUSE_NOISE_LEVELS = 64                 # house level sizes repeat every 64 ladder steps within a minute

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
    jump_rate_per_hour: float = 0.0     # rate of jumps in the fair value (at most one a minute)
    jump_bps: float = 0.0               # typical jump size (Laplace scale, either sign)
    vol_of_vol: float = 0.0             # volatility clustering: the spread of the log variance factor
    taker_size_sigma: float = 1.5       # log-normal spread of taker sizes: the fill curve's tail
    fast_informed_share: float = 0.5    # share of informed takers that see 1 s ahead
    informed_size_elasticity: float = 0.0    # models/informed.py: larger takers are informed more often
    informed_horizon_seconds: float = 60.0   # how far the other informed takers see
    spread_vol_sensitivity: float = 1.5      # breathing spread: house spread ~ volatility factor ** this
    jump_spread_widening: float = 4.0        # ... and x (1 + this) right after a jump
    spread_refill_seconds: float = 10.0      # ... decaying back with this time constant
    # Book shape (models/book_shape.py): the ladder behind the touch, its growth, and the refill rate.
    ladder_step_bps: float = 0.0             # the ladder's step behind the touch (0: half of spread_bps)
    ladder_depth_ratio: float = 1.0          # each level behind the touch holds depth_usd x this ...
    depth_growth: float = 0.15               # ... times (1 + this x (i - 1)) at the i-th level behind it
    depth_refill_seconds: float = 2.0        # what takers eat from the house comes back with this time constant
    # Taker sizes (models/sizes.py): a log-normal body, a Pareto tail from a quantile on, no cap.
    taker_tail_index: float = 1.1            # the tail's index (0: the plain log-normal)
    taker_tail_quantile: float = 0.9         # where the tail takes over from the body
    # Taker signs (models/signs.py): metaorders split into child orders, for the signs' long memory.
    meta_rate_per_minute: float = 0.0        # metaorders starting a minute (0: every uninformed side a coin toss)
    meta_min_seconds: float = 10.0           # the shortest metaorder ...
    meta_length_index: float = 1.3           # ... and the Pareto index of their lengths
    meta_share: float = 0.0                  # share of uninformed takers that are children of an active one
    # Taker arrivals (models/arrivals.py): a Hawkes stream within each minute, busier when volatile.
    hawkes_branching: float = 0.0            # followers per taker (0: a Poisson stream)
    hawkes_decay_seconds: float = 2.0        # mean delay of a follower
    taker_vol_elasticity: float = 0.0        # the rate goes as the volatility factor to this power
    taker_move_share: float = 0.0            # the share of takers that comes with the minute's own move
    # Impact of agents' taking orders (models/impact.py): the square-root law, part permanent.
    impact_y: float = 0.0                    # Y of the square-root law (0: agents' trades move nothing)
    daily_volume_usd: float = 1e9            # the market's daily volume in the law
    impact_permanent_share: float = 0.5      # the share that stays ...
    impact_decay_seconds: float = 60.0       # ... the rest decays with this time constant
    # Queue (models/queue.py): the house's depth at an agent's level turns over, cancels ahead or behind it.
    queue_cancel_per_second: float = 0.0     # share of a level's house depth cancelled (and re-posted) a second
    queue_power: float = 3.0                 # where: ahead with a**n / (a**n + b**n) (hftbacktest's power model)
    # Order-entry latency (models/latency.py): log-normal delay before an order or a cancel reaches the book.
    latency_ms: float = 0.0                  # its median (0: orders and cancels act at the request's instant)
    latency_sigma: float = 0.0               # the spread of its logarithm

    # The subset that /_mock/markets/{symbol}/regime may change, as the contract names them.
    EDITABLE = EDITABLE_REGIME_FIELDS   # (declared with their ranges in ranges.py)

    def with_changes(self, **changes) -> "Regime":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return asdict(self)

    def state(self) -> dict:
        """As a snapshot writes it: every field as it is (a catalog's whole numbers stay whole)."""
        return asdict(self)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @property
    def event_rate_per_second(self) -> float:
        return (self.updates_per_minute + self.taker_rate_per_minute) / 60.0

    # ---- derived numbers of the fair value's law (all per second, in log price; computed once) ----
    @cached_property
    def jump_probability(self) -> float:
        """Chance of a jump in one minute."""
        if self.jump_rate_per_hour <= 0.0 or self.jump_bps <= 0.0:
            return 0.0
        return -math.expm1(-self.jump_rate_per_hour * CHUNK_S / 3600.0)

    @cached_property
    def diffusion_vol_per_s(self) -> float:
        """The diffusion's volatility once the jumps' share of the variance is taken out (a Laplace jump
        of scale b has variance 2 b^2), so that diffusion and jumps add up to ``volatility_annual``."""
        b = self.jump_bps * 1e-4
        jump_var_year = self.jump_probability * (SECONDS_PER_YEAR / CHUNK_S) * 2.0 * b * b
        return math.sqrt(max(self.volatility_annual ** 2 - jump_var_year, 0.0) / SECONDS_PER_YEAR)

    @cached_property
    def drift_per_s(self) -> float:
        return self.drift_bps_per_hour * 1e-4 / 3600.0


# ---- the fair value -------------------------------------------------------------------------------
# Kinds of sample, in the order they happen when they share an instant.
FROM, JUMP, UPDATE, TAKER = 0, 1, 2, 3

PERIOD_CHUNKS = 30                      # the coarse unit: half an hour of minutes
PERIOD_US = PERIOD_CHUNKS * CHUNK_US
PERIOD_S = PERIOD_US / 1e6
BLOCK_PERIODS = 336                     # coarse draws are made and cached a week of periods at a time
JUMP_SLOTS = 5                          # jump sizes drawn with a period's coarse numbers (beyond: a keyed overflow)

_AR_PHI = 0.5 ** (PERIOD_CHUNKS / VOL_HALF_LIFE_MINUTES)   # the volatility state, node to node (periods)
_AR_GAIN = math.sqrt(1.0 - _AR_PHI * _AR_PHI)
_AR_ROW = 28                            # the AR(1) is vectorised over rows this long (phi^-28 ~ 2.7e8)
_AR_POWERS = _AR_PHI ** -np.arange(1, _AR_ROW + 1, dtype=np.float64)
# Volatility clustering has a slow part too: a second AR(1) with a half-life of days, carrying
# SLOW_VOL_SHARE of the state's variance, so calm and wild spells last hours *and* days (the one-minute
# |returns| stay correlated hours apart, as on recorded markets, instead of forgetting within hours).
SLOW_VOL_HALF_LIFE_MINUTES = 2 * 24 * 60.0
SLOW_VOL_SHARE = 0.7
_SLOW_PHI = 0.5 ** (PERIOD_CHUNKS / SLOW_VOL_HALF_LIFE_MINUTES)
_SLOW_GAIN = math.sqrt(1.0 - _SLOW_PHI * _SLOW_PHI)
_SLOW_POWERS = _SLOW_PHI ** -np.arange(1, _AR_ROW + 1, dtype=np.float64)
_MIX_FAST, _MIX_SLOW = math.sqrt(1.0 - SLOW_VOL_SHARE), math.sqrt(SLOW_VOL_SHARE)


def _ar_path(eps: np.ndarray, gain: float, powers: np.ndarray, start: float) -> np.ndarray:
    """A standard AR(1) from ``start`` through the innovations ``eps`` (``len(eps) + 1`` nodes), vectorised
    over rows of ``_AR_ROW``: a cumsum along each row of the scaled innovations, one carry per row."""
    rows = (gain * eps).reshape(-1, _AR_ROW) * powers
    # A cumsum along the rows, taken a column at a time: the same additions in the same order.
    sums = np.add.accumulate(rows.T, axis=0).T
    starts = []
    prev = start
    last, scale = sums[:, -1].tolist(), float(powers[-1])
    for carry in last:                                   # one carry per row of periods
        starts.append(prev)
        prev = (prev + carry) / scale
    x = np.empty(len(eps) + 1)
    x[0] = start
    x[1:] = ((np.array(starts)[:, None] + sums) / powers).ravel()
    return x
_MINUTE_W = (np.arange(PERIOD_CHUNKS, dtype=np.float64) + 0.5) / PERIOD_CHUNKS    # a minute's place in its period


@lru_cache(maxsize=64)
def _variance_offset(vol_of_vol: float) -> float:
    """``c`` with ``E[exp(vol_of_vol x - c)] = 1`` on average over a period's minutes, where ``x`` is
    interpolated between two nodes of the standard AR(1) (its variance dips between nodes): so the
    variance factor averages 1 and each tier keeps its annual volatility."""
    w = _MINUTE_W
    phi = (1.0 - SLOW_VOL_SHARE) * _AR_PHI + SLOW_VOL_SHARE * _SLOW_PHI     # the mixed state's node correlation
    var = (1.0 - w) ** 2 + w ** 2 + 2.0 * w * (1.0 - w) * phi
    return math.log(float(np.mean(np.exp(vol_of_vol * vol_of_vol * var / 2.0))))


@lru_cache(maxsize=64)
def _jump_count_cdf(p: float) -> np.ndarray:
    """P(N <= n) for the jumps of a period, N ~ Binomial(PERIOD_CHUNKS, p): at most one a minute."""
    pmf = [math.comb(PERIOD_CHUNKS, n) * p ** n * (1.0 - p) ** (PERIOD_CHUNKS - n) for n in range(PERIOD_CHUNKS + 1)]
    cdf = np.cumsum(pmf)
    cdf[-1] = 1.0
    return cdf


def _laplace(u: np.ndarray) -> np.ndarray:
    """Laplace(1) draws from uniforms in (0, 1), by inversion (either sign)."""
    return np.copysign(np.log(2.0 * np.minimum(u, 1.0 - u)), 0.5 - u)


class _Block:
    """The coarse draws of ``BLOCK_PERIODS`` half-hour periods (a week): what fast-forwarding needs and
    nothing else. Per period: the diffusion's standard normal ``z``, the volatility state ``x`` at the
    period's start (one node more: the next block's first), the uniform deciding how many jumps it has,
    and the uniforms of its first ``JUMP_SLOTS`` jumps' Laplace units (``units``; ``unit_sums()[:, n]``:
    the first ``n`` summed). The units are computed from their uniforms only where they are needed:
    reading one period of a new week needs its own row, fast-forwarding over the week all of them."""

    __slots__ = ("first", "z", "x", "ends", "count_u", "units_u", "_unit_sums", "_conts", "_jumps", "_counts")

    def __init__(self, first: int, gen: np.random.Generator, x_start: tuple[float, float]):
        n = BLOCK_PERIODS
        self.first = first
        self.z = gen.standard_normal(n)
        eps = gen.standard_normal(n)                         # the volatility state's innovations
        self.count_u = gen.random(n)
        self.units_u = gen.random((n, JUMP_SLOTS))
        self._unit_sums: np.ndarray | None = None
        slow_eps = gen.standard_normal(n)                    # the slow part's (drawn after the rest)
        fast = _ar_path(eps, _AR_GAIN, _AR_POWERS, x_start[0])
        slow = _ar_path(slow_eps, _SLOW_GAIN, _SLOW_POWERS, x_start[1])
        self.ends = (float(fast[-1]), float(slow[-1]))
        self.x = _MIX_FAST * fast + _MIX_SLOW * slow          # a standard normal state at every node
        self._conts: dict[tuple, np.ndarray] = {}
        self._jumps: dict[tuple, np.ndarray] = {}
        self._counts: dict[float, np.ndarray] = {}

    @property
    def x_end(self) -> tuple[float, float]:
        """The (fast, slow) states at the block's end: the next block's start."""
        return self.ends

    def units(self, i: int, n: int) -> list[float]:
        """The Laplace units of period ``i``'s first ``n`` jumps (``n`` at most ``JUMP_SLOTS``)."""
        return _laplace(self.units_u[i, :n]).tolist()

    def unit_sums(self) -> np.ndarray:
        """``[i, n]``: the sum of period ``i``'s first ``n`` Laplace units, added in order."""
        if self._unit_sums is None:
            # Running sums along each row, taken a column at a time (the same additions in the same
            # order as a cumsum along the rows, in JUMP_SLOTS vector steps instead of a loop per row).
            sums = np.empty((JUMP_SLOTS + 1, BLOCK_PERIODS))
            sums[0] = 0.0
            np.add.accumulate(_laplace(self.units_u).T, axis=0, out=sums[1:])
            self._unit_sums = sums.T
        return self._unit_sums

    def incs(self, regime: Regime, stream: KeyedStream) -> tuple[np.ndarray, np.ndarray]:
        """(continuous part, jump part) of each period's log increment under ``regime``."""
        return self.cont(regime), self.jumps(regime, stream)

    def cont(self, regime: Regime) -> np.ndarray:
        """Each period's continuous log increment under ``regime``: the diffusion at the period's
        integrated variance, and its drift (cached per regime)."""
        rkey = (regime.vol_of_vol, regime.diffusion_vol_per_s, regime.drift_per_s)
        got = self._conts.get(rkey)
        if got is not None:
            return got
        vov, sig = regime.vol_of_vol, regime.diffusion_vol_per_s
        a = vov * self.x
        d = (a[1:] - a[:-1]) * (1.0 / PERIOD_CHUNKS)         # the log variance factor's slope per minute
        total = np.full(len(d), float(PERIOD_CHUNKS))      # (the series' limit where the slope is 0)
        if vov:
            # sum over the period's minutes of exp(d (i + 1/2)): a geometric series
            np.divide(np.expm1(PERIOD_CHUNKS * d), np.expm1(d), out=total, where=d != 0.0)
        var = np.exp(a[:-1] + d / 2.0 - _variance_offset(vov)) * total
        got = self._conts[rkey] = (regime.drift_per_s * PERIOD_S - (0.5 * sig * sig * CHUNK_S) * var
                                   + (sig * math.sqrt(CHUNK_S)) * np.sqrt(var) * self.z)
        return got

    def jumps(self, regime: Regime, stream: KeyedStream) -> np.ndarray:
        """Each period's jumps' log move under ``regime`` (cached per regime)."""
        p = regime.jump_probability
        rkey = (p, regime.jump_bps)
        got = self._jumps.get(rkey)
        if got is not None:
            return got
        if p > 0.0:
            counts = self.counts(p)
            sums = self.unit_sums()[np.arange(len(counts)), np.minimum(counts, JUMP_SLOTS)]
            for i in (counts > JUMP_SLOTS).nonzero()[0].tolist():
                sums[i] += float(np.sum(_overflow_units(stream, self.first + i, int(counts[i]))))
            got = (regime.jump_bps * 1e-4) * sums
        else:
            got = np.zeros(BLOCK_PERIODS)
        self._jumps[rkey] = got
        return got

    def counts(self, p: float) -> np.ndarray:
        """Each period's number of jumps at a minute's jump probability ``p`` (cached per ``p``)."""
        got = self._counts.get(p)
        if got is None:
            got = self._counts[p] = np.searchsorted(_jump_count_cdf(p), self.count_u, side="right")
        return got


@dataclass(slots=True)
class Mod:
    """Something requested that changes the path from ``time`` on: a new regime and/or a jump."""

    time: int
    regime: Regime | None
    shift: float            # log move


@dataclass(slots=True)
class ChunkPlan:
    """One minute's samples, in time order, with what happens at each. Lists, for a fast event loop."""

    chunk: int
    regime: Regime
    times: list[int]            # microseconds
    kinds: list[int]
    takers: list[int]           # index into the taker arrays, or -1
    values: list[float]         # log fair value from this sample on
    fair: list[float]           # exp(values)
    widen: list[float]          # the house spread's factor
    noise: np.ndarray           # the house's level-size draws for this minute
    informed_u: list[float]
    fast_u: list[float]
    side_u: list[float]
    size_z: list[float]
    jump_time: int | None       # a jump inside this minute, if any
    end: float = 0.0            # log value at the minute's end (where the next minute starts)

    def index_at(self, t: int) -> int:
        """The sample in force at ``t`` (the last at or before it); -1 if none."""
        return bisect.bisect_right(self.times, t) - 1


@dataclass(slots=True)
class _Minute:
    """A minute's increment without requested changes: its continuous part, and its jump (instant,
    Laplace unit and log size under the regime it starts with), and its volatility state."""

    x: float
    cont: float
    jump_time: int | None
    jump_unit: float
    jump: float


class _Period:
    """The minutes of one half-hour period. A plain period (not the market's first, no requested
    change in it) is the Brownian bridge of its coarse increment through its own keyed draws: its
    minutes add up to exactly what fast-forwarding summed. In the market's first period, and after a
    period's first requested change, each minute is drawn on its own ("free") from the same draws.

    The draws are made when the period is first asked for; what is computed from them (the volatility
    state at each minute, the bridge, the free jumps' sizes) only when a minute's increment is: finding
    when a minute's jump happened (the breathing spread looks a minute or two back) needs none of it."""

    __slots__ = ("s", "starts", "plain", "first_mod", "bridge_e", "times_u", "plain_jump", "free_z", "free_u",
                 "free_uu", "x", "plain_cont", "free_units")

    def __init__(self, s: int):
        self.s = s
        self.starts: list[float] = []           # log value at each minute's start, filled in order
        # Set by FairValue._period from the draws: plain, first_mod, bridge_e (the bridge's normals),
        # times_u (each minute's jump instant), plain_jump (a plain period's jump units by minute),
        # free_z, free_u and free_uu (a free minute's normal, jump uniform and jump size uniform).
        self.x: list[float] | None = None       # the volatility state at each minute (computed when needed)
        self.plain_cont: list[float] | None = None  # a plain period's bridged increments (likewise)
        self.free_units: list[float] | None = None  # the free minutes' jump sizes (likewise)


class FairValue:
    """The fair value (mark price) of one market, as a function of time.

    Its law, coarse to fine: a half-hour period's log increment is drawn from the period's coarse
    numbers (vectorised a week at a time: fast-forwarding an idle week sums 336 of them); the period's
    minutes are the bridge between its ends through the period's own draws; the instants inside a
    minute, the bridge between the minute's ends through the minute's. Every level is keyed by (seed,
    symbol, stream, period or minute), so each value is the same however, how often and in what order
    it is read. State kept: the log value at every period's start since the market was created (8 bytes
    per half hour), the regime timeline, the requested modifications, and small caches.

    Reading costs only what the read needs: a read on a whole minute (after advancing whole minutes,
    hours or days) takes the minute's first sample alone (``_head``); a period's bridge is computed
    when one of its minutes is, not when the breathing spread asks whether a minute had a jump; a new
    week's jump sizes when a period with jumps is read, or the week is fast-forwarded over.
    """

    PLANS_KEPT = 10                     # the minutes read around now: markouts, informed takers' horizon
    PERIODS_KEPT = 4
    HEADS_KEPT = 4                      # minutes' first samples, read without laying the minute out

    def __init__(self, seed: int, symbol: str, start_us: int, mid: float, regime: Regime,
                 arrivals: TakerArrivals | None = None):
        self.arrivals = arrivals or TakerArrivals()     # the taker stream's law (models/arrivals.py)
        self._path = KeyedStream(stream_key(seed, symbol, "path"))
        self._bridge = KeyedStream(stream_key(seed, symbol, "bridge"))
        self._overflow = KeyedStream(stream_key(seed, symbol, "jumps"))
        self._events = KeyedStream(stream_key(seed, symbol, "events"))
        self.metaorders = Metaorders(KeyedStream(stream_key(seed, symbol, "metaorders")))   # models/signs.py
        self.start_us = start_us
        self.k0 = start_us // CHUNK_US
        self.s0 = self.k0 // PERIOD_CHUNKS
        # A market created mid-period starts with a partial first minute and walks its first period
        # minute by minute; one created on a period's start (the usual epochs) needs neither.
        self._partial_start = start_us % PERIOD_US != 0
        self._pstarts = array("d", [math.log(mid)])     # log value at period s0 + i's start (s0: at start_us)
        self._timeline: list[tuple[int, Regime]] = [(start_us, regime)]
        self._mods: dict[int, list[Mod]] = {}
        self._mod_periods: set[int] = set()
        self._shift_times: list[int] = []
        self._plans: dict[int, ChunkPlan] = {}
        self._last_plan = -1
        self._heads: dict[int, tuple[float, float, Regime, np.ndarray]] = {}
        self._periods: dict[int, _Period] = {}
        self._blocks: dict[int, _Block] = {}
        self._x_start: dict[int, tuple[float, float]] = {}

    # ---- reading ------------------------------------------------------------------------------
    @property
    def regime(self) -> Regime:
        return self._timeline[-1][1]

    def plan(self, k: int) -> ChunkPlan:
        plans = self._plans
        plan = plans.get(k)
        if plan is None:
            plan = self._make_plan(k)
            if len(plans) >= self.PLANS_KEPT:
                del plans[next(iter(plans))]        # the least recently used
            plans[k] = plan
        elif k != self._last_plan:
            plans[k] = plans.pop(k)                 # now the most recently used
        self._last_plan = k
        return plan

    def value_at(self, t: int) -> float:
        """The log fair value in force at ``t`` (that of the last sample at or before it)."""
        if t < self.start_us:
            return self._pstarts[0]
        plan = self.plan(t // CHUNK_US)
        return plan.values[max(plan.index_at(t), 0)]

    def minute_logs(self, first: int, last: int) -> list[float]:
        """The log fair value at the start of minutes ``first .. last`` (after the first minute)."""
        out = []
        k = first
        while k <= last:
            s = k // PERIOD_CHUNKS
            period = self._period(s)
            stop = min(last, (s + 1) * PERIOD_CHUNKS - 1)
            self._fill(period, stop - s * PERIOD_CHUNKS)
            out.extend(period.starts[k - s * PERIOD_CHUNKS:stop - s * PERIOD_CHUNKS + 1])
            k = stop + 1
        return out

    def samples(self, t0: int, t1: int) -> list[tuple[int, float]]:
        """Every sample (time, price) in [t0, t1]: the path as the market saw it."""
        out = []
        for k in range(max(t0, self.start_us) // CHUNK_US, t1 // CHUNK_US + 1):
            plan = self.plan(k)
            out.extend((t, p) for t, p in zip(plan.times, plan.fair) if t0 <= t <= t1)
        return out

    def price_at(self, t: int) -> float:
        if t < self.start_us:
            return math.exp(self._pstarts[0])
        k = t // CHUNK_US
        if t == k * CHUNK_US and k not in self._plans:
            head = self._head(k)
            if head is not None:
                return head[0]
        plan = self.plan(k)
        return plan.fair[max(plan.index_at(t), 0)]

    def sample_at(self, t: int) -> tuple[float, float, Regime, np.ndarray]:
        """The sample in force at ``t`` (at or after the start), as a quiet book shows it: the fair
        value, the spread's widening, the regime and the house's size draws of its minute."""
        k = t // CHUNK_US
        if t == k * CHUNK_US and k not in self._plans:
            head = self._head(k)
            if head is not None:
                return head
        plan = self.plan(k)
        i = max(plan.index_at(t), 0)
        return plan.fair[i], plan.widen[i], plan.regime, plan.noise

    def _head(self, k: int) -> tuple[float, float, Regime, np.ndarray] | None:
        """Minute ``k``'s first sample, at its start, without laying the minute out: a market read on a
        whole minute (as after advancing whole minutes, hours or days) needs only that. The same
        numbers as ``plan(k)``'s sample 0, computed the same way (see ``_segment``). None when the
        minute's start is not simply its first sample: the market's partial first minute, a minute
        with a requested change."""
        head = self._heads.get(k)
        if head is not None:
            return head
        if k < self.k0 or k in self._mods or (k == self.k0 and self._partial_start):
            return None
        S = k * CHUNK_US
        s = k // PERIOD_CHUNKS
        j = k - s * PERIOD_CHUNKS
        regime = self._regime_before(S)
        level = self._period_start(s) if j == 0 else self._start_of(k)
        b = s // BLOCK_PERIODS
        block = self._block(b)
        i = s - b * BLOCK_PERIODS
        x = float(block.x[i] + (block.x[i + 1] - block.x[i]) * _MINUTE_W[j])   # as _detail, for one minute
        jump_time = self._jump_time_of(k) if regime.jump_probability > 0.0 else None
        widen = math.exp(regime.vol_of_vol * x / 2.0) ** regime.spread_vol_sensitivity
        if regime.jump_spread_widening > 0:
            # A jump later in the minute is not in force at its start; one at its very start is.
            before = [when for when in (jump_time if jump_time == S else None, self._last_jump_before(S, k - 1))
                      if when is not None]
            last = max(before) if before else -(1 << 62)
            widen = (widen * (1.0 + regime.jump_spread_widening * np.exp(
                -((np.array([S]) - last) / 1e6) / regime.spread_refill_seconds))).tolist()[0]
        noise = self._events.generator(k).standard_normal(HOUSE_NOISE_LEVELS)
        head = (np.exp(np.array([level])).tolist()[0], widen, regime, noise)
        if len(self._heads) >= self.HEADS_KEPT:
            del self._heads[next(iter(self._heads))]
        self._heads[k] = head
        return head

    # ---- requested changes, at ``t`` (now) ------------------------------------------------------
    def set_regime(self, t: int, regime: Regime) -> None:
        self._timeline.append((t, regime))
        self._modify(Mod(t, regime, 0.0))

    def shift(self, t: int, log_move: float) -> None:
        self._shift_times.append(t)
        self._modify(Mod(t, None, log_move))

    def _modify(self, mod: Mod) -> None:
        k = mod.time // CHUNK_US
        s = k // PERIOD_CHUNKS
        self.plan(k)                                        # the minute as it stood, up to now
        self._mods.setdefault(k, []).append(mod)
        self._mod_periods.add(s)
        del self._pstarts[s - self.s0 + 1:]                 # later periods start from the new path
        for cache, first in ((self._plans, k), (self._heads, k), (self._periods, s)):
            for j in [j for j in cache if j >= first]:
                del cache[j]

    # ---- state (snapshots) ----------------------------------------------------------------------
    def state(self) -> dict:
        """What the path is a function of, besides (seed, symbol): where it starts, the regime it starts
        in, and every requested change in the order it was made (see ``state_document.FairValue``).
        The rest is caches, rebuilt on demand to the same bits."""
        changes = []
        for k in sorted(self._mods):            # a minute's changes in the order they were made
            for mod in self._mods[k]:
                changes.append({"at_us": mod.time, "regime": mod.regime.state()} if mod.regime is not None
                               else {"at_us": mod.time, "shift": mod.shift})
        return {"start_us": self.start_us, "log_mid": self._pstarts[0], "regime": self._timeline[0][1].state(),
                "changes": changes}

    def regimes(self) -> list[Regime]:
        """The regime objects of the timeline, in order (the first: the one the market started in)."""
        return [r for _, r in self._timeline]

    @classmethod
    def from_state(cls, seed: int, symbol: str, state: dict, make_regime, where: str = "fair") -> "FairValue":
        """The fair value ``state`` describes; ``make_regime(dict, where)`` makes (and checks) a ``Regime``.
        Raises ``InvalidState``."""
        from .errors import InvalidState
        start = state["start_us"]
        fair = cls(seed, symbol, start, 1.0, make_regime(state["regime"], f"{where}.regime"))
        fair._pstarts[0] = state["log_mid"]
        last = start
        for i, change in enumerate(state["changes"]):
            t = change["at_us"]
            if t < last:
                raise InvalidState(f"{where}.changes.{i}.at_us", "changes must be in time order, from the start on")
            last = t
            if "regime" in change:
                regime = make_regime(change["regime"], f"{where}.changes.{i}.regime")
                fair._timeline.append((t, regime))
                mod = Mod(t, regime, 0.0)
            else:
                fair._shift_times.append(t)
                mod = Mod(t, None, change["shift"])
            k = t // CHUNK_US
            fair._mods.setdefault(k, []).append(mod)
            fair._mod_periods.add(k // PERIOD_CHUNKS)
        return fair

    # ---- the coarse path: one log value per period ----------------------------------------------
    def _plain(self, s: int) -> bool:
        return (s != self.s0 or not self._partial_start) and s not in self._mod_periods

    def _period_start(self, s: int) -> float:
        """The log value at period ``s``'s start (at ``start_us`` for the first): plain periods'
        increments summed in vectorised runs, the others walked minute by minute."""
        starts = self._pstarts
        while self.s0 + len(starts) - 1 < s:
            j = self.s0 + len(starts) - 1
            if not self._plain(j):
                period = self._period(j)
                self._fill(period, PERIOD_CHUNKS)
                starts.append(period.starts[PERIOD_CHUNKS])
                continue
            regime = self._regime_before(j * PERIOD_US)
            b = j // BLOCK_PERIODS
            stop = min(s, (b + 1) * BLOCK_PERIODS)
            if self._mod_periods:
                stop = min(stop, min((m for m in self._mod_periods if m > j), default=stop))
            cont, jumps = self._block(b).incs(regime, self._overflow)
            lo, hi = j - b * BLOCK_PERIODS, stop - b * BLOCK_PERIODS
            levels = np.add.accumulate(np.concatenate(([starts[-1]], cont[lo:hi] + jumps[lo:hi])))
            starts.frombytes(levels[1:].tobytes())         # (the same doubles, without a list between)
        return starts[s - self.s0]

    def _block(self, b: int) -> _Block:
        block = self._blocks.get(b)
        if block is not None:
            return block
        b0 = self.s0 // BLOCK_PERIODS
        self._x_start.setdefault(b0, (0.0, 0.0))            # the volatility state starts at its mean
        for c in range(max(self._x_start), b):             # volatility state carried block to block
            self._x_start[c + 1] = self._block(c).x_end
        first = b * BLOCK_PERIODS
        block = _Block(first, self._path.generator(b), self._x_start[b])
        self._x_start[b + 1] = block.x_end
        if len(self._blocks) >= 3:
            del self._blocks[max(self._blocks, key=lambda c: abs(c - b))]     # keep the neighbours
        self._blocks[b] = block
        return block

    def _regime_before(self, t: int) -> Regime:
        """The regime in force just before ``t`` (what a minute starting at ``t`` begins with)."""
        regime = self._timeline[0][1]
        for when, r in self._timeline[1:]:
            if when >= t:
                break
            regime = r
        return regime

    # ---- a period's minutes -------------------------------------------------------------------
    def _period(self, s: int) -> _Period:
        period = self._periods.get(s)
        if period is not None:
            return period
        period = _Period(s)
        gen = self._bridge.generator(s)
        period.bridge_e = gen.standard_normal(PERIOD_CHUNKS)
        order = gen.permutation(PERIOD_CHUNKS)
        period.times_u = gen.random(PERIOD_CHUNKS).tolist()
        period.free_z = gen.standard_normal(PERIOD_CHUNKS)
        period.free_u = gen.random(PERIOD_CHUNKS).tolist()
        period.free_uu = gen.random(PERIOD_CHUNKS)
        base = s * PERIOD_CHUNKS
        period.first_mod = min((m for m in self._mods if base <= m < base + PERIOD_CHUNKS), default=None)
        period.plain = s != self.s0 or not self._partial_start
        period.plain_jump = None
        if period.plain:
            # The jumps in their minutes (Laplace units); the bridge itself waits for ``_detail``.
            regime = self._regime_before(s * PERIOD_US)
            plain_jump: list[float | None] = [None] * PERIOD_CHUNKS
            if regime.jump_probability > 0.0:
                b = s // BLOCK_PERIODS
                block = self._block(b)
                i = s - b * BLOCK_PERIODS
                n = int(block.counts(regime.jump_probability)[i])
                if n:
                    units = block.units(i, min(n, JUMP_SLOTS))
                    if n > JUMP_SLOTS:
                        units += _overflow_units(self._overflow, s, n).tolist()
                    for minute, unit in zip(sorted(order[:n].tolist()), units):
                        plain_jump[minute] = unit
            period.plain_jump = plain_jump
            period.starts = [self._period_start(s)]
        self._periods[s] = period
        if len(self._periods) > self.PERIODS_KEPT:
            del self._periods[max(self._periods, key=lambda c: abs(c - s))]
        return period

    def _detail(self, period: _Period) -> None:
        """Compute what the period's minutes' increments need from its draws (once)."""
        s = period.s
        b = s // BLOCK_PERIODS
        block = self._block(b)
        i = s - b * BLOCK_PERIODS
        x = block.x[i] + (block.x[i + 1] - block.x[i]) * _MINUTE_W
        period.x = x.tolist()
        period.free_z = period.free_z.tolist()
        if period.plain:
            # The bridge: each minute's increment given the period's (the conditional law of independent
            # Gaussian increments with variances v_i given their sum).
            regime = self._regime_before(s * PERIOD_US)
            vov, sig = regime.vol_of_vol, regime.diffusion_vol_per_s
            v = np.exp(vov * x - _variance_offset(vov))
            share = v / float(np.add.reduce(v))            # (np.sum, without its dispatch cost)
            mu = (regime.drift_per_s - 0.5 * sig * sig * v) * CHUNK_S
            noise = (sig * math.sqrt(CHUNK_S)) * np.sqrt(v) * period.bridge_e
            cont = block.cont(regime)
            period.plain_cont = (mu + share * (float(cont[i]) - float(np.add.reduce(mu)))
                                 + noise - share * float(np.add.reduce(noise))).tolist()

    def _fill(self, period: _Period, i: int) -> None:
        """Know the log value at the start of the period's minutes up to ``i`` (``PERIOD_CHUNKS``: its end)."""
        s = period.s
        base = s * PERIOD_CHUNKS
        starts = period.starts
        if not starts:                                      # the market's first period: from its first minute
            starts.extend([math.nan] * (self.k0 - base))
            starts.append(self._pstarts[0])
        plain = self._plain(s)
        while len(starts) <= i:
            j = len(starts) - 1
            k = base + j
            if plain and j == PERIOD_CHUNKS - 1:
                starts.append(self._period_start(s + 1))   # a plain period ends where its increment says
            elif (k == self.k0 and self._partial_start) or k in self._mods:
                starts.append(self.plan(k).end)
            else:
                m = self._increment(period, j)
                starts.append(starts[j] + m.cont + m.jump)

    def _increment(self, period: _Period, j: int) -> _Minute:
        """Minute ``j`` of ``period`` without its own requested changes: from the bridge up to the
        period's first change, drawn on its own after it (and in the market's first period)."""
        k = period.s * PERIOD_CHUNKS + j
        if period.x is None:
            self._detail(period)
        x = period.x[j]
        if period.plain and (period.first_mod is None or k <= period.first_mod):
            unit = period.plain_jump[j]
            if unit is None:
                return _Minute(x, period.plain_cont[j], None, 0.0, 0.0)
            regime = self._regime_before(period.s * PERIOD_US)
            return _Minute(x, period.plain_cont[j], k * CHUNK_US + int(period.times_u[j] * CHUNK_US), unit,
                           regime.jump_bps * 1e-4 * unit)
        regime = self._regime_before(k * CHUNK_US)
        vov, sig = regime.vol_of_vol, regime.diffusion_vol_per_s
        v = math.exp(vov * x - _variance_offset(vov))
        cont = (regime.drift_per_s - 0.5 * sig * sig * v) * CHUNK_S + sig * math.sqrt(CHUNK_S * v) * period.free_z[j]
        if period.free_u[j] < regime.jump_probability:
            if period.free_units is None:
                period.free_units = _laplace(period.free_uu).tolist()
            unit = period.free_units[j]
            return _Minute(x, cont, k * CHUNK_US + int(period.times_u[j] * CHUNK_US), unit,
                           regime.jump_bps * 1e-4 * unit)
        return _Minute(x, cont, None, 0.0, 0.0)

    def _jump_time_of(self, k: int) -> int | None:
        """The instant of minute ``k``'s own jump, if it has one: ``_increment_of(k).jump_time``,
        without computing the increment."""
        s = k // PERIOD_CHUNKS
        period = self._periods.get(s)
        if period is None and self._plain(s):
            # A plain period without jumps (about half of them at the default rates): nothing to draw.
            p = self._regime_before(s * PERIOD_US).jump_probability
            if p <= 0.0:
                return None
            b = s // BLOCK_PERIODS
            if not self._block(b).counts(p)[s - b * BLOCK_PERIODS]:
                return None
        if period is None:
            period = self._period(s)
        j = k - s * PERIOD_CHUNKS
        if period.plain and (period.first_mod is None or k <= period.first_mod):
            jumps = period.plain_jump[j] is not None
        else:
            jumps = period.free_u[j] < self._regime_before(k * CHUNK_US).jump_probability
        return k * CHUNK_US + int(period.times_u[j] * CHUNK_US) if jumps else None

    def _increment_of(self, k: int) -> _Minute:
        s = k // PERIOD_CHUNKS
        return self._increment(self._period(s), k - s * PERIOD_CHUNKS)

    def _start_of(self, k: int) -> float:
        s = k // PERIOD_CHUNKS
        period = self._period(s)
        self._fill(period, k - s * PERIOD_CHUNKS)
        return period.starts[k - s * PERIOD_CHUNKS]

    def _last_jump_before(self, t: int, k: int) -> int | None:
        """The latest jump at or before ``t``: this minute's or the last one's, or a requested one."""
        best = None
        i = bisect.bisect_right(self._shift_times, t)
        if i:
            best = self._shift_times[i - 1]
        for j in (k - 1, k):
            if j < self.k0:
                continue
            jt = self._jump_time_of(j)
            if jt is not None and jt <= t and (best is None or jt > best):
                best = jt
        return best

    # ---- one minute in detail -----------------------------------------------------------------
    def _make_plan(self, k: int) -> ChunkPlan:
        start = self._start_of(k)
        minute = self._increment_of(k)
        if k == self.k0 and self._partial_start:
            plan = self._segment(k, self.start_us, start, self._timeline[0][1], minute, whole=False)
        else:
            plan = self._segment(k, k * CHUNK_US, start, self._regime_before(k * CHUNK_US), minute, whole=True)
        for mod in self._mods.get(k, ()):
            i = plan.index_at(mod.time)
            level = plan.values[max(i, 0)] + mod.shift
            tail = self._segment(k, mod.time, level, mod.regime or plan.regime, minute, whole=False)
            plan = _join(plan, i + 1, tail)
        return plan

    def _segment(self, k: int, t_from: int, level: float, regime: Regime, minute: _Minute, whole: bool) -> ChunkPlan:
        """The samples of minute ``k`` from ``t_from`` on, starting at log value ``level``. A whole
        minute ends exactly where its period says (``minute``'s increment); a partial one (the market's
        first, or after a requested change) ends at a fresh draw from the minute's own stream, keeping
        the minute's jump instant if it is still ahead, at the size of the regime in force."""
        S = k * CHUNK_US
        E = S + CHUNK_US
        gen = self._events.generator(k)
        noise = gen.standard_normal(HOUSE_NOISE_LEVELS)
        # Candidate instants, laid out jump first, then updates, then takers: a stable sort by time
        # then breaks ties by kind (jump, update, taker) and by index, the order samples happen in.
        n_upd = int(gen.poisson(regime.updates_per_minute * CHUNK_S / 60.0))
        times = np.empty(n_upd + 1, dtype=np.int64)
        times[1:] = gen.integers(0, CHUNK_US, n_upd)
        vov, x = regime.vol_of_vol, minute.x
        # A whole minute's takers come with its move; a partial one's (after a requested change, or the
        # market's first) at the plain rate, its end being a fresh draw made after them.
        offsets = self.arrivals.offsets(gen, regime, CHUNK_US, math.exp(vov * x - _variance_offset(vov)),
                                        _move_ratio(regime, minute) if whole else 1.0)
        n_tak = len(offsets)
        times = np.concatenate((times, offsets))
        times += S
        informed_u = gen.random(n_tak)
        fast_u = gen.random(n_tak)
        side_u = gen.random(n_tak)
        size_z = gen.standard_normal(n_tak)
        z_rest = float(gen.standard_normal())
        normals = gen.standard_normal(n_upd + n_tak + 2)   # one per update, per taker, the jump, the end

        sig = regime.diffusion_vol_per_s * math.exp((vov * x - _variance_offset(vov)) / 2.0)
        jump_time = minute.jump_time if regime.jump_probability > 0.0 else None
        if whole:
            cont, jump = minute.cont, minute.jump
        else:
            jump = regime.jump_bps * 1e-4 * minute.jump_unit if jump_time is not None else 0.0
            span_s = (E - t_from) / 1e6
            cont = (regime.drift_per_s - 0.5 * sig * sig) * span_s + sig * math.sqrt(span_s) * z_rest
        earlier_jump = jump_time if jump_time is not None and jump_time <= t_from else None
        if jump_time is not None and jump_time <= t_from:
            jump_time, jump = None, 0.0

        # The samples after t_from, in time order; position p of ``times`` is drawn by normal p - 1
        # (the jump, at 0, by the one after the takers').
        times[0] = jump_time if jump_time is not None else E
        cand = ((times > t_from) & (times < E)).nonzero()[0]
        cand = cand[np.argsort(times[cand], kind="stable")]
        m = len(cand)
        edges = np.empty(m + 2, dtype=np.int64)            # t_from, the samples, E
        edges[0], edges[-1] = t_from, E
        c_times = edges[1:-1]
        np.take(times, cand, out=c_times)
        pick = np.empty(m + 1, dtype=np.int64)             # the normal of each step, and the end's
        np.subtract(cand, 1, out=pick[:-1])
        pick[-1] = n_upd + n_tak + 1
        kinds = UPDATE + (cand > n_upd)                     # UPDATE or TAKER ...
        if jump_time is not None:
            at = cand == 0
            pick[:-1][at] = n_upd + n_tak
            kinds[at] = JUMP                                # ... or the jump

        span = (E - t_from) / 1e6
        dt = (edges[1:] - edges[:-1]) / 1e6
        steps = sig * np.sqrt(dt) * normals[pick]
        walk = np.add.accumulate(steps)                     # (np.cumsum, without its dispatch cost)
        frac = (c_times - t_from) / 1e6 / span
        bridge = walk[:-1] - frac * (walk[-1] - cont)
        if jump_time is not None:
            bridge = bridge + np.where(c_times >= jump_time, jump, 0.0)
        values = np.empty(m + 1)
        values[0] = level
        np.add(level, bridge, out=values[1:])
        all_times = edges[:-1]

        # The breathing spread at each sample: the volatility factor, and the decay since the last jump.
        # (The volatility factor over its median, so a calm-as-usual market quotes its regime's spread.)
        widen = math.exp(vov * x / 2.0) ** regime.spread_vol_sensitivity
        if regime.jump_spread_widening > 0:
            before = [j for j in (earlier_jump, self._last_jump_before(t_from, k - 1)) if j is not None]
            last = max(before) if before else -(1 << 62)
            if jump_time is not None:
                last = np.where(all_times >= jump_time, jump_time, last)
            widen = widen * (1.0 + regime.jump_spread_widening * np.exp(
                -((all_times - last) / 1e6) / regime.spread_refill_seconds))
            widen = widen.tolist()
        else:
            widen = [widen] * (m + 1)

        takers = [-1]
        takers += np.where(kinds == TAKER, cand - (n_upd + 1), -1).tolist()
        kinds_out = [FROM]
        kinds_out += kinds.tolist()
        plan = ChunkPlan(k, regime, all_times.tolist(), kinds_out, takers, values.tolist(),
                         np.exp(values).tolist(), widen, noise, informed_u.tolist(), fast_u.tolist(),
                         side_u.tolist(), size_z.tolist(), jump_time)
        plan.end = level + cont + jump
        return plan


_MEAN_ABS_NORMAL = math.sqrt(2.0 / math.pi)
MOVE_RATIO_CAP = 20.0                   # a jump minute brings at most 20 times its share of takers


def _move_ratio(regime: Regime, minute: _Minute) -> float:
    """The minute's absolute log move (less its drift) over its typical size under ``regime`` (about 1 on
    average, at most ``MOVE_RATIO_CAP``): what the takers that come with the move scale by
    (models/arrivals.py)."""
    b = regime.jump_bps * 1e-4
    var = regime.diffusion_vol_per_s ** 2 * CHUNK_S + regime.jump_probability * 2.0 * b * b
    if var <= 0.0:
        return 1.0
    move = minute.cont + minute.jump - regime.drift_per_s * CHUNK_S
    # In 1/64ths, so that a drift taken off in floating point never tips the takers' draws one way or
    # the other: two regimes that differ only in drift draw the same takers.
    return math.floor(min(abs(move) / (_MEAN_ABS_NORMAL * math.sqrt(var)), MOVE_RATIO_CAP) * 64.0) / 64.0


def _overflow_units(stream: KeyedStream, s: int, n: int) -> np.ndarray:
    """The Laplace units of period ``s``'s jumps beyond its first ``JUMP_SLOTS`` (about one period in
    100,000 at the default rates): from the period's own keyed stream."""
    return _laplace(stream.generator(s).random(n - JUMP_SLOTS))


def _join(head: ChunkPlan, n: int, tail: ChunkPlan) -> ChunkPlan:
    """The first ``n`` samples of ``head``, then ``tail`` (a modification from an instant on)."""
    joined = ChunkPlan(
        head.chunk, tail.regime, head.times[:n] + tail.times, head.kinds[:n] + tail.kinds,
        head.takers[:n] + tail.takers, head.values[:n] + tail.values, head.fair[:n] + tail.fair,
        head.widen[:n] + tail.widen, tail.noise, tail.informed_u, tail.fast_u, tail.side_u, tail.size_z,
        tail.jump_time)
    joined.end = tail.end
    return joined

