"""Snapshot and restore: snapshot -> restore -> continue answers byte for byte what the original answers
going on uninterrupted; a document this pf-mock cannot read, or whose replay does not give the
original's answers, is refused and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_asserts import assert_error
from pf_mock.testing import TEST_KEY, in_process, run_server

SYMBOLS = ["BTC-PERP", "ETH-PERP"]
OTHER = {"Authorization": "Bearer pf_test_second_agent_01"}

READS = ["/v1/account", "/v1/mm/orders", "/v1/mm/orders?status=closed&limit=1000", "/v1/mm/fills?limit=1000", "/v1/mm/pnl",
         "/v1/mm/session?symbol=BTC-PERP", "/v1/markets/BTC-PERP/orderbook?depth=50", "/v1/markets/ETH-PERP/price",
         "/_mock/state"]       # last: the reads before it may touch a market or provision the other agent


def snap(mock) -> dict:
    r = mock._control.post("/_mock/snapshot")
    assert r.status_code == 200, r.text
    return r.json()


def masked(document: dict) -> dict:
    """A snapshot with what registrations issued (random keys, by design) blanked."""
    commands = [c[:7] + ["-", "-"] if c[8] is not None else c for c in document["commands"]]
    return {**document, "commands": commands}


def restore(mock, document) -> "httpx.Response":  # noqa: F821
    return mock._control.post("/_mock/restore", json=document)


def reads(mock) -> list[bytes]:
    return [mock.client.get("/v1/account", headers=OTHER).content] + [mock.client.get(path).content for path in READS]


# ---- operations a client may send ------------------------------------------------------------------
quote_op = st.fixed_dictionaries({
    "op": st.just("quote"), "symbol": st.sampled_from(SYMBOLS), "bps": st.integers(0, 40),
    "usd": st.integers(20, 400), "tif": st.sampled_from(["GTC", "ALO", "IOC"]), "refresh": st.booleans(),
    "other": st.booleans()})
ops = st.one_of(
    quote_op,
    st.fixed_dictionaries({"op": st.just("cancel"), "symbol": st.sampled_from(SYMBOLS), "other": st.booleans()}),
    st.fixed_dictionaries({"op": st.just("advance"), "seconds": st.integers(1, 240)}),
    st.fixed_dictionaries({"op": st.just("jump"), "symbol": st.sampled_from(SYMBOLS), "bps": st.integers(-300, 300)}),
    st.fixed_dictionaries({"op": st.just("hedge"), "symbol": st.sampled_from(SYMBOLS),
                           "pct": st.sampled_from([0.5, 1.0])}),
    st.fixed_dictionaries({"op": st.just("regime"), "symbol": st.sampled_from(SYMBOLS),
                           "spread": st.integers(1, 30)}),
    st.just({"op": "faucet"}),
    st.just({"op": "register"}),
    st.just({"op": "bad"}),
)


def apply(mock, op: dict) -> bytes:
    """Send one operation; its answer's bytes (status first)."""
    c, ctl = mock.client, mock._control
    headers = OTHER if op.get("other") else {}
    kind = op["op"]
    if kind == "quote":
        mid = c.get(f"/v1/markets/{op['symbol']}/price").json()["mid"]
        off = op["bps"] / 1e4
        r = c.post("/v1/mm/quote", headers=headers, json={
            "symbol": op["symbol"], "bid_price": mid * (1 - off), "bid_size": op["usd"],
            "ask_price": mid * (1 + off) + 0.01, "ask_size": op["usd"], "time_in_force": op["tif"],
            "auto_refresh": op["refresh"], "refresh_interval_seconds": 5})
    elif kind == "cancel":
        r = c.post("/v1/mm/cancel", headers=headers, json={"symbol": op["symbol"]})
    elif kind == "advance":
        r = ctl.post("/_mock/clock/advance", json={"seconds": op["seconds"]})
    elif kind == "jump":
        r = ctl.post(f"/_mock/markets/{op['symbol']}/jump", json={"move_bps": op["bps"]})
    elif kind == "hedge":
        r = c.post("/v1/mm/hedge", json={"symbol": op["symbol"], "hedge_pct": op["pct"]})
    elif kind == "regime":
        r = ctl.post(f"/_mock/markets/{op['symbol']}/regime", json={"spread_bps": op["spread"]})
    elif kind == "faucet":
        r = c.post("/v1/faucet/claim")
    elif kind == "register":
        r = c.post("/v1/agents/register", json={})
    else:
        r = c.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": -1, "bid_size": 100})
    return str(r.status_code).encode() + b" " + r.content


@settings(max_examples=12)
@given(before=st.lists(ops, min_size=1, max_size=8), after=st.lists(ops, min_size=1, max_size=6),
       seed=st.integers(0, 3))
def test_snapshot_restore_continue_equals_uninterrupted(before, after, seed):
    with in_process(seed=seed) as original, in_process(seed=seed + 100) as restored:
        for op in before:
            apply(original, op)
        document = json.loads(json.dumps(snap(original)))       # as it would be saved and read back
        r = restore(restored, document)
        assert r.status_code == 200, r.text
        assert reads(restored) == reads(original)
        for op in after:
            a, b = apply(restored, op), apply(original, op)
            if op["op"] == "register":      # a new key from a secure random source each time, by design
                assert a[:4] == b[:4] == b"201 "
            else:
                assert a == b, op
        assert reads(restored) == reads(original)
        assert masked(snap(restored)) == masked(snap(original))     # and a snapshot of it is the same


def test_a_snapshot_carries_a_startup_scenario_and_survives_a_reset():
    with in_process(seed=1, scenario="flash_crash") as original, in_process(seed=5) as restored:
        original.advance(400)
        assert restore(restored, snap(original)).status_code == 200
        original.advance(60)
        restored.advance(60)
        assert reads(restored) == reads(original)
        original.reset(seed=4)
        apply(original, {"op": "jump", "symbol": "BTC-PERP", "bps": 50})
        document = snap(original)
        assert document["config"]["seed"] == 4 and document["scenario"] is None
        assert len(document["commands"]) == 1               # the log began again at the reset
        assert restore(restored, document).status_code == 200
        assert reads(restored) == reads(original)


def fingerprint(mock) -> list[bytes]:
    return reads(mock)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.update(format="something else"), "format"),
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.update(version="1"), "version"),
    (lambda d: d["config"].update(seed=-1), "config.seed"),
    (lambda d: d["config"].update(starting_balance="lots"), "config.starting_balance"),
    (lambda d: d["clock"].update(now=0), "clock.now"),
    (lambda d: d.update(agents="everyone"), "agents"),
    (lambda d: d.update(commands={}), "commands"),
    (lambda d: d["commands"].append([0, "POST"]), "commands.3"),
    (lambda d: d["commands"][2].__setitem__(0, d["commands"][1][0] - 0.001), "commands.2"),    # out of order
    (lambda d: d["commands"].append([d["clock"]["now"], "GET", "/_mock/faults", "", "", {}, 200, "x", None]),
     "commands.3"),
    (lambda d: d["commands"][2].__setitem__(8, {"agent_id": "ag_x"}), "commands.2"),
])
def test_a_bad_snapshot_is_refused_and_changes_nothing(mutate, field):
    with in_process(seed=2) as original, in_process(seed=7) as target:
        apply(original, {"op": "quote", "symbol": "BTC-PERP", "bps": 5, "usd": 100, "tif": "GTC", "refresh": False,
                         "other": False})
        apply(original, {"op": "advance", "seconds": 30})
        apply(original, {"op": "advance", "seconds": 30})
        apply(target, {"op": "quote", "symbol": "ETH-PERP", "bps": 5, "usd": 100, "tif": "GTC", "refresh": True,
                       "other": False})
        document = snap(original)
        assert len(document["commands"]) == 3              # the quote and two advances (the price read is not one)
        mutate(document)
        before = fingerprint(target)
        assert_error(restore(target, document), 400, "invalid_snapshot", field)
        assert fingerprint(target) == before


@pytest.mark.parametrize("body", [b"[]", b'"snapshot"', b"{}", b"not json"])
def test_a_body_that_is_not_a_snapshot_is_400(body):
    with in_process(seed=2) as target:
        before = fingerprint(target)
        r = target._control.post("/_mock/restore", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] in ("invalid_snapshot", "invalid_request"), r.text
        assert fingerprint(target) == before


def test_a_snapshot_whose_replay_diverges_is_409_and_changes_nothing():
    with in_process(seed=2) as original, in_process(seed=7) as target:
        apply(original, {"op": "quote", "symbol": "BTC-PERP", "bps": 5, "usd": 100, "tif": "GTC", "refresh": False,
                         "other": False})
        apply(target, {"op": "advance", "seconds": 30})
        document = snap(original)
        [i] = [i for i, c in enumerate(document["commands"]) if c[2] == "/v1/mm/quote"]
        assert '"bid_size":100' in document["commands"][i][4]
        document["commands"][i][4] = document["commands"][i][4].replace('"bid_size":100', '"bid_size":101')
        before = fingerprint(target)
        body = assert_error(restore(target, document), 409, "snapshot_diverged")
        assert body["command"] == i
        assert fingerprint(target) == before


def test_serve_restore_starts_from_a_snapshot_file(tmp_path):
    with in_process(seed=6) as original:
        for op in [{"op": "quote", "symbol": "BTC-PERP", "bps": 3, "usd": 200, "tif": "GTC", "refresh": True,
                    "other": False}, {"op": "advance", "seconds": 120}]:
            apply(original, op)
        path = tmp_path / "snap.json"
        path.write_text(json.dumps(snap(original)))
        with run_server(restore=str(path)) as served:
            assert served.client.get("/v1/mm/fills?limit=1000").content == original.client.get(
                "/v1/mm/fills?limit=1000").content
            assert served.client.get("/v1/account").json()["agent_id"] == original.client.get("/v1/account").json()[
                "agent_id"]


def test_serve_refuses_a_bad_snapshot_file_in_one_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "pf-mock-snapshot", "version": 99}')
    proc = subprocess.run([sys.executable, "-m", "pf_mock", "serve", "--port", "0", "--restore", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "version 99" in proc.stderr, proc.stderr


def test_the_log_keeps_only_what_changed_something():
    with in_process(seed=2) as mock:
        mock.client.get("/v1/account")                       # the helper's agent exists already: nothing new
        mock.client.get("/v1/markets/BTC-PERP/orderbook")    # makes the market: a read all the same
        mock.client.get("/v1/account", headers=OTHER)         # provisions an agent: logged
        mock.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": -1, "bid_size": 100})   # 400
        mock._control.post("/_mock/faults", json={"path": "/v1/x", "status": 503})
        assert [(c[1], c[2]) for c in snap(mock)["commands"]] == [("GET", "/v1/account")]
        assert snap(mock)["agents"][0]["api_key"] == TEST_KEY
