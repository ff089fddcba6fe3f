"""The library entry points for other people's tests: ``MockExchange`` (the core, no HTTP) and
``run_server`` (a real uvicorn server on a free loopback port in a background thread)."""

from __future__ import annotations

import signal
import socket
import threading
import time

import httpx
import pytest
import uvicorn

import pf_mock
from pf_mock.agents import KEY_PATTERN
from pf_mock.clock import DEFAULT_EPOCH, ManualClock
from pf_mock.errors import ApiError
from pf_mock.exchange import Exchange, QuoteRequest
from pf_mock.server import ReadyServer, ServeOptions, build_app, uvicorn_config
from pf_mock.testing import MockControlError, MockExchange, run_server
from test_callers import refuses

SYMBOL = "BTC-PERP"


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pf-mock-server" and t.is_alive()]


def bid_only(ex: MockExchange, bps: float = 5, usd: float = 100) -> QuoteRequest:
    return QuoteRequest(SYMBOL, bid_price=ex.mid(SYMBOL) * (1 - bps / 1e4), bid_size=usd)


# ---- MockExchange ---------------------------------------------------------------------------------

def test_the_package_exports_the_entry_points():
    assert pf_mock.MockExchange is MockExchange
    assert pf_mock.run_server is run_server
    with pytest.raises(AttributeError):
        pf_mock.no_such_thing  # noqa: B018


def test_mock_exchange_defaults_to_a_manual_clock_and_takes_the_config_as_keywords():
    ex = MockExchange(seed=1, starting_balance=500, strict_auth=True, maker_rebate_bps=1.0, taker_fee_bps=3.0)
    assert isinstance(ex, Exchange)
    assert isinstance(ex.clock, ManualClock) and ex.now() == DEFAULT_EPOCH
    assert (ex.seed, ex.config.seed, ex.config.starting_balance, ex.config.strict_auth) == (1, 1, 500, True)
    assert (ex.config.maker_rebate_bps, ex.config.taker_fee_bps) == (1.0, 3.0)
    me = ex.register()
    assert KEY_PATTERN.match(me.api_key) and me.cash == 500
    with pytest.raises(ApiError) as refused:
        ex.authenticate("pf_test_never_issued")
    assert (refused.value.status, refused.value.code) == (401, "invalid_key")
    assert list(ex.agents) == [me.agent_id]


def test_mock_exchange_rejects_unknown_options():
    with pytest.raises(TypeError):
        MockExchange(seed=1, no_such_option=True)


def test_mock_exchange_drives_the_core_quote_advance_fills_and_pnl():
    ex = MockExchange(seed=1)
    me = ex.register()
    result = ex.quote(me, bid_only(ex))
    assert result.bid.order_id and result.ask.order_id is None
    assert len(ex.open_orders(me)) == 1

    assert ex.advance(1) == DEFAULT_EPOCH + 1
    assert ex.fills(me) == []                       # 5 bps under the mid: nobody sells that low in 1 s
    ex.jump(SYMBOL, -50)                            # the mid falls through the bid: the house takes it
    [fill] = ex.fills(me)
    assert (fill.is_buy, fill.maker, fill.kind, fill.price) == (True, True, "quote", result.bid.price)
    assert ex.open_orders(me) == []

    window = ex.pnl(me).window
    assert window.fills == window.maker_fills == 1
    assert window.spread_income < 0                 # bought above the new mid: adverse selection
    assert window.rebates == pytest.approx(fill.notional * ex.config.maker_rebate_bps / 1e4)
    assert window.net_pnl == pytest.approx(
        window.spread_income + window.rebates + window.inventory_pnl - window.hedge_cost, abs=1e-6)
    assert window.net_pnl == pytest.approx(window.equity_change, abs=1e-6)
    assert window.net_pnl == pytest.approx(ex.equity(me) - 10_000.0, abs=1e-6)


def test_mock_exchange_fills_returns_all_or_the_newest_few():
    ex = MockExchange(seed=2)
    me = ex.register()
    for _ in range(3):
        ex.quote(me, bid_only(ex))
        ex.jump(SYMBOL, -50)
        ex.advance(1)
    every = ex.fills(me)
    assert len(every) == 3 and [f.time for f in every] == sorted(f.time for f in every)
    assert ex.fills(me, limit=2) == every[-2:]
    assert ex.fills(me, SYMBOL) == every
    assert ex.fills(me, since=every[1].time) == every[1:]


def test_mock_exchanges_under_one_seed_agree_and_other_seeds_differ():
    def run(seed: int) -> tuple:
        ex = MockExchange(seed=seed)
        me = ex.register()
        mid = ex.mid(SYMBOL)
        ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * 0.9998, bid_size=200, ask_price=mid * 1.0002, ask_size=200))
        ex.advance(600)
        fills = [(f.is_buy, f.price, f.size, f.time) for f in ex.fills(me)]
        return ex.mid(SYMBOL), fills, ex.pnl(me).window.net_pnl

    first = run(4)
    assert first[1], "a $200 quote 2 bps from the mid should trade within ten minutes"
    assert run(4) == first
    assert run(5)[0] != first[0]


# ---- run_server ---------------------------------------------------------------------------------

def test_run_server_serves_real_http_on_a_free_loopback_port_and_stops_on_exit():
    with run_server(seed=3) as srv:
        url = httpx.URL(srv.base_url)
        assert (url.scheme, url.host) == ("http", "127.0.0.1") and url.port == srv.port and srv.port > 0
        assert len(server_threads()) == 1

        price = httpx.get(f"{srv.base_url}/v1/markets/{SYMBOL}/price")
        assert price.status_code == 200
        body = price.json()
        assert body["symbol"] == SYMBOL and 0 < body["best_bid"] < body["mid"] < body["best_ask"]

        assert KEY_PATTERN.match(srv.api_key)
        account = srv.client.get("/v1/account")
        assert account.status_code == 200 and account.json()["agent_id"] == srv.agent_id
        assert srv.client.headers["authorization"] == f"Bearer {srv.api_key}"

        # The exchange handed out is the one being served.
        assert srv.exchange.seed == 3 and list(srv.exchange.agents) == [srv.agent_id]
        quote = srv.client.post("/v1/mm/quote", json={"symbol": SYMBOL, "bid_price": body["best_bid"] * 0.999,
                                                      "bid_size": 100})
        assert quote.status_code == 200, quote.text
        assert len(srv.exchange.open_orders(srv.exchange.agents[srv.agent_id])) == 1
        assert srv.state()["clock"] == {"mode": "manual", "now": int(DEFAULT_EPOCH * 1000), "speed": 0.0}
        assert srv.advance(30)["clock"]["now"] == int(DEFAULT_EPOCH * 1000) + 30_000
        base_url = srv.base_url
    assert server_threads() == []
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base_url}/v1/markets/{SYMBOL}/price", timeout=2)


def test_run_server_applies_its_options():
    with run_server(seed=9, starting_balance=750, strict_auth=True, admin_token="s3cret") as srv:
        assert srv.state()["seed"] == 9            # the helpers send the admin token
        assert srv.client.get("/v1/account").json()["balance_usd"] == 750   # the issued key works

        stranger = httpx.get(f"{srv.base_url}/v1/account", headers={"Authorization": "Bearer pf_test_stranger1"})
        assert stranger.status_code == 401
        assert stranger.json()["error"] == "invalid_key" and stranger.json()["message"]
        no_token = httpx.get(f"{srv.base_url}/_mock/state")
        assert no_token.status_code == 401 and no_token.json()["error"] == "unauthorized"
        assert srv.state()["agents"] == 1          # neither refusal provisioned anyone


def test_two_servers_run_side_by_side_with_their_own_state():
    with run_server(seed=1) as one, run_server(seed=2) as two:
        assert one.port != two.port and len(server_threads()) == 2
        one.advance(120)
        one.jump(SYMBOL, 100)
        assert one.state()["clock"]["now"] == int(DEFAULT_EPOCH * 1000) + 120_000
        assert two.state()["clock"]["now"] == int(DEFAULT_EPOCH * 1000)
        assert (one.state()["seed"], two.state()["seed"]) == (1, 2)
        assert two.state()["active_markets"] == []
    assert server_threads() == []


def test_a_refused_helper_call_raises_and_changes_nothing():
    with run_server() as srv:
        before = srv.state()
        with pytest.raises(MockControlError) as refused:
            srv.advance(-1)
        assert refused.value.status_code == 400
        assert refused.value.body["error"] == "invalid_request" and refused.value.body["message"]
        with pytest.raises(MockControlError) as unknown:
            srv.jump("NOPE-PERP", 10)
        assert unknown.value.status_code == 404 and unknown.value.body["error"] == "market_not_found"
        assert srv.state() == before


def test_run_server_with_a_realtime_clock_refuses_to_advance():
    with run_server(clock="realtime", speed=10) as srv:
        assert srv.state()["clock"]["mode"] == "realtime"
        with pytest.raises(MockControlError) as refused:
            srv.advance(5)
        assert refused.value.status_code == 409 and refused.value.body["error"] == "clock_not_manual"


def test_run_server_rejects_unknown_options_before_starting_anything():
    with pytest.raises(TypeError, match="no_such_option"):
        with run_server(no_such_option=1):
            pass  # pragma: no cover
    assert server_threads() == []


def test_run_server_reports_a_port_it_cannot_bind():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(RuntimeError, match="could not start"):
            with run_server(port=taken.getsockname()[1]):
                pass  # pragma: no cover
    assert server_threads() == []


# ---- stopping -------------------------------------------------------------------------------------
# uvicorn's main loop looks at ``should_exit`` once a tick (0.1 s); ReadyServer's is woken by a stop. Here
# the tick is made an hour long: a stop that waited for the next tick would never end (the joins below
# give up, and the thread is still alive); nothing is timed.

@pytest.fixture
def hour_long_ticks(monkeypatch) -> list[int]:
    """The counters ``on_tick`` is called with, on servers whose loop ticks once an hour."""
    ticks: list[int] = []

    async def on_tick(self, counter: int) -> bool:
        ticks.append(counter)
        return await uvicorn.Server.on_tick(self, counter)

    monkeypatch.setattr(ReadyServer, "TICK_S", 3600.0)
    monkeypatch.setattr(ReadyServer, "on_tick", on_tick)
    return ticks


def test_run_server_stops_at_once_rather_than_at_its_loops_next_tick(hour_long_ticks):
    with run_server() as srv:
        assert srv.state()["seed"] == 0
        assert hour_long_ticks == [0]      # between ticks it waits (for the tick or a stop), never spins
    assert server_threads() == [] and hour_long_ticks == [0, 1]


def test_a_stop_signal_also_ends_the_server_at_once(hour_long_ticks):
    opts = ServeOptions(clock="manual", port=0)
    app = build_app(opts)
    server = ReadyServer(uvicorn_config(app, opts), quiet=True)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15        # a guard against a hang, not a measured time
    while not hour_long_ticks:              # started, and in its main loop
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.005)
    server.handle_exit(signal.SIGTERM, None)       # what the SIGTERM handler of ``pf-mock serve`` calls
    thread.join(timeout=15)
    assert not thread.is_alive(), "the server did not stop"
    assert server.stopped_by == "SIGTERM" and app.state.stopping and hour_long_ticks[-1] > 0


@pytest.fixture
def uvicorn_shutdowns(monkeypatch) -> list[int]:
    """How many connections were open each time uvicorn's own shutdown (with its fixed pause) ran."""
    calls: list[int] = []
    own = uvicorn.Server.shutdown

    async def shutdown(self, sockets=None):
        calls.append(len(self.server_state.connections))
        await own(self, sockets=sockets)

    monkeypatch.setattr(uvicorn.Server, "shutdown", shutdown)
    return calls


def test_a_server_with_nothing_open_stops_without_uvicorns_pause(uvicorn_shutdowns):
    """With no connection open (none was ever made here), ReadyServer closes its listener itself, without
    uvicorn's shutdown (whose 0.1 s pause waits for connections it asked to close); the server is stopped
    all the same: its thread ended, its port refusing."""
    with run_server() as srv:
        port = srv.port
    assert uvicorn_shutdowns == [] and server_threads() == [] and refuses("127.0.0.1", port)


def test_a_server_with_a_connection_open_stops_through_uvicorns_shutdown(uvicorn_shutdowns):
    """A connection still open at the stop: uvicorn's own shutdown asks it to close and waits for it."""
    with run_server() as srv:
        port = srv.port
        held = socket.create_connection(("127.0.0.1", port), timeout=10)
        held.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert held.recv(1024).startswith(b"HTTP/1.1 200")      # kept alive: it stays open
    try:
        assert uvicorn_shutdowns and uvicorn_shutdowns[0] >= 1
        assert server_threads() == [] and refuses("127.0.0.1", port)
        held.settimeout(10)                     # a guard against a hang, not a measured time
        while held.recv(4096):                  # the rest of the answer, then the end: uvicorn closed it
            pass
    finally:
        held.close()
