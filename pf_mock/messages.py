"""Every request and answer of the API, declared once.

Each class here is at the same time the core's own type (``Exchange.quote`` takes a ``QuoteRequest``),
the validation of the HTTP body, and its OpenAPI schema; so a field, its range, its unit and its example
are written in one place. Requests are pydantic dataclasses (positional and keyword construction, like
any dataclass); answers are pydantic models. Numbers are strict (a string or ``true`` is not a number),
finite, and unknown fields are ignored. Plain Python and pydantic: no HTTP here.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, Strict, TypeAdapter,
                      ValidationError, create_model, model_serializer, model_validator)
from pydantic.dataclasses import dataclass

from .bounds import MAX_SEED
from .errors import invalid_request
from .guardrails import GUARDRAILS, NAMES as GUARDRAIL_NAMES, Guardrail
from .ranges import EDITABLE_REGIME_FIELDS, MOVE_BPS_RANGE, regime_range

MAX_QUOTE_NUMBER = 1e12          # no price, USD size or guardrail beyond this (bigger ones overflow the grid)
MIN_REFRESH_INTERVAL_S = 0.5
DEFAULT_REFRESH_INTERVAL_S = 5.0
MAX_ADVANCE_S = 7 * 24 * 3600    # one clock advance: a week of live markets is minutes of work; more could stall

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Whole = Annotated[int, Strict()]      # in a body, 96.0 counts as 96 too (ControlBody below), as in JSON Schema
Text = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]
TimeInForce = Literal["GTC", "ALO", "IOC"]
Interval = Literal["1m", "5m", "1h"]
Window = Literal["5m", "1h", "24h"]
Side = Literal["buy", "sell"]

BODY = ConfigDict(extra="ignore")


def _positive(description: str, example: float) -> Any:
    return Field(gt=0, le=MAX_QUOTE_NUMBER, description=description, examples=[example])


SYMBOL = Field(description="A market: `BTC-PERP`, or the bare base (`btc`); case-insensitive.",
               examples=["BTC-PERP"])
Symbol = Annotated[Text, SYMBOL]


# ---- requests ------------------------------------------------------------------------------------
def guarded(declared: tuple[Guardrail, ...] = GUARDRAILS):
    """A request class decorator (under ``@dataclass``): one optional field per declared guardrail, a
    positive number up to ``MAX_QUOTE_NUMBER`` described by its declaration, after the class's own
    fields; and ``guardrails()``, each one's value by name (None: not given)."""
    def add(cls):
        for g in declared:
            cls.__annotations__[g.name] = Annotated[Number | None, _positive(g.description, g.example)]
            setattr(cls, g.name, None)

        def guardrails(self) -> dict[str, float | None]:
            return {g.name: getattr(self, g.name) for g in declared}
        cls.guardrails = guardrails
        return cls
    return add


@dataclass(config=BODY)
@guarded()
class QuoteRequest:
    """One quote: a bid, an ask or both, and the settings of the agent's session on the symbol."""

    symbol: Symbol
    bid_price: Annotated[Number | None, _positive(
        "Bid price in USD; rounded down to the market's tick.", 64_990.0)] = None
    bid_size: Annotated[Number | None, _positive(
        "Bid size in USD notional; converted to base units at the bid price, rounded down.", 200.0)] = None
    ask_price: Annotated[Number | None, _positive(
        "Ask price in USD; rounded up to the market's tick.", 65_010.0)] = None
    ask_size: Annotated[Number | None, _positive(
        "Ask size in USD notional; converted to base units at the ask price, rounded down.", 200.0)] = None
    time_in_force: Annotated[TimeInForce, Field(
        description="GTC rests (taking liquidity first if it crosses); ALO is post-only (a crossing side "
                    "is skipped); IOC never rests.")] = "GTC"
    auto_refresh: Annotated[Flag | None, Field(
        description="Re-post this quote's shape around the mid every refresh_interval_seconds "
                    "(server side). Unset leaves the session's setting as it is.")] = None
    refresh_interval_seconds: Annotated[Number | None, Field(
        ge=MIN_REFRESH_INTERVAL_S, le=MAX_QUOTE_NUMBER,
        description=f"Seconds between refreshes (default {DEFAULT_REFRESH_INTERVAL_S:g}, at least "
                    f"{MIN_REFRESH_INTERVAL_S}).", examples=[5.0])] = None
    # and one field per guardrail (``guardrails.GUARDRAILS``), added by ``guarded``


@dataclass(config=BODY)
class SymbolRequest:
    symbol: Symbol


@dataclass(config=BODY)
class HedgeRequest:
    symbol: Symbol
    hedge_pct: Annotated[Number, Field(gt=0, le=1, description="Share of the position to hedge, in (0, 1].",
                                       examples=[1.0])] = 1.0


@dataclass(config=BODY)
class RegisterRequest:
    agent_id: Annotated[Text | None, Field(
        pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="The id to register under (1-64 of [A-Za-z0-9_-]); "
        "a random one when omitted.", examples=["my_bot"])] = None


def parse(kind: type, data: Any):
    """Build a request from plain data (a front's parsed JSON) or raise 400 ``invalid_request`` naming
    the first bad field: the same check the HTTP layer makes, for fronts that have no framework."""
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or None
        raise invalid_request(f"{field}: {first.get('msg', 'invalid value')}." if field else
                              first.get("msg", "Invalid request."), field=field) from None


# ---- answers -------------------------------------------------------------------------------------
BOOK_SPREAD = "The book's spread, best_ask - best_bid, in bps of the mid (null with a side empty)."
class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


Ms = Annotated[int, Field(description="Mock-clock time in milliseconds since the epoch.", examples=[1767225600000])]
Usd = Annotated[float, Field(description="USD.")]


class ErrorBody(BaseModel):
    """Every non-2xx answer: a code, a sentence, and detail fields where useful."""

    model_config = ConfigDict(extra="allow")
    error: str = Field(description="snake_case error code (see the error catalogue).", examples=["invalid_request"])
    message: str = Field(description="One plain sentence.", examples=["bid_price must be below ask_price."])
    field: str | None = Field(None, description="The request field at fault, when there is one.")


class Simulation(Answer):
    initial_mid: float = Field(description="The simulation's starting price, USD.")
    volatility_annual: float = Field(description="Annualised volatility of the mark price (0.5 = 50%).")
    spread_bps: float = Field(description="Typical background spread, bps.")
    depth_usd: float = Field(description="House liquidity per price level at the touch, USD.")
    taker_rate_per_minute: float = Field(description="Taker orders per minute (Poisson).")
    synthetic: bool = Field(description="True for a simulated market; false for one that replays a recording "
                                        "(the other figures are then the synthetic model's, for reference).")


class MarketItem(Answer):
    symbol: str = Field(description="The market's name, BASE-PERP.", examples=["BTC-PERP"])
    base: str = Field(description="The asset the size is counted in.", examples=["BTC"])
    quote: str = Field(description="The currency prices and PnL are in.", examples=["USDC"])
    dex: str = Field(description="main (crypto perps) or xyz (HIP-3 real-world assets).")
    asset_class: str = Field(description="crypto, stock, index, commodity or fx.")
    tier: str = Field(description="Liquidity tier: major, mid or small; it sets the synthetic spread and depth.")
    sz_decimals: int = Field(description="Decimals of a size in base units.")
    tick_size: float = Field(description="Price tick at the current mark price, USD.")
    min_notional_usd: float = Field(description="Smallest order, USD notional.")
    max_leverage: int = Field(description="Margin needed is notional / max_leverage.")
    mid: float = Field(description="The book's midpoint (best_bid + best_ask) / 2, USD (the mark price while a "
                                   "side is empty).")
    mark_price: float = Field(description="The simulation's fair value on the tick grid, USD: what PnL, equity, "
                                          "margin and mid_at_fill use.")
    best_bid: float | None = Field(description="Best bid, USD (null when that side is empty).")
    best_ask: float | None = Field(description="Best ask, USD (null when that side is empty).")
    status: Literal["active", "halted"] = Field(description="active; halted once a replayed recording has ended "
                                                             "(orders are then refused with 409 market_halted).")
    simulation: Simulation = Field(description="The synthetic market's regime at the start: initial_mid, "
                                               "volatility_annual, spread_bps, depth_usd, taker_rate_per_minute.")


class MarketList(Answer):
    markets: list[MarketItem] = Field(description="One page of the catalogue.")
    count: int = Field(description="Markets in this page.")
    total: int = Field(description="Markets in the catalogue.")
    offset: int = Field(description="Markets skipped before this page.")


class MarketDetail(MarketItem):
    spread_bps: float | None = Field(description=BOOK_SPREAD)
    volatility_annual: float = Field(description="Annualised volatility of the mark price now (0.55 = 55%).")
    volume_24h_usd: float = Field(description="Notional of the trades shown over the last 1,440 minutes, USD.")
    high_24h: float = Field(description="Highest trade price over the last 24 h, USD.")
    low_24h: float = Field(description="Lowest trade price over the last 24 h, USD.")
    change_24h_pct: float = Field(description="Change of the mark price over the last 24 h, percent.")
    timestamp: Ms


class Price(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    best_bid: float | None = Field(description="Best bid, USD (null when that side is empty).")
    best_ask: float | None = Field(description="Best ask, USD (null when that side is empty).")
    mid: float = Field(description="The book's midpoint (best_bid + best_ask) / 2, USD (the mark price while a "
                                   "side is empty).")
    mark_price: float = Field(description="The simulation's fair value on the tick grid, USD: what PnL, equity, "
                                          "margin and mid_at_fill use.")
    spread_bps: float | None = Field(description=BOOK_SPREAD)
    timestamp: Ms


class LevelView(Answer):
    price: float = Field(description="USD.")
    size: float = Field(description="Base units resting at this price.")
    notional_usd: float = Field(description="price x size, USD.")


class OrderBookView(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    bids: list[LevelView] = Field(description="Best first.")
    asks: list[LevelView] = Field(description="Best first.")
    mid: float = Field(description="The book's midpoint, USD.")
    spread_bps: float | None = Field(description=BOOK_SPREAD)
    timestamp: Ms


class Print(Answer):
    price: float = Field(description="USD.")
    size: float = Field(description="Base units.")
    side: Side = Field(description="The taker's side.")
    timestamp: Ms


class Trades(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    trades: list[Print] = Field(description="Newest first.")


class CandleView(Answer):
    timestamp: Ms = Field(description="Start of the bucket, ms.")
    open: float = Field(description="First trade price in the bucket, USD.")
    high: float = Field(description="Highest trade price, USD.")
    low: float = Field(description="Lowest trade price, USD.")
    close: float = Field(description="Last trade price, USD.")
    volume_usd: float = Field(description="Traded notional, USD.")


class Candles(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    interval: Interval = Field(description="The bucket's length: 1m, 5m or 1h.")
    candles: list[CandleView] = Field(description="Oldest first.")


class Registered(Answer):
    agent_id: str = Field(examples=["ag_3f9c2a7b1e04"])
    api_key: str = Field(pattern=r"^pf_test_[A-Za-z0-9_]{8,}$", examples=["pf_test_0123456789abcdef"])
    balance_usd: float


class FaucetClaim(Answer):
    credited: float = Field(description="USD credited.")
    balance_usd: float


class Position(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    position: float = Field(description="Base units, signed (+ long).")
    net_delta_usd: float = Field(description="position x mark_price, USD, signed.")


class Account(Answer):
    agent_id: str = Field(description="The agent the key belongs to.")
    balance_usd: float = Field(description="Cash, USD.")
    equity_usd: float = Field(description="Cash plus every position x its mark_price, USD.")
    open_orders: int = Field(description="Resting orders, all markets.")
    positions: list[Position] = Field(description="Each market where you hold a position.")


class SessionView(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    status: Literal["idle", "active", "paused", "stopped"] = Field(
        description="idle (never quoted), active, paused (max_spread_bps) or stopped (session_stop_loss_usd).")
    reason: str | None = Field(description="Why the session is as it is (e.g. stop_loss, market_spread_wide).")
    guardrails: dict[str, float | None] = Field(
        description=f"{', '.join(GUARDRAIL_NAMES)} in force (null: off).")
    auto_refresh: bool = Field(description="Whether the server re-posts the last quote around the mid.")
    refresh_interval_seconds: float = Field(description="Seconds between refreshes.")
    started_at: Ms | None = Field(description="When the session began, ms (null: idle).")
    stopped_at: Ms | None = Field(description="When the stop-loss stopped it, ms (null: not stopped).")


class QuoteAnswer(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    bid_id: str | None = Field(description="The bid's order id (null: no bid posted).", examples=["ord_5a1c90f3e2b7"])
    ask_id: str | None = Field(description="The ask's order id (null: no ask posted).")
    bid_price: float | None = Field(description="Price posted, USD.")
    ask_price: float | None = Field(description="Price posted, USD.")
    bid_size: float | None = Field(description="Notional posted, USD.")
    ask_size: float | None = Field(description="Notional posted, USD.")
    bid_qty: float | None = Field(description="Base units posted.")
    ask_qty: float | None = Field(description="Base units posted.")
    skipped: dict[Literal["bid", "ask"], str] = Field(
        description="Why a side was not posted (would_cross, max_inventory, market_spread_wide); absent when posted.",
        examples=[{"ask": "would_cross"}])
    cancelled_order_ids: list[str] = Field(
        description="The agent's resting orders that self-trade prevention cancelled while this quote matched "
                    "(listed too under GET /v1/mm/orders?status=closed, reason self_trade).",
        examples=[["ord_3f0e71c2a9d4"]])
    session: SessionView = Field(description="The session on this symbol after the quote, as mm_session "
                                             "answers it (while the quote is on its way: as it stands when sent).")
    created_at: Ms = Field(description="When the quote reaches (or reached) the book: the request's instant plus "
                                       "the order-entry latency (docs/market-model.md). Until then its orders are "
                                       "not listed and cannot fill; skipped and cancelled_order_ids then say only "
                                       "what was known when it was sent (a side refused on arrival is listed "
                                       "under status=closed, expired, with its reason).")
    timestamp: Ms


class Cancelled(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    cancelled: int = Field(description="How many orders the cancel takes out: those resting and those on their "
                                       "way to the book when it was sent.")
    order_ids: list[str] = Field(description="Their ids. One that fills before the cancel reaches the book is "
                                             "listed under status=closed as filled.")
    cancelled_at: Ms = Field(description="When the cancel reaches (or reached) the book: the request's instant "
                                         "plus the latency. Until then the orders rest and can fill.")


class OrderView(Answer):
    order_id: str = Field(description="The order's id.")
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    side: Side = Field(description="buy (a bid) or sell (an ask).")
    price: float = Field(description="USD.")
    size: float = Field(description="Base units at entry.")
    remaining: float = Field(description="Base units still resting.")
    notional_usd: float = Field(description="Remaining notional, USD.")
    time_in_force: TimeInForce = Field(description="GTC, ALO or IOC, as posted.")
    created_at: Ms = Field(description="When it reached the book, ms: the request's instant plus the order-entry "
                                       "latency (docs/market-model.md).")


OrderStatus = Literal["open", "closed"]
CloseStatus = Literal["filled", "cancelled", "expired"]
CloseReason = Literal["client", "refresh", "self_trade", "max_inventory", "spread_pause", "stop_loss", "ioc",
                      "would_cross"]
MAX_ORDERS_PAGE = 1000
DEFAULT_ORDERS_PAGE = 100


class ClosedOrderView(OrderView):
    """An order that left the book: its fields as it stood then, and how and why it went."""

    remaining: float = Field(description="Base units not filled when it left the book.")
    notional_usd: float = Field(description="Notional of what remained when it left, USD.")
    status: CloseStatus = Field(
        description="filled (all of it traded), cancelled, or expired (an IOC's remainder, which never rests).")
    reason: CloseReason | None = \
        Field(description="Why it left: client (POST /v1/mm/cancel), refresh (the refresh loop), self_trade "
                          "(self-trade prevention), max_inventory, spread_pause (max_spread_bps), stop_loss "
                          "(session_stop_loss_usd), ioc (an IOC's remainder), would_cross (an ALO side that would have "
                          "crossed when it reached the book); null when filled.",
              examples=["self_trade"])
    closed_at: Ms


class Orders(Answer):
    """Open orders (``status=open``, the default): ``{orders}``. Closed ones: ``{orders, next_cursor}``."""

    orders: list[OrderView | ClosedOrderView] = Field(
        description="Open orders, or with status=closed the orders that left the book (oldest first).")
    next_cursor: str | None = Field(None, description="status=closed only: pass as cursor for the next page; "
                                                      "null when no kept closed order comes after this page.")

    @model_serializer(mode="wrap")
    def _open_listing_unchanged(self, handler: SerializerFunctionWrapHandler):  # no return type: keeps the schema
        # The open listing's shape is the contract's {orders}; only a closed listing pages.
        data = handler(self)
        if "next_cursor" not in self.model_fields_set:
            data.pop("next_cursor", None)
        return data


class FillView(Answer):
    fill_id: str = Field(description="The fill's id.")
    order_id: str = Field(description="The order that filled.")
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    side: Side = Field(description="Your side: buy or sell.")
    price: float = Field(description="USD.")
    size: float = Field(description="Base units.")
    notional_usd: float = Field(description="price x size, USD.")
    liquidity: Literal["maker", "taker"] = Field(description="maker (your resting order was hit) or taker.")
    fee_usd: float = Field(description="USD; negative is a rebate.")
    mid_at_fill: float = Field(description="The mark price at the fill, USD (the edge is measured from it).")
    kind: Literal["quote", "hedge", "auto_hedge"] = Field(description="quote, hedge (mm_hedge) or auto_hedge "
                                                                      "(auto_hedge_threshold_usd).")
    timestamp: Ms


class Fills(Answer):
    fills: list[FillView] = Field(description="Oldest first.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null when this page reaches "
                                                "the newest fill.")


class Inventory(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    position: float = Field(description="Base units, signed (+ long).")
    net_delta_usd: float = Field(description="position x mark_price, USD, signed.")
    avg_entry_price: float | None = Field(description="Average cost of the position, USD; null when flat.")
    mark_price: float = Field(description="The simulation's fair value on the tick grid, USD: what PnL, equity, "
                                          "margin and mid_at_fill use.")
    unrealized_pnl: float = Field(description="(mark_price - avg_entry_price) x position, USD.")
    realized_pnl: float = Field(description="Inventory PnL closed by trades, USD (average-cost split).")
    timestamp: Ms


class Hedged(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    side: Side = Field(description="The hedge order's side (sell to reduce a long).")
    size: float = Field(description="Base units.")
    size_usd: float = Field(description="Notional traded, USD.")
    fill_price: float = Field(description="Volume-weighted, USD.")
    fee_usd: float = Field(description="Taker fee paid, USD.")
    slippage_usd: float = Field(description="What the fills cost against the mark price, USD (positive = a cost).")
    net_delta_usd: float = Field(description="position x mark_price after the hedge, USD, signed.")
    fills: int = Field(description="How many fills it made.")
    timestamp: Ms


class Pnl(Answer):
    symbol: str | None = Field(description="The market, or null for every market.")
    since: Ms = Field(description="Start of the window, ms.")
    until: Ms = Field(description="End of the window, ms.")
    spread_income: float = Field(description="USD: the edges of maker fills, each side sign x (mid_at_fill - "
                                             "price) x size (+1 buy, -1 sell).")
    rebates: float = Field(description="USD: maker rebates (positive).")
    inventory_pnl: float = Field(description="USD: the position marked to the mark price over the window "
                                             "(realized + unrealized).")
    realized_inventory_pnl: float = Field(description="USD: the part of inventory_pnl closed by trades.")
    unrealized_inventory_pnl: float = Field(description="USD: the part of inventory_pnl still open.")
    fees: float = Field(description="USD: taker fees, positive; already inside hedge_cost (do not subtract "
                                    "them again).")
    hedge_cost: float = Field(description="USD, positive = a cost: fees plus slippage, slippage being minus "
                                          "the edges of taker fills.")
    net_pnl: float = Field(description="USD: spread_income + rebates + inventory_pnl - hedge_cost, the change "
                                       "of equity over the window.")
    volume_usd: float = Field(description="Notional of every fill, USD.")
    fills: int = Field(description="Fills in the window.")
    maker_fills: int = Field(description="Fills of resting orders.")
    taker_fills: int = Field(description="Fills that took liquidity (hedges, crossing quotes).")




# ---- /_mock: the mock's own controls --------------------------------------------------------------
class ControlBody(BaseModel):
    model_config = BODY

    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        """JSON Schema counts 96.0 as the integer 96; a strict int field does not, so convert it first
        (a string, ``true`` or 96.5 stays refused)."""
        if not isinstance(data, dict):
            return data
        whole = {name for name, f in cls.model_fields.items() if "int" in str(f.annotation)}
        return {k: int(v) if k in whole and isinstance(v, float) and v.is_integer() else v for k, v in data.items()}


class ResetRequest(ControlBody):
    seed: Whole | None = Field(None, ge=0, le=MAX_SEED, description="Restart from this seed (default: the same).")


class AdvanceRequest(ControlBody):
    seconds: Number = Field(ge=0, le=MAX_ADVANCE_S, description="Simulated seconds to move the manual clock.",
                            examples=[60.0])


class JumpRequest(ControlBody):
    move_bps: Number = Field(gt=MOVE_BPS_RANGE[0], le=MOVE_BPS_RANGE[1], examples=[-200.0],
                             description="Move of the mark price, bps (-100% < move; at most 1000x).")


def _regime_field(name: str) -> tuple:
    low, high, strict = regime_range(name)
    bounds = {} if low is None else ({"gt": low} if strict else {"ge": low})
    if high is not None:
        bounds["le"] = high
    return Number | None, Field(None, **bounds)


# The regime's fields and ranges are declared once, in model.py; this body is derived from them.
RegimeRequest = create_model(
    "RegimeRequest", __base__=ControlBody, __doc__="Only the fields given change; see the regime in model.py.",
    **{name: _regime_field(name) for name in EDITABLE_REGIME_FIELDS})


class ScenarioRequest(ControlBody):
    """Either a shipped scenario's ``name`` or a whole inline ``scenario`` document (the TOML schema as
    JSON); the document itself is checked by ``pf_mock.scenarios.parse_scenario``."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"oneOf": [
        {"required": ["name"], "properties": {"name": {"type": "string"}}},
        {"required": ["scenario"], "properties": {"scenario": {"type": "object"}}}]})

    name: Text | None = Field(None, description="A shipped scenario (`pf-mock scenarios` lists them).",
                              examples=["flash_crash"])
    scenario: dict[str, Any] | None = Field(None, description="A whole scenario document, as its TOML file "
                                                              "would read in JSON.")


class FaultRequest(ControlBody):
    """A fault rule: a status to answer with, a latency to add, or both."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"anyOf": [
        {"required": ["status"], "properties": {"status": {"type": "integer"}}},
        {"required": ["latency_ms"], "properties": {"latency_ms": {"type": "number"}}}]})
    path: Text = Field(description="Path pattern; `*` matches within a segment, `re:` starts a regular expression.",
                       examples=["/v1/mm/quote"])
    method: Text | None = Field(None, description="GET, POST, ... (any case); all methods when omitted.")
    status: Whole | None = Field(None, ge=400, le=599, description="Answer with this error status.")
    error: Text | None = Field(None, description="The answer's error code (needs status).", examples=["service_unavailable"])
    message: Text | None = Field(None, description="The answer's message (needs status).")
    latency_ms: Number | None = Field(None, ge=0, le=120_000, description="Delay before answering, ms.")
    probability: Number | None = Field(None, ge=0, le=1, description="Chance that a matching request is hit.")
    count: Whole | None = Field(None, ge=1, le=2**53, description="Hit this many requests, then retire.")


class ClockView(Answer):
    mode: Literal["manual", "realtime"] = Field(description="manual: time moves only on a clock advance.")
    now: Ms = Field(description="Mock time now, ms since the epoch.")
    speed: float = Field(description="Mock seconds per wall second (realtime).")


class Advancing(Answer):
    kind: Literal["advance", "catch_up"] = Field(description="`advance`: a `POST /_mock/clock/advance`; "
                                                 "`catch_up`: a realtime clock's markets catching up after idling.")
    from_: Ms = Field(alias="from", description="Where the clock advance began, ms.")
    to: Ms = Field(description="Where it will end, ms.")
    now: Ms = Field(description="Where it has got to, ms.")
    percent: int = Field(ge=0, le=100, description="How much of it is done, in whole percent of simulated time.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class MockState(Answer):
    seed: int = Field(description="The seed every market's path is drawn from.")
    clock: ClockView = Field(description="mode, now (ms), speed.")
    agents: int = Field(description="Agents registered.")
    active_markets: list[str] = Field(description="Markets that have been touched.")
    scenario: str | None = Field(description="The scenario loaded, if any.")
    advancing: Advancing | None = Field(None, description="A clock advance under way (absent otherwise).")


class Restored(MockState):
    restored: bool
    restore_seconds: float = Field(description="Wall time the restore took (reading, checking and building).")


class Advanced(Answer):
    clock: ClockView = Field(description="mode, now (ms), speed.")


class Jumped(Answer):
    symbol: str = Field(description="The market, e.g. BTC-PERP.", examples=["BTC-PERP"])
    mid: float = Field(description="The book's midpoint after the jump, USD.")
    mark_price: float = Field(description="The fair value after the jump, USD.")
    timestamp: Ms


class RegimeSet(Answer):
    symbol: str
    regime: dict[str, int | float]
    timestamp: Ms


class ScenarioApplied(Answer):
    scenario: str | None = Field(description="The scenario's name.")
    description: str | None = Field(description="What it plays out.")
    reset: bool = Field(description="True when the scenario has a seed: the exchange was reset to it (every "
                                    "agent, order and fill forgotten).")
    seed: int = Field(description="The seed in force.")
    loaded_at: Ms = Field(description="When it was loaded, ms.")
    regimes: dict[str, dict[str, int | float]] = Field(description="Each market's regime set by it.")
    scheduled: list[dict[str, Any]] = Field(description="Its scheduled events (at: ms, symbol, what): the "
                                                        "news calendar.")


class FaultView(Answer):
    id: str
    path: str
    method: str | None
    status: int | None
    error: str | None
    message: str | None
    latency_ms: float
    probability: float
    count: int | None
    remaining: int | None
    matched: int
    fired: int


class FaultList(Answer):
    faults: list[FaultView]


class FaultAdded(FaultList):
    fault: FaultView


class FaultsCleared(FaultList):
    cleared: int


class FaultRemoved(FaultList):
    removed: FaultView


class JournalEntry(Answer):
    time: Ms
    agent: str | None
    method: str
    path: str
    query: dict[str, str | list[str]]
    body: Any
    status: int | None


class JournalView(Answer):
    requests: list[JournalEntry] = Field(description="Oldest first.")
    count: int


class Health(Answer):
    status: Literal["ok"]
    version: str = Field(examples=["0.1.0"])
    timestamp: Ms


# ---- the live page: the leaderboard and the scenario list (answers), guardrail events (in the feed) ----
class LeaderboardRow(Answer):
    rank: int = Field(description="1 for the best net PnL.")
    agent_id: str
    net_pnl: Usd = Field(description="`GET /v1/mm/pnl`'s net_pnl since the agent was created, all its markets.")
    volume_usd: Usd
    fills: int
    fill_rate: float | None = Field(description="Filled over posted USD notional of its quotes, both sides; "
                                                "null before it posted any.")
    time_weighted_abs_inventory_usd: Usd = Field(description="|position| x mark over time, averaged over its "
                                                             "activity.")
    worst_drawdown_usd: Usd = Field(description="The largest fall of its net PnL from an earlier peak.")
    guardrail_trips: int = Field(description="How often its guardrails acted (pauses, held sides, auto-hedges, "
                                             "stop-losses).")
    guardrail_trips_by_rule: dict[str, int]


class Leaderboard(Answer):
    agents: list[LeaderboardRow] = Field(description="A page of the ranking: best net PnL first; ties by agent id.")
    total: int = Field(description="Agents ranked in all.")
    next_cursor: str | None = Field(None, description="Give it as cursor for the next page; null on the last.")
    timestamp: Ms


class ScenarioItem(Answer):
    name: str
    description: str
    markets: list[str]


class ScenarioList(Answer):
    scenarios: list[ScenarioItem]


class GuardrailEventView(Answer):
    timestamp: Ms
    symbol: str
    guardrail: str = Field(description="The guardrail that acted: one of the quote's guardrail fields.")
    detail: str | None
