"""``GET /health``: answers while the server can serve. No key, never under ``/_mock`` (so it stays
with ``--no-admin``), and it touches no market, so it costs nothing however long the mock has idled."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from .. import messages as m
from ..clock import to_ms
from ..version import __version__
from .errors import responses
from .reply import reply
from .routing import PlainRoute

router = APIRouter(route_class=PlainRoute)


@router.get("/health", response_model=m.Health, tags=["server"], responses=responses("rate_limited"))
async def health(request: Request) -> Response:
    """``{status: "ok", version, timestamp (mock ms)}``."""
    return reply(m.Health(status="ok", version=__version__, timestamp=to_ms(request.app.state.exchange.now())))
