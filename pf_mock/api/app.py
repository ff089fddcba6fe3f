"""The FastAPI application: routers, the error shape, and the options a server was started with."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI

from ..exchange import Exchange
from . import admin, errors, markets, mm


@dataclass(frozen=True)
class AppOptions:
    admin: bool = True                  # serve /_mock at all (--no-admin turns it off)
    admin_token: str | None = None      # if set, /_mock needs X-Admin-Token


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


def create_app(exchange: Exchange, options: AppOptions | None = None) -> FastAPI:
    options = options or AppOptions()
    app = FastAPI(title="pf-mock", version="0.1.0",
                  description="A local, deterministic fake of the Purple Flea market-making API.")
    app.state.exchange = exchange
    app.state.options = options
    errors.install(app)
    app.add_middleware(JsonBodies)
    app.include_router(markets.router)
    app.include_router(mm.router)
    if options.admin:
        app.include_router(admin.router)
    return app
