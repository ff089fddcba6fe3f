"""The snapshot document, declared once: what ``POST /_mock/snapshot`` answers, ``POST /_mock/restore`` and
``pf-mock serve --restore/--state`` read. Every field's type, range and pattern is here (pydantic, strict:
no number is taken from a string, no unknown field is kept); ``docs/snapshot.schema.json`` is generated
from it (``json_schema()``), and ``pf_mock.state`` does the rest (what one field alone cannot say: ids
unique, references resolved, the clock and the markets in step).

The shape, version 3 (times in whole microseconds since the epoch where the core counts them so, ``_us``;
in seconds where it keeps seconds; prices on the book in integer price units, sizes in integer lots,
as ``grid.py`` defines them; prices and money elsewhere in USD):

- ``format``, ``version``; ``seed`` (the exchange's, which a scenario's reset may have changed) and
  ``config`` (the server options the exchange runs with);
- ``clock``: ``mode``, ``speed``, ``start_us`` (where a reset goes back to) and ``now_us``;
  ``started_us`` (the exchange's start); ``ran_to_us`` (every market with live business stands there:
  always ``now_us`` in a snapshot, so a restore has nothing to catch up);
- ``agents``: keys, balance, faucet, ledgers (in the order they were opened) with every fill (the
  ledger's totals and average costs follow from them), closed orders (the kept ones), sessions with their
  guardrails and refresh loop;
- ``markets``, in the order they were first touched: the fair value's inputs (the regime timeline and
  the jumps requested: the path itself is a function of them and of the seed), the book (every resting
  order, in queue order at each price), the house's ladder, the pending events (refresh-loop ticks and
  scenario steps), the tape (trades and minute candles kept), counters and the lazy loop's position;
- ``live``: per market, the agents whose sessions watch it, in the order they started watching;
- ``analytics``: the running statistics behind the leaderboard;
- ``scenario``: the scenario in force (its document, when it was loaded), or null.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import ConfigDict, Discriminator, Field, Tag, TypeAdapter
from typing_extensions import NotRequired, TypedDict

from .bounds import MAX_FEE_BPS, MAX_SEED, MAX_SPEED, MAX_STARTING_BALANCE
from .messages import MAX_QUOTE_NUMBER, MIN_REFRESH_INTERVAL_S

FORMAT = "pf-mock-snapshot"
VERSION = 4
VERSIONS_READ = (2, 3, 4)          # 3 added the replayed market's entry, 4 messages on their way (inflight.py)
                                   # and the latency option; an older document reads the same

MAX_US = 10 ** 16               # 2286-11-20: any mock time a clock can reach from a sane start
MAX_S = MAX_US / 1e6
MAX_INT = 2 ** 53               # integers every JSON reader keeps exactly
MAX_USD = 1e15                  # cash, PnL and notional: far past any balance the options allow
MAX_PRICE = 1e12                # USD; a jump keeps a mid within 10,000x its initial one
MAX_ITEMS = 1_000_000           # fills of one agent, and other long lists: a bound, not a target

CONFIG = ConfigDict(extra="forbid", strict=True)


def _doc(cls):
    cls.__pydantic_config__ = CONFIG
    return cls


def num(**bounds) -> Any:
    return Annotated[float, Field(allow_inf_nan=False, **bounds)]


def rnum(**bounds) -> Any:
    """A number kept as written: a whole number stays an int, a fraction a float (a regime's fields are
    the catalog's ints until a request sets them, and the API shows them as they are)."""
    return Union[Annotated[int, Field(**bounds)], Annotated[float, Field(allow_inf_nan=False, **bounds)]]


def whole(low: int, high: int) -> Any:
    return Annotated[int, Field(ge=low, le=high)]


Us = whole(0, MAX_US)
Seconds = num(ge=0, le=MAX_S)
SignedUsd = num(ge=-MAX_USD, le=MAX_USD)
UsdPos = num(ge=0, le=MAX_USD)
PriceNumber = num(gt=0, le=MAX_PRICE)
Units = whole(1, MAX_INT)                # a price in price units
Lots = whole(1, MAX_INT)
SignedLots = whole(-MAX_INT, MAX_INT)
Count = whole(0, MAX_INT)
Size = num(ge=0, le=MAX_USD)             # base units
# A catalog's market names: upper case, but for Hyperliquid's thousand-unit markets (kPEPE-PERP, kSHIB-PERP).
SymbolName = Annotated[str, Field(pattern=r"^k?[A-Z0-9]{1,20}-PERP$")]
AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$")]
ApiKey = Annotated[str, Field(pattern=r"^pf_(test|live)_[A-Za-z0-9_]{8,120}$")]
OrderId = Annotated[str, Field(pattern=r"^ord_[0-9a-f]{12}$")]
FillId = Annotated[str, Field(pattern=r"^fill_[0-9a-f]{12}$")]
Tif = Literal["GTC", "ALO", "IOC"]
Kind = Literal["quote", "hedge", "auto_hedge"]
Guard = Optional[num(gt=0, le=MAX_QUOTE_NUMBER)]
GuardrailName = Literal["max_inventory_usd", "max_spread_bps", "auto_hedge_threshold_usd", "session_stop_loss_usd"]
SessionReason = Optional[Literal["market_spread_wide", "stop_loss", "insufficient_balance",
                                 "max_inventory_usd: bid held", "max_inventory_usd: ask held"]]
Bps = num(ge=-1e22, le=1e22)           # a quote side's distance from the mid (prices reach 1e12 USD)


# ---- the exchange's options and clock ----------------------------------------------------------
@_doc
class StateConfig(TypedDict):
    seed: whole(0, MAX_SEED)
    starting_balance: num(ge=0, le=MAX_STARTING_BALANCE)
    strict_auth: bool
    maker_rebate_bps: num(ge=0, le=MAX_FEE_BPS)
    taker_fee_bps: num(ge=0, le=MAX_FEE_BPS)
    latency_ms: NotRequired[Optional[num(ge=0, le=60_000)]]     # --latency-ms (version 4)


@_doc
class StateClock(TypedDict):
    mode: Literal["manual", "realtime"]
    speed: num(ge=0, le=MAX_SPEED)
    start_us: Us
    now_us: Us


# ---- agents ------------------------------------------------------------------------------------
# [symbol, fill_id, order_id, is_buy, price, lots, notional_usd, maker, fee_usd, mark, kind, time_s]
FillRow = tuple[SymbolName, FillId, OrderId, bool, PriceNumber, Lots, UsdPos, bool, num(ge=-1e13, le=1e13), PriceNumber, Kind,
                Seconds]
# [order_id, symbol, is_buy, price, size, remaining, notional_usd, tif, created_at_s, closed_at_s, status, reason]
ClosedRow = tuple[OrderId, SymbolName, bool, PriceNumber, Size, Size, UsdPos, Tif, Seconds, Seconds,
                  Literal["filled", "cancelled", "expired"],
                  Optional[Literal["client", "refresh", "self_trade", "max_inventory", "spread_pause", "stop_loss",
                                   "ioc", "would_cross"]]]


@_doc
class StateClosedOrders(TypedDict):
    dropped: Count
    orders: Annotated[list[ClosedRow], Field(max_length=6_024)]


@_doc
class StateGuardrails(TypedDict):
    max_inventory_usd: Guard
    max_spread_bps: Guard
    auto_hedge_threshold_usd: Guard
    session_stop_loss_usd: Guard


@_doc
class StateShape(TypedDict):
    bid_bps: Optional[Bps]
    ask_bps: Optional[Bps]
    bid_usd: Optional[num(gt=0, le=MAX_QUOTE_NUMBER)]
    ask_usd: Optional[num(gt=0, le=MAX_QUOTE_NUMBER)]
    tif: Tif


@_doc
class StateSession(TypedDict):
    symbol: SymbolName
    status: Literal["idle", "active", "paused", "stopped"]
    reason: SessionReason
    guardrails: StateGuardrails
    auto_refresh: bool
    refresh_interval_seconds: num(ge=MIN_REFRESH_INTERVAL_S, le=MAX_QUOTE_NUMBER)
    started_at: Optional[Seconds]
    stopped_at: Optional[Seconds]
    shape: Optional[StateShape]
    generation: Count
    equity_at_start: SignedUsd
    hedge_due: bool


@_doc
class StateAgent(TypedDict):
    agent_id: AgentId
    api_key: ApiKey
    created_at: Seconds
    starting_balance: num(ge=0, le=MAX_STARTING_BALANCE)
    faucet_claimed: bool
    ledgers: Annotated[list[SymbolName], Field(max_length=512)]
    fills: Annotated[list[FillRow], Field(max_length=MAX_ITEMS)]
    closed_orders: StateClosedOrders
    sessions: Annotated[list[StateSession], Field(max_length=512)]


# ---- markets -----------------------------------------------------------------------------------
@_doc
class StateRegime(TypedDict):
    volatility_annual: rnum(ge=0, le=20)
    spread_bps: rnum(gt=0, le=10_000)
    depth_usd: rnum(gt=0, le=1e8)
    taker_rate_per_minute: rnum(ge=0, le=6_000)
    informed_share: rnum(ge=0, le=1)
    drift_bps_per_hour: rnum(ge=-1_000, le=1_000)
    taker_size_usd: rnum(gt=0, le=1e8)
    updates_per_minute: rnum(gt=0, le=6_000)
    levels: whole(1, 200)
    jump_rate_per_hour: rnum(ge=0, le=60)
    jump_bps: rnum(ge=0, le=2_000)
    vol_of_vol: rnum(ge=0, le=3)
    taker_size_sigma: rnum(ge=0, le=10)
    fast_informed_share: rnum(ge=0, le=1)
    informed_horizon_seconds: rnum(gt=0, le=86_400)
    spread_vol_sensitivity: rnum(ge=0, le=10)
    jump_spread_widening: rnum(ge=0, le=1_000)
    spread_refill_seconds: rnum(gt=0, le=86_400)
    # market model v3 (pf_mock/models/)
    informed_size_elasticity: rnum(ge=0, le=2)
    ladder_step_bps: rnum(ge=0, le=10_000)
    ladder_depth_ratio: rnum(ge=0, le=1_000)
    depth_growth: rnum(ge=0, le=100)
    depth_refill_seconds: rnum(ge=0, le=3_600)
    taker_tail_index: rnum(ge=0, le=5)
    taker_tail_quantile: rnum(gt=0, lt=1)
    meta_rate_per_minute: rnum(ge=0, le=600)
    meta_min_seconds: rnum(gt=0, le=86_400)
    meta_length_index: rnum(gt=0, le=10)
    meta_share: rnum(ge=0, le=1)
    hawkes_branching: rnum(ge=0, le=1)
    hawkes_decay_seconds: rnum(gt=0, le=86_400)
    taker_vol_elasticity: rnum(ge=0, le=3)
    taker_move_share: rnum(ge=0, le=1)
    impact_y: rnum(ge=0, le=10)
    daily_volume_usd: rnum(gt=0, le=1e15)
    impact_permanent_share: rnum(ge=0, le=1)
    impact_decay_seconds: rnum(ge=0, le=86_400)
    queue_cancel_per_second: NotRequired[rnum(ge=0, le=100)]      # (absent in older documents: the catalog's)
    queue_power: NotRequired[rnum(gt=0, le=100)]
    latency_ms: rnum(ge=0, le=60_000)
    latency_sigma: rnum(ge=0, le=3)


@_doc
class StateRegimeChange(TypedDict):
    at_us: Us
    regime: StateRegime


@_doc
class StateShift(TypedDict):
    at_us: Us
    shift: num(ge=-25, le=25)            # log move of a requested jump


@_doc
class StateFairValue(TypedDict):
    start_us: Us
    log_mid: num(ge=-40, le=40)
    regime: StateRegime
    changes: Annotated[list[Union[StateRegimeChange, StateShift]], Field(max_length=MAX_ITEMS)]


# [order_id, owner (null: the house), lots left, lots at entry]
BookOrder = tuple[whole(-MAX_INT, MAX_INT), Optional[AgentId], Lots, Lots]
LevelRow = tuple[Units, Annotated[list[BookOrder], Field(min_length=1, max_length=MAX_ITEMS)]]


@_doc
class StateBook(TypedDict):
    bids: Annotated[list[LevelRow], Field(max_length=MAX_ITEMS)]       # best first
    asks: Annotated[list[LevelRow], Field(max_length=MAX_ITEMS)]


@_doc
class StateHouse(TypedDict):
    step: whole(0, MAX_INT)
    last_bid: whole(0, MAX_INT)
    last_ask: whole(0, MAX_INT)
    bids: Annotated[list[tuple[Units, whole(-MAX_INT, -1)]], Field(max_length=10_000)]
    asks: Annotated[list[tuple[Units, whole(-MAX_INT, -1)]], Field(max_length=10_000)]
    dirty: bool
    eaten: Annotated[list[Units], Field(max_length=10_000)]
    # [step, top bid, top ask, levels, index of its regime in the fair value's timeline]
    laid_out: Optional[tuple[Units, Units, Units, whole(1, 200), whole(0, MAX_ITEMS)]]
    # the touch's [price, house order id] per side (bid, ask), and the refill state (models/book_shape.py):
    # each side's deficit in USD and the instant it was last brought forward
    touch: tuple[Optional[tuple[Units, whole(-MAX_INT, -1)]], Optional[tuple[Units, whole(-MAX_INT, -1)]]]
    deficit: tuple[UsdPos, UsdPos]
    deficit_us: tuple[Us, Us]
    # the house's lots posted again at the back of a level where an agent waits (models/queue.py): [is_buy,
    # price, [house order ids]] per level (absent in documents written before it: none)
    behind: NotRequired[Annotated[list[tuple[bool, Units, Annotated[list[whole(-MAX_INT, -1)], Field(max_length=10_000)]]],
                                  Field(max_length=10_000)]]


@_doc
class StateImpact(TypedDict):
    """Agents' trades' moves of the fair value (models/impact.py), in time order."""
    times: Annotated[list[Us], Field(max_length=1_000_000)]
    permanent: Annotated[list[num(ge=-10.0, le=10.0)], Field(max_length=1_000_000)]
    transient: Annotated[list[num(ge=-10.0, le=10.0)], Field(max_length=1_000_000)]
    decay_s: Annotated[list[num(ge=0, le=MAX_S)], Field(max_length=1_000_000)]


@_doc
class StateRefreshTick(TypedDict):
    type: Literal["refresh"]
    agent_id: AgentId
    generation: Count


RegimeFields = Annotated[dict[str, rnum()], Field(max_length=20)]


@_doc
class StateScenarioJump(TypedDict):
    type: Literal["scenario_jump"]
    current: bool
    move_bps: num(gt=-10_000, le=100_000)


@_doc
class StateScenarioRegime(TypedDict):
    type: Literal["scenario_regime"]
    current: bool
    changes: RegimeFields
    duration_seconds: Optional[num(gt=0, le=365 * 24 * 3600)]


@_doc
class StateScenarioRestore(TypedDict):
    type: Literal["scenario_restore"]
    current: bool
    changes: RegimeFields


@_doc
class StateQuoteArrival(TypedDict):
    """A quote on its way to the book (inflight.py): as sent, with its sides on the grid and their ids."""
    type: Literal["quote"]
    agent_id: AgentId
    request: dict[str, Any]             # POST /v1/mm/quote's body (checked the same way)
    bid: Optional[tuple[Units, Lots]]
    ask: Optional[tuple[Units, Lots]]
    ids: tuple[Optional[whole(1, MAX_INT)], Optional[whole(1, MAX_INT)]]
    notional: UsdPos


@_doc
class StateCancelArrival(TypedDict):
    type: Literal["cancel"]
    agent_id: AgentId


Action = Annotated[Union[StateRefreshTick, StateScenarioJump, StateScenarioRegime, StateScenarioRestore,
                         StateQuoteArrival, StateCancelArrival],
                 Field(discriminator="type")]
# [when_us, sequence number (ties: the earlier first), what]
Scheduled = tuple[Us, Count, Action]


@_doc
class StateMarket(TypedDict):
    symbol: SymbolName
    now_us: Us
    fair: StateFairValue
    book: StateBook
    house: StateHouse
    impact: StateImpact
    house_seq: whole(-MAX_INT, 0)
    order_seq: Count
    fill_seq: Count
    # [order_id, tif, created_at_s, tag] of each agent's resting order (the book has the rest)
    agent_orders: Annotated[list[tuple[Count, Tif, Seconds, Kind]], Field(max_length=MAX_ITEMS)]
    schedule: Annotated[list[Scheduled], Field(max_length=MAX_ITEMS)]
    schedule_seq: Count
    # [price units, lots, taker is a buyer, time_us]
    trades: Annotated[list[tuple[Units, Lots, bool, Us]], Field(max_length=5_000)]
    trades_printed: Count
    # [minute, open, high, low, close (price units), volume_usd]
    candles: Annotated[list[tuple[whole(0, MAX_US // 60_000_000), Units, Units, Units, Units, UsdPos]],
                       Field(max_length=3 * 24 * 60)]
    events_processed: Count
    active: bool
    plan: Optional[tuple[whole(0, MAX_US // 60_000_000), Count]]      # [minute, sample] being simulated
    was_live: bool
    quiet_since_us: Us


# ---- a replayed market -------------------------------------------------------------------------
@_doc
class StateRecording(TypedDict):
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]      # SHA-256 of the recorded events as replayed
    path: Annotated[str, Field(max_length=4_096)]                 # for people: not compared on a restore
    venue: Annotated[str, Field(max_length=64)]
    symbol: Annotated[str, Field(max_length=64)]
    queue: Annotated[str, Field(max_length=64)]                   # risk_averse, power:N
    latency_us: whole(0, 60_000_000)
    partial_fills: bool


Reason = Literal["client", "refresh", "self_trade", "max_inventory", "spread_pause", "stop_loss", "ioc"]
# [tif, created_at_s, tag] of an agent's order
OrderMeta = tuple[Tif, Seconds, Kind]
# [order_id, owner, is_buy, price units, lots left, lots, details]
OpenOrder = tuple[Lots, AgentId, bool, Units, Lots, Lots, OrderMeta]
# the same, with [lots ahead in the recorded queue, trade lots counted at its price since the level changed]
RestingOrder = tuple[Lots, AgentId, bool, Units, Lots, Lots, Optional[OrderMeta],
                     tuple[num(ge=-MAX_INT, le=MAX_INT), num(ge=0, le=MAX_INT)]]
HouseLevelRow = tuple[Units, Lots]


@_doc
class StateReplayMarket(TypedDict):
    source: Literal["replay"]
    symbol: SymbolName
    recording: StateRecording
    now_us: Us
    started_us: Us
    group: Count                    # groups of recorded events (one instant each) applied
    next_i: Count                   # the next recorded event
    house: tuple[Annotated[list[HouseLevelRow], Field(max_length=MAX_ITEMS)],
                 Annotated[list[HouseLevelRow], Field(max_length=MAX_ITEMS)]]     # [bids, asks]
    # [bid side?, price units, lots] agents took and the recording has not updated since
    taken: Annotated[list[tuple[bool, Units, Lots]], Field(max_length=MAX_ITEMS)]
    resting: Annotated[list[RestingOrder], Field(max_length=MAX_ITEMS)]
    open: Annotated[list[OpenOrder], Field(max_length=MAX_ITEMS)]                 # accepted, on their way
    cancelling: Annotated[list[tuple[Lots, Lots]], Field(max_length=MAX_ITEMS)]   # [order_id, order_id]
    listed: Annotated[list[Lots], Field(max_length=MAX_ITEMS)]     # agents' orders not being cancelled, in order
    # [arrival_us, sequence number, 0: an order / 1: a cancel, order_id, the cancel's reason]
    pending: Annotated[list[tuple[Us, Count, Literal[0, 1], Lots, Optional[Reason]]], Field(max_length=MAX_ITEMS)]
    schedule: Annotated[list[Scheduled], Field(max_length=MAX_ITEMS)]
    schedule_seq: Count
    active: bool
    trades: Annotated[list[tuple[Units, Lots, bool, Us]], Field(max_length=5_000)]
    trades_printed: Count
    candles: Annotated[list[tuple[whole(0, MAX_US // 60_000_000), Units, Units, Units, Units, UsdPos]],
                       Field(max_length=3 * 24 * 60)]
    counters: tuple[Count, Count, Count, Count]     # [order_seq, fill_seq, pending_seq, events_processed]


def _market_kind(value: Any) -> str:
    return "replay" if isinstance(value, dict) and "source" in value else "synthetic"


AnyMarket = Annotated[Union[Annotated[StateMarket, Tag("synthetic")], Annotated[StateReplayMarket, Tag("replay")]],
                      Discriminator(_market_kind)]


# ---- analytics ---------------------------------------------------------------------------------
Pair = tuple[SignedUsd, SignedUsd]                      # [peak, worst] of a drawdown
SideStatsRow = tuple[UsdPos, UsdPos, Count]   # [posted, filled, fills]
Horizon = tuple[Count, UsdPos, SignedUsd, SignedUsd]    # [fills, notional, markout, edge]


@_doc
class StateSymbolStats(TypedDict):
    symbol: SymbolName
    since: Seconds
    lots: SignedLots
    cash: SignedUsd
    mark: PriceNumber
    last_t: Seconds
    inv_integral: num(ge=0, le=1e30)
    max_inv: UsdPos
    value: SignedUsd
    drawdown: Pair
    volume: UsdPos
    fills: Count
    maker_fills: Count
    taker_fills: Count
    bid: SideStatsRow
    ask: SideStatsRow
    horizons: tuple[Horizon, Horizon, Horizon]
    trips: tuple[Count, Count, Count, Count]
    # [time_s, guardrail, detail]
    events: Annotated[list[tuple[Seconds, GuardrailName, SessionReason]], Field(max_length=200)]


@_doc
class StateAgentStats(TypedDict):
    agent_id: AgentId
    total: SignedUsd
    drawdown: Pair
    symbols: Annotated[list[StateSymbolStats], Field(max_length=512)]


# [due_s, agent_id, signed size, mark at the fill, edge]
Pending = tuple[Seconds, AgentId, num(ge=-MAX_USD, le=MAX_USD), PriceNumber, SignedUsd]


@_doc
class StateMarketStats(TypedDict):
    symbol: SymbolName
    holders: Annotated[list[AgentId], Field(max_length=100_000)]
    pending: tuple[list[Pending], list[Pending], list[Pending]]


@_doc
class StateAnalytics(TypedDict):
    agents: Annotated[list[StateAgentStats], Field(max_length=100_000)]
    markets: Annotated[list[StateMarketStats], Field(max_length=512)]


@_doc
class StateScenario(TypedDict):
    document: dict[str, Any]            # as POST /_mock/scenario takes it inline (checked the same way)
    loaded_at: Seconds
    reset: bool


@_doc
class StateInFlight(TypedDict):
    """What latency draws depend on (inflight.py): messages drawn for, per market; and when each agent's
    last message on its way reaches each market."""
    sent: Annotated[dict[SymbolName, Count], Field(max_length=512)]
    last: Annotated[list[tuple[AgentId, SymbolName, Us]], Field(max_length=MAX_ITEMS)]


# ---- the document ------------------------------------------------------------------------------
@_doc
class Snapshot(TypedDict):
    format: Literal["pf-mock-snapshot"]
    version: Literal[2, 3, 4]
    seed: whole(0, MAX_SEED)
    config: StateConfig
    clock: StateClock
    started_us: Us
    ran_to_us: Optional[Us]
    agents: Annotated[list[StateAgent], Field(max_length=100_000)]
    markets: Annotated[list[AnyMarket], Field(max_length=512)]
    live: Annotated[dict[SymbolName, list[AgentId]], Field(max_length=512)]
    analytics: StateAnalytics
    scenario: Optional[StateScenario]
    inflight: NotRequired[StateInFlight]                    # version 4


@cache
def document() -> TypeAdapter:
    """The document's validator (and serializer, and JSON Schema), built the first time it is asked for:
    about 50 ms of CPU that a process which never reads a snapshot (most servers) does not pay."""
    return TypeAdapter(Snapshot)


def json_schema() -> dict:
    """The document's JSON Schema (``docs/snapshot.schema.json`` is this, written out)."""
    schema = document().json_schema()
    schema["$id"] = "https://pf-mock.invalid/snapshot.schema.json"
    schema["title"] = f"pf-mock snapshot, version {VERSION}"
    return schema


if __name__ == "__main__":          # python -m pf_mock.state_document > docs/snapshot.schema.json
    import json
    print(json.dumps(json_schema(), indent=2, sort_keys=True))
