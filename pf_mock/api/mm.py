"""``/v1/agents``, ``/v1/faucet``, ``/v1/account`` and ``/v1/mm``: the market-making API. Each route
parses, calls one core method, and answers with the message it returns.

Routes take the ``Request`` and ask ``caller`` for the agent and the exchange, rather than declaring
them as FastAPI dependencies: resolving dependencies was a quarter of a request's time. The key schemes
are documented on each keyed route (``KEYED``). Answers go out through ``reply`` (see ``reply.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from .. import messages as m
from .. import views
from ..paging import CURSOR_PATTERN
from .deps import KEYED, caller
from .errors import AUTH, VALIDATION, responses
from .reply import reply
from .routing import PlainRoute

router = APIRouter(route_class=PlainRoute)

LIMITED = ("rate_limited",)
AUTHED = VALIDATION + AUTH + LIMITED
SINCE = Query(None, ge=0, le=2**53, description="Start of the window, mock ms since the epoch (inclusive).",
              examples=[1767225600000])
UNTIL = Query(None, ge=0, le=2**53, description="End of the window, mock ms (default now).")
SYMBOL = Query(description="A market: `BTC-PERP`, or the bare base (`btc`); case-insensitive.", examples=["BTC-PERP"])
ANY_SYMBOL = Query(None, description="Only this market (`BTC-PERP`, or `btc`); omit for every market.",
                   examples=["BTC-PERP"])


def seconds(ms: int | None) -> float | None:
    return None if ms is None else ms / 1000


def mm_route(method: str, path: str, model, *codes: str, takes_input: bool = True, **kwargs):
    """A keyed route: typed answer, the errors every keyed route may give plus ``codes``, key schemes."""
    common = AUTHED if takes_input else AUTH + LIMITED        # no input, no invalid_request
    return router.api_route(path, methods=[method], response_model=model, openapi_extra=KEYED,
                            responses=responses(*common, *codes), **kwargs)


@router.post("/v1/agents/register", status_code=201, response_model=m.Registered, tags=["agents"],
             responses=responses(*VALIDATION, "agent_exists", *LIMITED))
async def register(request: Request, body: m.RegisterRequest | None = None) -> Response:
    """A new agent with a fresh, random key (the only way in under --strict-auth)."""
    new = request.app.state.exchange.register(body.agent_id if body else None)
    return reply(views.registered(new), 201)


@mm_route("POST", "/v1/faucet/claim", m.FaucetClaim, "already_claimed", takes_input=False, tags=["agents"])
async def faucet(request: Request) -> Response:
    """One dollar, once per agent."""
    me, ex = await caller(request)
    credited = ex.claim_faucet(me)
    return reply(views.faucet_claim(credited, me))


@mm_route("GET", "/v1/account", m.Account, takes_input=False, tags=["agents"])
async def account(request: Request) -> Response:
    me, ex = await caller(request)
    return reply(ex.account(me))


@mm_route("POST", "/v1/mm/quote", m.QuoteAnswer, "crossed_quote", "order_too_small", "insufficient_balance",
          "market_not_found", "session_stopped", "market_halted", tags=["market making"])
async def quote(request: Request, body: m.QuoteRequest) -> Response:
    """Post a bid, an ask or both (quotes add orders; they do not replace), and set the session's
    guardrails and refresh loop."""
    me, ex = await caller(request)
    return reply(views.quote(ex.quote(me, body)))


@mm_route("POST", "/v1/mm/cancel", m.Cancelled, "market_not_found", tags=["market making"])
async def cancel(request: Request, body: m.SymbolRequest) -> Response:
    """Cancel every order of the agent on the symbol, and stop its refresh loop."""
    me, ex = await caller(request)
    symbol, ids, at = ex.cancel_at(me, body.symbol)
    return reply(views.cancelled(symbol, ids, at))


@mm_route("GET", "/v1/mm/orders", m.Orders, "market_not_found", tags=["market making"])
async def orders(request: Request, symbol: str | None = ANY_SYMBOL,
                 status: m.OrderStatus = Query("open", description="open: the resting orders (all of them); "
                                               "closed: those that left the book, each with status and reason."),
                 cursor: str | None = Query(None, pattern=CURSOR_PATTERN,
                                            description="status=closed: a next_cursor this route answered (with the "
                                                        "same symbol), or the string \"0\" for the oldest kept."),
                 limit: int | None = Query(None, ge=1, le=m.MAX_ORDERS_PAGE,
                                           description=f"status=closed: at most this many (default "
                                                       f"{m.DEFAULT_ORDERS_PAGE}).")) -> Response:
    """The agent's resting orders; with status=closed, a page of the orders that left the book (oldest
    first; without cursor the newest limit), each with its status, reason and closed_at."""
    me, ex = await caller(request)
    return reply(ex.orders(me, symbol, status, cursor, limit))


@mm_route("GET", "/v1/mm/fills", m.Fills, "market_not_found", tags=["market making"])
async def fills(request: Request, symbol: str | None = ANY_SYMBOL, since: int | None = SINCE,
                cursor: str | None = Query(None, pattern=CURSOR_PATTERN,
                                           description="A next_cursor this route answered (with the same symbol); "
                                                       "since is then ignored."),
                limit: int = Query(100, ge=1, le=1000, description="At most this many.")) -> Response:
    """Without since or cursor the newest limit fills; with since the oldest limit at or after it; then
    next_cursor pages forward through every fill. Oldest first."""
    me, ex = await caller(request)
    return reply(ex.fill_views(me, symbol, seconds(since), cursor, limit))


@mm_route("GET", "/v1/mm/inventory", m.Inventory, "market_not_found", tags=["market making"])
async def inventory(request: Request, symbol: str = SYMBOL) -> Response:
    me, ex = await caller(request)
    market, ledger = ex.inventory(me, symbol)
    return reply(views.inventory(market, ledger))


@mm_route("POST", "/v1/mm/hedge", m.Hedged, "order_too_small", "market_not_found", "no_inventory", "no_liquidity",
          "market_halted",
          tags=["market making"])
async def hedge(request: Request, body: m.HedgeRequest) -> Response:
    """A market order for hedge_pct of the position, against the book."""
    me, ex = await caller(request)
    return reply(views.hedge(ex.hedge(me, body.symbol, body.hedge_pct)))


@mm_route("GET", "/v1/mm/pnl", m.Pnl, "market_not_found", tags=["market making"])
async def pnl(request: Request, symbol: str | None = ANY_SYMBOL, since: int | None = SINCE, until: int | None = UNTIL,
              window: m.Window | None = Query(None, description="A window ending at until; not with since.")) -> Response:
    """PnL over a window, split as the contract defines it (net_pnl = the change of equity)."""
    me, ex = await caller(request)
    return reply(ex.pnl_view(me, symbol or None, seconds(since), seconds(until), window))


@mm_route("GET", "/v1/mm/session", m.SessionView, "market_not_found", tags=["market making"])
async def session(request: Request, symbol: str = SYMBOL) -> Response:
    me, ex = await caller(request)
    return reply(views.session(ex.session_of(me, symbol)))


@mm_route("POST", "/v1/mm/session/reset", m.SessionView, "market_not_found", tags=["market making"])
async def session_reset(request: Request, body: m.SymbolRequest) -> Response:
    """Clear a stopped session so quoting may start again; position and history stay."""
    me, ex = await caller(request)
    return reply(views.session(ex.session_reset(me, body.symbol)))
