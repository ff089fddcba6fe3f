"""``/_mock``: the mock's own control panel (not part of the real API), for tests and teaching."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request

from ..clock import to_ms
from ..errors import ApiError
from ..exchange import Exchange
from .deps import exchange
from .schemas import AdvanceBody, JumpBody, RegimeBody, ResetBody


async def admin_allowed(request: Request) -> None:
    token = request.app.state.options.admin_token
    if token is not None:
        given = request.headers.get("x-admin-token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, "unauthorized", "This /_mock route needs the X-Admin-Token header.")


router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)])


def state(ex: Exchange) -> dict:
    clock = ex.clock
    return {
        "seed": ex.seed,
        "clock": {"mode": clock.mode, "now": to_ms(ex.now()), "speed": clock.speed},
        "agents": len(ex.agents),
        "active_markets": sorted(ex.markets),
        "scenario": getattr(ex, "scenario_name", None),
    }


@router.get("/state")
async def get_state(ex: Exchange = Depends(exchange)) -> dict:
    return state(ex)


@router.post("/reset")
async def reset(body: ResetBody | None = None, ex: Exchange = Depends(exchange)) -> dict:
    ex.reset(body.seed if body else None)
    return state(ex)


@router.post("/clock/advance")
async def advance(body: AdvanceBody, ex: Exchange = Depends(exchange)) -> dict:
    ex.advance(body.seconds)
    return {"clock": state(ex)["clock"]}


@router.post("/markets/{symbol}/jump")
async def jump(symbol: str, body: JumpBody, ex: Exchange = Depends(exchange)) -> dict:
    market = ex.jump(symbol, body.move_bps)
    return {"symbol": market.symbol, "mid": market.mid, "timestamp": to_ms(market.now)}


@router.post("/markets/{symbol}/regime")
async def regime(symbol: str, body: RegimeBody, ex: Exchange = Depends(exchange)) -> dict:
    market = ex.set_regime(symbol, body.model_dump(exclude_none=True))
    return {"symbol": market.symbol, "regime": market.regime.as_dict(), "timestamp": to_ms(market.now)}
