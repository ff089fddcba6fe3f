"""The FastAPI application: routers, the error shape, and the options a server was started with."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi

from ..exchange import Exchange
from ..feed import FeedHub
from ..leaderboard import leaderboard
from ..serving import Serving
from ..turns import catch_up_in_turn
from ..version import __version__
from . import admin, docs, errors, health, markets, mm, page, routing, snapshot
from .controls import MockControls
from .deps import SECURITY_SCHEMES

TAGS = [
    {"name": "server", "description": "Is the server up? No key needed."},
    {"name": "markets", "description": "Market data: no key needed."},
    {"name": "agents", "description": "Registering, the faucet and the account: a key is needed (except to "
                                      "register)."},
    {"name": "market making", "description": "Quotes, orders, fills, inventory, hedges, PnL and sessions."},
    {"name": "mock control", "description": "The mock's own controls under /_mock (not part of the real API): "
                                            "clock, prices, regimes, scenarios, fault injection, the request "
                                            "journal. X-Admin-Token when the server has one."},
]


@dataclass(frozen=True)
class AppOptions:
    admin: bool = True                  # serve /_mock at all (--no-admin turns it off)
    admin_token: str | None = None      # if set, /_mock needs X-Admin-Token
    rate_limit: int | None = None       # requests per minute per key (--rate-limit); None = no limit
    # Host names answered besides the loopback names and the address a request arrived at (callers.py):
    # the bound host and every --allow-host.
    allow_hosts: tuple[str, ...] = ()


def contract_openapi(app: FastAPI) -> dict:
    """FastAPI's schema without its 422 ``HTTPValidationError`` answers: validation failures here are
    400 ``invalid_request`` in the error shape (``errors.py``), which every route documents itself."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description,
                             routes=app.routes, tags=app.openapi_tags)
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                operation.get("responses", {}).pop("422", None)
        components = schema.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        if "/_mock/snapshot" in schema.get("paths", {}):     # the document its routes name (snapshot.py)
            components.update(snapshot.openapi_components())
            schema["components"]["schemas"] = dict(sorted(components.items()))
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        app.openapi_schema = schema
    return app.openapi_schema


def operations_document() -> dict:
    """The OpenAPI document of the routes a front may re-expose (market data, market making, /_mock),
    without an app: what ``pf_mock.mcp.operations`` reads the tools' schemas from."""
    return get_openapi(title="pf-mock", version="0", routes=markets.router.routes + mm.router.routes
                       + admin.router.routes)


def create_app(exchange: Exchange, options: AppOptions | None = None) -> FastAPI:
    options = options or AppOptions()
    # redirect_slashes=False: a stray trailing slash answers 404 not_found in the contract's error
    # shape, not an empty-bodied 307 (every non-2xx body is {"error", "message"}).
    # docs_url/redoc_url None: docs.install serves both pages from assets shipped in a package, never a CDN.
    app = FastAPI(title="pf-mock", version=__version__, redirect_slashes=False, docs_url=None, redoc_url=None,
                  openapi_tags=TAGS,
                  description="A local, deterministic fake of the Purple Flea market-making API. Every "
                              "error answers `{error, message, ...}`; times are mock-clock milliseconds.")
    app.openapi = lambda: contract_openapi(app)
    # ``app.state``: the exchange and what is served with it (pf_mock.serving), plus the options and the
    # feed's hub, as plain attributes. Starlette's ``State`` keeps its values in a dict of its own and
    # finds each through ``__getattr__`` after the normal lookup has failed (about a microsecond a read,
    # and a request reads the exchange, the command log and the turn some eight times); nothing in
    # Starlette or FastAPI reads ``app.state`` itself, so a plain object serves: the normal lookup finds
    # each value at once.
    app.state = Serving(exchange, options.rate_limit)
    app.state.options = options
    errors.install(app)
    docs.install(app)
    # The mock's own work on every request, one layer (controls.py): the door, the journal, the rate
    # limit, the last resort, fault rules, JSON bodies, and the exchange's turns.
    app.add_middleware(MockControls, serving=app.state, allow_hosts=frozenset(options.allow_hosts))
    # The live page and its push feed (GET /, GET /feed): one hub per app, idle while nobody watches.
    app.state.feed = FeedHub(lambda: app.state.exchange, leaderboard=leaderboard,
                                  catch_up=lambda: catch_up_in_turn(app.state))
    routers = [health.router, markets.router, mm.router, page.router]
    if options.admin:
        routers += [admin.router, snapshot.router]
    for router in routers:
        add_routes(app, router)
    routing.index_fixed_paths(app.router.routes)
    return app


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Serve ``router``'s routes from the app's own route list. ``include_router`` would keep the router
    as a nested branch that every request walks branch by branch (matching the chosen one twice): a
    tenth of a quote's time in the server, profiled. The routes are complete as they are (the router
    gave them its prefix, tags, responses and dependencies when they were declared), and the schema
    is the same."""
    app.router.routes.extend(router.routes)
