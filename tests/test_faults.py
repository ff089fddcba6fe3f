"""Fault injection (``/_mock/faults``): error answers and latency on matching API requests, seeded
probability, counts, and bad rules refused. The rule table is checked without HTTP first."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app_client import AppClient
from conftest import KEY, make_exchange
from pf_mock.api import AppOptions, create_app
from pf_mock import serving as faults_module
from pf_mock.faults import FaultTable, default_error_code
from pf_mock.errors import ApiError
from contract_asserts import assert_error

SYMBOL = "BTC-PERP"



def add_fault(client, **rule) -> dict:
    r = client.post("/_mock/faults", json=rule)
    assert r.status_code == 201, r.text
    return r.json()


def rules(client) -> list[dict]:
    r = client.get("/_mock/faults")
    assert r.status_code == 200
    return r.json()["faults"]


def quote_body(client) -> dict:
    mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
    return {"symbol": SYMBOL, "bid_price": mid * 0.998, "bid_size": 100, "ask_price": mid * 1.002, "ask_size": 100}


def statuses(client, n: int, path: str = "/v1/markets/BTC-PERP/price") -> list[int]:
    return [client.get(path).status_code for _ in range(n)]


@pytest.fixture
def seeded_client():
    """A client over a fresh app on a given seed."""
    opened = []

    def open_client(seed: int) -> AppClient:
        c = AppClient(create_app(make_exchange(seed), AppOptions()))
        opened.append(c.__enter__())        # open: one event loop for all its requests, not one each
        return c

    yield open_client
    for c in opened:
        c.__exit__(None, None, None)


# ---- the rule table, without HTTP ---------------------------------------------------------------
def test_table_globs_and_regexes_match_the_whole_path():
    table = FaultTable(0)
    glob = table.add("/v1/mm/*", status=503)
    regex = table.add("re:/v1/markets/[A-Z]+-PERP/price", status=500)
    assert glob.matches("GET", "/v1/mm/orders") and glob.matches("POST", "/v1/mm/session/reset")
    assert not glob.matches("GET", "/v1/markets") and not glob.matches("GET", "/x/v1/mm/orders")
    assert regex.matches("GET", "/v1/markets/BTC-PERP/price")
    assert not regex.matches("GET", "/v1/markets/BTC-PERP/price/extra")     # a full match, not a search
    assert not regex.matches("GET", "/v1/markets/btc-PERP/price")


def test_table_method_is_optional_and_case_insensitive():
    table = FaultTable(0)
    rule = table.add("/v1/*", method="post", status=503)
    assert rule.method == "POST"
    assert rule.matches("POST", "/v1/mm/quote") and not rule.matches("GET", "/v1/mm/orders")
    assert table.add("/v1/*", status=503).matches("DELETE", "/v1/x")


def test_table_draw_latencies_add_up_and_the_first_status_answers():
    table = FaultTable(0)
    table.add("/v1/*", latency_ms=10)
    first = table.add("/v1/mm/*", latency_ms=5, status=502)
    later = table.add("/v1/mm/quote", status=500)
    injection = table.draw("POST", "/v1/mm/quote")
    assert injection.latency_ms == 15
    assert (injection.status, injection.body) == (502, {"error": "bad_gateway", "message": first.message})
    assert later.matched == 0 and later.fired == 0          # not consulted after the answer
    assert table.draw("GET", "/v1/markets").latency_ms == 10
    assert table.draw("GET", "/v1/markets").status is None
    assert table.draw("GET", "/other") is None


def test_table_count_lapses_after_the_first_n_matching_requests():
    table = FaultTable(0)
    rule = table.add("/v1/*", status=503, count=2)
    assert [table.draw("GET", "/v1/a").status for _ in range(2)] == [503, 503]
    assert rule.matched == 2 and rule.remaining == 0
    assert table.rules == [] and table.draw("GET", "/v1/a") is None


def test_table_count_counts_matches_that_did_not_fire():
    table = FaultTable(0)
    table.add("/v1/*", status=503, probability=0.0, count=3)
    assert [table.draw("GET", "/v1/a") for _ in range(3)] == [None] * 3
    assert table.rules == []


def test_table_same_seed_same_draws_and_reset_reseeds():
    def run(table: FaultTable) -> list[bool]:
        table.add("/v1/*", status=503, probability=0.5)
        return [table.draw("GET", "/v1/x") is not None for _ in range(64)]

    first, again = run(FaultTable(3)), run(FaultTable(3))
    assert first == again and any(first) and not all(first)
    assert run(FaultTable(4)) != first
    table = FaultTable(4)
    run(table)
    table.reset(3)
    assert table.rules == [] and run(table) == first


def test_table_rules_draw_independently():
    # A second rule on other paths does not shift the first rule's draws.
    alone, beside = FaultTable(1), FaultTable(1)
    alone.add("/v1/a", status=503, probability=0.5)
    beside.add("/v1/a", status=503, probability=0.5)
    beside.add("/v1/b", status=500, probability=0.5)
    seq_alone = [alone.draw("GET", "/v1/a") is not None for _ in range(32)]
    seq_beside = []
    for _ in range(32):
        beside.draw("GET", "/v1/b")
        seq_beside.append(beside.draw("GET", "/v1/a") is not None)
    assert seq_alone == seq_beside


@pytest.mark.parametrize("fields, field", [
    ({"path": ""}, "path"),
    ({"path": "re:("}, "path"),
    ({"path": "/v1/*", "status": 302}, "status"),
    ({"path": "/v1/*", "status": 600}, "status"),
    ({"path": "/v1/*", "latency_ms": -1}, "latency_ms"),
    ({"path": "/v1/*", "latency_ms": float("nan")}, "latency_ms"),
    ({"path": "/v1/*", "status": 503, "probability": 1.5}, "probability"),
    ({"path": "/v1/*", "status": 503, "probability": -0.1}, "probability"),
    ({"path": "/v1/*", "status": 503, "count": 0}, "count"),
    ({"path": "/v1/*", "status": 503, "count": -2}, "count"),
    ({"path": "/v1/*", "status": 503, "method": "FETCH"}, "method"),
    ({"path": "/v1/*", "status": 503, "error": "Not Snake"}, "error"),
    ({"path": "/v1/*", "error": "oops", "latency_ms": 5}, "error"),
    ({"path": "/v1/*", "status": 503, "message": "  "}, "message"),
    ({"path": "/v1/*"}, "status"),
])
def test_table_refuses_a_bad_rule_and_adds_nothing(fields, field):
    table = FaultTable(0)
    with pytest.raises(ApiError) as raised:
        table.add(**fields)
    assert (raised.value.status, raised.value.code, raised.value.detail["field"]) == (400, "invalid_request", field)
    assert table.rules == []
    assert table.add("/v1/*", status=503).id == "flt_1"         # nor used up a rule number


@pytest.mark.parametrize("status, code", [(400, "invalid_request"), (401, "unauthorized"), (404, "not_found"),
                                          (418, "i_m_a_teapot"), (429, "rate_limited"),
                                          (500, "internal_error"), (503, "service_unavailable"),
                                          (599, "server_error")])
def test_default_error_codes(status, code):
    assert default_error_code(status) == code


# ---- over HTTP ----------------------------------------------------------------------------------
def test_add_answers_the_rule_with_an_id_and_the_list(client):
    first = add_fault(client, path="/v1/mm/*", status=503)
    assert first["fault"]["id"] == "flt_1"
    assert first["fault"] == {
        "id": "flt_1", "path": "/v1/mm/*", "method": None, "status": 503, "error": "service_unavailable",
        "message": first["fault"]["message"], "latency_ms": 0.0, "probability": 1.0, "count": None,
        "remaining": None, "matched": 0, "fired": 0}
    second = add_fault(client, path="re:/v1/markets/.*", latency_ms=5, method="GET", count=3)
    assert [r["id"] for r in second["faults"]] == ["flt_1", "flt_2"]
    assert second["fault"]["remaining"] == 3 and second["fault"]["status"] is None
    assert rules(client) == second["faults"]


def test_a_status_fault_answers_the_error_body_and_places_no_order(client, auth, exchange):
    body = quote_body(client)
    add_fault(client, path="/v1/mm/quote", status=503)
    before = client.get("/v1/account", headers=auth).json()
    r = client.post("/v1/mm/quote", headers=auth, json=body)
    assert assert_error(r, 503, "service_unavailable").keys() == {"error", "message"}
    assert client.get("/v1/mm/orders", headers=auth).json()["orders"] == []
    assert client.get("/v1/account", headers=auth).json() == before
    agent = exchange.agent_for_key(KEY)
    assert exchange.open_orders(agent) == [] and agent.sessions == {}
    assert rules(client)[0]["fired"] == 1


def test_a_status_fault_uses_the_given_error_and_message(client, auth):
    add_fault(client, path="/v1/account", status=429, error="slow_down", message="Too fast, friend.")
    r = client.get("/v1/account", headers=auth)
    assert r.status_code == 429
    assert r.json() == {"error": "slow_down", "message": "Too fast, friend."}


def test_a_fault_does_not_touch_other_paths(client, auth):
    add_fault(client, path="/v1/mm/*", status=500)
    assert client.get("/v1/markets/BTC-PERP/price").status_code == 200
    assert client.get("/v1/account", headers=auth).status_code == 200
    assert_error(client.get("/v1/mm/orders", headers=auth), 500, "internal_error")
    assert_error(client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL}), 500, "internal_error")


def test_a_method_fault_leaves_other_methods_alone(client, auth):
    add_fault(client, path="/v1/mm/*", method="POST", status=502)
    assert client.get("/v1/mm/orders", headers=auth).status_code == 200
    assert_error(client.post("/v1/mm/cancel", headers=auth, json={"symbol": SYMBOL}), 502, "bad_gateway")


def test_a_regex_fault(client):
    add_fault(client, path="re:/v1/markets/[A-Z]+-PERP/price", status=504)
    assert_error(client.get("/v1/markets/ETH-PERP/price"), 504, "gateway_timeout")
    assert client.get("/v1/markets/ETH-PERP/orderbook").status_code == 200
    assert client.get("/v1/markets/eth/price").status_code == 200


@pytest.fixture
def delays(monkeypatch) -> list[float]:
    """The delays the fault rules ask for (``Serving.fault``), in seconds, recorded instead of slept:
    latency is checked by what was asked, not by a wall clock (which a busy machine makes slow, never
    fast)."""
    asked: list[float] = []

    async def sleep(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(faults_module, "asyncio", SimpleNamespace(sleep=sleep))
    return asked


def test_latency_alone_delays_and_then_the_request_goes_through(client, auth, delays):
    body = quote_body(client)
    add_fault(client, path="/v1/mm/quote", latency_ms=50)
    client.get("/v1/account", headers=auth)     # a request the rule does not match is not delayed
    assert delays == []
    r = client.post("/v1/mm/quote", headers=auth, json=body)
    assert delays == [0.05]
    assert r.status_code == 200 and r.json()["bid_id"]
    assert len(client.get("/v1/mm/orders", headers=auth).json()["orders"]) == 2


def test_latency_with_a_status_delays_then_answers_the_error(client, auth, delays):
    add_fault(client, path="/v1/account", latency_ms=50, status=500)
    r = client.get("/v1/account", headers=auth)
    assert delays == [0.05]
    assert_error(r, 500, "internal_error")


def test_several_rules_stand_at_once(client, auth, delays):
    body = quote_body(client)
    add_fault(client, path="/v1/*", latency_ms=30)
    add_fault(client, path="/v1/*", latency_ms=20)
    add_fault(client, path="/v1/mm/quote", status=503)
    r = client.post("/v1/mm/quote", headers=auth, json=body)
    assert delays == [pytest.approx(0.05)]      # the latencies of every rule that fired add up
    assert_error(r, 503, "service_unavailable")
    assert client.get("/v1/mm/orders", headers=auth).json()["orders"] == []
    listed = rules(client)
    assert [(rule["matched"], rule["fired"]) for rule in listed] == [(2, 2), (2, 2), (1, 1)]


def test_the_first_rule_that_fires_answers(client):
    add_fault(client, path="/v1/*", status=503)
    add_fault(client, path="/v1/markets/*", status=500)
    assert_error(client.get("/v1/markets/BTC-PERP"), 503, "service_unavailable")


def test_probability_zero_never_fires(client):
    add_fault(client, path="/v1/markets/*", status=503, probability=0)
    assert statuses(client, 30) == [200] * 30
    assert (rules(client)[0]["matched"], rules(client)[0]["fired"]) == (30, 0)


def test_probability_one_always_fires(client):
    add_fault(client, path="/v1/markets/*", status=503, probability=1)
    assert statuses(client, 30) == [503] * 30


def test_count_stops_after_n(client):
    add_fault(client, path="/v1/markets/*", status=503, count=3)
    assert statuses(client, 6) == [503, 503, 503, 200, 200, 200]
    assert rules(client) == []


def test_same_seed_same_faults_at_the_same_requests(seeded_client):
    def run(c: AppClient) -> list[int]:
        add_fault(c, path="/v1/markets/*", status=503, probability=0.5)
        add_fault(c, path="/v1/markets/ETH-PERP", status=500, probability=0.3)
        return [c.get(p).status_code for p in ["/v1/markets/BTC-PERP/price", "/v1/markets/ETH-PERP"] * 20]

    first = run(seeded_client(7))
    assert first == run(seeded_client(7))
    assert {200, 500, 503} <= set(first)
    assert run(seeded_client(8)) != first


def test_reset_clears_the_rules_and_reseeds(seeded_client):
    c = seeded_client(5)
    add_fault(c, path="/v1/markets/*", status=503, probability=0.5)
    first = statuses(c, 24)
    assert 200 in first and 503 in first
    assert c.post("/_mock/reset", json={}).status_code == 200
    assert rules(c) == []
    assert statuses(c, 24) == [200] * 24
    again = add_fault(c, path="/v1/markets/*", status=503, probability=0.5)
    assert again["fault"]["id"] == "flt_1"
    assert statuses(c, 24) == first


def test_reset_with_a_new_seed_reseeds_from_it(seeded_client):
    def run(c: AppClient) -> list[int]:
        add_fault(c, path="/v1/markets/*", status=503, probability=0.5)
        return statuses(c, 24)

    fresh = run(seeded_client(9))
    c = seeded_client(1)
    run(c)
    c.post("/_mock/reset", json={"seed": 9})
    assert run(c) == fresh


def test_faults_never_hit_mock_routes(client):
    add_fault(client, path="*", status=503)
    add_fault(client, path="re:.*", status=500)
    assert client.get("/_mock/state").status_code == 200
    assert client.get("/_mock/faults").status_code == 200
    assert client.get("/_mock/requests").status_code == 200
    assert client.post("/_mock/clock/advance", json={"seconds": 1}).status_code == 200
    assert [(r["matched"], r["fired"]) for r in rules(client)] == [(0, 0), (0, 0)]
    assert_error(client.get("/v1/markets"), 503, "service_unavailable")


def test_delete_clears_all_rules(client):
    add_fault(client, path="/v1/markets/*", status=503)
    add_fault(client, path="/v1/mm/*", status=500)
    r = client.delete("/_mock/faults")
    assert r.status_code == 200 and r.json() == {"cleared": 2, "faults": []}
    assert rules(client) == []
    assert client.get("/v1/markets/BTC-PERP").status_code == 200


def test_delete_one_rule_by_id(client):
    add_fault(client, path="/v1/markets/*", status=503)
    add_fault(client, path="/v1/mm/*", status=500)
    r = client.delete("/_mock/faults/flt_1")
    assert r.status_code == 200
    assert r.json()["removed"]["id"] == "flt_1" and [x["id"] for x in r.json()["faults"]] == ["flt_2"]
    assert client.get("/v1/markets/BTC-PERP").status_code == 200


def test_delete_an_unknown_rule_is_404_and_changes_nothing(client):
    add_fault(client, path="/v1/markets/*", status=503)
    before = rules(client)
    assert assert_error(client.delete("/_mock/faults/flt_9"), 404, "fault_not_found")["fault_id"] == "flt_9"
    assert rules(client) == before


@pytest.mark.parametrize("body, field", [
    ({"status": 503}, "path"),
    ({"path": 5, "status": 503}, "path"),
    ({"path": "re:[a-", "status": 503}, "path"),
    ({"path": "/v1/*", "status": 200}, "status"),
    ({"path": "/v1/*", "status": "503"}, "status"),
    ({"path": "/v1/*", "status": 503.5}, "status"),      # 503.0 is the integer 503 in JSON (and JSON Schema)
    ({"path": "/v1/*", "status": 503, "probability": 2}, "probability"),
    ({"path": "/v1/*", "status": 503, "probability": True}, "probability"),
    ({"path": "/v1/*", "latency_ms": -5}, "latency_ms"),
    ({"path": "/v1/*", "status": 503, "count": -1}, "count"),
    ({"path": "/v1/*", "status": 503, "count": 1.5}, "count"),
    ({"path": "/v1/*"}, "status"),
    ({"path": "/v1/*", "method": "BREW", "status": 503}, "method"),
])
def test_bad_bodies_answer_400_with_the_field_and_add_nothing(client, body, field):
    add_fault(client, path="/v1/keep", status=500)
    before = rules(client)
    r = client.post("/_mock/faults", json=body)
    assert assert_error(r, 400, "invalid_request")["field"] == field
    assert rules(client) == before
    assert client.get("/v1/markets/BTC-PERP").status_code == 200


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[1, 2]", b'"/v1/*"'])
def test_a_body_that_is_not_a_json_object_answers_400_and_adds_nothing(client, raw):
    assert_error(client.post("/_mock/faults", content=raw, headers={"Content-Type": "application/json"}), 400, "invalid_request")
    assert rules(client) == []


def test_non_finite_numbers_are_refused(client):
    r = client.post("/_mock/faults", content=b'{"path": "/v1/*", "latency_ms": NaN}', headers={"Content-Type": "application/json"})
    assert assert_error(r, 400, "invalid_request")["field"] == "latency_ms"
    assert rules(client) == []
