"""The FastAPI application: routers, the error shape, and the options a server was started with."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ..exchange import Exchange
from ..leaderboard import leaderboard
from ..version import __version__
from . import admin, docs, door, errors, faults, feed, health, journal, markets, mm, page, ratelimit, snapshot, turns
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


class JsonBodies:
    """Read every request body as JSON, whatever its Content-Type says: ``curl -d '{...}'`` sends
    form encoding by default, and a fake that rejects it would only confuse."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
            scope = dict(scope, headers=headers + [(b"content-type", b"application/json")])
        await self.app(scope, receive, send)


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
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        app.openapi_schema = schema
    return app.openapi_schema


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
    app.state.exchange = exchange
    app.state.options = options
    app.state.advancing = None          # a clock advance's progress (turns.py)
    app.state.stopping = False          # set when the server is asked to stop: long work ends early
    # A restore replays its log through an app of its own on the same exchange (snapshot.py).
    app.state.replay_app = lambda ex: create_app(ex, AppOptions(admin=True))
    errors.install(app)
    docs.install(app)
    app.state.commands = snapshot.CommandLog(exchange)
    app.add_middleware(snapshot.Recorder)
    app.add_middleware(JsonBodies)
    # The mock's own layers, added innermost first. From the outside in: the door reads the body
    # (bounded) and judges it; the journal sees every answer, including a fault's, the rate limit's
    # and the door's; the rate limit counts requests before anything else answers them and puts its
    # headers on every answer, a crash's included; the last resort turns a crash into a 500 in the
    # error shape that keeps the connection; then the door's refusal, then the fault rules, then each
    # request's turn at the exchange (turns.py), then the snapshot's log of what changed it.
    app.state.faults = faults.FaultTable(exchange.seed)
    app.state.journal = journal.Journal()
    app.state.rate_limiter = ratelimit.RateLimiter(options.rate_limit) if options.rate_limit is not None else None
    app.state.on_reset = [lambda ex: app.state.faults.reset(ex.seed), lambda ex: app.state.journal.clear(),
                          lambda ex: app.state.commands.restart(ex)]
    app.add_middleware(turns.Turns)
    app.add_middleware(faults.FaultInjection, table=app.state.faults)
    app.add_middleware(door.Refuse)
    app.add_middleware(errors.LastResort)
    if app.state.rate_limiter is not None:
        app.add_middleware(ratelimit.RateLimit, limiter=app.state.rate_limiter)
        app.state.on_reset.append(lambda ex: app.state.rate_limiter.clear())
    app.add_middleware(journal.RequestJournal, journal=app.state.journal)
    app.add_middleware(door.Door)
    app.include_router(health.router)
    app.include_router(markets.router)
    app.include_router(mm.router)
    # The live page and its push feed (GET /, GET /feed): one hub per app, idle while nobody watches.
    app.state.feed = feed.FeedHub(lambda: app.state.exchange, leaderboard=leaderboard,
                                  catch_up=lambda: turns.catch_up_in_turn(app.state))
    app.include_router(page.router)
    if options.admin:
        app.include_router(admin.router)
        app.include_router(faults.router)
        app.include_router(journal.router)
        app.include_router(page.admin_router)
        app.include_router(snapshot.router)
    return app
