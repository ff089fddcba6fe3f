"""``GET /health``: answers while the server can serve. No key, never under ``/_mock`` (so it stays
with ``--no-admin``), and it touches no market, so it costs nothing however long the mock has idled."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from .. import __version__
from ..clock import to_ms
from ..exchange import Exchange
from .deps import exchange

router = APIRouter()


@router.get("/health")
async def health(ex: Exchange = Depends(exchange)) -> dict:
    """``{status: "ok", version, timestamp (mock ms)}``."""
    return {"status": "ok", "version": __version__, "timestamp": to_ms(ex.now())}
