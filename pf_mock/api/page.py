"""``GET /`` (the live page), its assets, and ``GET /feed`` (the push feed, server-sent events).

The page's few files ship in the package (``pf_mock/web/``) and are read once, at import: answering them
needs no file access, no thread and nothing from outside the machine.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from ..errors import ApiError
from ..feed import topic_for
from .admin import admin_allowed
from .deps import api_key

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


def _load_assets() -> dict[str, tuple[bytes, str]]:
    found = {}
    for item in resources.files("pf_mock").joinpath("web").iterdir():
        suffix = item.name[item.name.rfind("."):]
        if item.is_file() and suffix in CONTENT_TYPES:
            found[item.name] = (item.read_bytes(), CONTENT_TYPES[suffix])
    return found


ASSETS = _load_assets()

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page(request: Request) -> Response:
    """The page, told whether ``/_mock`` is here (``open``), needs a token (``token``) or is ``off``, so
    that it never asks for what it may not have."""
    options = request.app.state.options
    admin = "off" if not options.admin else "token" if options.admin_token is not None else "open"
    body, kind = ASSETS["index.html"]
    return Response(body.replace(b"{{admin}}", admin.encode()), media_type=kind, headers={"Cache-Control": "no-cache"})


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        raise ApiError(404, "not_found", f"No page asset called {name!r}.")
    return Response(found[0], media_type=found[1], headers={"Cache-Control": "no-cache"})


@router.get("/feed")
async def feed(request: Request, symbol: str, depth: int = Query(20, ge=1, le=50),
               leaderboard: bool = False) -> StreamingResponse:
    """Server-sent events for one market: ``hello`` first, then only what changed (see
    ``pf_mock/feed.py``). A key (as on REST) adds that agent's orders, fills, inventory, PnL and
    session; ``leaderboard=true`` needs the rights ``/_mock`` needs."""
    if leaderboard:     # checked first: a refused request must not provision an agent on the way
        if not request.app.state.options.admin:
            raise ApiError(404, "not_found", "The leaderboard is part of /_mock, which this server has turned off.",
                           field="leaderboard")
        await admin_allowed(request)
    topic = topic_for(request.app.state.exchange, symbol, api_key(request), depth, leaderboard)
    return StreamingResponse(request.app.state.feed.stream(topic), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
