"""Another agent's inventory limit holds when a quote crosses into its resting orders. Bob rests two $200
bids inside a wide spread with max_inventory_usd $250 (each fits when he is flat, test_guardrails.py);
Alice's ask crosses both at once. Bob's fills stop at his limit, not one lot past it and not a lot short
of it, and the rest of his bids is cancelled; Alice's ask fills what Bob could take. The oracle is Bob's
own fills, read back through the API (``sessions.post`` hands the inventory limits down with every side
it posts). The house sends no takers and no jumps here, so Alice's ask is the only thing that trades."""

from __future__ import annotations

from http_steps import advance, quote

SYMBOL = "BTC-PERP"
LOT = 1e-5          # BTC-PERP has sz_decimals 5
LIMIT = 250.0


def fills(client, auth) -> list[dict]:
    return client.get("/v1/mm/fills", headers=auth, params={"symbol": SYMBOL, "limit": 1000}).json()["fills"]


def orders(client, auth) -> list[dict]:
    return client.get("/v1/mm/orders", headers=auth, params={"symbol": SYMBOL}).json()["orders"]


def test_a_crossing_quote_fills_another_agents_bids_only_up_to_its_inventory_limit(client, auth, other_auth):
    r = client.post(f"/_mock/markets/{SYMBOL}/regime",
                    json={"spread_bps": 40, "taker_rate_per_minute": 0, "jump_rate_per_hour": 0})
    assert r.status_code == 200, r.text
    advance(client, 1)
    book = client.get(f"/v1/markets/{SYMBOL}/orderbook", params={"depth": 1}).json()
    price = (book["bids"][0]["price"] + book["asks"][0]["price"]) / 2       # inside the spread: Bob's best
    bob = [quote(client, other_auth, bid_price=price, bid_size=200, max_inventory_usd=LIMIT) for _ in range(2)]
    assert all(b["bid_size"] > 190 for b in bob)
    advance(client, 1)                                                    # on the book (order-entry latency)
    assert fills(client, other_auth) == [] and len(orders(client, other_auth)) == 2
    level = client.get(f"/v1/markets/{SYMBOL}/orderbook", params={"depth": 1}).json()["bids"][0]["price"]

    quote(client, auth, ask_price=level, ask_size=450)                    # crosses Bob's two bids
    advance(client, 1)
    got = fills(client, other_auth)
    assert got and all((f["side"], f["liquidity"], f["price"]) == ("buy", "maker", level) for f in got)
    assert {f["order_id"] for f in got} <= {b["bid_id"] for b in bob}
    position, mark = sum(f["size"] for f in got), got[-1]["mid_at_fill"]
    assert position * mark <= LIMIT + 1e-6                                # never past his limit
    assert position * mark > LIMIT - mark * LOT                           # ... and not a lot short of it
    assert orders(client, other_auth) == []                               # the rest of his bids is cancelled
    taken = sum(f["size"] for f in fills(client, auth) if f["side"] == "sell")
    assert abs(taken - position) < LOT / 10                               # Alice sold what Bob could buy
