"""Request-scoped helpers. All ``async``: nothing that touches the exchange may run in a thread pool."""

from __future__ import annotations

from fastapi import Request

from ..agents import Agent
from ..exchange import Exchange

# The two ways of sending a key, as OpenAPI security schemes (so /docs has an Authorize button). They
# are documented, not run as FastAPI security dependencies: ``api_key`` below reads the key (it also
# takes a bare ``Authorization: <key>``), and two more dependencies per request cost a third of a
# quote's time over HTTP.
SECURITY_SCHEMES = {
    "Bearer": {"type": "http", "scheme": "bearer",
               "description": "`Authorization: Bearer pf_test_...` — any well-formed key works unless the "
                              "server runs with --strict-auth."},
    "X-API-Key": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                  "description": "`X-API-Key: pf_test_...`, the same key as the Bearer one."},
}
KEYED = {"security": [{name: []} for name in SECURITY_SCHEMES]}     # openapi_extra of a route that needs a key


def api_key(request) -> str | None:
    """The key a request (or any ASGI connection) carries: ``Authorization: Bearer <key>``, a bare
    ``Authorization: <key>``, else ``X-API-Key``; the first of each header counts. Read from the raw
    headers, as ``request.headers`` would read them, without building that object (every request
    reads the key twice: the journal's and the route's)."""
    auth = x_api_key = None
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            if auth is None:
                auth = value.decode("latin-1")
        elif name == b"x-api-key" and x_api_key is None:
            x_api_key = value.decode("latin-1")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip() or None    # "Bearer" with nothing after it is no key at all
        return auth.strip()
    return x_api_key


async def caller(request: Request) -> tuple[Agent, Exchange]:
    """The agent whose key the request carries (401 without a valid one), and the exchange."""
    exchange = request.app.state.exchange
    return exchange.authenticate(api_key(request)), exchange
