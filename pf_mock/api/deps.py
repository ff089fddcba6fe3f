"""Request-scoped helpers. All ``async``: nothing that touches the exchange may run in a thread pool."""

from __future__ import annotations

from fastapi import Request

from ..agents import Agent
from ..exchange import Exchange


async def exchange(request: Request) -> Exchange:
    return request.app.state.exchange


def api_key(request: Request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip() or None    # "Bearer" with nothing after it is no key at all
        return auth.strip()
    return request.headers.get("x-api-key")


async def agent(request: Request) -> Agent:
    found = request.app.state.exchange.authenticate(api_key(request))
    request.state.agent_id = found.agent_id
    return found
