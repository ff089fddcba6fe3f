"""How a request reaches its route's handler, for the API's plain routes, without the parts of
FastAPI's general machinery that these routes never use.

Two shortcuts, each one taking the general path whenever it cannot be sure of giving the same answer:

- ``FixedPaths``: the router tries the app's routes one after another, a regular expression each, and
  ``POST /v1/mm/quote`` was the fifteenth (a tenth of the layer's own time in a cancel+quote pair). A
  route whose path has no parameters is found here by one dict lookup instead, first in the list.
  A path is indexed only when no route before it could match it, so the route found is the one the
  scan would have found; anything else (parameters, a wrong method, no route) goes on to the scan.

- ``PlainRoute``: a route that takes only the ``Request``, its path parameters and at most one JSON
  body model, and answers a ``Response`` itself (``reply``), has no dependencies, query parameters,
  headers or cookies to solve. Its handler reads the body as FastAPI would (``json.loads`` of the
  bytes), validates it with the very validator FastAPI built for the route, and calls the endpoint.
  Whenever anything is not plain (no body, not JSON, a validation error, a path parameter that does
  not validate) it hands the request to FastAPI's own handler, which answers exactly as before: the
  error answers come from one place only. (What it also skips is FastAPI's own telemetry hooks for
  the body and the parameters, which nothing here turns on.) Profiled in process with the exchange
  stubbed out, the two shortcuts took a cancel+quote pair from ~950 to ~600 µs of CPU;
  ``tests/test_plain_routes.py`` holds both to FastAPI's own bytes.
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Callable

from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

JSON_TYPE = "application/json"


class PlainRoute(APIRoute):
    """An ``APIRoute`` whose handler skips dependency solving when the route has nothing to solve."""

    def get_route_handler(self) -> Callable:
        general = super().get_route_handler()
        plan = _plan(self)
        if plan is None:
            return general
        endpoint, request_name, path_fields, body = plan

        async def handler(request: Request) -> Response:
            kwargs: dict[str, Any] = {request_name: request}
            for name, alias, field in path_fields:
                value, errors = field.validate(request.path_params.get(alias), {}, loc=("path", alias))
                if errors:
                    return await general(request)
                kwargs[name] = value
            if body is not None:
                name, field = body
                raw = await request.body()
                if not raw or request.headers.get("content-type") != JSON_TYPE:
                    return await general(request)
                try:
                    data = json.loads(raw)
                except Exception:       # not JSON, too deep, an integer too long: FastAPI says which
                    return await general(request)
                if not isinstance(data, dict):
                    return await general(request)
                value, errors = field.validate(data, {}, loc=("body",))
                if errors:
                    return await general(request)
                kwargs[name] = value
            return await endpoint(**kwargs)

        return handler


def _plan(route: APIRoute):
    """``(endpoint, request parameter, [(name, alias, field)] of path parameters, (name, field) of the
    body or None)`` when the route is plain (see the module's docstring), else None. Reads FastAPI's
    description of the route; a FastAPI that describes it differently simply gets no shortcut."""
    try:
        dependant = route.dependant
        endpoint = route.endpoint
        if (dependant.query_params or dependant.header_params or dependant.cookie_params or dependant.dependencies
                or getattr(dependant, "security_requirements", None) or dependant.background_tasks_param_name
                or dependant.response_param_name or dependant.websocket_param_name
                or getattr(dependant, "http_connection_param_name", None)
                or getattr(dependant, "security_scopes_param_name", None)
                or dependant.request_param_name is None or len(dependant.body_params) > 1
                or getattr(route, "_embed_body_fields", True)):
            return None
        if not inspect.iscoroutinefunction(endpoint) or inspect.signature(endpoint).return_annotation not in (
                Response, "Response"):
            return None
        path_fields = [(p.name, p.alias, p) for p in dependant.path_params]
        body = None
        if dependant.body_params:
            field = route.body_field
            if field is None or not hasattr(field, "validate"):
                return None
            body = (dependant.body_params[0].name, field)
        return endpoint, dependant.request_param_name, path_fields, body
    except AttributeError:
        return None


class FixedPaths(BaseRoute):
    """First in the app's route list: the routes of parameter-free paths, found by their path."""

    def __init__(self, routes: list[BaseRoute]):
        self.by_path: dict[str, list[APIRoute]] = {}
        for i, route in enumerate(routes):
            if not isinstance(route, APIRoute) or "{" in route.path:
                continue
            path = route.path
            # Only when no route before it could match the path (so the scan would reach it too).
            if any(_could_match(earlier, path) for earlier in routes[:i]
                   if earlier not in self.by_path.get(path, ())):
                continue
            self.by_path.setdefault(path, []).append(route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and not scope.get("root_path"):
            for route in self.by_path.get(scope["path"], ()):
                match, child_scope = route.matches(scope)
                if match == Match.FULL:
                    return match, child_scope
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope["route"].handle(scope, receive, send)       # the route ``matches`` found (APIRoute sets it)

    def url_path_for(self, name: str, /, **path_params: Any):
        raise NoMatchFound(name, path_params)        # the routes it finds answer for themselves, later in the list


def _could_match(route: BaseRoute, path: str) -> bool:
    regex = getattr(route, "path_regex", None)
    return regex is None or regex.match(path) is not None        # unknown kinds of route: assume they could


def index_fixed_paths(routes: list[BaseRoute]) -> None:
    """Put a ``FixedPaths`` for ``routes`` first among them (once, after every route is added)."""
    routes[:] = [r for r in routes if not isinstance(r, FixedPaths)]
    routes.insert(0, FixedPaths(routes))
