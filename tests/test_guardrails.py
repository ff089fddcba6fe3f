"""The guardrails of contract section 5, one example each, forced from the HTTP API alone: quotes,
the manual clock, jumps and regime changes; then the session, orders and fills are read back.

A jump of the mid runs through stale quotes at once (the house re-centres and takes them), which
is how these tests make fills happen at a known instant. Also here: the errors of the jump and
regime control routes (section 7).
"""

from __future__ import annotations

import math

import pytest

from contract_asserts import assert_error
from http_steps import advance, bid_ask, jump, mid, quote
from pf_mock.market import AgentFill

SYMBOL = "BTC-PERP"
LOT = 1e-5          # BTC-PERP has sz_decimals 5


# ---- helpers ------------------------------------------------------------------------------------
def regime(client, **changes) -> dict:
    r = client.post(f"/_mock/markets/{SYMBOL}/regime", json=changes)
    assert r.status_code == 200, r.text
    return r.json()


def session(client, auth) -> dict:
    r = client.get("/v1/mm/session", headers=auth, params={"symbol": SYMBOL})
    assert r.status_code == 200, r.text
    return r.json()


def orders(client, auth) -> list[dict]:
    return client.get("/v1/mm/orders", headers=auth, params={"symbol": SYMBOL}).json()["orders"]


def fills(client, auth) -> list[dict]:
    found = client.get("/v1/mm/fills", headers=auth, params={"symbol": SYMBOL, "limit": 1000}).json()["fills"]
    assert len(found) < 1000
    return found


def inventory(client, auth) -> dict:
    return client.get("/v1/mm/inventory", headers=auth, params={"symbol": SYMBOL}).json()


def snapshot(client, auth) -> tuple:
    return session(client, auth), orders(client, auth), fills(client, auth), inventory(client, auth)


def signed(f: dict) -> float:
    return f["size"] if f["side"] == "buy" else -f["size"]


# ---- max_inventory_usd --------------------------------------------------------------------------
def test_max_inventory_cuts_a_growing_side_to_the_headroom(client, auth):
    answer = quote(client, auth, **bid_ask(client, 5, 100, 5, 100), max_inventory_usd=60)
    # Flat, both sides would grow |inventory|: each is cut to what fits under $60, not less.
    for side in ("bid", "ask"):
        assert answer[f"{side}_id"] is not None
        assert answer[f"{side}_size"] <= 60.0
        assert answer[f"{side}_size"] > 60.0 - 2 * answer[f"{side}_price"] * LOT
        assert math.isclose(answer[f"{side}_size"], answer[f"{side}_qty"] * answer[f"{side}_price"], rel_tol=1e-9)
    assert answer["skipped"] == {}
    assert answer["session"]["guardrails"]["max_inventory_usd"] == 60.0
    assert sorted(o["notional_usd"] for o in orders(client, auth)) == sorted([answer["bid_size"], answer["ask_size"]])


def test_max_inventory_stops_fills_at_the_limit_and_holds_the_growing_side(client, auth):
    limit = 250.0
    first = quote(client, auth, **bid_ask(client, 5, 200, 5, 100), max_inventory_usd=limit)
    second = quote(client, auth, **bid_ask(client, 10, 200))
    assert first["bid_size"] > 190 and second["bid_size"] > 190       # $200 each fits under $250 when flat
    moved = jump(client, -30)                   # runs through both bids at once

    got = fills(client, auth)
    assert got, "the jump should have filled the bids"
    position = 0.0
    for f in got:
        assert (f["side"], f["liquidity"], f["kind"]) == ("buy", "maker", "quote")
        assert f["timestamp"] == moved["timestamp"]
        position += signed(f)
        assert abs(position * f["mid_at_fill"]) <= limit + 1e-6        # fills never pass the limit
    # ... and they stopped at it: not one more lot would have fitted.
    assert position * got[-1]["mid_at_fill"] > limit - got[-1]["mid_at_fill"] * LOT
    assert {f["order_id"] for f in got} == {first["bid_id"], second["bid_id"]}
    # What is left of the bids is cancelled; the reducing side (the ask) keeps resting.
    left = orders(client, auth)
    assert [o["order_id"] for o in left] == [first["ask_id"]]
    s = session(client, auth)
    assert (s["status"], s["reason"]) == ("active", "max_inventory_usd: bid held")
    inv = inventory(client, auth)
    assert math.isclose(inv["position"], position, abs_tol=LOT / 10)
    assert abs(inv["net_delta_usd"]) <= limit + 1e-6

    # At the limit the growing side is not posted at all; the reducing side is, uncut.
    again = quote(client, auth, **bid_ask(client, 5, 100, 5, 100))
    assert again["bid_id"] is None and again["bid_size"] is None
    assert again["skipped"] == {"bid": "max_inventory"}
    assert again["ask_id"] is not None and again["ask_size"] > 99
    assert again["session"]["reason"] == "max_inventory_usd: bid held"
    assert {o["side"] for o in orders(client, auth)} == {"sell"}
    assert fills(client, auth) == got


def test_max_inventory_holds_the_ask_when_short(client, auth):
    limit = 150.0
    first = quote(client, auth, **bid_ask(client, 20, 100, 5, 140), max_inventory_usd=limit)
    jump(client, 30)                            # runs through the ask
    got = fills(client, auth)
    assert got and all(f["side"] == "sell" and f["order_id"] == first["ask_id"] for f in got)
    inv = inventory(client, auth)
    assert inv["position"] < 0
    assert abs(inv["net_delta_usd"]) <= limit
    # Short $140 of $150: the headroom left on the ask is under the $10 minimum, so the ask is held.
    assert session(client, auth)["reason"] == "max_inventory_usd: ask held"
    assert [o["order_id"] for o in orders(client, auth)] == [first["bid_id"]]
    again = quote(client, auth, **bid_ask(client, 5, 50, 5, 50))
    assert again["skipped"] == {"ask": "max_inventory"} and again["bid_id"] is not None


# ---- max_spread_bps -----------------------------------------------------------------------------
def test_max_spread_pauses_while_the_market_is_wide_and_the_refresh_loop_resumes(client, auth):
    answer = quote(client, auth, **bid_ask(client, 2.5, 100, 2.5, 100), max_spread_bps=10,
                   auto_refresh=True, refresh_interval_seconds=5)
    assert answer["session"]["status"] == "active" and len(orders(client, auth)) == 2

    regime(client, spread_bps=40)
    s = session(client, auth)
    assert (s["status"], s["reason"]) == ("paused", "market_spread_wide")
    assert orders(client, auth) == []
    before = fills(client, auth)

    paused = quote(client, auth, **bid_ask(client, 2.5, 100, 2.5, 100))
    assert (paused["bid_id"], paused["ask_id"]) == (None, None)
    assert (paused["bid_size"], paused["ask_size"]) == (None, None)
    assert paused["skipped"] == {"bid": "market_spread_wide", "ask": "market_spread_wide"}
    assert paused["session"]["status"] == "paused"
    assert orders(client, auth) == []

    advance(client, 12)                         # refreshes come and go: nothing is posted, nothing fills
    assert session(client, auth)["status"] == "paused"
    assert orders(client, auth) == []
    assert fills(client, auth) == before

    regime(client, spread_bps=1.0)
    s = session(client, auth)
    assert (s["status"], s["reason"]) == ("active", None)
    assert orders(client, auth) == []           # ... until the next refresh, which quotes by itself:
    now = advance(client, 3)                    # refreshes fall every 5 s from the quote (t = 15 s here)
    resumed = orders(client, auth)
    assert sorted(o["side"] for o in resumed) == ["buy", "sell"]
    assert all(o["created_at"] == now for o in resumed)


def test_a_quote_that_finds_the_market_wide_cancels_the_sessions_resting_orders(client, auth):
    quote(client, auth, **bid_ask(client, 2.5, 100, 2.5, 100))
    assert len(orders(client, auth)) == 2
    regime(client, spread_bps=40)               # no spread guard yet: the orders stay
    assert len(orders(client, auth)) == 2 and session(client, auth)["status"] == "active"
    answer = quote(client, auth, **bid_ask(client, 2.5, 100, 2.5, 100), max_spread_bps=10)
    assert answer["skipped"] == {"bid": "market_spread_wide", "ask": "market_spread_wide"}
    assert (answer["session"]["status"], answer["session"]["reason"]) == ("paused", "market_spread_wide")
    assert orders(client, auth) == []           # paused: its orders are cancelled, not left to fill


def test_a_quote_that_raises_the_spread_limit_resumes_the_session_before_it_trades(client, auth, exchange):
    """Found by the guardrail state machine: a paused session quoting with a looser max_spread_bps used
    to post (and take liquidity) while still paused, and only resume afterwards. What matters is the
    status at the instant of the fill, so what the booking is handed is recorded with it."""
    regime(client, spread_bps=30)
    answer = quote(client, auth, **bid_ask(client, 2.5, 100, 2.5, 100), max_spread_bps=10)
    assert answer["session"]["status"] == "paused"
    statuses = []
    settle = exchange.sessions.settle

    def recording(market):
        statuses.extend(exchange.agents[fill.owner].sessions[market.symbol].status for fill in market.news
                        if type(fill) is AgentFill)
        settle(market)

    exchange.sessions.settle = recording
    crossing = quote(client, auth, **bid_ask(client, -20, 50), max_spread_bps=100)   # a bid 20 bps over the mid
    assert crossing["bid_id"] is not None and crossing["skipped"] == {}
    assert statuses and set(statuses) == {"active"}
    assert (crossing["session"]["status"], crossing["session"]["reason"]) == ("active", None)


def test_max_spread_ignores_the_agents_own_orders(client, auth, other_auth):
    # Another agent inside the spread narrows the market for everyone else; this agent's own quote
    # does not count towards its own spread.
    regime(client, spread_bps=40)
    answer = quote(client, auth, **bid_ask(client, 1, 50, 1, 50), max_spread_bps=10)
    assert answer["session"]["status"] == "paused"
    other = quote(client, other_auth, **bid_ask(client, 2, 50, 2, 50))
    assert other["bid_id"] is not None and other["ask_id"] is not None
    assert session(client, auth)["status"] == "active"


# ---- auto_hedge_threshold_usd ------------------------------------------------------------------
def test_auto_hedge_flattens_when_a_fill_takes_the_delta_over_the_threshold(client, auth):
    threshold = 200.0
    quote(client, auth, **bid_ask(client, 5, 120, 40, 100), auto_hedge_threshold_usd=threshold)
    jump(client, -20)
    first = fills(client, auth)
    assert [f["kind"] for f in first] and all(f["kind"] == "quote" for f in first)   # $120 < $200: no hedge
    assert 100 < inventory(client, auth)["net_delta_usd"] < threshold

    quote(client, auth, **bid_ask(client, 5, 120))
    moved = jump(client, -20)                   # a second $120: now over the threshold
    got = fills(client, auth)
    new = got[len(first):]
    maker = [f for f in new if f["kind"] == "quote"]
    hedges = [f for f in new if f["kind"] == "auto_hedge"]
    assert maker and hedges
    assert new[-len(hedges):] == hedges         # the hedge comes after the fill that caused it
    assert all(f["timestamp"] == moved["timestamp"] for f in new)   # ... at the same instant
    assert all(f["side"] == "sell" and f["liquidity"] == "taker" and f["fee_usd"] > 0 for f in hedges)
    held = sum(signed(f) for f in got if f["kind"] != "auto_hedge")
    assert math.isclose(sum(f["size"] for f in hedges), held, abs_tol=LOT / 10)
    inv = inventory(client, auth)
    assert abs(inv["position"]) < LOT and abs(inv["net_delta_usd"]) < inv["mark_price"] * LOT
    assert inv["avg_entry_price"] is None

    pnl = client.get("/v1/mm/pnl", headers=auth, params={"symbol": SYMBOL}).json()
    takers = [f for f in got if f["liquidity"] == "taker"]
    slippage = sum((f["price"] - f["mid_at_fill"]) * f["size"] * (1 if f["side"] == "buy" else -1) for f in takers)
    assert pnl["hedge_cost"] > 0
    assert math.isclose(pnl["hedge_cost"], sum(f["fee_usd"] for f in takers) + slippage, abs_tol=1e-6)
    assert pnl["taker_fills"] == len(hedges)
    # The ask, far from the mid, was never touched and still rests.
    assert [o["side"] for o in orders(client, auth)] == ["sell"]


# ---- session_stop_loss_usd ----------------------------------------------------------------------
def test_stop_loss_stops_the_session_until_reset(client, auth):
    answer = quote(client, auth, **bid_ask(client, 5, 500, 5, 100), session_stop_loss_usd=5,
                   auto_refresh=True, refresh_interval_seconds=5)
    assert answer["session"]["status"] == "active"
    moved = jump(client, -300)                  # the bid fills and the mid keeps falling past it

    s = session(client, auth)
    assert (s["status"], s["reason"]) == ("stopped", "stop_loss")
    assert s["stopped_at"] == moved["timestamp"]
    assert s["auto_refresh"] is False
    assert orders(client, auth) == []           # the ask was cancelled with the session
    pnl = client.get("/v1/mm/pnl", headers=auth, params={"symbol": SYMBOL}).json()
    assert pnl["net_pnl"] <= -5
    state = snapshot(client, auth)

    refused = client.post("/v1/mm/quote", headers=auth, json={"symbol": SYMBOL, **bid_ask(client, 5, 50, 5, 50)})
    assert assert_error(refused, 409, "session_stopped")["reason"] == "stop_loss"
    assert snapshot(client, auth) == state

    advance(client, 30)                         # the refresh loop is gone: nothing is re-posted
    s2, o2, f2, inv2 = snapshot(client, auth)
    assert (s2, o2, f2, inv2["position"]) == (state[0], [], state[2], state[3]["position"])

    r = client.post("/v1/mm/session/reset", headers=auth, json={"symbol": SYMBOL})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["reason"], r.json()["stopped_at"]) == ("idle", None, None)
    assert fills(client, auth) == state[2]                          # history stays
    assert inventory(client, auth)["position"] == state[3]["position"]  # ... and so does the position
    again = quote(client, auth, **bid_ask(client, 5, 50, 5, 50))
    assert again["bid_id"] is not None and again["ask_id"] is not None
    assert again["session"]["status"] == "active" and again["session"]["stopped_at"] is None
    assert len(orders(client, auth)) == 2


def test_reset_of_a_session_that_is_not_stopped_changes_nothing(client, auth):
    quote(client, auth, **bid_ask(client, 5, 50, 5, 50), max_inventory_usd=400)
    before = snapshot(client, auth)
    r = client.post("/v1/mm/session/reset", headers=auth, json={"symbol": SYMBOL})
    assert r.status_code == 200 and r.json() == before[0]
    assert snapshot(client, auth) == before


# ---- the session shows the guardrails ----------------------------------------------------------
def test_session_shows_the_guardrails_and_later_quotes_update_only_what_they_give(client, auth):
    fresh = session(client, auth)
    assert fresh["status"] == "idle" and set(fresh["guardrails"].values()) == {None}
    quote(client, auth, **bid_ask(client, 5, 50, 5, 50), max_inventory_usd=500, max_spread_bps=25)
    s = session(client, auth)
    assert s["guardrails"] == {"max_inventory_usd": 500.0, "max_spread_bps": 25.0,
                               "auto_hedge_threshold_usd": None, "session_stop_loss_usd": None}
    assert (s["status"], s["auto_refresh"], s["refresh_interval_seconds"]) == ("active", False, 5.0)
    answer = quote(client, auth, **bid_ask(client, 5, 50, 5, 50), auto_hedge_threshold_usd=300, max_spread_bps=30,
                   auto_refresh=True, refresh_interval_seconds=2)
    expected = {"max_inventory_usd": 500.0, "max_spread_bps": 30.0, "auto_hedge_threshold_usd": 300.0,
                "session_stop_loss_usd": None}
    assert answer["session"]["guardrails"] == expected
    s2 = session(client, auth)
    assert s2["guardrails"] == expected
    assert (s2["auto_refresh"], s2["refresh_interval_seconds"], s2["started_at"]) == (True, 2.0, s["started_at"])


@pytest.mark.parametrize("field, value", [("max_inventory_usd", 0), ("max_spread_bps", -1),
                                          ("auto_hedge_threshold_usd", "100"), ("session_stop_loss_usd", -5)])
def test_a_bad_guardrail_value_is_refused_and_changes_nothing(client, auth, field, value):
    quote(client, auth, **bid_ask(client, 5, 50, 5, 50), max_inventory_usd=500)
    before = snapshot(client, auth)
    r = client.post("/v1/mm/quote", headers=auth,
                    json={"symbol": SYMBOL, **bid_ask(client, 5, 50, 5, 50), field: value})
    assert r.status_code == 400
    body = r.json()
    assert (body["error"], body["field"]) == ("invalid_request", field) and body["message"]
    assert snapshot(client, auth) == before


# ---- /_mock jump and regime errors --------------------------------------------------------------
def market_state(client, exchange) -> tuple:
    return client.get(f"/v1/markets/{SYMBOL}/price").json(), exchange.markets[SYMBOL].regime


@pytest.mark.parametrize("body, field", [
    ({"move_bps": "x"}, "move_bps"),
    ({"move_bps": True}, "move_bps"),
    ({}, "move_bps"),
    ({"move_bps": -10_000}, "move_bps"),
    ({"move_bps": -25_000}, "move_bps"),
    ({"move_bps": 1e9}, "move_bps"),
])
def test_jump_refuses_a_bad_move(client, exchange, body, field):
    before = market_state(client, exchange)
    assert_error(client.post(f"/_mock/markets/{SYMBOL}/jump", json=body), 400, "invalid_request", field)
    assert market_state(client, exchange) == before


def test_jump_and_regime_on_an_unknown_market(client):
    for path, body in (("jump", {"move_bps": 10}), ("regime", {"spread_bps": 5})):
        assert_error(client.post(f"/_mock/markets/NOPE-PERP/{path}", json=body), 404, "market_not_found")
    assert "NOPE-PERP" not in client.get("/_mock/state").json()["active_markets"]


def test_jump_moves_the_mark_price_by_the_bps_given(client):
    price = f"/v1/markets/{SYMBOL}/price"
    before = client.get(price).json()
    answer = jump(client, 100)
    # The fair value moves by exactly 1%; the mark price is it on the tick grid (nearest tick, $1 here),
    # so before and after are each within half a tick of it.
    assert abs(answer["mark_price"] - before["mark_price"] * 1.01) <= 1.0 * 1.01
    after = client.get(price).json()
    assert answer["mark_price"] == after["mark_price"] and answer["mid"] == after["mid"]
    # The house re-centred on the new fair value: the book's mid followed it.
    assert abs(after["mid"] - after["mark_price"]) < after["mark_price"] * 5e-4


@pytest.mark.parametrize("body, field", [
    ({"informed_share": 2}, "informed_share"),
    ({"spread_bps": 0}, "spread_bps"),
    ({"volatility_annual": -0.1}, "volatility_annual"),
    ({"depth_usd": 0}, "depth_usd"),
    ({"taker_rate_per_minute": -1}, "taker_rate_per_minute"),
    ({"spread_bps": "wide"}, "spread_bps"),
    ({"spread_bps": 3, "informed_share": 1.5}, "informed_share"),     # all or nothing
])
def test_regime_refuses_a_field_out_of_range_and_keeps_the_regime(client, exchange, body, field):
    before = market_state(client, exchange)
    assert_error(client.post(f"/_mock/markets/{SYMBOL}/regime", json=body), 400, "invalid_request", field)
    assert market_state(client, exchange) == before


def test_regime_changes_only_the_fields_given_and_ignores_unknown_ones(client, exchange):
    before = exchange.market(SYMBOL).regime.as_dict()
    answer = regime(client, spread_bps=3, spread=7)
    assert answer["regime"] == {**before, "spread_bps": 3}
    assert exchange.markets[SYMBOL].regime.as_dict() == {**before, "spread_bps": 3}
    assert client.get(f"/v1/markets/{SYMBOL}").json()["simulation"]["spread_bps"] == 3


def test_a_session_started_while_holding_a_position_counts_its_stop_loss_from_the_start(client, auth):
    """The stop-loss measures the session's PnL from the equity (cash + position x mid) at its start:
    a position bought before the session loses for it only from then on, and trips it when it does."""
    quote(client, auth, **bid_ask(client, 5, 500))
    jump(client, -50)                               # the bid fills: long about 500 USD
    assert client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL}).status_code == 200
    held = inventory(client, auth)["position"]
    assert held > 0 and session(client, auth)["status"] == "idle"
    answer = quote(client, auth, **bid_ask(client, 400, 50, 400, 50), session_stop_loss_usd=3)
    assert answer["session"]["status"] == "active"  # nothing lost since the start, whatever the history
    jump(client, -30)                               # about 1.5 USD on 500: under the limit
    assert session(client, auth)["status"] == "active"
    jump(client, -150)                              # about 7.5 USD more: past it
    s = session(client, auth)
    assert (s["status"], s["reason"]) == ("stopped", "stop_loss")
    assert inventory(client, auth)["position"] == held
