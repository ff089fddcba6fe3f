"""The model's report card (benchmarks/calibration.py), held to the figures of the recorded books (issue
21): the +-2.5 bps maker fills 8-30% per side a round, the seed's 40-80% holds where the recording shows
it (+-0.5 bps), a smooth fill curve, adverse selection that eats the edge, and skewing that tames the
inventory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from pf_mock.bounds import DEFAULT_LATENCY_MS
from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH, US_PER_S
from pf_mock.market import Market

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "calibration.py"


def _load_calibration():
    spec = importlib.util.spec_from_file_location("pf_mock_calibration", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ASKED_BPS = (0.5, 1.0, 2.5, 5.0, 10.0, 50.0)     # the distances read below


@pytest.fixture(scope="module")
def report():
    # One seed's half hour per market: the same bounds hold with margins like two seeds' (the fuller
    # figures are the benchmark's, `benchmarks/calibration.py`), at half the suite's time.
    calibration = _load_calibration()
    # Only the distances these tests hold a figure to (the report's 20 bps row is the benchmark's alone);
    # a module of this file's own, so the benchmark's list is untouched.
    calibration.DISTANCES_BPS = tuple(d for d in calibration.DISTANCES_BPS if d in ASKED_BPS)
    assert calibration.DISTANCES_BPS == ASKED_BPS
    # The skewed maker is held to a figure on BTC-PERP alone: ETH-PERP's report leaves its run out.
    return {"BTC-PERP": calibration.measure("BTC-PERP", seeds=1, minutes=30),
            "ETH-PERP": calibration.measure("ETH-PERP", seeds=1, minutes=30, skewed=False)}


def test_quotes_at_2_5_bps_fill_8_to_30_percent_per_side_on_btc(report):
    """The recorded figure is BTC's (15% traded through at +-2.5 bps). ETH-PERP meets it over 10 seeds x 30
    minutes (12% a side, `benchmarks/calibration.py --part latency`), but one seed's half hour swings from 8%
    to 16% across seeds: not held here."""
    bid, ask = report["BTC-PERP"]["shares"][2.5]
    assert 0.08 <= bid <= 0.30 and 0.08 <= ask <= 0.30, (bid, ask)


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP"])
def test_the_seeds_40_to_80_percent_holds_half_a_basis_point_out(report, symbol):
    bid, ask = report[symbol]["shares"][0.5]
    assert 0.40 <= bid <= 0.80 and 0.40 <= ask <= 0.80, (bid, ask)


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP"])
def test_the_fill_curve_falls_smoothly_and_far_quotes_still_fill_now_and_then(report, symbol):
    shares = report[symbol]["shares"]
    means = [sum(shares[d]) / 2 for d in (0.5, 1.0, 2.5, 5.0)]
    assert all(a > b for a, b in zip(means, means[1:])), means
    assert sum(shares[10.0]) > 0, "a quote 10 bps out should fill now and then"
    assert sum(shares[50.0]) / 2 <= sum(shares[10.0]) / 2


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP"])
def test_the_60s_markout_eats_at_least_80_percent_of_the_edge(report, symbol):
    r = report[symbol]
    assert r["markouts"][60] < 0, r["markouts"]
    # What is left of the edge a minute after the fill: at most a fifth of it (nothing, if it was <= 0).
    assert r["edge_bps"] + r["markouts"][60] <= 0.2 * max(r["edge_bps"], 0.0), (r["edge_bps"], r["markouts"])


def test_skewing_against_inventory_tames_the_inventory(report):
    r = report["BTC-PERP"]
    assert abs(r["skewed"]["inventory_pnl"]) < abs(r["naive"]["inventory_pnl"]), (r["skewed"], r["naive"])


def test_the_queue_part_reckons_shares_of_posted_and_gives_a_verdict_only_with_enough_orders():
    calibration = _load_calibration()
    back = [{"posted": 1000.0, "at_level": 10.0, "through": 240.0, "rounds": 40},
            {"posted": 1000.0, "at_level": 0.0, "through": 250.0, "rounds": 40}]
    front = [{"posted": 2000.0, "at_level": 200.0, "through": 800.0, "rounds": 80}]
    figures = calibration._queue_figures(back, front)
    assert figures["back"] == {"at_level": 0.005, "through": 0.245}
    assert figures["front"] == {"at_level": 0.1, "through": 0.4}
    assert figures["ratio"] == pytest.approx(0.25 / 0.5) and figures["ratio_at_level"] == pytest.approx(0.05)
    assert figures["rounds"] == 80

    def verdict(ratio, rounds):
        row = dict(figures, ratio=ratio, rounds=rounds)
        table = calibration.format_queue({"BTC-PERP": row}, [], None, 1, 1)
        return next(line for line in table.splitlines() if line.startswith("| back / improver, all fills"))
    assert "0.50 ok" in verdict(0.5, 50) and "MISS" in verdict(0.51, 50)
    assert "ok" not in verdict(0.5, 49) and "MISS" not in verdict(0.51, 49)


def _via_exchange(calibration, symbol: str, seed: int, minutes: float, distance_bps: float, latency_ms):
    """The calibration maker's loop as a client of the exchange sends it: each round a cancel, then one quote
    of both sides priced from the mid read then, through ``Exchange.cancel`` and ``Exchange.quote``. A second
    agent's bid 3% under the mid (never reached) keeps the market live between a cancel and the next quote,
    as the calibration's watched market is; its quote is the market's first message, so the calibration's
    messages start from the second."""
    from pf_mock.config import ExchangeConfig
    from pf_mock.exchange import Exchange
    from pf_mock.messages import QuoteRequest

    ex = Exchange(ExchangeConfig(seed=seed, latency_ms=latency_ms))
    market = ex.market(symbol)
    grid = market.grid
    ex.quote(ex.register("far"), QuoteRequest(symbol=symbol, bid_price=grid.to_price(grid.price_down(market.mid * 0.97)),
                                              bid_size=20.0))
    maker = ex.register("maker")
    for n in range(int(minutes * 60 / calibration.REQUOTE_S)):
        if n:
            ex.advance(calibration.REQUOTE_S)
        market = ex.market(symbol)
        ex.cancel(maker, symbol)
        mid = market.mid
        bid = grid.price_down(mid * (1 - distance_bps / 1e4))
        ask = grid.price_up(mid * (1 + distance_bps / 1e4))
        ex.quote(maker, QuoteRequest(symbol=symbol, bid_price=grid.to_price(bid), bid_size=calibration.QUOTE_USD,
                                     ask_price=grid.to_price(ask), ask_size=calibration.QUOTE_USD))
    ex.advance(calibration.REQUOTE_S)
    return [(round(f.time, 6), f.price, f.size, f.is_buy) for f in ex.fills(maker, symbol) if f.maker]


@pytest.mark.latency
@pytest.mark.parametrize("symbol,distance,latency_ms", [("BTC-PERP", 0.5, DEFAULT_LATENCY_MS), ("ETH-PERP", 2.5, 2000.0)])
def test_the_maker_with_latency_fills_exactly_as_the_exchange_fills_the_same_client(symbol, distance, latency_ms):
    """The exchange is the oracle: the calibration maker's fills with the order-entry latency (the documented
    200 ms median, and a 2 s one) are the fills the exchange gives a client sending the same messages at the
    same instants; and the latency changes them (the same seed with none fills otherwise)."""
    calibration = _load_calibration()
    flight = calibration.InFlight(3)
    flight.sent[symbol] = 1                 # the far agent's quote was the market's first message
    run = calibration.run_maker(symbol, 3, 2, distance, latency_ms=latency_ms, flight=flight)
    grid = load_catalog_grid(symbol)
    mine = [(round(f.time, 6), grid.to_price(f.price), grid.to_size(f.lots), f.is_buy) for f in run["maker_fills"]]
    assert len(mine) >= 5
    assert mine == _via_exchange(calibration, symbol, 3, 2, distance, latency_ms)
    none = calibration.run_maker(symbol, 3, 2, distance, latency_ms=0.0)["maker_fills"]
    assert [(f.time, f.price) for f in none] != [(f.time, f.price) for f in run["maker_fills"]]


def load_catalog_grid(symbol: str):
    from pf_mock.grid import Grid
    return Grid(load_catalog().resolve(symbol).sz_decimals)


def test_the_impact_slope_interval_resamples_whole_seeds():
    """Seeds whose orders follow one power law give that slope whatever the resample; seeds of two different
    laws give an interval between the two laws' slopes that contains the pooled fit."""
    calibration = _load_calibration()
    sizes = [100.0 * 1.5 ** k for k in range(40)]

    def law(exponent):
        return [(q, 0.01 * q ** exponent) for q in sizes]
    lo, hi = calibration.slope_interval([law(0.5)] * 4)
    assert lo == pytest.approx(0.5) and hi == pytest.approx(0.5)
    lo, hi = calibration.slope_interval([law(0.3), law(0.3), law(0.7), law(0.7)])
    pooled = calibration.fs.impact_curve(law(0.3) * 2 + law(0.7) * 2)[1]
    assert 0.3 - 1e-9 <= lo < pooled < hi <= 0.7 + 1e-9
    lo, hi = calibration.slope_interval([law(0.5)])     # one seed: no interval
    assert lo != lo and hi != hi


# The reference maker's PnL before rebates split at the informed takers' horizon: the fills' part
# recomputed from the fills and the exogenous path alone.
def test_the_pnl_before_rebates_is_the_fills_to_the_horizon_plus_the_carry_after_it():
    calibration = _load_calibration()
    symbol, seed, minutes = "ETH-PERP", 3, 6.0
    r = calibration.run_maker(symbol, seed, minutes, calibration.MAKER_BPS)
    assert r["maker_fills"], "the check needs fills"
    spec = load_catalog().resolve(symbol)
    assert calibration.informed_horizon_s(spec) == spec.regime.informed_horizon_seconds == 60.0
    # The oracle: a fresh market of the same seed (no agent ever took liquidity, so its marks are the
    # run's), each fill's trade valued at the mark 60 s later, or at the run's end when that comes first.
    market = Market(spec, seed, DEFAULT_EPOCH)
    grid = market.grid
    end = market.now + minutes * 60.0
    held = 0.0
    for f in r["maker_fills"]:
        side = 1.0 if f.is_buy else -1.0
        at = min(f.time + 60.0, end)
        held += side * (market.mark_at(int(at * US_PER_S)) - grid.to_price(f.price)) * f.lots / grid.lot_scale
    hours = minutes / 60.0
    assert abs(r["to_horizon"] - held / hours) < 1e-9
    before = r["spread_income"] + r["inventory_pnl"]
    assert abs(r["to_horizon"] + r["carry"] - before) < 1e-9
    # the split is not the spread income (the mark at the fill) nor the whole figure (the run's end)
    assert abs(r["to_horizon"] - r["spread_income"]) > 1e-6 and abs(r["carry"]) > 1e-6
