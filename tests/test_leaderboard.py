"""``GET /_mock/leaderboard``: every agent, ranked by the net PnL REST reports for each, with the
figures its own routes agree with; behind the same rights as the rest of /_mock."""

from __future__ import annotations

import pytest

from contract_asserts import assert_error
from pf_mock.api import AppOptions, create_app
from app_client import in_process

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
    from app_client import AppClient
    with AppClient(create_app(make_exchange(), AppOptions(admin=False))) as c:
        assert_error(c.get("/_mock/leaderboard"), 404, "not_found")
    with AppClient(create_app(make_exchange(), AppOptions(admin_token="sesame"))) as c:
        assert_error(c.get("/_mock/leaderboard"), 401, "unauthorized")
        assert_error(c.get("/_mock/leaderboard", headers={"X-Admin-Token": "wrong"}), 401, "unauthorized")
        assert c.get("/_mock/leaderboard", headers={"X-Admin-Token": "sesame"}).json() == {"agents": [], "total": 0, "next_cursor": None, "timestamp": 1767225600000}


# ---- paging and the cheap ranking --------------------------------------------------------------
def busy_exchange(agents: int = 30):
    """Agents with fills on two markets (and some with none), at a later instant."""
    from pf_mock.exchange import Exchange, ExchangeConfig
    from pf_mock.messages import QuoteRequest

    ex = Exchange(ExchangeConfig(seed=4))
    for i in range(agents):
        me = ex.authenticate(f"pf_test_board_{i:04d}")
        if i % 3:
            symbol = "BTC-PERP" if i % 2 else "ETH-PERP"
            mid = ex.market(symbol).mid
            ex.quote(me, QuoteRequest(symbol, bid_price=mid * (1 - i * 1e-5), bid_size=100 + i,
                                      ask_price=mid * (1 + i * 1e-5), ask_size=100 + i))
            if i % 4 == 0:
                other = "ETH-PERP" if symbol == "BTC-PERP" else "BTC-PERP"
                mid = ex.market(other).mid
                ex.quote(me, QuoteRequest(other, bid_price=mid * 1.0005, bid_size=50))    # crosses: a fill
    ex.jump("BTC-PERP", -15)
    ex.advance(60)
    return ex


def test_net_pnl_is_the_contracts_to_the_bit():
    from pf_mock.leaderboard import leaderboard, ranking
    from pf_mock.views import usd

    ex = busy_exchange()
    assert any(a.ledgers for a in ex.agents.values()) and any(len(a.ledgers) > 1 for a in ex.agents.values())
    ranked = ranking(ex)
    assert len(ranked) == len(ex.agents)
    for minus_net, agent_id in ranked:
        assert -minus_net == ex.pnl(ex.agents[agent_id]).window.net_pnl         # the same bits, not just close
    board = leaderboard(ex, limit=1000)
    assert board.total == len(ex.agents) == len(board.agents)
    assert [r.net_pnl for r in board.agents] == [usd(ex.pnl(ex.agents[r.agent_id]).window.net_pnl)
                                                 for r in board.agents]
    assert [r.agent_id for r in board.agents] == [agent_id for _, agent_id in sorted(
        (-ex.pnl(a).window.net_pnl, a.agent_id) for a in ex.agents.values())]


def test_pages_cover_the_ranking_once_in_order(client):
    for i in range(7):
        client.get("/v1/account", headers={"Authorization": f"Bearer pf_test_page_{i:05d}"})
    whole = client.get("/_mock/leaderboard").json()
    assert (whole["total"], whole["next_cursor"], len(whole["agents"])) == (7, None, 7)
    seen, cursor, pages = [], None, 0
    while True:
        page = client.get("/_mock/leaderboard", params={"limit": 3, **({"cursor": cursor} if cursor else {})}).json()
        pages += 1
        seen += page["agents"]
        assert page["total"] == 7
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and seen == whole["agents"] and [r["rank"] for r in seen] == list(range(1, 8))
    past = client.get("/_mock/leaderboard", params={"cursor": "99"}).json()
    assert (past["agents"], past["next_cursor"]) == ([], None)
    exact = client.get("/_mock/leaderboard", params={"limit": 7}).json()
    assert exact["next_cursor"] is None and len(exact["agents"]) == 7
    short = client.get("/_mock/leaderboard", params={"limit": 6}).json()
    assert short["next_cursor"] == "6" and len(short["agents"]) == 6


@pytest.mark.parametrize("params,field", [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"),
                                          ({"limit": "x"}, "limit"), ({"cursor": "abc"}, "cursor"),
                                          ({"cursor": "-1"}, "cursor"), ({"cursor": "1" * 13}, "cursor")])
def test_bad_paging_is_400_and_changes_nothing(client, params, field):
    client.get("/v1/account", headers=WINNER)
    before = client.get("/_mock/state").json()
    assert_error(client.get("/_mock/leaderboard", params=params), 400, "invalid_request", field)
    assert client.get("/_mock/state").json() == before


def test_the_core_refuses_bad_paging_too():
    from pf_mock.errors import ApiError
    from pf_mock.leaderboard import leaderboard

    ex = make_exchange()
    for limit, cursor in ((0, None), (1001, None), (True, None), (10, "x"), (10, 5)):
        with pytest.raises(ApiError) as refused:
            leaderboard(ex, limit, cursor)
        assert refused.value.code == "invalid_request"
    assert leaderboard(ex, 1000).total == 0 and leaderboard(ex, 1).agents == []
