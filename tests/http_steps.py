"""Steps many tests take over HTTP, each asserting it was answered 200: the mid a client sees, a quote
(or one that must answer another status), quote prices some basis points from that mid, a jump of the
fair value and an advance of the manual clock."""

from __future__ import annotations

SYMBOL = "BTC-PERP"


def mid(client) -> float:
    return client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]


def quote(client, auth, expect: int = 200, **body) -> dict:
    r = client.post("/v1/mm/quote", headers=auth, json={"symbol": SYMBOL, **body})
    assert r.status_code == expect, r.text
    return r.json()


def bid_ask(client, bid_bps: float | None, bid_usd: float | None, ask_bps: float | None = None,
            ask_usd: float | None = None) -> dict:
    """Quote prices ``bid_bps`` below and ``ask_bps`` above the current mid."""
    m = mid(client)
    body = {}
    if bid_bps is not None:
        body.update(bid_price=m * (1 - bid_bps / 1e4), bid_size=bid_usd)
    if ask_bps is not None:
        body.update(ask_price=m * (1 + ask_bps / 1e4), ask_size=ask_usd)
    return body


def jump(client, move_bps: float) -> dict:
    r = client.post(f"/_mock/markets/{SYMBOL}/jump", json={"move_bps": move_bps})
    assert r.status_code == 200, r.text
    return r.json()


def advance(client, seconds: float) -> int:
    """Moves the manual clock on; answers its new time (ms)."""
    r = client.post("/_mock/clock/advance", json={"seconds": seconds})
    assert r.status_code == 200, r.text
    return r.json()["clock"]["now"]
