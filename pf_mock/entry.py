"""Order entry: the checks a quote or a hedge passes before it takes effect, sending it (at once, or on
its way to the book: ``inflight.py`` says when it arrives), and then taking effect.

The exchange brings the market to now and hands it in; these functions check the request (what one
field alone cannot say, the size of each side once in whole lots, the margin), then post through
``orders.py`` (the one way every order reaches a market) and the sessions. Nothing here advances time:
a message on its way is an action scheduled on its market (``QuoteArrival``, ``CancelArrival``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

from . import closed, ids, orders
from .agents import Agent
from .catalog import MIN_NOTIONAL_USD, Catalog
from .closed import EXPIRED, MAX_INVENTORY, SPREAD_PAUSE, STOP_LOSS, WOULD_CROSS
from .errors import ApiError, invalid_request, is_number
from .inflight import InFlight
from .market import Market, OrderClosed
from .messages import QuoteRequest
from .orders import SideOutcome, Sized, TakerResult
from .sessions import STOPPED, QuoteShape, Session, Sessions
from .source import halted_error

@dataclass
class QuoteResult:
    symbol: str
    bid: SideOutcome
    ask: SideOutcome
    session: Session
    time: float
    created_at: float | None = None     # when its orders reach (or reached) the book; None: at ``time``


def check_quote(req: QuoteRequest) -> None:
    """What one field alone cannot say (each field's type and range is ``QuoteRequest``'s own check)."""
    for side in ("bid", "ask"):
        price, size = getattr(req, f"{side}_price"), getattr(req, f"{side}_size")
        if (price is None) != (size is None):
            missing = f"{side}_size" if size is None else f"{side}_price"
            raise invalid_request(f"A {side} needs both {side}_price and {side}_size.", field=missing)
    if req.bid_price is None and req.ask_price is None:
        raise invalid_request("A quote needs at least one whole side: bid_price and bid_size, or ask_price "
                              "and ask_size.", field="bid_price")
    if req.bid_price is not None and req.ask_price is not None and req.bid_price >= req.ask_price:
        raise ApiError(400, "crossed_quote", "bid_price must be below ask_price.",
                       bid_price=req.bid_price, ask_price=req.ask_price)


def check_trading(market: Market) -> None:
    """A 409 on a market that stopped trading (a replayed recording past its end)."""
    if market.halted_at is not None:
        raise halted_error(market)


def open_session(agent: Agent, symbol: str) -> Session:
    """The agent's session on ``symbol``, unless it was stopped (a 409 until it is reset)."""
    session = Sessions.of(agent, symbol)
    if session.status == STOPPED:
        raise ApiError(409, "session_stopped",
                       f"The session on {symbol} was stopped ({session.reason}); POST /v1/mm/session/reset first.",
                       reason=session.reason)
    return session


def check_sides(agent: Agent, markets: Mapping[str, Market], catalog: Catalog, at_us: int, market: Market,
                req: QuoteRequest, taker_fee_bps: float, in_flight: Mapping[str, float] | None = None
                ) -> tuple[Sized, Sized, float]:
    """The quote's sides on the grid, checked in one place: each side sized (a bid's price rounded down, an
    ask's up; sizes to whole lots) and at least the minimum notional (400); each priced inside the band
    around the mark (400); and the agent's equity covering the initial margin with the sides added, each at
    the worse of its price and the mark, plus what filling at once may cost on top (402; every market at
    ``at_us``, the instant being processed; ``in_flight`` adds the notional of quotes on their way to a book,
    ``inflight.py``). The mark is read first, then the grid, then the margin. The sides and their notional."""
    mark_units = market.mark_units()
    grid = market.grid
    bid = ask = None
    if req.bid_price is not None:
        units = grid.price_down(req.bid_price)
        bid = (units, grid.lots_for_usd(req.bid_size, units))
    if req.ask_price is not None:
        units = grid.price_up(req.ask_price)
        ask = (units, grid.lots_for_usd(req.ask_size, units))
    for name, side in (("bid", bid), ("ask", ask)):
        if side is not None and (side[0] <= 0 or grid.notional(*side) < MIN_NOTIONAL_USD):
            raise ApiError(400, "order_too_small",
                           f"The {name} side is under the ${MIN_NOTIONAL_USD:g} minimum once sized to whole lots "
                           f"at its price.", field=f"{name}_size", min_notional_usd=MIN_NOTIONAL_USD)
    mark = grid.to_price(mark_units)
    for name, side in (("bid", bid), ("ask", ask)):
        if side is not None and orders.out_of_band(grid.to_price(side[0]), mark):
            low, high = orders.band(mark)
            raise ApiError(400, "price_out_of_band",
                           f"The {name} price {grid.to_price(side[0]):g} is more than "
                           f"{orders.PRICE_BAND * 100:g}% from the mark price {mark:g}: limit prices must be "
                           f"from {low:g} to {high:g}.", field=f"{name}_price", price=grid.to_price(side[0]),
                           mark_price=mark, band_pct=orders.PRICE_BAND * 100, min_price=low, max_price=high)
    posted = at_once = 0.0
    for is_buy, side in ((True, bid), (False, ask)):
        if side is not None:
            notional, cost = orders.side_cost(market, is_buy, side[0], side[1], mark_units, taker_fee_bps)
            posted += notional
            at_once += cost
    extra = dict(in_flight or {})
    extra[market.symbol] = extra.get(market.symbol, 0.0) + posted
    required = orders.margin_in_use(agent, markets, catalog, at_us, extra) + at_once
    equity = orders.equity(agent, markets, at_us)
    if required > equity:
        raise ApiError(402, "insufficient_balance",
                       f"These orders need ${required:,.2f} of margin; equity is ${equity:,.2f}.",
                       required_margin_usd=round(required, 6), equity_usd=round(equity, 6))
    return bid, ask, posted


def enter_quote(sessions: Sessions, agent: Agent, market: Market, req: QuoteRequest, catalog: Catalog,
                at_us: int, taker_fee_bps: float) -> QuoteResult:
    """A quote (already through ``check_quote``) on ``market``, brought to now with every market the agent
    has business in: checked against the session, then its sides (``check_sides``), then taking effect."""
    session, bid, ask, _ = check_entry(sessions, agent, market, req, catalog, at_us, taker_fee_bps)
    return take_effect(sessions, agent, market, session, req, bid, ask)


def check_entry(sessions: Sessions, agent: Agent, market: Market, req: QuoteRequest, catalog: Catalog, at_us: int,
                taker_fee_bps: float, in_flight: Mapping[str, float] | None = None
                ) -> tuple[Session, Sized, Sized, float]:
    """``enter_quote``'s checks (nothing changes): the session, then the sides (``check_sides``, with
    ``in_flight``'s notional added to the margin); the session, the sides and the quote's notional."""
    session = open_session(agent, market.symbol)
    bid, ask, posted = check_sides(agent, sessions.markets, catalog, at_us, market, req, taker_fee_bps, in_flight)
    return session, bid, ask, posted


def take_effect(sessions: Sessions, agent: Agent, market: Market, session: Session, req: QuoteRequest,
                bid: Sized, ask: Sized, seqs: tuple[int | None, int | None] = (None, None)) -> QuoteResult:
    """The checked quote takes effect: the session takes its settings and shape, the sides are posted
    (with the order numbers ``seqs`` when they were given out as the quote was sent), and the guardrails
    look at the result."""
    sessions.configure(agent, market, session, req.guardrails(), req.refresh_interval_seconds, req.auto_refresh)
    grid, mid = market.grid, market.mid
    session.shape = QuoteShape(
        bid_bps=(mid - grid.to_price(bid[0])) / mid * 1e4 if bid else None,
        ask_bps=(grid.to_price(ask[0]) - mid) / mid * 1e4 if ask else None,
        bid_usd=req.bid_size if bid else None,
        ask_usd=req.ask_size if ask else None,
        tif=req.time_in_force,
    )
    bid_out, ask_out = sessions.post(agent, market, session, bid, ask, req.time_in_force, seqs)
    sessions.enforce(market)
    return QuoteResult(market.symbol, bid_out, ask_out, session, market.now)


def cancel(sessions: Sessions, agent: Agent, market: Market) -> list[str]:
    """Cancel every order of the agent's on ``market``; the ids of those cancelled."""
    cancelled = market.cancel_all(agent.agent_id, closed.CLIENT)
    sessions.cancelled(agent, market)
    return [orders.order_id(market, order.order_id) for order in cancelled]


# ---- sending: at once, or on its way to the book (inflight.py) ------------------------------------
def send_quote(flight: InFlight, sessions: Sessions, agent: Agent, market: Market, req: QuoteRequest,
               catalog: Catalog, at_us: int, taker_fee_bps: float) -> QuoteResult:
    """A quote sent now: checked at once (with the notional of the agent's quotes on their way counted in
    the margin), then taking effect at once or when it reaches the book."""
    session, bid, ask, posted = check_entry(sessions, agent, market, req, catalog, at_us, taker_fee_bps,
                                            flight.notional(agent.agent_id))
    when = flight.arrival_us(agent.agent_id, market)
    if when == market.now_us:
        return take_effect(sessions, agent, market, session, req, bid, ask)
    seqs = (market.next_order_id() if bid is not None else None, market.next_order_id() if ask is not None else None)
    arrival = QuoteArrival(flight, sessions, agent.agent_id, req, bid, ask, seqs, posted)
    flight.wait(arrival)
    market.schedule(when, arrival)
    grid, index = market.grid, market.spec.index
    outs = [SideOutcome() if side is None else
            SideOutcome(order_id=ids.order_id(index, seq), price=grid.to_price(side[0]),
                        size_usd=grid.notional(*side), qty=grid.to_size(side[1]))
            for side, seq in zip((bid, ask), seqs)]
    return QuoteResult(market.symbol, outs[0], outs[1], session, market.now, when / 1e6)


def send_cancel(flight: InFlight, sessions: Sessions, agent: Agent, market: Market) -> tuple[list[str], int]:
    """A cancel sent now: the ids of the orders it takes out, and when it does (microseconds)."""
    when = flight.arrival_us(agent.agent_id, market)
    if when == market.now_us:
        return cancel(sessions, agent, market), when
    order_ids = [orders.order_id(market, info.order.order_id) for info in market.open_orders(agent.agent_id)]
    order_ids += [orders.order_id(market, seq) for q in flight.waiting(agent.agent_id, market.symbol)
                  for seq in q.ids if seq is not None]
    market.schedule(when, CancelArrival(flight, sessions, agent.agent_id))
    return order_ids, when


# Why a side of a quote that was on its way did not reach the book (sessions' and orders' skip reasons).
_REFUSED = {"would_cross": WOULD_CROSS, "max_inventory": MAX_INVENTORY, "market_spread_wide": SPREAD_PAUSE}


@dataclass(slots=True, eq=False)
class QuoteArrival:
    """A quote on its way, scheduled on its market at the instant it reaches the book: data, so that a
    snapshot writes it down (``state``) and a restore makes it again (listed by ``InFlight.wait``)."""

    flight: InFlight
    sessions: Sessions
    agent_id: str
    request: QuoteRequest
    bid: Sized
    ask: Sized
    ids: tuple[int | None, int | None]
    notional: float

    def __call__(self, market: Market) -> None:
        self.flight.arrived(self, market)
        sessions = self.sessions
        agent = sessions.agents[self.agent_id]
        session = sessions.of(agent, market.symbol)
        sides = ((True, self.bid, self.ids[0]), (False, self.ask, self.ids[1]))
        if session.status == STOPPED:       # stopped (stop loss) while the quote was on its way
            for is_buy, side, seq in sides:
                if side is not None:
                    _expire(agent, market, is_buy, side, seq, self.request.time_in_force, STOP_LOSS)
            return
        result = take_effect(sessions, agent, market, session, self.request, self.bid, self.ask, self.ids)
        for (is_buy, side, seq), out in zip(sides, (result.bid, result.ask)):
            if side is not None and out.order_id is None:
                _expire(agent, market, is_buy, side, seq, self.request.time_in_force, _REFUSED[out.skipped])

    def state(self) -> dict:
        return {"type": "quote", "agent_id": self.agent_id, "request": asdict(self.request),
                "bid": None if self.bid is None else list(self.bid), "ask": None if self.ask is None else list(self.ask),
                "ids": list(self.ids), "notional": self.notional}


class CancelArrival:
    """A cancel on its way (see ``QuoteArrival``)."""

    __slots__ = ("flight", "sessions", "agent_id")

    def __init__(self, flight: InFlight, sessions: Sessions, agent_id: str):
        self.flight, self.sessions, self.agent_id = flight, sessions, agent_id

    def __call__(self, market: Market) -> None:
        self.flight.landed(self.agent_id, market)
        cancel(self.sessions, self.sessions.agents[self.agent_id], market)

    def state(self) -> dict:
        return {"type": "cancel", "agent_id": self.agent_id}


def _expire(agent: Agent, market: Market, is_buy: bool, side: Sized, seq: int, tif: str, reason: str) -> None:
    """A side refused on arrival, into the market's news (booked among the agent's closed orders with the
    rest of the event's news)."""
    units, lots = side
    now = market.now
    market.news.append(OrderClosed(seq, agent.agent_id, is_buy, units, lots, lots, tif, now, now, EXPIRED, reason))


def check_hedge_pct(hedge_pct: float) -> None:
    if not (is_number(hedge_pct) and 0 < hedge_pct <= 1):
        raise invalid_request("hedge_pct must be a number in (0, 1].", field="hedge_pct")


def hedge(sessions: Sessions, agent: Agent, market: Market, hedge_pct: float) -> TakerResult:
    """A market order against ``hedge_pct`` of the agent's position on ``market``."""
    check_trading(market)
    ledger = agent.ledgers.get(market.symbol)
    if ledger is None or ledger.lots == 0:
        raise ApiError(409, "no_inventory", f"No inventory to hedge on {market.symbol}.")
    lots = int(abs(ledger.lots) * hedge_pct + 1e-9)
    if lots <= 0:
        raise ApiError(400, "order_too_small", "hedge_pct of the position rounds to zero lots.", field="hedge_pct")
    is_buy, before = ledger.lots < 0, len(ledger.fills)
    if not sessions.market_order(agent, market, is_buy, lots, "hedge"):
        raise ApiError(409, "no_liquidity", f"The {market.symbol} book has no liquidity to hedge against.")
    result = orders.taker_result(market, ledger, is_buy, before)
    sessions.enforce(market)
    return result
