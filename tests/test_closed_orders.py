"""Nothing cancelled silently: every order that leaves the book is listed under
``GET /v1/mm/orders?status=closed`` with its status and reason, and a quote's answer lists the orders
that self-trade prevention cancelled (``cancelled_order_ids``). Each reason is reached through the API
as a user would; what a closed order says it filled is checked against the fills, order by order."""

from __future__ import annotations

import math

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from contract_asserts import assert_error
from pf_mock import closed as closed_module
from pf_mock import orders as orders_module
from pf_mock import views
from pf_mock.clock import ManualClock
from pf_mock.closed import ClosedOrder, ClosedOrders
from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.messages import QuoteRequest
from http_steps import advance, bid_ask, jump, mid, quote

SYMBOL = "BTC-PERP"
LOT = 1e-5          # BTC-PERP has sz_decimals 5


# ---- helpers ------------------------------------------------------------------------------------
def book(client) -> dict:
    return client.get(f"/v1/markets/{SYMBOL}/orderbook?depth=5").json()


def closed(client, auth, **params) -> list[dict]:
    r = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "limit": 1000, **params})
    assert r.status_code == 200, r.text
    return r.json()["orders"]


def open_orders(client, auth) -> list[dict]:
    r = client.get("/v1/mm/orders", headers=auth)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"orders"}          # the open listing's shape is the contract's, unchanged
    return r.json()["orders"]


def fills(client, auth) -> list[dict]:
    return client.get("/v1/mm/fills", headers=auth, params={"limit": 1000}).json()["fills"]


def by_id(orders: list[dict]) -> dict[str, dict]:
    return {o["order_id"]: o for o in orders}


def filled_lots(fill_list: list[dict]) -> dict[str, int]:
    """Lots filled per order, from the fills alone."""
    lots: dict[str, int] = {}
    for f in fill_list:
        lots[f["order_id"]] = lots.get(f["order_id"], 0) + round(f["size"] / LOT)
    return lots


def assert_accounted(client, auth, posted: set[str]) -> None:
    """Every order posted is open or closed, exactly once; a closed one's size minus remaining is what
    the fills say it filled (an open one's too), and a filled one has nothing left."""
    now_open, now_closed = open_orders(client, auth), closed(client, auth)
    ids = [o["order_id"] for o in now_open + now_closed]
    assert len(ids) == len(set(ids))
    assert set(ids) == posted
    traded = filled_lots([f for f in fills(client, auth) if f["kind"] == "quote"])
    for o in now_open + now_closed:
        assert round((o["size"] - o["remaining"]) / LOT) == traded.get(o["order_id"], 0), o
        assert math.isclose(o["notional_usd"], o["remaining"] * o["price"], rel_tol=1e-9, abs_tol=1e-9)
    for o in now_closed:
        assert (o["status"] == "filled") == (o["remaining"] == 0) == (o["reason"] is None), o
        assert o["closed_at"] >= o["created_at"]


def ids_of(*answers: dict) -> set[str]:
    return {a[k] for a in answers for k in ("bid_id", "ask_id") if a[k] is not None}


# ---- each way out of the book ---------------------------------------------------------------------
def test_nothing_closed_yet_is_an_empty_page(client, auth):
    r = client.get("/v1/mm/orders", headers=auth, params={"status": "closed"})
    assert r.status_code == 200
    assert r.json() == {"orders": [], "next_cursor": None}


def test_a_client_cancel_lists_the_orders_as_cancelled_by_the_client(client, auth):
    answer = quote(client, auth, **bid_ask(client, 20, 100, 20, 100))
    listed = open_orders(client, auth)
    r = client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    now = client.get("/_mock/state").json()["clock"]["now"]
    gone = closed(client, auth)
    assert {o["order_id"] for o in gone} == set(r.json()["order_ids"]) == ids_of(answer)
    for o in gone:
        assert (o["status"], o["reason"], o["closed_at"]) == ("cancelled", "client", now)
        was = by_id(listed)[o["order_id"]]
        assert {k: o[k] for k in was} == was       # the order as it stood when it left
    assert open_orders(client, auth) == []
    assert_accounted(client, auth, ids_of(answer))


def test_the_refresh_loop_lists_what_it_replaced(client, auth):
    answer = quote(client, auth, **bid_ask(client, 30, 100, 30, 100), auto_refresh=True, refresh_interval_seconds=5)
    advance(client, 12)                         # two refreshes: the first pair and the second are replaced
    gone = closed(client, auth)
    assert len(gone) == 4 and {o["reason"] for o in gone} == {"refresh"}
    assert {o["status"] for o in gone} == {"cancelled"}
    assert ids_of(answer) <= {o["order_id"] for o in gone}
    start = answer["timestamp"]
    assert sorted({o["closed_at"] for o in gone}) == [start + 5000, start + 10000]
    posted = {o["order_id"] for o in gone} | {o["order_id"] for o in open_orders(client, auth)}
    assert len(open_orders(client, auth)) == 2
    assert_accounted(client, auth, posted)


def self_trade_setup(client, auth) -> tuple[dict, float]:
    """A resting ask of the agent's own at the top of the book, alone inside the house's spread."""
    # a spread of several ticks (the touch is one tick wide on a calm major)
    assert client.post(f"/_mock/markets/{SYMBOL}/regime", json={"spread_bps": 2}).status_code == 200
    b = book(client)
    tick = client.get(f"/v1/markets/{SYMBOL}").json()["tick_size"]
    best_bid, best_ask = b["bids"][0]["price"], b["asks"][0]["price"]
    assert best_ask - best_bid >= 2 * tick - 1e-9, "needs a spread of two ticks"
    price = best_ask - tick
    ask = quote(client, auth, ask_price=price, ask_size=100)
    assert book(client)["asks"][0]["price"] == ask["ask_price"] == price
    return ask, price


def test_self_trade_prevention_is_listed_in_the_quote_answer_and_in_closed_orders(client, auth):
    ask, price = self_trade_setup(client, auth)
    bid = quote(client, auth, bid_price=price, bid_size=100)         # crosses only the agent's own ask
    assert bid["cancelled_order_ids"] == [ask["ask_id"]]
    assert fills(client, auth) == []                                # no self-trade
    assert [o["order_id"] for o in open_orders(client, auth)] == [bid["bid_id"]]     # the bid rests
    [gone] = closed(client, auth)
    assert (gone["order_id"], gone["status"], gone["reason"]) == (ask["ask_id"], "cancelled", "self_trade")
    assert gone["closed_at"] == bid["timestamp"]
    assert gone["remaining"] == gone["size"] == ask["ask_qty"]
    assert_accounted(client, auth, ids_of(ask, bid))


def test_a_quote_without_self_trade_lists_no_cancelled_orders(client, auth):
    answer = quote(client, auth, **bid_ask(client, 20, 100, 20, 100))
    assert answer["cancelled_order_ids"] == []
    crossing = quote(client, auth, **bid_ask(client, -30, 50))        # crosses the house's asks only
    assert crossing["cancelled_order_ids"] == []
    assert ask_still_open(client, auth, answer["ask_id"])


def ask_still_open(client, auth, order_id: str) -> bool:
    return order_id in {o["order_id"] for o in open_orders(client, auth)}


def test_a_hedge_that_meets_the_agents_own_order_lists_it_as_self_trade(client, auth):
    # Long first: a bid the jump runs through; then a bid of the agent's own at the top of the book.
    first = quote(client, auth, **bid_ask(client, 2, 100))
    jump(client, -10)
    assert fills(client, auth), "the jump should have filled the bid"
    b = book(client)
    tick = client.get(f"/v1/markets/{SYMBOL}").json()["tick_size"]
    top = quote(client, auth, bid_price=b["bids"][0]["price"] + tick, bid_size=50)
    assert book(client)["bids"][0]["price"] == top["bid_price"]
    r = client.post("/v1/mm/hedge", headers=auth, json={"symbol": SYMBOL})       # sells into the bids
    assert r.status_code == 200, r.text
    gone = by_id(closed(client, auth))
    assert (gone[top["bid_id"]]["status"], gone[top["bid_id"]]["reason"]) == ("cancelled", "self_trade")
    assert_accounted(client, auth, ids_of(first, top))


def test_a_fill_lists_the_order_as_filled_with_what_the_fills_say(client, auth):
    answer = quote(client, auth, **bid_ask(client, 2, 100, 40, 100))
    moved = jump(client, -20)                   # runs through the bid
    gone = closed(client, auth)
    assert [o["order_id"] for o in gone] == [answer["bid_id"]]
    [o] = gone
    assert (o["status"], o["reason"], o["remaining"], o["notional_usd"]) == ("filled", None, 0.0, 0.0)
    assert o["closed_at"] == moved["timestamp"]
    assert o["size"] == answer["bid_qty"]
    assert_accounted(client, auth, ids_of(answer))


def test_an_order_that_fills_whole_as_it_arrives_is_closed_at_once(client, auth):
    answer = quote(client, auth, **bid_ask(client, -30, 50))          # a bid 30 bps over the mid: takes at once
    [o] = closed(client, auth)
    assert (o["order_id"], o["status"], o["reason"]) == (answer["bid_id"], "filled", None)
    assert open_orders(client, auth) == []
    assert all(f["liquidity"] == "taker" for f in fills(client, auth))
    assert_accounted(client, auth, ids_of(answer))


def test_an_ioc_remainder_expires(client, auth):
    missed = quote(client, auth, **bid_ask(client, 50, 100), time_in_force="IOC")    # crosses nothing
    taken = quote(client, auth, **bid_ask(client, -30, 50), time_in_force="IOC")     # crosses the asks
    gone = by_id(closed(client, auth))
    m = gone[missed["bid_id"]]
    assert (m["status"], m["reason"], m["remaining"], m["time_in_force"]) == ("expired", "ioc", m["size"], "IOC")
    t = gone[taken["bid_id"]]
    assert (t["status"], t["reason"]) == ("filled", None)
    assert open_orders(client, auth) == []
    assert_accounted(client, auth, ids_of(missed, taken))


def test_an_alo_side_that_would_cross_is_not_an_order(client, auth):
    answer = quote(client, auth, **bid_ask(client, -30, 50, 60, 50), time_in_force="ALO")
    assert answer["bid_id"] is None and answer["skipped"] == {"bid": "would_cross"}
    assert closed(client, auth) == []
    assert_accounted(client, auth, ids_of(answer))


def test_max_inventory_lists_the_held_side_it_cancelled(client, auth):
    first = quote(client, auth, **bid_ask(client, 2, 100), max_inventory_usd=105)
    second = quote(client, auth, **bid_ask(client, 40, 100))
    jump(client, -10)                           # fills the first bid; the second is held, then cancelled
    gone = by_id(closed(client, auth))
    assert (gone[first["bid_id"]]["status"], gone[first["bid_id"]]["reason"]) == ("filled", None)
    held = gone[second["bid_id"]]
    assert (held["status"], held["reason"], held["remaining"]) == ("cancelled", "max_inventory", held["size"])
    assert_accounted(client, auth, ids_of(first, second))


def test_max_inventory_that_stops_a_fill_part_way_lists_the_rest_as_cancelled(client, auth):
    # Both bids are run through at once: the second fills only to the limit (the book's guard), and its
    # rest is cancelled inside the sweep.
    first = quote(client, auth, **bid_ask(client, 5, 200), max_inventory_usd=250)
    second = quote(client, auth, **bid_ask(client, 10, 200))
    jump(client, -30)
    gone = by_id(closed(client, auth))
    cut = gone[second["bid_id"]]
    assert (cut["status"], cut["reason"]) == ("cancelled", "max_inventory")
    assert 0 < cut["remaining"] < cut["size"]               # part of it filled
    assert gone[first["bid_id"]]["status"] == "filled"
    assert_accounted(client, auth, ids_of(first, second))


def test_a_spread_pause_lists_the_orders_it_cancelled(client, auth):
    answer = quote(client, auth, **bid_ask(client, 2.5, 100, 2.5, 100), max_spread_bps=10)
    r = client.post(f"/_mock/markets/{SYMBOL}/regime", json={"spread_bps": 40})
    assert r.status_code == 200
    s = client.get("/v1/mm/session", headers=auth, params={"symbol": SYMBOL}).json()
    assert s["status"] == "paused"
    gone = closed(client, auth)
    assert {o["order_id"] for o in gone} == ids_of(answer)
    assert {(o["status"], o["reason"]) for o in gone} == {("cancelled", "spread_pause")}
    assert_accounted(client, auth, ids_of(answer))


def test_a_stop_loss_lists_the_orders_it_cancelled(client, auth):
    answer = quote(client, auth, **bid_ask(client, 5, 500, 5, 100), session_stop_loss_usd=5)
    jump(client, -300)                          # the bid fills and the mid keeps falling past it
    gone = by_id(closed(client, auth))
    assert (gone[answer["ask_id"]]["status"], gone[answer["ask_id"]]["reason"]) == ("cancelled", "stop_loss")
    assert gone[answer["bid_id"]]["status"] == "filled"
    assert_accounted(client, auth, ids_of(answer))


# ---- the listing: symbol, paging, other agents --------------------------------------------------
def test_closed_orders_are_the_agents_own_and_filter_by_symbol(client, auth, other_auth):
    mine = quote(client, auth, **bid_ask(client, 20, 100, 20, 100))
    eth_mid = client.get("/v1/markets/ETH-PERP/price").json()["mid"]
    eth = client.post("/v1/mm/quote", headers=auth, json={"symbol": "eth", "bid_price": eth_mid * 0.998,
                                                          "bid_size": 100}).json()
    theirs = quote(client, other_auth, **bid_ask(client, 20, 100))
    for who, symbol in ((auth, SYMBOL), (auth, "ETH-PERP"), (other_auth, SYMBOL)):
        assert client.post("/v1/mm/cancel", headers=who, json={"symbol": symbol}).status_code == 200
    assert {o["order_id"] for o in closed(client, auth)} == ids_of(mine, eth)
    assert {o["order_id"] for o in closed(client, auth, symbol="btc")} == ids_of(mine)
    assert {o["order_id"] for o in closed(client, auth, symbol="ETH-PERP")} == ids_of(eth)
    assert {o["order_id"] for o in closed(client, other_auth)} == ids_of(theirs)


def test_paging_reads_every_closed_order_once_in_the_order_they_left(client, auth):
    posted = []
    for _ in range(7):
        posted.append(quote(client, auth, **bid_ask(client, 20, 50, 20, 50)))
        client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
        advance(client, 1)
    everything = closed(client, auth)
    assert len(everything) == 14
    assert [o["closed_at"] for o in everything] == sorted(o["closed_at"] for o in everything)
    newest = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "limit": 3}).json()
    assert newest == {"orders": everything[-3:], "next_cursor": None}
    seen, cursor, pages = [], "0", 0
    while cursor is not None:
        page = client.get("/v1/mm/orders", headers=auth,
                          params={"status": "closed", "limit": 4, "cursor": cursor}).json()
        seen += page["orders"]
        cursor, pages = page["next_cursor"], pages + 1
    assert seen == everything and pages == 4            # 4 + 4 + 4 + 2
    # A cursor keeps its place as more orders close.
    page = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "limit": 13, "cursor": "0"}).json()
    assert page["next_cursor"] == "13"
    quote(client, auth, **bid_ask(client, 20, 50))
    client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    after = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "cursor": "13"}).json()
    newest = closed(client, auth)[-1]["order_id"]
    assert [o["order_id"] for o in after["orders"]] == [everything[13]["order_id"], newest]
    assert client.get("/v1/mm/orders", headers=auth,
                      params={"status": "closed", "cursor": "999"}).json() == {"orders": [], "next_cursor": None}


def test_paging_with_a_symbol_counts_only_that_symbols_orders(client, auth):
    for _ in range(3):
        quote(client, auth, **bid_ask(client, 20, 50))
        client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
        eth_mid = client.get("/v1/markets/ETH-PERP/price").json()["mid"]
        client.post("/v1/mm/quote", headers=auth, json={"symbol": "ETH-PERP", "bid_price": eth_mid * 0.998,
                                                        "bid_size": 50})
        client.post("/v1/mm/cancel", headers=auth, json={"symbol": "ETH-PERP"})
    btc = closed(client, auth, symbol=SYMBOL)
    first = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "symbol": SYMBOL, "limit": 2,
                                                              "cursor": "0"}).json()
    assert first["orders"] == btc[:2]
    rest = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "symbol": SYMBOL,
                                                             "cursor": first["next_cursor"]}).json()
    assert rest == {"orders": btc[2:], "next_cursor": None}
    # The last BTC order is not the last closed one (an ETH order came after it): still the end.
    last = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "symbol": SYMBOL, "limit": 3,
                                                             "cursor": "0"}).json()
    assert last == {"orders": btc, "next_cursor": None}


# ---- hostile parameters: a 400 in the error shape, nothing changed --------------------------------
@pytest.mark.parametrize("params, field", [
    ({"status": "CLOSED"}, "status"), ({"status": "all"}, "status"), ({"status": ""}, "status"),
    ({"status": "\u00e9"}, "status"),
    ({"status": "closed", "cursor": "-1"}, "cursor"), ({"status": "closed", "cursor": "1" * 13}, "cursor"),
    ({"status": "closed", "cursor": "abc"}, "cursor"), ({"status": "closed", "cursor": ""}, "cursor"),
    ({"status": "closed", "limit": 0}, "limit"), ({"status": "closed", "limit": 1001}, "limit"),
    ({"status": "closed", "limit": "1.5"}, "limit"), ({"status": "closed", "limit": "9" * 400}, "limit"),
    ({"cursor": "x"}, "cursor"), ({"limit": 0}, "limit"), ({"status": "open", "limit": 1001}, "limit"),
])
def test_bad_listing_parameters_are_400_and_change_nothing(client, auth, params, field):
    answer = quote(client, auth, **bid_ask(client, 20, 100, 20, 100))
    client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    quote(client, auth, **bid_ask(client, 20, 100))
    before = (open_orders(client, auth), closed(client, auth), client.get("/_mock/state").json())
    assert_error(client.get("/v1/mm/orders", headers=auth, params=params), 400, "invalid_request", field)
    assert (open_orders(client, auth), closed(client, auth), client.get("/_mock/state").json()) == before
    assert ids_of(answer) <= {o["order_id"] for o in before[1]}


def test_paging_parameters_leave_the_open_listing_whole(client, auth):
    for bps in (20, 30, 40):
        quote(client, auth, **bid_ask(client, bps, 50))
    everything = client.get("/v1/mm/orders", headers=auth).json()
    assert len(everything["orders"]) == 3
    for params in ({"limit": 1}, {"cursor": "2"}, {"status": "open", "limit": 1, "cursor": "0"}):
        assert client.get("/v1/mm/orders", headers=auth, params=params).json() == everything


def test_limit_is_pinned_at_both_ends(client, auth):
    for n in range(3):
        quote(client, auth, **bid_ask(client, 20, 50))
        client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    for limit, count in ((1, 1), (1000, 3)):
        r = client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "limit": limit})
        assert r.status_code == 200 and len(r.json()["orders"]) == count
    assert client.get("/v1/mm/orders", headers=auth, params={"status": "closed"}).status_code == 200


def test_the_unknown_symbol_is_404(client, auth):
    assert_error(client.get("/v1/mm/orders", headers=auth, params={"status": "closed", "symbol": "NOPE"}),
                 404, "market_not_found")


# ---- the schema -------------------------------------------------------------------------------------
def test_the_openapi_schema_declares_the_parameters_the_field_and_the_names(client):
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/mm/orders"]["get"]["parameters"]}
    assert set(params) >= {"symbol", "status", "cursor", "limit"}
    schemas = spec["components"]["schemas"]

    def resolve(s: dict) -> dict:
        return schemas[s["$ref"].rsplit("/", 1)[1]] if "$ref" in s else s

    status = resolve(params["status"]["schema"])
    assert status.get("enum") == ["open", "closed"] and status.get("default", params["status"]["schema"].get(
        "default")) == "open"
    limit = params["limit"]["schema"]["anyOf"][0]
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)
    closed_view = schemas["ClosedOrderView"]
    assert closed_view["properties"]["status"]["enum"] == ["filled", "cancelled", "expired"]
    reasons = closed_view["properties"]["reason"]["anyOf"][0]["enum"]
    assert reasons == ["client", "refresh", "self_trade", "max_inventory", "spread_pause", "stop_loss", "ioc",
                       "would_cross"]
    assert set(closed_view["required"]) >= {"status", "reason", "closed_at"}
    quote_answer = schemas["QuoteAnswer"]
    assert "cancelled_order_ids" in quote_answer["required"]
    assert quote_answer["properties"]["cancelled_order_ids"]["items"]["type"] == "string"
    orders = schemas["Orders"]
    assert orders["required"] == ["orders"]             # next_cursor is there only on a closed listing


# ---- retention ------------------------------------------------------------------------------------
def record(n: int, symbol: str = SYMBOL) -> ClosedOrder:
    return ClosedOrder(f"ord_{n:012x}", symbol, n % 2 == 0, 100.0 + n, 1.0, 0.5, 50.0 + n, "GTC", n, n + 1,
                       "cancelled", "client")


def test_retention_keeps_the_newest_and_a_cursor_resumes_at_the_oldest_kept(monkeypatch):
    monkeypatch.setattr(closed_module, "CLOSED_KEPT", 10)
    monkeypatch.setattr(closed_module, "_SLACK", 5)
    store = ClosedOrders()
    for n in range(16):
        store.append(record(n))
    assert len(store) == 16 and len(store.ids) <= 15    # never more than kept + slack
    kept = [store[i].order_id for i in range(store.dropped, len(store))]
    assert kept == [f"ord_{n:012x}" for n in range(store.dropped, 16)]
    assert store.dropped == 6 and len(kept) == 10
    page, after = store.page(None, 0, 3)                # a cursor before the oldest kept: from the oldest kept
    assert [c.order_id for c in page] == kept[:3] and after == 9
    page, after = store.page(None, after, 100)
    assert [c.order_id for c in page] == kept[3:] and after is None
    assert store[15] == record(15)                      # read back exactly as filed
    with pytest.raises(IndexError):
        store[5]


def test_the_store_stays_bounded_over_many_orders():
    store = ClosedOrders()
    for n in range(closed_module.CLOSED_KEPT * 3):
        store.append(record(n, "ETH-PERP" if n % 3 else SYMBOL))
    assert len(store.ids) <= closed_module.CLOSED_KEPT + closed_module._SLACK
    assert len(store) == closed_module.CLOSED_KEPT * 3
    page, _ = store.page(SYMBOL, None, 2)
    assert [c.order_id for c in page] == [f"ord_{n:012x}" for n in (closed_module.CLOSED_KEPT * 3 - 6,
                                                                      closed_module.CLOSED_KEPT * 3 - 3)]


# ---- the state machine: every order is accounted for, whatever happens --------------------------
GUARD_VALUES = {
    "max_inventory_usd": st.floats(20, 1_500),
    "max_spread_bps": st.floats(2, 50),
    "auto_hedge_threshold_usd": st.floats(50, 2_000),
    "session_stop_loss_usd": st.floats(1, 60),
}


class ClosedOrderMachine(RuleBasedStateMachine):
    """Random quotes (crossing ones too), guardrails, refresh loops, jumps, regime changes, hedges,
    cancels and resets on the core exchange. Every order posted is recorded where all quote orders are
    posted (``orders.place``, which the quotes and the refresh loop alike go through), independently of
    how the exchange files closed orders; then after every step:

    - every order posted is open or closed, never both, and closed once;
    - what each says it filled (size - remaining, in lots) is what the ledger's fills for it add up to;
    - filled <=> nothing remains <=> no reason; every order a quote's answer said self-trade prevention
      cancelled is closed with reason self_trade;
    - the closed listing (the route's core call) is the store's newest, oldest first.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ex = Exchange(ExchangeConfig(seed=0), ManualClock())
        self.agent = self.ex.authenticate("pf_test_closed_12345678")
        self.posted: list[str] = []
        self.self_traded: set[str] = set()
        self._place = orders_module.place

        def place(*args, **kwargs):
            out = self._place(*args, **kwargs)
            if out.order_id is not None:
                self.posted.append(out.order_id)
            return out
        orders_module.place = place

    def teardown(self) -> None:
        orders_module.place = self._place

    @initialize(bps=st.floats(0, 20), usd=st.floats(50, 600), guards=st.fixed_dictionaries({}, optional=GUARD_VALUES),
                interval=st.floats(2, 10))
    def start(self, bps, usd, guards, interval):
        self.quote(bps, bps, usd, usd, guards, True, interval, "GTC")

    @rule(bid_bps=st.none() | st.floats(-8, 40), ask_bps=st.none() | st.floats(-8, 40),
          bid_usd=st.floats(15, 600), ask_usd=st.floats(15, 600),
          guards=st.fixed_dictionaries({}, optional=GUARD_VALUES), auto_refresh=st.sampled_from([None, True, False]),
          interval=st.none() | st.floats(2, 10), tif=st.sampled_from(["GTC", "GTC", "ALO", "IOC"]))
    def quote(self, bid_bps, ask_bps, bid_usd, ask_usd, guards, auto_refresh, interval, tif):
        if bid_bps is None and ask_bps is None:
            bid_bps = 5.0
        mid = self.ex.market(SYMBOL).mid
        req = QuoteRequest(symbol=SYMBOL, time_in_force=tif, auto_refresh=auto_refresh,
                           refresh_interval_seconds=interval, **guards)
        if bid_bps is not None:
            req.bid_price, req.bid_size = mid * (1 - bid_bps / 1e4), bid_usd
        if ask_bps is not None:
            req.ask_price, req.ask_size = mid * (1 + ask_bps / 1e4), ask_usd
        try:
            result = self.ex.quote(self.agent, req)
        except ApiError:
            return
        self.note_self_trades(result)

    def note_self_trades(self, result) -> None:
        """Keep the orders a quote's answer says self-trade prevention cancelled."""
        answer = views.quote(result)
        if answer.cancelled_order_ids:
            event("a quote's self-trade prevention cancelled an order")
        self.self_traded.update(answer.cancelled_order_ids)

    @rule(move=st.floats(-300, 300))
    def jump(self, move):
        self.ex.jump(SYMBOL, move)

    @rule(stop=st.floats(1, 5), usd=st.floats(100, 600), down=st.booleans())
    def quote_into_a_stop_loss(self, stop, usd, down):
        """A tight stop-loss, then a move that runs through one side and on: the guardrails' cancels."""
        self.quote(3, 3, usd, usd, {"session_stop_loss_usd": stop, "max_inventory_usd": usd * 1.5}, None, None,
                   "GTC")
        self.ex.jump(SYMBOL, -250 if down else 250)

    @rule(usd=st.floats(15, 300), tif=st.sampled_from(["GTC", "IOC"]))
    def quote_across_its_own(self, usd, tif):
        """A quote up to the price of the agent's own best resting order: self-trade prevention's case."""
        market = self.ex.market(SYMBOL)
        mine = [info.order for info in market.open_orders(self.agent.agent_id)]
        if not mine:
            return
        target = min(mine, key=lambda o: (o.is_buy, o.price if not o.is_buy else -o.price))
        price = market.grid.to_price(target.price)
        side = dict(ask_price=price, ask_size=usd) if target.is_buy else dict(bid_price=price, bid_size=usd)
        try:
            result = self.ex.quote(self.agent, QuoteRequest(symbol=SYMBOL, time_in_force=tif, **side))
        except ApiError:
            return
        self.note_self_trades(result)

    @rule(seconds=st.floats(0.5, 30))
    def advance(self, seconds):
        self.ex.advance(seconds)

    @rule(spread=st.sampled_from([1.0, 3.0, 30.0, 80.0]))
    def regime(self, spread):
        self.ex.set_regime(SYMBOL, {"spread_bps": spread})

    @rule()
    def cancel(self):
        self.ex.cancel(self.agent, SYMBOL)

    @rule()
    def reset(self):
        self.ex.session_reset(self.agent, SYMBOL)

    @rule(pct=st.floats(0.05, 1.0))
    def hedge(self, pct):
        try:
            self.ex.hedge(self.agent, SYMBOL, pct)
        except ApiError:
            pass

    @invariant()
    def every_order_is_accounted_for(self):
        open_now = self.ex.orders(self.agent).orders
        store = self.agent.closed_orders
        assert store.dropped == 0                       # far fewer than kept: all of them are here
        gone = [store[i] for i in range(len(store))]
        open_ids = [o.order_id for o in open_now]
        closed_ids = [c.order_id for c in gone]
        assert len(closed_ids) == len(set(closed_ids)), "an order closed twice"
        assert not set(open_ids) & set(closed_ids), "an order both open and closed"
        assert sorted(open_ids + closed_ids) == sorted(self.posted), "an order lost, or one never posted"
        ledger = self.agent.ledgers.get(SYMBOL)
        lot_scale = self.ex.market(SYMBOL).grid.lot_scale
        traded: dict[str, int] = {}
        for f in (ledger.fills if ledger else []):
            if f.kind == "quote":
                traded[f.order_id] = traded.get(f.order_id, 0) + round(f.size * lot_scale)
        assert set(traded) <= set(self.posted)
        for o in [*open_now, *gone]:
            assert round((o.size - o.remaining) * lot_scale) == traded.get(o.order_id, 0), o
        for c in gone:
            event(f"closed: {c.status} ({c.reason})")
            assert (c.status == "filled") == (c.remaining == 0) == (c.reason is None), c
            assert c.closed_at >= c.created_at
        reasons = {c.order_id: c.reason for c in gone}
        assert all(reasons.get(i) == "self_trade" for i in self.self_traded)
        page = self.ex.orders(self.agent, status="closed", limit=50)
        assert [o.order_id for o in page.orders] == closed_ids[-50:]


ClosedOrderMachine.TestCase.settings = settings(stateful_step_count=25, deadline=None)
TestClosedOrderProperties = ClosedOrderMachine.TestCase


# ---- the typed client ---------------------------------------------------------------------------------
def test_the_typed_client_reads_closed_orders_into_the_servers_models():
    from pf_mock import messages
    from pf_mock.client import Client
    from app_client import in_process

    with in_process(seed=1) as mock, Client(http=mock.client, api_key="pf_test_typed_client_1") as pf:
        top = pf.price(SYMBOL)
        answer = pf.quote(SYMBOL, bid_price=top.best_bid * 0.998, bid_size=100, ask_price=top.best_ask * 1.002,
                          ask_size=100)
        assert answer.cancelled_order_ids == []
        assert pf.orders(SYMBOL).model_dump_json().startswith('{"orders":[{')          # no next_cursor when open
        pf.cancel(SYMBOL)
        page = pf.orders(status="closed", limit=1, cursor="0")
        assert isinstance(page, messages.Orders) and page.next_cursor == "1"
        [first] = page.orders
        assert isinstance(first, messages.ClosedOrderView)
        assert (first.order_id, first.status, first.reason) == (answer.bid_id, "cancelled", "client")
        rest = pf.orders(status="closed", cursor=page.next_cursor)
        assert [o.order_id for o in rest.orders] == [answer.ask_id] and rest.next_cursor is None


@pytest.mark.latency        # as every benchmark run by run_script (this one sets its own latency of 0)
def test_the_closed_orders_benchmark_runs(capsys):
    # in this process, as it measures (its exchanges are in its own process either way): no interpreter to start
    from bench_scripts import run_script

    assert run_script("closed_orders.py", "--quick") == 0
    out = capsys.readouterr().out
    for line in ("filing nothing (baseline)", "filing every closed order", "ratio", "filing alone:",
                 "one agent's store after"):
        assert line in out, f"missing {line!r} in:\n{out}"


@pytest.mark.parametrize("cursor", ["\uff11", "-1", "1" * 13, "", 5, "0x1"])
def test_the_core_checks_a_cursor_as_the_route_does(exchange, cursor):
    agent = exchange.authenticate("pf_test_core_cursor_1")
    with pytest.raises(ApiError) as refused:
        exchange.orders(agent, status="closed", cursor=cursor)
    assert (refused.value.status, refused.value.code) == (400, "invalid_request")


@pytest.mark.parametrize("status, limit", [("closed", 0), ("closed", 1001), ("closed", True), ("closed", 2.0),
                                           ("all", None), ("CLOSED", None)])
def test_the_core_checks_status_and_limit_as_the_route_does(exchange, status, limit):
    agent = exchange.authenticate("pf_test_core_cursor_1")
    with pytest.raises(ApiError) as refused:
        exchange.orders(agent, status=status, limit=limit)
    assert (refused.value.status, refused.value.code) == (400, "invalid_request")
