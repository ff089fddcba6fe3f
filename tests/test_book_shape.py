"""The book shape (models/book_shape.py) and taker sizes (models/sizes.py): a one-tick touch on the
majors with recorded-size depth, spreads that still widen after a jump, liquidity that comes back at a
rate, and heavy-tailed taker sizes without a cap."""

from __future__ import annotations

import math
import statistics

import pytest

from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.clock import ManualClock
from pf_mock.market import Market
from pf_mock.model import Regime
from pf_mock.models import BookShape, TakerSizes
from pf_mock.models.sizes import _threshold

KEY = "pf_test_shape_12345678"


def watched(symbol: str, seed: int = 0) -> Market:
    market = Market(load_catalog().resolve(symbol), seed, DEFAULT_EPOCH)
    market.watchers = 1
    return market


def side_usd(market: Market, is_buy: bool, within_bps: float | None) -> float:
    grid = market.grid
    bid, ask = market.best_bid(), market.best_ask()
    mid = (bid + ask) / 2
    levels = market.depth(is_buy, 50)
    if within_bps is None:
        return grid.notional(*levels[0])
    edge = mid * within_bps / 1e4
    return sum(grid.notional(p, lots) for p, lots in levels if abs(p - mid) <= edge)


# ---- the touch --------------------------------------------------------------------------------------
def five_minutes_of_book(market: Market) -> tuple[int, float, float]:
    """Sampled every second for five minutes: how many seconds the spread was one tick, and the median of
    the thinner side's depth at the touch and within 10 bps (USD)."""
    one_tick, touch, within_10 = 0, [], []
    for second in range(1, 301):
        market.advance_to(DEFAULT_EPOCH + second)
        bid, ask = market.best_bid(), market.best_ask()
        one_tick += ask - bid == market.grid.tick_at(bid)
        touch.append(min(side_usd(market, True, None), side_usd(market, False, None)))
        within_10.append(min(side_usd(market, True, 10), side_usd(market, False, 10)))
    return one_tick, statistics.median(touch), statistics.median(within_10)


def test_the_touch_is_n_ticks_around_the_fair_value() -> None:
    shape = BookShape()
    regime = Regime(volatility_annual=0.5, spread_bps=0.1, depth_usd=1e5, taker_rate_per_minute=1,
                    informed_share=0)
    # 0.1 bps of 100,000.4 units is 1 unit: one tick below, one above.
    assert shape.touch(100_000.4, 1, 1.0, regime) == (100_000, 100_001)
    assert shape.touch(100_000.0, 1, 1.0, regime) == (100_000, 100_001)
    # widened to 1.49 ticks: still one; to 1.51: two ticks, centred within half a tick.
    assert shape.touch(100_000.4, 1, 1.49, regime) == (100_000, 100_001)
    assert shape.touch(100_000.4, 1, 1.51, regime) == (99_999, 100_001)
    assert shape.touch(100_000.6, 1, 1.51, regime) == (100_000, 100_002)
    bid, ask = shape.touch(100_000.4, 1, 10.0, regime)         # 10 ticks
    assert ask - bid == 10 and abs((bid + ask) / 2 - 100_000.4) <= 0.5


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP", "SOL-PERP"])
def test_a_calm_major_quotes_one_tick_with_recorded_depth(symbol: str) -> None:
    one_tick, touch, within_10 = five_minutes_of_book(watched(symbol, 3))
    assert one_tick >= 0.8 * 300, one_tick
    assert touch >= 100_000
    assert within_10 >= 3_000_000


def test_the_touch_widens_right_after_a_jump_and_narrows_again() -> None:
    market = watched("BTC-PERP", 0)
    market.advance_to(DEFAULT_EPOCH + 30)
    tick = market.grid.tick_at(market.best_bid())
    market.jump(-80.0)
    assert market.best_ask() - market.best_bid() >= 3 * tick
    market.advance_to(DEFAULT_EPOCH + 120)
    assert market.best_ask() - market.best_bid() <= 2 * tick


# ---- refill at a rate -------------------------------------------------------------------------------
def test_a_swept_touch_comes_back_at_a_rate_not_at_once() -> None:
    exchange = Exchange(ExchangeConfig(seed=0, starting_balance=1e9), ManualClock())
    agent = exchange.authenticate(KEY)
    market = exchange.market("BTC-PERP")
    market.watchers = 1
    bid = market.best_bid()
    touch_lots = market.depth(True, 1)[0][1]
    _, result = market.place(agent.agent_id, False, None, touch_lots * 3, "IOC", tag="hedge")
    assert result.fills
    assert market.best_bid() < bid                           # the touch was not put back in the same instant
    assert market.house.deficit[True] > 0
    assert market.best_ask() is not None and market.best_bid() is not None
    market.advance_to(market.now + 30)                       # 15 time constants later: refilled
    assert market.house.deficit[True] < 0.5 * market.regime.depth_usd
    assert side_usd(market, True, None) >= 0.5 * market.regime.depth_usd


def test_the_deficit_decays_with_its_time_constant() -> None:
    regime = load_catalog().resolve("BTC-PERP").regime
    shape = BookShape()
    tau_us = int(regime.depth_refill_seconds * 1e6)
    assert shape.decay(1e6, tau_us, regime) == pytest.approx(1e6 / math.e)
    assert shape.decay(1e6, 0, regime) == 1e6
    assert shape.refill_factor(0.0, regime) == 1.0
    assert shape.refill_factor(regime.depth_usd, regime) == pytest.approx(0.5)
    assert shape.may_replace(0.49 * regime.depth_usd, regime)
    assert not shape.may_replace(0.5 * regime.depth_usd, regime)


def test_the_house_refill_state_round_trips() -> None:
    market = watched("BTC-PERP")
    market.house.deficit[True] = 1234.5
    market.house.deficit_us[True] = 17
    state = market.house.refill_state()
    other = watched("BTC-PERP")
    other.house.set_refill_state(state)
    assert other.house.refill_state() == state


# ---- taker sizes ------------------------------------------------------------------------------------
def test_taker_sizes_have_a_log_normal_body_and_a_pareto_tail_without_a_cap() -> None:
    regime = load_catalog().resolve("BTC-PERP").regime
    sizes = TakerSizes()
    assert sizes.size_usd(regime, 0.0) == pytest.approx(regime.taker_size_usd)       # the median
    z_t, tail = _threshold(regime.taker_tail_quantile)
    assert 0.5 * math.erfc(-z_t / math.sqrt(2)) == pytest.approx(regime.taker_tail_quantile)
    below, above = sizes.size_usd(regime, z_t - 1e-9), sizes.size_usd(regime, z_t + 1e-9)
    assert above == pytest.approx(below, rel=1e-6)                                  # continuous at the seam
    # In the tail, the survival function falls as size ** -alpha.
    z1, z2 = 2.0, 3.0
    s1, s2 = (0.5 * math.erfc(z / math.sqrt(2)) for z in (z1, z2))
    ratio = sizes.size_usd(regime, z2) / sizes.size_usd(regime, z1)
    assert ratio == pytest.approx((s2 / s1) ** (-1 / regime.taker_tail_index))
    assert sizes.size_usd(regime, 7.0) > 1e4 * regime.taker_size_usd             # no cap
    plain = regime.with_changes(taker_tail_index=0.0)
    assert sizes.size_usd(plain, 3.0) == pytest.approx(regime.taker_size_usd * math.exp(regime.taker_size_sigma * 3))


# ---- each market's book scaled from its catalog parameters (BookScaling) ---------------------------------
def test_every_market_s_book_is_btc_s_scaled_by_its_trading_activity() -> None:
    """The oracle is the rule in its reduced form (W = volatility x daily volume; spread ~ sigma^(2/3)
    V^(-1/3), depth ~ V^(1/3) sigma^(-2/3)), from BTC-PERP's book at its published $2.1B and 55%."""
    catalog = load_catalog()
    for spec in catalog:
        r = spec.regime
        v, sigma = r.daily_volume_usd / 2.1e9, r.volatility_annual / 0.55
        assert r.spread_bps == pytest.approx(0.1 * sigma ** (2 / 3) * v ** (-1 / 3), abs=6e-5), spec.symbol
        assert r.depth_usd == pytest.approx(180_000 * v ** (1 / 3) * sigma ** (-2 / 3), abs=0.6), spec.symbol
        assert (r.ladder_step_bps, r.ladder_depth_ratio, r.depth_growth, r.levels) == (1.0, 2.5, 0.02, 48)
    btc, eth, doge = (catalog.resolve(s).regime for s in ("BTC-PERP", "ETH-PERP", "DOGE-PERP"))
    assert (btc.daily_volume_usd, btc.spread_bps, btc.depth_usd) == (2.1e9, 0.1, 180_000)
    assert (eth.daily_volume_usd, eth.spread_bps, eth.depth_usd) == (1.4e9, 0.1145, 157_244)
    assert (doge.daily_volume_usd, doge.spread_bps, doge.depth_usd) == (5e7, 0.4646, 38_739)


def test_more_activity_means_a_narrower_spread_and_a_deeper_book() -> None:
    from pf_mock.models.book_shape import BookScaling
    rule = BookScaling()
    assert rule.spread_bps(2.1e9, 0.55) == 0.1 and rule.depth_usd(2.1e9, 0.55) == 180_000
    # eight times the volume: half the spread, twice the depth; eight times the volatility at the same
    # volume: four times the spread, a quarter of the depth
    assert rule.spread_bps(8 * 2.1e9, 0.55) == pytest.approx(0.05)
    assert rule.depth_usd(8 * 2.1e9, 0.55) == pytest.approx(360_000)
    assert rule.spread_bps(2.1e9, 8 * 0.55) == pytest.approx(0.4)
    assert rule.depth_usd(2.1e9, 8 * 0.55) == pytest.approx(45_000)
    assert rule.depth_factor(5e7, 0.85) == pytest.approx(38_739 / 180_000, rel=1e-4)


def test_the_alt_quotes_one_tick_with_its_scaled_depth() -> None:
    """DOGE-PERP (mid tier): its scaled spread (0.46 bps) is under its tick (0.62 bps), so one tick most of
    the time; depth at the touch and within 10 bps of BTC's targets times its depth factor (0.215)."""
    factor = 38_739 / 180_000
    one_tick, touch, within_10 = five_minutes_of_book(watched("DOGE-PERP", 3))
    assert one_tick >= 0.8 * 300, one_tick
    assert touch >= 100_000 * factor
    assert within_10 >= 3_000_000 * factor
