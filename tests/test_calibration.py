"""The model's report card (benchmarks/calibration.py), held to the figures it must keep: the seed's
fill share, adverse selection that makers feel, a smooth fill curve, and skewing that pays."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "calibration.py"


def _load_calibration():
    spec = importlib.util.spec_from_file_location("pf_mock_calibration", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report():
    calibration = _load_calibration()
    return {"BTC-PERP": calibration.measure("BTC-PERP", seeds=2, minutes=60),
            "ETH-PERP": calibration.measure("ETH-PERP", seeds=1, minutes=60)}


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP"])
def test_quotes_at_2_5_bps_fill_40_to_80_percent_per_side(report, symbol):
    bid, ask = report[symbol]["shares"][2.5]
    assert 0.40 <= bid <= 0.80 and 0.40 <= ask <= 0.80, (bid, ask)


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP"])
def test_the_fill_curve_falls_smoothly_and_far_quotes_still_fill_now_and_then(report, symbol):
    shares = report[symbol]["shares"]
    means = [sum(shares[d]) / 2 for d in (2.5, 5.0, 10.0, 20.0)]
    assert all(a > b for a, b in zip(means, means[1:])), means
    assert shares[10.0][0] > 0 and shares[10.0][1] > 0
    assert means[3] > 0, "a quote 20 bps out should fill now and then"
    assert sum(shares[50.0]) / 2 < means[3]


@pytest.mark.parametrize("symbol", ["BTC-PERP", "ETH-PERP"])
def test_the_60s_markout_takes_40_to_100_percent_of_the_edge(report, symbol):
    r = report[symbol]
    assert r["edge_bps"] > 0
    assert r["markouts"][1] < 0 and r["markouts"][60] < r["markouts"][10] < 0, r["markouts"]
    assert 0.40 <= r["taken_back"] <= 1.00, r["taken_back"]
    # What is left of the edge after a minute is less than the rebate: the naive maker lives on it.
    assert r["edge_bps"] + r["markouts"][60] < 2.5


def test_skewing_against_inventory_pays(report):
    r = report["BTC-PERP"]
    assert r["skewed"]["net"] > r["naive"]["net"], (r["skewed"], r["naive"])
    assert abs(r["skewed"]["inventory_pnl"]) < abs(r["naive"]["inventory_pnl"])
