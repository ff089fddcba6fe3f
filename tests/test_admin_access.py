"""Who may use ``/_mock``: everyone by default (on loopback), nobody with ``--no-admin`` (every route is
404 ``not_found``), and only holders of the token with ``--admin-token`` (401 ``unauthorized`` without
it or with a wrong one), for every ``/_mock`` route the app has. A refused call changes nothing."""

from __future__ import annotations

import re

import pytest

from app_client import AppClient, app_client
from conftest import make_exchange, openapi_document
from pf_mock.api import AppOptions, create_app
from pf_mock.state import snapshot as snapshot_of
from pf_mock.server import ServeOptions, build_app
from contract_asserts import assert_error

TOKEN = "s3cret-token"


SYMBOL = "BTC-PERP"

# A body each route accepts, where it needs one; a route added later gets {} and is still checked.
BODIES = {
    ("POST", "/_mock/reset"): {},
    ("POST", "/_mock/clock/advance"): {"seconds": 30},
    ("POST", "/_mock/markets/{symbol}/jump"): {"move_bps": 50},
    ("POST", "/_mock/markets/{symbol}/regime"): {"spread_bps": 40},
    ("POST", "/_mock/scenario"): {"name": "calm"},
    ("POST", "/_mock/faults"): {"path": "/v1/*", "status": 503},
    ("POST", "/_mock/restore"): snapshot_of(make_exchange()),
}
PATH_PARAMS = {"symbol": SYMBOL, "fault_id": "flt_1"}
MINE = {("GET", "/_mock/faults"), ("POST", "/_mock/faults"), ("DELETE", "/_mock/faults"),
        ("DELETE", "/_mock/faults/{fault_id}"), ("GET", "/_mock/requests")}


def mock_routes() -> list[tuple[str, str]]:
    """Every (method, path template) under /_mock of a fully featured app."""
    paths = openapi_document()["paths"]
    return sorted((method.upper(), path) for path, methods in paths.items() if path.startswith("/_mock")
                  for method in methods)


ROUTES = mock_routes()


def call(client: AppClient, method: str, template: str, headers: dict | None = None):
    path = re.sub(r"\{(\w+)\}", lambda m: PATH_PARAMS[m.group(1)], template)
    body = BODIES.get((method, template))
    return client.request(method, path, json=body, headers=headers or {})



def snapshot(app, client: AppClient, auth: dict) -> tuple:
    """Everything a /_mock route could change, read from the outside and from the app's state."""
    account = client.get("/v1/account", headers=auth).json()
    ex = app.state.exchange
    market = ex.peek(SYMBOL)
    return (ex.seed, ex.now(), sorted(ex.agents), market.mid if market else None,
            market.regime.as_dict() if market else None, ex.scenario_name,
            [r.view() for r in app.state.faults.rules], account, len(app.state.journal))


def assert_unchanged(before: tuple, after: tuple) -> None:
    assert after[:-1] == before[:-1]
    assert after[-1] == before[-1] + 1          # the journal holds only the snapshot's own read


def test_the_route_list_covers_every_mock_feature():
    assert MINE <= set(ROUTES)
    assert {("GET", "/_mock/state"), ("POST", "/_mock/reset"), ("POST", "/_mock/clock/advance")} <= set(ROUTES)


@pytest.fixture
def guarded():
    app = create_app(make_exchange(), AppOptions(admin_token=TOKEN))
    with app_client(app) as c:
        yield app, c


@pytest.fixture
def no_admin():
    app = create_app(make_exchange(), AppOptions(admin=False))
    with app_client(app) as c:
        yield app, c


@pytest.mark.parametrize("method, template", ROUTES)
def test_open_by_default(client, method, template):
    client.post("/_mock/faults", json={"path": "/nowhere", "status": 500})     # so flt_1 exists
    r = call(client, method, template)
    assert 200 <= r.status_code < 300, r.text


@pytest.mark.parametrize("method, template", ROUTES)
def test_no_admin_removes_the_route(no_admin, auth, method, template):
    app, c = no_admin
    c.get(f"/v1/markets/{SYMBOL}/price")
    before = snapshot(app, c, auth)
    assert_error(call(c, method, template), 404, "not_found")
    assert_unchanged(before, snapshot(app, c, auth))


@pytest.mark.parametrize("method, template", ROUTES)
@pytest.mark.parametrize("given", [None, "wrong-token", ""])
def test_admin_token_refuses_without_the_right_header(guarded, auth, method, template, given):
    app, c = guarded
    c.post("/_mock/faults", json={"path": "/nowhere", "status": 500}, headers={"X-Admin-Token": TOKEN})
    c.get(f"/v1/markets/{SYMBOL}/price")
    before = snapshot(app, c, auth)
    headers = {} if given is None else {"X-Admin-Token": given}
    assert_error(call(c, method, template, headers), 401, "unauthorized")
    assert_unchanged(before, snapshot(app, c, auth))


@pytest.mark.parametrize("method, template", ROUTES)
def test_admin_token_lets_the_right_header_in(guarded, method, template):
    app, c = guarded
    c.post("/_mock/faults", json={"path": "/nowhere", "status": 500}, headers={"X-Admin-Token": TOKEN})
    r = call(c, method, template, {"X-Admin-Token": TOKEN})
    assert 200 <= r.status_code < 300, r.text


def test_the_admin_token_is_not_needed_by_the_api(guarded, auth):
    _, c = guarded
    assert c.get("/v1/account", headers=auth).status_code == 200
    assert c.get(f"/v1/markets/{SYMBOL}").status_code == 200


def test_no_admin_still_serves_the_api(no_admin, auth):
    _, c = no_admin
    assert c.get("/v1/account", headers=auth).status_code == 200
    assert_error(c.get("/_mock"), 404, "not_found")


def test_serve_options_reach_the_app(auth):
    with app_client(build_app(ServeOptions(clock="manual", admin=False))) as c:
        assert_error(c.get("/_mock/requests"), 404, "not_found")
        assert_error(c.post("/_mock/faults", json={"path": "/v1/*", "status": 503}), 404, "not_found")
    app = build_app(ServeOptions(clock="manual", admin_token=TOKEN))
    with app_client(app) as c:
        assert_error(c.get("/_mock/faults"), 401, "unauthorized")
        assert c.get("/_mock/faults", headers={"X-Admin-Token": TOKEN}).status_code == 200
