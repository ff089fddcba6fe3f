"""Snapshot and restore (``POST /_mock/snapshot``, ``POST /_mock/restore``, ``pf-mock serve --restore``).

Event-sourced: a snapshot is not a copy of the exchange's objects but what made them — the seed, the
options, the clock, the agents and scenario there were when the log began, and the ordered log of the
requests that changed anything, each with the mock time it came at, the API key it carried, the
status it got and a digest of its answer. Restoring builds the exchange again from the seed and
replays the log through the API at those times. The determinism guarantee (same seed, same requests at
the same mock times, same bytes out) makes the result exact, and the document survives any change to
the core's insides: it only speaks the API.

What is logged: every request outside the mock's own read-only and bookkeeping routes that was answered
below 400, and any request at all during which an agent was provisioned (open auth makes one on first
use of a key, even by a ``GET``). ``GET`` requests are not logged otherwise: reading never changes the
exchange (a market's path does not depend on who reads it, or when, and a market only read is not in
``/_mock/state``'s ``active_markets``). Fault rules, the journal and rate
limits are the app's, not the exchange's, and are neither saved nor restored. ``POST /_mock/reset``
starts the log afresh (the seed and the clock's start are all a reset leaves), which keeps it bounded
for a test suite that resets between tests.

Checks: a restore replays every command and compares its status, and, for a snapshot taken on a manual
clock, its answer's digest, with what the original answered; the first difference stops the restore
with 409 ``snapshot_diverged`` and the exchange is left as it was before the restore. A document of
another format or version is refused with 400 ``invalid_snapshot`` before anything is touched.

The clock after a restore: the server keeps its own mode. On a manual clock it stands at the snapshot's
``now`` (and a later reset goes back to the snapshot's start, as on the original); on a realtime clock
it runs on at its speed from the snapshot's ``now``, and a later reset goes back to that instant.
Exact replay holds on a manual clock; on a realtime clock a request reads the clock more than once as
it is answered, so the original's instants are kept only to the request's start.

A snapshot holds the agents' API keys: keep it as you would keep them.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import time
import zlib
from dataclasses import asdict
from typing import Any, NamedTuple

from fastapi import APIRouter, Body, Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..clock import ManualClock, to_us
from ..errors import ApiError, is_number, is_whole
from ..exchange import Exchange, ExchangeConfig
from ..scenarios import Jump, Scenario, apply_scenario, parse_scenario
from .. import messages as m
from .admin import admin_allowed, state
from .errors import VALIDATION, responses
from .door import BODY_KEY, MAX_RESTORE_BYTES as MAX_SNAPSHOT_BYTES

FORMAT = "pf-mock-snapshot"
VERSION = 1
REPLAYED_HEADERS = (b"authorization", b"x-api-key")
REGISTER = "/v1/agents/register"
UNLOGGED = ("/_mock/snapshot", "/_mock/restore", "/_mock/state", "/_mock/requests", "/_mock/leaderboard")


# ---- the clock a replay sets -------------------------------------------------------------------
class ReplayClock(ManualClock):
    """A manual clock that can also be put at any instant: the replay sets each command's time, and a
    restored manual server goes on with it (``advance`` and ``restart`` as ``ManualClock``)."""

    def __init__(self, start: float, now: float | None = None):
        super().__init__(start)
        if now is not None:
            self.set(now)

    def set(self, t: float) -> None:
        self._now_us = to_us(t)


# ---- the log ------------------------------------------------------------------------------------
class Command(NamedTuple):
    """One logged request. A named tuple (immutable, built in a fraction of a frozen dataclass's time):
    one is made for every request that changes something."""
    time: float
    method: str
    path: str
    query: str
    body: str
    headers: dict[str, str]
    status: int
    digest: str
    issued: dict | None = None      # what a registration issued: {agent_id, api_key} (keys are random)

    def as_list(self) -> list:
        return list(self)


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def scenario_document(scenario: Scenario) -> dict:
    """A checked ``Scenario`` back as the JSON document ``parse_scenario`` reads."""
    markets = {}
    for plan in scenario.markets:
        events = []
        for event in plan.events:
            if isinstance(event, Jump):
                events.append({"at_seconds": event.at_seconds, "type": "jump", "move_bps": event.move_bps})
            else:
                item = {"at_seconds": event.at_seconds, "type": "regime", **event.changes}
                if event.duration_seconds is not None:
                    item["duration_seconds"] = event.duration_seconds
                events.append(item)
        markets[plan.symbol] = {"regime": dict(plan.regime), "events": events}
    document = {"name": scenario.name, "description": scenario.description, "markets": markets}
    if scenario.seed is not None:
        document["seed"] = scenario.seed
    return document


class CommandLog:
    """The state-changing requests since the log began (at the app's start or the last reset).

    Kept without limit (a snapshot must hold every one) but compactly: the newest ``PACK_EVERY`` as
    ``Command`` objects, older ones packed ``PACK_EVERY`` at a time into one zlib-compressed array
    (an agent's requests repeat themselves: a quote a few seconds after the same quote costs some tens
    of bytes there instead of some hundreds as an object). A snapshot unpacks them as it writes them out.
    The array is in ``marshal``'s format, not JSON: it never leaves the process, and writing it is a
    third of the cost (paid once per 256 requests that change something, but by the request that fills
    the block); what comes back out is the same lists, to the bit.
    """

    PACK_EVERY = 256

    def __init__(self, exchange: Exchange):
        self.restart(exchange)

    def restart(self, exchange: Exchange) -> None:
        self.seed = exchange.seed
        self.config = exchange.config
        self.started_at = exchange.started_at
        # What exists before any request: agents the embedding code made itself (the test helpers'),
        # and the scenario the server was started with.
        self.agents = [{"agent_id": a.agent_id, "api_key": a.api_key, "created_at": a.created_at}
                       for a in sorted(exchange.agents.values(), key=lambda a: a.created_at)]
        run = exchange.scenario_run
        self.scenario = ({"document": scenario_document(run.scenario), "loaded_at": run.loaded_at}
                         if run is not None else None)
        self._packed: list[bytes] = []     # each: PACK_EVERY commands' as_list(), marshalled, compressed
        self._recent: list[Command] = []

    def append(self, command: Command) -> None:
        self._recent.append(command)
        if len(self._recent) >= self.PACK_EVERY:
            self._packed.append(zlib.compress(marshal.dumps([c.as_list() for c in self._recent]), 6))
            self._recent = []

    def extend(self, commands) -> None:
        for command in commands:
            self.append(command)

    def as_lists(self) -> list[list]:
        """Every command, oldest first, as the snapshot document writes it."""
        out = [item for block in self._packed for item in marshal.loads(zlib.decompress(block))]
        out.extend(c.as_list() for c in self._recent)
        return out

    def packed_bytes(self) -> int:
        """What the packed commands take (their compressed bytes)."""
        return sum(len(block) for block in self._packed)

    def __len__(self) -> int:
        return len(self._packed) * self.PACK_EVERY + len(self._recent)


def logged(method: str, path: str) -> bool:
    if not (path.startswith("/v1/") or path.startswith("/_mock/")):
        return False            # the page, its feed, /health; /mcp's tool calls are not logged (see README)
    if path in UNLOGGED or path == "/_mock/faults" or path.startswith("/_mock/faults/"):
        return False
    return not (method in ("GET", "HEAD") and path.startswith("/_mock/"))


async def log_changes(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the request through ``app`` and log it if it changed something (innermost of the mock's own
    steps, ``controls.py``: it sees what reached the routes)."""
    if not logged(scope["method"], scope["path"]):
        await app(scope, receive, send)
        return
    state = scope["app"].state
    exchange, log = state.exchange, state.commands
    at, before = exchange.now(), len(exchange.agents)
    status, chunks = 500, []

    async def capture(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
        await send(message)

    await app(scope, receive, capture)
    provisioned = len(exchange.agents) != before
    if scope["path"] == "/_mock/reset" and status < 400:
        return                      # the on_reset hook started the log afresh
    if not provisioned and (status >= 400 or scope["method"] in ("GET", "HEAD")):
        return
    body, _ = scope.get(BODY_KEY, (b"", False))
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())
               if k in REPLAYED_HEADERS}
    answer = b"".join(chunks)
    issued = None
    if scope["path"] == REGISTER and status == 201:
        registered = json.loads(answer)
        issued = {"agent_id": registered["agent_id"], "api_key": registered["api_key"]}
    log.append(Command(at, scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                       body.decode("utf-8"), headers, status, digest(answer), issued))


# ---- the document ---------------------------------------------------------------------------------
def snapshot(exchange: Exchange, log: CommandLog) -> dict:
    clock = exchange.clock
    return {
        "format": FORMAT,
        "version": VERSION,
        "config": {**asdict(log.config), "seed": log.seed},
        "clock": {"mode": clock.mode, "speed": clock.speed, "start": log.started_at, "now": exchange.now()},
        "agents": list(log.agents),
        "scenario": log.scenario,
        "commands": log.as_lists(),
    }


def invalid(message: str, field: str | None = None) -> ApiError:
    detail = {"field": field} if field else {}
    return ApiError(400, "invalid_snapshot", message, **detail)


def _number(doc: dict, key: str, where: str) -> float:
    value = doc.get(key)
    if not is_number(value):
        raise invalid(f"{where}.{key} must be a number.", f"{where}.{key}")
    return float(value)


def check(document: Any) -> dict:
    """The document's parts, checked all through before anything is touched."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise invalid(f"This is not a pf-mock snapshot (its format must be {FORMAT!r}).", "format")
    if document.get("version") != VERSION:
        raise invalid(f"Snapshot version {document.get('version')!r} is not one this pf-mock reads "
                      f"(it reads version {VERSION}).", "version")
    config = document.get("config")
    if not isinstance(config, dict):
        raise invalid("config must be an object.", "config")
    fields = {f: config.get(f) for f in ExchangeConfig.__dataclass_fields__}
    if not (is_whole(fields["seed"]) and fields["seed"] >= 0):
        raise invalid("config.seed must be a whole number, zero or more.", "config.seed")
    if not isinstance(fields["strict_auth"], bool):
        raise invalid("config.strict_auth must be true or false.", "config.strict_auth")
    for name in ("starting_balance", "maker_rebate_bps", "taker_fee_bps"):
        _number(config, name, "config")
    clock = document.get("clock")
    if not isinstance(clock, dict):
        raise invalid("clock must be an object.", "clock")
    start, now = _number(clock, "start", "clock"), _number(clock, "now", "clock")
    if now < start:
        raise invalid("clock.now is before clock.start.", "clock.now")
    agents = document.get("agents")
    if not isinstance(agents, list) or not all(
            isinstance(a, dict) and isinstance(a.get("agent_id"), str) and isinstance(a.get("api_key"), str)
            and is_number(a.get("created_at")) for a in agents):
        raise invalid("agents must be a list of {agent_id, api_key, created_at}.", "agents")
    scenario = document.get("scenario")
    if scenario is not None and not (isinstance(scenario, dict) and isinstance(scenario.get("document"), dict)
                                     and is_number(scenario.get("loaded_at"))):
        raise invalid("scenario must be null or {document, loaded_at}.", "scenario")
    commands = document.get("commands")
    if not isinstance(commands, list):
        raise invalid("commands must be a list.", "commands")
    checked, last = [], start
    for i, item in enumerate(commands):
        where = f"commands.{i}"
        if not (isinstance(item, list) and len(item) == 9):
            raise invalid(f"{where} must be [time, method, path, query, body, headers, status, digest, issued].",
                          where)
        t, method, path, query, body, headers, status, answer, issued = item
        if issued is not None and not (isinstance(issued, dict) and isinstance(issued.get("agent_id"), str)
                                       and isinstance(issued.get("api_key"), str) and path == REGISTER):
            raise invalid(f"{where}: issued must be null or the {{agent_id, api_key}} a registration gave.", where)
        if not (is_number(t) and last <= t <= now):
            raise invalid(f"{where}: its time must be a number, in order, within the clock's span.", where)
        if not (isinstance(method, str) and isinstance(path, str) and path.startswith("/")
                and isinstance(query, str) and isinstance(body, str) and isinstance(answer, str)
                and is_whole(status) and isinstance(headers, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise invalid(f"{where} is not a well-formed command.", where)
        if not logged(method, path):
            raise invalid(f"{where}: {method} {path} is not a command a snapshot holds.", where)
        checked.append(Command(float(t), method, path, query, body, dict(headers), status, answer,
                               None if issued is None else {"agent_id": issued["agent_id"],
                                                            "api_key": issued["api_key"]}))
        last = float(t)
    return {"config": ExchangeConfig(**{**fields, "seed": int(fields["seed"]),
                                        "starting_balance": float(fields["starting_balance"]),
                                        "maker_rebate_bps": float(fields["maker_rebate_bps"]),
                                        "taker_fee_bps": float(fields["taker_fee_bps"])}),
            "mode": clock.get("mode"), "start": start, "now": now, "agents": agents, "scenario": scenario,
            "commands": checked}


# ---- replay ---------------------------------------------------------------------------------------
async def call(app: ASGIApp, command: Command) -> tuple[int, bytes]:
    """One command through ``app``, as a client would send it: its status and answer."""
    body = command.body.encode("utf-8")
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in command.headers.items()]
    headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": command.method,
             "scheme": "http", "path": command.path, "raw_path": command.path.encode("utf-8"),
             "root_path": "", "query_string": command.query.encode("latin-1"), "headers": headers,
             "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)}
    sent = False
    status, chunks = 500, []

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _positioned(live_clock, start: float, now: float):
    """The clock a restored exchange goes on with: the server's own mode, standing (or running) at now."""
    if getattr(live_clock, "mode", "manual") == "manual":
        return ReplayClock(start, now)
    return type(live_clock)(speed=live_clock.speed, start=now)


async def restore(app, document: Any) -> dict:
    """Bring ``app``'s exchange to the state ``document`` describes, in place; all or nothing. The
    replay runs through a private app of its own (``app.state.replay_app(exchange)``)."""
    parts = check(document)
    exchange: Exchange = app.state.exchange
    saved, live_clock = dict(exchange.__dict__), exchange.clock
    began = time.perf_counter()
    try:
        clock = ReplayClock(parts["start"])
        exchange.clock = clock
        exchange.config = parts["config"]
        exchange.reset(parts["config"].seed)
        for agent in parts["agents"]:
            clock.set(float(agent["created_at"]))
            exchange._add_agent(agent["agent_id"], agent["api_key"])
        if parts["scenario"] is not None:
            clock.set(float(parts["scenario"]["loaded_at"]))
            apply_scenario(exchange, parse_scenario(parts["scenario"]["document"], "snapshot scenario"))
        log = CommandLog(exchange)
        replay = app.state.replay_app(exchange)
        exact = parts["mode"] == "manual"
        for i, command in enumerate(parts["commands"]):
            clock.set(command.time)
            if command.issued is not None:
                # A registration's key came from a secure random source: give the agent the same one
                # again (the route's checks passed the first time; the agent is all it made).
                if command.issued["agent_id"] in exchange.agents:
                    raise ApiError(409, "snapshot_diverged", f"Replaying command {i} (POST {REGISTER}) found its "
                                   f"agent already there; nothing was restored.", command=i)
                exchange._add_agent(command.issued["agent_id"], command.issued["api_key"])
                continue
            status, answer = await call(replay, command)
            if status != command.status or (exact and digest(answer) != command.digest):
                raise ApiError(409, "snapshot_diverged",
                               f"Replaying command {i} ({command.method} {command.path}) gave a different answer "
                               f"than the original; nothing was restored.", command=i)
        log.extend(parts["commands"])
        clock.set(parts["now"])
        exchange.clock = _positioned(live_clock, parts["start"], parts["now"])
    except BaseException:
        exchange.__dict__.clear()
        exchange.__dict__.update(saved)
        raise
    app.state.commands = log
    return {"restored": True, "commands": len(log), "replay_seconds": round(time.perf_counter() - began, 3)}


# ---- /_mock/snapshot and /_mock/restore -----------------------------------------------------------
router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)], tags=["mock control"],
                   responses=responses("unauthorized"))


@router.post("/snapshot", response_model=m.Snapshot)
async def take_snapshot(request: Request) -> dict:
    """The whole exchange state as a versioned document (see this module's notes): save it as JSON and
    give it back to ``POST /_mock/restore`` or ``pf-mock serve --restore FILE``."""
    return snapshot(request.app.state.exchange, request.app.state.commands)


@router.post("/restore", response_model=m.Restored, response_model_exclude_unset=True,
             responses=responses(*VALIDATION, "invalid_snapshot", "snapshot_diverged", "payload_too_large"))
async def restore_snapshot(request: Request, document: dict[str, Any] = Body(...)) -> dict:
    """Replace the exchange's state by a snapshot's: 400 ``invalid_snapshot`` for a document this
    pf-mock cannot read, 409 ``snapshot_diverged`` if replaying it does not give the original's
    answers; either way nothing changes."""
    outcome = await restore(request.app, document)
    return {**outcome, **state(request.app.state.exchange)}
