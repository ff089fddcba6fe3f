"""The seed's calibration figure for BTC-PERP (see benchmarks/calibration.py)."""

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
def rows():
    return _load_calibration().run(seed=0, minutes=60, distances=(2.5, 5.0, 10.0, 25.0))


def test_quotes_at_2_5_bps_fill_40_to_80_percent_per_side(rows):
    near = rows[0]
    assert near["distance_bps"] == 2.5
    assert 0.40 <= near["bid_fill_share"] <= 0.80, near
    assert 0.40 <= near["ask_fill_share"] <= 0.80, near


def test_fill_share_falls_with_distance(rows):
    shares = [r["fill_share"] for r in rows]
    assert all(a > b for a, b in zip(shares, shares[1:])), shares


def test_fills_near_the_mid_are_adversely_selected(rows):
    near = rows[0]
    assert near["fills"] > 0
    assert near["move_bps"] < 0, near
