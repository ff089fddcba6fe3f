"""The simulated market, driven directly (no HTTP except to read all 275 markets): laziness, the mid's
volatility, the background spread, taker flow, and jumps that pick off stale quotes.

Everything is measured in simulated time; nothing here reads the wall clock.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from app_client import AppClient

from pf_mock.api import AppOptions, create_app
from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH, ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig, QuoteRequest
from pf_mock.market import Market
from pf_mock.model import CHUNK_US, SECONDS_PER_YEAR, TAKER

DAY = 24 * 3600.0
KEY = "pf_test_model_12345678"
# One market per liquidity tier (see catalog.TIERS).
TIER_MARKETS = ("BTC-PERP", "ATOM-PERP", "ETHFI-PERP")


def new_exchange(seed: int = 0) -> Exchange:
    return Exchange(ExchangeConfig(seed=seed), ManualClock())


def watched_market(symbol: str, seed: int) -> Market:
    """A market on its own, simulated event by event (a watcher, as a live session would be)."""
    market = Market(load_catalog().resolve(symbol), seed, DEFAULT_EPOCH)
    market.watchers = 1
    return market


def realised_vol(times: list[float], prices: list[float]) -> float:
    """Annualised volatility of the log price from its samples (sum of squared log returns over time)."""
    logs = [math.log(p) for p in prices]
    squares = sum((b - a) ** 2 for a, b in zip(logs, logs[1:]))
    return math.sqrt(squares / (times[-1] - times[0]) * SECONDS_PER_YEAR)


def minute_returns(symbol: str, seed: int, minutes: int) -> np.ndarray:
    """Log returns of the fair value from one whole minute to the next (every whole minute is a sample)."""
    market = Market(load_catalog().resolve(symbol), seed, DEFAULT_EPOCH)
    k0 = market.now_us // CHUNK_US
    logs = np.array(market.fair.minute_logs(k0, k0 + minutes))
    assert logs[1] == math.log(market.fair_at(DEFAULT_EPOCH + 60))      # the same path, read cheaply
    return np.diff(logs)


def spread_bps(market: Market) -> float:
    bid, ask = market.best_bid(), market.best_ask()
    assert bid is not None and ask is not None, f"{market.symbol} has an empty side at {market.now}"
    return (ask - bid) * 2e4 / (ask + bid)


# ---- laziness ---------------------------------------------------------------------------------------
def test_advancing_the_clock_touches_no_market() -> None:
    exchange = new_exchange()
    exchange.advance(DAY)
    assert exchange.markets == {}


def test_an_idle_market_processes_no_event_while_the_clock_moves_or_when_read() -> None:
    exchange = new_exchange()
    market = exchange.market("BTC-PERP")
    for _ in range(24):
        exchange.advance(3600)
    assert market.events_processed == 0
    assert exchange.market("BTC-PERP") is market          # the next touch catches it up: it only sets its time
    assert market.now == exchange.now() and market.events_processed == 0
    assert market.best_bid() < market.best_ask()          # its book is laid out as it stands now
    assert market.events_processed == 0


def test_reading_every_market_after_a_day_simulates_nothing() -> None:
    exchange = new_exchange()
    exchange.advance(DAY)
    symbols = [spec.symbol for spec in exchange.catalog]
    assert len(symbols) == 275
    with AppClient(create_app(exchange, AppOptions())) as client:
        for symbol in symbols:
            body = client.get(f"/v1/markets/{symbol}/price").json()
            assert body["best_bid"] < body["best_ask"], body
            assert body["timestamp"] == round((DEFAULT_EPOCH + DAY) * 1000)
    assert len(exchange.markets) == 275
    for market in exchange.markets.values():
        assert market.events_processed == 0, market.symbol
        assert market.now == exchange.now()


# ---- the fair value ---------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_realised_volatility_event_by_event_matches_the_catalog(seed: int) -> None:
    market = watched_market("BTC-PERP", seed)
    assert market.regime.volatility_annual == 0.55
    market.advance_to(DEFAULT_EPOCH + 3600)
    assert market.events_processed > 1000
    times, prices = zip(*market.fair_samples(DEFAULT_EPOCH, DEFAULT_EPOCH + 3600))
    assert len(times) > 1000
    # One hour: jumps and clustering make a single hour's estimate wide.
    assert realised_vol(list(times), list(prices)) == pytest.approx(0.55, rel=0.5)


def test_realised_volatility_over_weeks_matches_each_tier() -> None:
    """Jumps and clustering keep each tier's annual volatility: 1-minute returns over four weeks."""
    for symbol in TIER_MARKETS:
        regime = load_catalog().resolve(symbol).regime
        returns = np.concatenate([minute_returns(symbol, seed, 7 * 1440) for seed in range(4)])
        vol = math.sqrt(float(np.mean(returns ** 2)) * 365 * 1440)
        assert vol == pytest.approx(regime.volatility_annual, rel=0.1), symbol


def test_returns_have_fat_tails_and_volatility_clusters() -> None:
    returns = np.concatenate([minute_returns("BTC-PERP", seed, 7 * 1440) for seed in range(2)])
    z = (returns - returns.mean()) / returns.std()
    assert float(np.mean(z ** 4)) > 5.0                   # a Gaussian's kurtosis is 3
    size = np.abs(returns)
    size = size - size.mean()
    acf = [float(np.mean(size[:-lag] * size[lag:]) / np.mean(size * size)) for lag in range(1, 11)]
    assert min(acf) > 0.04, acf             # calm and wild spells last (without clustering: ~0, below)


def test_a_calm_regime_without_jumps_or_clustering_is_gaussian() -> None:
    """The same measure fails to see fat tails when they are switched off (so it can tell)."""
    spec = load_catalog().resolve("BTC-PERP")
    regime = spec.regime.with_changes(jump_rate_per_hour=0.0, vol_of_vol=0.0)
    market = Market(spec, 0, DEFAULT_EPOCH, regime=regime)
    k0 = market.now_us // CHUNK_US
    returns = np.diff(market.fair.minute_logs(k0, k0 + 7 * 1440))
    z = (returns - returns.mean()) / returns.std()
    assert 2.7 < float(np.mean(z ** 4)) < 3.3
    size = np.abs(returns) - np.abs(returns).mean()
    acf = [float(np.mean(size[:-lag] * size[lag:]) / np.mean(size * size)) for lag in range(1, 11)]
    assert max(abs(a) for a in acf) < 0.04, acf


def test_fair_at_reads_the_path() -> None:
    market = watched_market("ETH-PERP", 0)
    market.advance_to(DEFAULT_EPOCH + 120)
    samples = market.fair_samples(DEFAULT_EPOCH, DEFAULT_EPOCH + 120)
    checked = 0
    for (t, p), (t_next, _) in list(zip(samples, samples[1:]))[::17]:
        if t < t_next:
            assert market.fair_at(t) == p
            assert market.fair_at((t + t_next) / 2) == p          # in force until the next sample
            checked += 1
    assert checked > 10
    assert market.fair_at(DEFAULT_EPOCH - 5) == samples[0][1]
    assert market.mark == market.mark_at(market.now)


# ---- the book around the mid -----------------------------------------------------------------------
@pytest.mark.parametrize("symbol", TIER_MARKETS)
def test_background_spread_stays_near_the_catalog_spread(symbol: str) -> None:
    market = watched_market(symbol, 0)
    samples = []
    for second in range(1, 601):
        market.advance_to(DEFAULT_EPOCH + second)
        samples.append(spread_bps(market))
    mean = sum(samples) / len(samples)
    # The house's touch is a whole number of ticks (models/book_shape.py): at least one tick wide.
    tick_bps = market.grid.tick_at(market.best_bid()) * 1e4 / market.best_bid()
    target = max(market.regime.spread_bps, tick_bps)
    assert 0.5 * target <= mean <= 1.5 * target, (symbol, mean, target)


@pytest.mark.parametrize("symbol", TIER_MARKETS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_book_is_always_two_sided(symbol: str, seed: int) -> None:
    """/price must always have a best bid and a best ask (the seed client reads both): the house's
    ladder is replenished before a taker can leave a side empty."""
    market = watched_market(symbol, seed)
    for second in range(1, 601):
        market.advance_to(DEFAULT_EPOCH + second)
        bid, ask = market.best_bid(), market.best_ask()
        assert bid is not None and ask is not None, (symbol, seed, second)
        assert bid < ask


@pytest.mark.parametrize("symbol", TIER_MARKETS)
def test_a_taker_never_reaches_past_the_house_ladder(symbol: str) -> None:
    """The reach bound is structural, not a matter of tuning: against a ladder only four levels deep
    (well inside a taker's usual reach), a taker a million times the usual size still leaves the
    ladder's outermost level standing - checked inside the event, before the house refills."""
    market = watched_market(symbol, 0)
    market.set_regime(market.regime.with_changes(taker_size_usd=market.regime.taker_size_usd * 1e6, levels=4))
    takers = 0
    while takers < 50:
        plan = market.fair.plan(market.now_us // CHUNK_US)
        for i, kind in enumerate(plan.kinds):
            if kind == TAKER and plan.times[i] >= market.now_us:
                market.advance_to(plan.times[i] - 1)
                market._plan, market._i = plan, i
                market._recentre()
                market._taker(plan, i)
                assert market.best_bid() is not None and market.best_ask() is not None, symbol
                takers += 1
        market.advance_to((plan.chunk + 1) * CHUNK_US)
    assert len(market.trades) >= 50


def test_an_agents_giant_market_order_leaves_both_sides_quoted() -> None:
    """An agent's market order may sweep the whole ladder; the house refills behind it at once, so a
    client reading /price right after (on a clock that does not move) still sees a two-sided book."""
    exchange = Exchange(ExchangeConfig(seed=0, starting_balance=1e9), ManualClock())
    agent = exchange.authenticate(KEY)
    market = exchange.market("BTC-PERP")
    depth_lots = sum(lots for _, lots in market.depth(False, 50))
    _, result = market.place(agent.agent_id, True, None, depth_lots * 3, "IOC", tag="hedge")
    assert result.fills and result.unfilled > 0          # it really did take the whole ask side
    assert market.best_bid() is not None and market.best_ask() is not None
    assert market.best_bid() < market.best_ask()


@pytest.mark.parametrize("symbol", TIER_MARKETS)
def test_takers_print_on_both_sides(symbol: str) -> None:
    market = watched_market(symbol, 0)
    market.advance_to(DEFAULT_EPOCH + 600)
    assert market.trades
    assert {t.taker_is_buy for t in market.trades} == {True, False}
    times = [t.time for t in market.trades]
    assert times == sorted(times) and DEFAULT_EPOCH < times[0] and times[-1] <= DEFAULT_EPOCH + 600
    # Takers pay the spread: buys print at or above the fair value of their instant, sells at or below,
    # in the large majority of prints (the house may have been picked through by a move).
    grid = market.grid
    through = sum(1 for t in market.trades
                  if (grid.to_price(t.price) >= market.fair_at(t.time_us)) == t.taker_is_buy)
    assert through >= 0.9 * len(market.trades)


# ---- jumps -----------------------------------------------------------------------------------------
def test_a_jump_moves_the_mid_at_once_and_picks_off_a_stale_bid() -> None:
    exchange = new_exchange()
    agent = exchange.authenticate(KEY)
    exchange.advance(5)
    market = exchange.market("BTC-PERP")
    mid, fair = market.mid, market.fair_at(market.now_us)
    result = exchange.quote(agent, QuoteRequest(symbol="BTC-PERP", bid_price=mid * (1 - 3e-4), bid_size=200.0))
    assert result.bid.order_id is not None and result.bid.skipped is None
    bid_price = result.bid.price
    assert not agent.ledgers["BTC-PERP"].fills           # resting, passive: nothing filled yet
    events, now = market.events_processed, market.now

    exchange.jump("BTC-PERP", -50)

    assert market.now == now and market.events_processed == events      # at once, no time passed
    assert market.fair_at(market.now_us) == pytest.approx(fair * (1 - 0.005), rel=1e-12)
    assert market.mark < bid_price                         # the bid is now above the market
    fills = agent.ledgers["BTC-PERP"].fills
    assert fills, "a bid left above the new price must be picked off"
    assert all(f.maker and f.is_buy and f.price == bid_price and f.time == now for f in fills)
    assert sum(f.size for f in fills) == pytest.approx(result.bid.qty, rel=1e-12)
    assert market.open_orders(agent.agent_id) == []
    # Picked off: bought above the market, so the fills' edge against the new mark price is negative.
    assert all(f.mid == market.mark for f in fills)
    assert market.best_bid() is not None and market.grid.to_price(market.best_bid()) < market.mark


def test_a_jump_up_picks_off_a_stale_ask_and_leaves_a_far_one() -> None:
    exchange = new_exchange(4)
    agent = exchange.authenticate(KEY)
    market = exchange.market("ETH-PERP")
    mid, fair = market.mid, market.fair_at(market.now_us)
    near = exchange.quote(agent, QuoteRequest(symbol="ETH-PERP", ask_price=mid * 1.0005, ask_size=100.0))
    far = exchange.quote(agent, QuoteRequest(symbol="ETH-PERP", ask_price=mid * 1.02, ask_size=100.0))
    exchange.jump("ETH-PERP", 30)
    assert market.fair_at(market.now_us) == pytest.approx(fair * 1.003, rel=1e-12)
    fills = agent.ledgers["ETH-PERP"].fills
    assert fills and all(not f.is_buy and f.maker and f.price == near.ask.price for f in fills)
    open_ids = [info.order.order_id for info in market.open_orders(agent.agent_id)]
    assert len(open_ids) == 1
    assert market.grid.to_price(market.open_orders(agent.agent_id)[0].order.price) == far.ask.price


def test_a_jump_on_a_bare_market_matches_the_requested_size() -> None:
    market = watched_market("DOGE-PERP", 9)
    market.advance_to(DEFAULT_EPOCH + 30)
    before = market.fair_at(market.now_us)
    market.jump(-250)
    assert market.fair_at(market.now_us) == pytest.approx(before * 0.975, rel=1e-12)
    market.advance_to(DEFAULT_EPOCH + 31)              # the walk goes on from the new level
    assert abs(math.log(market.fair_at(market.now_us) / (before * 0.975))) < 0.01
    assert abs(math.log(market.mid / (before * 0.975))) < 0.01     # and the book followed it
    with pytest.raises(ValueError):
        market.jump(-10_000)


# ---- the breathing spread ---------------------------------------------------------------------------
def test_the_spread_breathes_so_max_spread_pauses_a_session_without_any_scenario() -> None:
    """BTC-PERP's house quotes ~1 bp, wider when volatility runs high and right after a jump: a
    session with max_spread_bps = 2.5 gets paused by the market alone, and resumes; one with 50 never."""
    # The tight session runs until it has been paused and resumed (two hours at most); the wide one runs
    # over that same stretch of the same market, which paused the tight one, and must never pause.
    counts = {}
    span = 2 * 3600
    for limit in (2.5, 50.0):
        exchange = new_exchange(1)
        agent = exchange.authenticate(KEY)
        transitions = []
        original = exchange.sessions.set_status

        def spy(agent_, market, session, status, reason, original=original, transitions=transitions):
            if status != session.status:
                transitions.append(status)
            original(agent_, market, session, status, reason)
        exchange.sessions.set_status = spy
        mid = exchange.market("BTC-PERP").mid
        exchange.quote(agent, QuoteRequest(symbol="BTC-PERP", bid_price=mid * 0.999, bid_size=50.0,
                                           ask_price=mid * 1.001, ask_size=50.0, auto_refresh=True,
                                           max_spread_bps=limit))
        start = exchange.now()
        while exchange.now() - start < span and not (
                limit == 2.5 and "paused" in transitions and "active" in transitions[transitions.index("paused"):]):
            exchange.advance(min(300.0, span - (exchange.now() - start)))
        if limit == 2.5:
            span = exchange.now() - start
        assert exchange.scenario_name is None
        counts[limit] = (transitions.count("paused"), transitions.count("active"))
    paused, resumed = counts[2.5]
    assert paused >= 1 and resumed >= 1, counts
    assert counts[50.0][0] == 0, counts
