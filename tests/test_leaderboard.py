"""``GET /_mock/leaderboard``: every agent, ranked by the net PnL REST reports for each, with the
figures its own routes agree with; behind the same rights as the rest of /_mock."""

from __future__ import annotations

import pytest

from contract_asserts import assert_error
from pf_mock.api import AppOptions, create_app
from pf_mock.testing import in_process

from conftest import make_exchange

WINNER = {"Authorization": "Bearer pf_test_winner_0001"}
LOSER = {"Authorization": "Bearer pf_test_loser_00002"}
IDLE: dict = {}        # the in-process client's own key: an agent that never trades is listed too


def quote(client, headers, bps: float, **extra) -> dict:
    mid = client.get("/v1/markets/BTC-PERP/price").json()["mid"]
    answer = client.post("/v1/mm/quote", headers=headers, json={
        "symbol": "BTC-PERP", "bid_price": mid * (1 - bps / 1e4), "bid_size": 200,
        "ask_price": mid * (1 + bps / 1e4), "ask_size": 200, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_agents_are_ranked_by_the_net_pnl_rest_reports() -> None:
    with in_process(seed=11) as mock:
        c = mock.client
        # the winner sold $1,000 just before the drop (a quote's own fill is adverse now: the market picks
        # stale quotes off), then quotes like the loser
        mid = c.get("/v1/markets/BTC-PERP/price").json()["mid"]
        sold = c.post("/v1/mm/quote", headers=WINNER, json={"symbol": "BTC-PERP", "ask_price": mid * 0.999,
                                                             "ask_size": 1000, "time_in_force": "IOC"})
        assert sold.status_code == 200, sold.text
        quote(c, WINNER, 4, auto_refresh=True)
        quote(c, LOSER, 2, session_stop_loss_usd=0.5)
        mock.jump("BTC-PERP", -60)                             # runs through both bids; the loser stops out
        mock.advance(120)
        board = mock._call("GET", "/_mock/leaderboard")
        rows = board["agents"]
        assert [r["rank"] for r in rows] == [1, 2, 3]
        rest = {}
        for headers in (WINNER, LOSER, IDLE):
            agent_id = c.get("/v1/account", headers=headers).json()["agent_id"]
            rest[agent_id] = c.get("/v1/mm/pnl", headers=headers).json()
        assert len({r["agent_id"] for r in rows}) == 3 and set(rest) == {r["agent_id"] for r in rows}
        assert [r["agent_id"] for r in rows] == sorted(rest, key=lambda a: -rest[a]["net_pnl"])
        assert rows[0]["net_pnl"] > 0 == rows[1]["net_pnl"] > rows[2]["net_pnl"]    # a real ranking, no ties
        for row in rows:
            pnl = rest[row["agent_id"]]
            assert row["net_pnl"] == pytest.approx(pnl["net_pnl"], abs=1e-6)
            assert row["volume_usd"] == pytest.approx(pnl["volume_usd"], abs=1e-6)
            assert row["fills"] == pnl["fills"]
        by_id = {r["agent_id"]: r for r in rows}
        loser = by_id[c.get("/v1/account", headers=LOSER).json()["agent_id"]]
        assert loser["guardrail_trips_by_rule"]["session_stop_loss_usd"] == 1
        assert loser["guardrail_trips"] == sum(loser["guardrail_trips_by_rule"].values())
        assert c.get("/v1/mm/session", headers=LOSER, params={"symbol": "BTC-PERP"}).json()["status"] == "stopped"
        idle = by_id[c.get("/v1/account", headers=IDLE).json()["agent_id"]]
        assert (idle["net_pnl"], idle["fills"], idle["fill_rate"], idle["guardrail_trips"]) == (0.0, 0, None, 0)
        assert board["timestamp"] == mock.state()["clock"]["now"]


def test_the_leaderboard_needs_the_admin_rights() -> None:
    from fastapi.testclient import TestClient
    with TestClient(create_app(make_exchange(), AppOptions(admin=False)), raise_server_exceptions=False) as c:
        assert_error(c.get("/_mock/leaderboard"), 404, "not_found")
    with TestClient(create_app(make_exchange(), AppOptions(admin_token="sesame")), raise_server_exceptions=False) as c:
        assert_error(c.get("/_mock/leaderboard"), 401, "unauthorized")
        assert_error(c.get("/_mock/leaderboard", headers={"X-Admin-Token": "wrong"}), 401, "unauthorized")
        assert c.get("/_mock/leaderboard", headers={"X-Admin-Token": "sesame"}).json() == {"agents": [], "timestamp": 1767225600000}
