"""The ranges a client may set the mock's controls to: which regime fields it may change and the bounds
of each, the size of a jump, and the band a jump keeps a market's mid in. A leaf module: the market
model (``model.py``), the contract's requests (``messages.py``) and the checks (``controls.py``,
``scenarios.py``) all read these, so each range is written once and the contract needs no model.
"""

from __future__ import annotations

from .errors import is_number

# The server's options' ranges (``pf-mock serve``), which a snapshot's config is held to as well; here, in a
# module with no imports of weight, so that the command line can check its options without loading the
# contract's models (``messages.py`` gives the same names).
MAX_SEED = 2**53 - 1                # seeds are echoed in JSON; every JSON client reads this exactly
MAX_SPEED = 10_000.0                # a week of mock time per minute of wall time; faster starves requests
MAX_STARTING_BALANCE = 1e9          # keeps money to well under 1e-6 USD in a double
MAX_FEE_BPS = 100.0                 # 1% of notional
# Order-entry latency's median: the default (Hyperliquid's documented median, models/latency.py) and the
# highest a regime or ``--latency-ms`` may set.
DEFAULT_LATENCY_MS = 200.0
MAX_LATENCY_MS = 60_000.0

# The subset of a market's regime that /_mock/markets/{symbol}/regime may change, as the contract names them.
EDITABLE_REGIME_FIELDS = ("volatility_annual", "spread_bps", "depth_usd", "taker_rate_per_minute",
                          "informed_share", "drift_bps_per_hour", "taker_size_usd", "jump_rate_per_hour",
                          "jump_bps", "vol_of_vol", "depth_refill_seconds", "taker_tail_index", "hawkes_branching",
                          "taker_vol_elasticity", "taker_move_share", "meta_rate_per_minute", "meta_share",
                          "informed_size_elasticity",
                          "impact_y", "impact_permanent_share", "impact_decay_seconds", "latency_ms", "latency_sigma")

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
    # market model v3 (models/): each bounded so the flow stays finite and an hour stays seconds of work
    "depth_refill_seconds": (0.0, 3_600.0, False),
    "taker_tail_index": (0.0, 5.0, False),
    "hawkes_branching": (0.0, 0.95, False),
    "taker_vol_elasticity": (0.0, 3.0, False),
    "taker_move_share": (0.0, 1.0, False),
    "meta_rate_per_minute": (0.0, 600.0, False),
    "meta_share": (0.0, 1.0, False),
    "informed_size_elasticity": (0.0, 2.0, False),
    "impact_y": (0.0, 10.0, False),
    "impact_permanent_share": (0.0, 1.0, False),
    "impact_decay_seconds": (0.0, 86_400.0, False),
    "latency_ms": (0.0, MAX_LATENCY_MS, False),     # models/latency.py: MAX_LATENCY_SIGMA
    "latency_sigma": (0.0, 3.0, False),
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
    if key not in EDITABLE_REGIME_FIELDS:
        return f"{key} is not a regime field; use one of {', '.join(EDITABLE_REGIME_FIELDS)}."
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
