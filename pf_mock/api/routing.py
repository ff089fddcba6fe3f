"""How a request reaches its route's handler: one reading of each handler's parameters (``Binding``),
used by the API's plain routes over HTTP and by the in-process transport (``direct.py``), and an index
of the parameter-free paths. Public APIs only: the endpoint's signature, pydantic's ``TypeAdapter``,
FastAPI's documented ``APIRoute.get_route_handler`` extension point and parameter classes.

- ``Binding``: read once from a handler's signature, what fills each parameter: the ``Request``, a path
  parameter, the JSON body, a query parameter or a dependency, each with a ``TypeAdapter`` of its
  annotation and its declared constraints (``Query(ge=...)``, ``Path(...)``). A route is *plain* when its
  handler takes only the ``Request``, its path parameters and at most one body model, and answers a
  ``Response`` itself (``reply``): nothing to solve. ``Binding.arguments`` fills the handler's arguments
  from a request's parts, for both users: the one way a handler is reached without FastAPI's solving.

- ``PlainRoute``: a plain route's handler reads the body as FastAPI would (``json.loads`` of the bytes),
  validates it with pydantic's public ``TypeAdapter.validate_python`` (what FastAPI itself calls) and
  calls the endpoint. Whenever anything is not plain (no body, not JSON, a validation error, a path
  parameter that does not validate) it hands the request to FastAPI's own handler, which answers exactly
  as before: the error answers come from one place only. ``tests/test_plain_routes.py`` holds both to
  FastAPI's own bytes.

- ``FixedPaths``: a route whose path has no parameters is found by one dict lookup, before the scan that
  tries a regular expression per route; a path is indexed only when no earlier route could match it, so
  the route found is the one the scan would find. Anything else goes on to the scan.
"""

from __future__ import annotations

import inspect
import json
import typing
from typing import Annotated, Any, Callable, Mapping

from fastapi import params
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.dataclasses import is_pydantic_dataclass
from pydantic_core import PydanticUndefined
from starlette.requests import Request
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

JSON_TYPE = "application/json"

# What fills a handler's parameter.
REQUEST, PATH, BODY, QUERY, DEPEND = range(5)


def _is_model(annotation: Any) -> bool:
    """A pydantic model or pydantic dataclass (``messages.py`` declares both), or an optional one."""
    return any(inspect.isclass(t) and (issubclass(t, BaseModel) or is_pydantic_dataclass(t))
               for t in (annotation, *typing.get_args(annotation)))


class Binding:
    """A handler's parameters, read once from its signature: ``params`` is a list of ``(name, how,
    what, default)``: ``how`` one of REQUEST, PATH, BODY, QUERY, DEPEND; ``what`` the ``TypeAdapter`` that
    validates the value (with the parameter's declared constraints), or the dependency to call."""

    def __init__(self, endpoint: Callable, path_names: typing.Iterable[str]):
        self.endpoint = endpoint
        path_names = set(path_names)
        hints = typing.get_type_hints(endpoint, include_extras=True)
        signature = inspect.signature(endpoint)
        self.params: list[tuple[str, int, Any, Any]] = []
        embedded = False
        for p in signature.parameters.values():
            annotation, default = hints.get(p.name, Any), p.default
            if isinstance(default, params.Depends):
                self.params.append((p.name, DEPEND, default.dependency, None))
            elif annotation is Request:
                self.params.append((p.name, REQUEST, None, None))
            elif p.name in path_names:
                declared = Annotated[annotation, default] if isinstance(default, params.Param) else annotation
                self.params.append((p.name, PATH, TypeAdapter(declared), None))
            elif isinstance(default, params.Body) or _is_model(annotation):
                embedded = embedded or bool(getattr(default, "embed", False))
                self.params.append((p.name, BODY, TypeAdapter(annotation),
                                    default.default if isinstance(default, params.Body) else default))
            elif isinstance(default, params.Param):
                self.params.append((p.name, QUERY, TypeAdapter(Annotated[annotation, default]), default.default))
            else:
                self.params.append((p.name, QUERY, TypeAdapter(annotation), default))
        kinds = [how for _, how, _, _ in self.params]
        self.takes_body = BODY in kinds
        self.plain = (kinds.count(REQUEST) == 1 and QUERY not in kinds and DEPEND not in kinds
                      and kinds.count(BODY) <= 1 and not embedded and inspect.iscoroutinefunction(endpoint)
                      and signature.return_annotation in (Response, "Response"))

    def arguments(self, request: Request, path: Mapping[str, Any], body: Any, query: Mapping[str, Any]) -> dict:
        """The handler's arguments: the request, and each path, body and query value validated by its
        adapter (a body or query value not given takes the parameter's default). Raises ``Unbound`` for
        the first value that is wrong or missing, ``TypeError`` for a dependency (FastAPI's to solve)."""
        kwargs: dict[str, Any] = {}
        for name, how, adapter, default in self.params:
            if how == REQUEST:
                kwargs[name] = request
                continue
            if how == DEPEND:
                raise TypeError(f"{self.endpoint.__name__}: a route reached this way takes no dependencies")
            where = ("body",) if how == BODY else ("path" if how == PATH else "query", name)
            value = body if how == BODY else (path if how == PATH else query).get(name, ABSENT)
            if value is ABSENT or (how == BODY and value is None):
                if required(default):
                    raise Unbound({"type": "missing", "loc": where, "msg": "Field required"})
                kwargs[name] = default
                continue
            try:
                kwargs[name] = adapter.validate_python(value)
            except ValidationError as exc:
                first = exc.errors()[0]
                raise Unbound({**first, "loc": (*where, *first.get("loc", ()))}) from None
        return kwargs


class Unbound(Exception):
    """A value a handler's parameter cannot take: pydantic's ``error``, its ``loc`` beginning where the
    value came from, as FastAPI's begins (``("body", ...)``, ``("query", name, ...)``)."""

    def __init__(self, error: dict):
        super().__init__(error.get("msg"))
        self.error = error


ABSENT = object()       # a parameter the request does not give


def required(default: Any) -> bool:
    """A parameter with this default must be given."""
    return default is inspect.Parameter.empty or default is ... or default is PydanticUndefined


class PlainRoute(APIRoute):
    """An ``APIRoute`` whose handler skips dependency solving when the route is plain (see ``Binding``)."""

    def get_route_handler(self) -> Callable:
        general = super().get_route_handler()
        binding = Binding(self.endpoint, self.param_convertors)
        if not binding.plain:
            return general
        endpoint, takes_body = binding.endpoint, binding.takes_body

        async def handler(request: Request) -> Response:
            data = None
            if takes_body:
                raw = await request.body()
                if not raw or request.headers.get("content-type") != JSON_TYPE:
                    return await general(request)
                try:
                    data = json.loads(raw)
                except Exception:       # not JSON, too deep, an integer too long: FastAPI says which
                    return await general(request)
                if not isinstance(data, dict):
                    return await general(request)
            try:
                kwargs = binding.arguments(request, request.path_params, data, {})
            except Unbound:
                return await general(request)
            return await endpoint(**kwargs)

        return handler


def is_plain(route: BaseRoute) -> bool:
    """Does ``route`` take the shortcut?"""
    return isinstance(route, PlainRoute) and Binding(route.endpoint, route.param_convertors).plain


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
