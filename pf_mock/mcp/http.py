"""Streamable HTTP at ``/mcp`` on the pf-mock server itself.

``McpEndpoint`` is the app's outermost middleware: a request to ``/mcp`` is answered by the MCP server,
every other request goes on to the API untouched. A tool call then sends its route's request back into
the same app through ``httpx.ASGITransport``, awaited on the server's own event loop, carrying the
caller's ``Authorization`` / ``X-API-Key`` (and ``X-Admin-Token``) headers. So the key, the rate limit,
fault rules and the journal apply to a tool call exactly as to the REST request it stands for, and the
``/mcp`` request itself is not counted twice.

The SDK's session manager runs in stateless mode, one per ``/mcp`` request: a tool call needs no
session (the state lives in the exchange, keyed by the API key), and nothing has to be started with the
app, so ``/mcp`` works the same under uvicorn (which pf-mock runs with ``lifespan="off"``), FastAPI's
``TestClient`` and ``httpx.ASGITransport``. The SDK (the ``mcp`` extra) is imported on the first ``/mcp``
request, so a server nobody asks for MCP does not pay for loading it (nor httpx, which only the tool
calls use); without it, ``/mcp`` answers 501 ``mcp_unavailable`` in the contract's error shape.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any, Awaitable, Callable

from ..api import callers
from ..api.door import replaying
from ..api.errors import error_response

PATH = "/mcp"
FORWARDED = ("authorization", "x-api-key", "x-admin-token")
INNER_BASE = "http://pf-mock"       # the in-process requests' base URL (never resolved)

log = logging.getLogger("pf_mock")

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


class McpEndpoint:
    """ASGI middleware serving ``/mcp``; ``api`` is the whole app, which tool calls go back into."""

    def __init__(self, app: ASGIApp, api: ASGIApp, admin: bool = False):
        self.app = app
        self.api = api
        self.admin = admin
        self.server = None      # built on the first /mcp request

    @asynccontextmanager
    async def _client_for(self, ctx):
        request = getattr(ctx, "request", None)
        headers = {}
        client = ("127.0.0.1", 0)
        if request is not None:
            headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
            client = tuple(request.scope.get("client") or client)
        import httpx

        transport = httpx.ASGITransport(app=self.api, raise_app_exceptions=False, client=client)
        async with httpx.AsyncClient(transport=transport, base_url=INNER_BASE, headers=headers) as inner:
            yield inner

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != PATH:
            await self.app(scope, receive, send)
            return
        # Who may call (api/callers.py): /mcp is answered before the API's own layer, so it checks here.
        options = getattr(getattr(self.api, "state", None), "options", None)
        allowed = frozenset(callers.host_name(h) for h in getattr(options, "allow_hosts", ()))
        turned_away = callers.refusal(scope, allowed)
        if turned_away is not None:
            await turned_away(scope, receive, send)
            return
        if scope["method"] != "POST":
            # Stateless: no stream of server-initiated messages to GET (the spec's answer is 405) and no
            # session to DELETE. (The SDK would hold a GET open forever, for messages that never come.)
            response = error_response(405, "method_not_allowed", f"{scope['method']} is not allowed on {PATH}; "
                                                                 "MCP messages are POSTed.", headers={"Allow": "POST"})
            await response(scope, receive, send)
            return
        try:
            from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

            from .server import build_server
        except ImportError:
            response = error_response(501, "mcp_unavailable", "This pf-mock was installed without MCP; install "
                                                              "it with the mcp extra: pip install 'pf-mock[mcp]'.")
            await response(scope, receive, send)
            return
        if self.server is None:
            self.server = build_server(self._client_for, admin=self.admin)
        # The body is read here, so that a client that goes away before sending all of it costs one line
        # of log at most (the SDK logs a traceback for that), and the SDK is handed it whole.
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                log.debug("a client went away before its /mcp request was read")
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        manager = StreamableHTTPSessionManager(app=self.server, stateless=True, json_response=True)
        async with manager.run():
            await manager.handle_request(scope, replaying(b"".join(chunks), receive), send)


def install(app, admin: bool = False) -> None:
    """Serve ``/mcp`` on ``app`` (a pf-mock API app, before it first serves), with the ``/_mock`` tools if
    ``admin``."""
    app.add_middleware(McpEndpoint, api=app, admin=admin)
