"""The catalog: 275 Hyperliquid perpetuals and the synthetic simulation parameters of each.

Names, size decimals, maximum leverage and starting mids come from public recordings of Hyperliquid's
own listings (``data/markets.csv``; ``data/SOURCES.md`` says where each came from). Everything the
simulation adds - volatility, spread, depth, taker activity - is synthetic: set by liquidity tier and
asset class below, chosen to look like a liquid major, a mid cap or a small cap, not measured.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .model import Regime

MIN_NOTIONAL_USD = 10.0     # Hyperliquid's minimum order value
QUOTE_ASSET = "USDC"

# Synthetic market microstructure per liquidity tier. BTC-PERP's numbers are calibrated so the seed's
# figure holds: $100 quotes 2.5 bps from the mid, re-posted every 5 s, fill 40-80% of the time
# (benchmarks/calibration.py measures it: seeds 0-4 give 55-61% per side at 2.5 bps, ~26% at 5 bps,
# ~2% at 10 bps and 0 at 25 bps, with a negative 10 s post-fill move).
# "major": a 2.5 bps quote sits behind ~4 house levels, so it fills when the mid moves ~3 bps within
# its 5 s (about a fifth of the time at 55% vol) or when a taker sweeps those levels. Levels are thin
# ($2,800, was $20,000) so that the heavy tail of taker sizes (model.TAKER_SIZE_SIGMA) does that
# often; the median taker is $4,500 (was $8,000), which with the heavier tail keeps the mean taker
# (~$13k) and the traded volume as before. The house re-centres 2.5 times a second (was once), and
# refills at once behind every taker, so the time-averaged book spread is the tier's spread_bps.
# 28 levels (was the default 20) keep the ladder well beyond the reach of takers
# (market.TAKER_REACH_SPREADS); liquidity.floor_for guarantees a side never empties whatever the sizes.
TIERS: dict[str, dict[str, float]] = {
    "major": dict(spread_bps=1.0, depth_usd=2_800, taker_rate_per_minute=90, taker_size_usd=4_500,
                  updates_per_minute=150, informed_share=0.6, levels=48),
    "mid": dict(spread_bps=4.0, depth_usd=6_000, taker_rate_per_minute=30, taker_size_usd=2_000,
                updates_per_minute=30, informed_share=0.6),
    "small": dict(spread_bps=12.0, depth_usd=1_500, taker_rate_per_minute=8, taker_size_usd=500,
                  updates_per_minute=12, informed_share=0.6),
}

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
    def __init__(self, specs: list[MarketSpec]):
        self.specs = specs
        self._by_key: dict[str, MarketSpec] = {}
        for spec in specs:
            self._by_key[spec.symbol.upper()] = spec
        for spec in specs:
            self._by_key.setdefault(spec.base.upper(), spec)

    def __len__(self) -> int:
        return len(self.specs)

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


def regime_for(asset_class: str, tier: str) -> Regime:
    vol = VOLATILITY[asset_class][tier]
    jumps_per_year = JUMP_RATE_PER_HOUR * 24 * 365
    jump_bps = round(1e4 * math.sqrt(JUMP_VARIANCE_SHARE * vol * vol / (2.0 * jumps_per_year)), 2)
    return Regime(volatility_annual=vol, jump_rate_per_hour=JUMP_RATE_PER_HOUR, jump_bps=jump_bps,
                  vol_of_vol=VOL_OF_VOL, **TIERS[tier])


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
            regime=regime_for(row["asset_class"], row["tier"]),
        ))
    return Catalog(specs)
