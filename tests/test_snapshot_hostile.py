"""Every bad snapshot document is refused with 400 ``invalid_snapshot`` naming the field and the rule, and
changes nothing (the target's own snapshot, which is its whole state, is the same bytes after): the
hand-edited and corrupted documents an attacker would try, one by one, then a property test that mutates
a valid document field by field and requires a 200 with a working exchange or a 400 with nothing changed,
never a 500."""

from __future__ import annotations

import copy
import functools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_asserts import assert_error
from document_edits import edit_at
from app_client import in_process

OTHER = {"Authorization": "Bearer pf_test_second_agent_01"}


@functools.lru_cache(maxsize=1)
def base_bytes() -> bytes:
    """A valid document with something in every part: two agents, fills, closed orders, sessions with
    guardrails and a refresh loop, a scenario with pending steps, a regime change and a jump."""
    with in_process(seed=4, scenario="flash_crash") as mock:
        c = mock.client
        for symbol, headers in (("BTC-PERP", {}), ("ETH-PERP", OTHER)):
            mid = c.get(f"/v1/markets/{symbol}/price").json()["mid"]
            r = c.post("/v1/mm/quote", headers=headers, json={
                "symbol": symbol, "bid_price": mid * 0.9999, "bid_size": 300, "ask_price": mid * 1.0001,
                "ask_size": 300, "auto_refresh": True, "refresh_interval_seconds": 5, "max_inventory_usd": 2_000,
                "auto_hedge_threshold_usd": 900})
            assert r.status_code == 200, r.text
        mock._control.post("/_mock/markets/ETH-PERP/regime", json={"spread_bps": 3})
        mock._control.post("/_mock/markets/SOL-PERP/jump", json={"move_bps": 40})
        mock.advance(90)
        c.post("/v1/faucet/claim")
        document = mock._control.post("/_mock/snapshot").content
    parsed = json.loads(document)
    assert parsed["agents"][0]["fills"] and parsed["agents"][0]["closed_orders"]["orders"]
    assert any(m["schedule"] for m in parsed["markets"]) and parsed["scenario"] is not None
    return document


def base() -> dict:
    return json.loads(base_bytes())


@pytest.fixture(scope="module")
def target():
    with in_process(seed=9) as mock:
        mock.client.post("/v1/mm/quote", json={"symbol": "DOGE-PERP", "bid_price": 0.05, "bid_size": 50,
                                               "auto_refresh": True})
        mock.advance(12)
        yield mock


def state_of(mock) -> bytes:
    r = mock._control.post("/_mock/snapshot")
    assert r.status_code == 200, r.text
    return r.content


def refused(mock, document, field: str) -> dict:
    before = state_of(mock)
    if isinstance(document, (bytes, str)):
        r = mock._control.post("/_mock/restore", content=document, headers={"content-type": "application/json"})
    else:
        r = mock._control.post("/_mock/restore", json=document)
    body = assert_error(r, 400, "invalid_snapshot")
    assert body["field"] == field or body["field"].startswith(field + "."), body
    assert body["rule"] and body["rule"] in body["message"], body
    assert state_of(mock) == before
    return body


def edit(path: str, value):
    def apply(d: dict) -> None:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = d
        for p in parents:
            node = node[p]
        node[last] = value
    return apply


def second_agent_like_first(d: dict) -> None:
    agent = copy.deepcopy(d["agents"][0])
    agent["api_key"] = "pf_test_another_key_0001"
    d["agents"].append(agent)


def live_session_without_its_ledger(d: dict) -> None:
    """The first agent's live session on BTC-PERP, with BTC-PERP taken out of its ledgers (and its fills)."""
    agent = d["agents"][0]
    assert "BTC-PERP" in d["live"] and "BTC-PERP" in agent["ledgers"]
    agent["ledgers"].remove("BTC-PERP")
    agent["fills"] = [row for row in agent["fills"] if row[0] != "BTC-PERP"]


def junk(where: str):
    def apply(d: dict) -> None:
        node = d
        for p in [int(p) if p.isdigit() else p for p in where.split(".") if p]:
            node = node[p]
        node["note"] = "x" * (1 << 20)
    return apply


def first_order_owner(value):
    def apply(d: dict) -> None:
        market = next(m for m in d["markets"] if any(o[1] for lvl in m["book"]["bids"] + m["book"]["asks"]
                                                     for o in lvl[1]))
        for lvl in market["book"]["bids"] + market["book"]["asks"]:
            for o in lvl[1]:
                if o[1] is not None:
                    o[1] = value
                    return
    return apply


def duplicate_order_id(d: dict) -> None:
    book = d["markets"][0]["book"]
    book["bids"][1][1][0][0] = book["bids"][0][1][0][0]


def refresh_for(agent_id: str):
    def apply(d: dict) -> None:
        for m in d["markets"]:
            for e in m["schedule"]:
                if e[2]["type"] == "refresh":
                    e[2]["agent_id"] = agent_id
                    return
        raise AssertionError("no refresh tick")
    return apply


HOSTILE = [
    # the cases the replayed log accepted into bad state
    (edit("config.starting_balance", -1e9), "config.starting_balance"),
    (edit("config.starting_balance", 1e300), "config.starting_balance"),
    (edit("agents.0.starting_balance", -1e9), "agents.0.starting_balance"),
    (edit("config.taker_fee_bps", -500), "config.taker_fee_bps"),
    (edit("config.maker_rebate_bps", 1e6), "config.maker_rebate_bps"),
    (edit("clock.mode", "banana"), "clock.mode"),
    (edit("agents.0.api_key", "x"), "agents.0.api_key"),
    (second_agent_like_first, "agents.2.agent_id"),
    # the ones that answered 500
    (edit("clock.now_us", 1e308), "clock.now_us"),
    (edit("clock.now_us", 10 ** 30), "clock.now_us"),
    (edit("clock.start_us", -10 ** 30), "clock.start_us"),
    (edit("agents.0.created_at", 1e308), "agents.0.created_at"),
    (edit("agents.0.agent_id", "агент"), "agents.0.agent_id"),
    (edit("agents.0.sessions.0.reason", "\u2603 paused"), "agents.0.sessions.0.reason"),
    (edit("agents.0.fills.0.0", "BTC-PERP\u00e9"), "agents.0.fills.0.0"),
    # what grew without bound
    (junk(""), "note"),
    (junk("agents.0"), "agents.0.note"),
    (junk("markets.0.house"), "markets.0.house.note"),
    # versions and formats
    (edit("version", 99), "version"),
    (edit("version", "2"), "version"),
    (edit("version", 1), "version"),
    (edit("format", "pf-mock-log"), "format"),
    # numbers out of range, enums, patterns, references
    (edit("seed", -1), "seed"),
    (edit("agents.0.fills.0.5", -3), "agents.0.fills.0.5"),
    (edit("agents.0.fills.0.4", 0), "agents.0.fills.0.4"),
    (edit("agents.0.fills.0.10", "gift"), "agents.0.fills.0.10"),
    (edit("agents.0.fills.0.11", 9e9), "agents.0.fills.0.11"),
    (edit("agents.0.sessions.0.status", "running"), "agents.0.sessions.0.status"),
    (edit("agents.0.sessions.0.refresh_interval_seconds", 0.01), "agents.0.sessions.0.refresh_interval_seconds"),
    (edit("agents.0.sessions.0.guardrails.max_inventory_usd", -5), "agents.0.sessions.0.guardrails.max_inventory_usd"),
    (edit("markets.0.symbol", "FOO-PERP"), "markets.0.symbol"),
    (edit("markets.0.fair.regime.levels", 200), "markets.0.fair.regime.levels"),
    (edit("markets.0.fair.regime.spread_bps", 0), "markets.0.fair.regime.spread_bps"),
    (edit("ran_to_us", 0), "ran_to_us"),
    (first_order_owner("ghost"), "markets"),
    (first_order_owner(None), "markets"),
    (duplicate_order_id, "markets.0.book"),
    (refresh_for("nobody"), "markets"),
    (edit("live", {"BTC-PERP": ["nobody"]}), "live.BTC-PERP.0"),
    (live_session_without_its_ledger, "live"),
    (edit("markets.0.plan", [0, 0]), "markets.0.plan.0"),
    (lambda d: d["markets"][0]["fair"]["changes"].append({"at_us": d["clock"]["now_us"] + 1, "shift": 0.1}),
     "markets.0.fair.changes"),
    (edit("markets.0.house.laid_out.4", 99), "markets.0.house.laid_out.4"),
    (edit("analytics.agents.0.agent_id", "nobody"), "analytics.agents.0.agent_id"),
    (edit("scenario.document", {"name": "x"}), "scenario.document"),
    (edit("markets.0.agent_orders", []), "markets.0.agent_orders"),
]


@pytest.mark.parametrize("mutate, field", HOSTILE, ids=[f"{i}-{f}" for i, (_, f) in enumerate(HOSTILE)])
def test_a_hostile_document_is_refused_naming_the_field_and_changes_nothing(target, mutate, field):
    document = base()
    mutate(document)
    refused(target, document, field)


@pytest.mark.parametrize("body", [b"[]", b'"snapshot"', b"{}", b"not json", b'{"format": "pf-mock-snapshot"}',
                                  b'{"format": "pf-mock-snapshot", "version": 2, "seed": NaN}',
                                  b'{"format": "pf-mock-snapshot", "version": 2, "seed": "\\ud800"}',
                                  b"[" * 100_000,
                                  b'{"format": "pf-mock-snapshot", "version": 2, "seed": ' + b"9" * 5_000 + b"}"],
                         ids=["list", "string", "empty", "text", "format only", "nan", "lone surrogate", "deep",
                              "long integer"])
def test_a_body_that_is_no_snapshot_is_refused(target, body):
    before = state_of(target)
    r = target._control.post("/_mock/restore", content=body, headers={"content-type": "application/json"})
    assert_error(r, 400, "invalid_snapshot")
    assert state_of(target) == before


def test_the_base_document_itself_is_taken(target):
    r = target._control.post("/_mock/restore", content=base_bytes(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert state_of(target) == base_bytes()       # the oracle of "unchanged": a document is the state, exactly


# ---- field by field -------------------------------------------------------------------------------
def leaves(node, path=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list) and node:
        for i, v in enumerate(node):
            yield from leaves(v, path + (i,))
    else:
        yield path


PATHS = None


def paths() -> list[tuple]:
    global PATHS
    if PATHS is None:
        PATHS = list(leaves(base()))
    return PATHS


HOSTILE_VALUES = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 1, 2 ** 53 + 1, -(2 ** 63), 1e308, -1e308, 0.5, "", "x",
                     "ü€\U0001f600", [], {}, [None], {"a": 1}, "pf_test_abcdefgh", "BTC-PERP"]),
    st.integers(-10 ** 6, 10 ** 6), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8))


@settings(max_examples=max(20, settings.default.max_examples // 4), deadline=None)
@given(index=st.integers(0, 10 ** 9), how=st.sampled_from(["replace", "nudge", "drop"]), value=HOSTILE_VALUES)
def test_any_one_field_changed_gives_a_working_exchange_or_a_400_with_nothing_changed(target, index, how, value):
    document = base()
    path = paths()[index % len(paths())]
    edit_at(document, path, how, value)
    before = state_of(target)
    r = target._control.post("/_mock/restore", json=document)
    assert r.status_code in (200, 400), (path, r.text)
    if r.status_code == 400:
        assert r.json()["error"] == "invalid_snapshot"
        assert state_of(target) == before, path
        return
    # Taken: the exchange works on from it (no 500 anywhere), and its own snapshot restores again.
    for send in (lambda: target._control.post("/_mock/clock/advance", json={"seconds": 20}),
                 lambda: target.client.get("/v1/account"), lambda: target.client.get("/v1/mm/pnl"),
                 lambda: target.client.get("/v1/mm/orders?status=closed"), lambda: target.client.get("/v1/mm/fills"),
                 lambda: target._control.get("/_mock/leaderboard"),
                 lambda: target.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": 50_000,
                                                                  "bid_size": 100})):
        answer = send()
        assert answer.status_code < 500, (path, answer.text)
    again = state_of(target)
    assert target._control.post("/_mock/restore", content=again,
                                headers={"content-type": "application/json"}).status_code == 200, path
