"""``/v1/agents``, ``/v1/faucet``, ``/v1/account`` and ``/v1/mm``: the market-making API. Each route
parses, calls one core method, and answers with the message it returns."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from .. import messages as m
from .. import views
from ..agents import Agent
from ..exchange import Exchange
from .deps import agent, exchange
from .errors import AUTH, VALIDATION, responses

router = APIRouter()

LIMITED = ("rate_limited",)
AUTHED = VALIDATION + AUTH + LIMITED
SINCE = Query(None, ge=0, le=2**53, description="Start of the window, mock ms since the epoch (inclusive).",
              examples=[1767225600000])


def seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


@router.post("/v1/agents/register", status_code=201, response_model=m.Registered, tags=["agents"],
             responses=responses(*VALIDATION, "agent_exists", *LIMITED))
async def register(body: m.RegisterRequest | None = None, ex: Exchange = Depends(exchange)) -> m.Registered:
    """A new agent with a fresh, random key (the only way in under --strict-auth)."""
    new = ex.register(body.agent_id if body else None)
    return m.Registered(agent_id=new.agent_id, api_key=new.api_key, balance_usd=views.usd(new.cash))


@router.post("/v1/faucet/claim", response_model=m.FaucetClaim, tags=["agents"],
             responses=responses(*AUTHED, "already_claimed"))
async def faucet(me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.FaucetClaim:
    """One dollar, once per agent."""
    credited = ex.claim_faucet(me)
    return m.FaucetClaim(credited=credited, balance_usd=views.usd(me.cash))


@router.get("/v1/account", response_model=m.Account, tags=["agents"], responses=responses(*AUTHED))
async def account(me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Account:
    return ex.account(me)


@router.post("/v1/mm/quote", response_model=m.QuoteAnswer, tags=["market making"],
             responses=responses(*AUTHED, "crossed_quote", "order_too_small", "insufficient_balance",
                                 "market_not_found", "session_stopped"))
async def quote(body: m.QuoteRequest, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.QuoteAnswer:
    """Post a bid, an ask or both (quotes add orders; they do not replace), and set the session's
    guardrails and refresh loop."""
    return views.quote(ex.quote(me, body))


@router.post("/v1/mm/cancel", response_model=m.Cancelled, tags=["market making"],
             responses=responses(*AUTHED, "market_not_found"))
async def cancel(body: m.SymbolRequest, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Cancelled:
    """Cancel every order of the agent on the symbol, and stop its refresh loop."""
    symbol, ids = ex.cancel(me, body.symbol)
    return m.Cancelled(symbol=symbol, cancelled=len(ids), order_ids=ids)


@router.get("/v1/mm/orders", response_model=m.Orders, tags=["market making"],
            responses=responses(*AUTHED, "market_not_found"))
async def orders(symbol: str | None = None, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Orders:
    """The agent's resting orders."""
    return ex.orders(me, symbol)


@router.get("/v1/mm/fills", response_model=m.Fills, tags=["market making"],
            responses=responses(*AUTHED, "market_not_found"))
async def fills(symbol: str | None = None, since: int | None = SINCE,
                limit: int = Query(100, ge=1, le=1000, description="At most this many, the newest."),
                me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Fills:
    return ex.fill_views(me, symbol, seconds(since), limit)


@router.get("/v1/mm/inventory", response_model=m.Inventory, tags=["market making"],
            responses=responses(*AUTHED, "market_not_found"))
async def inventory(symbol: str, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Inventory:
    market, ledger = ex.inventory(me, symbol)
    return views.inventory(market, ledger)


@router.post("/v1/mm/hedge", response_model=m.Hedged, tags=["market making"],
             responses=responses(*AUTHED, "order_too_small", "market_not_found", "no_inventory", "no_liquidity"))
async def hedge(body: m.HedgeRequest, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Hedged:
    """A market order for hedge_pct of the position, against the book."""
    return views.hedge(ex.hedge(me, body.symbol, body.hedge_pct))


@router.get("/v1/mm/pnl", response_model=m.Pnl, tags=["market making"],
            responses=responses(*AUTHED, "market_not_found"))
async def pnl(symbol: str | None = None, since: int | None = SINCE,
              until: int | None = Query(None, ge=0, le=2**53, description="End of the window, mock ms (default now)."),
              window: m.Window | None = Query(None, description="A window ending at until; not with since."),
              me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.Pnl:
    """PnL over a window, split as the contract defines it (net_pnl = the change of equity)."""
    return ex.pnl_view(me, symbol or None, seconds(since), seconds(until), window)


@router.get("/v1/mm/session", response_model=m.SessionView, tags=["market making"],
            responses=responses(*AUTHED, "market_not_found"))
async def session(symbol: str, me: Agent = Depends(agent), ex: Exchange = Depends(exchange)) -> m.SessionView:
    return views.session(ex.session_of(me, symbol))


@router.post("/v1/mm/session/reset", response_model=m.SessionView, tags=["market making"],
             responses=responses(*AUTHED, "market_not_found"))
async def session_reset(body: m.SymbolRequest, me: Agent = Depends(agent),
                        ex: Exchange = Depends(exchange)) -> m.SessionView:
    """Clear a stopped session so quoting may start again; position and history stay."""
    return views.session(ex.session_reset(me, body.symbol))
