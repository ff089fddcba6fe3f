"""httpx transports that hand each request to the app in the same thread, with no socket.

A simulation runs the maker, the app and the exchange in one thread: the maker's client sends a
request, the app answers it, and the call returns, with no second thread (so the exchange keeps its
one owner). Two ways, for a maker that brings its own httpx client (as the seed's does):

- ``DirectHttpTransport`` (``--transport auto``): the request goes to the route's handler itself
  through ``pf_mock.api.direct.DirectTransport`` -- the same handlers, models and errors, without the
  ASGI stack and its middleware (journal, faults, rate limit), which a simulation's one trusted maker
  does not need. About three times cheaper per request than the whole stack.
- ``InProcessTransport`` (``--transport http``): the whole ASGI app on an event loop of its own,
  middleware included. Starlette's ``TestClient`` does the same through a thread portal, several
  times slower per request.
"""

from __future__ import annotations

import asyncio
import json

import httpx

from ..api.direct import DirectTransport
from ..client.core import Call


class DirectHttpTransport(httpx.BaseTransport):
    """Serve an httpx client's requests with the app's route handlers, called directly."""

    def __init__(self, app) -> None:
        self._direct = DirectTransport(app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        try:
            body = json.loads(content) if content else None
        except ValueError:
            return _json(request, 400, {"error": "invalid_request", "message": "The body is not JSON."})
        params = dict(request.url.params) or None
        call = Call(request.method, request.url.path, params=params, json=body)
        raw = self._direct.send(call, dict(request.headers))
        if isinstance(raw.body, (bytes, bytearray)):
            return httpx.Response(raw.status, content=raw.body, request=request,
                                  headers={"content-type": "application/json"})
        return _json(request, raw.status, raw.body)

    def close(self) -> None:
        self._direct.close()


def _json(request: httpx.Request, status: int, body) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(body).encode(), request=request,
                          headers={"content-type": "application/json"})


class InProcessTransport(httpx.BaseTransport):
    """Serve requests with ``app`` (an ASGI application) on an event loop of this transport's own."""

    def __init__(self, app) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()

    async def _serve(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body,
                              request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._loop.run_until_complete(self._serve(request))

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._inner.aclose())
            self._loop.close()
