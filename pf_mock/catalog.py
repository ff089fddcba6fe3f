"""The catalog: 275 Hyperliquid perpetuals and the synthetic simulation parameters of each.

Names, size decimals, maximum leverage and starting mids come from public recordings of Hyperliquid's
own listings (``data/markets.csv``; ``data/SOURCES.md`` says where each came from). Everything the
simulation adds - volatility, spread, depth, taker activity - is synthetic: set by liquidity tier and
asset class below, chosen to look like a liquid major, a mid cap or a small cap, not measured.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

from .bounds import DEFAULT_LATENCY_MS, MAX_LATENCY_MS
from .model import Regime
from .models.book_shape import BookScaling
from .models.latency import DEFAULT_LATENCY_SIGMA

MIN_NOTIONAL_USD = 10.0     # Hyperliquid's minimum order value
QUOTE_ASSET = "USDC"

# Market microstructure per liquidity tier (docs/market-model.md gives each number's source).
# "major" (BTC, ETH, SOL) is set from the recorded books of issue 21's table (the Binance BTCUSDT
# perpetual, 2024-08-08, and Hyperliquid's BTC book, 2025-01-26). The reference book (BTC-PERP's,
# models/book_shape.BookScaling's defaults):
# - spread_bps 0.1, below one tick (BTC $1 = 0.14 bps), so the touch is one tick wide unless volatility
#   or a jump widens it (recorded: one tick 99.7% of the time on Binance, a one-tick median on Hyperliquid);
# - depth_usd $180k at the touch per side (recorded: $190-205k on Binance, $20k-700k on Hyperliquid),
#   and a ladder behind it every 1 bp of $450k a level (growing 2% a level): ~$4.5M within 10 bps
#   per side (recorded: $8-10M on Binance, >= $4.5M in Hyperliquid's 20 levels);
# - takers: a median of $1,850 with a log-normal body of spread 2.4 and a Pareto tail of index 1.1 from
#   the 90th percentile (recorded: median $1.85k, 99th percentile $440k, tail index ~1.05).
# - flow: metaorders (models/signs.py) for the signs' long memory, a Hawkes stream (models/arrivals.py)
#   for bursty arrivals; agents' taking orders move the fair value by the square-root law with Y = 0.7
#   and the market's daily volume (BTC-PERP $2.1B, published; the major tier's $2B otherwise, synthetic).
# The book of every market (major, mid or small) is that reference book scaled by the market's trading
# activity, volatility x daily volume, against BTC-PERP's (models/book_shape.py, BookScaling: the spread as
# W^(-1/3), the touch's size as the typical order, daily volume x W^(-2/3)); the ladder's shape is the
# same everywhere (_BOOK). The daily volume is the platform's published 24 h figure where it publishes
# one (PUBLISHED_DAILY_VOLUME_USD), else the tier's daily_volume_usd (synthetic).
# "mid" and "small" flow is synthetic: fewer and smaller takers, the same flow mechanisms.
# The flow's mechanisms are the same on every tier (the majors' figures): a Pareto tail of index 1.1 on
# a log-normal body, a Hawkes stream, metaorders (as many per taker as on the majors), informed flow
# growing with size, the square-root impact of agents' trades.
# - queue (models/queue.py): the house's depth at a level where an agent waits turns over at 5% a second,
#   cancels split between ahead of the agent and behind it by hftbacktest's power law with n = 3 (synthetic).
_QUEUE = dict(queue_cancel_per_second=0.05, queue_power=3.0)
_FLOW = dict(taker_size_sigma=2.0, taker_tail_index=1.1, hawkes_branching=0.6, taker_move_share=0.25,
             meta_share=0.8, informed_share=0.2, informed_size_elasticity=0.5, impact_y=0.7, **_QUEUE)
_META_PER_TAKER = 2.5 / 90
# The ladder behind the touch, the same on every market (the reference book's shape; its size is depth_usd).
_BOOK = dict(ladder_step_bps=1.0, ladder_depth_ratio=2.5, depth_growth=0.02, depth_refill_seconds=2.0, levels=48)
TIERS: dict[str, dict[str, float]] = {
    "major": dict(taker_rate_per_minute=90, taker_size_usd=1_850,
                  taker_size_sigma=2.4, taker_tail_index=1.1, updates_per_minute=150, informed_share=0.2,
                  informed_size_elasticity=0.5,
                  meta_rate_per_minute=2.5, meta_share=0.8, hawkes_branching=0.6, taker_move_share=0.25,
                  impact_y=0.7, daily_volume_usd=2e9, **_BOOK, **_QUEUE),
    "mid": dict(taker_rate_per_minute=30, taker_size_usd=2_000,
                updates_per_minute=30, **_FLOW, meta_rate_per_minute=30 * _META_PER_TAKER, daily_volume_usd=5e7,
                **_BOOK),
    "small": dict(taker_rate_per_minute=8, taker_size_usd=500,
                  updates_per_minute=12, **_FLOW, meta_rate_per_minute=8 * _META_PER_TAKER,
                  daily_volume_usd=5e6, **_BOOK),
}
# 24 h volumes the platform publishes (its trading docs' top markets table); every other market takes its
# tier's daily_volume_usd.
PUBLISHED_DAILY_VOLUME_USD: dict[str, float] = {"BTC-PERP": 2.1e9, "ETH-PERP": 1.4e9}
BOOK_SCALING = BookScaling()

# Synthetic annual volatility of the mid, by asset class and tier (crypto trades 24/7).
VOLATILITY: dict[str, dict[str, float]] = {
    "crypto": {"major": 0.55, "mid": 0.85, "small": 1.20},
    "stock": {"major": 0.35, "mid": 0.40, "small": 0.60},
    "index": {"major": 0.18, "mid": 0.20, "small": 0.25},
    "commodity": {"major": 0.25, "mid": 0.25, "small": 0.35},
    "fx": {"major": 0.08, "mid": 0.08, "small": 0.10},
}


@dataclass(frozen=True)
class MarketSpec:
    index: int              # position in the catalog; part of every order and fill id
    symbol: str             # canonical, e.g. BTC-PERP
    base: str
    dex: str                # "main" (crypto) or "xyz" (HIP-3 real-world assets)
    asset_class: str
    tier: str
    sz_decimals: int
    max_leverage: int
    initial_mid: float
    source: str
    regime: Regime

    @property
    def quote(self) -> str:
        return QUOTE_ASSET


class UnknownMarket(KeyError):
    pass


class Catalog:
    LATENCIES_KEPT = 8      # derived catalogs kept (``with_latency``): a server or a test uses one or two

    def __init__(self, specs: list[MarketSpec]):
        self.specs = specs
        self._with_latency: dict[str, Catalog] = {}
        self._by_key: dict[str, MarketSpec] = {}
        for spec in specs:
            self._by_key[spec.symbol.upper()] = spec
        for spec in specs:
            self._by_key.setdefault(spec.base.upper(), spec)

    def __len__(self) -> int:
        return len(self.specs)

    def with_latency(self, latency_ms: float | None) -> "Catalog":
        """This catalog with every market's regime starting at a median latency of ``latency_ms``
        (``pf-mock serve --latency-ms``; models/latency.py); None: this catalog as it is."""
        if latency_ms is None:
            return self
        if not (isinstance(latency_ms, (int, float)) and 0 <= latency_ms <= MAX_LATENCY_MS):
            raise ValueError(f"latency_ms must be a number from 0 to {MAX_LATENCY_MS:g}")
        # Made once per latency and kept: its specs and regimes are frozen, so every exchange (and every restore)
        # asking for the same latency can share them, instead of re-making the whole list (~8 ms for 275 markets).
        latency = float(latency_ms)
        key = latency.hex()         # exact, and tells -0.0 (kept as given) from 0.0, which compare equal
        derived = self._with_latency.get(key)
        if derived is None:
            derived = Catalog([replace(s, regime=s.regime.with_changes(latency_ms=latency)) for s in self.specs])
            if len(self._with_latency) >= self.LATENCIES_KEPT:
                del self._with_latency[next(iter(self._with_latency))]      # the oldest
            self._with_latency[key] = derived
        return derived

    def __iter__(self):
        return iter(self.specs)

    def resolve(self, name: str) -> MarketSpec:
        """``BTC-PERP``, ``btc-perp`` and ``btc`` all name the same market. Case is folded in ASCII only: a
        name with any other character names nothing (Unicode's folding would read ``ſol``, with a long s,
        as ``SOL``)."""
        text = str(name).strip(" \t\n\r\x0b\x0c")
        spec = self._by_key.get(text.upper()) if text.isascii() else None
        if spec is None:
            raise UnknownMarket(name)
        return spec


# Fat tails and clustering, by default everywhere: jumps at JUMP_RATE_PER_HOUR carrying JUMP_VARIANCE_SHARE
# of each market's variance (their Laplace scale follows from its volatility, so the annual volatility
# stays the tier's), and a volatility factor with VOL_OF_VOL spread (model.FairValue).
JUMP_RATE_PER_HOUR = 1.5
JUMP_VARIANCE_SHARE = 0.25
VOL_OF_VOL = 0.6


def regime_for(asset_class: str, tier: str, daily_volume_usd: float | None = None) -> Regime:
    """A market's regime from its asset class and tier, and its own daily volume when one is published
    (else the tier's): the book's spread and depth scaled from the reference book (``BOOK_SCALING``)."""
    vol = VOLATILITY[asset_class][tier]
    jumps_per_year = JUMP_RATE_PER_HOUR * 24 * 365
    jump_bps = round(1e4 * math.sqrt(JUMP_VARIANCE_SHARE * vol * vol / (2.0 * jumps_per_year)), 2)
    params = dict(TIERS[tier])
    if daily_volume_usd is not None:
        params["daily_volume_usd"] = daily_volume_usd
    volume = params["daily_volume_usd"]
    return Regime(volatility_annual=vol, jump_rate_per_hour=JUMP_RATE_PER_HOUR, jump_bps=jump_bps,
                  vol_of_vol=VOL_OF_VOL, latency_ms=DEFAULT_LATENCY_MS, latency_sigma=DEFAULT_LATENCY_SIGMA,
                  spread_bps=round(BOOK_SCALING.spread_bps(volume, vol), 4),
                  depth_usd=round(BOOK_SCALING.depth_usd(volume, vol)), **params)


@cache
def load_catalog() -> Catalog:
    text = resources.files("pf_mock").joinpath("data/markets.csv").read_text(encoding="utf-8")
    specs = []
    for index, row in enumerate(csv.DictReader(text.splitlines())):
        specs.append(MarketSpec(
            index=index,
            symbol=row["symbol"],
            base=row["base"],
            dex=row["dex"],
            asset_class=row["asset_class"],
            tier=row["tier"],
            sz_decimals=int(row["sz_decimals"]),
            max_leverage=int(row["max_leverage"]),
            initial_mid=float(row["initial_mid"]),
            source=row["source"],
            regime=regime_for(row["asset_class"], row["tier"], PUBLISHED_DAILY_VOLUME_USD.get(row["symbol"])),
        ))
    return Catalog(specs)
