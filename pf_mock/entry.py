"""Order entry: the checks a quote or a hedge passes before it takes effect, and then taking effect.

The exchange brings the market to now and hands it in; these functions check the request (what one
field alone cannot say, the size of each side once in whole lots, the margin), then post through
``orders.py`` (the one way every order reaches a market) and the sessions. Nothing here advances time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from . import closed, orders
from .agents import Agent
from .catalog import MIN_NOTIONAL_USD, Catalog
from .errors import ApiError, invalid_request, is_number
from .market import Market
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
    result = sessions.market_order(agent, market, ledger.lots < 0, lots, "hedge")
    if result is None:
        raise ApiError(409, "no_liquidity", f"The {market.symbol} book has no liquidity to hedge against.")
    sessions.enforce(market)
    return result
