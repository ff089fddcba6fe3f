"""``/_mock``: the mock's own control panel (not part of the real API), for tests and teaching: the clock,
prices, regimes, scenarios, fault rules, the request journal and the leaderboard. Each route parses and
calls the core (the snapshot's routes are in ``snapshot.py``)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from .. import messages as m
from .. import views
from ..errors import ApiError
from ..leaderboard import DEFAULT_LEADERBOARD_PAGE, MAX_LEADERBOARD_PAGE, leaderboard
from ..paging import CURSOR_PATTERN
from ..scenarios import apply_scenario, asked, list_scenarios
from .errors import VALIDATION, responses
from .reply import reply


async def admin_allowed(request: Request) -> None:
    token = request.app.state.options.admin_token
    if token is not None:
        given = request.headers.get("x-admin-token", "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, "unauthorized", "This /_mock route needs the X-Admin-Token header.")


ADMIN = responses("unauthorized")
INPUT = VALIDATION        # the routes that take a body or parameters add invalid_request
router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)], tags=["mock control"], responses=ADMIN)


@router.get("/state", response_model=m.MockState, response_model_exclude_unset=True)
async def get_state(request: Request) -> dict:
    """Also ``advancing: {from, to, now}`` (ms) while a clock advance is under way."""
    return request.app.state.mock_state()


@router.post("/reset", response_model=m.MockState, response_model_exclude_unset=True, responses=responses(*INPUT))
async def reset(request: Request, body: m.ResetRequest | None = None) -> dict:
    """Start over: the exchange, and the app's own controls (fault rules, journal, rate-limit buckets)."""
    return request.app.state.reset(body.seed if body else None)


@router.post("/clock/advance", response_model=m.Advanced, responses=responses(*INPUT, "clock_not_manual"))
async def advance(request: Request, body: m.AdvanceRequest) -> dict:
    """In slices: other requests wait for it, /health and /_mock/state answer meanwhile (see turns.py)."""
    return await request.app.state.advance(body.seconds)


@router.post("/markets/{symbol}/jump", response_model=m.Jumped,
             responses=responses(*INPUT, "market_not_found", "market_replayed"))
async def jump(request: Request, body: m.JumpRequest,
               symbol: str = Path(description="The market: `BTC-PERP`, or `btc`.")) -> dict:
    return views.jumped(request.app.state.exchange.jump(symbol, body.move_bps))


@router.post("/markets/{symbol}/regime", response_model=m.RegimeSet,
             responses=responses(*INPUT, "market_not_found", "market_replayed"))
async def regime(request: Request, symbol: str, body: m.RegimeRequest) -> dict:
    return views.regime_set(request.app.state.exchange.set_regime(symbol, body.model_dump(exclude_none=True)))


@router.post("/scenario", response_model=m.ScenarioApplied,
             responses=responses(*INPUT, "invalid_scenario", "scenario_not_found"))
async def scenario(request: Request, body: m.ScenarioRequest) -> dict:
    ex = request.app.state.exchange
    return apply_scenario(ex, asked(body.name, body.scenario)).as_dict(ex)


@router.get("/faults", response_model=m.FaultList)
async def list_faults(request: Request) -> dict:
    """The standing rules, in the order they are checked."""
    return {"faults": request.app.state.faults.view()}


@router.post("/faults", status_code=201, response_model=m.FaultAdded, responses=responses(*INPUT))
async def add_fault(body: m.FaultRequest, request: Request) -> dict:
    """Add a rule: ``{path, method?, status?, error?, message?, latency_ms?, probability?, count?}``.
    Answers ``{fault: <the rule, with its id>, faults: [every standing rule]}``."""
    return request.app.state.add_fault(body.model_dump())


@router.delete("/faults", response_model=m.FaultsCleared)
async def clear_faults(request: Request) -> dict:
    """Remove every rule."""
    return {"cleared": request.app.state.faults.clear(), "faults": []}


@router.delete("/faults/{fault_id}", response_model=m.FaultRemoved, responses=responses(*INPUT, "fault_not_found"))
async def remove_fault(fault_id: str, request: Request) -> dict:
    """Remove one rule by its id (404 ``fault_not_found`` if it is not standing)."""
    return request.app.state.remove_fault(fault_id)


@router.get("/requests", response_model=m.JournalView, responses=responses(*INPUT))
async def requests(request: Request, agent: str | None = None,
                   limit: int | None = Query(None, ge=1, le=10**9)) -> dict:
    """The requests received outside ``/_mock``, OLDEST FIRST (newest last), each ``{time (mock ms),
    agent (agent_id or null), method, path, query, body (parsed JSON, else text, else null), status
    (null while still being answered)}``. ``agent`` keeps one agent's; ``limit`` keeps the newest
    ``limit`` of those (still oldest first)."""
    return request.app.state.journal.view(agent, limit)


@router.get("/leaderboard", response_model=m.Leaderboard, responses=responses(*INPUT))
async def get_leaderboard(request: Request,
                          limit: int = Query(DEFAULT_LEADERBOARD_PAGE, ge=1, le=MAX_LEADERBOARD_PAGE,
                                             description="At most this many rows."),
                          cursor: str | None = Query(None, pattern=CURSOR_PATTERN,
                                                     description="A next_cursor this route answered.")) -> Response:
    """Every agent, best net PnL first, with its volume, fill rate, time-weighted |inventory|, worst
    drawdown and guardrail trips (docs/page.md), a page at a time: the top ``limit`` (100), then
    ``next_cursor`` pages on."""
    return reply(leaderboard(request.app.state.exchange, limit, cursor))


@router.get("/scenarios", response_model=m.ScenarioList)
async def scenarios() -> Response:
    """The shipped scenarios (what ``POST /_mock/scenario {name}`` loads): name, description, markets."""
    return reply(views.scenario_list(list_scenarios()))
