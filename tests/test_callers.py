"""Who may call, and what one caller may cost the others (issue: "no client can freeze the exchange ...
or drive /_mock from a web page").

In process: a Host the server does not answer to is 400 ``bad_host``; a state-changing request from
another site's page is 403 ``forbidden_origin``; a body that is not sent as ``application/json`` is 415
``unsupported_media_type`` — each in the error shape, with nothing changed. ``HEAD`` answers as ``GET``
without the body. The rate limit keys on an agent's key, else the client address.

On a real server (uvicorn on a loopback port, the socket made as ``pf-mock serve`` makes it): accepted
sockets set ``TCP_NODELAY``, and a client that pipelines requests and never reads the answers holds up
nobody else.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time

import httpx
import pytest

from app_client import AppClient, app_client
from conftest import KEY, make_exchange
from contract_asserts import assert_error
from pf_mock import cli
from pf_mock.api import AppOptions, create_app
from pf_mock.server import ReadyServer, ServeOptions, build_app, listen, uvicorn_config

JSON = {"Content-Type": "application/json"}
PRICE = "/v1/markets/BTC-PERP/price"


def world(client: AppClient, journal: bool = True) -> dict:
    """What a refused request must leave as it was: the agents, their orders, the clock, and (``journal``)
    the journal's length: a request refused at the door is journaled like any answer, one turned away for
    its Host or Origin is not even that."""
    state = client.get("/_mock/state").json()
    seen = {"agents": state["agents"], "now": state["clock"]["now"],
            "orders": client.get("/v1/mm/orders", headers={"Authorization": f"Bearer {KEY}"}).json()}
    if journal:
        seen["requests"] = [e for e in client.get("/_mock/requests", params={"limit": 1000}).json()["requests"]
                            if e["path"] != "/v1/mm/orders"]     # this function's own reads aside
    return seen


# ---- Host --------------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "127.0.0.1.attacker.example",
                                  "localhost.attacker.example", "192.168.1.5:8000"])
def test_a_host_the_server_does_not_answer_to_is_400_bad_host_before_routing(client, auth, host):
    client.get("/v1/account", headers=auth)
    before = world(client)
    for method, path in (("POST", "/_mock/reset"), ("GET", "/_mock/snapshot"), ("GET", "/nowhere"),
                         ("GET", PRICE), ("POST", "/mcp")):
        body = assert_error(client.request(method, path, headers={"Host": host, **JSON}, content=b"{}"),
                            400, "bad_host")
        assert body["host"] == host
    assert world(client) == before


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "LOCALHOST:1", "127.0.0.1:8000", "127.0.0.1",
                                  "[::1]:8000", "testserver"])      # testserver: the address it arrived at
def test_loopback_names_and_the_address_arrived_at_are_answered(client, host):
    assert client.get(PRICE, headers={"Host": host}).status_code == 200


def test_allow_host_adds_a_name_and_the_bound_host_is_one():
    app = build_app(ServeOptions(clock="manual", host="0.0.0.0", allow_hosts=("mock.lan",)))
    with app_client(app) as c:
        assert c.get(PRICE, headers={"Host": "mock.lan:8000"}).status_code == 200
        assert c.get(PRICE, headers={"Host": "0.0.0.0:8000"}).status_code == 200
        assert_error(c.get(PRICE, headers={"Host": "other.lan"}), 400, "bad_host")


def test_the_command_line_takes_allow_host_repeatedly():
    args = cli.parser().parse_args(["serve", "--allow-host", "a.lan", "--allow-host", "b.lan"])
    assert cli.check_serve(args).allow_hosts == ("a.lan", "b.lan")
    assert cli.check_serve(cli.parser().parse_args(["serve"])).allow_hosts == ()


# ---- Origin ------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://testserver:8000", "https://testserver",
                                    "http://localhost", "file://", "garbage"])
def test_a_state_changing_request_from_another_origin_is_403(client, auth, origin):
    client.get("/v1/account", headers=auth)
    before = world(client)
    for path in ("/_mock/reset", "/_mock/faults", "/v1/mm/quote", "/v1/agents/register", "/v1/faucet/claim"):
        body = assert_error(client.post(path, headers={"Origin": origin, **auth, **JSON}, content=b"{}"),
                            403, "forbidden_origin")
        assert body["origin"] == origin
    assert_error(client.delete("/_mock/faults", headers={"Origin": origin}), 403, "forbidden_origin")
    assert world(client) == before


def test_the_servers_own_origin_and_no_origin_go_in(client, auth):
    assert client.post("/v1/faucet/claim", headers={"Origin": "http://testserver", **auth}).status_code == 200
    assert client.post("/_mock/reset", headers={"Origin": "http://TESTSERVER:80"}, json={}).status_code == 200
    assert client.post("/v1/faucet/claim", headers=auth).status_code == 200      # curl, scripts, the client
    assert client.post("/v1/faucet/claim", headers={"Origin": "http://localhost:8000", "Host": "localhost:8000",
                                                    **auth}).status_code == 409    # same origin: it went in


def test_reads_from_another_origin_are_not_refused(client):
    """A browser does not let another site's page read the answer (no CORS headers); refusing the
    request itself would only break links."""
    assert client.get(PRICE, headers={"Origin": "http://evil.example"}).status_code == 200


# ---- Content-Type ------------------------------------------------------------------------------
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonx", "json"])
def test_a_body_not_sent_as_json_is_415(client, auth, content_type):
    client.get("/v1/account", headers=auth)
    before = world(client, journal=False)
    headers = {**auth, **({"Content-Type": content_type} if content_type else {})}
    for path in ("/_mock/reset", "/v1/mm/cancel", "/_mock/clock/advance"):
        assert_error(client.post(path, headers=headers, content=b'{"symbol": "BTC-PERP", "seconds": 1}'),
                     415, "unsupported_media_type")
    assert world(client, journal=False) == before


def test_json_with_parameters_and_empty_bodies_go_in(client, auth):
    r = client.post("/_mock/clock/advance", headers={"Content-Type": "Application/JSON; charset=utf-8"},
                    content=b'{"seconds": 1}')
    assert r.status_code == 200
    assert client.post("/v1/faucet/claim", headers=auth).status_code == 200         # no body, no type


# ---- HEAD --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [PRICE, "/health", "/v1/markets?limit=3", "/_mock/state"])
def test_head_answers_as_get_without_a_body(client, path):
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_of_an_unknown_path_is_404_without_a_body(client):
    r = client.head("/nowhere")
    assert (r.status_code, r.content) == (404, b"")


# ---- the rate limit ----------------------------------------------------------------------------
def test_junk_keys_do_not_dodge_the_rate_limit():
    exchange = make_exchange()
    exchange.authenticate(KEY)
    with app_client(create_app(exchange, AppOptions(rate_limit=5))) as c:
        statuses = [c.get(PRICE, headers={"X-API-Key": key}).status_code
                    for key in [f"pf_test_junk{i:06d}" for i in range(10)] + [f"junk-{i}" for i in range(10)]]
        assert statuses == [200] * 5 + [429] * 15
        assert c.get(PRICE).status_code == 429                                  # the same address, no key
        assert c.get(PRICE, headers={"X-API-Key": KEY}).status_code == 200      # an agent's key: its own bucket
        assert len(exchange.agents) == 1


# ---- on a real server --------------------------------------------------------------------------
def until(condition, what: str, guard_s: float = 30.0) -> None:
    """Wait for ``condition()`` (the guard only stops a broken server hanging the suite: nothing is timed)."""
    deadline = time.monotonic() + guard_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def refuses(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` any more: a connection is refused (the timeout only stops
    a broken server hanging the suite)."""
    try:
        socket.create_connection((host, port), timeout=60).close()
    except ConnectionRefusedError:
        return True
    return False


@contextlib.contextmanager
def real_server(app=None, **options):
    """``pf-mock serve`` in a thread: uvicorn on a loopback socket made by ``server.listen``; serving
    ``app`` if given (a test that reaches into the app it serves), else the one ``options`` build."""
    opts = ServeOptions(clock="manual", port=0, **options)
    server = ReadyServer(uvicorn_config(app or build_app(opts), opts), quiet=True)
    sock = listen("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield server, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop()
        thread.join(timeout=10)
        sock.close()


def test_accepted_connections_set_tcp_nodelay():
    with real_server() as (server, base), httpx.Client(base_url=base) as client:
        assert client.get("/health").status_code == 200
        sockets = [c.transport.get_extra_info("socket") for c in server.server_state.connections]
        assert sockets
        assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets)


def test_a_client_that_pipelines_and_never_reads_holds_up_nobody():
    """60 pipelined ``GET /v1/markets?limit=500`` (some 7 MB of answers) on one connection whose reader
    never reads, while another client quotes and reads as usual: the other client's requests are all
    answered. When the answer was written inside the exchange's turn, the first answer that filled the
    slow socket's buffers held the turn until that socket closed, and every other request waited."""
    with real_server() as (server, base):
        hog = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        hog.connect(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        request = b"GET /v1/markets?limit=500 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        hog.sendall(request * 60)
        try:
            # The hog's answers fill its socket: the kernel's buffers are full and the server holds the rest
            # of an answer in its transport (asyncio's public count), waiting for a reader that never reads.
            until(lambda: any(c.transport.get_write_buffer_size() for c in list(server.server_state.connections)),
                  "the hog's answers never filled its socket")
            with httpx.Client(base_url=base, timeout=20, headers={"Authorization": f"Bearer {KEY}"}) as client:
                for _ in range(5):
                    mid = client.get(PRICE).json()["mid"]
                    quote = client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": mid * 0.999,
                                                              "bid_size": 100, "ask_price": mid * 1.001,
                                                              "ask_size": 100})
                    assert quote.status_code == 200, quote.text
                    assert client.post("/v1/mm/cancel", json={"symbol": "BTC-PERP"}).status_code == 200
                    assert client.post("/_mock/snapshot").status_code == 200
        finally:
            hog.close()


# ---- deadlines on slow and idle connections ---------------------------------------------------------
def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True when the server closes ``sock`` within ``seconds`` (reading whatever it sent first)."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except socket.timeout:
        return False
    except OSError:
        return True
    return True


def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout():
    with real_server(head_timeout_s=0.1) as (_, base):
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        assert closed_within(sock, 5)


def test_a_request_head_trickled_in_is_closed_after_the_head_timeout():
    with real_server(head_timeout_s=0.25) as (_, base):
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        started = time.monotonic()
        try:       # a byte every 20 ms: the head's 230 bytes would take 4.6 s
            for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
                sock.sendall(bytes([byte]))
                time.sleep(0.02)
                if time.monotonic() - started > 5:
                    break
        except OSError:
            pass                # closed under our feet: what the test wants
        assert closed_within(sock, 5)


def test_a_body_trickled_in_is_closed_after_the_body_timeout():
    with real_server(body_timeout_s=0.25) as (_, base):
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        sock.sendall(b"POST /_mock/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 400\r\n\r\n{")
        started = time.monotonic()
        try:
            while time.monotonic() - started < 5:       # a byte every 20 ms: 400 would take 8 s
                sock.sendall(b" ")
                time.sleep(0.02)
        except OSError:
            pass
        assert closed_within(sock, 5)
        with httpx.Client(base_url=base) as client:
            assert client.get("/_mock/state").json()["clock"]["now"] == 1767225600000     # the advance never ran


def test_a_body_cut_off_by_its_deadline_is_not_acted_on_even_when_what_came_reads_as_json():
    """What arrived before the deadline, ``{"seconds": 60}`` then spaces, is a whole JSON body, but not
    the 400 bytes announced: the advance must not run on it."""
    with real_server(body_timeout_s=0.25) as (_, base):
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        sock.sendall(b"POST /_mock/clock/advance HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 400\r\n\r\n{\"seconds\": 60}")
        started = time.monotonic()
        try:
            while time.monotonic() - started < 5:       # a byte every 20 ms: 400 would take 8 s
                sock.sendall(b" ")
                time.sleep(0.02)
        except OSError:
            pass
        assert closed_within(sock, 5)
        with httpx.Client(base_url=base) as client:
            assert client.get("/_mock/state").json()["clock"]["now"] == 1767225600000
            # ... and the same body sent whole is acted on (the request itself is a valid one)
            assert client.post("/_mock/clock/advance", json={"seconds": 60}).status_code == 200
            assert client.get("/_mock/state").json()["clock"]["now"] == 1767225660000


def test_the_head_deadline_is_per_request_and_an_idle_keep_alive_closes():
    with real_server(head_timeout_s=0.25, keep_alive_s=1) as (_, base):
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        sock.settimeout(5)
        for _ in range(10):     # 10 requests 0.05 s apart: twice the head deadline in all
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            answer = b""
            while not answer.endswith(b"}"):
                part = sock.recv(4096)
                assert part, "closed mid-conversation"
                answer += part
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(0.05)
        assert closed_within(sock, 5)       # then idle: closed


def test_a_forwarded_for_header_does_not_unlink_a_connection_from_its_deadlines():
    """The deadlines find a request's connection by its client address: a loopback client's
    ``X-Forwarded-For`` must not change that address (were it read, the head deadline armed when the
    connection opened would never be put off, and would close it mid-conversation)."""
    with real_server(head_timeout_s=0.25) as (_, base):
        sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        sock.settimeout(5)
        for _ in range(10):     # 0.5 s in all: twice the head deadline
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n")
            answer = b""
            while not answer.endswith(b"}"):
                part = sock.recv(4096)
                assert part, "closed mid-conversation"
                answer += part
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(0.05)
        sock.close()


def test_a_client_that_goes_away_mid_request_is_one_line_of_log_at_most(caplog):
    caplog.set_level("DEBUG")
    with real_server() as (server, base):
        port = int(base.rsplit(":", 1)[1])
        busy = server.server_state      # uvicorn's count of open connections and of requests being answered
        for path in ("/mcp", "/v1/mm/quote"):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\"")
            until(lambda: busy.tasks, "the request never reached the app")     # mid-request: it waits for the body
            sock.close()
            until(lambda: not busy.tasks and not busy.connections, "the server never let go of the request")
        with httpx.Client(base_url=base, timeout=30) as client:     # a guard against a hang, never a measured time
            assert client.get("/health").status_code == 200
    noted = [r for r in caplog.records if r.levelno >= logging.INFO or r.exc_info]
    assert not [r for r in noted if r.exc_info], [r.getMessage() for r in noted]
    assert len([r for r in caplog.records if "went away" in r.getMessage() or "isconnect" in r.getMessage()]) <= 2


# ---- symbols ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["\u017fol", "\u017fol-perp", "%C5%BFOL", "\uff22\uff34\uff23", "btc\u00a0", "B\u0130TCOIN"])
def test_symbols_fold_case_in_ascii_only(client, name):
    assert_error(client.get(f"/v1/markets/{name}/price"), 404, "market_not_found")


@pytest.mark.parametrize("name", ["sol", "SOL", "Sol-Perp", "sol-perp"])
def test_ascii_case_still_folds(client, name):
    assert client.get(f"/v1/markets/{name}/price").json()["symbol"] == "SOL-PERP"


# ---- MCP: NaN is a tool error -----------------------------------------------------------------------
@pytest.mark.parametrize("arguments,field", [
    ({"symbol": "BTC-PERP", "bid_price": float("nan"), "bid_size": 100}, "bid_price"),
    ({"symbol": "BTC-PERP", "bid_price": 70_000, "bid_size": float("inf")}, "bid_size"),
    ({"symbol": "BTC-PERP", "hedge_pct": float("-inf")}, "hedge_pct"),
])
def test_a_non_finite_number_to_an_mcp_tool_is_a_tool_error_with_a_code(arguments, field):
    import asyncio

    from pf_mock.mcp import tools
    from pf_mock.testing import serve_options

    app = build_app(serve_options())
    name = "mm_hedge" if "hedge_pct" in arguments else "mm_post_quotes"
    spec = next(s for s in tools.TOOLS if s.name == name)

    async def call():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers={"Authorization": f"Bearer {KEY}"}) as c:
            return await tools.call(spec, c, arguments)

    result = asyncio.run(call())
    assert result.is_error
    body = json.loads(result.content[1].text)
    assert body["error"] == "invalid_request" and body["field"] == field
    assert result.content[0].text.startswith("invalid_request: ")
    assert app.state.exchange.agents == {}          # nothing reached the exchange
