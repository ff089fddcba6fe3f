"""A transport for the typed client that calls the app's route handlers directly, without HTTP.

A simulated day of quoting is some 80,000 requests. Through the HTTP stack in process each costs ~2 ms
(routing, middleware, validation, two JSON round trips) -- minutes of wall time for nothing the lesson
needs. This transport finds the route a request names in the FastAPI app's own route table, fills the
handler's arguments through the same ``routing.Binding`` the HTTP shortcut uses (the same body and
parameter models with their constraints), awaits
the very same handler and hands its answer to the client, which reads it into the same response model.
Errors come back in the contract's shape, worded as over HTTP (``errors.invalid_request_from``). What it
skips is the app's middleware (the request journal, fault injection, rate limiting, the body size
check): the simulation's maker is trusted and alone.
``tests/test_simulate.py`` checks that a run through it and a run through real HTTP give the same
report. It lives in the HTTP package because it drives the app's own routes; ``pf-mock simulate`` is
its user.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import Match

from ..client.core import Call, Raw
from ..errors import ApiError, invalid_request_from
from .routing import Binding, Unbound


def _run(coroutine) -> Any:
    """Drive a handler's coroutine to its end in this thread, without an event loop. The API's
    handlers never wait on anything but a bare yield (``asyncio.sleep(0)``, between the slices of a long
    advance, where a server would let other requests in); here there are no others, so it goes on.
    A loop per request (a task, a turn of the selector) cost a fifth of a simulated request."""
    try:
        while True:
            if coroutine.send(None) is not None:
                coroutine.close()
                raise RuntimeError("a route waited on a future: the direct transport serves only routes "
                                   "that never wait (use --transport http)")
    except StopIteration as done:
        return done.value


class DirectTransport:
    """``send(call, headers)`` for ``pf_mock.client.Client``: the app's handlers, called in this thread."""

    def __init__(self, app):
        self.app = app
        self._routes = [(route, Binding(route.endpoint, route.param_convertors))
                        for route in app.router.routes if isinstance(route, APIRoute)]
        self._found: dict[tuple[str, str], tuple[APIRoute, Binding, dict]] = {}

    def _find(self, method: str, path: str) -> tuple[APIRoute, Binding, dict] | None:
        key = (method, path)
        found = self._found.get(key)
        if found is None:
            scope = {"type": "http", "method": method, "path": path}
            for route, binding in self._routes:
                match, child = route.matches(scope)     # the route's own matching, as the app's router does
                if match == Match.FULL:
                    found = (route, binding, child["path_params"])
                    break
            if found is None:
                return None
            if len(self._found) < 4096:
                self._found[key] = found
        return found

    def send(self, call: Call, headers: dict[str, str]) -> Raw:
        found = self._find(call.method, call.path)
        if found is None:
            return Raw(404, {}, {"error": "not_found", "message": f"No route {call.method} {call.path}."})
        route, binding, path_values = found
        scope = {"type": "http", "app": self.app, "method": call.method, "path": call.path, "query_string": b"",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "state": {}}
        request = Request(scope)
        try:
            result = _run(self._invoke(route, binding, request, path_values, call))
        except ApiError as exc:
            return Raw(exc.status, {}, exc.body())
        if isinstance(result, Response):
            # A 2xx body goes to the client as the JSON bytes the route wrote: it reads them straight
            # into its answer model (one pass, no dict in between).
            ok = 200 <= result.status_code < 300
            body = (result.body if ok else json.loads(result.body)) if result.body else None
            return Raw(result.status_code, result.headers, body)
        return Raw(route.status_code or 200, {}, result)

    async def _invoke(self, route: APIRoute, binding: Binding, request: Request, path_values: dict, call: Call) -> Any:
        try:
            kwargs = binding.arguments(request, path_values, call.json, call.params or {})
        except Unbound as exc:
            raise invalid_request_from(exc.error) from None     # worded as HTTP words it
        return await route.endpoint(**kwargs)

    def close(self) -> None:
        pass
