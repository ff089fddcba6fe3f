"""The routing shortcuts (``pf_mock/api/routing.py``) answer exactly what FastAPI's general path answers.

The oracle is the same app with the shortcuts taken out: each plain route given back FastAPI's own
handler (``APIRoute.get_route_handler``) and the path index removed. Both serve the same requests on
their own exchange (same seed, manual clock), and every answer must be the same bytes: status, headers
and body, for good requests and for every kind of bad one (which the shortcut hands to the general path).
"""

from __future__ import annotations

import copy
import json
import re

import pytest
from fastapi.routing import APIRoute, request_response
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Match

from pf_mock.api import AppOptions, create_app
from pf_mock.api.errors import METHODS
from pf_mock.api.routing import FixedPaths, PlainRoute, is_plain

from app_client import app_client
from conftest import KEY, make_exchange

AUTH = {"Authorization": f"Bearer {KEY}"}


def general_app():
    """The app as FastAPI alone would serve it: no path index, every route with FastAPI's own handler."""
    app = create_app(make_exchange(), AppOptions())
    routes = []
    for route in app.router.routes:
        if isinstance(route, FixedPaths):
            continue
        if isinstance(route, PlainRoute):
            route = copy.copy(route)        # the route objects are shared by every app: change a copy
            route.app = request_response(APIRoute.get_route_handler(route))
        routes.append(route)
    app.router.routes[:] = routes
    return app


@pytest.fixture
def pair():
    with app_client(create_app(make_exchange(), AppOptions())) as fast, \
            app_client(general_app()) as general:
        yield fast, general


def same(pair, method: str, path: str, body: bytes | str | None = None, headers: dict | None = None):
    answers = []
    for client in pair:
        r = client.request(method, path, content=body, headers={**AUTH, **(headers or {})})
        answers.append((r.status_code, r.headers.raw, r.content))
    assert answers[0] == answers[1], (method, path, body)
    return answers[0]


def test_the_shortcuts_are_in_place():
    """Else the comparisons below compare the general path with itself."""
    app = create_app(make_exchange(), AppOptions())
    assert isinstance(app.router.routes[0], FixedPaths)
    plain = {(next(iter(r.methods)), r.path) for r in app.router.routes if is_plain(r)}
    assert {("POST", "/v1/mm/quote"), ("POST", "/v1/mm/cancel"), ("GET", "/v1/markets/{symbol}/price"),
            ("GET", "/health"), ("GET", "/v1/account")} <= plain
    # Routes with query parameters keep FastAPI's handler: they have something to solve.
    assert ("GET", "/v1/mm/orders") not in plain and ("GET", "/v1/markets/{symbol}/orderbook") not in plain


def test_a_quote_solves_no_dependencies(client, auth, monkeypatch):
    import fastapi.routing

    async def broken(*args, **kwargs):
        raise AssertionError("FastAPI's dependency solving was used")

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", broken)
    body = {"symbol": "BTC-PERP", "bid_price": 68_000.0, "bid_size": 100.0}
    r = client.post("/v1/mm/quote", json=body, headers=auth)
    assert r.status_code == 200, r.text
    assert client.post("/v1/mm/cancel", json={"symbol": "BTC-PERP"}, headers=auth).json()["cancelled"] == 1


QUOTE = '{"symbol": "BTC-PERP", "bid_price": 68000.0, "bid_size": 100.0}'
BODIES = [
    QUOTE, '{"symbol": "btc", "ask_price": 72000, "ask_size": 50, "time_in_force": "ALO"}',
    '{"symbol": "BTC-PERP", "bid_price": NaN, "bid_size": 100}', '{"symbol": "BTC-PERP", "bid_price": Infinity}',
    '{"symbol": "BTC-PERP", "bid_price": "50000", "bid_size": 100}', '{"symbol": "BTC-PERP", "bid_price": true}',
    '{"symbol": "BTC-PERP", "bid_price": -1, "bid_size": 100}', '{"bid_price": 1}', '{"symbol": 7}',
    '{"symbol": "NOPE-PERP", "bid_price": 1, "bid_size": 100}', '{"symbol": "BTC-PERP", "extra": [1, {"a": 2}]}',
    '{"symbol": "BTC-PERP", "time_in_force": "FOK"}', '[]', '[{"symbol": "BTC-PERP"}]', 'null', '"BTC-PERP"', '7',
    '', 'not json', '{"symbol": "BTC-PERP"', 'symbol=BTC-PERP', '{"symbol": "BTC-PERP", "bid_price": 1e999}',
    '{"symbol": "BTC-PERP", "bid_price": 68000.0, "bid_size": 100.0, "ask_price": 67500.0, "ask_size": 100.0}',
    '{"symbol": "BTC-PERP", "hedge_pct": 0.5}', '{"symbol": "BTC-PERP", "hedge_pct": 2}', '{"agent_id": "carol_1"}',
    '{"agent_id": "bad id!"}', '{"agent_id": null}', '{}',
]
POSTS = ["/v1/mm/quote", "/v1/mm/cancel", "/v1/mm/hedge", "/v1/mm/session/reset", "/v1/faucet/claim"]


@pytest.mark.parametrize("path", POSTS)
def test_every_body_gets_the_same_answer(pair, path):
    for body in BODIES:
        for content_type in ("application/json", "application/x-www-form-urlencoded", None):
            same(pair, "POST", path, body, {"Content-Type": content_type} if content_type else {})


def test_registering_gets_the_same_answer(pair):
    """A new agent's key (and an id it did not choose) is random, so it is left out of the comparison;
    the rest is the same bytes."""
    def answer(client, body):
        r = client.post("/v1/agents/register", content=body, headers=AUTH)
        return r.status_code, r.headers.raw, re.sub(rb'"(pf_test|ag)_[0-9a-f]+"', b'"<random>"', r.content)

    for body in ('{"agent_id": "carol_1"}', '{"agent_id": "carol_1"}', '{"agent_id": "bad id!"}', '{"agent_id": 5}',
                 '{"agent_id": null}', '{}', '', 'null', '[]', 'nope'):
        fast, general = (answer(client, body) for client in pair)
        assert fast == general, body


@pytest.mark.parametrize("path", ["/v1/markets/BTC-PERP/price", "/v1/markets/btc/price", "/v1/markets/NOPE/price",
                                  "/v1/markets/BTC-PERP", "/v1/markets/%20", "/v1/markets/BTC-PERP/price/",
                                  "/health", "/v1/account", "/v1/mm/quote", "/v1/markets/BTC-PERP/price?x=1"])
def test_reads_and_wrong_methods_get_the_same_answer(pair, path):
    for method in ("GET", "HEAD", "POST", "DELETE", "OPTIONS"):
        same(pair, method, path)


def test_keys_get_the_same_answer(pair):
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer"}, {"Authorization": "Bearer x"},
                    {"Authorization": "", "X-API-Key": "pf_test_zed_12345678"}):
        same(pair, "POST", "/v1/mm/quote", QUOTE, headers)
        same(pair, "GET", "/v1/account", None, headers)


def test_the_journals_agree_after_a_session(pair):
    for body in BODIES[:12]:
        same(pair, "POST", "/v1/mm/quote", body)
    same(pair, "POST", "/v1/mm/cancel", '{"symbol": "BTC-PERP"}')
    same(pair, "GET", "/_mock/requests")
    same(pair, "GET", "/v1/mm/orders?status=closed")


FIELDS = ["symbol", "bid_price", "bid_size", "ask_price", "ask_size", "time_in_force", "auto_refresh",
          "refresh_interval_seconds", "max_inventory_usd", "max_spread_bps", "session_stop_loss_usd"]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**13), st.floats(allow_nan=True),
                   st.sampled_from(["BTC-PERP", "eth", "GTC", "IOC", "ALO", "", "x"]),
                   st.lists(st.integers(), max_size=2))


@given(st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
def test_any_quote_body_gets_the_same_answer(body):
    with app_client(create_app(make_exchange(), AppOptions())) as fast, \
            app_client(general_app()) as general:
        same((fast, general), "POST", "/v1/mm/quote", json.dumps(body))


def test_the_path_index_finds_what_the_scan_finds():
    app = create_app(make_exchange(), AppOptions())
    index, rest = app.router.routes[0], app.router.routes[1:]
    paths = {r.path for r in rest if hasattr(r, "path")} | {"/v1/markets/BTC-PERP", "/nope", "/v1/mm/quote/"}
    for path in paths:
        for method in METHODS:
            scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
            first = next(((route, child) for route in rest for match, child in [route.matches(scope)]
                          if match == Match.FULL), None)
            match, child = index.matches(scope)
            if match == Match.FULL:
                assert first is not None and child["route"] is first[0], (method, path)
            else:
                # Not indexed: the scan decides, as it did before (a parameter, a wrong method, no route).
                assert first is None or "{" in first[0].path or first[0] not in index.by_path.get(path, ()), \
                    (method, path)
