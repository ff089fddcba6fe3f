"""The /v1/mm endpoints over HTTP: each happy path, each error of the contract, and the shared book.

Everything runs on the manual clock, so the book only changes when a test makes it: fills are forced
by another agent crossing with an IOC quote (``hit``), and time moves only through /_mock/clock/advance.
"""

from __future__ import annotations

import math

import pytest

from app_client import app_client
from conftest import KEY, make_exchange
from pf_mock.api import AppOptions, create_app
from contract_asserts import assert_error
from reference_accountant import Reference
from http_steps import advance

BTC = "BTC-PERP"
ETH = "ETH-PERP"
BALANCE = 10_000.0
MAKER_REBATE = 2.5e-4
TAKER_FEE = 4.5e-4
CAROL = {"Authorization": "Bearer pf_test_carol_12345678"}
LOT = {BTC: 1e-5, ETH: 1e-4}        # 10**-sz_decimals
TICK = {BTC: 1.0, ETH: 0.1}         # at today's prices


@pytest.fixture(autouse=True)
def several_ticks_wide(exchange):
    """These tests post inside the house's spread: give BTC-PERP and ETH-PERP a spread of several ticks
    (a calm major's touch is one tick wide, models/book_shape.py)."""
    widen(exchange)


def widen(exchange) -> None:
    for symbol in (BTC, ETH):
        market = exchange.market(symbol)
        market.set_regime(market.regime.with_changes(spread_bps=2.0))


# ---- helpers -------------------------------------------------------------------------------------
def top(client, symbol: str = BTC) -> dict:
    r = client.get(f"/v1/markets/{symbol}/price")
    assert r.status_code == 200
    return r.json()


def quote(client, headers, **fields):
    return client.post("/v1/mm/quote", headers=headers, json={"symbol": BTC, **fields})


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def inside_bid(client, symbol: str = BTC) -> float:
    """A bid price strictly inside the house spread: the best bid once posted."""
    t = top(client, symbol)
    price = t["best_bid"] + TICK[symbol]
    assert price < t["best_ask"]
    return price


def hit(client, price: float, usd: float = 100.0, sell: bool = True, headers=CAROL, symbol: str = BTC) -> dict:
    """Another agent crosses at ``price`` with an IOC: whatever rests there fills."""
    side = {"ask_price": price, "ask_size": usd} if sell else {"bid_price": price, "bid_size": usd}
    return ok(client.post("/v1/mm/quote", headers=headers,
                          json={"symbol": symbol, "time_in_force": "IOC", **side}))


def orders(client, headers, symbol: str | None = None) -> list[dict]:
    return ok(client.get("/v1/mm/orders", headers=headers, params={"symbol": symbol} if symbol else None))["orders"]


def fills(client, headers, **params) -> list[dict]:
    return ok(client.get("/v1/mm/fills", headers=headers, params=params))["fills"]


def inventory(client, headers, symbol: str = BTC) -> dict:
    return ok(client.get("/v1/mm/inventory", headers=headers, params={"symbol": symbol}))


def pnl(client, headers, **params) -> dict:
    return ok(client.get("/v1/mm/pnl", headers=headers, params=params))


def snapshot(client, headers) -> dict:
    """Everything an error must leave as it was."""
    return {
        "orders": orders(client, headers),
        "fills": fills(client, headers, limit=1000),
        "account": ok(client.get("/v1/account", headers=headers)),
        "session": ok(client.get("/v1/mm/session", headers=headers, params={"symbol": BTC})),
        "eth_session": ok(client.get("/v1/mm/session", headers=headers, params={"symbol": ETH})),
        "pnl": pnl(client, headers),
        "book": ok(client.get(f"/v1/markets/{BTC}/orderbook", params={"depth": 50})),
    }


def assert_matches_reference(client, headers, report: dict) -> None:
    """Every figure of a PnL report that runs to now and holds all of the agent's fills (on its symbol,
    or on all) equals what the reference accountant makes of those fills and the marks now."""
    symbols = [report["symbol"]] if report["symbol"] else sorted({f["symbol"] for f in fills(client, headers, limit=1000)})
    expected: dict[str, float] = dict.fromkeys(PNL_FIELDS - {"symbol", "since", "until"}, 0.0)
    assert report["until"] == top(client)["timestamp"]
    count = 0
    for symbol in symbols:
        found = fills(client, headers, symbol=symbol, limit=1000)
        count += len(found)
        if not found:
            continue
        mark = inventory(client, headers, symbol)["mark_price"]
        for name, value in Reference().replay(found, mark).expected_pnl(mark).items():
            expected[name] += value
    assert report["fills"] == count, "the report must hold every fill of the agent"
    for name, value in expected.items():
        assert report[name] == pytest.approx(value, abs=1e-6), name


@pytest.fixture
def busy(client, auth):
    """Alice with history: one maker fill (long) and one resting ask."""
    return make_busy(client, auth)


def make_busy(client, auth):
    bid = inside_bid(client)
    ok(quote(client, auth, bid_price=bid, bid_size=100, ask_price=top(client)["best_ask"] + 20, ask_size=100))
    hit(client, bid)
    assert len(orders(client, auth)) == 1 and len(fills(client, auth)) == 1
    return auth


# ---- quote: errors -------------------------------------------------------------------------------
BID = {"bid_price": 70_000.0, "bid_size": 100.0}
QUOTE_ERRORS = [
    ({"symbol": None, **BID}, 400, "invalid_request", "symbol"),
    ({"symbol": 7, **BID}, 400, "invalid_request", "symbol"),
    ({"symbol": "NOPE-PERP", **BID}, 404, "market_not_found", None),
    ({"bid_price": "abc", "bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"bid_price": True, "bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"bid_price": [70_000], "bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"bid_price": 70_000, "bid_size": "100"}, 400, "invalid_request", "bid_size"),
    ({"ask_price": 71_000, "ask_size": False}, 400, "invalid_request", "ask_size"),
    ({"bid_price": -70_000, "bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"bid_price": 0, "bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"bid_price": 70_000, "bid_size": 0}, 400, "invalid_request", "bid_size"),
    ({"bid_price": 70_000, "bid_size": -100}, 400, "invalid_request", "bid_size"),
    ({"ask_price": -1, "ask_size": 100}, 400, "invalid_request", "ask_price"),
    ({"ask_price": 71_000, "ask_size": -1}, 400, "invalid_request", "ask_size"),
    ({"bid_price": 1e300, "bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"bid_price": 70_000, "bid_size": 1e308}, 400, "invalid_request", "bid_size"),
    ({"bid_price": 70_000}, 400, "invalid_request", "bid_size"),
    ({"bid_size": 100}, 400, "invalid_request", "bid_price"),
    ({"ask_price": 71_000}, 400, "invalid_request", "ask_size"),
    ({**BID, "ask_size": 100}, 400, "invalid_request", "ask_price"),
    ({}, 400, "invalid_request", None),
    ({"time_in_force": "GTC"}, 400, "invalid_request", None),
    ({"bid_price": 70_000, "bid_size": 100, "ask_price": 70_000, "ask_size": 100}, 400, "crossed_quote", None),
    ({"bid_price": 70_100, "bid_size": 100, "ask_price": 70_000, "ask_size": 100}, 400, "crossed_quote", None),
    ({"bid_price": 70_000, "bid_size": 5}, 400, "order_too_small", None),
    ({"ask_price": 71_000, "ask_size": 9.9}, 400, "order_too_small", None),
    ({**BID, "ask_price": 71_000, "ask_size": 1}, 400, "order_too_small", None),
    ({"bid_price": 0.01, "bid_size": 100}, 400, "order_too_small", None),
    ({"bid_price": 70_000, "bid_size": 600_000}, 402, "insufficient_balance", None),
    ({**BID, "ask_price": 71_000, "ask_size": 300_000, "bid_size": 300_000}, 402, "insufficient_balance", None),
    ({**BID, "time_in_force": "FOK"}, 400, "invalid_request", "time_in_force"),
    ({**BID, "time_in_force": "gtc"}, 400, "invalid_request", "time_in_force"),
    ({**BID, "time_in_force": 1}, 400, "invalid_request", "time_in_force"),
    ({**BID, "time_in_force": None}, 400, "invalid_request", "time_in_force"),
    ({**BID, "refresh_interval_seconds": 0.49}, 400, "invalid_request", "refresh_interval_seconds"),
    ({**BID, "refresh_interval_seconds": 0}, 400, "invalid_request", "refresh_interval_seconds"),
    ({**BID, "refresh_interval_seconds": -5}, 400, "invalid_request", "refresh_interval_seconds"),
    ({**BID, "refresh_interval_seconds": "5"}, 400, "invalid_request", "refresh_interval_seconds"),
    ({**BID, "auto_refresh": "yes"}, 400, "invalid_request", "auto_refresh"),
    ({**BID, "auto_refresh": 1}, 400, "invalid_request", "auto_refresh"),
] + [
    ({**BID, name: value}, 400, "invalid_request", name)
    for name in ("max_inventory_usd", "max_spread_bps", "auto_hedge_threshold_usd", "session_stop_loss_usd")
    for value in (0, -1, "x", 1e300)
]


@pytest.fixture(scope="module")
def busy_for_every_quote_error():
    """One busy exchange for all of the next test's cases (building one per case was a third of their
    time). Each case's quote must be refused with nothing changed, and it compares the snapshot after it
    with the one before: so every case starts from the state the first one did, and a case that changed
    it fails there."""
    exchange = make_exchange()
    widen(exchange)
    with app_client(create_app(exchange, AppOptions())) as client:
        yield client, make_busy(client, {"Authorization": f"Bearer {KEY}"})


@pytest.mark.parametrize("body,status,code,field", QUOTE_ERRORS)
def test_quote_errors_change_nothing(busy_for_every_quote_error, body, status, code, field):
    client, busy = busy_for_every_quote_error
    before = snapshot(client, busy)
    payload = {"symbol": BTC, **body} if "symbol" not in body else {k: v for k, v in body.items() if v is not None}
    assert_error(client.post("/v1/mm/quote", headers=busy, json=payload), status, code, field)
    assert snapshot(client, busy) == before


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b'"BTC-PERP"', b"null",
                                     b'{"symbol": "BTC-PERP", "bid_price": NaN, "bid_size": 100}',
                                     b'{"symbol": "BTC-PERP", "bid_price": Infinity, "bid_size": 100}',
                                     b'{"symbol": "BTC-PERP", "bid_price": 70000, "bid_size": -Infinity}'])
def test_quote_bodies_that_are_not_quotes_are_400(client, busy, content):
    before = snapshot(client, busy)
    assert_error(client.post("/v1/mm/quote", headers={**busy, "Content-Type": "application/json"},
                             content=content), 400, "invalid_request")
    assert snapshot(client, busy) == before


def test_quote_on_a_market_you_never_touched_changes_nothing_there(client, auth):
    before = snapshot(client, auth)
    assert_error(quote(client, auth, bid_price=3000.0, bid_size=5), 400, "order_too_small")
    assert_error(client.post("/v1/mm/quote", headers=auth, json={"symbol": ETH, "bid_price": 3000, "bid_size": 5}),
                 400, "order_too_small")
    after = snapshot(client, auth)
    assert after == before
    assert after["session"]["status"] == "idle" and after["session"]["started_at"] is None


# ---- quote: what gets posted ---------------------------------------------------------------------
def test_quote_answer_fields(client, auth):
    t = top(client)
    body = ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100, ask_price=t["best_ask"] + 10,
                    ask_size=100))
    assert set(body) >= {"symbol", "bid_id", "ask_id", "bid_price", "ask_price", "bid_size", "ask_size",
                         "bid_qty", "ask_qty", "skipped", "session"}
    assert body["symbol"] == BTC
    assert body["bid_id"].startswith("ord_") and body["ask_id"].startswith("ord_")
    assert body["bid_id"] != body["ask_id"]
    assert body["skipped"] == {}
    assert body["session"]["symbol"] == BTC and body["session"]["status"] == "active"
    assert isinstance(body["timestamp"], int)


def test_symbol_lookup_is_case_insensitive_and_accepts_the_base(client, auth):
    t = top(client)
    for name in ("btc-perp", "btc", "BTC"):
        body = ok(client.post("/v1/mm/quote", headers=auth,
                              json={"symbol": name, "bid_price": t["best_bid"] - 10, "bid_size": 100}))
        assert body["symbol"] == BTC
    assert len(orders(client, auth, "btc")) == 3


@pytest.mark.parametrize("symbol,bid,ask", [(BTC, 70_700.7, 70_900.2), (ETH, 3_790.17, 3_815.03)])
def test_prices_round_to_the_tick_toward_the_passive_side(client, auth, symbol, bid, ask):
    body = ok(client.post("/v1/mm/quote", headers=auth, json={"symbol": symbol, "bid_price": bid, "bid_size": 200,
                                                               "ask_price": ask, "ask_size": 200}))
    tick = TICK[symbol]
    assert body["bid_price"] == pytest.approx(math.floor(bid / tick) * tick, abs=1e-9)
    assert body["ask_price"] == pytest.approx(math.ceil(ask / tick) * tick, abs=1e-9)
    assert body["bid_price"] < bid and body["ask_price"] > ask
    shown = {o["side"]: o["price"] for o in orders(client, auth, symbol)}
    assert shown == {"buy": body["bid_price"], "sell": body["ask_price"]}


def test_a_price_already_on_the_tick_is_kept(client, auth):
    body = ok(quote(client, auth, bid_price=70_700.0, bid_size=100, ask_price=70_900.0, ask_size=100))
    assert (body["bid_price"], body["ask_price"]) == (70_700.0, 70_900.0)


@pytest.mark.parametrize("symbol,usd", [(BTC, 100.0), (BTC, 12.34), (ETH, 250.0), (ETH, 10.5)])
def test_sizes_are_usd_posted_and_qty_on_the_lot_grid(client, auth, symbol, usd):
    t = top(client, symbol)
    bid, ask = t["best_bid"] - 5 * TICK[symbol], t["best_ask"] + 5 * TICK[symbol]
    body = ok(client.post("/v1/mm/quote", headers=auth, json={"symbol": symbol, "bid_price": bid, "bid_size": usd,
                                                               "ask_price": ask, "ask_size": usd}))
    lot = LOT[symbol]
    for side in ("bid", "ask"):
        price, size, qty = body[f"{side}_price"], body[f"{side}_size"], body[f"{side}_qty"]
        lots = qty / lot
        assert lots == pytest.approx(round(lots), abs=1e-6) and round(lots) > 0
        assert size == pytest.approx(price * qty, abs=1e-8)            # USD actually posted
        assert size <= usd + 1e-9 and usd - size < price * lot          # the most whole lots within usd
    resting = {o["side"]: o for o in orders(client, auth, symbol)}
    assert resting["buy"]["size"] == body["bid_qty"] and resting["sell"]["size"] == body["ask_qty"]
    assert resting["buy"]["notional_usd"] == pytest.approx(body["bid_size"], abs=1e-8)


def test_quotes_add_orders_and_do_not_replace(client, auth):
    t = top(client)
    first = ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100, ask_price=t["best_ask"] + 10,
                     ask_size=100))
    second = ok(quote(client, auth, bid_price=t["best_bid"] - 20, bid_size=50, ask_price=t["best_ask"] + 20,
                      ask_size=50))
    ids = {o["order_id"] for o in orders(client, auth)}
    assert ids == {first["bid_id"], first["ask_id"], second["bid_id"], second["ask_id"]}
    assert ok(client.get("/v1/account", headers=auth))["open_orders"] == 4


def test_one_sided_quotes(client, auth):
    t = top(client)
    only_bid = ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100))
    assert only_bid["ask_id"] is None and only_bid["ask_price"] is None and only_bid["ask_size"] is None
    assert only_bid["ask_qty"] is None and "ask" not in only_bid["skipped"]
    only_ask = ok(quote(client, auth, ask_price=t["best_ask"] + 10, ask_size=100))
    assert only_ask["bid_id"] is None and only_ask["ask_id"].startswith("ord_")
    assert sorted(o["side"] for o in orders(client, auth)) == ["buy", "sell"]


def test_alo_that_would_cross_is_skipped(client, auth):
    t = top(client)
    body = ok(quote(client, auth, bid_price=t["best_ask"], bid_size=100, ask_price=t["best_ask"] + 10, ask_size=100,
                    time_in_force="ALO"))
    assert body["bid_id"] is None
    assert body["skipped"] == {"bid": "would_cross"}
    assert body["ask_id"].startswith("ord_")
    assert [o["side"] for o in orders(client, auth)] == ["sell"]
    assert orders(client, auth)[0]["time_in_force"] == "ALO"
    assert fills(client, auth) == []
    assert top(client) == t


def test_alo_ask_that_would_cross_is_skipped(client, auth):
    t = top(client)
    body = ok(quote(client, auth, ask_price=t["best_bid"], ask_size=100, time_in_force="ALO"))
    assert body["ask_id"] is None and body["skipped"] == {"ask": "would_cross"}
    assert orders(client, auth) == [] and fills(client, auth) == []


def test_alo_that_does_not_cross_rests(client, auth):
    bid = inside_bid(client)
    body = ok(quote(client, auth, bid_price=bid, bid_size=100, time_in_force="ALO"))
    assert body["bid_id"].startswith("ord_") and body["skipped"] == {}
    assert top(client)["best_bid"] == bid


def test_gtc_that_crosses_takes_liquidity_then_rests(client, auth):
    book = ok(client.get(f"/v1/markets/{BTC}/orderbook", params={"depth": 5}))
    best_ask = book["asks"][0]
    usd = best_ask["notional_usd"] + 500
    body = ok(quote(client, auth, bid_price=best_ask["price"], bid_size=usd))
    assert body["bid_price"] == best_ask["price"]
    [taken] = fills(client, auth)
    assert taken["order_id"] == body["bid_id"]
    assert taken["liquidity"] == "taker" and taken["kind"] == "quote" and taken["side"] == "buy"
    assert taken["price"] == best_ask["price"] and taken["size"] == pytest.approx(best_ask["size"], abs=1e-12)
    assert taken["fee_usd"] > 0
    assert taken["fee_usd"] == pytest.approx(taken["notional_usd"] * TAKER_FEE, abs=1e-8)
    [resting] = orders(client, auth)
    assert resting["order_id"] == body["bid_id"] and resting["price"] == best_ask["price"]
    assert resting["size"] == pytest.approx(body["bid_qty"], abs=1e-12)
    assert resting["remaining"] == pytest.approx(body["bid_qty"] - best_ask["size"], abs=1e-12)
    after = top(client)
    assert after["best_bid"] == best_ask["price"] and after["best_ask"] > best_ask["price"]
    report = pnl(client, auth)
    assert report["taker_fills"] == 1 and report["maker_fills"] == 0
    assert report["fees"] == pytest.approx(taken["fee_usd"], abs=1e-8)
    assert report["hedge_cost"] > report["fees"]      # it paid up from the mid, too
    assert_matches_reference(client, auth, report)


def test_ioc_never_rests(client, auth):
    t = top(client)
    away = ok(quote(client, auth, bid_price=t["best_bid"] - 50, bid_size=100, time_in_force="IOC"))
    assert away["skipped"] == {}
    assert orders(client, auth) == [] and fills(client, auth) == []
    crossing = ok(quote(client, auth, ask_price=t["best_bid"], ask_size=100, time_in_force="IOC"))
    [taken] = fills(client, auth)
    assert taken["order_id"] == crossing["ask_id"] and taken["liquidity"] == "taker"
    assert taken["side"] == "sell" and taken["price"] == t["best_bid"]
    assert orders(client, auth) == []
    assert inventory(client, auth)["position"] == pytest.approx(-crossing["ask_qty"], abs=1e-12)


def test_ioc_bigger_than_the_touch_sweeps_and_does_not_rest(client, auth):
    book = ok(client.get(f"/v1/markets/{BTC}/orderbook", params={"depth": 5}))
    usd = book["bids"][0]["notional_usd"] + 300
    body = ok(quote(client, auth, ask_price=book["bids"][1]["price"], ask_size=usd, time_in_force="IOC"))
    taken = fills(client, auth)
    assert [f["price"] for f in taken] == [book["bids"][0]["price"], book["bids"][1]["price"]]
    assert sum(f["size"] for f in taken) == pytest.approx(body["ask_qty"], abs=1e-12)
    assert orders(client, auth) == []


# ---- cancel and orders ---------------------------------------------------------------------------
def test_cancel_returns_the_ids_and_empties_orders(client, auth):
    t = top(client)
    a = ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100, ask_price=t["best_ask"] + 10, ask_size=100))
    b = ok(quote(client, auth, bid_price=t["best_bid"] - 20, bid_size=100))
    eth = ok(client.post("/v1/mm/quote", headers=auth, json={"symbol": ETH, "bid_price": 3700, "bid_size": 100}))
    body = ok(client.post("/v1/mm/cancel", headers=auth, json={"symbol": "btc"}))
    assert body["symbol"] == BTC and body["cancelled"] == 3
    assert sorted(body["order_ids"]) == sorted([a["bid_id"], a["ask_id"], b["bid_id"]])
    assert orders(client, auth, BTC) == []
    assert [o["order_id"] for o in orders(client, auth)] == [eth["bid_id"]]      # other markets untouched
    assert top(client) == t                                                         # gone from the book too
    again = ok(client.post("/v1/mm/cancel", headers=auth, json={"symbol": BTC}))
    assert again == {"symbol": BTC, "cancelled": 0, "order_ids": [], "cancelled_at": a["timestamp"]}   # at once
    assert ok(client.get("/v1/mm/session", headers=auth, params={"symbol": BTC}))["status"] == "idle"


def test_cancel_leaves_filled_orders_out(client, auth):
    bid = inside_bid(client)
    q = ok(quote(client, auth, bid_price=bid, bid_size=100, ask_price=top(client)["best_ask"] + 10, ask_size=100))
    hit(client, bid)
    body = ok(client.post("/v1/mm/cancel", headers=auth, json={"symbol": BTC}))
    assert body["order_ids"] == [q["ask_id"]]


@pytest.mark.parametrize("body,status,code", [({}, 400, "invalid_request"), ({"symbol": 1}, 400, "invalid_request"),
                                              ({"symbol": "NOPE"}, 404, "market_not_found")])
def test_cancel_errors_change_nothing(client, busy, body, status, code):
    before = snapshot(client, busy)
    assert_error(client.post("/v1/mm/cancel", headers=busy, json=body), status, code)
    assert snapshot(client, busy) == before


def test_orders_fields(client, auth):
    advance(client, 7)
    t = top(client)
    q = ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100, time_in_force="ALO"))
    [order] = orders(client, auth)
    assert set(order) >= {"order_id", "symbol", "side", "price", "size", "remaining", "notional_usd",
                          "time_in_force", "created_at"}
    assert order["order_id"] == q["bid_id"] and order["symbol"] == BTC and order["side"] == "buy"
    assert order["price"] == q["bid_price"] and order["size"] == q["bid_qty"] and order["remaining"] == q["bid_qty"]
    assert order["notional_usd"] == pytest.approx(q["bid_size"], abs=1e-8)
    assert order["time_in_force"] == "ALO"
    assert order["created_at"] == t["timestamp"] == q["timestamp"]


def test_orders_show_partial_fills(client, auth):
    bid = inside_bid(client)
    q = ok(quote(client, auth, bid_price=bid, bid_size=300))
    hit(client, bid, usd=100)
    [order] = orders(client, auth)
    [fill] = fills(client, auth)
    assert order["size"] == q["bid_qty"]
    assert order["remaining"] == pytest.approx(q["bid_qty"] - fill["size"], abs=1e-12)
    assert order["notional_usd"] == pytest.approx(order["remaining"] * bid, abs=1e-8)


def test_orders_and_fills_of_an_unknown_symbol_are_404(client, busy):
    before = snapshot(client, busy)
    for path in ("/v1/mm/orders", "/v1/mm/fills", "/v1/mm/inventory", "/v1/mm/pnl", "/v1/mm/session"):
        assert_error(client.get(path, headers=busy, params={"symbol": "NOPE"}), 404, "market_not_found")
    assert snapshot(client, busy) == before


# ---- fills ---------------------------------------------------------------------------------------
def test_fills_fields(client, auth):
    bid = inside_bid(client)
    q = ok(quote(client, auth, bid_price=bid, bid_size=100))
    mark = top(client)["mark_price"]      # mid_at_fill is the mark price at the fill (contract, section 4)
    hit(client, bid)
    [fill] = fills(client, auth)
    assert set(fill) >= {"fill_id", "order_id", "symbol", "side", "price", "size", "notional_usd", "liquidity",
                         "fee_usd", "mid_at_fill", "kind", "timestamp"}
    assert fill["fill_id"].startswith("fill_") and fill["order_id"] == q["bid_id"]
    assert fill["symbol"] == BTC and fill["side"] == "buy" and fill["price"] == bid
    assert fill["size"] == q["bid_qty"] and fill["notional_usd"] == pytest.approx(bid * q["bid_qty"], abs=1e-8)
    assert fill["liquidity"] == "maker" and fill["kind"] == "quote"
    assert fill["fee_usd"] == pytest.approx(-fill["notional_usd"] * MAKER_REBATE, abs=1e-8)     # a rebate
    assert fill["mid_at_fill"] == mark
    assert fill["timestamp"] == top(client)["timestamp"]
    [theirs] = fills(client, CAROL)
    assert theirs["liquidity"] == "taker" and theirs["side"] == "sell" and theirs["fee_usd"] > 0
    assert theirs["fill_id"] != fill["fill_id"]


def _three_fills_at_three_times(client, auth) -> list[int]:
    times = []
    for _ in range(3):
        bid = inside_bid(client)
        ok(quote(client, auth, bid_price=bid, bid_size=100))
        hit(client, bid)
        times.append(top(client)["timestamp"])
        advance(client, 10)
    return times


def test_fills_since_and_limit(client, auth):
    times = _three_fills_at_three_times(client, auth)
    every = fills(client, auth)
    assert [f["timestamp"] for f in every] == times
    assert fills(client, auth, since=times[1]) == every[1:]
    assert fills(client, auth, since=times[1] + 1) == every[2:]
    assert fills(client, auth, since=times[2] + 1) == []
    assert fills(client, auth, since=0) == every
    assert fills(client, auth, limit=1) == every[-1:]          # the most recent
    assert fills(client, auth, limit=2) == every[-2:]
    assert fills(client, auth, symbol="btc") == every
    assert fills(client, auth, symbol=ETH) == []


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": -1}, {"limit": "x"}, {"since": -1}, {"since": "x"},
                                    {"limit": 1001}])
def test_fills_bad_params_are_400(client, busy, params):
    before = snapshot(client, busy)
    assert_error(client.get("/v1/mm/fills", headers=busy, params=params), 400, "invalid_request")
    assert snapshot(client, busy) == before


# ---- inventory -----------------------------------------------------------------------------------
def test_inventory_when_flat(client, auth):
    body = inventory(client, auth)
    assert set(body) >= {"symbol", "position", "net_delta_usd", "avg_entry_price", "mark_price", "unrealized_pnl",
                         "realized_pnl", "timestamp"}
    assert body["symbol"] == BTC and body["position"] == 0 and body["net_delta_usd"] == 0
    assert body["avg_entry_price"] is None
    assert body["mark_price"] == top(client)["mark_price"]


@pytest.mark.parametrize("sell", [False, True])
def test_inventory_is_signed_and_marked_at_the_mark_price(client, auth, sell):
    t = top(client)
    price = t["best_ask"] - 1 if sell else t["best_bid"] + 1
    side = {"ask_price": price, "ask_size": 100} if sell else {"bid_price": price, "bid_size": 100}
    q = ok(quote(client, auth, **side))
    hit(client, price, sell=not sell)
    qty = q["ask_qty"] if sell else q["bid_qty"]
    advance(client, 3)
    body = inventory(client, auth, "btc")
    mid = top(client)["mark_price"]       # inventory is marked at the mark price, not the book's mid
    assert body["position"] == pytest.approx(-qty if sell else qty, abs=1e-12)
    assert body["net_delta_usd"] == pytest.approx(body["position"] * mid, abs=1e-6)
    assert body["mark_price"] == mid
    assert body["avg_entry_price"] == price
    assert body["unrealized_pnl"] == pytest.approx(body["position"] * (mid - price), abs=1e-6)
    assert body["realized_pnl"] == 0


def test_inventory_back_to_flat_has_no_entry_price(client, auth):
    bid = inside_bid(client)
    ok(quote(client, auth, bid_price=bid, bid_size=100))
    hit(client, bid)
    ok(client.post("/v1/mm/hedge", headers=auth, json={"symbol": BTC}))
    body = inventory(client, auth)
    assert body["position"] == 0 and body["net_delta_usd"] == 0 and body["avg_entry_price"] is None
    assert body["unrealized_pnl"] == 0
    assert body["realized_pnl"] < 0            # bought at the best bid + 1, sold at the best bid


def test_inventory_needs_a_symbol(client, busy):
    assert_error(client.get("/v1/mm/inventory", headers=busy), 400, "invalid_request", "symbol")


# ---- hedge ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("hedge_pct", [0, 1.5, -1, "x", True, None, 1.0000001])
def test_hedge_pct_outside_0_1_is_400(client, busy, hedge_pct):
    before = snapshot(client, busy)
    body = {"symbol": BTC, "hedge_pct": hedge_pct}
    assert_error(client.post("/v1/mm/hedge", headers=busy, json=body), 400, "invalid_request", "hedge_pct")
    assert snapshot(client, busy) == before


def test_hedge_when_flat_is_409(client, auth):
    before = snapshot(client, auth)
    assert_error(client.post("/v1/mm/hedge", headers=auth, json={"symbol": BTC}), 409, "no_inventory")
    assert snapshot(client, auth) == before


@pytest.mark.parametrize("body,status,code", [({}, 400, "invalid_request"), ({"symbol": "NOPE"}, 404,
                                                                                "market_not_found")])
def test_hedge_other_errors_change_nothing(client, busy, body, status, code):
    before = snapshot(client, busy)
    assert_error(client.post("/v1/mm/hedge", headers=busy, json=body), status, code)
    assert snapshot(client, busy) == before


def test_full_hedge(client, auth):
    bid = inside_bid(client)
    q = ok(quote(client, auth, bid_price=bid, bid_size=400))
    hit(client, bid, usd=400)
    book = ok(client.get(f"/v1/markets/{BTC}/orderbook", params={"depth": 5}))
    mid = top(client)["mark_price"]       # slippage is measured from the mark price (contract, section 4)
    body = ok(client.post("/v1/mm/hedge", headers=auth, json={"symbol": BTC}))       # hedge_pct defaults to 1
    assert set(body) >= {"symbol", "side", "size", "size_usd", "fill_price", "fee_usd", "slippage_usd",
                         "net_delta_usd", "timestamp"}
    assert body["symbol"] == BTC and body["side"] == "sell"
    assert body["size"] == pytest.approx(q["bid_qty"], abs=1e-12)
    hedges = [f for f in fills(client, auth) if f["kind"] == "hedge"]
    assert hedges and all(f["liquidity"] == "taker" and f["side"] == "sell" for f in hedges)
    assert body["size_usd"] == pytest.approx(sum(f["notional_usd"] for f in hedges), abs=1e-8)
    assert body["fill_price"] == pytest.approx(body["size_usd"] / body["size"], rel=1e-12)     # VWAP
    assert body["fill_price"] <= book["bids"][0]["price"]
    assert body["fee_usd"] > 0
    assert body["fee_usd"] == pytest.approx(body["size_usd"] * TAKER_FEE, abs=1e-8)
    assert body["slippage_usd"] == pytest.approx((mid - body["fill_price"]) * body["size"], abs=1e-8)
    assert body["slippage_usd"] > 0
    assert body["net_delta_usd"] == 0
    assert inventory(client, auth)["position"] == 0
    report = pnl(client, auth)
    assert report["hedge_cost"] == pytest.approx(body["fee_usd"] + body["slippage_usd"], abs=1e-8)
    assert_matches_reference(client, auth, report)


def test_partial_hedge(client, auth):
    ask = top(client)["best_ask"] - 1
    q = ok(quote(client, auth, ask_price=ask, ask_size=200))
    hit(client, ask, usd=200, sell=False)
    body = ok(client.post("/v1/mm/hedge", headers=auth, json={"symbol": BTC, "hedge_pct": 0.5}))
    lots = round(q["ask_qty"] / LOT[BTC])
    assert body["side"] == "buy"
    assert body["size"] == pytest.approx((lots // 2) * LOT[BTC], abs=1e-12)
    position = inventory(client, auth)["position"]
    assert position == pytest.approx(-(lots - lots // 2) * LOT[BTC], abs=1e-12)
    assert body["net_delta_usd"] == pytest.approx(position * top(client)["mark_price"], abs=1e-6)


# ---- pnl -----------------------------------------------------------------------------------------
PNL_FIELDS = {"symbol", "since", "until", "spread_income", "rebates", "inventory_pnl", "realized_inventory_pnl",
              "unrealized_inventory_pnl", "fees", "hedge_cost", "net_pnl", "volume_usd", "fills", "maker_fills",
              "taker_fills"}


def _trade_a_little(client, auth) -> None:
    """A maker fill on BTC and ETH, time passing, a jump, a hedge: something in every PnL line."""
    for symbol in (BTC, ETH):
        bid = inside_bid(client, symbol)
        ok(client.post("/v1/mm/quote", headers=auth, json={"symbol": symbol, "bid_price": bid, "bid_size": 300}))
        hit(client, bid, usd=300, symbol=symbol)
    advance(client, 30)
    ok(client.post(f"/_mock/markets/{BTC}/jump", json={"move_bps": -60}))
    ok(client.post("/v1/mm/hedge", headers=auth, json={"symbol": BTC, "hedge_pct": 0.5}))
    advance(client, 30)


def test_pnl_fields_and_identities(client, auth):
    empty = pnl(client, auth)
    assert set(empty) >= PNL_FIELDS
    assert empty["symbol"] is None and empty["net_pnl"] == 0 and empty["fills"] == 0
    _trade_a_little(client, auth)
    for params in ({}, {"symbol": BTC}, {"symbol": "eth"}, {"symbol": "SOL-PERP"}):
        report = pnl(client, auth, **params)
        assert set(report) >= PNL_FIELDS
        assert_matches_reference(client, auth, report)
        assert report["fills"] == report["maker_fills"] + report["taker_fills"]
    everything = pnl(client, auth)
    btc, eth = pnl(client, auth, symbol=BTC), pnl(client, auth, symbol=ETH)
    assert btc["symbol"] == BTC and eth["symbol"] == ETH
    for name in PNL_FIELDS - {"symbol", "since", "until"}:
        assert everything[name] == pytest.approx(btc[name] + eth[name], abs=1e-6), name
    assert btc["maker_fills"] == 1 and btc["taker_fills"] >= 1 and eth["maker_fills"] == 1
    assert btc["rebates"] > 0 and btc["hedge_cost"] > 0 and btc["inventory_pnl"] < 0   # long into a drop
    sol = pnl(client, auth, symbol="SOL-PERP")
    assert sol["fills"] == 0 and sol["net_pnl"] == 0


def test_net_pnl_is_the_change_of_equity(client, auth):
    _trade_a_little(client, auth)
    account = ok(client.get("/v1/account", headers=auth))
    assert pnl(client, auth)["net_pnl"] == pytest.approx(account["equity_usd"] - BALANCE, abs=1e-6)


def test_pnl_since_and_until(client, auth):
    start = top(client)["timestamp"]
    _trade_a_little(client, auth)
    now = top(client)["timestamp"]
    whole = pnl(client, auth)
    assert (whole["since"], whole["until"]) == (start, now)
    middle = start + 15_000
    first = pnl(client, auth, until=middle)
    second = pnl(client, auth, since=middle)
    assert (first["since"], first["until"]) == (start, middle)
    assert (second["since"], second["until"]) == (middle, now)
    assert_matches_reference(client, auth, whole)
    for name in ("spread_income", "rebates", "inventory_pnl", "fees", "hedge_cost", "net_pnl", "volume_usd"):
        assert whole[name] == pytest.approx(first[name] + second[name], abs=1e-6), name
    assert first["fills"] + second["fills"] == whole["fills"]
    # windows are (since, until]: the fills made at the instant the agent appeared need a since before it
    explicit = pnl(client, auth, since=start - 1, until=now)
    assert {**explicit, "since": start} == whole
    assert pnl(client, auth, since=now, until=now)["fills"] == 0
    # until in the future means now
    assert pnl(client, auth, until=now + 3_600_000)["until"] == now


@pytest.fixture(scope="module")
def traded_then_four_minutes():
    """One history for the three windows' reads (reads change nothing): a little trading, four minutes on."""
    exchange = make_exchange()
    widen(exchange)
    auth = {"Authorization": f"Bearer {KEY}"}
    with app_client(create_app(exchange, AppOptions())) as client:
        _trade_a_little(client, auth)
        advance(client, 240)
        yield client, auth


@pytest.mark.parametrize("window,seconds", [("5m", 300), ("1h", 3600), ("24h", 86400)])
def test_pnl_windows(traded_then_four_minutes, window, seconds):
    client, auth = traded_then_four_minutes
    now = top(client)["timestamp"]
    report = pnl(client, auth, window=window)
    assert report["until"] == now and report["since"] == now - seconds * 1000
    assert report == pnl(client, auth, since=now - seconds * 1000)
    if seconds > 300:       # the 1h and 24h windows hold the whole history (5m starts after some fills)
        assert_matches_reference(client, auth, report)


def test_pnl_5m_window_leaves_out_older_fills(client, auth):
    _trade_a_little(client, auth)
    last = max(f["timestamp"] for f in fills(client, auth, limit=1000))
    at_last = sum(f["timestamp"] == last for f in fills(client, auth, limit=1000))     # the hedge's
    # Pinned from both sides: windows are (since, until], so five minutes less a millisecond after the last
    # fill the window still holds it, and five minutes after, nothing.
    advance(client, (last + 299_999 - top(client)["timestamp"]) / 1000)
    assert top(client)["timestamp"] == last + 299_999
    assert pnl(client, auth, window="5m")["fills"] == at_last > 0
    advance(client, 0.001)
    report = pnl(client, auth, window="5m")
    assert report["since"] == last
    assert report["fills"] == 0 and report["spread_income"] == 0 and report["hedge_cost"] == 0
    assert pnl(client, auth, window="24h")["fills"] == pnl(client, auth)["fills"]


@pytest.mark.parametrize("params", [{"window": "5m", "since": 0}, {"since": 2_000_000_000_000, "until": 0},
                                    {"window": "2h"}, {"window": ""}, {"since": -5}, {"until": "x"}])
def test_pnl_bad_params_are_400(client, busy, params):
    before = snapshot(client, busy)
    assert_error(client.get("/v1/mm/pnl", headers=busy, params=params), 400, "invalid_request")
    assert snapshot(client, busy) == before


# ---- sessions ------------------------------------------------------------------------------------
SESSION_FIELDS = {"symbol", "status", "reason", "guardrails", "auto_refresh", "refresh_interval_seconds",
                  "started_at", "stopped_at"}
GUARDRAILS = {"max_inventory_usd", "max_spread_bps", "auto_hedge_threshold_usd", "session_stop_loss_usd"}


def test_session_shape_idle_then_active_then_idle(client, auth):
    idle = ok(client.get("/v1/mm/session", headers=auth, params={"symbol": "btc"}))
    assert set(idle) >= SESSION_FIELDS and set(idle["guardrails"]) >= GUARDRAILS
    assert idle["symbol"] == BTC and idle["status"] == "idle" and idle["started_at"] is None
    assert idle["auto_refresh"] is False and idle["refresh_interval_seconds"] == 5
    t = top(client)
    q = ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100, max_inventory_usd=500,
                 refresh_interval_seconds=2.5))
    active = ok(client.get("/v1/mm/session", headers=auth, params={"symbol": BTC}))
    assert active == q["session"]
    assert active["status"] == "active" and active["started_at"] == t["timestamp"]
    assert active["guardrails"]["max_inventory_usd"] == 500 and active["refresh_interval_seconds"] == 2.5
    ok(client.post("/v1/mm/cancel", headers=auth, json={"symbol": BTC}))
    assert ok(client.get("/v1/mm/session", headers=auth, params={"symbol": BTC}))["status"] == "idle"


def test_session_reset_of_a_session_that_is_not_stopped_changes_nothing(client, auth):
    t = top(client)
    ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100))
    before = ok(client.get("/v1/mm/session", headers=auth, params={"symbol": BTC}))
    after = ok(client.post("/v1/mm/session/reset", headers=auth, json={"symbol": BTC}))
    assert set(after) >= SESSION_FIELDS
    assert after == before
    assert len(orders(client, auth)) == 1


def test_stopped_session_refuses_quotes_until_reset(client, auth):
    bid = inside_bid(client)
    ok(quote(client, auth, bid_price=bid, bid_size=500, session_stop_loss_usd=0.5))
    hit(client, bid, usd=500)
    ok(client.post(f"/_mock/markets/{BTC}/jump", json={"move_bps": -50}))      # ~$2.50 lost on $500 long
    stopped = ok(client.get("/v1/mm/session", headers=auth, params={"symbol": BTC}))
    assert stopped["status"] == "stopped" and stopped["reason"] == "stop_loss"
    assert stopped["stopped_at"] == top(client)["timestamp"]
    t = top(client)
    before = snapshot(client, auth)
    assert_error(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100), 409, "session_stopped")
    assert snapshot(client, auth) == before
    position = inventory(client, auth)["position"]
    reset = ok(client.post("/v1/mm/session/reset", headers=auth, json={"symbol": BTC}))
    assert set(reset) >= SESSION_FIELDS
    assert reset["status"] == "idle" and reset["stopped_at"] is None
    assert inventory(client, auth)["position"] == position            # position and history stay
    assert len(fills(client, auth)) == len(before["fills"])
    assert ok(quote(client, auth, bid_price=t["best_bid"] - 10, bid_size=100))["bid_id"].startswith("ord_")


@pytest.mark.parametrize("method,path,body,status,code", [
    ("GET", "/v1/mm/session", None, 400, "invalid_request"),
    ("POST", "/v1/mm/session/reset", {}, 400, "invalid_request"),
    ("POST", "/v1/mm/session/reset", {"symbol": "NOPE"}, 404, "market_not_found"),
])
def test_session_errors(client, busy, method, path, body, status, code):
    before = snapshot(client, busy)
    assert_error(client.request(method, path, headers=busy, json=body), status, code)
    assert snapshot(client, busy) == before


# ---- one book for every agent --------------------------------------------------------------------
def test_same_price_bids_fill_in_time_priority(client, auth, other_auth):
    bid = inside_bid(client)
    first = ok(quote(client, auth, bid_price=bid, bid_size=100))
    second = ok(quote(client, other_auth, bid_price=bid, bid_size=100))
    level = ok(client.get(f"/v1/markets/{BTC}/orderbook", params={"depth": 1}))["bids"][0]
    assert level["price"] == bid and level["size"] == pytest.approx(first["bid_qty"] + second["bid_qty"], abs=1e-12)
    hit(client, bid, usd=50)                 # less than the first order: only it trades
    [a] = fills(client, auth)
    assert a["order_id"] == first["bid_id"] and fills(client, other_auth) == []
    hit(client, bid, usd=100)                # the rest of the first, then the second
    mine, theirs = fills(client, auth), fills(client, other_auth)
    assert sum(f["size"] for f in mine) == pytest.approx(first["bid_qty"], abs=1e-12)
    assert [f["order_id"] for f in theirs] == [second["bid_id"]]
    sold = sum(f["size"] for f in fills(client, CAROL))
    assert theirs[0]["size"] == pytest.approx(sold - first["bid_qty"], abs=1e-12)
    assert orders(client, auth) == []


def test_a_jump_picks_off_stale_quotes_first_come_first_filled(client, auth, other_auth):
    bid = inside_bid(client)
    first = ok(quote(client, auth, bid_price=bid, bid_size=100))
    second = ok(quote(client, other_auth, bid_price=bid, bid_size=100))
    ok(client.post(f"/_mock/markets/{BTC}/jump", json={"move_bps": -30}))
    mine, theirs = fills(client, auth), fills(client, other_auth)
    assert [f["order_id"] for f in mine] == [first["bid_id"]]
    assert mine[0]["liquidity"] == "maker"
    # the second fills only if the first filled whole
    if theirs:
        assert sum(f["size"] for f in mine) == pytest.approx(first["bid_qty"], abs=1e-12)
    assert all(f["order_id"] == second["bid_id"] for f in theirs)


def test_agents_are_isolated(client, auth, other_auth):
    bid = inside_bid(client)
    mine = ok(quote(client, auth, bid_price=bid, bid_size=100, ask_price=top(client)["best_ask"] + 10, ask_size=100))
    hit(client, bid)
    assert len(fills(client, auth)) == 1
    assert orders(client, other_auth) == [] and orders(client, other_auth, BTC) == []
    assert fills(client, other_auth) == [] and fills(client, other_auth, symbol=BTC) == []
    theirs = pnl(client, other_auth)
    assert theirs["fills"] == 0 and theirs["net_pnl"] == 0 and theirs["volume_usd"] == 0
    assert inventory(client, other_auth)["position"] == 0
    before = snapshot(client, auth)
    cancelled = ok(client.post("/v1/mm/cancel", headers=other_auth, json={"symbol": BTC}))
    assert cancelled["cancelled"] == 0 and cancelled["order_ids"] == []
    assert snapshot(client, auth) == before
    assert [o["order_id"] for o in orders(client, auth)] == [mine["ask_id"]]
    assert_error(client.post("/v1/mm/hedge", headers=other_auth, json={"symbol": BTC}), 409, "no_inventory")
    assert inventory(client, auth)["position"] > 0


def test_an_agent_never_trades_with_itself(client, auth):
    bid = inside_bid(client)
    q = ok(quote(client, auth, bid_price=bid, bid_size=100))
    ok(quote(client, auth, ask_price=bid, ask_size=100, time_in_force="IOC"))
    # the resting bid is cancelled rather than traded against; nothing else was in reach
    assert fills(client, auth) == []
    assert q["bid_id"] not in {o["order_id"] for o in orders(client, auth)}


def test_strict_auth_quote_with_an_issued_key():
    exchange = make_exchange(strict_auth=True)
    with app_client(create_app(exchange, AppOptions())) as c:
        key = c.post("/v1/agents/register", json={}).json()
        headers = {"Authorization": f"Bearer {key['api_key']}"}
        t = top(c)
        assert ok(quote(c, headers, bid_price=t["best_bid"] - 10, bid_size=100))["bid_id"].startswith("ord_")
