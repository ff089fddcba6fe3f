"""Taker flow and impact (models/arrivals.py, signs.py, informed.py, impact.py): bursty self-exciting
arrivals, metaorder signs, size-dependent informed flow, and agents' trades moving the fair value by the
square-root law, part of it for good."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pf_mock import flowstats
from pf_mock.catalog import load_catalog
from pf_mock.clock import ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.models import ImpactLaw, InformedFlow, TakerArrivals, TakerSigns
from pf_mock.models.impact import ImpactState
from pf_mock.models.signs import Metaorders
from pf_mock.streams import KeyedStream, stream_key

KEY = "pf_test_flow_12345678"
BTC = load_catalog().resolve("BTC-PERP").regime


def minute_offsets(regime, minutes: int, v: float = 1.0, move: float = 1.0) -> list[np.ndarray]:
    stream = KeyedStream(stream_key(0, "BTC-PERP", "test-arrivals"))
    return [np.sort(TakerArrivals().offsets(stream.generator(k), regime, 60_000_000, v, move))
            for k in range(minutes)]


# ---- arrivals ---------------------------------------------------------------------------------------
def test_hawkes_arrivals_are_bursty_and_keep_the_mean_rate() -> None:
    bursty = minute_offsets(BTC, 300)
    plain = minute_offsets(BTC.with_changes(hawkes_branching=0.0), 300)
    for minutes in (bursty, plain):
        assert all(((o >= 0) & (o < 60_000_000)).all() for o in minutes)
        mean = sum(len(o) for o in minutes) / len(minutes)
        assert 0.8 * BTC.taker_rate_per_minute <= mean <= 1.1 * BTC.taker_rate_per_minute, mean
    cv = [flowstats.gap_cv((o / 1e6).tolist()) for o in bursty]
    cv_plain = [flowstats.gap_cv((o / 1e6).tolist()) for o in plain]
    # within a minute at a constant volatility (the market adds its volatility clustering on top)
    assert np.mean(cv) >= 1.15 > 1.1 >= np.mean(cv_plain), (np.mean(cv), np.mean(cv_plain))


def test_a_minute_that_moves_brings_more_takers() -> None:
    w = BTC.taker_move_share
    still = sum(len(o) for o in minute_offsets(BTC, 200, move=0.0))
    moving = sum(len(o) for o in minute_offsets(BTC, 200, move=5.0))
    expected = ((1 - w) + 5 * w) / (1 - w)
    assert 0.8 * expected < moving / still < 1.25 * expected, (moving / still, expected)


def test_a_volatile_minute_has_more_takers_when_the_rate_follows_volatility() -> None:
    regime = BTC.with_changes(taker_vol_elasticity=1.0)
    calm = sum(len(o) for o in minute_offsets(regime, 100, v=0.5))
    wild = sum(len(o) for o in minute_offsets(regime, 100, v=2.0))
    assert 3 * calm < wild < 5 * calm


# ---- signs ------------------------------------------------------------------------------------------
def test_a_child_trades_its_metaorders_side_and_others_toss_a_coin() -> None:
    meta = Metaorders(KeyedStream(stream_key(1, "BTC-PERP", "metaorders")))
    regime = BTC
    starts, ends, sides = meta.period(10, regime)
    assert len(starts) > 0 and (ends > starts).all() and ((ends - starts) <= 1800e6).all()
    t = int(starts[0]) + 1
    active = meta.active_sides(t, regime)
    assert active
    signs = TakerSigns()
    always = regime.with_changes(meta_share=1.0)
    assert signs.side(meta, t, always, 0.0, 0.0) == active[0]
    assert signs.side(meta, t, always, 0.0, 0.999) == active[-1]
    never = regime.with_changes(meta_share=0.0)
    assert signs.side(meta, t, never, 0.0, 0.2) is True and signs.side(meta, t, never, 0.0, 0.7) is False
    # the same stream gives the same metaorders
    again = Metaorders(KeyedStream(stream_key(1, "BTC-PERP", "metaorders")))
    assert again.active_sides(t, regime) == active


def test_the_active_metaorders_held_between_instants_are_those_of_each_instant() -> None:
    """``active_sides`` keeps its last answer for the stretch where no metaorder starts or ends: read at
    every start and end, a microsecond either side, across a period boundary and after a change of the
    regime's metaorder parameters, it answers what the periods' own arrays say (worked out here)."""
    meta = Metaorders(KeyedStream(stream_key(2, "BTC-PERP", "metaorders")))
    period = 1800 * 10**6

    def oracle(t: int, regime) -> list[bool]:
        found = []
        for p in (t // period - 1, t // period):
            starts, ends, sides = meta.period(p, regime)
            found += [(int(a), bool(c)) for a, b, c in zip(starts, ends, sides) if a <= t < b]
        return [side for _, side in sorted(found)]

    starts, ends, _ = meta.period(10, BTC)
    points = sorted({int(x) + d for x in (*starts[:12], *ends[:12], 11 * period) for d in (-1, 0, 1)})
    rng = np.random.default_rng(0)
    shuffled = [points[i] for i in rng.permutation(len(points))]
    other = BTC.with_changes(meta_min_seconds=60.0)
    checked = 0
    for regime, ts in ((BTC, points), (BTC, shuffled), (other, points)):
        for t in ts:
            assert meta.active_sides(t, regime) == oracle(t, regime), t
            checked += bool(oracle(t, regime))
    assert checked > 20     # most instants read have metaorders active


# ---- informed flow ----------------------------------------------------------------------------------
def test_larger_takers_are_informed_more_often_up_to_certainty() -> None:
    informed = InformedFlow()
    p = [informed.probability(BTC, usd) for usd in (BTC.taker_size_usd, 1e4, 1e5, 1e8)]
    assert p[0] == pytest.approx(BTC.informed_share)
    assert p[0] < p[1] < p[2] <= p[3] == 1.0
    flat = BTC.with_changes(informed_size_elasticity=0.0)
    assert informed.probability(flat, 1e8) == BTC.informed_share


# ---- impact -----------------------------------------------------------------------------------------
def law_bps(usd: float) -> float:
    sigma_daily = BTC.volatility_annual * math.sqrt(1 / 365)
    return BTC.impact_y * sigma_daily * math.sqrt(usd / BTC.daily_volume_usd) * 1e4


def test_the_impact_law_is_a_square_root_split_in_two() -> None:
    law = ImpactLaw()
    p1, t1 = law.move(BTC, 100_000)
    p4, t4 = law.move(BTC, 400_000)
    assert (p1 + t1) * 1e4 == pytest.approx(law_bps(100_000))
    assert (p4 + t4) == pytest.approx(2 * (p1 + t1))                  # four times the size, twice the move
    assert p1 == pytest.approx(BTC.impact_permanent_share * (p1 + t1))
    assert law.move(BTC, 0.0) == (0.0, 0.0)


def test_a_100k_hedge_moves_the_mark_by_the_law_and_part_of_it_stays() -> None:
    exchange = Exchange(ExchangeConfig(seed=0, starting_balance=1e9), ManualClock())
    agent = exchange.authenticate(KEY)
    market = exchange.market("BTC-PERP")
    now = market.now_us
    before = market.fair_at(now)
    for _ in range(3):
        market.mid, market.depth(True, 20), market.mark       # reads add nothing
    assert market.fair_at(now) == before and not market.impact
    lots = market.grid.lots_for_usd(100_000, market.mark_units())
    _, result = market.place(agent.agent_id, True, None, lots, "IOC", tag="hedge")
    usd = sum(market.grid.notional(f.price, f.qty) for f in result.fills)
    moved = math.log(market.fair_at(now) / before) * 1e4
    assert moved == pytest.approx(law_bps(usd), rel=1e-9)
    assert abs(market.mark / before - 1) * 1e4 == pytest.approx(law_bps(usd), abs=market.grid.tick_size(
        market.mark_units()) / market.mark * 1e4)
    # 20 time constants later only the permanent part is left (on top of the exogenous path)
    later = now + int(20 * BTC.impact_decay_seconds * 1e6)
    assert market.impact.log_offset(later) * 1e4 == pytest.approx(BTC.impact_permanent_share * law_bps(usd))
    assert market.impact.log_offset(now - 1) == 0.0


def test_impact_state_round_trips() -> None:
    state = ImpactState()
    state.add(5, 1e-4, 2e-4, 60.0)
    state.add(9, -3e-5, 0.0, 60.0)
    copy = ImpactState.from_state(state.state())
    assert copy.state() == state.state()
    for t in (0, 5, 7, 9, 10_000_000_000):
        assert copy.log_offset(t) == state.log_offset(t)


def test_the_impact_measure_signs_each_move_and_fits_the_deciles_log_log() -> None:
    # a mid that rises 1 bp at t = 10: a buy before it moved the price its way, a sell the other way
    mid_at = flowstats.mid_lookup([(0.0, 100.0), (10.0, 100.0 * math.exp(1e-4))])
    rows = flowstats.impact_rows([(5.0, 1_000.0, True), (5.0, 2_000.0, False), (20.0, 3_000.0, True)], mid_at)
    assert [u for u, _ in rows] == [1_000.0, 2_000.0, 3_000.0]
    assert rows[0][1] == pytest.approx(1.0) and rows[1][1] == pytest.approx(-1.0) and rows[2][1] == 0.0
    # a square-root law, exactly: slope 0.5 whatever the scale; a linear one: 1
    sizes = [10.0 * 1.1 ** i for i in range(200)]
    for power in (0.5, 1.0):
        curve, slope = flowstats.impact_curve([(q, 0.3 * q ** power) for q in sizes])
        assert len(curve) == 10 and slope == pytest.approx(power, rel=1e-2)
    # deciles whose mean move is not positive are left out of the fit; fewer than three left: no slope
    _, slope = flowstats.impact_curve([(q, -1.0) for q in sizes])
    assert math.isnan(slope)
