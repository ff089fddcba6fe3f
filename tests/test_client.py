"""The typed client: the server's own answer models, one exception per error code, and retries, tested
against a real server (its /_mock/faults rules and its rate limiter) and in process (the async front)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from pf_mock import messages
from pf_mock.client import AsyncClient, Client, RetryPolicy
from pf_mock.client import errors as e
from pf_mock.testing import in_process, run_server

SYMBOL = "BTC-PERP"


@pytest.fixture(scope="module")
def shared_server():
    with run_server(seed=5) as srv:
        yield srv


@pytest.fixture
def server(shared_server):
    """The module's server as a new one would be: reset to its seed, which forgets agents, orders, fills,
    fault rules, the journal and the rate-limit buckets (a server's start and stop cost more than the test).
    Then one read brings the client's agent back, as a new server has it from the start: a request a fault
    rule answers is journaled under an agent only if the agent exists."""
    shared_server.reset(5)
    assert shared_server.client.get("/v1/account").status_code == 200
    return shared_server


def client_for(srv, sleeps: list | None = None, **options) -> Client:
    sleeps = [] if sleeps is None else sleeps
    return Client(srv.base_url, srv.api_key, sleep=sleeps.append, **options)


def test_answers_are_the_servers_models(server):
    with client_for(server) as pf:
        top = pf.price(SYMBOL)
        assert isinstance(top, messages.Price) and top.best_bid < top.best_ask
        assert isinstance(pf.market("btc"), messages.MarketDetail)
        assert pf.markets(limit=3).count == 3
        assert len(pf.orderbook(SYMBOL, depth=2).bids) == 2
        assert isinstance(pf.trades(SYMBOL, limit=5), messages.Trades)
        assert isinstance(pf.candles(SYMBOL, "1m", limit=5), messages.Candles)
        answer = pf.quote(SYMBOL, bid_price=top.best_bid * 0.999, bid_size=100, ask_price=top.best_ask * 1.001,
                          ask_size=100, max_inventory_usd=500)
        assert isinstance(answer, messages.QuoteAnswer) and answer.bid_id and answer.ask_id
        assert answer.session.guardrails["max_inventory_usd"] == 500
        assert {o.order_id for o in pf.orders(SYMBOL).orders} == {answer.bid_id, answer.ask_id}
        pf.mock.jump(SYMBOL, -50)                       # the bid is picked off
        fills = pf.fills(SYMBOL).fills
        assert [(f.side, f.liquidity) for f in fills] == [("buy", "maker")]
        assert pf.inventory(SYMBOL).position > 0
        hedged = pf.hedge(SYMBOL)
        assert isinstance(hedged, messages.Hedged) and hedged.net_delta_usd == 0
        pnl = pf.pnl(SYMBOL)
        assert pnl.net_pnl == pytest.approx(pnl.spread_income + pnl.rebates + pnl.inventory_pnl - pnl.hedge_cost,
                                            abs=1e-6)
        assert pf.cancel(SYMBOL).cancelled == 1         # the ask was still resting
        assert pf.session(SYMBOL).status == "idle"
        assert pf.session_reset(SYMBOL).status == "idle"
        assert pf.account().agent_id == server.agent_id
        assert pf.faucet_claim().credited == 1.0
        assert pf.register().api_key.startswith("pf_test_")
        state = pf.mock.state()
        assert isinstance(state, messages.MockState) and state.seed == 5
        assert pf.mock.advance(60).clock.now == state.clock.now + 60_000


@pytest.mark.parametrize("call, error, code", [
    (lambda pf: pf.price("NOPE-PERP"), e.MarketNotFound, "market_not_found"),
    (lambda pf: pf.quote(SYMBOL, bid_price=200_000, bid_size=100, ask_price=100_000, ask_size=100), e.CrossedQuote,
     "crossed_quote"),
    (lambda pf: pf.quote(SYMBOL, bid_price=68_000, bid_size=1), e.OrderTooSmall, "order_too_small"),
    (lambda pf: pf.quote(SYMBOL, bid_price=68_000, bid_size=100, time_in_force="FOK"), e.InvalidRequest,
     "invalid_request"),
    (lambda pf: pf.quote(SYMBOL, bid_price=68_000, bid_size=1e9), e.InsufficientBalance, "insufficient_balance"),
    (lambda pf: pf.hedge(SYMBOL), e.NoInventory, "no_inventory"),
    (lambda pf: pf.mock.remove_fault("flt_nope") if hasattr(pf.mock, "remove_fault") else pf.candles(SYMBOL, "7m"),
     e.ClientError, None),
])
def test_each_refusal_raises_its_class(server, call, error, code):
    with client_for(server) as pf:
        with pytest.raises(error) as raised:
            call(pf)
    assert raised.value.status and 400 <= raised.value.status < 500
    if code is not None:
        assert raised.value.code == code and type(raised.value).code == code
    assert raised.value.message


def test_invalid_request_names_its_field(server):
    with client_for(server) as pf, pytest.raises(e.InvalidRequest) as raised:
        pf.quote(SYMBOL, bid_price=68_000)
    assert raised.value.field == "bid_size"


def test_conflicts_and_keys(server):
    with client_for(server) as pf:
        pf.faucet_claim()
        with pytest.raises(e.AlreadyClaimed):
            pf.faucet_claim()
        pf.register("twice_bot")
        with pytest.raises(e.AgentExists):
            pf.register("twice_bot")
    with Client(server.base_url, api_key=None) as anonymous, pytest.raises(e.Unauthorized):
        anonymous.account()
    with Client(server.base_url, api_key="not-a-key") as bad, pytest.raises(e.InvalidKey):
        bad.account()


def test_every_contract_code_has_a_class():
    codes = {"unauthorized", "invalid_key", "invalid_request", "payload_too_large", "market_not_found", "not_found",
             "method_not_allowed", "insufficient_balance", "order_too_small", "crossed_quote", "session_stopped",
             "no_inventory", "no_liquidity", "already_claimed", "agent_exists", "rate_limited", "clock_not_manual",
             "internal_error", "service_unavailable", "fault_not_found"}
    assert codes <= set(e.BY_CODE)
    assert isinstance(e.error_for(418, {"error": "teapot", "message": "short and stout"}), e.ClientError)
    assert isinstance(e.error_for(599, "not json"), e.ServerError)


# ---- retries ----------------------------------------------------------------------------------
def test_429_is_retried_with_backoff_until_it_passes(server):
    sleeps: list[float] = []
    with client_for(server, sleeps) as pf:
        pf.mock.add_fault("/v1/mm/inventory", status=429, count=2)
        assert pf.inventory(SYMBOL).position == 0
    assert sleeps == [0.5, 1.0]
    statuses = [r["status"] for r in server.requests(agent=server.agent_id) if r["path"] == "/v1/mm/inventory"]
    assert statuses == [429, 429, 200]


def test_429_on_a_post_is_retried_too_and_gives_up_after_the_retries(server):
    sleeps: list[float] = []
    with client_for(server, sleeps, retries=2) as pf:
        pf.mock.add_fault("/v1/mm/quote", status=429)
        with pytest.raises(e.RateLimited):
            pf.quote(SYMBOL, bid_price=68_000, bid_size=100)
    assert sleeps == [0.5, 1.0]
    statuses = [r["status"] for r in server.requests(agent=server.agent_id) if r["path"] == "/v1/mm/quote"]
    assert statuses == [429, 429, 429]


def test_retry_after_is_honoured():
    with run_server(rate_limit=2) as srv:
        control = Client(srv.base_url, srv.api_key)
        waited: list[float] = []

        def sleep(seconds: float) -> None:      # waiting is moving the manual clock: the bucket refills
            waited.append(seconds)
            control.mock.advance(seconds)

        with Client(srv.base_url, srv.api_key, sleep=sleep) as pf:
            for _ in range(3):
                pf.inventory(SYMBOL)
        assert waited == [30.0]                 # 2 a minute: the third waits the server's Retry-After
        statuses = [r["status"] for r in srv.requests(agent=srv.agent_id)]
        assert statuses == [200, 200, 429, 200]
        with Client(srv.base_url, srv.api_key, sleep=lambda s: None, retries=0) as impatient:
            with pytest.raises(e.RateLimited) as raised:       # the bucket is empty again
                impatient.inventory(SYMBOL)
        assert raised.value.retry_after == 30
        control.close()


def test_503_is_retried_on_a_read_but_not_on_a_quote(server):
    sleeps: list[float] = []
    with client_for(server, sleeps) as pf:
        pf.mock.add_fault("/v1/mm/*", status=503, count=1)
        assert pf.session(SYMBOL).status == "idle"
        assert sleeps == [0.5]
        pf.mock.add_fault("/v1/mm/quote", status=503, count=1)
        with pytest.raises(e.ServiceUnavailable):
            pf.quote(SYMBOL, bid_price=68_000, bid_size=100)
        assert pf.orders(SYMBOL).orders == []          # the refused quote changed nothing, and was not re-sent
    quotes = [r["status"] for r in server.requests(agent=server.agent_id) if r["path"] == "/v1/mm/quote"]
    assert quotes == [503]


def test_a_timeout_is_retried_on_a_read_only():
    # A delayed answer comes 0.75 s after it was asked, a quarter second after the client gave up on it:
    # it cannot come sooner, so the timeout is certain. The retried read, not delayed, has the whole 0.5 s
    # (some hundred times what it takes). The server's stop waits for every delayed answer it still owes,
    # so a longer delay only holds up the teardown. A server of its own: the cancel it still owes at the
    # end must not act in another test.
    sleeps: list[float] = []
    with run_server(seed=5) as server, client_for(server, sleeps, timeout=0.5) as pf:
        pf.mock.add_fault("/v1/mm/inventory", latency_ms=750, count=1)
        assert pf.inventory(SYMBOL).position == 0
        assert sleeps == [0.5]
        pf.mock.add_fault("/v1/mm/cancel", latency_ms=750, count=1)
        with pytest.raises(e.ConnectionFailed):
            pf.cancel(SYMBOL)                   # it may have arrived: a POST is not sent twice
        assert sleeps == [0.5]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_retried_then_raised():
    sleeps: list[float] = []
    with Client(f"http://127.0.0.1:{_closed_port()}", "pf_test_nobody_home", sleep=sleeps.append,
                retry=RetryPolicy(retries=3, backoff_s=0.25, max_backoff_s=0.5)) as pf:
        with pytest.raises(e.ConnectionFailed):
            pf.quote(SYMBOL, bid_price=1, bid_size=100)     # never arrived: safe to send again, even a POST
    assert sleeps == [0.25, 0.5, 0.5]


def test_environment_gives_the_base_url_and_key(server, monkeypatch):
    monkeypatch.setenv("PF_BASE", server.base_url + "/")
    monkeypatch.setenv("PF_API_KEY", server.api_key)
    with Client() as pf:
        assert pf.base_url == server.base_url
        assert pf.account().agent_id == server.agent_id


def test_the_async_front_shares_the_calls_and_the_retries():
    async def scenario(app, key) -> tuple:
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)

        async with AsyncClient("http://pf-mock.test", key, transport=httpx.ASGITransport(app=app), sleep=sleep) as pf:
            await pf.mock.add_fault("/v1/mm/inventory", status=429, count=1)
            inventory = await pf.inventory(SYMBOL)
            top = await pf.price(SYMBOL)
            with pytest.raises(e.MarketNotFound):
                await pf.price("nope")
            return inventory, top, sleeps

    with in_process(seed=2) as mock:
        inventory, top, sleeps = asyncio.run(scenario(mock.app, mock.api_key))
    assert isinstance(inventory, messages.Inventory) and isinstance(top, messages.Price)
    assert sleeps == [0.5]


def test_clients_share_one_tls_context_that_verifies_as_httpxs_default():
    """pf-mock's clients share one TLS context (building one reads the CA bundle, ~30 ms a client); it must
    verify exactly as the context httpx would build for each: certificates required, host names checked,
    the same CA bundle loaded."""
    import ssl

    from pf_mock.client.tls import default_tls

    shared, fresh = default_tls(), httpx.create_ssl_context()
    assert default_tls() is shared
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
    assert shared.cert_store_stats() == fresh.cert_store_stats() and shared.cert_store_stats()["x509_ca"] > 0
    assert shared.minimum_version == fresh.minimum_version and shared.options == fresh.options
