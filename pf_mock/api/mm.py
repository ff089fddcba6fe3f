"""``/v1/agents``, ``/v1/faucet``, ``/v1/account`` and ``/v1/mm``: the market-making API."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from ..agents import Agent
from ..errors import invalid_request
from ..exchange import Exchange, QuoteRequest
from ..ids import public_id
from . import views
from .deps import agent, exchange
from .schemas import HedgeBody, QuoteBody, RegisterBody, SymbolBody, Window

router = APIRouter()

WINDOWS_S = {"5m": 300.0, "1h": 3600.0, "24h": 86400.0}


@router.post("/v1/agents/register", status_code=201)
async def register(body: RegisterBody | None = None, ex: Exchange = Depends(exchange)) -> JSONResponse:
    new = ex.register(body.agent_id if body else None)
    return JSONResponse({"agent_id": new.agent_id, "api_key": new.api_key, "balance_usd": views.usd(new.cash)},
                        status_code=201)


@router.post("/v1/faucet/claim")
async def faucet(me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    credited = ex.claim_faucet(me)
    return {"credited": credited, "balance_usd": views.usd(me.cash)}


@router.get("/v1/account")
async def account(me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    ex.sync(me)
    positions = [{"symbol": s, "position": l.position, "net_delta_usd": views.usd(l.position * ex.markets[s].mid)}
                 for s, l in sorted(me.ledgers.items()) if l.lots]
    return {"agent_id": me.agent_id, "balance_usd": views.usd(me.cash), "equity_usd": views.usd(ex.equity(me)),
            "open_orders": len(ex.open_orders(me)), "positions": positions}


@router.post("/v1/mm/quote")
async def quote(body: QuoteBody, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    return views.quote(ex.quote(me, QuoteRequest(**body.model_dump())))


@router.post("/v1/mm/cancel")
async def cancel(body: SymbolBody, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    symbol, ids = ex.cancel(me, body.symbol)
    return {"symbol": symbol, "cancelled": len(ids), "order_ids": ids}


@router.get("/v1/mm/orders")
async def orders(symbol: str | None = None, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    found = ex.open_orders(me, symbol)
    return {"orders": [views.order(m, info, public_id("ord", m.spec.index, info.order.order_id))
                       for m, info in found]}


@router.get("/v1/mm/fills")
async def fills(symbol: str | None = None, since: int | None = Query(None, ge=0),
                limit: int = Query(100, ge=1, le=1000), me: Agent = Depends(agent),
                ex: Exchange = Depends(exchange)) -> dict:
    found = ex.fills(me, symbol, None if since is None else since / 1000, limit)
    return {"fills": [views.fill(f) for f in found]}


@router.get("/v1/mm/inventory")
async def inventory(symbol: str, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    market, ledger = ex.inventory(me, symbol)
    return views.inventory(market, ledger)


@router.post("/v1/mm/hedge")
async def hedge(body: HedgeBody, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    return views.hedge(ex.hedge(me, body.symbol, body.hedge_pct))


@router.get("/v1/mm/pnl")
async def pnl(symbol: str | None = None, since: int | None = Query(None, ge=0), until: int | None = Query(None, ge=0),
              window: Window | None = None, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    if window is not None:
        if since is not None:
            raise invalid_request("Give either window or since, not both.", field="window")
        start = (ex.now() if until is None else until / 1000) - WINDOWS_S[window]
    else:
        start = None if since is None else since / 1000
    return views.pnl(ex.pnl(me, symbol or None, start, None if until is None else until / 1000))


@router.get("/v1/mm/session")
async def session(symbol: str, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    return views.session(ex.session_of(me, symbol))


@router.post("/v1/mm/session/reset")
async def session_reset(body: SymbolBody, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> dict:
    return views.session(ex.session_reset(me, body.symbol))
