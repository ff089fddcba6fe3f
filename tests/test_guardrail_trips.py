"""Guardrail trips as the leaderboard's ``guardrail_trips_by_rule`` counts them, each under the rule that
acted. A side held at the inventory limit is one trip when the hold begins, however often the guardrails
look again while it lasts, and a new one when a hold begins again after it was lifted
(``sessions.guard_session`` notes a trip only when the session's reason changes to a held side); a
stop-loss is one trip of ``session_stop_loss_usd``. Driven from the HTTP API alone, as in
test_guardrails.py: a jump of the mid runs through the bids at a known instant."""

from __future__ import annotations

from http_steps import advance, bid_ask, jump, quote

SYMBOL = "BTC-PERP"
RULE = "max_inventory_usd"


def trips_by_rule(client, auth) -> dict[str, int]:
    me = client.get("/v1/account", headers=auth).json()["agent_id"]
    rows = client.get("/_mock/leaderboard").json()["agents"]
    return {rule: n for rule, n in next(r for r in rows if r["agent_id"] == me)["guardrail_trips_by_rule"].items()
            if n}


def trips(client, auth) -> int:
    return trips_by_rule(client, auth).get(RULE, 0)


def reason(client, auth) -> str | None:
    return client.get("/v1/mm/session", headers=auth, params={"symbol": SYMBOL}).json()["reason"]


def test_a_held_side_is_one_trip_while_it_lasts_and_a_new_one_when_it_begins_again(client, auth):
    quote(client, auth, **bid_ask(client, 5, 200, 5, 100), max_inventory_usd=250)
    quote(client, auth, **bid_ask(client, 10, 200))
    assert trips(client, auth) == 0                 # set, not yet acted
    jump(client, -30)                               # runs through both bids up to the limit
    assert reason(client, auth) == f"{RULE}: bid held"
    assert trips(client, auth) == 1
    for _ in range(3):                              # the guardrails look again: the same hold, no new trip
        advance(client, 5)
        quote(client, auth, **bid_ask(client, 5, 100, 5, 100))
    assert reason(client, auth) == f"{RULE}: bid held"
    assert trips(client, auth) == 1

    r = client.post("/v1/mm/hedge", headers=auth, json={"symbol": SYMBOL, "hedge_pct": 1})
    assert r.status_code == 200, r.text             # flat again: the hold is lifted
    client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    quote(client, auth, **bid_ask(client, 5, 200, 5, 100))
    assert reason(client, auth) is None
    assert trips(client, auth) == 1
    quote(client, auth, **bid_ask(client, 10, 200))
    jump(client, -30)                               # a second hold: a second trip
    assert reason(client, auth) == f"{RULE}: bid held"
    assert trips(client, auth) == 2


def test_a_stop_loss_is_one_trip_of_its_own_rule(client, auth):
    quote(client, auth, **bid_ask(client, 5, 500, 5, 100), session_stop_loss_usd=5)
    assert trips_by_rule(client, auth) == {}
    jump(client, -300)                              # the bid fills and the mid keeps falling past it
    assert reason(client, auth) == "stop_loss"
    assert trips_by_rule(client, auth) == {"session_stop_loss_usd": 1}
    advance(client, 30)                             # stopped: nothing acts again
    jump(client, -100)
    assert trips_by_rule(client, auth) == {"session_stop_loss_usd": 1}
