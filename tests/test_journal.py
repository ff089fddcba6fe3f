"""The request journal (``GET /_mock/requests``): what was asked, by whom, at what mock time, and what
was answered, oldest first. The journal itself is checked without HTTP first."""

from __future__ import annotations

import pytest
from app_client import AppClient

from conftest import KEY, OTHER_KEY, make_exchange
from pf_mock.api import AppOptions, create_app
from pf_mock.api.door import MAX_BODY_BYTES
from pf_mock.journal import (CAPACITY, MAX_BYTES, MAX_STORED_BODY_BYTES, Entry, Journal, new_entry, parse_body,
                                 parse_query)
from pf_mock.clock import DEFAULT_EPOCH, to_ms
from contract_asserts import assert_error

SYMBOL = "BTC-PERP"
T0_MS = to_ms(DEFAULT_EPOCH)



def journal(client, **params) -> list[dict]:
    r = client.get("/_mock/requests", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == len(body["requests"])
    return body["requests"]


def agent_id(client, headers: dict) -> str:
    return client.get("/v1/account", headers=headers).json()["agent_id"]


def quote_body(client) -> dict:
    mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
    return {"symbol": SYMBOL, "bid_price": mid * 0.998, "bid_size": 100, "ask_price": mid * 1.002, "ask_size": 100}


def cancelled_before_every_requote(entries: list[dict], symbol: str) -> bool:
    """What a test of a client can ask of the journal: between two accepted quotes on ``symbol``,
    did the client cancel that symbol's orders?"""
    quoted = cancelled = False
    for e in entries:
        if e["status"] != 200 or not isinstance(e["body"], dict) or e["body"].get("symbol") != symbol:
            continue
        if e["path"] == "/v1/mm/quote":
            if quoted and not cancelled:
                return False
            quoted, cancelled = True, False
        elif e["path"] == "/v1/mm/cancel":
            cancelled = True
    return True


# ---- the journal, without HTTP ------------------------------------------------------------------
def entry(n: int, agent: str | None = None) -> Entry:
    return Entry(time_ms=n, method="GET", path=f"/v1/{n}", query_string=b"", raw_body=b"", key=None, agent_id=agent,
                 status=200)


def test_journal_keeps_the_last_capacity_entries_oldest_first():
    j = Journal(capacity=3)
    for n in range(5):
        j.record(entry(n))
    assert [e.time_ms for e in j.select()] == [2, 3, 4]
    assert len(j) == 3


def test_journal_select_by_agent_and_limit():
    j = Journal()
    for n, who in enumerate(["a", "b", None, "a", "a", "b"]):
        j.record(entry(n, who))
    assert [e.time_ms for e in j.select("a")] == [0, 3, 4]
    assert [e.time_ms for e in j.select("a", limit=2)] == [3, 4]
    assert [e.time_ms for e in j.select(limit=1)] == [5]
    assert [e.time_ms for e in j.select("b", limit=10)] == [1, 5]
    assert j.select("nobody") == []
    j.clear()
    assert j.select() == []


def test_the_apps_journal_is_bounded(client):
    assert client.app.state.journal.entries.maxlen == CAPACITY == 10_000
    assert client.app.state.journal.max_bytes == MAX_BYTES == 16 << 20


def test_the_journal_is_bounded_in_bytes_too_oldest_first_out():
    j = Journal(capacity=100, max_bytes=10_000)
    for n in range(20):
        j.record(new_entry(n, "POST", "/v1/mm/quote", b"", b"x" * 2_000, None))
    costs = [e.cost for e in j.entries]
    assert sum(costs) == j.bytes <= 10_000 < sum(costs) + costs[0]       # full, and not one more fits
    assert [e.time_ms for e in j.entries] == list(range(20 - len(costs), 20))


def test_the_journal_keeps_only_the_head_of_a_long_body_and_shows_it_as_text():
    body = b'{"symbol": "' + b"A" * (2 * MAX_STORED_BODY_BYTES) + b'"}'
    e = new_entry(0, "POST", "/v1/mm/quote", b"", body, "pf_test_" + "k" * 500)
    assert len(e.raw_body) == MAX_STORED_BODY_BYTES and e.truncated and e.key is None
    assert e.body == body[:MAX_STORED_BODY_BYTES].decode()


def test_large_bodies_do_not_grow_the_journal_past_its_byte_bound(client, auth):
    """The issue's measure: 40 bodies of 10 MB took the server from 66 to 491 MB. Each is now refused
    at the door (413) unread, and even bodies just under the door's limit are kept only in part."""
    big = b'{"symbol": "BTC-PERP", "pad": "' + b"x" * (MAX_BODY_BYTES - 64) + b'"}'
    for _ in range(40):
        assert_error(client.post("/v1/mm/cancel", content=big + b" " * 100, headers={**auth, "Content-Type": "application/json"}), 413, "payload_too_large")
        assert client.post("/v1/mm/cancel", headers={**auth, "Content-Type": "application/json"}, content=big).status_code == 200
    j = client.app.state.journal
    assert len(j) == 80 and j.bytes <= 40 * MAX_STORED_BODY_BYTES + 80 * 1_000
    assert [e["status"] for e in journal(client)][:2] == [413, 200]


@pytest.mark.parametrize("raw, parsed", [
    (b"", None),
    (b'{"symbol": "BTC-PERP", "bid_size": 100}', {"symbol": "BTC-PERP", "bid_size": 100}),
    (b"[1, 2.5, null]", [1, 2.5, None]),
    (b"symbol=BTC-PERP", "symbol=BTC-PERP"),
    (b'{"x": NaN}', '{"x": NaN}'),
    (b'{"symbol": "\\ud800"}', '{"symbol": "\\ud800"}'),
    (b"[" * 40 + b"]" * 40, "[" * 40 + "]" * 40),
    (b"[" * 5000 + b"]" * 5000, "[" * 5000 + "]" * 5000),
    (b"\xff\xfe", "\ufffd\ufffd"),
])
def test_parse_body(raw, parsed):
    assert parse_body(raw) == parsed


def test_parse_query():
    assert parse_query(b"") == {}
    assert parse_query(b"symbol=BTC-PERP&limit=5&empty=") == {"symbol": "BTC-PERP", "limit": "5", "empty": ""}
    assert parse_query(b"a=1&a=2&a=3") == {"a": ["1", "2", "3"]}


# ---- over HTTP ----------------------------------------------------------------------------------
def test_an_entry_records_time_agent_method_path_query_body_and_status(client, auth):
    me = agent_id(client, auth)
    body = quote_body(client)
    client.post("/_mock/clock/advance", json={"seconds": 90})
    assert client.post("/v1/mm/quote", headers=auth, json=body).status_code == 200
    client.get("/v1/mm/fills", headers=auth, params={"symbol": SYMBOL, "limit": 5})
    entries = journal(client)
    assert entries[-2] == {"time": T0_MS + 90_000, "agent": me, "method": "POST", "path": "/v1/mm/quote",
                           "query": {}, "body": body, "status": 200}
    assert entries[-1] == {"time": T0_MS + 90_000, "agent": me, "method": "GET", "path": "/v1/mm/fills",
                           "query": {"symbol": SYMBOL, "limit": "5"}, "body": None, "status": 200}
    assert [(e["method"], e["path"], e["time"]) for e in entries[:2]] == [
        ("GET", "/v1/account", T0_MS), ("GET", f"/v1/markets/{SYMBOL}/price", T0_MS)]


def test_mock_requests_are_not_journaled(client, auth):
    client.get("/_mock/state")
    client.post("/_mock/clock/advance", json={"seconds": 1})
    client.post("/_mock/faults", json={"path": "/nowhere", "status": 500})
    client.get("/v1/markets/BTC-PERP", headers=auth)
    client.get("/_mock/requests")
    assert [e["path"] for e in journal(client)] == ["/v1/markets/BTC-PERP"]


def test_bodies_that_are_not_json_are_text_and_none_is_null(client, auth):
    client.post("/v1/mm/cancel", headers={**auth, "Content-Type": "application/json"}, content=b"symbol=BTC-PERP")
    client.post("/v1/faucet/claim", headers=auth)
    entries = journal(client)
    assert (entries[0]["body"], entries[0]["status"]) == ("symbol=BTC-PERP", 400)
    assert (entries[1]["body"], entries[1]["status"]) == (None, 200)


def test_error_statuses_are_recorded(client, auth):
    client.post("/v1/mm/quote", headers=auth, json={"symbol": SYMBOL})
    client.get("/v1/account")
    client.get("/v1/markets/NOPE-PERP")
    client.get("/no/such/route")
    assert [e["status"] for e in journal(client)] == [400, 401, 404, 404]


def test_fault_answers_are_recorded(client, auth):
    client.post("/_mock/faults", json={"path": "/v1/mm/quote", "status": 503, "count": 1})
    body = quote_body(client)
    client.post("/v1/mm/quote", headers=auth, json=body)
    client.post("/v1/mm/quote", headers=auth, json=body)
    quotes = [e for e in journal(client) if e["path"] == "/v1/mm/quote"]
    assert [e["status"] for e in quotes] == [503, 200]
    assert quotes[0]["body"] == body


def test_rate_limited_answers_are_recorded(auth):
    with AppClient(create_app(make_exchange(), AppOptions(rate_limit=2))) as c:
        me = agent_id(c, auth)      # provisions the agent: drawn from the client address's bucket
        for _ in range(3):
            c.get("/v1/account", headers=auth)
        entries = journal(c)
    assert [(e["status"], e["agent"]) for e in entries] == [(200, me), (200, me), (200, me), (429, me)]


def test_a_crash_is_recorded_as_500(exchange):
    app = create_app(exchange, AppOptions())

    async def boom():
        raise RuntimeError("a bug")

    app.add_api_route("/v1/boom", boom)
    with AppClient(app) as c:
        assert_error(c.get("/v1/boom"), 500, "internal_error")
        assert [(e["path"], e["status"]) for e in journal(c)] == [("/v1/boom", 500)]


def test_agent_is_resolved_from_the_key_or_null(client, auth):
    first_use = client.get("/v1/account", headers={"X-API-Key": OTHER_KEY})     # provisioned by this request
    me = agent_id(client, auth)
    client.get("/v1/account", headers={"Authorization": "Bearer not_a_key"})
    client.get("/v1/markets")
    registered = client.post("/v1/agents/register", json={}).json()
    client.get("/v1/account", headers={"X-API-Key": registered["api_key"]})
    agents = [e["agent"] for e in journal(client)]
    assert agents == [first_use.json()["agent_id"], me, None, None, None, registered["agent_id"]]


def test_an_unknown_key_under_strict_auth_is_null():
    with AppClient(create_app(make_exchange(strict_auth=True), AppOptions())) as c:
        assert c.get("/v1/account", headers={"Authorization": f"Bearer {KEY}"}).status_code == 401
        assert [(e["agent"], e["status"]) for e in journal(c)] == [(None, 401)]


def test_agent_filter_and_limit(client, auth, other_auth):
    me, other = agent_id(client, auth), agent_id(client, other_auth)
    for i in range(3):
        client.get("/v1/mm/orders", headers=auth, params={"n": str(i)})
        client.get("/v1/mm/orders", headers=other_auth, params={"n": str(i)})
    mine = journal(client, agent=me)
    assert [e["query"].get("n") for e in mine] == [None, "0", "1", "2"]
    assert {e["agent"] for e in mine} == {me}
    assert [e["query"]["n"] for e in journal(client, agent=other, limit=2)] == ["1", "2"]
    assert [e["query"].get("n") for e in journal(client, limit=3)] == ["1", "2", "2"]
    assert len(journal(client, limit=100)) == 8
    assert journal(client, agent="ag_nobody") == []


@pytest.mark.parametrize("limit", ["0", "-1", "ten", "1.5"])
def test_a_bad_limit_answers_400_and_changes_nothing(client, auth, limit):
    client.get("/v1/account", headers=auth)
    before = journal(client)
    r = client.get("/_mock/requests", params={"limit": limit})
    assert assert_error(r, 400, "invalid_request")["field"] == "limit"
    assert journal(client) == before


def test_reset_empties_the_journal(client, auth):
    client.get("/v1/account", headers=auth)
    assert client.post("/_mock/reset", json={}).status_code == 200
    assert journal(client) == []
    client.get("/v1/markets/BTC-PERP")
    assert [e["path"] for e in journal(client)] == ["/v1/markets/BTC-PERP"]


def test_a_test_can_see_that_the_client_cancelled_before_it_requoted(client, auth):
    me = agent_id(client, auth)
    client.post("/v1/mm/quote", headers=auth, json=quote_body(client))
    client.post("/_mock/clock/advance", json={"seconds": 5})
    client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL})
    client.post("/v1/mm/quote", headers=auth, json=quote_body(client))
    assert cancelled_before_every_requote(journal(client, agent=me), SYMBOL)

    # A client that re-quotes without cancelling is caught (its orders pile up, as the seed warns).
    client.post("/v1/mm/quote", headers=auth, json=quote_body(client))
    mine = journal(client, agent=me)
    assert not cancelled_before_every_requote(mine, SYMBOL)
    quotes = [e for e in mine if e["path"] == "/v1/mm/quote"]
    assert [e["time"] for e in quotes] == [T0_MS, T0_MS + 5000, T0_MS + 5000]
