"""The market model's exogenous parts, each a small named object with its parameters in the ``Regime``.

- **Fair value** (``FairValue``): the mark price, a random walk in log price with
  - *volatility clustering*: the volatility in force is the regime's, times ``exp(vol_of_vol x / 2 -
    vol_of_vol**2 / 4)`` where ``x`` is a standard AR(1) per minute with a half-life of
    ``VOL_HALF_LIFE_MINUTES`` (so the variance's mean, hence the annual volatility, is the regime's);
  - *fat tails*: jumps (at most one a minute, with probability from ``jump_rate_per_hour``; Laplace sizes
    of scale ``jump_bps``). The diffusion gives up the jumps' share of the variance, so each tier keeps
    its annual volatility;
  - *drift* ``drift_bps_per_hour``.
  It is sampled exactly at the instants where something happens (house updates, takers, jumps, whole
  minutes).
- **Event times and takers**: house updates and takers arrive as Poisson streams; each taker has a size
  (log-normal, ``taker_size_sigma``: heavy-tailed, so a few sweep deep), a side, and is informed with
  probability ``informed_share``: it trades the way the fair value will move over its horizon, one second
  for a ``fast_informed_share`` of them (what makers feel within a second), ``informed_horizon_seconds``
  for the rest.
- **The breathing spread** (``widen``): the house's spread is ``spread_bps`` times the volatility factor
  (over its median) to the power ``spread_vol_sensitivity``, times ``1 + jump_spread_widening`` right after a jump, which
  decays back with time constant ``spread_refill_seconds``.

Everything here is a function of (seed, symbol, time) and of the regime changes and jumps requested, and
nothing else: every random number comes from ``streams`` keyed by the minute ("chunk") it belongs to.
A minute's increment of the log fair value is drawn at the minute's level (one coarse draw per minute),
and the path inside the minute is the Brownian bridge between its ends, through the minute's own
detailed draws. Fast-forwarding an idle week therefore sums coarse draws (vectorised), and simulating
event by event visits the very same values. The fair value is exogenous: trades do not move it.
"""

from __future__ import annotations

import bisect
import math
from array import array
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from .errors import is_number
from .streams import chunk_generator, coarse_uniforms, stream_key

SECONDS_PER_YEAR = 365 * 24 * 3600      # perps trade around the clock
CHUNK_US = 60_000_000                   # the unit of keyed randomness: one simulated minute
CHUNK_S = CHUNK_US / 1e6
BLOCK_CHUNKS = 1440                     # coarse draws are made and cached this many minutes at a time
VOL_HALF_LIFE_MINUTES = 30.0            # volatility clustering: how long a calm or wild spell lasts
FAST_INFORMED_HORIZON_S = 1.0           # the fast part of informed flow sees this far ahead
HOUSE_NOISE_LEVELS = 64                 # house level sizes repeat every 64 ladder steps within a minute
TAKER_SIZE_CAP = 150.0                  # no single taker beyond 150x the median (the fill curve's far end)

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
    informed_horizon_seconds: float = 60.0   # how far the other informed takers see
    spread_vol_sensitivity: float = 1.5      # breathing spread: house spread ~ volatility factor ** this
    jump_spread_widening: float = 4.0        # ... and x (1 + this) right after a jump
    spread_refill_seconds: float = 10.0      # ... decaying back with this time constant

    # The subset that /_mock/markets/{symbol}/regime may change, as the contract names them.
    EDITABLE = ("volatility_annual", "spread_bps", "depth_usd", "taker_rate_per_minute",
                "informed_share", "drift_bps_per_hour", "taker_size_usd", "jump_rate_per_hour",
                "jump_bps", "vol_of_vol")

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

    # ---- derived numbers of the fair value's law (all per second, in log price) -----------------
    @property
    def jump_probability(self) -> float:
        """Chance of a jump in one minute."""
        if self.jump_rate_per_hour <= 0.0 or self.jump_bps <= 0.0:
            return 0.0
        return -math.expm1(-self.jump_rate_per_hour * CHUNK_S / 3600.0)

    @property
    def diffusion_vol_per_s(self) -> float:
        """The diffusion's volatility once the jumps' share of the variance is taken out (a Laplace jump
        of scale b has variance 2 b^2), so that diffusion and jumps add up to ``volatility_annual``."""
        b = self.jump_bps * 1e-4
        jump_var_year = self.jump_probability * (SECONDS_PER_YEAR / CHUNK_S) * 2.0 * b * b
        return math.sqrt(max(self.volatility_annual ** 2 - jump_var_year, 0.0) / SECONDS_PER_YEAR)

    @property
    def drift_per_s(self) -> float:
        return self.drift_bps_per_hour * 1e-4 / 3600.0


# (lowest, highest, lowest excluded) for each regime field a client may set.
# Every field is bounded, so that whatever a client sets, every quantity derived from it stays finite
# and an hour of simulation stays a matter of seconds: $100M a level or a taker is beyond any real
# book; ±1,000 bps an hour is a 10% trend an hour; 60 jumps of typically 20% an hour is a market in
# free fall (more made the mid leave any sane range within minutes, and the work with it).
_REGIME_RANGES = {
    "volatility_annual": (0.0, 20.0, False),
    "spread_bps": (0.0, 10_000.0, True),
    "depth_usd": (0.0, 1e8, True),
    "taker_rate_per_minute": (0.0, 6_000.0, False),
    "informed_share": (0.0, 1.0, False),
    "drift_bps_per_hour": (-1_000.0, 1_000.0, False),
    "taker_size_usd": (0.0, 1e8, True),
    "jump_rate_per_hour": (0.0, 60.0, False),
    "jump_bps": (0.0, 2_000.0, False),
    "vol_of_vol": (0.0, 3.0, False),
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


MOVE_BPS_RANGE = (-10_000, 100_000)     # a jump above -100% (a price stays positive), up to 11x
MID_BAND = 10_000.0                     # a requested jump keeps the fair value within 1/10,000 to 10,000x the initial mid


def mid_band(initial_mid: float) -> tuple[float, float]:
    """The prices a requested jump may take a market's mid to (a jump past them is refused)."""
    return initial_mid / MID_BAND, initial_mid * MID_BAND


def band_problem(initial_mid: float, mid: float, move_bps: float) -> str | None:
    """What is wrong with jumping ``mid`` by ``move_bps`` (None if the result stays in the band)."""
    lo, hi = mid_band(initial_mid)
    target = mid * (1.0 + move_bps / 1e4)
    if lo <= target <= hi:
        return None
    return (f"A jump of {move_bps:g} bps would take the mid to {target:.6g}, outside its band of {lo:.6g} to "
            f"{hi:.6g} (1/10,000 to 10,000 times its initial mid).")
MOVE_BPS_EXPECTED = f"a number above {MOVE_BPS_RANGE[0]} and at most {MOVE_BPS_RANGE[1]}"


def move_problem(move_bps) -> str | None:
    """What is wrong with a jump of ``move_bps`` (None if nothing); shared like ``regime_problem``."""
    low, high = MOVE_BPS_RANGE
    if not (is_number(move_bps) and low < move_bps <= high):
        return f"move_bps must be {MOVE_BPS_EXPECTED}."
    return None


# ---- the fair value -------------------------------------------------------------------------------
# Kinds of sample, in the order they happen when they share an instant.
FROM, JUMP, UPDATE, TAKER = 0, 1, 2, 3

_SQRT_CHUNK_S = math.sqrt(CHUNK_S)
_AR_PHI = 0.5 ** (1.0 / VOL_HALF_LIFE_MINUTES)
_AR_GAIN = math.sqrt(1.0 - _AR_PHI * _AR_PHI)
_AR_SUB = 288                           # the AR(1) is vectorised over sub-blocks this long (phi^-288 ~ 780)
_AR_POWERS = _AR_PHI ** -np.arange(1, _AR_SUB + 1, dtype=np.float64)


class _Block:
    """The coarse draws of ``BLOCK_CHUNKS`` minutes: what fast-forwarding needs and nothing else."""

    __slots__ = ("z", "x", "jump_u", "sign_u", "x_end", "_sv")

    def __init__(self, u: np.ndarray, x_start: float):
        r = np.sqrt(-2.0 * np.log(u[:, 0]))
        cos = np.cos(2.0 * math.pi * u[:, 1])
        self.z = r * cos                                         # the minute's diffusion increment
        # the volatility state's innovation: Box-Muller's sine, from the cosine (sign: which half-turn)
        eps = r * np.where(u[:, 1] < 0.5, 1.0, -1.0) * np.sqrt(np.maximum(1.0 - cos * cos, 0.0))
        self.jump_u = u[:, 2]
        self.sign_u = u[:, 3]
        x = np.empty(len(u))
        prev = x_start
        for lo in range(0, len(u), _AR_SUB):
            q = _AR_POWERS[:min(_AR_SUB, len(u) - lo)]
            x[lo:lo + len(q)] = (prev + np.cumsum(_AR_GAIN * eps[lo:lo + len(q)] * q)) / q
            prev = float(x[lo + len(q) - 1])
        self.x = x
        self.x_end = prev
        self._sv: dict[float, np.ndarray] = {}

    def jump_unit(self, i: int) -> float:
        """Minute ``i``'s jump, a Laplace(1) draw (computed only where a jump happens, one at a time)."""
        u = float(self.sign_u[i])
        return (1.0 if u < 0.5 else -1.0) * -math.log(2.0 * u if u < 0.5 else 2.0 * (1.0 - u))

    def sv(self, vol_of_vol: float) -> np.ndarray:
        """The volatility factor of each minute, computed once per block and clustering strength."""
        got = self._sv.get(vol_of_vol)
        if got is None:
            got = self._sv[vol_of_vol] = np.exp(vol_of_vol * self.x / 2.0 - vol_of_vol * vol_of_vol / 4.0)
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


class FairValue:
    """The fair value (mark price) of one market, as a function of time.

    State kept: the log value at the start of every minute since the market was created (one float a
    minute), the regime timeline, the requested modifications, and a small cache of minute plans.
    """

    PLANS_KEPT = 6

    def __init__(self, seed: int, symbol: str, start_us: int, mid: float, regime: Regime):
        self._path_key = stream_key(seed, symbol, "path")
        self._events_key = stream_key(seed, symbol, "events")
        self.start_us = start_us
        self.k0 = start_us // CHUNK_US
        # log value at chunk k0 + i's start (k0: at start_us); 8 bytes a simulated minute
        self._starts = array("d", [math.log(mid)])
        self._timeline: list[tuple[int, Regime]] = [(start_us, regime)]
        self._mods: dict[int, list[Mod]] = {}
        self._shift_times: list[int] = []
        self._plans: dict[int, ChunkPlan] = {}
        self._blocks: dict[int, _Block] = {}
        self._x_start: dict[int, float] = {}

    # ---- reading ------------------------------------------------------------------------------
    @property
    def regime(self) -> Regime:
        return self._timeline[-1][1]

    def plan(self, k: int) -> ChunkPlan:
        plan = self._plans.get(k)
        if plan is None:
            plan = self._make_plan(k)
            if len(self._plans) >= self.PLANS_KEPT:
                del self._plans[min(self._plans)]
            self._plans[k] = plan
        return plan

    def value_at(self, t: int) -> float:
        """The log fair value in force at ``t`` (that of the last sample at or before it)."""
        if t < self.start_us:
            return self._starts[0]
        plan = self.plan(t // CHUNK_US)
        return plan.values[max(plan.index_at(t), 0)]

    def minute_logs(self, first: int, last: int) -> list[float]:
        """The log fair value at the start of minutes ``first .. last`` (after the first minute; cheap)."""
        self.extend_to(last)
        return self._starts[first - self.k0:last - self.k0 + 1].tolist()

    def samples(self, t0: int, t1: int) -> list[tuple[int, float]]:
        """Every sample (time, price) in [t0, t1]: the path as the market saw it."""
        out = []
        for k in range(max(t0, self.start_us) // CHUNK_US, t1 // CHUNK_US + 1):
            plan = self.plan(k)
            out.extend((t, p) for t, p in zip(plan.times, plan.fair) if t0 <= t <= t1)
        return out

    def price_at(self, t: int) -> float:
        if t < self.start_us:
            return math.exp(self._starts[0])
        plan = self.plan(t // CHUNK_US)
        return plan.fair[max(plan.index_at(t), 0)]

    # ---- requested changes, at ``t`` (now) ------------------------------------------------------
    def set_regime(self, t: int, regime: Regime) -> None:
        self._timeline.append((t, regime))
        self._modify(Mod(t, regime, 0.0))

    def shift(self, t: int, log_move: float) -> None:
        self._shift_times.append(t)
        self._modify(Mod(t, None, log_move))

    def _modify(self, mod: Mod) -> None:
        k = mod.time // CHUNK_US
        self.extend_to(k)
        self._mods.setdefault(k, []).append(mod)
        del self._starts[k - self.k0 + 1:]                  # later minutes start from the new path
        for j in [j for j in self._plans if j >= k]:
            del self._plans[j]

    # ---- the coarse path ----------------------------------------------------------------------
    def extend_to(self, k: int) -> None:
        """Know the log value at the start of every minute up to ``k``: minutes with detail (the first,
        or one with modifications) through their plan, runs of plain minutes vectorised."""
        while self.k0 + len(self._starts) - 1 < k:
            j = self.k0 + len(self._starts) - 1
            if j == self.k0 or j in self._mods:
                self._starts.append(self._detailed_end(j))
                continue
            regime = self._regime_before(j * CHUNK_US)
            stop = min(k, (j // BLOCK_CHUNKS + 1) * BLOCK_CHUNKS)    # one block at a time
            if self._mods:
                stop = min(stop, min((m for m in self._mods if m > j), default=stop))
            steps = self._increments(regime, j, stop)
            levels = np.add.accumulate(np.concatenate(([self._starts[-1]], steps)))
            self._starts.extend(levels[1:].tolist())

    def _increments(self, regime: Regime, first: int, stop: int) -> np.ndarray:
        """Each plain minute's log increment: drift, diffusion at the clustered volatility, a jump.
        Only correctly rounded elementwise operations on cached draws, so one minute computed alone
        and the same minute computed within a week give the same bits."""
        block = self._block(first // BLOCK_CHUNKS)
        lo = first - (first // BLOCK_CHUNKS) * BLOCK_CHUNKS
        hi = lo + (stop - first)
        sv = block.sv(regime.vol_of_vol)[lo:hi]
        sig = regime.diffusion_vol_per_s
        mu = regime.drift_per_s - (0.5 * sig * sig) * (sv * sv)
        steps = mu * CHUNK_S + (sig * _SQRT_CHUNK_S) * sv * block.z[lo:hi]
        scale = regime.jump_bps * 1e-4
        for i in np.flatnonzero(block.jump_u[lo:hi] < regime.jump_probability).tolist():
            steps[i] += scale * block.jump_unit(lo + i)
        return steps

    def _block(self, b: int) -> _Block:
        block = self._blocks.get(b)
        if block is not None:
            return block
        b0 = self.k0 // BLOCK_CHUNKS
        self._x_start.setdefault(b0, 0.0)                   # the volatility state starts at its mean
        for c in range(max(self._x_start), b):             # volatility state carried block to block
            self._x_start[c + 1] = self._block(c).x_end
        block = _Block(coarse_uniforms(self._path_key, b * BLOCK_CHUNKS, BLOCK_CHUNKS), self._x_start[b])
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

    def _last_jump_before(self, t: int, k: int) -> int | None:
        """The latest jump at or before ``t``: this minute's or the last one's, or a requested one."""
        best = None
        i = bisect.bisect_right(self._shift_times, t)
        if i:
            best = self._shift_times[i - 1]
        for j in (k - 1, k):
            if j < self.k0:
                continue
            jt = self._coarse_jump_time(j)
            if jt is not None and jt <= t and (best is None or jt > best):
                best = jt
        return best

    def _coarse_jump_time(self, j: int) -> int | None:
        block = self._block(j // BLOCK_CHUNKS)
        i = j - (j // BLOCK_CHUNKS) * BLOCK_CHUNKS
        regime = self._regime_before(j * CHUNK_US) if j > self.k0 else self._timeline[0][1]
        p = regime.jump_probability
        u = float(block.jump_u[i])
        if not u < p:
            return None
        return j * CHUNK_US + int(u / p * CHUNK_US)         # given a jump, u / p is uniform: its instant

    # ---- one minute in detail -----------------------------------------------------------------
    def _detailed_end(self, k: int) -> float:
        plan = self.plan(k)
        return plan.end

    def _make_plan(self, k: int) -> ChunkPlan:
        self.extend_to(k)
        start = self._starts[k - self.k0]
        if k == self.k0:
            plan = self._segment(k, self.start_us, start, self._timeline[0][1], None, None)
        else:
            plan = self._segment(k, k * CHUNK_US, start, self._regime_before(k * CHUNK_US), None, None,
                                 plain=True)
        for mod in self._mods.get(k, ()):
            i = plan.index_at(mod.time)
            level = plan.values[max(i, 0)] + mod.shift
            regime = mod.regime or plan.regime
            tail = self._segment(k, mod.time, level, regime, None, None)
            plan = _join(plan, i + 1, tail)
        return plan

    def _segment(self, k: int, t_from: int, level: float, regime: Regime, _a, _b, plain: bool = False) -> ChunkPlan:
        """The samples of minute ``k`` from ``t_from`` on, starting at log value ``level``. A plain
        minute (whole, unmodified) ends exactly where the coarse path says; a partial one ends at a
        fresh draw from the minute's own stream."""
        S = k * CHUNK_US
        E = S + CHUNK_US
        gen = chunk_generator(self._events_key, k)
        noise = gen.standard_normal(HOUSE_NOISE_LEVELS)
        n_upd = int(gen.poisson(regime.updates_per_minute * CHUNK_S / 60.0))
        t_upd = S + gen.integers(0, CHUNK_US, n_upd)
        n_tak = int(gen.poisson(regime.taker_rate_per_minute * CHUNK_S / 60.0))
        t_tak = S + gen.integers(0, CHUNK_US, n_tak)
        informed_u = gen.random(n_tak)
        fast_u = gen.random(n_tak)
        side_u = gen.random(n_tak)
        size_z = gen.standard_normal(n_tak)
        z_rest = float(gen.standard_normal())
        normals = gen.standard_normal(n_upd + n_tak + 2)   # one per candidate sample, the jump, the end

        block = self._block(k // BLOCK_CHUNKS)
        bi = k - (k // BLOCK_CHUNKS) * BLOCK_CHUNKS
        sv = float(block.sv(regime.vol_of_vol)[bi])
        sig = regime.diffusion_vol_per_s * sv
        p_jump = regime.jump_probability
        u_jump = float(block.jump_u[bi])
        jump_time = S + int(u_jump / p_jump * CHUNK_US) if u_jump < p_jump else None
        earlier_jump = jump_time if jump_time is not None and jump_time <= t_from else None
        if jump_time is not None and jump_time <= t_from:
            jump_time = None
        jump = (regime.jump_bps * 1e-4) * block.jump_unit(bi) if jump_time is not None else 0.0

        # Candidates after t_from, in time order (ties: jump, update, taker; then by index).
        times = np.concatenate((t_upd, t_tak, [jump_time if jump_time is not None else E]))
        kinds = np.concatenate((np.full(n_upd, UPDATE), np.full(n_tak, TAKER), [JUMP]))
        idx = np.concatenate((np.arange(n_upd), np.arange(n_tak), [0]))
        keep = (times > t_from) & (times < E)
        order = np.lexsort((idx[keep], kinds[keep], times[keep]))
        cand = np.flatnonzero(keep)[order]
        c_times = times[cand]

        span = (E - t_from) / 1e6
        if plain:
            total = float(self._increments(regime, k, k + 1)[0])
        else:
            total = (regime.drift_per_s - 0.5 * sig * sig) * span + sig * math.sqrt(span) * z_rest + jump
        cont = total - jump
        dt = np.diff(np.concatenate(([t_from], c_times, [E]))) / 1e6
        steps = sig * np.sqrt(dt) * np.concatenate((normals[cand], [normals[-1]]))
        walk = np.cumsum(steps)
        frac = (c_times - t_from) / 1e6 / span
        bridge = walk[:-1] - frac * (walk[-1] - cont)
        if jump_time is not None:
            bridge = bridge + np.where(c_times >= jump_time, jump, 0.0)
        values = np.concatenate(([level], level + bridge))
        all_times = np.concatenate(([t_from], c_times))

        # The breathing spread at each sample: the volatility factor, and the decay since the last jump.
        # (The volatility factor over its median, so a calm-as-usual market quotes its regime's spread.)
        vov = regime.vol_of_vol
        widen = np.full(len(all_times), (sv * math.exp(vov * vov / 4.0)) ** regime.spread_vol_sensitivity)
        if regime.jump_spread_widening > 0:
            before = [j for j in (earlier_jump, self._last_jump_before(t_from, k - 1)) if j is not None]
            last = np.full(len(all_times), max(before) if before else -(1 << 62), dtype=np.int64)
            if jump_time is not None:
                last = np.where(all_times >= jump_time, jump_time, last)
            widen = widen * (1.0 + regime.jump_spread_widening * np.exp(
                -((all_times - last) / 1e6) / regime.spread_refill_seconds))

        kinds_out = np.concatenate(([FROM], kinds[cand]))
        takers = np.concatenate(([-1], np.where(kinds[cand] == TAKER, idx[cand], -1)))
        plan = ChunkPlan(k, regime, all_times.tolist(), kinds_out.tolist(), takers.tolist(), values.tolist(),
                         np.exp(values).tolist(), widen.tolist(), noise, informed_u.tolist(), fast_u.tolist(),
                         side_u.tolist(), size_z.tolist(), jump_time)
        plan.end = level + total
        return plan


def _join(head: ChunkPlan, n: int, tail: ChunkPlan) -> ChunkPlan:
    """The first ``n`` samples of ``head``, then ``tail`` (a modification from an instant on)."""
    joined = ChunkPlan(
        head.chunk, tail.regime, head.times[:n] + tail.times, head.kinds[:n] + tail.kinds,
        head.takers[:n] + tail.takers, head.values[:n] + tail.values, head.fair[:n] + tail.fair,
        head.widen[:n] + tail.widen, tail.noise, tail.informed_u, tail.fast_u, tail.side_u, tail.size_z,
        tail.jump_time)
    joined.end = tail.end
    return joined


def taker_size_usd(regime: Regime, z: float) -> float:
    """A taker's size from its standard normal draw: log-normal around the median, capped."""
    return min(regime.taker_size_usd * math.exp(regime.taker_size_sigma * z), TAKER_SIZE_CAP * regime.taker_size_usd)
