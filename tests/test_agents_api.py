"""Agents, keys and the account: /v1/agents/register, auth (open and strict), the faucet, /v1/account."""

from __future__ import annotations

import re

import pytest

from app_client import app_client
from conftest import KEY, make_exchange
from pf_mock.agents import agent_id_for_key
from pf_mock.api import AppOptions, create_app
from contract_asserts import assert_error

BALANCE = 10_000.0
ISSUED_KEY = re.compile(r"^pf_test_[A-Za-z0-9_]{8,}$")


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}



@pytest.fixture
def strict_client():
    with app_client(create_app(make_exchange(strict_auth=True), AppOptions())) as c:
        yield c


# ---- register ------------------------------------------------------------------------------------
def test_register_without_a_body(client):
    r = client.post("/v1/agents/register")
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"agent_id", "api_key", "balance_usd"}
    assert ISSUED_KEY.match(body["api_key"])
    assert body["agent_id"].startswith("ag_")
    assert body["balance_usd"] == BALANCE


def test_register_with_an_empty_body_and_twice_gives_two_agents(client):
    first = client.post("/v1/agents/register", json={}).json()
    second = client.post("/v1/agents/register", json={}).json()
    assert first["agent_id"] != second["agent_id"]
    assert first["api_key"] != second["api_key"]
    for key in (first["api_key"], second["api_key"]):
        assert client.get("/v1/account", headers=bearer(key)).status_code == 200
    me = client.get("/v1/account", headers=bearer(first["api_key"])).json()
    assert me["agent_id"] == first["agent_id"]


def test_register_uses_the_given_agent_id(client):
    r = client.post("/v1/agents/register", json={"agent_id": "mm-bot_1"})
    assert r.status_code == 201
    body = r.json()
    assert body["agent_id"] == "mm-bot_1"
    assert ISSUED_KEY.match(body["api_key"])
    assert body["balance_usd"] == BALANCE
    account = client.get("/v1/account", headers=bearer(body["api_key"])).json()
    assert account["agent_id"] == "mm-bot_1"


def test_register_a_taken_agent_id_is_409(client):
    first = client.post("/v1/agents/register", json={"agent_id": "twin"}).json()
    assert_error(client.post("/v1/agents/register", json={"agent_id": "twin"}), 409, "agent_exists")
    # the first registration is untouched: its key still names it
    assert client.get("/v1/account", headers=bearer(first["api_key"])).json()["agent_id"] == "twin"


def test_register_the_id_of_an_open_auth_agent_is_409(client, auth):
    me = client.get("/v1/account", headers=auth).json()
    assert_error(client.post("/v1/agents/register", json={"agent_id": me["agent_id"]}), 409, "agent_exists")
    assert client.get("/v1/account", headers=auth).json() == me


def test_open_auth_key_does_not_take_over_a_registered_agent(client):
    """A registered agent may carry the very id an unseen open-auth key would be provisioned under;
    the key must then get an agent of its own, not the registered one."""
    taken = agent_id_for_key(KEY)
    reg = client.post("/v1/agents/register", json={"agent_id": taken}).json()
    assert client.post("/v1/faucet/claim", headers=bearer(reg["api_key"])).status_code == 200
    newcomer = client.get("/v1/account", headers=bearer(KEY))
    assert newcomer.status_code == 200
    assert newcomer.json()["agent_id"] != taken
    assert newcomer.json()["balance_usd"] == BALANCE
    registered = client.get("/v1/account", headers=bearer(reg["api_key"])).json()
    assert registered["agent_id"] == taken
    assert registered["balance_usd"] == BALANCE + 1.0


@pytest.mark.parametrize("agent_id", ["has space", "", "x" * 65, "semi;colon", "ünïcode"])
def test_register_a_bad_agent_id_is_400(client, agent_id):
    body = assert_error(client.post("/v1/agents/register", json={"agent_id": agent_id}), 400, "invalid_request")
    assert body["field"] == "agent_id"
    # nothing was registered: the same request with a good id still gets the first issued key
    assert client.post("/v1/agents/register", json={"agent_id": "good"}).status_code == 201


@pytest.mark.parametrize("agent_id", [5, True, ["a"], {"a": 1}])
def test_register_a_non_string_agent_id_is_400(client, agent_id):
    body = assert_error(client.post("/v1/agents/register", json={"agent_id": agent_id}), 400, "invalid_request")
    assert body["field"] == "agent_id"


def test_register_needs_no_key_even_under_strict_auth(strict_client):
    assert strict_client.post("/v1/agents/register", json={}).status_code == 201


# ---- auth ----------------------------------------------------------------------------------------
AUTHED = [("GET", "/v1/account", None), ("POST", "/v1/faucet/claim", None),
          ("GET", "/v1/mm/orders", None), ("GET", "/v1/mm/fills", None), ("GET", "/v1/mm/pnl", None),
          ("GET", "/v1/mm/inventory?symbol=BTC-PERP", None), ("GET", "/v1/mm/session?symbol=BTC-PERP", None),
          ("POST", "/v1/mm/cancel", {"symbol": "BTC-PERP"}), ("POST", "/v1/mm/hedge", {"symbol": "BTC-PERP"}),
          ("POST", "/v1/mm/session/reset", {"symbol": "BTC-PERP"}),
          ("POST", "/v1/mm/quote", {"symbol": "BTC-PERP", "bid_price": 1000, "bid_size": 100})]


@pytest.mark.parametrize("method,path,body", AUTHED)
def test_no_key_is_401_unauthorized(client, exchange, method, path, body):
    assert_error(client.request(method, path, json=body), 401, "unauthorized")
    assert exchange.agents == {}


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer "}, {"X-API-Key": ""}, {"Authorization": ""}])
def test_an_empty_key_is_401_unauthorized(client, exchange, headers):
    assert_error(client.get("/v1/account", headers=headers), 401, "unauthorized")
    assert exchange.agents == {}


MALFORMED = ["short", "pf_test_1234567", "pf_prod_12345678", "pf_test_has-dash1", "PF_TEST_12345678",
             "pf_test_12345678 extra", "sk_live_12345678"]


@pytest.mark.parametrize("key", MALFORMED)
@pytest.mark.parametrize("method,path,body", AUTHED[:4] + AUTHED[-1:])
def test_a_malformed_key_is_401_invalid_key(client, exchange, key, method, path, body):
    assert_error(client.request(method, path, json=body, headers=bearer(key)), 401, "invalid_key")
    assert_error(client.request(method, path, json=body, headers={"X-API-Key": key}), 401, "invalid_key")
    assert exchange.agents == {}


def test_a_non_bearer_scheme_is_401_invalid_key(client, exchange):
    assert_error(client.get("/v1/account", headers={"Authorization": f"Basic {KEY}"}), 401, "invalid_key")
    assert exchange.agents == {}


def test_open_auth_provisions_an_unseen_well_formed_key(client, exchange):
    for key in ("pf_test_newcomer_01", "pf_live_ABCdef_12345678"):
        r = client.get("/v1/account", headers=bearer(key))
        assert r.status_code == 200
        body = r.json()
        assert body["balance_usd"] == BALANCE
        assert body["equity_usd"] == BALANCE
        assert body["open_orders"] == 0
        assert body["positions"] == []
    assert len(exchange.agents) == 2


def test_open_auth_gives_the_same_agent_to_the_same_key(client, auth):
    first = client.get("/v1/account", headers=auth).json()
    assert client.post("/v1/faucet/claim", headers=auth).status_code == 200
    again = client.get("/v1/account", headers=auth).json()
    assert again["agent_id"] == first["agent_id"]
    assert again["balance_usd"] == BALANCE + 1.0


def test_x_api_key_names_the_same_agent_as_bearer(client, auth):
    via_bearer = client.get("/v1/account", headers=auth).json()
    via_header = client.get("/v1/account", headers={"X-API-Key": KEY}).json()
    assert via_header == via_bearer
    assert client.get("/v1/account", headers={"authorization": f"bearer {KEY}"}).json() == via_bearer


def test_strict_auth_refuses_an_unknown_well_formed_key(strict_client):
    for headers in (bearer("pf_test_neverissued_1"), {"X-API-Key": "pf_live_neverissued_1"}):
        assert_error(strict_client.get("/v1/account", headers=headers), 401, "invalid_key")
        assert_error(strict_client.post("/v1/mm/quote", headers=headers,
                                         json={"symbol": "BTC-PERP", "bid_price": 1000, "bid_size": 100}),
                     401, "invalid_key")
    assert strict_client.app.state.exchange.agents == {}


def test_strict_auth_accepts_an_issued_key(strict_client):
    reg = strict_client.post("/v1/agents/register", json={"agent_id": "issued"}).json()
    for headers in (bearer(reg["api_key"]), {"X-API-Key": reg["api_key"]}):
        r = strict_client.get("/v1/account", headers=headers)
        assert r.status_code == 200
        assert r.json()["agent_id"] == "issued"
    assert strict_client.get("/v1/mm/orders", headers=bearer(reg["api_key"])).json() == {"orders": []}


def test_market_data_needs_no_key(client):
    assert client.get("/v1/markets/BTC-PERP/price").status_code == 200
    # and a bad key on a public route is ignored
    assert client.get("/v1/markets/BTC-PERP/price", headers=bearer("short")).status_code == 200


# ---- faucet --------------------------------------------------------------------------------------
def test_faucet_credits_one_dollar_once(client, auth):
    r = client.post("/v1/faucet/claim", headers=auth)
    assert r.status_code == 200
    assert r.json() == {"credited": 1.0, "balance_usd": BALANCE + 1.0}
    before = client.get("/v1/account", headers=auth).json()
    assert before["balance_usd"] == BALANCE + 1.0
    assert before["equity_usd"] == BALANCE + 1.0
    assert_error(client.post("/v1/faucet/claim", headers=auth), 409, "already_claimed")
    assert client.get("/v1/account", headers=auth).json() == before


def test_faucet_is_per_agent(client, auth, other_auth):
    assert client.post("/v1/faucet/claim", headers=auth).status_code == 200
    r = client.post("/v1/faucet/claim", headers=other_auth)
    assert r.status_code == 200
    assert r.json()["credited"] == 1.0


# ---- account -------------------------------------------------------------------------------------
def test_account_fields(client, auth):
    body = client.get("/v1/account", headers=auth).json()
    assert set(body) >= {"agent_id", "balance_usd", "equity_usd", "open_orders", "positions"}
    assert body["agent_id"] == agent_id_for_key(KEY)
    assert body["balance_usd"] == BALANCE and body["equity_usd"] == BALANCE
    assert body["open_orders"] == 0 and body["positions"] == []


def test_account_counts_orders_and_shows_positions(client, auth, other_auth):
    # a spread of several ticks (BTC-PERP's touch is one tick wide when calm), so a bid fits inside it
    assert client.post("/_mock/markets/BTC-PERP/regime", json={"spread_bps": 2}).status_code == 200
    top = client.get("/v1/markets/BTC-PERP/price").json()
    bid = top["best_bid"] + 1           # inside the spread: ours is the best bid
    q = client.post("/v1/mm/quote", headers=auth, json={"symbol": "BTC-PERP", "bid_price": bid, "bid_size": 100,
                                                          "ask_price": top["best_ask"] + 50, "ask_size": 100})
    assert q.status_code == 200
    assert client.get("/v1/account", headers=auth).json()["open_orders"] == 2
    # another agent sells into our bid: we are long exactly our bid's quantity
    hit = client.post("/v1/mm/quote", headers=other_auth, json={"symbol": "BTC-PERP", "ask_price": bid,
                                                                  "ask_size": 100, "time_in_force": "IOC"})
    assert hit.status_code == 200
    body = client.get("/v1/account", headers=auth).json()
    assert body["open_orders"] == 1
    mid = client.get("/v1/markets/BTC-PERP/price").json()["mark_price"]     # positions are at the mark
    qty = q.json()["bid_qty"]
    assert body["positions"] == [{"symbol": "BTC-PERP", "position": qty,
                                  "net_delta_usd": pytest.approx(qty * mid, abs=1e-6)}]
    fills = client.get("/v1/mm/fills", headers=auth).json()["fills"]
    cash = BALANCE - sum(f["notional_usd"] + f["fee_usd"] for f in fills)
    assert body["balance_usd"] == pytest.approx(cash, abs=1e-6)
    assert body["equity_usd"] == pytest.approx(cash + qty * mid, abs=1e-6)
