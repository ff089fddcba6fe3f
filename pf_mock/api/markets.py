"""``/v1/markets``: market data. No key needed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from ..exchange import Exchange
from . import views
from .deps import exchange
from .schemas import Interval

router = APIRouter(prefix="/v1/markets")


@router.get("")
async def list_markets(limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0),
                       ex: Exchange = Depends(exchange)) -> dict:
    specs = ex.catalog.specs[offset:offset + limit]
    items = [views.market_item(spec, ex.market(spec.symbol)) for spec in specs]
    return {"markets": items, "count": len(items), "total": len(ex.catalog), "offset": offset}


@router.get("/{symbol}")
async def market_detail(symbol: str, ex: Exchange = Depends(exchange)) -> dict:
    market = ex.market(symbol)
    return views.market_detail(market.spec, market)


@router.get("/{symbol}/price")
async def price(symbol: str, ex: Exchange = Depends(exchange)) -> dict:
    return views.price(ex.market(symbol))


@router.get("/{symbol}/orderbook")
async def orderbook(symbol: str, depth: int = Query(20, ge=1, le=50), ex: Exchange = Depends(exchange)) -> dict:
    return views.orderbook(ex.market(symbol), depth)


@router.get("/{symbol}/trades")
async def trades(symbol: str, limit: int = Query(100, ge=1, le=500), ex: Exchange = Depends(exchange)) -> dict:
    return views.trades(ex.market(symbol), limit)


@router.get("/{symbol}/candles")
async def candles(symbol: str, interval: Interval = "1m", limit: int = Query(100, ge=1, le=1000),
                  ex: Exchange = Depends(exchange)) -> dict:
    return views.candles(ex.market(symbol), interval, limit)
