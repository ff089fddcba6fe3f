"""Market data over HTTP (CONTRACT sections 1, 2 and 7's clock and reset): shapes, the tick grid, the
ordering of books and prints, lookups, and every error the routes can give."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app_client import AppClient, app_client
from pf_mock.api import AppOptions, create_app
from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH, ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.grid import Grid
from contract_asserts import assert_error, assert_error_shape
from http_steps import advance

START_MS = int(DEFAULT_EPOCH * 1000)
ITEM_FIELDS = {"symbol", "base", "quote", "sz_decimals", "tick_size", "min_notional_usd", "max_leverage",
               "mid", "best_bid", "best_ask", "status"}
DETAIL_FIELDS = ITEM_FIELDS | {"spread_bps", "volatility_annual", "volume_24h_usd", "high_24h", "low_24h",
                               "change_24h_pct"}
MARKET_ROUTES = ("", "/price", "/orderbook", "/trades", "/candles")


def state(client: AppClient) -> dict:
    response = client.get("/_mock/state")
    assert response.status_code == 200
    return response.json()


def grid_units(sz_decimals: int, price: float) -> int:
    """A price from JSON back to grid units, checking it is exactly a unit count."""
    grid = Grid(sz_decimals)
    units = round(price * grid.price_scale)
    assert grid.to_price(units) == price, price
    return units


# ---- the list ---------------------------------------------------------------------------------------
def test_markets_list_pages_through_all_275(client: AppClient) -> None:
    seen = []
    for offset in range(0, 400, 100):
        body = client.get("/v1/markets", params={"limit": 100, "offset": offset}).json()
        assert body["total"] == 275
        assert body["count"] == len(body["markets"]) == max(0, min(100, 275 - offset))
        seen.extend(body["markets"])
    assert len(seen) == 275
    symbols = [item["symbol"] for item in seen]
    assert len(set(symbols)) == 275
    assert symbols[0] == "BTC-PERP"
    whole = client.get("/v1/markets", params={"limit": 500}).json()
    assert whole["count"] == whole["total"] == 275
    assert [item["symbol"] for item in whole["markets"]] == symbols

    for item in seen:
        assert ITEM_FIELDS <= item.keys(), item
        assert re.fullmatch(r"[A-Za-z0-9]+-PERP", item["symbol"]), item
        assert item["symbol"] == f"{item['base']}-PERP"
        assert item["quote"] == "USDC"
        assert item["status"] == "active"
        assert item["min_notional_usd"] == 10
        assert isinstance(item["sz_decimals"], int) and 0 <= item["sz_decimals"] <= 5
        assert isinstance(item["max_leverage"], int) and item["max_leverage"] >= 1
        assert item["mid"] > 0
        assert item["best_bid"] < item["mid"] < item["best_ask"], item
        grid = Grid(item["sz_decimals"])
        bid = grid_units(item["sz_decimals"], item["best_bid"])
        ask = grid_units(item["sz_decimals"], item["best_ask"])
        assert grid.is_on_grid(bid) and grid.is_on_grid(ask), item
        # The tick at the current price, by the rule: 5 figures, at most 6 - sz decimals, <= $1.
        mid_units = int(item["mid"] * grid.price_scale)
        expected_tick = min(10 ** max(0, len(str(mid_units)) - 5), grid.price_scale) / grid.price_scale
        assert item["tick_size"] == expected_tick, item


def test_markets_list_default_page_and_offset_past_the_end(client: AppClient) -> None:
    body = client.get("/v1/markets").json()
    assert body["total"] == 275 and body["count"] == len(body["markets"]) >= 1
    body = client.get("/v1/markets", params={"offset": 275}).json()
    assert body == {**body, "markets": [], "count": 0, "total": 275}
    body = client.get("/v1/markets", params={"limit": 1, "offset": 274}).json()
    assert body["count"] == 1 and body["markets"][0]["symbol"] != "BTC-PERP"


# ---- one market ---------------------------------------------------------------------------------------
def test_market_detail_fields(client: AppClient) -> None:
    advance(client, 600)
    body = client.get("/v1/markets/BTC-PERP").json()
    assert DETAIL_FIELDS <= body.keys()
    assert body["symbol"] == "BTC-PERP" and body["base"] == "BTC" and body["sz_decimals"] == 5
    assert body["volatility_annual"] == 0.55
    assert body["spread_bps"] > 0
    expected_spread = (body["best_ask"] - body["best_bid"]) / body["mid"] * 1e4
    assert body["spread_bps"] == pytest.approx(expected_spread, rel=1e-5)
    # the book overlaps the range of its prints (a one-tick touch's mid may sit half a tick outside it)
    assert body["low_24h"] <= body["best_ask"] and body["best_bid"] <= body["high_24h"]
    assert body["low_24h"] < body["high_24h"]
    # Less than a day has passed: the change is the mark price's since the start (the initial mid on the
    # tick grid), the volume is every print the market shows.
    start_mark = grid_units(5, round(load_catalog().resolve("BTC-PERP").initial_mid)) / Grid(5).price_scale
    assert body["change_24h_pct"] == pytest.approx((body["mark_price"] / start_mark - 1) * 100, abs=1e-5)
    candles = client.get("/v1/markets/BTC-PERP/candles", params={"interval": "1h"}).json()["candles"]
    assert body["volume_24h_usd"] > 0
    assert body["volume_24h_usd"] == pytest.approx(sum(c["volume_usd"] for c in candles), rel=1e-9)
    assert body["high_24h"] == pytest.approx(max(c["high"] for c in candles), rel=1e-12)
    assert body["low_24h"] == pytest.approx(min(c["low"] for c in candles), rel=1e-12)
    assert body["timestamp"] == START_MS + 600_000


@pytest.mark.parametrize("name", ["BTC-PERP", "btc-perp", "Btc-Perp", "btc", "BTC", "bTc"])
def test_lookup_is_case_insensitive_and_accepts_the_base(client: AppClient, name: str) -> None:
    canonical = client.get("/v1/markets/BTC-PERP/price")
    response = client.get(f"/v1/markets/{name}/price")
    assert response.status_code == 200
    assert response.content == canonical.content
    assert client.get(f"/v1/markets/{name}").json()["symbol"] == "BTC-PERP"


def test_lookup_of_a_lowercase_prefixed_base(client: AppClient) -> None:
    for name in ("kPEPE-PERP", "kpepe", "KPEPE-perp"):
        response = client.get(f"/v1/markets/{name}/price")
        assert response.status_code == 200, name
        assert response.json()["symbol"] == "kPEPE-PERP"


def test_price(client: AppClient) -> None:
    advance(client, 30)
    body = client.get("/v1/markets/ETH-PERP/price").json()
    assert set(body) >= {"symbol", "best_bid", "best_ask", "mid", "spread_bps", "timestamp"}
    assert body["symbol"] == "ETH-PERP"
    assert body["best_bid"] < body["mid"] < body["best_ask"]
    assert body["timestamp"] == START_MS + 30_000
    assert isinstance(body["timestamp"], int)


# ---- the book -------------------------------------------------------------------------------------
def check_book(body: dict, sz_decimals: int, depth: int) -> None:
    bids, asks = body["bids"], body["asks"]
    assert 1 <= len(bids) <= depth and 1 <= len(asks) <= depth
    bid_prices = [level["price"] for level in bids]
    ask_prices = [level["price"] for level in asks]
    assert bid_prices == sorted(bid_prices, reverse=True) and len(set(bid_prices)) == len(bids)
    assert ask_prices == sorted(ask_prices) and len(set(ask_prices)) == len(asks)
    assert bid_prices[0] < ask_prices[0]
    assert bid_prices[0] < body["mid"] < ask_prices[0]
    grid = Grid(sz_decimals)
    for level in bids + asks:
        assert set(level) == {"price", "size", "notional_usd"}
        assert grid.is_on_grid(grid_units(sz_decimals, level["price"])), level
        lots = round(level["size"] * grid.lot_scale)
        assert lots > 0 and grid.to_size(lots) == level["size"], level
        assert level["notional_usd"] == pytest.approx(level["price"] * level["size"], rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("symbol, sz", [("BTC-PERP", 5), ("ETH-PERP", 4), ("DOGE-PERP", 0), ("ATOM-PERP", 2)])
def test_orderbook_default_depth_and_grid(client: AppClient, symbol: str, sz: int) -> None:
    advance(client, 45)
    body = client.get(f"/v1/markets/{symbol}/orderbook").json()
    assert body["symbol"] == symbol
    assert len(body["bids"]) == 20 and len(body["asks"]) == 20
    assert body["timestamp"] == START_MS + 45_000
    assert body["spread_bps"] == pytest.approx(
        (body["asks"][0]["price"] - body["bids"][0]["price"]) / body["mid"] * 1e4, rel=1e-5)
    check_book(body, sz, 20)


def test_orderbook_depth_bounds(client: AppClient) -> None:
    full = client.get("/v1/markets/BTC-PERP/orderbook", params={"depth": 50}).json()
    check_book(full, 5, 50)
    for depth in (1, 2, 7, 20, 50):
        body = client.get("/v1/markets/BTC-PERP/orderbook", params={"depth": depth}).json()
        assert body["bids"] == full["bids"][:depth] and body["asks"] == full["asks"][:depth]
        assert len(body["bids"]) == min(depth, len(full["bids"]))


def test_orderbook_shows_an_agents_resting_order(client: AppClient, auth: dict) -> None:
    # a spread of several ticks, so a bid fits inside it (a calm major's touch is one tick wide)
    assert client.post("/_mock/markets/BTC-PERP/regime", json={"spread_bps": 2}).status_code == 200
    book = client.get("/v1/markets/BTC-PERP/orderbook", params={"depth": 50}).json()
    price = book["bids"][0]["price"] + 1.0
    assert price < book["asks"][0]["price"]
    posted = client.post("/v1/mm/quote", headers=auth, json={"symbol": "BTC-PERP", "bid_price": price, "bid_size": 100})
    assert posted.status_code == 200, posted.text
    after = client.get("/v1/markets/BTC-PERP/orderbook", params={"depth": 1}).json()
    assert after["bids"][0]["price"] == price
    assert after["bids"][0]["size"] == posted.json()["bid_qty"]


# ---- prints and candles ---------------------------------------------------------------------------
def test_trades_newest_first_after_the_clock_moves(client: AppClient) -> None:
    assert client.get("/v1/markets/BTC-PERP/trades").json()["trades"] == []
    advance(client, 120)
    body = client.get("/v1/markets/BTC-PERP/trades").json()
    prints = body["trades"]
    assert body["symbol"] == "BTC-PERP"
    assert 1 <= len(prints) <= 100
    stamps = [t["timestamp"] for t in prints]
    assert stamps == sorted(stamps, reverse=True)
    assert START_MS < stamps[-1] and stamps[0] <= START_MS + 120_000
    assert {t["side"] for t in prints} == {"buy", "sell"}
    grid = Grid(5)
    for t in prints:
        assert set(t) == {"price", "size", "side", "timestamp"}
        assert grid.is_on_grid(grid_units(5, t["price"])) and t["size"] > 0
    few = client.get("/v1/markets/BTC-PERP/trades", params={"limit": 3}).json()["trades"]
    assert few == prints[:3]
    many = client.get("/v1/markets/BTC-PERP/trades", params={"limit": 500}).json()["trades"]
    assert many[:len(prints)] == prints


@pytest.mark.parametrize("interval, minutes", [("1m", 1), ("5m", 5), ("1h", 60)])
def test_candles(client: AppClient, interval: str, minutes: int) -> None:
    client.get("/v1/markets/ETH-PERP/price")            # the market exists from the start
    advance(client, 6 * 3600 + 30)
    now_ms = START_MS + (6 * 3600 + 30) * 1000
    body = client.get("/v1/markets/ETH-PERP/candles", params={"interval": interval, "limit": 4}).json()
    assert body["symbol"] == "ETH-PERP" and body["interval"] == interval
    candles = body["candles"]
    # Candles are built from trades. The market was quiet for six hours: it was fast-forwarded, and shows
    # only the trades of its recent stretch (from the start of the previous whole minute, 05:59:00, to
    # now), so there are exactly two buckets: the one holding 05:59 and the current one.
    assert len(candles) == 2
    step = minutes * 60_000
    stamps = [c["timestamp"] for c in candles]
    assert all(s % step == 0 for s in stamps)
    assert [b - a for a, b in zip(stamps, stamps[1:])] == [step]
    assert stamps[-1] <= now_ms < stamps[-1] + step          # the last candle is the current one
    for c in candles:
        assert c["low"] <= min(c["open"], c["close"]) <= max(c["open"], c["close"]) <= c["high"]
        assert c["volume_usd"] >= 0
    for a, b in zip(candles, candles[1:]):
        # Built from trades: a bucket opens at its first trade; one without trades carries the close.
        if b["volume_usd"] == 0:
            assert b["open"] == b["high"] == b["low"] == b["close"] == a["close"]
    default = client.get("/v1/markets/ETH-PERP/candles").json()
    assert default["interval"] == "1m" and len(default["candles"]) == 2


# ---- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", MARKET_ROUTES)
@pytest.mark.parametrize("name", ["NOPE-PERP", "BTC-PERPX", "btcperp", "-PERP", "BTC-PERP-PERP"])
def test_unknown_symbol_is_market_not_found_on_every_route(client: AppClient, route: str, name: str) -> None:
    before = state(client)
    body = assert_error(client.get(f"/v1/markets/{name}{route}"), 404, "market_not_found")
    assert name in body["message"]
    assert state(client) == before


@pytest.mark.parametrize("path, params, field", [
    ("/v1/markets/BTC-PERP/orderbook", {"depth": "0"}, "depth"),
    ("/v1/markets/BTC-PERP/orderbook", {"depth": "51"}, "depth"),
    ("/v1/markets/BTC-PERP/orderbook", {"depth": "abc"}, "depth"),
    ("/v1/markets/BTC-PERP/orderbook", {"depth": "2.5"}, "depth"),
    ("/v1/markets/BTC-PERP/trades", {"limit": "0"}, "limit"),
    ("/v1/markets/BTC-PERP/trades", {"limit": "501"}, "limit"),
    ("/v1/markets/BTC-PERP/candles", {"limit": "0"}, "limit"),
    ("/v1/markets/BTC-PERP/candles", {"interval": "2m"}, "interval"),
    ("/v1/markets/BTC-PERP/candles", {"interval": "1M"}, "interval"),
    ("/v1/markets", {"offset": "-1"}, "offset"),
    ("/v1/markets", {"limit": "0"}, "limit"),
    ("/v1/markets", {"limit": "x"}, "limit"),
])
def test_bad_queries_are_invalid_request_naming_the_field(client: AppClient, path: str, params: dict,
                                                          field: str) -> None:
    before = state(client)
    body = assert_error(client.get(path, params=params), 400, "invalid_request")
    assert body["field"] == field
    assert state(client) == before          # no market was created or advanced by a refused request


def test_unknown_route_and_wrong_method(client: AppClient) -> None:
    for path in ("/v1/nothing", "/v1/markets/BTC-PERP/nothing", "/nothing", "/v2/markets"):   # "/" is the live page
        assert_error(client.get(path), 404, "not_found")
    # A trailing slash is another path, answered in the error shape (not an empty-bodied redirect).
    for path in ("/v1/markets/", "/v1/markets/BTC-PERP/price/", "/v1/markets/BTC-PERP/"):
        assert_error(client.get(path, follow_redirects=False), 404, "not_found")
    for method, path in (("POST", "/v1/markets"), ("DELETE", "/v1/markets/BTC-PERP"),
                         ("PUT", "/v1/markets/BTC-PERP/price"), ("POST", "/v1/markets/BTC-PERP/orderbook"),
                         ("GET", "/_mock/clock/advance")):
        response = client.request(method, path)
        assert_error(response, 405, "method_not_allowed")
    assert state(client)["active_markets"] == []


# ---- the mock clock and reset ------------------------------------------------------------------------
@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "5"}, {"seconds": None}, {"seconds": True},
                                  {"second": 5}, [5], 5])
def test_advance_with_a_bad_body_leaves_the_clock_alone(client: AppClient, body) -> None:
    advance(client, 10)
    before = state(client)
    response = client.post("/_mock/clock/advance", json=body)
    assert_error(response, 400, "invalid_request")
    if isinstance(body, dict) and body != {"second": 5}:
        assert response.json()["field"] == "seconds"
    assert state(client) == before


@pytest.mark.parametrize("raw", [b'{"seconds": NaN}', b'{"seconds": Infinity}', b'{"seconds": -Infinity}',
                                 b'{"seconds": 1e400}', b"not json", b""])
def test_advance_rejects_non_finite_and_garbage(client: AppClient, raw: bytes) -> None:
    before = state(client)
    assert_error(client.post("/_mock/clock/advance", content=raw, headers={"Content-Type": "application/json"}), 400, "invalid_request")
    assert state(client) == before


def test_advance_moves_the_clock(client: AppClient) -> None:
    response = client.post("/_mock/clock/advance", json={"seconds": 1.5})
    assert response.status_code == 200
    assert response.json()["clock"]["now"] == START_MS + 1500
    advance(client, 0)
    assert state(client)["clock"] == {"mode": "manual", "now": START_MS + 1500, "speed": 0.0}


def test_reset_restarts_clock_markets_and_seed(client: AppClient, auth: dict) -> None:
    with app_client(create_app(Exchange(ExchangeConfig(seed=7), ManualClock()), AppOptions())) as fresh:
        expected = fresh.get("/v1/markets/BTC-PERP/orderbook").content

    client.get("/v1/markets/BTC-PERP/price")
    assert client.get("/v1/account", headers=auth).status_code == 200
    advance(client, 90)
    assert state(client)["agents"] == 1
    response = client.post("/_mock/reset", json={"seed": 7})
    assert response.status_code == 200
    after = state(client)
    assert after == {**after, "seed": 7, "agents": 0, "active_markets": []}
    assert after["clock"]["now"] == START_MS
    assert client.get("/v1/markets/BTC-PERP/orderbook").content == expected
    assert client.get("/v1/markets/BTC-PERP/trades").json()["trades"] == []

    # Without a seed, reset keeps the seed in force.
    advance(client, 5)
    assert client.post("/_mock/reset").status_code == 200
    assert state(client)["seed"] == 7 and state(client)["clock"]["now"] == START_MS
    assert client.get("/v1/markets/BTC-PERP/orderbook").content == expected


@pytest.mark.parametrize("body", [{"seed": "x"}, {"seed": 1.5}, {"seed": True}, {"seed": -1}, {"seed": 2**53}])
def test_reset_with_a_bad_seed_changes_nothing(client: AppClient, body: dict) -> None:
    client.get("/v1/markets/BTC-PERP/price")
    advance(client, 3)
    before = state(client)
    body = assert_error(client.post("/_mock/reset", json=body), 400, "invalid_request")
    assert body["field"] == "seed"
    assert state(client) == before


def test_reset_takes_the_largest_seed_and_a_snapshot_keeps_it(client: AppClient) -> None:
    # 2**53 - 1, the bound of every seed (serve --seed, simulate --seed, a snapshot's): 2**53 is refused above
    assert client.post("/_mock/reset", json={"seed": 2**53 - 1}).status_code == 200
    snapshot = client.post("/_mock/snapshot")
    assert snapshot.status_code == 200 and snapshot.json()["seed"] == 2**53 - 1
    restored = client.post("/_mock/restore", content=snapshot.content, headers={"Content-Type": "application/json"})
    assert restored.status_code == 200, restored.text


# ---- no input makes a 500 -------------------------------------------------------------------------
SYMBOLS = st.one_of(
    st.sampled_from(["BTC-PERP", "eth", "Doge-Perp", "kpepe", "ATOM-PERP", "NOPE", "BTC-PERP ", " btc"]),
    st.text(min_size=1, max_size=12),
    st.text(alphabet="-_.%~/\\?#&=+ ", min_size=1, max_size=6),
)
QUERY_VALUES = st.one_of(
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.sampled_from(["", "0", "1", "50", "51", "500", "1m", "5m", "1h", "2m", "nan", "inf", "1e3", "0x10", " 5"]),
    st.text(max_size=8),
)
QUERY_KEYS = st.sampled_from(["depth", "limit", "offset", "interval", "symbol", "since"])


@given(symbol=SYMBOLS, route=st.sampled_from(MARKET_ROUTES), query=st.dictionaries(QUERY_KEYS, QUERY_VALUES, max_size=3),
       listing=st.booleans(), advance_by=st.sampled_from([0, 0, 0, 0.25, 7]))
def test_random_market_data_requests_never_500(symbol: str, route: str, query: dict, listing: bool,
                                               advance_by: float) -> None:
    assume(symbol.strip(".") != "")       # "." and ".." are dot segments: the client rewrites the URL
    # A fresh exchange and clock per example: examples stay independent, so a failure replays alone.
    with app_client(create_app(Exchange(ExchangeConfig(), ManualClock()), AppOptions())) as client:
        check_one_market_data_request(client, symbol, route, query, listing, advance_by)


def check_one_market_data_request(client: AppClient, symbol: str, route: str, query: dict, listing: bool,
                                  advance_by: float) -> None:
    if advance_by:
        advance(client, advance_by)
    path = "/v1/markets" if listing else f"/v1/markets/{quote(symbol, safe='')}{route}"
    response = client.get(path, params=query, follow_redirects=False)
    assert response.status_code != 500, (path, query, response.text)
    assert response.status_code in (200, 400, 404), (path, query, response.text)
    body = response.json()
    if response.status_code >= 400:
        assert_error_shape(body)
        if response.status_code == 400:
            assert body["error"] == "invalid_request" and body["field"] in query, (query, body)
    elif not listing:
        assert body["symbol"].endswith("-PERP")
