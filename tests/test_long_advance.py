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

from pf_mock.api.turns import SLICE_S, advance_in_slices
from pf_mock.errors import ApiError
from pf_mock.exchange import QuoteRequest
from pf_mock.testing import MockExchange, in_process, run_server

SYMBOL = "BTC-PERP"


def quote(client, symbol: str = SYMBOL) -> None:
    mid = client.get(f"/v1/markets/{symbol}/price").json()["mid"]
    r = client.post("/v1/mm/quote", json={"symbol": symbol, "bid_price": mid * 0.9997, "bid_size": 100,
                                          "ask_price": mid * 1.0003, "ask_size": 100, "auto_refresh": True})
    assert r.status_code == 200, r.text


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
        mid = ex.mid(SYMBOL)
        ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * 0.9997, bid_size=100, ask_price=mid * 1.0003,
                                  ask_size=100, auto_refresh=True))
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
