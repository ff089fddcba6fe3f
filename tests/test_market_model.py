"""The simulated market, driven directly (no HTTP except to read all 275 markets): laziness, the mid's
volatility, the background spread, taker flow, and jumps that pick off stale quotes.

Everything is measured in simulated time; nothing here reads the wall clock.
"""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from pf_mock.api import AppOptions, create_app
from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH, ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig, QuoteRequest
from pf_mock.market import DETAIL_WINDOW_S, Market
from pf_mock.model import SECONDS_PER_YEAR

DAY = 24 * 3600.0
KEY = "pf_test_model_12345678"
# One market per liquidity tier (see catalog.TIERS).
TIER_MARKETS = ("BTC-PERP", "ATOM-PERP", "ETHFI-PERP")


def new_exchange(seed: int = 0) -> Exchange:
    return Exchange(ExchangeConfig(seed=seed), ManualClock())


# The mid is kept to 10 significant figures (model.MID_SIG_FIGS): half a unit in the 10th figure.
MID_REL = 5e-10


def watched_market(symbol: str, seed: int) -> Market:
    """A market on its own, simulated event by event (a watcher, as a live session would be)."""
    market = Market(load_catalog().resolve(symbol), seed, DEFAULT_EPOCH)
    market.watchers = 1
    return market


def realised_vol(times: list[float], mids: list[float]) -> float:
    """Annualised volatility of the log mid from its samples (sum of squared log returns over time)."""
    logs = [math.log(m) for m in mids]
    squares = sum((b - a) ** 2 for a, b in zip(logs, logs[1:]))
    return math.sqrt(squares / (times[-1] - times[0]) * SECONDS_PER_YEAR)


def spread_bps(market: Market) -> float:
    bid, ask = market.best_bid(), market.best_ask()
    assert bid is not None and ask is not None, f"{market.symbol} has an empty side at {market.now}"
    return (ask - bid) / market.grid.price_scale / market.mid * 1e4


# ---- laziness ---------------------------------------------------------------------------------------
def test_advancing_the_clock_touches_no_market() -> None:
    exchange = new_exchange()
    exchange.advance(DAY)
    assert exchange.markets == {}


def test_an_idle_market_does_not_move_while_the_clock_does() -> None:
    exchange = new_exchange()
    market = exchange.market("BTC-PERP")
    events, now = market.events_processed, market.now
    for _ in range(24):
        exchange.advance(3600)
    assert market.events_processed == events and market.now == now and market.minutes_skipped == 0
    assert exchange.market("BTC-PERP") is market          # the next touch catches it up, cheaply
    assert market.now == exchange.now()
    assert market.minutes_skipped >= (DAY - DETAIL_WINDOW_S) / 60 - 1
    assert market.events_processed <= 5 * DETAIL_WINDOW_S * market.regime.event_rate_per_second


def test_reading_every_market_after_a_day_costs_only_the_detail_window() -> None:
    exchange = new_exchange()
    exchange.advance(DAY)
    client = TestClient(create_app(exchange, AppOptions()), raise_server_exceptions=False)
    symbols = [spec.symbol for spec in exchange.catalog]
    assert len(symbols) == 275
    for symbol in symbols:
        body = client.get(f"/v1/markets/{symbol}/price").json()
        assert body["best_bid"] < body["best_ask"], body
        assert body["timestamp"] == round((DEFAULT_EPOCH + DAY) * 1000)
    assert len(exchange.markets) == 275
    for market in exchange.markets.values():
        expected = DETAIL_WINDOW_S * market.regime.event_rate_per_second
        assert market.events_processed <= 5 * expected + 5, (market.symbol, market.events_processed, expected)
        assert market.minutes_skipped >= (DAY - DETAIL_WINDOW_S) / 60 - 1, market.symbol
        assert market.now == exchange.now()


# ---- the mid ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_realised_volatility_event_by_event_matches_the_catalog(seed: int) -> None:
    market = watched_market("BTC-PERP", seed)
    assert market.regime.volatility_annual == 0.55
    market.advance_to(DEFAULT_EPOCH + 3600)
    assert market.minutes_skipped == 0
    assert market.events_processed > 1000
    vol = realised_vol(market.mid_times, market.mid_values)
    assert vol == pytest.approx(0.55, rel=0.25)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_realised_volatility_of_a_skipped_day_matches_the_catalog(seed: int) -> None:
    market = Market(load_catalog().resolve("BTC-PERP"), seed, DEFAULT_EPOCH)
    market.advance_to(DEFAULT_EPOCH + DAY)
    assert market.minutes_skipped > 1000
    vol = realised_vol(market.mid_times, market.mid_values)
    assert vol == pytest.approx(0.55, rel=0.25)


def test_mid_at_reads_the_path() -> None:
    market = watched_market("ETH-PERP", 0)
    market.advance_to(DEFAULT_EPOCH + 120)
    times, mids = market.mid_times, market.mid_values
    checked = 0
    for i in range(1, len(times) - 1, 17):
        if times[i - 1] < times[i] < times[i + 1]:
            assert market.mid_at(times[i]) == mids[i]
            assert market.mid_at((times[i] + times[i + 1]) / 2) == mids[i]      # in force until the next
            checked += 1
    assert checked > 10
    assert market.mid_at(DEFAULT_EPOCH - 5) == mids[0]
    assert market.mid_at(DEFAULT_EPOCH + 120) == market.mid


# ---- the book around the mid -----------------------------------------------------------------------
@pytest.mark.parametrize("symbol", TIER_MARKETS)
def test_background_spread_stays_near_the_catalog_spread(symbol: str) -> None:
    market = watched_market(symbol, 0)
    samples = []
    for second in range(1, 601):
        market.advance_to(DEFAULT_EPOCH + second)
        samples.append(spread_bps(market))
    mean = sum(samples) / len(samples)
    target = market.regime.spread_bps
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
    for _ in range(50):
        market._taker()
        assert market.best_bid() is not None and market.best_ask() is not None, symbol
        market._recentre()
    assert len(market.trades) >= 50


def test_an_agents_giant_market_order_leaves_both_sides_quoted() -> None:
    """An agent's market order may sweep the whole ladder; the house refills behind it at once, so a
    client reading /price right after (on a clock that does not move) still sees a two-sided book."""
    exchange = Exchange(ExchangeConfig(seed=0, starting_balance=1e9), ManualClock())
    agent = exchange.authenticate(KEY)
    market = exchange.market("BTC-PERP")
    depth_lots = sum(lots for _, lots in market.book.depth(False, 50))
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
    # Takers pay the spread: buys print at or above the mid of their instant, sells at or below,
    # in the large majority of prints (the mid may move between the recentre and the print).
    grid = market.grid
    through = sum(1 for t in market.trades
                  if (grid.to_price(t.price) >= market.mid_at(t.time)) == t.taker_is_buy)
    assert through >= 0.9 * len(market.trades)


# ---- jumps -----------------------------------------------------------------------------------------
def test_a_jump_moves_the_mid_at_once_and_picks_off_a_stale_bid() -> None:
    exchange = new_exchange()
    agent = exchange.authenticate(KEY)
    exchange.advance(5)
    market = exchange.market("BTC-PERP")
    mid = market.mid
    result = exchange.quote(agent, QuoteRequest(symbol="BTC-PERP", bid_price=mid * (1 - 3e-4), bid_size=200.0))
    assert result.bid.order_id is not None and result.bid.skipped is None
    bid_price = result.bid.price
    assert not agent.ledgers["BTC-PERP"].fills           # resting, passive: nothing filled yet
    events, now = market.events_processed, market.now

    exchange.jump("BTC-PERP", -50)

    assert market.now == now and market.events_processed == events      # at once, no time passed
    assert market.mid == pytest.approx(mid * (1 - 0.005), rel=MID_REL)
    assert market.mid < bid_price                          # the bid is now above the market
    fills = agent.ledgers["BTC-PERP"].fills
    assert fills, "a bid left above the new price must be picked off"
    assert all(f.maker and f.is_buy and f.price == bid_price and f.time == now for f in fills)
    assert sum(f.size for f in fills) == pytest.approx(result.bid.qty, rel=1e-12)
    assert market.open_orders(agent.agent_id) == []
    # Picked off: bought above the market, so the fills' edge against the new mid is negative.
    assert all(f.mid == pytest.approx(market.mid, rel=1e-12) for f in fills)
    assert market.best_bid() is not None and market.grid.to_price(market.best_bid()) < market.mid


def test_a_jump_up_picks_off_a_stale_ask_and_leaves_a_far_one() -> None:
    exchange = new_exchange(4)
    agent = exchange.authenticate(KEY)
    market = exchange.market("ETH-PERP")
    mid = market.mid
    near = exchange.quote(agent, QuoteRequest(symbol="ETH-PERP", ask_price=mid * 1.0005, ask_size=100.0))
    far = exchange.quote(agent, QuoteRequest(symbol="ETH-PERP", ask_price=mid * 1.02, ask_size=100.0))
    exchange.jump("ETH-PERP", 30)
    assert market.mid == pytest.approx(mid * 1.003, rel=MID_REL)
    fills = agent.ledgers["ETH-PERP"].fills
    assert fills and all(not f.is_buy and f.maker and f.price == near.ask.price for f in fills)
    open_ids = [info.order.order_id for info in market.open_orders(agent.agent_id)]
    assert len(open_ids) == 1
    assert market.grid.to_price(market.book.get(open_ids[0]).price) == far.ask.price


def test_a_jump_on_a_bare_market_matches_the_requested_size() -> None:
    market = watched_market("DOGE-PERP", 9)
    market.advance_to(DEFAULT_EPOCH + 30)
    before = market.mid
    market.jump(-250)
    assert market.mid == pytest.approx(before * 0.975, rel=MID_REL)
    assert market.mid_at(market.now) == market.mid
    market.advance_to(DEFAULT_EPOCH + 31)              # the walk goes on from the new level
    assert abs(math.log(market.mid / (before * 0.975))) < 0.01
    with pytest.raises(ValueError):
        market.jump(-10_000)
