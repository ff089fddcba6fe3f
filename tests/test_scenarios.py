"""Scenarios: the shipped files, their stated effects, the loader's errors, /_mock/scenario and the CLI.

Effects are checked on the manual clock under fixed seeds. Where an effect is random (a trend, a
volatility), the check compares against the stated number with a tolerance of several standard errors
of the estimate, and against the same market without the scenario.
"""

from __future__ import annotations

import math
import sys
import tomllib
from dataclasses import replace
from statistics import median

import pytest
from app_client import AppClient

from conftest import make_exchange
from pf_mock.api import AppOptions, create_app
from pf_mock.clock import to_ms
from pf_mock.exchange import Exchange
from pf_mock.model import SECONDS_PER_YEAR
from pf_mock import scenarios
from pf_mock.scenarios import (REPO_FOLDER, InvalidScenario, Jump, RegimeChange, ScenarioNotFound, apply_scenario,
                               list_scenarios, load_named, load_scenario, parse_scenario, shipped_names)
import pf_mock.server
from pf_mock.cli import main as cli_main
from pf_mock.server import ServeOptions, build_app, build_exchange
from contract_asserts import assert_error

SHIPPED = ["calm", "flash_crash", "illiquid_alt", "news_gap", "spread_blowout", "trending_down", "trending_up",
           "volatility_spike"]


def loaded(name: str, seed: int = 0) -> tuple[Exchange, float]:
    ex = make_exchange(seed)
    apply_scenario(ex, load_scenario(name))
    return ex, ex.now()


def move_at(ex: Exchange, symbol: str, t: float) -> float:
    """The fair value's last sample at instant ``t`` (after everything there) over the one just before it
    (which may share the instant: a whole minute is a sample of its own)."""
    market = ex.market(symbol)
    path = market.fair_samples(t - 60, t)
    at = [p for s, p in path if s == t]
    before = at[0] if t % 60 == 0 else [p for s, p in path if s < t][-1]
    return at[-1] / before


def realised_vol(ex: Exchange, symbol: str, t0: float, t1: float, step: float) -> float:
    market = ex.market(symbol)
    n = int(round((t1 - t0) / step))
    mids = [market.fair_at(t0 + i * step) for i in range(n + 1)]
    squares = sum(math.log(b / a) ** 2 for a, b in zip(mids, mids[1:]))
    return math.sqrt(squares / ((t1 - t0) / SECONDS_PER_YEAR))


def catalog_regime(ex: Exchange, symbol: str):
    return ex.spec(symbol).regime



# ---- the shipped set ------------------------------------------------------------------------------
def test_the_eight_scenarios_are_shipped_and_each_loads():
    assert shipped_names() == SHIPPED
    for scenario in list_scenarios():
        assert scenario.source == f"scenarios/{scenario.name}.toml"
        assert scenario.description and "\n" not in scenario.description
        assert scenario.seed is None            # loading a shipped scenario never wipes the agents
        ex = make_exchange()
        run = apply_scenario(ex, scenario)
        assert ex.scenario_name == scenario.name
        assert run.symbols == tuple(plan.symbol for plan in scenario.markets) and run.symbols
        for plan in scenario.markets:
            regime = ex.markets[plan.symbol].regime
            for key, value in plan.regime.items():
                assert getattr(regime, key) == value


def test_a_name_and_the_path_of_its_file_load_the_same_scenario():
    assert sorted(p.stem for p in REPO_FOLDER.glob("*.toml")) == SHIPPED
    by_name = load_scenario("flash_crash")
    by_path = load_scenario(str(REPO_FOLDER / "flash_crash.toml"))
    assert by_path.source == str(REPO_FOLDER / "flash_crash.toml")
    assert replace(by_path, source=by_name.source) == by_name


def test_calm_sets_a_25pct_volatility_without_drift_or_jumps():
    ex, t0 = loaded("calm")
    for symbol in ("BTC-PERP", "ETH-PERP"):
        regime = ex.market(symbol).regime
        assert (regime.volatility_annual, regime.spread_bps, regime.drift_bps_per_hour, regime.jump_rate_per_hour,
                regime.vol_of_vol) \
            == (0.25, 1.0, 0.0, 0.0, 0.0)
    ex.clock.advance(86_400)
    # 1,438 one-minute returns: the estimate's standard error is about 2% of 0.25
    vol = realised_vol(ex, "BTC-PERP", t0, t0 + 86_400 - 120, 60)
    assert 0.25 * 0.9 < vol < 0.25 * 1.1


@pytest.mark.parametrize("name, sign", [("trending_up", 1), ("trending_down", -1)])
def test_trends_move_the_mid_50_bps_an_hour_the_stated_way(name, sign):
    day = 86_400
    expected = sign * 50 * 24 / 1e4                  # +-0.12 in log terms over a day
    sd = 0.40 * math.sqrt(day / SECONDS_PER_YEAR)    # 0.021: the day's noise at 40% a year
    for seed in range(3):
        ex, _ = loaded(name, seed)
        starts = {}
        for symbol in ("BTC-PERP", "ETH-PERP"):
            market = ex.market(symbol)
            assert market.regime.drift_bps_per_hour == sign * 50.0
            assert market.regime.volatility_annual == 0.40
            starts[symbol] = market.fair_at(ex.now())
        ex.clock.advance(day)
        for symbol, start in starts.items():
            change = math.log(ex.market(symbol).fair_at(ex.now()) / start)
            assert sign * change > 0
            assert abs(change - expected) < 4 * sd, (seed, symbol, change)


def test_the_two_trends_differ_by_exactly_their_drift_under_one_seed():
    """The same seed draws the same noise, so the two trends' log moves differ by 2 x 1200 bps."""
    moves = {}
    for name in ("trending_up", "trending_down"):
        ex, t0 = loaded(name, 5)
        market = ex.market("ETH-PERP")
        start = market.fair_at(t0)
        ex.clock.advance(86_400)
        # t0 is a whole minute, and every whole minute is a sample of the fair value
        moves[name] = math.log(ex.market("ETH-PERP").fair_at(t0 + 86_400) / start)
    drift = 2 * 50e-4 / 3600 * 86_400
    assert moves["trending_up"] - moves["trending_down"] == pytest.approx(drift, abs=1e-9)


def test_flash_crash_drops_8pct_at_300s_thins_the_book_then_bounces_4pct_at_420s():
    ex, t0 = loaded("flash_crash")
    catalog = catalog_regime(ex, "BTC-PERP")
    ex.advance(299)
    assert ex.market("BTC-PERP").regime == catalog
    ex.advance(1)
    market = ex.market("BTC-PERP")
    assert move_at(ex, "BTC-PERP", t0 + 300) == pytest.approx(0.92, rel=1e-9)
    assert (market.regime.spread_bps, market.regime.depth_usd) == (20.0, 500.0)
    ex.advance(119)
    assert (market.regime.spread_bps, market.regime.depth_usd) == (20.0, 500.0)
    ex.advance(1)
    assert move_at(ex, "BTC-PERP", t0 + 420) == pytest.approx(1.04, rel=1e-9)
    assert ex.market("BTC-PERP").regime == catalog
    assert ex.market("BTC-PERP").is_quiet()       # nothing left pending


def test_news_gap_gaps_eth_up_5pct_at_120s_with_heavy_informed_flow_for_60s():
    ex, t0 = loaded("news_gap")
    catalog = catalog_regime(ex, "ETH-PERP")
    ex.advance(120)
    market = ex.market("ETH-PERP")
    assert move_at(ex, "ETH-PERP", t0 + 120) == pytest.approx(1.05, rel=1e-9)
    assert (market.regime.taker_rate_per_minute, market.regime.informed_share, market.regime.spread_bps) \
        == (300.0, 0.6, 8.0)
    # 300 takers in the minute after the news against the catalog's 90 in the minute before (each taker
    # prints one trade or more; the market keeps its last 500 trades, so count each minute at its end)
    before = sum(1 for t in market.trades if t0 + 60 < t.time <= t0 + 120)
    ex.advance(60)
    assert ex.market("ETH-PERP").regime == catalog
    heavy = sum(1 for t in market.trades if t0 + 120 < t.time <= t0 + 180)
    assert heavy > 2 * before > 0


def test_volatility_spike_raises_realised_vol_to_250pct_for_ten_minutes():
    ex, t0 = loaded("volatility_spike")
    ex.advance(1_260)
    # per-second returns: 600 of them in the spike (standard error ~3% of the estimate)
    before = realised_vol(ex, "BTC-PERP", t0, t0 + 60, 1)
    during = realised_vol(ex, "BTC-PERP", t0 + 60, t0 + 660, 1)
    after = realised_vol(ex, "BTC-PERP", t0 + 660, t0 + 1_260, 1)
    assert 2.5 * 0.85 < during < 2.5 * 1.15
    for calm in (before, after):
        assert 0.55 * 0.7 < calm < 0.55 * 1.3
    assert ex.market("BTC-PERP").regime == catalog_regime(ex, "BTC-PERP")


def book_samples(client: AppClient, ex: Exchange, symbol: str, start: float, end: float, step: float):
    """Median spread (bps) and median touch size (USD) of the book, sampled every ``step`` seconds."""
    client.post("/_mock/clock/advance", json={"seconds": start - (ex.now() - ex.started_at)})
    spreads, touches = [], []
    while ex.now() - ex.started_at < end:
        book = client.get(f"/v1/markets/{symbol}/orderbook?depth=1").json()
        spreads.append(book["spread_bps"])
        touches.extend([book["bids"][0]["notional_usd"], book["asks"][0]["notional_usd"]])
        client.post("/_mock/clock/advance", json={"seconds": step})
    return median(spreads), median(touches)


def test_illiquid_alt_widens_and_thins_wif_then_opens_a_liquidity_hole():
    results = {}
    for name in ("illiquid_alt", None):
        ex = make_exchange()
        with AppClient(create_app(ex, AppOptions())) as client:
            if name:
                assert client.post("/_mock/scenario", json={"name": name}).status_code == 200
            results[name] = [book_samples(client, ex, "WIF-PERP", lo, hi, 7)
                             for lo, hi in ((10, 290), (310, 410), (430, 600))]
    (spread, touch), (hole_spread, hole_touch), (spread_after, touch_after) = results["illiquid_alt"]
    assert 45 < spread < 90 and 45 < spread_after < 90            # stated: 60 bps
    assert 150 < touch < 600 and 150 < touch_after < 600          # stated: $300 a level
    assert 150 < hole_spread < 300                                # stated: 200 bps
    assert 25 < hole_touch < 100                                  # stated: $50 a level
    catalog_spread, catalog_touch = results[None][0]
    assert spread > 3 * catalog_spread and touch < catalog_touch / 3


def test_spread_blowout_pauses_a_session_with_max_spread_then_it_resumes(client, exchange, auth):
    body = client.post("/_mock/scenario", json={"name": "spread_blowout"}).json()
    assert body["scheduled"] == [{"symbol": "BTC-PERP", "at": to_ms(exchange.now() + 60), "at_seconds": 60.0,
                                  "type": "regime", "changes": {"spread_bps": 30.0, "depth_usd": 1000.0},
                                  "duration_seconds": 180.0, "restore_at": to_ms(exchange.now() + 240)}]
    mid = client.get("/v1/markets/BTC-PERP/price").json()["mid"]
    quote = client.post("/v1/mm/quote", headers=auth, json={
        "symbol": "BTC-PERP", "bid_price": mid * (1 - 2.5e-4), "bid_size": 100, "ask_price": mid * (1 + 2.5e-4),
        "ask_size": 100, "auto_refresh": True, "refresh_interval_seconds": 5, "max_spread_bps": 10})
    assert quote.status_code == 200, quote.text

    def status():
        session = client.get("/v1/mm/session?symbol=BTC-PERP", headers=auth).json()
        orders = client.get("/v1/mm/orders?symbol=BTC-PERP", headers=auth).json()
        return session["status"], session["reason"], orders

    def advance_to(seconds: float):
        client.post("/_mock/clock/advance", json={"seconds": exchange.started_at + seconds - exchange.now()})

    advance_to(55)
    assert status()[0] == "active"
    for t in range(61, 240, 20):
        advance_to(t)
        state, reason, orders = status()
        assert (state, reason) == ("paused", "market_spread_wide"), t
        assert orders["orders"] == []
    advance_to(250)                           # restored at 240; a refresh tick has passed since
    state, reason, orders = status()
    assert state == "active" and reason is None
    assert orders["orders"]


# ---- replacing, reset, the answer -----------------------------------------------------------------
def test_a_new_scenario_drops_the_old_ones_events_and_restores_its_markets():
    ex, t0 = loaded("flash_crash")
    ex.advance(10)
    run = apply_scenario(ex, load_scenario("news_gap"))
    assert ex.scenario_name == "news_gap" and run.symbols == ("ETH-PERP",)
    btc = ex.market("BTC-PERP")
    start = btc.fair_at(ex.now())
    ex.advance(400)
    # no -8% at t+300 and no thin book: the flash crash is gone, BTC keeps its catalog regime
    assert btc.regime == catalog_regime(ex, "BTC-PERP")
    path = [p for _, p in btc.fair_samples(t0, ex.now())]
    assert all(abs(b / a - 1) < 0.01 for a, b in zip(path, path[1:]))
    assert abs(btc.fair_at(ex.now()) / start - 1) < 0.05
    assert move_at(ex, "ETH-PERP", t0 + 10 + 120) == pytest.approx(1.05, rel=1e-9)


def test_loading_a_scenario_resets_a_market_the_user_changed_by_hand():
    ex = make_exchange()
    ex.set_regime("BTC-PERP", {"volatility_annual": 3.0, "spread_bps": 50.0})
    apply_scenario(ex, load_scenario("calm"))
    regime = ex.market("BTC-PERP").regime
    assert regime == catalog_regime(ex, "BTC-PERP").with_changes(
        volatility_annual=0.25, spread_bps=1.0, drift_bps_per_hour=0.0, jump_rate_per_hour=0.0, vol_of_vol=0.0)


def test_a_seed_resets_the_exchange_first_and_the_answer_says_so(tmp_path, client, exchange, auth):
    client.get("/v1/account", headers=auth)
    client.post("/_mock/clock/advance", json={"seconds": 30})
    assert exchange.agents
    document = {"name": "seeded", "description": "Resets with seed 7, then jumps BTC-PERP 1% at t+10 s.",
                "seed": 7, "markets": {"btc": {"events": [{"at_seconds": 10, "type": "jump", "move_bps": 100}]}}}
    r = client.post("/_mock/scenario", json={"scenario": document})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["scenario"], body["reset"], body["seed"]) == ("seeded", True, 7)
    assert body["description"] == document["description"]
    assert body["loaded_at"] == to_ms(exchange.clock.start)
    assert not exchange.agents and exchange.seed == 7
    state = client.get("/_mock/state").json()
    assert (state["seed"], state["scenario"], state["agents"]) == (7, "seeded", 0)
    client.post("/_mock/clock/advance", json={"seconds": 10})
    assert move_at(exchange, "BTC-PERP", exchange.started_at + 10) == pytest.approx(1.01, rel=1e-9)
    # a later reset forgets the scenario too
    client.post("/_mock/reset", json={})
    assert client.get("/_mock/state").json()["scenario"] is None


def test_the_http_answer_names_the_scenario_and_what_it_scheduled(client, exchange):
    r = client.post("/_mock/scenario", json={"name": "flash_crash"})
    assert r.status_code == 200, r.text
    body = r.json()
    now = exchange.now()
    assert body["scenario"] == "flash_crash" and body["reset"] is False and body["seed"] == 0
    assert body["description"].startswith("BTC-PERP drops 8% at t+300 s")
    assert body["loaded_at"] == to_ms(now)
    assert body["regimes"]["BTC-PERP"] == exchange.market("BTC-PERP").regime.as_dict()
    assert [(e["type"], e["at"], e.get("move_bps")) for e in body["scheduled"]] == [
        ("jump", to_ms(now + 300), -800.0), ("regime", to_ms(now + 300), None), ("jump", to_ms(now + 420), 400.0)]
    assert body["scheduled"][1]["changes"] == {"spread_bps": 20.0, "depth_usd": 500.0}
    assert body["scheduled"][1]["restore_at"] == to_ms(now + 420)
    assert client.get("/_mock/state").json()["scenario"] == "flash_crash"


def test_events_at_zero_happen_at_load(client, exchange):
    now = exchange.now()
    start = exchange.market("SOL-PERP").fair_at(now)
    document = {"name": "now", "description": "SOL-PERP up 2% at once.",
                "markets": {"SOL-PERP": {"events": [{"at_seconds": 0, "type": "jump", "move_bps": 200}]}}}
    assert client.post("/_mock/scenario", json={"scenario": document}).status_code == 200
    assert exchange.market("SOL-PERP").fair_at(now) == pytest.approx(start * 1.02, rel=1e-9)


# ---- HTTP errors: nothing applied -----------------------------------------------------------------
def snapshot(client: AppClient, ex: Exchange) -> tuple:
    return (client.get("/_mock/state").json(),
            {s: (m.regime, m.is_quiet(), m.mid) for s, m in ex.markets.items()})


def test_an_unknown_name_is_404_and_changes_nothing(client, exchange):
    client.post("/_mock/scenario", json={"name": "calm"})
    before = snapshot(client, exchange)
    for name in ("no_such_scenario", "../pyproject", "calm.toml", "/etc/passwd"):
        body = assert_error(client.post("/_mock/scenario", json={"name": name}), 404, "scenario_not_found")
        assert "calm" in body["message"] and "flash_crash" in body["message"]     # says what exists
    assert snapshot(client, exchange) == before


BAD_INLINE = [
    ({"description": "x", "markets": {}}, "name", "expected 1-64 of"),
    ({"name": "x", "description": "x", "extra": 1}, "extra", "expected only the fields"),
    ({"name": "x", "description": "x", "markets": {"NOPE-PERP": {}}}, "markets.NOPE-PERP", "market symbol"),
    ({"name": "x", "description": "x", "markets": {"BTC-PERP": {"regime": {"spread_bps": 0}}}},
     "markets.BTC-PERP.regime.spread_bps", "expected a number above 0 and at most 10000"),
    ({"name": "x", "description": "x", "markets": {"BTC-PERP": {"regime": {"levels": 5}}}},
     "markets.BTC-PERP.regime.levels", "expected a regime field"),
    ({"name": "x", "description": "x", "markets": {"ETH-PERP": {"events": [
        {"at_seconds": 5, "type": "jump", "move_bps": 10},
        {"at_seconds": 5, "type": "regime", "spread_bps": 2},
        {"at_seconds": 9, "type": "jump", "move_bps": "-800"}]}}},
     "markets.ETH-PERP.events[2].move_bps", "expected a number above -10000 and at most 100000"),
    ({"name": "x", "description": "x", "markets": {"ETH-PERP": {"events": [
        {"at_seconds": -1, "type": "jump", "move_bps": 10}]}}},
     "markets.ETH-PERP.events[0].at_seconds", "zero or more"),
    ({"name": "x", "description": "x", "markets": {"ETH-PERP": {"events": [{"at_seconds": 1, "type": "halt"}]}}},
     "markets.ETH-PERP.events[0].type", "expected one of 'jump', 'regime'"),
]


@pytest.mark.parametrize("document, field, expected", BAD_INLINE)
def test_a_malformed_inline_scenario_is_400_naming_the_field_and_applies_nothing(client, exchange, document,
                                                                                  field, expected):
    client.post("/_mock/scenario", json={"name": "spread_blowout"})
    exchange.market("ETH-PERP")
    before = snapshot(client, exchange)
    # a valid first market must not be applied either when a later part is wrong
    document = {**document, "markets": {"SOL-PERP": {"regime": {"spread_bps": 9}}, **document.get("markets", {})}}
    body = assert_error(client.post("/_mock/scenario", json={"scenario": document}), 400, "invalid_scenario")
    assert body["field"] == field
    assert body["message"].startswith(f"inline scenario: {field}: ")
    assert expected in body["message"]
    assert snapshot(client, exchange) == before
    assert "SOL-PERP" not in exchange.markets


@pytest.mark.parametrize("body", [{}, {"name": "calm", "scenario": {"name": "calm", "description": "x"}},
                                  {"name": 5}, {"scenario": [1, 2]}])
def test_a_body_without_exactly_one_of_name_and_scenario_is_400(client, exchange, body):
    before = snapshot(client, exchange)
    answer = assert_error(client.post("/_mock/scenario", json=body), 400, "invalid_request")
    assert answer["field"] in ("name", "scenario")
    assert snapshot(client, exchange) == before


# ---- malformed files ------------------------------------------------------------------------------
GOOD_TOP = 'name = "t"\ndescription = "A test."\n'
BAD_FILES = [
    ("bad_toml", GOOD_TOP + "[markets.BTC-PERP\nregime = {}\n", None, "not valid TOML", "line 3"),
    ("unknown_field", GOOD_TOP + "[markets.BTC-PERP]\nregime = { spread_bps = 2.0 }\nspeed = 3\n",
     "markets.BTC-PERP.speed", "expected only the fields regime, events", "'speed'"),
    ("wrong_type", GOOD_TOP + '[markets.BTC-PERP]\nregime = { volatility_annual = "high" }\n',
     "markets.BTC-PERP.regime.volatility_annual", "expected a number at least 0 and at most 20", "'high'"),
    ("unknown_symbol", GOOD_TOP + "[markets.BTC-PERP]\nregime = { spread_bps = 2.0 }\n[markets.ZZZ-PERP]\n",
     "markets.ZZZ-PERP", "expected a market symbol from the catalog", "'ZZZ-PERP'"),
    ("negative_time", GOOD_TOP + '[[markets.BTC-PERP.events]]\nat_seconds = 1\ntype = "jump"\nmove_bps = 5\n'
     '[[markets.BTC-PERP.events]]\nat_seconds = -30\ntype = "jump"\nmove_bps = 5\n',
     "markets.BTC-PERP.events[1].at_seconds", "expected seconds after the load: a number, zero or more", "-30"),
    ("out_of_range", GOOD_TOP + '[[markets.ETH-PERP.events]]\nat_seconds = 10\ntype = "regime"\n'
     "informed_share = 1.5\nduration_seconds = 60\n",
     "markets.ETH-PERP.events[0].informed_share", "expected a number at least 0 and at most 1", "1.5"),
    ("missing_description", 'name = "t"\n', "description", "expected a one-line text", None),
    ("bad_duration", GOOD_TOP + '[[markets.ETH-PERP.events]]\nat_seconds = 10\ntype = "regime"\n'
     "spread_bps = 5\nduration_seconds = 0\n",
     "markets.ETH-PERP.events[0].duration_seconds", "expected a number of seconds above 0", "0"),
]


@pytest.mark.parametrize("stem, text, field, expected, got", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_a_malformed_file_names_the_file_the_field_and_what_was_expected(tmp_path, stem, text, field, expected, got):
    path = tmp_path / f"{stem}.toml"
    path.write_text(text)
    ex = make_exchange()
    ex.market("BTC-PERP")
    before = {s: (m.regime, m.is_quiet(), m.mid) for s, m in ex.markets.items()}
    with pytest.raises(InvalidScenario) as caught:
        apply_scenario(ex, load_scenario(str(path)))
    error = caught.value
    assert error.field == field and error.status == 400 and error.code == "invalid_scenario"
    assert error.message.startswith(f"{path}: " + (f"{field}: " if field else ""))
    assert expected in error.message
    if got is not None:
        assert got in error.message
    assert ex.scenario_name is None
    assert {s: (m.regime, m.is_quiet(), m.mid) for s, m in ex.markets.items()} == before
    # --scenario with the same file fails before a server exists
    with pytest.raises(InvalidScenario):
        build_exchange(ServeOptions(clock="manual", scenario=str(path)))


def test_installed_the_scenarios_come_from_the_data_package(tmp_path, monkeypatch):
    """Outside a checkout the loader reads the pf_mock_scenarios package that pyproject.toml installs."""
    setuptools = tomllib.loads((REPO_FOLDER.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"]["pf_mock_scenarios"] == "scenarios"
    assert "pf_mock_scenarios" in setuptools["packages"]
    assert setuptools["package-data"]["pf_mock_scenarios"] == ["*.toml"]
    # A stand-in package under a name of its own: pf-mock's own install (editable in a checkout, where
    # pf_mock_scenarios is a namespace path) must not decide what this test sees.
    fake = "pf_mock_scenarios_installed_copy"
    package = tmp_path / "site" / fake
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("calm", "news_gap"):
        (package / f"{name}.toml").write_text((REPO_FOLDER / f"{name}.toml").read_text())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(scenarios, "SHIPPED_PACKAGE", fake)
    monkeypatch.setattr(scenarios, "REPO_FOLDER", tmp_path / "not_a_checkout" / "scenarios")
    try:
        assert shipped_names() == ["calm", "news_gap"]
        assert load_scenario("news_gap") == load_named("news_gap")
        assert load_scenario("news_gap").description.startswith("ETH-PERP gaps up 5%")
        with pytest.raises(ScenarioNotFound):
            load_scenario("flash_crash")
    finally:
        sys.modules.pop(fake, None)


def test_a_missing_file_and_an_unknown_name_are_not_found(tmp_path):
    with pytest.raises(ScenarioNotFound, match="nowhere.toml"):
        load_scenario(str(tmp_path / "nowhere.toml"))
    with pytest.raises(ScenarioNotFound, match="no_such"):
        load_scenario("no_such")


def test_parse_scenario_builds_the_events_in_order():
    scenario = parse_scenario({"name": "p", "description": "d", "markets": {"eth": {
        "regime": {"spread_bps": 3},
        "events": [{"at_seconds": 5, "type": "jump", "move_bps": -10},
                   {"at_seconds": 5, "type": "regime", "depth_usd": 100, "duration_seconds": 2.5}]}}}, "test")
    (plan,) = scenario.markets
    assert plan.symbol == "ETH-PERP" and plan.regime == {"spread_bps": 3.0}
    assert plan.events == (Jump(5.0, -10.0), RegimeChange(5.0, {"depth_usd": 100.0}, 2.5))
    with pytest.raises(InvalidScenario, match="ETH-PERP is already named"):
        parse_scenario({"name": "p", "description": "d", "markets": {"eth": {}, "ETH-PERP": {}}}, "test")


# ---- the command line -----------------------------------------------------------------------------
# The two commands below run in this process, through the program's own entry (``pf_mock.cli.main``): what
# they print and return is the subject, not the interpreter's start (tests/test_cli.py starts the program as a
# process, through both of its entry points).
def test_pf_mock_scenarios_lists_all_eight_with_their_descriptions(capsys, monkeypatch):
    monkeypatch.chdir(REPO_FOLDER.parent)
    code = cli_main(["scenarios"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == SHIPPED
    for line, scenario in zip(lines, list_scenarios()):
        assert line.endswith(scenario.description)


def test_serve_with_a_malformed_scenario_exits_with_a_message_and_no_traceback(tmp_path, capsys, monkeypatch):
    path = tmp_path / "broken.toml"
    path.write_text(GOOD_TOP + "[markets.BTC-PERP]\nregime = { spread_bps = -3 }\n")
    started = []        # what would build, bind or run a server: none of it may happen
    for name in ("serve", "build_app", "listen"):
        monkeypatch.setattr(pf_mock.server, name, lambda *args, _name=name, **kwargs: started.append(_name))
    monkeypatch.chdir(REPO_FOLDER.parent)
    code = cli_main(["serve", "--port", "0", "--scenario", str(path)])     # an exception here fails the test
    out, err = capsys.readouterr()
    assert code != 0 and started == []
    assert "Traceback" not in err and "ready" not in out
    assert str(path) in err and "markets.BTC-PERP.regime.spread_bps" in err
    assert "expected a number above 0" in err


@pytest.mark.parametrize("given", ["flash_crash", str(REPO_FOLDER / "flash_crash.toml")])
def test_serve_scenario_is_in_force_from_the_start(given):
    app = build_app(ServeOptions(clock="manual", seed=3, scenario=given))
    ex = app.state.exchange
    with AppClient(app) as client:
        state = client.get("/_mock/state").json()
        assert (state["scenario"], state["seed"]) == ("flash_crash", 3)
        client.post("/_mock/clock/advance", json={"seconds": 300})
        assert move_at(ex, "BTC-PERP", ex.started_at + 300) == pytest.approx(0.92, rel=1e-9)
