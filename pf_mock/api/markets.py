"""``/v1/markets``: market data. No key needed. Each route parses, calls one core read method, and
answers with the message it returns (the exchange is read off the app, as in ``mm.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from .. import messages as m
from .errors import VALIDATION, responses
from .reply import reply
from .routing import PlainRoute

router = APIRouter(prefix="/v1/markets", tags=["markets"], route_class=PlainRoute)

FOUND = responses(*VALIDATION, "market_not_found", "rate_limited")
SYMBOL = Path(description="`BTC-PERP`, or the bare base (`btc`); case-insensitive.", examples=["BTC-PERP"])


@router.get("", response_model=m.MarketList, responses=responses(*VALIDATION, "rate_limited"))
async def list_markets(request: Request, limit: int = Query(100, ge=1, le=500, description="Markets per page."),
                       offset: int = Query(0, ge=0, le=10**9, description="Markets to skip, in catalogue order.")
                       ) -> Response:
    """The catalogue, a page at a time."""
    return reply(request.app.state.exchange.list_markets(limit, offset))


@router.get("/{symbol}", response_model=m.MarketDetail, responses=FOUND)
async def market_detail(request: Request, symbol: str = SYMBOL) -> Response:
    """One market, with its spread and the last 24 h."""
    return reply(request.app.state.exchange.market_detail(symbol))


@router.get("/{symbol}/price", response_model=m.Price, responses=FOUND)
async def price(request: Request, symbol: str = SYMBOL) -> Response:
    return reply(request.app.state.exchange.price(symbol))


@router.get("/{symbol}/orderbook", response_model=m.OrderBookView, responses=FOUND)
async def orderbook(request: Request, symbol: str = SYMBOL,
                    depth: int = Query(20, ge=1, le=50, description="Levels per side.")) -> Response:
    return reply(request.app.state.exchange.orderbook(symbol, depth))


@router.get("/{symbol}/trades", response_model=m.Trades, responses=FOUND)
async def trades(request: Request, symbol: str = SYMBOL,
                 limit: int = Query(100, ge=1, le=500, description="At most this many prints, the newest.")
                 ) -> Response:
    """Recent prints, newest first."""
    return reply(request.app.state.exchange.trades(symbol, limit))


@router.get("/{symbol}/candles", response_model=m.Candles, responses=FOUND)
async def candles(request: Request, symbol: str = SYMBOL,
                  interval: m.Interval = Query("1m", description="Bucket length: 1m, 5m or 1h."),
                  limit: int = Query(100, ge=1, le=1000, description="At most this many buckets, the newest.")
                  ) -> Response:
    return reply(request.app.state.exchange.candles(symbol, interval, limit))
