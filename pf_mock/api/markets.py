"""``/v1/markets``: market data. No key needed. Each route parses, calls one core read method, and
answers with the message it returns."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from .. import messages as m
from ..exchange import Exchange
from .deps import exchange
from .errors import VALIDATION, responses

router = APIRouter(prefix="/v1/markets", tags=["markets"])

FOUND = responses(*VALIDATION, "market_not_found", "rate_limited")
SYMBOL = Path(description="`BTC-PERP`, or the bare base (`btc`); case-insensitive.", examples=["BTC-PERP"])


@router.get("", response_model=m.MarketList, responses=responses(*VALIDATION, "rate_limited"))
async def list_markets(limit: int = Query(100, ge=1, le=500), offset: int = Query(0, ge=0, le=10**9),
                       ex: Exchange = Depends(exchange)) -> m.MarketList:
    """The catalogue, a page at a time."""
    return ex.list_markets(limit, offset)


@router.get("/{symbol}", response_model=m.MarketDetail, responses=FOUND)
async def market_detail(symbol: str = SYMBOL, ex: Exchange = Depends(exchange)) -> m.MarketDetail:
    """One market, with its spread and the last 24 h."""
    return ex.market_detail(symbol)


@router.get("/{symbol}/price", response_model=m.Price, responses=FOUND)
async def price(symbol: str = SYMBOL, ex: Exchange = Depends(exchange)) -> m.Price:
    return ex.price(symbol)


@router.get("/{symbol}/orderbook", response_model=m.OrderBook, responses=FOUND)
async def orderbook(symbol: str = SYMBOL, depth: int = Query(20, ge=1, le=50, description="Levels per side."),
                    ex: Exchange = Depends(exchange)) -> m.OrderBook:
    return ex.orderbook(symbol, depth)


@router.get("/{symbol}/trades", response_model=m.Trades, responses=FOUND)
async def trades(symbol: str = SYMBOL, limit: int = Query(100, ge=1, le=500),
                 ex: Exchange = Depends(exchange)) -> m.Trades:
    """Recent prints, newest first."""
    return ex.trades(symbol, limit)


@router.get("/{symbol}/candles", response_model=m.Candles, responses=FOUND)
async def candles(symbol: str = SYMBOL, interval: m.Interval = "1m", limit: int = Query(100, ge=1, le=1000),
                  ex: Exchange = Depends(exchange)) -> m.Candles:
    return ex.candles(symbol, interval, limit)
