"""The reference maker's PnL before rebates split at the informed takers' horizon
(benchmarks/calibration.py): the fills' part recomputed from the fills and the exogenous path alone."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH, US_PER_S
from pf_mock.market import Market

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "calibration.py"


def _load_calibration():
    spec = importlib.util.spec_from_file_location("pf_mock_calibration_split", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
