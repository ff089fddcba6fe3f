"""Request bodies. Numbers are strict (a string is not a price), unknown fields are ignored, and
every failure becomes the contract's 400 ``invalid_request`` naming the field (see ``errors.py``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Strict

Number = Annotated[float, Strict()]
Text = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class QuoteBody(Body):
    symbol: Text
    bid_price: Number | None = None
    bid_size: Number | None = None
    ask_price: Number | None = None
    ask_size: Number | None = None
    time_in_force: Text = "GTC"
    auto_refresh: Flag | None = None
    refresh_interval_seconds: Number | None = None
    max_inventory_usd: Number | None = None
    max_spread_bps: Number | None = None
    auto_hedge_threshold_usd: Number | None = None
    session_stop_loss_usd: Number | None = None


class SymbolBody(Body):
    symbol: Text


class HedgeBody(Body):
    symbol: Text
    hedge_pct: Number = 1.0


class RegisterBody(Body):
    agent_id: Text | None = None


class AdvanceBody(Body):
    seconds: Number


class ResetBody(Body):
    seed: Annotated[int, Strict()] | None = None


class JumpBody(Body):
    move_bps: Number


class RegimeBody(Body):
    volatility_annual: Number | None = None
    spread_bps: Number | None = None
    depth_usd: Number | None = None
    taker_rate_per_minute: Number | None = None
    informed_share: Number | None = None
    drift_bps_per_hour: Number | None = None
    taker_size_usd: Number | None = None
    jump_rate_per_hour: Number | None = None
    jump_bps: Number | None = None


class ScenarioBody(Body):
    """Either a shipped scenario's ``name`` or a whole inline ``scenario`` document (the TOML schema as
    JSON); the document itself is checked by ``pf_mock.scenarios.parse_scenario``."""

    name: Text | None = None
    scenario: dict[str, Any] | None = None


Interval = Literal["1m", "5m", "1h"]
Window = Literal["5m", "1h", "24h"]
