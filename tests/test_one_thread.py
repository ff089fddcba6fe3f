"""One thread owns the exchange: FastAPI runs plain ``def`` handlers and dependencies in a thread pool,
so every route handler and every dependency that can reach the core must be ``async def``."""

from __future__ import annotations

import inspect

from fastapi import params
from fastapi.routing import APIRoute

from pf_mock.api import AppOptions, create_app
from pf_mock.exchange import Exchange


def _routes(routes):
    for route in routes:
        inner = getattr(route, "original_router", None)      # an included router (FastAPI >= 0.16x)
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(route, APIRoute):
            yield route


def _is_async(call) -> bool:
    """FastAPI awaits a coroutine function, or an object whose ``__call__`` is one (its security schemes)."""
    return inspect.iscoroutinefunction(call) or (
        not inspect.isroutine(call) and inspect.iscoroutinefunction(getattr(call, "__call__", None)))


def _sync_calls(call):
    """The dependencies ``call`` declares (``Depends`` defaults in its signature), and theirs, that are
    not async."""
    for p in inspect.signature(call).parameters.values():
        if isinstance(p.default, params.Depends):
            sub = p.default.dependency
            if sub is not None and not _is_async(sub):
                yield sub
            if sub is not None:
                yield from _sync_calls(sub)


def test_every_handler_and_dependency_is_async():
    app = create_app(Exchange(), AppOptions(rate_limit=60))
    routes = list(_routes(app.routes))
    assert len(routes) >= 25          # the whole API and /_mock, not an empty walk
    offenders = [(r.path, r.endpoint.__name__) for r in routes if not inspect.iscoroutinefunction(r.endpoint)]
    # The route's own dependencies (its router's ``dependencies=[Depends(...)]``), then the endpoint's.
    declared = [(r, d.dependency) for r in routes for d in r.dependencies]
    offenders += [(r.path, getattr(call, "__name__", repr(call))) for r, call in declared if not _is_async(call)]
    offenders += [(r.path, getattr(call, "__name__", repr(call)))
                  for r, top in [*declared, *((r, r.endpoint) for r in routes)] for call in _sync_calls(top)]
    assert declared, "the /_mock routes' router-level dependency was not seen"
    assert offenders == []
