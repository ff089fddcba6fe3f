"""A transport for the typed client that calls the app's route handlers directly, without HTTP.

A simulated day of quoting is some 80,000 requests. Through the HTTP stack in process each costs ~2 ms
(routing, middleware, validation, two JSON round trips) -- minutes of wall time for nothing the lesson
needs. This transport finds the route a request names in the FastAPI app's own route table, builds the
handler's arguments the way FastAPI would (the same body and parameter models, the same dependencies:
the key's agent, the exchange), awaits the very same handler and hands its answer to the client, which
reads it into the same response model. Errors come back in the contract's shape. What it skips is the
app's middleware (the request journal, fault injection, rate limiting, the body size check): the
simulation's maker is trusted and alone. ``tests/test_simulate.py`` checks that a run through it and a
run through real HTTP give the same report. It lives in the HTTP package because it drives the app's
own routes; ``pf-mock simulate`` is its user.
"""

from __future__ import annotations

import inspect
import json
import typing
from typing import Any

from fastapi import params as fastapi_params
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.routing import compile_path

from ..client.core import Call, Raw
from ..errors import ApiError


def _is_body_type(annotation: Any) -> bool:
    for candidate in (annotation, *typing.get_args(annotation)):
        if inspect.isclass(candidate) and (issubclass(candidate, BaseModel)
                                           or hasattr(candidate, "__pydantic_fields__")):
            return True
    return False


def _api_routes(routes, prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path. Newer FastAPI keeps an included router as a wrapper
    (``original_router`` plus an include prefix) instead of copying its routes into the app's list."""
    found = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            found.extend(_api_routes(inner.routes, prefix + (getattr(context, "prefix", "") or "")))
        elif isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
    return found


# How each of a handler's parameters is filled (worked out once per route, not per request).
DEPEND, REQUEST, PATH, BODY, QUERY = range(5)


class _Handler:
    def __init__(self, path: str, route: APIRoute):
        self.route = route
        self.methods = route.methods
        self.regex, _, self.convertors = compile_path(path)
        self.endpoint = route.endpoint
        self.status = route.status_code or 200
        hints = typing.get_type_hints(route.endpoint)
        self.args: list[tuple[str, int, Any, Any]] = []     # (name, how, annotation or dependency, default)
        for p in inspect.signature(route.endpoint).parameters.values():
            annotation = hints.get(p.name, Any)
            if isinstance(p.default, fastapi_params.Depends):
                self.args.append((p.name, DEPEND, p.default.dependency, None))
            elif annotation is Request:
                self.args.append((p.name, REQUEST, None, None))
            elif p.name in self.regex.groupindex:
                self.args.append((p.name, PATH, None, None))
            elif _is_body_type(annotation):
                self.args.append((p.name, BODY, annotation, None))
            else:
                default = p.default.default if isinstance(p.default, fastapi_params.Param) else p.default
                self.args.append((p.name, QUERY, annotation, default))


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
        self._routes = [_Handler(path, route) for path, route in _api_routes(app.router.routes)]
        self._adapters: dict[Any, TypeAdapter] = {}
        self._signatures: dict[Any, inspect.Signature] = {}
        self._found: dict[tuple[str, str], tuple[_Handler, dict]] = {}

    def _adapter(self, annotation: Any) -> TypeAdapter:
        adapter = self._adapters.get(annotation)
        if adapter is None:
            adapter = self._adapters[annotation] = TypeAdapter(annotation)
        return adapter

    def _find(self, method: str, path: str) -> tuple[_Handler, dict] | None:
        key = (method, path)
        found = self._found.get(key)
        if found is None:
            for handler in self._routes:
                match = handler.regex.match(path)
                if match and method in handler.methods:
                    values = {name: handler.convertors[name].convert(value)
                              for name, value in match.groupdict().items()}
                    found = (handler, values)
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
        handler, path_values = found
        scope = {"type": "http", "app": self.app, "method": call.method, "path": call.path, "query_string": b"",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "state": {}}
        request = Request(scope)
        try:
            result = _run(self._invoke(handler, request, path_values, call))
        except ApiError as exc:
            return Raw(exc.status, {}, exc.body())
        if isinstance(result, Response):
            # A 2xx body goes to the client as the JSON bytes the route wrote: it reads them straight
            # into its answer model (one pass, no dict in between).
            ok = 200 <= result.status_code < 300
            body = (result.body if ok else json.loads(result.body)) if result.body else None
            return Raw(result.status_code, result.headers, body)
        return Raw(handler.status, {}, result)

    async def _invoke(self, handler: _Handler, request: Request, path_values: dict, call: Call) -> Any:
        kwargs: dict[str, Any] = {}
        cache: dict[Any, Any] = {}
        query = call.params or {}
        for name, how, kind, default in handler.args:
            if how == DEPEND:
                kwargs[name] = await self._depend(kind, request, cache)
            elif how == REQUEST:
                kwargs[name] = request
            elif how == PATH:
                kwargs[name] = path_values[name]
            elif how == BODY:
                kwargs[name] = self._validate(kind, call.json, name)
            elif name in query:
                kwargs[name] = self._validate(kind, query[name], name)
            elif default is not inspect.Parameter.empty:
                kwargs[name] = default
        return await handler.endpoint(**kwargs)

    def _validate(self, annotation: Any, value: Any, name: str) -> Any:
        try:
            return self._adapter(annotation).validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(x) for x in first.get("loc", ())) or name
            raise ApiError(400, "invalid_request", f"{field}: {first.get('msg', 'invalid value')}.",
                           field=field) from None

    async def _depend(self, dependency, request: Request, cache: dict) -> Any:
        if dependency in cache:
            return cache[dependency]
        kwargs = {}
        signature = self._signatures.get(dependency)
        if signature is None:
            signature = self._signatures[dependency] = inspect.signature(dependency)
        for p in signature.parameters.values():
            if isinstance(p.default, fastapi_params.Depends):
                kwargs[p.name] = await self._depend(p.default.dependency, request, cache)
            else:
                kwargs[p.name] = request
        value = dependency(**kwargs)
        if inspect.isawaitable(value):
            value = await value
        cache[dependency] = value
        return value

    def close(self) -> None:
        pass
