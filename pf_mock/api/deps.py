"""Request-scoped helpers. All ``async``: nothing that touches the exchange may run in a thread pool."""

from __future__ import annotations

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from ..agents import Agent
from ..exchange import Exchange

# Declared so the OpenAPI schema has both ways of sending a key (and /docs an Authorize button); the
# key itself is read by ``api_key`` below, which also takes a bare ``Authorization: <key>``.
bearer = HTTPBearer(auto_error=False, scheme_name="Bearer",
                    description="`Authorization: Bearer pf_test_...` — any well-formed key works unless the "
                                "server runs with --strict-auth.")
x_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="X-API-Key",
                         description="`X-API-Key: pf_test_...`, the same key as the Bearer one.")


async def exchange(request: Request) -> Exchange:
    return request.app.state.exchange


def api_key(request) -> str | None:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip() or None    # "Bearer" with nothing after it is no key at all
        return auth.strip()
    return request.headers.get("x-api-key")


async def agent(request: Request, _bearer=Security(bearer), _key=Security(x_api_key)) -> Agent:
    found = request.app.state.exchange.authenticate(api_key(request))
    request.state.agent_id = found.agent_id
    return found
