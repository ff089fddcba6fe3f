"""Same seed, same requests at the same mock times: the same answers, byte for byte (CONTRACT section 6).

One script of requests (two agents quoting, a refresh loop, guardrails, a crossing quote, a hedge,
clock advances and a jump) is played against independent exchanges; every answer is compared as raw
bytes. Also across processes with different ``PYTHONHASHSEED`` values, since nothing may depend on
Python's salted string hashing, and a different seed must give a different market.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from app_client import AppClient

from pf_mock.api import AppOptions, create_app
from pf_mock.clock import ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig

ROOT = Path(__file__).resolve().parent.parent
ALICE = {"Authorization": "Bearer pf_test_alice_determinism"}
BOB = {"X-API-Key": "pf_test_bob_determinism"}


def new_client(seed: int) -> AppClient:
    """Used as ``with new_client(seed) as client`` (its event loop is closed at the end of the block). It
    serves the app in the calling thread (tests/app_client.py)."""
    exchange = Exchange(ExchangeConfig(seed=seed), ManualClock())
    return AppClient(create_app(exchange, AppOptions()))


class Recorder:
    """Sends requests and keeps every answer as (label, status, raw bytes)."""

    def __init__(self, client: AppClient):
        self.client = client
        self.log: list[tuple[str, int, bytes]] = []

    def send(self, method: str, path: str, headers: dict | None = None, **kwargs):
        response = self.client.request(method, path, headers=headers, **kwargs)
        who = "alice" if headers is ALICE else "bob" if headers is BOB else "-"
        self.log.append((f"{method} {path} {who} {kwargs}", response.status_code, response.content))
        return response

    def advance(self, seconds: float) -> None:
        self.send("POST", "/_mock/clock/advance", json={"seconds": seconds})


def play(client: AppClient) -> Recorder:
    """The script. Quote prices come from the answers it gets, so two runs send the same requests
    exactly when they got the same answers so far (which the comparison checks anyway)."""
    r = Recorder(client)
    r.send("GET", "/v1/account", ALICE)
    r.send("GET", "/v1/account", BOB)
    btc = r.send("GET", "/v1/markets/BTC-PERP/price").json()
    mid = btc["mid"]
    r.send("POST", "/v1/mm/quote", ALICE, json={
        "symbol": "BTC-PERP", "bid_price": mid * (1 - 2.5e-4), "bid_size": 100.0,
        "ask_price": mid * (1 + 2.5e-4), "ask_size": 100.0, "auto_refresh": True,
        "refresh_interval_seconds": 5, "max_inventory_usd": 400.0})
    eth = r.send("GET", "/v1/markets/ETH-PERP/price").json()
    r.send("POST", "/v1/mm/quote", BOB, json={
        "symbol": "ETH-PERP", "bid_price": eth["best_bid"], "bid_size": 150.0,
        "ask_price": eth["best_ask"], "ask_size": 150.0, "auto_refresh": True, "refresh_interval_seconds": 2.5,
        "auto_hedge_threshold_usd": 250.0})
    r.send("POST", "/v1/mm/quote", BOB, json={
        "symbol": "BTC-PERP", "bid_price": mid * (1 - 6e-4), "bid_size": 50.0, "time_in_force": "ALO"})
    for seconds in (7, 13.5, 0.25, 30):
        r.advance(seconds)
        r.send("GET", "/v1/markets/BTC-PERP/orderbook", params={"depth": 5})
    r.send("POST", "/_mock/markets/BTC-PERP/jump", json={"move_bps": -40})
    r.send("GET", "/v1/mm/fills", ALICE, params={"symbol": "BTC-PERP"})
    r.advance(20)
    book = r.send("GET", "/v1/markets/BTC-PERP/orderbook", params={"depth": 1}).json()
    r.send("POST", "/v1/mm/quote", ALICE, json={          # crosses: a taker fill, then rests
        "symbol": "BTC-PERP", "ask_price": book["bids"][0]["price"] * 0.9998, "ask_size": 60.0})
    r.send("POST", "/v1/mm/hedge", BOB, json={"symbol": "BTC-PERP", "hedge_pct": 0.5})
    r.send("POST", "/v1/mm/hedge", BOB, json={"symbol": "ETH-PERP", "hedge_pct": 0.5})
    r.send("POST", "/_mock/markets/ETH-PERP/jump", json={"move_bps": 25})
    r.advance(61)
    r.send("POST", "/v1/mm/cancel", BOB, json={"symbol": "ETH-PERP"})
    r.advance(300)      # ETH goes quiet: an idle stretch, skipped in whole minutes
    r.send("GET", "/v1/mm/session", ALICE, params={"symbol": "BTC-PERP"})
    for symbol in ("BTC-PERP", "ETH-PERP"):
        r.send("GET", f"/v1/markets/{symbol}/orderbook", params={"depth": 50})
        r.send("GET", f"/v1/markets/{symbol}/trades", params={"limit": 500})
        r.send("GET", f"/v1/markets/{symbol}/candles", params={"interval": "1m", "limit": 10})
    for who in (ALICE, BOB):
        r.send("GET", "/v1/mm/fills", who, params={"limit": 1000})
        r.send("GET", "/v1/mm/pnl", who)
        r.send("GET", "/v1/mm/pnl", who, params={"symbol": "BTC-PERP", "window": "5m"})
        r.send("GET", "/v1/mm/orders", who)
        r.send("GET", "/v1/account", who)
    return r


def digest(seed: int) -> str:
    """The whole script's answers, hashed: what a subprocess reports back."""
    h = hashlib.sha256()
    with new_client(seed) as client:
        log = play(client).log
    for label, status, content in log:
        h.update(f"{label}|{status}|".encode() + content + b"\n")
    return h.hexdigest()


def answer(log, label_start: str) -> bytes:
    found = [content for label, _, content in log if label.startswith(label_start)]
    assert found, label_start
    return found[-1]


@pytest.fixture(scope="module")
def played() -> dict:
    """The script on two new exchanges of seed 11, and again on the second after a reset to seed 11."""
    with new_client(11) as client:
        first = play(client).log
    with new_client(11) as client:
        second = play(client).log
        client.post("/_mock/reset", json={"seed": 11})
        return {"first": first, "second": second, "after_reset": play(client).log}


def test_same_seed_same_requests_same_bytes(played) -> None:
    first, second = played["first"], played["second"]
    assert len(first) == len(second)
    for (label, status, content), (label2, status2, content2) in zip(first, second):
        assert (label, status) == (label2, status2)
        assert content == content2, label
    # The script did what it is meant to exercise: none of its requests failed except where a
    # refusal is part of the story, fills happened, and prints were made.
    for label, status, content in first:
        if label.startswith("POST /v1/mm/hedge"):
            # the auto-hedge may have left nothing to hedge, or a single lot, half of which is no order
            assert status == 200 or (status, json.loads(content)["error"]) in (
                (409, "no_inventory"), (400, "order_too_small")), label
        else:
            assert status == 200, (label, content)
    alice_fills = json.loads(answer(first, "GET /v1/mm/fills alice {'params': {'limit'"))["fills"]
    assert {f["liquidity"] for f in alice_fills} == {"maker", "taker"}
    bob_fills = json.loads(answer(first, "GET /v1/mm/fills bob {'params': {'limit'"))["fills"]
    assert {"quote", "hedge"} <= {f["kind"] for f in bob_fills}
    assert json.loads(answer(first, "GET /v1/markets/BTC-PERP/trades"))["trades"]


@pytest.mark.latency        # with the documented order-entry latency, in here as in the subprocesses
def test_same_bytes_across_processes_and_hash_seeds() -> None:
    expected = digest(5)
    code = "import sys; from tests.test_determinism import digest; sys.stdout.write(digest(5))"
    for hash_seed in ("1", "2024"):
        # tests/ too: the module's client (tests/app_client.py) is imported the way pytest finds it
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        run = subprocess.run([sys.executable, "-W", "ignore", "-c", code], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert run.stdout == expected, f"PYTHONHASHSEED={hash_seed} gave different answers"


def test_a_different_seed_gives_a_different_market() -> None:
    with new_client(1) as a, new_client(2) as b:
        for client in (a, b):
            client.get("/v1/markets/BTC-PERP/price")
            client.post("/_mock/clock/advance", json={"seconds": 60})
        price_a = a.get("/v1/markets/BTC-PERP/price").json()
        price_b = b.get("/v1/markets/BTC-PERP/price").json()
        assert price_a["timestamp"] == price_b["timestamp"]
        assert price_a["mid"] != price_b["mid"]
        assert a.get("/v1/markets/BTC-PERP/trades").content != b.get("/v1/markets/BTC-PERP/trades").content
        # ... and not only on BTC: an idle market fast-forwarded a day differs too.
        for client in (a, b):
            client.post("/_mock/clock/advance", json={"seconds": 86_400})
        assert a.get("/v1/markets/ETH-PERP/price").json()["mid"] != b.get("/v1/markets/ETH-PERP/price").json()["mid"]


def test_a_reset_replays_the_same_history(played) -> None:
    # the exchange that played the script once, reset to its seed, answers the script as it did
    first, second = played["second"], played["after_reset"]
    assert [c for _, _, c in first] == [c for _, _, c in second]
