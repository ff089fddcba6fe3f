"""Running the app under uvicorn: one process, one event loop thread that owns the exchange."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
import socket
import threading
from dataclasses import dataclass
from typing import Iterator

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from .api import AppOptions, create_app
from .clock import ManualClock, RealtimeClock
from . import state as core
from .errors import InvalidState
from .exchange import Exchange, ExchangeConfig
from .mcp import http as mcp_http
from .scenarios import apply_scenario, load_scenario

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    clock: str = "realtime"
    speed: float = 1.0
    scenario: str | None = None
    strict_auth: bool = False
    starting_balance: float = 10_000.0
    rate_limit: int | None = None
    admin: bool = True
    admin_token: str | None = None
    maker_rebate_bps: float = 2.5
    taker_fee_bps: float = 4.5
    latency_ms: float | None = None     # --latency-ms: every synthetic market's median latency (None: its regime's)
    log_level: str = "warning"          # of the server's own messages (uvicorn's and pf-mock's), on stderr
    access_log: bool = False            # one line per request on stdout
    mcp_admin: bool = False             # also offer the /_mock tools on /mcp (--mcp-admin)
    restore: str | None = None          # a snapshot file (POST /_mock/snapshot's answer) to start from
    state: str | None = None            # --state FILE: restore from it if it exists, write it on a clean stop
    replay: dict | None = None          # symbol -> replay.source.ReplaySource (--replay FILE, read and checked)
    allow_hosts: tuple[str, ...] = ()   # Host names answered besides loopback and the bound address (--allow-host)
    head_timeout_s: float = 10.0        # a request's line and headers must arrive within this (docs/safety.md)
    body_timeout_s: float = 30.0        # ... and its body within this of its headers
    keep_alive_s: int = 5               # an idle keep-alive connection is closed after this


def build_exchange(opts: ServeOptions) -> Exchange:
    catalog, start = None, None
    if opts.replay:
        # recorded markets: the catalog entries of their recordings, a clock that starts where they do
        from .replay.setup import replay_catalog, replay_start
        catalog, start = replay_catalog(opts.replay), replay_start(opts.replay)
    if opts.clock == "manual":
        clock = ManualClock() if start is None else ManualClock(start)
    else:
        clock = RealtimeClock(speed=opts.speed, start=start)
    config = ExchangeConfig(seed=opts.seed, starting_balance=opts.starting_balance, strict_auth=opts.strict_auth,
                            maker_rebate_bps=opts.maker_rebate_bps, taker_fee_bps=opts.taker_fee_bps,
                            latency_ms=opts.latency_ms)
    scenario = load_scenario(opts.scenario) if opts.scenario else None     # a bad one fails before anything starts
    exchange = Exchange(config, clock, catalog=catalog, sources=opts.replay)
    if scenario is not None:
        apply_scenario(exchange, scenario)
    return exchange


def build_app(opts: ServeOptions, exchange: Exchange | None = None):
    exchange = exchange or build_exchange(opts)
    app = create_app(exchange, AppOptions(admin=opts.admin, admin_token=opts.admin_token,
                                          rate_limit=opts.rate_limit, allow_hosts=(opts.host, *opts.allow_hosts)))
    mcp_http.install(app, admin=opts.mcp_admin and opts.admin)     # /mcp: the same API as MCP tools
    if opts.restore:
        restore_file(app.state.exchange, opts.restore)
    elif opts.state and os.path.exists(opts.state):
        restore_file(app.state.exchange, opts.state)
    return app


class BadSnapshotFile(Exception):
    """A snapshot file that cannot be read or restored: the message says which and why, in one line."""


def restore_file(exchange: Exchange, path: str) -> None:
    """Start from a snapshot file (``--restore``, ``--state``); raises ``BadSnapshotFile`` saying why not."""
    try:
        with open(path, "rb") as f:
            document = f.read()
    except OSError as exc:
        raise BadSnapshotFile(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        core.restore(exchange, document)
    except InvalidState as exc:
        raise BadSnapshotFile(f"{path} is refused: {exc.field}: {exc.rule}") from None


def write_state(exchange: Exchange, path: str) -> None:
    """Write the exchange's snapshot to ``path`` atomically: a temporary file beside it, flushed to disk,
    then renamed over it (a crash mid-write leaves the old file, never half of a new one)."""
    data = core.dumps(core.snapshot(exchange))
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pf-mock-state-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):      # the rename itself, on disk (where the platform allows)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


class ReadyServer(uvicorn.Server):
    """A uvicorn server that says so, in one line, once its socket is listening, and that stops on
    SIGINT or SIGTERM without re-raising the signal afterwards (uvicorn's own way ends a Ctrl-C in a
    traceback and a SIGTERM in death by signal). ``stopped_by`` names the signal that stopped it."""

    TICK_S = 0.1        # uvicorn's main loop ticks every 0.1 s (its Date header, its request limit)

    def __init__(self, config: uvicorn.Config, banner: str = "", quiet: bool = False):
        super().__init__(config)
        self.banner = banner
        self.quiet = quiet
        self.bound_port: int | None = None
        self.stopped_by: str | None = None
        self.serving_loop: asyncio.AbstractEventLoop | None = None
        self.stop_asked: asyncio.Event | None = None

    async def startup(self, sockets=None) -> None:
        # Before uvicorn says it has started: whoever sees ``started`` may call ``stop`` and be heard.
        self.stop_asked = asyncio.Event()
        self.serving_loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        if self.servers and self.servers[0].sockets:
            self.bound_port = self.servers[0].sockets[0].getsockname()[1]
        if not self.quiet and self.started:
            host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host     # IPv6 in a URL
            print(f"pf-mock ready on http://{host}:{self.bound_port} {self.banner}".rstrip(), flush=True)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield       # a server in a background thread (pf_mock.testing.run_server) is stopped by its owner
            return
        before = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """Ask the server to stop, from any thread. uvicorn's way, ``should_exit = True``, is seen at the
        main loop's next tick, up to 0.1 s later; this also wakes the loop, so the stop begins at once."""
        self.should_exit = True
        self.wake()

    def wake(self) -> None:
        loop, event = self.serving_loop, self.stop_asked
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):     # the loop has already closed: the server has stopped
                loop.call_soon_threadsafe(event.set)

    async def main_loop(self) -> None:
        """uvicorn's main loop, ticking as often (``on_tick``: the Date header once a second, the request
        limit), but its wait between ticks ends early when ``stop`` or a signal wakes it."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.TICK_S):
                    await self.stop_asked.wait()
            should_exit = await self.on_tick(counter)

    def handle_exit(self, sig: int, frame) -> None:
        self.stopped_by = self.stopped_by or signal.Signals(sig).name
        # Long work in a request (a clock advance, a restore) checks this between slices or parts and
        # ends early, so the server stops at once rather than after it.
        state = getattr(self.config.app, "state", None)
        if state is not None:
            state.stopping = True
        super().handle_exit(sig, frame)
        self.wake()

    async def shutdown(self, sockets=None) -> None:
        # Open push-feed streams never end by themselves; end them first, or uvicorn would wait on them.
        hub = getattr(getattr(self.config.app, "state", None), "feed", None)
        if hub is not None:
            hub.close()
        for _ in range(3):      # let the loop read the closes of clients that left just before the stop
            if not self.server_state.connections:
                break
            await asyncio.sleep(0)
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets=sockets)
            return
        # Nothing open: uvicorn's shutdown would close the listening sockets, then pause a fixed 0.1 s for
        # the connections it asked to close (there are none), then end the lifespan. The same steps,
        # without the pause: a test that starts and stops servers by the dozen waits seconds on it.
        logging.getLogger("uvicorn.error").info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


def log_config(level: str = "warning", access_log: bool = False, program: bool = False) -> dict:
    """Logging for a server: messages at ``level`` and above on stderr; with ``access_log``, one line
    per request on stdout (uvicorn's: client, request line, status). ``program``: the process is the
    ``pf-mock`` program, so pf-mock's own logger is set up too (a server run inside someone's tests
    leaves that logger to them)."""
    level = level.upper()
    own = {"pf_mock": {"handlers": ["default"], "level": level, "propagate": False}} if program else {}
    stderr = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"format": "pf-mock %(levelname)s: %(message)s"},
                       "access": {"format": "%(message)s"}},
        "handlers": {"default": stderr,
                     "access": {"class": "logging.StreamHandler", "formatter": "access",
                                "stream": "ext://sys.stdout"}},
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO" if access_log else "WARNING",
                               "propagate": False},
            **own,
        },
    }


class Deadlines:
    """Two deadlines uvicorn lacks, for one server: a connection must send a request's line and headers
    within ``head_s`` of opening, or of its previous answer, and the request's body within ``body_s`` of
    its headers; else the connection is closed (and a request whose body never came is not acted on).
    uvicorn closes a connection idle after an answer (keep-alive), but not one that never sends a request,
    nor one that trickles its bytes in (each byte puts its idle timer off again): either held a
    connection, and what it holds, for ever. A request being answered has no deadline (a long clock
    advance is answered when it is done).

    Built on public interfaces only, in two halves that meet in ``open``:

    - ``protocol()``, uvicorn's ``http=`` protocol class: a plain ``asyncio.Protocol`` that holds
      uvicorn's own HTTP protocol and hands it every event unchanged (composition: none of its internals
      is read). It sees the socket, so it owns the connection's one timer, and it closes the transport
      when the timer runs out. It cannot tell where a request's head or body ends without parsing HTTP;
    - ``app()``, an ASGI wrapper: the app is called once a request's head is in, and its ``receive``
      says when the body is in, and its return when the answer is done. So it moves the timer.

    The two are linked by the connection's peer address: asyncio's ``get_extra_info("peername")`` on
    one side, the ASGI scope's ``client`` on the other (the ASGI spec: the remote host and port). That
    holds only while nothing rewrites ``client``, which is why the config turns uvicorn's proxy headers
    off (a loopback client's ``X-Forwarded-For`` would otherwise unlink its connection). A context
    variable set around ``data_received`` would link them without an address, but uvicorn may start the
    app in a fresh context (its documented ``reset_contextvars`` option), which would cut that link."""

    def __init__(self, head_s: float, body_s: float):
        self.head_s = head_s
        self.body_s = body_s
        self.open: dict[tuple, _Connection] = {}       # peer (host, port) -> its live connection

    def protocol(self) -> type:
        deadlines = self

        class TimedConnection(asyncio.Protocol):
            def __init__(self, *args, **kwargs) -> None:
                self.inner = AutoHTTPProtocol(*args, **kwargs)      # what http="auto" would have made
                self.conn: _Connection | None = None

            def connection_made(self, transport) -> None:
                peer = transport.get_extra_info("peername")
                if isinstance(peer, tuple):         # TCP (the only kind pf-mock serves): linkable
                    self.conn = _Connection(transport, tuple(peer[:2]))
                    deadlines.open[self.conn.key] = self.conn
                    self.conn.arm(deadlines.head_s)
                self.inner.connection_made(transport)

            def connection_lost(self, exc) -> None:
                if self.conn is not None:
                    self.conn.cancel()
                    if deadlines.open.get(self.conn.key) is self.conn:
                        del deadlines.open[self.conn.key]
                self.inner.connection_lost(exc)

            def data_received(self, data: bytes) -> None:
                self.inner.data_received(data)

            def eof_received(self):
                return self.inner.eof_received()

            def pause_writing(self) -> None:
                self.inner.pause_writing()

            def resume_writing(self) -> None:
                self.inner.resume_writing()

        return TimedConnection

    def app(self, app) -> "DeadlineApp":
        return DeadlineApp(app, self)


class _Connection:
    """One connection's deadline: at most one timer at a time, for a request's head or for its body."""

    def __init__(self, transport, key: tuple):
        self.transport = transport
        self.key = key
        self.timer: asyncio.TimerHandle | None = None
        self.answering = 0          # requests handed to the app and not yet done with

    def arm(self, seconds: float) -> asyncio.TimerHandle | None:
        self.cancel()
        if not self.transport.is_closing():
            self.timer = asyncio.get_running_loop().call_later(seconds, self._expired)
        return self.timer

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expired(self) -> None:
        self.timer = None
        if not self.transport.is_closing():
            self.transport.close()


class DeadlineApp:
    """The ASGI half of ``Deadlines``: moves its connection's timer as the request goes along."""

    def __init__(self, app, deadlines: Deadlines):
        self.app = app
        self.deadlines = deadlines

    @property
    def state(self):
        return self.app.state       # the server reads the app's state (stopping, feed) through uvicorn's config

    async def __call__(self, scope, receive, send) -> None:
        client = scope.get("client")
        conn = self.deadlines.open.get(tuple(client)) if client and scope["type"] == "http" else None
        if conn is None:            # not a request on a timed connection (lifespan, or not linkable)
            await self.app(scope, receive, send)
            return
        conn.answering += 1
        conn.cancel()               # the head is in
        if _has_body(scope):
            receive = _watching(conn, conn.arm(self.deadlines.body_s), receive)
        try:
            await self.app(scope, receive, send)
        finally:
            conn.answering -= 1
            if conn.answering == 0:     # answered (a pipelined request may already be in hand: then not yet)
                conn.arm(self.deadlines.head_s)


def _has_body(scope) -> bool:
    """Whether a body follows the head (HTTP/1.1: a Content-Length above 0, or a Transfer-Encoding)."""
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length":
            try:
                return int(value) > 0
            except ValueError:
                return True
    return False


def _watching(conn: _Connection, body_timer, receive):
    """``receive``, cancelling the body's deadline (``body_timer``, if still the connection's timer) once
    the body's last part is read."""
    async def watched():
        message = await receive()
        if (message["type"] == "http.request" and not message.get("more_body", False)
                and body_timer is not None and conn.timer is body_timer):
            conn.cancel()
        return message

    return watched


def uvicorn_config(app, opts: ServeOptions, program: bool = False) -> uvicorn.Config:
    """How every pf-mock server runs under uvicorn (``serve`` and ``pf_mock.testing.run_server``)."""
    deadlines = Deadlines(opts.head_timeout_s, opts.body_timeout_s)
    return uvicorn.Config(deadlines.app(app), host=opts.host, port=opts.port,
                          log_config=log_config(opts.log_level, opts.access_log, program),
                          log_level=None, access_log=opts.access_log, lifespan="off",
                          http=deadlines.protocol(), proxy_headers=False,     # see Deadlines
                          timeout_keep_alive=opts.keep_alive_s)


class CannotListen(Exception):
    """The address could not be bound (in use, or not this machine's)."""


def listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket here, so that a failure is one sentence rather than uvicorn's exit.

    The socket is made as a TCP socket by name (``IPPROTO_TCP``), which is what asyncio looks at to set
    ``TCP_NODELAY`` on every connection it accepts: a socket made with protocol 0 is TCP all the same, but
    its connections kept Nagle's algorithm, and every keep-alive answer (written as headers, then body)
    waited for the client's delayed ACK, some 40 ms. ``TCP_NODELAY`` is set on the listening socket too,
    which Linux hands on to the sockets it accepts."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = exc.strerror or str(exc)
        raise CannotListen(f"cannot listen on {host}:{port}: {reason[:1].lower()}{reason[1:]}") from None
    sock.set_inheritable(True)
    return sock


def serve(opts: ServeOptions) -> str | None:
    """Serve until stopped; the name of the signal that stopped it (None if it stopped by itself).
    Raises ``CannotListen`` when the address cannot be bound."""
    app = build_app(opts)
    config = uvicorn_config(app, opts, program=True)
    exchange = app.state.exchange       # its seed is the scenario's if --scenario brought one
    speed = "" if opts.clock == "manual" else f" x{opts.speed:g}"
    scenario = f", scenario {exchange.scenario_name}" if exchange.scenario_name else ""
    banner = f"(seed {exchange.seed}, clock {opts.clock}{speed}{scenario})"
    server = ReadyServer(config, banner)
    server.run(sockets=[listen(opts.host, opts.port)])
    if opts.state:
        write_state(exchange, opts.state)
    return server.stopped_by
