"""The mock's own work on every request, as ONE ASGI layer: who may call, the door, the request journal,
the rate limit (when on), the last resort, fault injection, JSON bodies and the exchange's turns.

As one layer a request pays one wrapper for all of them (as nine stacked middlewares it would be wrapped,
and its ``send`` too, at each), and a feature that is off costs nothing (no fault rules: no draw; no
rate limit: no bucket and no headers). From the outside in:

0. who may call (``callers.py``): a ``Host`` the server does not answer to is 400 ``bad_host``, a
   state-changing request from another site's page 403 ``forbidden_origin``, before anything else;
   ``HEAD`` is answered as ``GET`` without the body;
1. the door reads the body (bounded, ``door.read_body``) and judges it (``door.refusal``);
2. the journal records the request and notes the status of whatever answers it, the door's refusal,
   the rate limit's 429, a fault's and the last resort's 500 included (``/_mock`` is not journaled);
3. the rate limit counts the request before anything else answers it and puts its headers on every
   answer, a crash's included (``/_mock`` is not limited). A request draws on its key's bucket only
   when the key is an agent's; any other draws on its client address's (``Serving.spend``);
4. the last resort turns a crash into a 500 in the error shape that keeps the connection open;
5. the door's refusal is answered;
6. fault rules delay or answer API requests (``/_mock`` is never faulted: ``Serving.fault``);
7. a body without a Content-Type (an empty one: the door refuses any other) is read as JSON;
8. a request that touches the exchange (``turns.needs_turn``) waits for its turn, which begins with a
   realtime clock's catch-up when the markets are far behind (``turns.py``). Its answer is WRITTEN AFTER
   THE TURN ENDS: the route's answer is kept while it holds the turn and sent once the turn is handed
   on, so a client that does not read its answers (its socket's buffers full) holds up only its own
   connection.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ApiError
from ..journal import Entry
from ..ratelimit import Verdict
from ..serving import Serving, is_admin_path
from ..turns import catch_up_in_slices, needs_turn, turn
from . import callers
from .deps import api_key
from .door import BODY_METHODS, GONE_KEY, read_body, refusal, replaying
from .errors import error_answer, internal_error

log = logging.getLogger("pf_mock")

JSON = (b"content-type", b"application/json")


def limit_headers(verdict: Verdict) -> dict[str, str]:
    """The rate limit's answer headers: the limit, what is left, when it is full again (and, refused,
    when to retry)."""
    headers = {"X-RateLimit-Limit": str(verdict.limit), "X-RateLimit-Remaining": str(verdict.remaining),
               "X-RateLimit-Reset": str(verdict.reset_at)}
    if not verdict.allowed:
        headers["Retry-After"] = str(verdict.retry_after)
    return headers


class MockControls:
    """ASGI middleware: the steps of the module's docstring, in that order."""

    def __init__(self, app: ASGIApp, serving: Serving, allow_hosts: frozenset[str] = frozenset()):
        self.app = app
        self.serving = serving
        self.allow_hosts = frozenset(callers.host_name(name) for name in allow_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # 0. Who may call, before anything reads the request.
        turned_away = callers.refusal(scope, self.allow_hosts)
        if turned_away is not None:
            await turned_away(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope, send = dict(scope, method="GET"), without_body(send)
        # 1. The door.
        body, too_large = await read_body(scope, receive)
        if scope.get(GONE_KEY):
            return      # the client went away before its body was all in: nobody to answer, nothing done
        refused = refusal(scope, body, too_large)
        receive = replaying(body, receive)
        if is_admin_path(scope["path"]):
            await self._guarded(scope, receive, send, refused, None, None)
            return
        # 2. The journal.
        serving = self.serving
        connection = HTTPConnection(scope)
        key = api_key(connection)
        entry = serving.journaled(scope["method"], scope["path"], scope.get("query_string", b""), body, key)

        try:
            # 3. The rate limit.
            verdict = serving.spend(key, connection.client.host if connection.client else None)
            if verdict is not None and not verdict.allowed:     # refused, its headers already on the answer
                await self._guarded(scope, receive, send, error_answer(verdict.refusal(), limit_headers(verdict)),
                                    None, entry)
                return
            await self._guarded(scope, receive, send, refused, verdict, entry)
        except BaseException:
            if entry.status is None:
                entry.status = 500      # the server's last-resort handler answers it
            raise
        finally:
            serving.answered(entry)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, refused, verdict, entry: Entry | None) -> None:
        """Steps 4 to 8, with the rate limit's headers (``verdict``) on whatever answers, and its status
        noted in the journal's ``entry`` (one wrapper of ``send`` for both). ``refused``: an answer already
        decided (the door's refusal, or the rate limit's 429 with its headers), else None."""
        started = False

        async def answer(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if verdict is not None:
                    message.setdefault("headers", [])
                    headers = MutableHeaders(scope=message)
                    for name, value in limit_headers(verdict).items():
                        headers[name] = value
                if entry is not None:
                    entry.status = message["status"]
            await send(message)

        # 4. The last resort: a bug in a route answers 500 ``internal_error`` in the contract's shape,
        # journaled and with the rate-limit headers like any answer, and the exception goes no further,
        # so the client's keep-alive connection stays usable. Only when the answer had already begun does
        # it go on, since nothing more can be said on that connection.
        try:
            if refused is not None:                         # 5. the door's refusal (or the 429)
                await refused(scope, receive, answer)
                return
            await self._inner(scope, receive, answer)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await internal_error()(scope, receive, answer)

    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Steps 6 to 8."""
        fault = await self.serving.fault(scope["method"], scope["path"])     # 6. fault rules
        if fault is not None:
            await JSONResponse(fault.body, status_code=fault.status)(scope, receive, send)    # {error, message}
            return
        if scope["method"] in BODY_METHODS:                                 # 7. JSON bodies
            scope = dict(scope, headers=[h for h in scope["headers"] if h[0] != JSON[0]] + [JSON])
        if not needs_turn(scope["path"]):
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        held: list[Message] = []        # the answer, kept while the request holds the turn

        async def hold(message: Message) -> None:
            held.append(message)

        async with turn(state):         # 8. one request at a time touches the exchange, in arrival order
            try:                        # a realtime clock far ahead of the markets: catch up first
                await catch_up_in_slices(state.exchange, state)
            except ApiError as stopping:
                await error_answer(stopping)(scope, receive, hold)
            else:
                await self.app(scope, receive, hold)
        for message in held:            # written once the turn is handed on: a slow reader waits alone
            await send(message)


def without_body(send: Send) -> Send:
    """``send`` for a ``HEAD`` request answered as ``GET``: the status and headers (``Content-Length``
    included, as ``GET`` would say it), and an empty body, ended at the first body message (a stream,
    such as the push feed's, would never end by itself); whatever follows is dropped."""
    ended = False

    async def head(message: Message) -> None:
        nonlocal ended
        if message["type"] == "http.response.body":
            if ended:
                return
            ended = True
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return head
