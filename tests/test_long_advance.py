"""A long clock advance never freezes the server: it runs in slices, other requests wait for it and
then see its end, /_mock/state shows its progress meanwhile, and the server stops at once when asked."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import httpx
import pytest

from pf_mock.turns import SLICE_S, advance_in_slices
from pf_mock.errors import ApiError
from pf_mock.exchange import QuoteRequest
from app_client import in_process
from pf_mock.testing import MockExchange, run_server

SYMBOL = "BTC-PERP"


def quote_body(mid: float, symbol: str = SYMBOL) -> dict:
    """The tests' quote: 3 bps either side of the mid, $100 a side, auto-refreshing."""
    return {"symbol": symbol, "bid_price": mid * 0.9997, "bid_size": 100, "ask_price": mid * 1.0003,
            "ask_size": 100, "auto_refresh": True}


def quote(client, symbol: str = SYMBOL) -> None:
    mid = client.get(f"/v1/markets/{symbol}/price").json()["mid"]
    r = client.post("/v1/mm/quote", json=quote_body(mid, symbol))
    assert r.status_code == 200, r.text


def quote_in_process(exchange, agent) -> None:
    """The same quote straight to the core."""
    exchange.quote(agent, QuoteRequest(**quote_body(exchange.market(SYMBOL).mid)))


def test_a_sliced_advance_gives_what_short_advances_give():
    with in_process(seed=4) as one, in_process(seed=4) as many:
        quote(one.client)
        quote(many.client)
        one.advance(600)                         # one request, many slices
        for _ in range(int(600 / SLICE_S)):
            many.advance(SLICE_S)                # many requests, none sliced
        for path in ("/v1/mm/fills?limit=1000", "/v1/mm/pnl", "/v1/mm/orders", "/_mock/state"):
            assert one.client.get(path).content == many.client.get(path).content, path


def test_other_requests_wait_for_the_advance_and_state_shows_its_progress():
    with run_server(seed=2) as srv:
        quote(srv.client)
        quote(srv.client, "ETH-PERP")
        answers: dict = {}

        def advance() -> None:
            with httpx.Client(base_url=srv.base_url, timeout=300) as c:
                answers["advance"] = c.post("/_mock/clock/advance", json={"seconds": 600}).json()

        thread = threading.Thread(target=advance)
        thread.start()
        progress, fills = [], None
        with httpx.Client(base_url=srv.base_url, timeout=300, headers=srv.client.headers) as c:
            while thread.is_alive():
                state = c.get("/_mock/state").json()
                if "advancing" in state:
                    progress.append(state["advancing"])
                    if fills is None:               # sent mid-advance: answered once it is over
                        fills = c.get("/v1/mm/fills?limit=1000")
                time.sleep(0.01)
        thread.join()
        assert progress, "no /_mock/state answer came during the advance"
        end = answers["advance"]["clock"]["now"]
        assert all(p["from"] <= p["now"] < p["to"] == end for p in progress)
        assert [p["now"] for p in progress] == sorted(p["now"] for p in progress)
        assert fills is not None and fills.content == srv.client.get("/v1/mm/fills?limit=1000").content
        assert "advancing" not in srv.client.get("/_mock/state").json()


def test_an_advance_ends_early_when_the_server_is_stopping():
    async def run() -> tuple[ApiError, float, float]:
        ex = MockExchange(seed=1)
        me = ex.register()
        quote_in_process(ex, me)
        state = SimpleNamespace(advancing=None, stopping=False)
        start = ex.now()
        task = asyncio.ensure_future(advance_in_slices(ex, 3600.0, state))
        while state.advancing is None or state.advancing["now"] == state.advancing["from"]:
            await asyncio.sleep(0)
        state.stopping = True
        with pytest.raises(ApiError) as refused:
            await task
        return refused.value, start, ex.now()

    error, start, reached = asyncio.run(run())
    assert (error.status, error.code) == (503, "server_stopping")
    assert start < reached < start + 3600


def test_sigterm_stops_a_server_in_the_middle_of_a_weeks_advance():
    proc = subprocess.Popen([sys.executable, "-m", "pf_mock", "serve", "--port", "0", "--clock", "manual"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        base = line.split("ready on ", 1)[1].split()[0]
        with httpx.Client(base_url=base, timeout=30, headers={"Authorization": "Bearer pf_test_sigterm_agent"}) as c:
            quote(c)
            threading.Thread(target=lambda: httpx.post(base + "/_mock/clock/advance", json={"seconds": 7 * 86400},
                                                       timeout=600), daemon=True).start()
            deadline = time.monotonic() + 30
            while "advancing" not in c.get("/_mock/state").json():
                assert time.monotonic() < deadline, "the advance never started"
                time.sleep(0.01)
        began = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        assert time.monotonic() - began < 10
        # uvicorn hands the signal back once it has shut down, so the exit is the signal's own
        assert proc.returncode in (0, -signal.SIGTERM), proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---- a realtime clock's lazy catch-up, in slices ---------------------------------------------------
class Wall:
    """A wall clock the test moves by hand (the realtime clock reads it; nothing here is timed)."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


def realtime_app(seed: int, wall: Wall):
    from pf_mock.api import create_app
    from pf_mock.clock import DEFAULT_EPOCH, RealtimeClock
    from pf_mock.exchange import Exchange, ExchangeConfig

    exchange = Exchange(ExchangeConfig(seed=seed), RealtimeClock(speed=60.0, wall=wall, start=DEFAULT_EPOCH))
    return exchange, create_app(exchange)


AGENT = {"Authorization": "Bearer pf_test_catch_up_agent"}


async def quote_async(client, symbol: str = SYMBOL) -> None:
    mid = (await client.get(f"/v1/markets/{symbol}/price")).json()["mid"]
    r = await client.post("/v1/mm/quote", headers=AGENT, json=quote_body(mid, symbol))
    assert r.status_code == 200, r.text


def test_a_realtime_catch_up_runs_in_slices_and_health_is_answered_meanwhile():
    """Five seconds of wall idling at --speed 60 are five simulated minutes for the auto-refreshing
    agent's market: the next request's turn begins with that catch-up, in slices; /health and
    /_mock/state answer between two of them, and the request itself sees the whole catch-up's end.
    Slices start at one simulated second and at most quadruple, so five minutes are at least five
    slices on any machine (an hour, as this test once waited, cost ten times the CPU and showed nothing
    more: the catch-up done in one go fails here either way)."""
    wall = Wall()
    exchange, app = realtime_app(5, wall)

    async def run():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pf-mock") as client:
            await quote_async(client)
            wall.t += 5                             # five seconds idle: five simulated minutes behind
            target = exchange.clock.now_us()
            account = asyncio.ensure_future(client.get("/v1/account", headers=AGENT))
            seen, healthy = [], 0
            while not account.done():
                state = (await client.get("/_mock/state")).json()
                if "advancing" in state:
                    seen.append(state["advancing"])
                    health = await client.get("/health")
                    assert health.status_code == 200
                    healthy += not account.done()   # answered while the catch-up still held the account
                await asyncio.sleep(0)
            return (await account), seen, healthy, target

    account, seen, healthy, target = asyncio.run(run())
    assert account.status_code == 200, account.text
    assert healthy > 0 and len({p["now"] for p in seen}) > 1, "the catch-up was not cut into slices"
    assert all(p["kind"] == "catch_up" and p["from"] <= p["now"] < p["to"] for p in seen)
    assert seen[-1]["to"] == target // 1000
    assert [p["percent"] for p in seen] == sorted(p["percent"] for p in seen)
    assert exchange.ran_to_us() == target


def test_a_sliced_catch_up_gives_what_a_manual_advance_gives():
    """The same seed, quote and simulated hours: caught up in slices on a realtime clock, or advanced
    on a manual one, the agent's fills are the same."""
    wall = Wall()
    exchange, app = realtime_app(6, wall)

    async def realtime() -> list:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pf-mock") as client:
            await quote_async(client)
            wall.t += 20                            # 20 s at x60: 20 simulated minutes
            return (await client.get("/v1/mm/fills?limit=1000", headers=AGENT)).json()["fills"]

    caught_up = asyncio.run(realtime())
    with in_process(seed=6) as manual:
        manual.client.headers.update(AGENT)
        quote(manual.client)
        manual.advance(1200)
        advanced = manual.client.get("/v1/mm/fills?limit=1000").json()["fills"]
    assert len(caught_up) > 10
    assert caught_up == advanced


def test_a_catch_up_ends_early_when_the_server_is_stopping():
    from pf_mock.turns import catch_up_in_slices

    wall = Wall()
    exchange, _ = realtime_app(1, wall)
    me = exchange.authenticate("pf_test_catch_up_agent")
    quote_in_process(exchange, me)
    wall.t += 60
    start, target = exchange.ran_to_us(), exchange.clock.now_us()

    async def run() -> ApiError:
        state = SimpleNamespace(advancing=None, stopping=False, exchange=exchange)
        task = asyncio.ensure_future(catch_up_in_slices(exchange, state))
        while state.advancing is None or state.advancing["now"] == state.advancing["from"]:
            await asyncio.sleep(0)
        state.stopping = True
        with pytest.raises(ApiError) as refused:
            await task
        assert state.advancing is None
        return refused.value

    error = asyncio.run(run())
    assert (error.status, error.code) == (503, "server_stopping")
    assert start < exchange.ran_to_us() < target


def test_a_long_advance_logs_its_progress_every_ten_percent(caplog, monkeypatch):
    from pf_mock import turns

    monkeypatch.setattr(turns, "PROGRESS_AFTER_S", 0.0)
    ex = MockExchange(seed=3)
    me = ex.register()
    quote_in_process(ex, me)
    state = SimpleNamespace(advancing=None, stopping=False)
    with caplog.at_level("INFO", logger="pf_mock"):
        asyncio.run(advance_in_slices(ex, 1800.0, state))
    lines = [r.getMessage() for r in caplog.records if r.name == "pf_mock" and r.getMessage().startswith("advance ")]
    percents = [int(line.split()[1].rstrip("%")) for line in lines]
    assert percents and percents[-1] == 100
    tens = [p // 10 for p in percents]
    assert tens == sorted(set(tens)), lines          # one line per ten percent reached, never twice
    assert all(f"of 1800 simulated s" in line for line in lines)


def test_a_short_or_quick_advance_logs_nothing(caplog):
    ex = MockExchange(seed=3)
    state = SimpleNamespace(advancing=None, stopping=False)
    with caplog.at_level("INFO", logger="pf_mock"):
        asyncio.run(advance_in_slices(ex, 1800.0, state))     # nothing live: done well within a second
        asyncio.run(advance_in_slices(ex, 30.0, state))
    assert not [r for r in caplog.records if r.name == "pf_mock"]
