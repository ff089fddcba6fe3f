"""The request journal behind ``GET /_mock/requests``: what clients sent and what they were answered.

Every request outside ``/_mock`` is recorded when it arrives, in arrival order, with the mock time, the
method, path, query and body, and, once it is answered, the status it got (also the ones a fault rule
or the rate limit answered) and the agent its API key belongs to (null without a key, or for a key the
exchange does not know, such as a malformed one). The journal keeps the last ``capacity`` (10,000)
requests; ``POST /_mock/reset`` empties it.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query, Request
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import messages as m
from ..clock import to_ms
from .admin import ADMIN, admin_allowed, is_admin_path
from .deps import api_key
from .errors import VALIDATION, responses

CAPACITY = 10_000
MAX_TEXT_CHARS = 65_536     # a body that is not JSON is kept as text, cut to this many characters


def _no_constants(name: str):
    raise ValueError(name)      # NaN and Infinity are not JSON, and could not be answered as JSON


def parse_body(raw: bytes) -> Any:
    """The body as the journal shows it: parsed JSON if it is JSON, else text, else (empty) None."""
    if not raw:
        return None
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except ValueError:      # not JSON (UnicodeDecodeError and JSONDecodeError are both ValueErrors)
        return raw.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]


def parse_query(query_string: bytes) -> dict[str, str | list[str]]:
    """``a=1&b=2&b=3`` -> ``{"a": "1", "b": ["2", "3"]}``: one value as a string, repeated ones as a list."""
    query: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name not in query:
            query[name] = value
        elif isinstance(query[name], list):
            query[name].append(value)
        else:
            query[name] = [query[name], value]
    return query


@dataclass
class Entry:
    time_ms: int
    method: str
    path: str
    query: dict
    body: Any
    key: str | None             # the API key sent, to find the agent when the answer is known
    agent_id: str | None = None
    status: int | None = None   # None while the request is still being answered

    def view(self) -> dict:
        return {"time": self.time_ms, "agent": self.agent_id, "method": self.method, "path": self.path,
                "query": self.query, "body": self.body, "status": self.status}


class Journal:
    """The last ``capacity`` requests, oldest first."""

    def __init__(self, capacity: int = CAPACITY):
        self.entries: deque[Entry] = deque(maxlen=capacity)

    def record(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        return entry

    def clear(self) -> None:
        self.entries.clear()

    def select(self, agent: str | None = None, limit: int | None = None) -> list[Entry]:
        """The entries of ``agent`` (all when None), oldest first; with ``limit``, only the newest ones."""
        chosen = [e for e in self.entries if agent is None or e.agent_id == agent]
        return chosen[-limit:] if limit is not None else chosen

    def __len__(self) -> int:
        return len(self.entries)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class RequestJournal:
    """ASGI middleware, outermost of the mock's own: reads the body (and hands it on unchanged), and
    notes the final status, whoever gave it."""

    def __init__(self, app: ASGIApp, journal: Journal):
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_admin_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        exchange = scope["app"].state.exchange
        raw = await _read_body(receive)
        entry = self.journal.record(Entry(
            time_ms=to_ms(exchange.now()), method=scope["method"], path=scope["path"],
            query=parse_query(scope.get("query_string", b"")), body=parse_body(raw),
            key=api_key(HTTPConnection(scope))))

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        async def note_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        try:
            await self.app(scope, replay, note_status)
        except BaseException:
            if entry.status is None:
                entry.status = 500      # the server's last-resort handler answers it
            raise
        finally:
            found = exchange.agent_for_key(entry.key) if entry.key else None
            entry.agent_id = found.agent_id if found is not None else None


# ---- /_mock/requests ---------------------------------------------------------------------------
router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)], tags=["mock control"], responses=ADMIN)


@router.get("/requests", response_model=m.Journal, responses=responses(*VALIDATION))
async def requests(request: Request, agent: str | None = None,
                   limit: int | None = Query(None, ge=1, le=10**9)) -> dict:
    """The requests received outside ``/_mock``, OLDEST FIRST (newest last), each ``{time (mock ms),
    agent (agent_id or null), method, path, query, body (parsed JSON, else text, else null), status
    (null while still being answered)}``. ``agent`` keeps one agent's; ``limit`` keeps the newest
    ``limit`` of those (still oldest first)."""
    entries = request.app.state.journal.select(agent, limit)
    return {"requests": [e.view() for e in entries], "count": len(entries)}
