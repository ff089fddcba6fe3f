"""pf-mock inside your own tests, three ways.

- ``MockExchange``: the core itself, no HTTP, on a manual clock. Quote, advance, read PnL.
- ``in_process(**options)``: the HTTP app behind an authorised ``TestClient``; no socket, no thread.
  The ``pf_mock`` pytest fixture is this.
- ``run_server(**options)``: a real uvicorn server on a free loopback port in a background thread,
  for clients that must speak real HTTP. The ``pf_mock_server`` pytest fixture is this.

``options`` are the fields of ``pf_mock.server.ServeOptions`` (``seed``, ``starting_balance``,
``strict_auth``, ``scenario``, ``rate_limit``, ``admin_token``, fees ...), as on the command line, except
that the clock is ``"manual"`` and the port ``0`` (a free one) unless you say otherwise.

Both handles carry the same helpers (``advance``, ``jump``, ``faults`` ...), which go through the
``/_mock`` routes like any other client, without an API key, so they behave identically in process and
over the wire and never show up as your agent's requests.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import httpx

from .agents import Agent
from .client.tls import default_tls
from .clock import ManualClock
from .exchange import Exchange, ExchangeConfig
from .server import ReadyServer, ServeOptions, build_app, build_exchange, uvicorn_config

TEST_KEY = "pf_test_pf_mock_agent"

__all__ = ["MockExchange", "MockControl", "MockControlError", "InProcessMock", "RunningServer", "TEST_KEY",
           "in_process", "run_server", "serve_options"]


class MockExchange(Exchange):
    """The exchange core on a ``ManualClock``, configured by keywords::

        ex = MockExchange(seed=1, starting_balance=500)
        me = ex.register()                      # an agent (works under strict_auth too)
        ex.quote(me, QuoteRequest("BTC-PERP", bid_price=..., bid_size=100))
        ex.advance(60)                          # simulated seconds, processed in order
        ex.pnl(me).window.net_pnl
    """

    clock: ManualClock

    def __init__(self, seed: int = 0, *, clock: ManualClock | None = None, **config: Any):
        super().__init__(ExchangeConfig(seed=seed, **config), clock or ManualClock())

    def mid(self, symbol: str) -> float:
        """The market's mid now: the book's midpoint."""
        return self.market(symbol).mid

    def mark_price(self, symbol: str) -> float:
        """The market's mark price now: its fair value on the tick grid (what PnL is marked to)."""
        return self.market(symbol).mark



def serve_options(**options: Any) -> ServeOptions:
    """``ServeOptions`` for a test: manual clock and a free port unless given. Unknown names are a
    ``TypeError`` that lists the known ones."""
    known = {f.name for f in dataclasses.fields(ServeOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown pf-mock option(s) {', '.join(unknown)}; "
                        f"the options are {', '.join(sorted(known))}")
    return ServeOptions(**{"clock": "manual", "port": 0, **options})


class MockControlError(RuntimeError):
    """A ``/_mock`` route refused a helper's call (bad argument, or the route is turned off)."""

    def __init__(self, method: str, path: str, status_code: int, body: Any):
        super().__init__(f"{method} {path} answered {status_code}: {body}")
        self.status_code = status_code
        self.body = body


class MockControl:
    """What both handles share: the exchange, the agent's key and client, the options, and the mock's
    ``/_mock`` control routes as methods. Each helper returns the route's JSON answer and raises
    ``MockControlError`` on any non-2xx answer."""

    def __init__(self, exchange: Exchange, client: httpx.Client, control: httpx.Client, agent: Agent,
                 options: ServeOptions):
        self.exchange = exchange
        self.client = client            # sends the agent's key
        self._control = control         # sends no key; the admin token when the mock has one
        self.api_key = agent.api_key
        self.agent_id = agent.agent_id
        self.options = options

    def _call(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> Any:
        response = self._control.request(method, path, json=json, params=params)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if not response.is_success:
            raise MockControlError(method, path, response.status_code, body)
        return body

    def state(self) -> dict:
        """``{seed, clock: {mode, now, speed}, agents, active_markets, scenario}``."""
        return self._call("GET", "/_mock/state")

    def reset(self, seed: int | None = None) -> dict:
        """Start over: no orders, fills or fault rules, an empty journal, the clock back at its start;
        on ``seed`` if given. Under open auth the client's key still works, as the same agent id."""
        return self._call("POST", "/_mock/reset", json=None if seed is None else {"seed": seed})

    def advance(self, seconds: float) -> dict:
        """Move the manual clock forward, processing every event in between, in order."""
        return self._call("POST", "/_mock/clock/advance", json={"seconds": seconds})

    def jump(self, symbol: str, bps: float) -> dict:
        """Move the market's fair value (mark price) at once by ``bps`` (stale quotes get picked off)."""
        return self._call("POST", f"/_mock/markets/{symbol}/jump", json={"move_bps": bps})

    def regime(self, symbol: str, **fields: float) -> dict:
        """Change the market's regime from now on (``volatility_annual``, ``spread_bps`` ...)."""
        return self._call("POST", f"/_mock/markets/{symbol}/regime", json=fields)

    def load_scenario(self, name: str) -> dict:
        """Load a scenario from ``scenarios/`` by name."""
        return self._call("POST", "/_mock/scenario", json={"name": name})

    def faults(self, **rule: Any) -> dict:
        """Inject errors or latency: ``faults(path="/v1/mm/quote", status=503, count=1)``; also
        ``latency_ms`` and ``probability``."""
        return self._call("POST", "/_mock/faults", json=rule)

    def clear_faults(self) -> dict:
        return self._call("DELETE", "/_mock/faults")

    def requests(self, agent: str | None = None, limit: int | None = None) -> list[dict]:
        """The journal of requests received (mock time, agent, method, path, body, status), optionally
        one agent's (``agent=mock.agent_id``) and only the last ``limit``."""
        params = {k: v for k, v in (("agent", agent), ("limit", limit)) if v is not None}
        return self._call("GET", "/_mock/requests", params=params)["requests"]


class InProcessMock(MockControl):
    """A fresh mock served in process: ``client`` is an httpx client (a ``TestClient``,
    base URL ``http://testserver``) already sending ``Authorization: Bearer <api_key>``; ``app`` is the
    FastAPI app."""

    def __init__(self, app, **parts: Any):
        super().__init__(**parts)
        self.app = app


class RunningServer(MockControl):
    """A mock served over real HTTP at ``base_url``. ``client`` is an httpx client for it already
    sending ``Authorization: Bearer <api_key>``. ``exchange`` lives in the server's thread: read it
    between requests, change it through the helpers."""

    def __init__(self, base_url: str, **parts: Any):
        super().__init__(**parts)
        self.base_url = base_url

    @property
    def port(self) -> int:
        return httpx.URL(self.base_url).port


def _agent_headers(agent: Agent) -> dict[str, str]:
    return {"Authorization": f"Bearer {agent.api_key}"}


def _control_headers(opts: ServeOptions) -> dict[str, str]:
    return {"X-Admin-Token": opts.admin_token} if opts.admin_token else {}


def _build(opts: ServeOptions) -> tuple[Exchange, Any, Agent]:
    exchange = build_exchange(opts)
    agent = client_agent(exchange)      # before the app: the agent every handle's client is
    return exchange, build_app(opts, exchange), agent


def client_agent(exchange: Exchange) -> Agent:
    """The agent whose key the handles' clients send. Under open auth it is ``TEST_KEY``'s agent, so
    after a reset (``/_mock/reset``, a scenario with a seed) the same key comes back as the same agent
    id on its next request; under strict auth it is a key the exchange issues (and a reset forgets)."""
    if exchange.config.strict_auth:
        return exchange.register()
    return exchange.authenticate(TEST_KEY)


@contextmanager
def in_process(**options: Any) -> Iterator[InProcessMock]:
    """A fresh mock behind an authorised ``TestClient``; closed on exit."""
    from .api import in_process_client

    opts = serve_options(**options)
    exchange, app, agent = _build(opts)
    # Both clients are opened for the handle's whole life: an open TestClient keeps one event loop for
    # all its requests, where a closed one starts a thread and a loop for each (about twice the CPU per
    # call). Server errors come back as 500 answers, as they would from a real server.
    with in_process_client(app, headers=_control_headers(opts)) as control, \
            in_process_client(app, headers=_agent_headers(agent)) as client:
        yield InProcessMock(app, exchange=exchange, client=client, control=control, agent=agent,
                            options=opts)


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


@contextmanager
def run_server(*, startup_timeout: float = 15.0, **options: Any) -> Iterator[RunningServer]:
    """Serve a fresh mock with uvicorn on a free loopback port in a daemon thread; stop it on exit.

    ``with run_server(seed=3) as srv: httpx.get(srv.base_url + "/v1/markets")``
    """
    opts = serve_options(**options)
    exchange, app, agent = _build(opts)
    server = ReadyServer(uvicorn_config(app, opts), quiet=True)
    exits: list[SystemExit] = []

    def serve() -> None:
        try:
            server.run()
        except SystemExit as exc:      # uvicorn exits this way when it cannot bind (it logs why)
            exits.append(exc)

    thread = threading.Thread(target=serve, name="pf-mock-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not (server.started and server.bound_port):
            if not thread.is_alive():
                code = f" (exit code {exits[0].code})" if exits else ""
                raise RuntimeError(f"the pf-mock server could not start on {opts.host}:{opts.port}{code}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the pf-mock server did not start within {startup_timeout:g} s")
            time.sleep(0.005)
        base_url = f"http://{_url_host(opts.host)}:{server.bound_port}"
        with httpx.Client(base_url=base_url, headers=_agent_headers(agent), verify=default_tls()) as client, \
                httpx.Client(base_url=base_url, headers=_control_headers(opts), verify=default_tls()) as control:
            yield RunningServer(base_url, exchange=exchange, client=client, control=control, agent=agent,
                                options=opts)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)
