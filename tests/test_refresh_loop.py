"""The server-side refresh loop (contract section 5, ``auto_refresh``), driven over HTTP on the manual
clock: a session left alone for a simulated hour keeps one bid and one ask around the mid, its fills
tell a consistent story, cancel stops it, and advancing the clock in one step or in many gives the
same fills byte for byte (a market with a live session is simulated event by event, never skipped).
"""

from __future__ import annotations

import math
from collections import defaultdict

from app_client import AppClient

from pf_mock.api import AppOptions, create_app
from pf_mock.clock import ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig
from http_steps import advance

SYMBOL = "BTC-PERP"
INTERVAL_S = 5
HOUR_S = 3600
FILLS_LIMIT = 1000


def start_session(client, auth, half_bps: float = 2.5, usd: float = 100.0, **extra) -> dict:
    """One quote ``half_bps`` either side of the mid, refreshed every 5 s by the server."""
    mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
    r = client.post("/v1/mm/quote", headers=auth, json={
        "symbol": SYMBOL, "bid_price": mid * (1 - half_bps / 1e4), "bid_size": usd,
        "ask_price": mid * (1 + half_bps / 1e4), "ask_size": usd,
        "auto_refresh": True, "refresh_interval_seconds": INTERVAL_S, **extra})
    assert r.status_code == 200, r.text
    answer = r.json()
    answer["mid"] = mid
    return answer


def orders(client, auth) -> list[dict]:
    return client.get("/v1/mm/orders", headers=auth, params={"symbol": SYMBOL}).json()["orders"]


def all_fills(client, auth) -> list[dict]:
    """Every fill of the agent on the symbol (checked against the PnL's count, so none is missed)."""
    found = client.get("/v1/mm/fills", headers=auth, params={"symbol": SYMBOL, "limit": FILLS_LIMIT}).json()["fills"]
    total = client.get("/v1/mm/pnl", headers=auth, params={"symbol": SYMBOL}).json()["fills"]
    assert len(found) == total < FILLS_LIMIT, "more fills than one page holds: this test must page them"
    return found


def session(client, auth) -> dict:
    return client.get("/v1/mm/session", headers=auth, params={"symbol": SYMBOL}).json()


def signed(f: dict) -> float:
    return f["size"] if f["side"] == "buy" else -f["size"]


def test_an_auto_refresh_session_left_alone_for_an_hour(client, auth):
    quoted = start_session(client, auth)
    start, mid0 = quoted["timestamp"], quoted["mid"]
    bid_bps = (mid0 - quoted["bid_price"]) / mid0 * 1e4       # the shape the loop re-posts
    ask_bps = (quoted["ask_price"] - mid0) / mid0 * 1e4
    now = advance(client, HOUR_S)
    assert now == start + HOUR_S * 1000

    # Exactly one bid and one ask, posted by the last refresh (which falls on this very instant,
    # the 720th) at the quote's distances from the current mid.
    market = client.get(f"/v1/markets/{SYMBOL}").json()
    mid, tick = market["mid"], market["tick_size"]
    book = orders(client, auth)
    assert sorted(o["side"] for o in book) == ["buy", "sell"]
    for o in book:
        assert now - INTERVAL_S * 1000 < o["created_at"] <= now
        assert o["created_at"] == now
        assert o["remaining"] == o["size"]
        # Rounded away from the mid, never toward it: a bid down to the tick below, an ask up to the one above
        # (the slack is the grid's own: it reads a price within a millionth of a unit of a tick as that tick).
        slack = 1e-6 * tick
        if o["side"] == "buy":
            target = mid * (1 - bid_bps / 1e4)
            assert o["price"] - slack <= target < o["price"] + tick
        else:
            target = mid * (1 + ask_bps / 1e4)
            assert o["price"] - tick < target <= o["price"] + slack
        assert o["notional_usd"] <= 100.0 and o["notional_usd"] > 100.0 - 2 * o["price"] * 1e-5
    s = session(client, auth)
    assert (s["status"], s["auto_refresh"], s["refresh_interval_seconds"]) == ("active", True, 5.0)

    got = all_fills(client, auth)
    assert len(got) > 50, "an hour of 5 bps quotes on BTC-PERP should fill many times"
    by_order: dict[str, list[dict]] = defaultdict(list)
    for f in got:
        assert start <= f["timestamp"] <= now
        assert (f["liquidity"], f["kind"]) == ("maker", "quote") and f["fee_usd"] < 0
        by_order[f["order_id"]].append(f)
    assert [f["timestamp"] for f in got] == sorted(f["timestamp"] for f in got)
    assert by_order.keys().isdisjoint(o["order_id"] for o in book)    # the last orders have not traded
    spans = {"buy": [], "sell": []}
    for order_id, its in by_order.items():
        # A maker fill is at its order's price, on its side, and no order fills past its size ($100).
        assert len({f["price"] for f in its}) == 1 and len({f["side"] for f in its}) == 1
        assert sum(f["notional_usd"] for f in its) <= 100.0 + 1e-6
        # Each order lives one refresh interval: its fills fit inside one.
        first, last = its[0]["timestamp"], its[-1]["timestamp"]
        assert last - first <= INTERVAL_S * 1000
        spans[its[0]["side"]].append((first, last))
    for side, windows in spans.items():
        # One order per side at a time: a side's orders trade one after the other, never together,
        # and there are no more of them than refresh intervals in the hour.
        assert len(windows) <= HOUR_S // INTERVAL_S
        windows.sort()
        assert all(a_last <= b_first for (_, a_last), (b_first, _) in zip(windows, windows[1:]))

    inv = client.get("/v1/mm/inventory", headers=auth, params={"symbol": SYMBOL}).json()
    assert math.isclose(inv["position"], sum(signed(f) for f in got), abs_tol=1e-9)

    # Cancel stops the loop: time goes on, nothing is posted again and nothing more fills.
    r = client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    assert r.status_code == 200
    assert r.json()["cancelled"] == 2 and sorted(r.json()["order_ids"]) == sorted(o["order_id"] for o in book)
    s = session(client, auth)
    assert (s["status"], s["auto_refresh"]) == ("idle", False)
    advance(client, 60)
    assert orders(client, auth) == []
    assert all_fills(client, auth) == got
    assert session(client, auth) == s


def test_one_long_step_and_many_short_steps_give_the_same_fills(client, auth, exchange):
    other_exchange = Exchange(ExchangeConfig(seed=exchange.seed), ManualClock())
    with AppClient(create_app(other_exchange, AppOptions())) as other:
        for c in (client, other):
            start_session(c, auth)
        # Twenty minutes: 240 refreshes one at a time against one step over them all (the hour this ran
        # for was 720 of the same; what is compared does not need length, only refreshes and fills).
        span = HOUR_S // 3
        advance(client, span)
        for _ in range(span // INTERVAL_S):
            advance(other, INTERVAL_S)
        for path in ("/v1/mm/fills", "/v1/mm/orders", "/v1/mm/inventory", "/v1/mm/pnl", "/v1/mm/session"):
            params = {"symbol": SYMBOL, **({"limit": FILLS_LIMIT} if path.endswith("fills") else {})}
            one, many = (c.get(path, headers=auth, params=params) for c in (client, other))
            assert one.status_code == many.status_code == 200
            assert one.content == many.content, path
        assert len(all_fills(client, auth)) > 50
    # Neither market was fast-forwarded while the session was live; both saw every event.
    for ex in (exchange, other_exchange):
        market = ex.markets[SYMBOL]
        assert market.events_processed > 0.9 * span * market.regime.event_rate_per_second
    assert exchange.markets[SYMBOL].events_processed == other_exchange.markets[SYMBOL].events_processed


def test_the_refresh_cuts_the_growing_side_to_the_inventory_headroom(client, auth):
    limit = 150.0
    quoted = start_session(client, auth, max_inventory_usd=limit)
    assert quoted["bid_size"] > 99 and quoted["ask_size"] > 99
    r = client.post(f"/_mock/markets/{SYMBOL}/jump", json={"move_bps": -30})     # fills the bid
    assert r.status_code == 200
    advance(client, INTERVAL_S)                 # to the next refresh, exactly
    inv = client.get("/v1/mm/inventory", headers=auth, params={"symbol": SYMBOL}).json()
    assert inv["net_delta_usd"] > 90
    book = {o["side"]: o for o in orders(client, auth)}
    assert set(book) == {"buy", "sell"}
    mid = inv["mark_price"]
    # The bid re-posted only what still fits under the limit; the ask (reducing) is whole.
    assert (inv["position"] + book["buy"]["size"]) * mid <= limit + 1e-6
    assert book["buy"]["notional_usd"] < 60
    assert book["sell"]["notional_usd"] > 99


def test_auto_refresh_false_on_a_later_quote_stops_the_loop(client, auth):
    start_session(client, auth)
    advance(client, 2 * INTERVAL_S)
    mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
    r = client.post("/v1/mm/quote", headers=auth, json={
        "symbol": SYMBOL, "bid_price": mid * 0.99, "bid_size": 50, "auto_refresh": False})
    assert r.status_code == 200
    stopped_at = r.json()["timestamp"]
    assert r.json()["session"]["auto_refresh"] is False
    advance(client, 6 * INTERVAL_S)
    assert all(o["created_at"] <= stopped_at for o in orders(client, auth))
    assert any(o["order_id"] == r.json()["bid_id"] for o in orders(client, auth))   # 1% away: still there
