"""The rule-based MCP orchestrator (clients/mcp_orchestrator.py) through two scenarios on the manual clock:
it pauses around the news, pauses while the market is wide, widens its spread when volatility rises,
hedges, and ends flat with no orders. Its claims are checked against the REST API, and the scenarios'
own figures, not against its own report alone."""

from __future__ import annotations

from dataclasses import asdict

import anyio
import pytest

from clients.mcp_orchestrator import Orchestrator, Rules, main
from mcp_helpers import app_for, mcp_client, rest_client
from pf_mock.testing import run_server

RULES = Rules()


async def orchestrate(scenario: str, seconds: float, seed: int = 0):
    """Run the orchestrator over /mcp in process; then read the agent's fills, orders, position and PnL
    over REST."""
    app = app_for(seed=seed, mcp_admin=True)
    async with mcp_client(app) as client:
        report = await Orchestrator(client, RULES).run(scenario, seconds)
    async with rest_client(app) as rest:
        fills = (await rest.get("/v1/mm/fills", params={"limit": 1000})).json()["fills"]
        orders = (await rest.get("/v1/mm/orders")).json()["orders"]
        inventory = (await rest.get("/v1/mm/inventory", params={"symbol": "BTC-PERP"})).json()
        pnl = (await rest.get("/v1/mm/pnl", params={"symbol": "BTC-PERP"})).json()
    return report, fills, orders, inventory, pnl


def in_window(t: float, event_at: float) -> bool:
    return event_at - RULES.news_before_s <= t <= event_at + RULES.news_after_s


def fills_between(fills: list[dict], start_ms: int, t0: float, t1: float) -> list[dict]:
    """Fills strictly after ``t0`` and before ``t1`` (seconds after ``start_ms``)."""
    return [f for f in fills if start_ms + t0 * 1000 < f["timestamp"] < start_ms + t1 * 1000]


def ends_flat(report, orders, inventory, pnl) -> None:
    assert orders == [] and report.open_orders == 0
    assert inventory["position"] == 0 and report.final_position == 0
    assert report.pnl == pnl
    assert report.errors == []


@pytest.fixture(scope="module")
def flash_crash():
    return anyio.run(orchestrate, "flash_crash", 600)


def test_flash_crash_pauses_around_the_news(flash_crash):
    report, fills, *_ = flash_crash
    crash, bounce = 300, 420                         # scenarios/flash_crash.toml
    assert report.news_at_seconds == [crash, bounce]
    for step in report.steps:
        news = in_window(step.t_seconds, crash) or in_window(step.t_seconds, bounce)
        assert (step.action == "pause_news") == news, step
        if not news:        # outside the news, the market's own spread decides
            wide = step.market_spread_bps is None or step.market_spread_bps > RULES.max_market_spread_bps
            assert step.action == ("pause_spread" if wide else "quote"), step
    assert [s.action for s in report.steps if crash + RULES.news_after_s < s.t_seconds < bounce - RULES.news_before_s] \
        == ["pause_spread"] * 2                      # between the windows the crashed book is 20 bps wide

    first_pause = min(s.t_seconds for s in report.steps if s.action != "quote")
    resumed = min(s.t_seconds for s in report.steps if s.action == "quote" and s.t_seconds > first_pause)
    start_ms = report.start_ms
    assert fills_between(fills, start_ms, first_pause, resumed) == []       # nothing rested to be run over
    before_news = [f for f in fills if f["timestamp"] <= start_ms + first_pause * 1000]
    position = sum((1 if f["side"] == "buy" else -1) * f["size"] for f in before_news)
    assert position == pytest.approx(0, abs=1e-9)    # flat going into the news
    assert any(f["kind"] == "hedge" for f in before_news)


def test_flash_crash_widens_the_spread_as_volatility_rises(flash_crash):
    report, *_ = flash_crash
    quoted = [s for s in report.steps if s.action == "quote"]
    calm = [s.half_spread_bps for s in quoted if s.t_seconds < 270]
    after = [s for s in quoted if 480 < s.t_seconds <= 660]
    assert calm and after
    assert max(calm) < 15                            # a quiet BTC-PERP: a few bps
    # The crash's minutes are in the last five 1-minute candles until t+720 s: their ranges widen the
    # half-spread well past the calm one. (The 4% bounce at t+420 s falls on a minute's boundary, so it
    # shows in the candles only as far as trades print on both sides of it.)
    # (twice, not three times: a calm minute's range now includes the heavy-tailed takers' sweeps)
    assert min(s.half_spread_bps for s in after) > 2 * max(calm), [(s.t_seconds, s.half_spread_bps) for s in after]
    for step in quoted:                              # and the quotes posted are that far from the mid
        posted = step.posted
        assert posted["bid_price"] <= step.mid * (1 - step.half_spread_bps / 1e4) + 1e-6
        assert posted["ask_price"] >= step.mid * (1 + step.half_spread_bps / 1e4) - 1e-6


def test_flash_crash_hedges_and_ends_flat(flash_crash):
    report, fills, orders, inventory, pnl = flash_crash
    ends_flat(report, orders, inventory, pnl)
    for step in report.steps:
        if abs(step.net_delta_usd) > RULES.hedge_threshold_usd:
            assert step.hedged, step
    assert sum(1 for f in fills if f["kind"] == "hedge") >= sum(s.hedged for s in report.steps) > 0
    assert pnl["net_pnl"] == pytest.approx(pnl["spread_income"] + pnl["rebates"] + pnl["inventory_pnl"]
                                           - pnl["hedge_cost"], abs=1e-6)


def test_spread_blowout_pauses_while_the_market_is_wide():
    report, fills, orders, inventory, pnl = anyio.run(orchestrate, "spread_blowout", 330)
    blowout, restored = 60, 240                      # scenarios/spread_blowout.toml: 30 bps from t+60 s to t+240 s
    assert report.news_at_seconds == [blowout]
    actions = {s.t_seconds: s.action for s in report.steps}
    for t, action in actions.items():
        if in_window(t, blowout):
            assert action == "pause_news", t
        elif blowout <= t < restored:
            assert action == "pause_spread", t
        else:
            assert action == "quote", t
    assert fills_between(fills, report.start_ms, blowout - RULES.news_before_s, restored) == []
    ends_flat(report, orders, inventory, pnl)


def test_same_seed_same_run():
    first = anyio.run(orchestrate, "spread_blowout", 200, 4)
    second = anyio.run(orchestrate, "spread_blowout", 200, 4)
    assert asdict(first[0]) == asdict(second[0])
    assert first[1:] == second[1:]


def test_the_command_line_runs_against_a_served_mock(monkeypatch, capsys):
    with run_server(mcp_admin=True) as srv:
        monkeypatch.setenv("PF_BASE", srv.base_url)
        monkeypatch.setenv("PF_API_KEY", srv.api_key)
        code = main(["--scenario", "spread_blowout", "--seconds", "60"])
        orders = srv.client.get("/v1/mm/orders").json()["orders"]
    out = capsys.readouterr().out
    assert code == 0 and orders == []
    assert "scenario spread_blowout: news at t+60s" in out
    assert "ended with position 0 and 0 open orders" in out


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("options, says", [
    ({}, "offers no mock_* tools over MCP; start one with: pf-mock serve --clock manual --mcp-admin"),
    ({"mcp_admin": True, "clock": "realtime"}, "runs a realtime clock; start one with: pf-mock serve --clock manual"),
    (None, "no pf-mock answers at"),
])
def test_a_server_it_cannot_run_against_is_one_line_and_exit_2(monkeypatch, capsys, options, says):
    monkeypatch.setenv("PF_API_KEY", "pf_test_orchestrator_1")
    if options is None:
        monkeypatch.setenv("PF_BASE", f"http://127.0.0.1:{free_port()}")
        code = main(["--seconds", "20"])
    else:
        with run_server(**options) as srv:
            monkeypatch.setenv("PF_BASE", srv.base_url)
            code = main(["--seconds", "20"])
    err = capsys.readouterr().err
    assert code == 2
    assert says in err and err.count("\n") == 1 and "Traceback" not in err, err
