"""``/_mock``: the mock's own control panel (not part of the real API), for tests and teaching."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Path, Request

from .. import messages as m
from ..clock import to_ms
from ..errors import ApiError
from ..exchange import Exchange
from ..scenarios import apply_scenario, load_named, parse_scenario
from .deps import exchange
from .errors import VALIDATION, responses
from .turns import advance_in_slices


async def admin_allowed(request: Request) -> None:
    token = request.app.state.options.admin_token
    if token is not None:
        given = request.headers.get("x-admin-token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, "unauthorized", "This /_mock route needs the X-Admin-Token header.")


ADMIN = responses("unauthorized")
INPUT = VALIDATION        # the routes that take a body or parameters add invalid_request
router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)], tags=["mock control"], responses=ADMIN)


def is_admin_path(path: str) -> bool:
    """A ``/_mock`` path: never faulted, rate limited or journaled."""
    return path == "/_mock" or path.startswith("/_mock/")


def state(ex: Exchange, advancing: dict | None = None) -> dict:
    clock = ex.clock
    return {
        "seed": ex.seed,
        "clock": {"mode": clock.mode, "now": to_ms(ex.now()), "speed": clock.speed},
        "agents": len(ex.agents),
        "active_markets": sorted(symbol for symbol, market in ex.markets.items() if market.active),
        "scenario": getattr(ex, "scenario_name", None),
        **({"advancing": dict(advancing)} if advancing else {}),     # only while one is under way
    }


@router.get("/state", response_model=m.MockState, response_model_exclude_unset=True)
async def get_state(request: Request, ex: Exchange = Depends(exchange)) -> dict:
    """Also ``advancing: {from, to, now}`` (ms) while a clock advance is under way."""
    return state(ex, getattr(request.app.state, "advancing", None))


@router.post("/reset", response_model=m.MockState, response_model_exclude_unset=True, responses=responses(*INPUT))
async def reset(request: Request, body: m.ResetRequest | None = None, ex: Exchange = Depends(exchange)) -> dict:
    """Start over: the exchange, and the app's own controls (fault rules, journal, rate-limit buckets)."""
    ex.reset(body.seed if body else None)
    for start_over in request.app.state.on_reset:
        start_over(ex)
    return state(ex)


@router.post("/clock/advance", response_model=m.Advanced, responses=responses(*INPUT, "clock_not_manual"))
async def advance(request: Request, body: m.AdvanceRequest, ex: Exchange = Depends(exchange)) -> dict:
    """In slices: other requests wait for it, /health and /_mock/state answer meanwhile (see turns.py)."""
    await advance_in_slices(ex, body.seconds, request.app.state)
    return {"clock": state(ex)["clock"]}


@router.post("/markets/{symbol}/jump", response_model=m.Jumped,
             responses=responses(*INPUT, "market_not_found", "market_replayed"))
async def jump(body: m.JumpRequest, symbol: str = Path(description="The market: `BTC-PERP`, or `btc`."),
               ex: Exchange = Depends(exchange)) -> dict:
    market = ex.jump(symbol, body.move_bps)
    return {"symbol": market.symbol, "mid": market.mid, "mark_price": market.mark, "timestamp": to_ms(market.now)}


@router.post("/markets/{symbol}/regime", response_model=m.RegimeSet,
             responses=responses(*INPUT, "market_not_found", "market_replayed"))
async def regime(symbol: str, body: m.RegimeRequest, ex: Exchange = Depends(exchange)) -> dict:
    market = ex.set_regime(symbol, body.model_dump(exclude_none=True))
    return {"symbol": market.symbol, "regime": market.regime.as_dict(), "timestamp": to_ms(market.now)}


@router.post("/scenario", response_model=m.ScenarioApplied,
             responses=responses(*INPUT, "invalid_scenario", "scenario_not_found"))
async def scenario(body: m.ScenarioRequest, ex: Exchange = Depends(exchange)) -> dict:
    if (body.name is None) == (body.scenario is None):
        raise ApiError(400, "invalid_request", "Give exactly one of name (a shipped scenario) and scenario "
                                               "(an inline document).", field="name")
    found = load_named(body.name) if body.name is not None else parse_scenario(body.scenario, "inline scenario")
    return apply_scenario(ex, found).as_dict(ex)
