"""Running statistics of every agent's market making, per symbol, kept as the exchange runs.

What a teacher (or a leaderboard) wants to see of a maker, without replaying its history: how much it
posted and how much of that filled on each side, its volume, how large its inventory got (at most, and
on average over time, in USD at the mark), the worst drawdown of its net PnL, how often its guardrails
tripped, and its *markouts*: for each maker fill, the mark ``h`` seconds later minus the mark at the
fill, signed for the maker (positive = the market went the maker's way) and weighted by the fill's size,
at ``h`` = 1, 10 and 60 s. Adverse selection is a negative markout; the realised spread of a fill at
horizon ``h`` is its edge plus its markout, ``s (m_{t+h} - p) q``.

Everything is a running total updated by the exchange (``on_post`` when an order is posted,
``on_fill`` for each fill, ``after_event`` after every market event, ``on_guardrail`` when a guardrail
acts; the sessions' posts and trips come as ``Posted`` and ``Tripped`` values, handed in by ``take``), so memory stays bounded and no price history is kept here: a maker fill waits in a queue until
its horizon has passed, and is then settled, by the first hook (or read) after it, with the market's
mark at the horizon (``mark_at``: the market's own answer for any past instant).

Read with ``for_agent(agent_id, symbol=None)``: an ``AgentStats`` record, extended to the market's
current instant (bring the markets to now first, e.g. ``Exchange.sync(agent)``). With no symbol, the
agent's markets together: sums, the maximum of the per-market maxima, and the drawdown of the summed net
PnL (each market at its last processed mark).

Known limit: the time-weighted inventory uses the mark at each processed event; over a stretch where an
agent holds a position but has no orders and no live session, its market may be fast-forwarded, and the
mark during that stretch is taken as the one at its start.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .guardrails import NAMES as GUARDRAIL_NAMES

if TYPE_CHECKING:
    from .ledger import FillRecord
    from .market import Market

MARKOUT_HORIZONS_S: tuple[int, ...] = (1, 10, 60)


@dataclass(slots=True)
class Posted:
    """An order of the agent's was posted (a quote's side, or a refresh's): what the sessions report."""

    agent_id: str
    market: "Market"
    is_buy: bool
    notional_usd: float


@dataclass(slots=True)
class Filled:
    """One of the agent's fills, just booked: what the booking reports."""

    agent_id: str
    market: "Market"
    record: "FillRecord"


@dataclass(slots=True)
class Tripped:
    """A guardrail acted (a pause, a stop, an auto-hedge, a side held): what the sessions report."""

    agent_id: str
    market: "Market"
    guardrail: str
    detail: str | None = None
EVENTS_KEPT = 200          # the most recent guardrail events kept per agent and symbol (counts are exact)


def mark_of(market: "Market") -> float:
    """The price PnL and markouts are measured at: the market's fair value."""
    return market.mark


def mark_at(market: "Market", t: float) -> float:
    """The mark in force at a past instant ``t`` (the market's answer for any instant)."""
    return market.mark_at(t)


# ---- what a reader gets -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SideStats:
    """One side's quoting: USD notional posted, and the part of it that filled."""

    posted_usd: float = 0.0
    filled_usd: float = 0.0
    fills: int = 0

    @property
    def fill_share(self) -> float | None:
        """Filled / posted notional; None before anything was posted."""
        return self.filled_usd / self.posted_usd if self.posted_usd > 0 else None


@dataclass(frozen=True, slots=True)
class Markout:
    """Maker fills whose horizon has passed, and what the mark did over it."""

    horizon_s: int
    fills: int = 0                 # maker fills settled at this horizon
    notional_usd: float = 0.0      # their size at the mark at the fill, sum of m q
    markout_usd: float = 0.0       # sum of s (m_{t+h} - m_t) q: positive = in the maker's favour
    edge_usd: float = 0.0          # sum of s (m_t - p) q over the same fills

    @property
    def markout_bps(self) -> float | None:
        return self.markout_usd / self.notional_usd * 1e4 if self.notional_usd > 0 else None

    @property
    def edge_bps(self) -> float | None:
        return self.edge_usd / self.notional_usd * 1e4 if self.notional_usd > 0 else None

    @property
    def realised_spread_usd(self) -> float:
        """Edge plus markout: what the fills earned against the mark ``h`` seconds later."""
        return self.edge_usd + self.markout_usd

    @property
    def realised_spread_bps(self) -> float | None:
        return self.realised_spread_usd / self.notional_usd * 1e4 if self.notional_usd > 0 else None


@dataclass(frozen=True, slots=True)
class GuardrailEvent:
    time: float
    symbol: str
    guardrail: str                 # one of GUARDRAIL_NAMES
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStats:
    agent_id: str
    symbol: str | None             # None: all the agent's markets together
    since: float | None            # first order or fill (None: no activity yet)
    until: float                   # the instant the figures run to
    volume_usd: float
    fills: int
    maker_fills: int
    taker_fills: int
    bid: SideStats
    ask: SideStats
    net_pnl: float                 # cash moved by fills + position at the mark: equity change since `since`
    max_abs_inventory_usd: float
    time_weighted_abs_inventory_usd: float
    worst_drawdown_usd: float      # the largest fall of net_pnl from a previous peak (>= 0)
    guardrail_trips: dict[str, int]
    guardrail_events: tuple[GuardrailEvent, ...]
    markouts: tuple[Markout, ...]  # one per MARKOUT_HORIZONS_S, in that order

    @property
    def guardrail_trips_total(self) -> int:
        return sum(self.guardrail_trips.values())

    @property
    def fill_share(self) -> float | None:
        """Filled / posted notional over both sides."""
        posted = self.bid.posted_usd + self.ask.posted_usd
        return (self.bid.filled_usd + self.ask.filled_usd) / posted if posted > 0 else None

    def markout(self, horizon_s: int) -> Markout:
        for m in self.markouts:
            if m.horizon_s == horizon_s:
                return m
        raise KeyError(horizon_s)


# ---- the running state ------------------------------------------------------------------------
class _Side:
    __slots__ = ("posted", "filled", "fills")

    def __init__(self) -> None:
        self.posted = 0.0
        self.filled = 0.0
        self.fills = 0

    def frozen(self) -> SideStats:
        return SideStats(self.posted, self.filled, self.fills)


class _Horizon:
    __slots__ = ("fills", "notional", "markout", "edge")

    def __init__(self) -> None:
        self.fills = 0
        self.notional = 0.0
        self.markout = 0.0
        self.edge = 0.0

    def add(self, signed_qty: float, mark: float, later: float, edge: float) -> None:
        """One maker fill of ``signed_qty`` (+ bought) at the mark ``mark``, the mark ``later`` at its
        horizon, and its edge in USD: the one place a markout is computed (``Analytics`` settling as it
        runs, ``markouts_of`` over a list of fills afterwards)."""
        self.fills += 1
        self.notional += abs(signed_qty) * mark
        self.markout += signed_qty * (later - mark)
        self.edge += edge

    def frozen(self, horizon_s: int) -> "Markout":
        return Markout(horizon_s, self.fills, self.notional, self.markout, self.edge)


class _Drawdown:
    """Peak-to-trough of a running value that starts at zero (moved on in ``_SymbolState.move_to``)."""

    __slots__ = ("peak", "worst")

    def __init__(self) -> None:
        self.peak = 0.0
        self.worst = 0.0


class _SymbolState:
    """One agent on one market."""

    __slots__ = ("agent", "symbol", "since", "lot_unit", "lots", "cash", "mark", "last_t", "inv_integral",
                 "max_inv", "value", "drawdown", "volume", "fills", "maker_fills", "taker_fills", "bid", "ask",
                 "horizons", "trips", "events", "market")

    def __init__(self, agent: "_AgentState", market: "Market", t: float) -> None:
        self.agent = agent
        self.symbol = market.symbol
        self.market = market
        self.since = t
        self.lot_unit = 1.0 / market.grid.lot_scale
        self.lots = 0
        self.cash = 0.0                 # the ledger's cash for this market (fills and fees)
        self.mark = mark_of(market)
        self.last_t = t                 # the inventory integral runs to here
        self.inv_integral = 0.0         # of |position x mark| dt, USD seconds
        self.max_inv = 0.0
        self.value = 0.0                # cash + position x mark
        self.drawdown = _Drawdown()
        self.volume = 0.0
        self.fills = 0
        self.maker_fills = 0
        self.taker_fills = 0
        self.bid = _Side()
        self.ask = _Side()
        self.horizons = [_Horizon() for _ in MARKOUT_HORIZONS_S]
        self.trips = dict.fromkeys(GUARDRAIL_NAMES, 0)
        self.events: deque[GuardrailEvent] = deque(maxlen=EVENTS_KEPT)

    def exposure(self, mark: float) -> float:
        return abs(self.lots * self.lot_unit * mark)

    def move_to(self, t: float, mark: float) -> None:
        """Integrate the inventory up to ``t`` at the old mark, then take the new mark and revalue.

        Run for every holder at every event of its market, so written out flat, computing the position
        at the mark once (the same operations in the same order as ``exposure``: bit for bit the same
        figures). A drawdown's peak is the highest value seen, its worst the largest fall below one."""
        held = self.lots * self.lot_unit
        if t > self.last_t:
            self.inv_integral += abs(held * self.mark) * (t - self.last_t)
            self.last_t = t
        self.mark = mark
        at_mark = held * mark
        exposure = abs(at_mark)
        if exposure > self.max_inv:
            self.max_inv = exposure
        value = self.cash + at_mark
        agent = self.agent
        agent.total += value - self.value
        self.value = value
        drawdown = self.drawdown
        if value > drawdown.peak:
            drawdown.peak = value
        elif drawdown.peak - value > drawdown.worst:
            drawdown.worst = drawdown.peak - value
        total, drawdown = agent.total, agent.drawdown
        if total > drawdown.peak:
            drawdown.peak = total
        elif drawdown.peak - total > drawdown.worst:
            drawdown.worst = drawdown.peak - total


class _AgentState:
    __slots__ = ("agent_id", "symbols", "total", "drawdown")

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.symbols: dict[str, _SymbolState] = {}
        self.total = 0.0                # the sum of the markets' values
        self.drawdown = _Drawdown()


class _Pending:
    """A maker fill waiting for the mark at one horizon."""

    __slots__ = ("due", "state", "horizon", "signed_qty", "mark", "edge")

    def __init__(self, due: float, state: _SymbolState, horizon: int, signed_qty: float, mark: float,
                 edge: float) -> None:
        self.due = due
        self.state = state
        self.horizon = horizon          # index into MARKOUT_HORIZONS_S
        self.signed_qty = signed_qty
        self.mark = mark
        self.edge = edge


class _MarketState:
    """What one market's hooks need: who holds a position there, and the markouts it owes."""

    __slots__ = ("market", "holders", "pending")

    def __init__(self, market: "Market") -> None:
        self.market = market
        self.holders: dict[str, _SymbolState] = {}
        self.pending: list[deque[_Pending]] = [deque() for _ in MARKOUT_HORIZONS_S]


class Analytics:
    """Per agent and symbol running statistics, fed by the exchange's hooks."""

    def __init__(self) -> None:
        self._agents: dict[str, _AgentState] = {}
        self._markets: dict[str, _MarketState] = {}

    # ---- hooks (called by the exchange, at the simulated instant things happen) -----------------
    def on_post(self, agent_id: str, market: "Market", is_buy: bool, notional_usd: float) -> None:
        """An order of the agent's was posted to the book (a quote's side, or a refresh's)."""
        state = self._state(agent_id, market)
        (state.bid if is_buy else state.ask).posted += notional_usd

    def on_fill(self, agent_id: str, market: "Market", fill: "FillRecord") -> None:
        """One of the agent's fills, just booked (``fill.after`` holds the ledger's totals after it)."""
        state = self._state(agent_id, market)
        mstate = self._market(market)
        mark = fill.mid
        self._settle(mstate)
        state.move_to(fill.time, mark)      # the inventory held before the fill, up to the fill
        state.lots = fill.after.lots
        state.cash = fill.after.cash
        state.volume += fill.notional
        state.fills += 1
        if fill.maker:
            state.maker_fills += 1
        else:
            state.taker_fills += 1
        if fill.kind == "quote":
            side = state.bid if fill.is_buy else state.ask
            side.filled += fill.notional
            side.fills += 1
        state.move_to(fill.time, mark)      # the new position's exposure and value
        if state.lots:
            mstate.holders[agent_id] = state
        else:
            mstate.holders.pop(agent_id, None)
        if fill.maker:
            signed_qty = fill.size if fill.is_buy else -fill.size
            for i, h in enumerate(MARKOUT_HORIZONS_S):
                mstate.pending[i].append(_Pending(fill.time + h, state, i, signed_qty, mark, fill.edge))

    def after_event(self, market: "Market", mark: float | None = None) -> None:
        """The market processed an event at ``market.now``; its mark may have moved (``mark``: the
        market's mark, when the caller has just read it)."""
        mstate = self._markets.get(market.symbol)
        if mstate is None:
            return
        self._settle(mstate)
        now = market.now
        if mark is None:
            mark = mark_of(market)
        for state in mstate.holders.values():
            state.move_to(now, mark)

    def take(self, notes: list) -> None:
        """The sessions' and the booking's reports (``Posted``, ``Filled``, ``Tripped``), in the order they
        were made."""
        for note in notes:
            kind = type(note)
            if kind is Filled:
                self.on_fill(note.agent_id, note.market, note.record)
            elif kind is Posted:
                self.on_post(note.agent_id, note.market, note.is_buy, note.notional_usd)
            else:
                self.on_guardrail(note.agent_id, note.market, note.guardrail, note.detail)

    def on_guardrail(self, agent_id: str, market: "Market", guardrail: str, detail: str | None = None) -> None:
        """A guardrail acted: a pause, a stop, an auto-hedge, or a side held at the inventory limit."""
        state = self._state(agent_id, market)
        state.trips[guardrail] = state.trips.get(guardrail, 0) + 1
        state.events.append(GuardrailEvent(market.now, market.symbol, guardrail, detail))

    # ---- reading ------------------------------------------------------------------------------
    def agents(self) -> list[str]:
        """Every agent with activity, in the order they first acted."""
        return list(self._agents)

    def for_agent(self, agent_id: str, symbol: str | None = None) -> AgentStats:
        """The agent's statistics on ``symbol`` (canonical name), or on all its markets together."""
        agent = self._agents.get(agent_id)
        states: Iterable[_SymbolState]
        if agent is None:
            states = []
        elif symbol is None:
            states = list(agent.symbols.values())
        else:
            states = [agent.symbols[symbol]] if symbol in agent.symbols else []
        states = list(states)
        for s in states:
            self._settle(self._markets[s.symbol])
        until = max((s.market.now for s in states), default=0.0)
        since = min((s.since for s in states), default=None)
        inv_integral = 0.0
        for s in states:
            inv_integral += s.inv_integral + s.exposure(s.mark) * max(0.0, s.market.now - s.last_t)
        span = until - since if since is not None else 0.0
        horizons = []
        for i, h in enumerate(MARKOUT_HORIZONS_S):
            parts = [s.horizons[i] for s in states]
            horizons.append(Markout(h, sum(p.fills for p in parts), sum(p.notional for p in parts),
                                    sum(p.markout for p in parts), sum(p.edge for p in parts)))
        trips = dict.fromkeys(GUARDRAIL_NAMES, 0)
        for s in states:
            for name, n in s.trips.items():
                trips[name] = trips.get(name, 0) + n
        events = sorted((e for s in states for e in s.events), key=lambda e: e.time)
        if symbol is None and agent is not None:
            worst = agent.drawdown.worst
        else:
            worst = states[0].drawdown.worst if states else 0.0
        return AgentStats(
            agent_id=agent_id,
            symbol=symbol,
            since=since,
            until=until,
            volume_usd=sum(s.volume for s in states),
            fills=sum(s.fills for s in states),
            maker_fills=sum(s.maker_fills for s in states),
            taker_fills=sum(s.taker_fills for s in states),
            bid=_sum_sides([s.bid for s in states]),
            ask=_sum_sides([s.ask for s in states]),
            net_pnl=sum(s.value for s in states),
            max_abs_inventory_usd=max((s.max_inv for s in states), default=0.0),
            time_weighted_abs_inventory_usd=inv_integral / span if span > 0 else 0.0,
            worst_drawdown_usd=worst,
            guardrail_trips=trips,
            guardrail_events=tuple(events[-EVENTS_KEPT:]),
            markouts=tuple(horizons),
        )

    # ---- internals ----------------------------------------------------------------------------
    @staticmethod
    def _settle(mstate: _MarketState) -> None:
        """Settle every markout whose horizon the market has reached."""
        market = mstate.market
        now = market.now
        for queue in mstate.pending:
            while queue and queue[0].due <= now:
                p = queue.popleft()
                p.state.horizons[p.horizon].add(p.signed_qty, p.mark, mark_at(market, p.due), p.edge)

    def _market(self, market: "Market") -> _MarketState:
        mstate = self._markets.get(market.symbol)
        if mstate is None:
            mstate = self._markets[market.symbol] = _MarketState(market)
        return mstate

    def _state(self, agent_id: str, market: "Market") -> _SymbolState:
        agent = self._agents.get(agent_id)
        if agent is None:
            agent = self._agents[agent_id] = _AgentState(agent_id)
        state = agent.symbols.get(market.symbol)
        if state is None:
            state = agent.symbols[market.symbol] = _SymbolState(agent, market, market.now)
            self._market(market)
        return state


def markouts_of(market: "Market", fills: Iterable["FillRecord"], horizons: Iterable[int]) -> tuple[Markout, ...]:
    """The markouts of the maker fills among ``fills`` (an agent's ledger on ``market``) at each of
    ``horizons`` seconds, as ``Analytics`` settles them (``_Horizon.add``), every fill counted whatever
    the market's now: the simulation report's markout curve, of which the table's horizons are points."""
    horizons = tuple(horizons)
    sums = [_Horizon() for _ in horizons]
    # Fill by fill, every horizon at once: the marks are then read nearly in time order, from the few
    # minutes the fair-value model keeps laid out. Each horizon still adds its fills in time order.
    for f in fills:
        if not f.maker:
            continue
        signed_qty = f.size if f.is_buy else -f.size
        for h, acc in zip(horizons, sums):
            acc.add(signed_qty, f.mid, mark_at(market, f.time + h), f.edge)
    return tuple(acc.frozen(h) for h, acc in zip(horizons, sums))


def _sum_sides(sides: list[_Side]) -> SideStats:
    return SideStats(sum(s.posted for s in sides), sum(s.filled for s in sides), sum(s.fills for s in sides))
