"""Booking: what a market's news says agents' orders did, taken to the agents: each fill entered in its
ledger (priced, with its fee), each order that left the book filed among its closed orders. Whoever
gave the market a command takes its news and settles it here at once (``settle``)."""

from __future__ import annotations

from . import orders
from .agents import Agent
from .analytics import Filled
from .closed import ClosedOrder
from .fees import FeeSchedule
from .ledger import FillRecord
from .market import AgentFill, Market, OrderClosed


def settle(agents, market: Market, news: list, fees: FeeSchedule) -> list[Filled]:
    """Book a market's news (``AgentFill``, ``OrderClosed``, in order) into its agents; the fills booked, as
    the analytics' notes. A quote's fill leaves its session's auto-hedge due."""
    booked = []
    for item in news:
        agent = agents.get(item.owner)
        if type(item) is AgentFill:
            booked.append(Filled(agent.agent_id, market, book_fill(agent, market, item, fees)))
            if item.kind == "quote":
                session = agent.sessions.get(market.symbol)
                if session is not None:
                    session.hedge_due = True
        elif agent is not None:
            file_closed(agent, market, item)
    return booked


def book_fill(agent: Agent, market: Market, fill: AgentFill, fees: FeeSchedule) -> FillRecord:
    """The fill entered in the agent's ledger for ``market``; the record it made."""
    grid = market.grid
    notional = grid.notional(fill.price, fill.lots)
    return agent.ledger(market.symbol, grid.lot_scale).apply(
        fill_id=orders.fill_id(market, fill.seq), order_id=orders.order_id(market, fill.order_id),
        is_buy=fill.is_buy, price=grid.to_price(fill.price), lots=fill.lots, notional=notional,
        maker=fill.maker, fee=fees.fee(notional, fill.maker), mid=fill.mid, kind=fill.kind, time=fill.time)


def file_closed(agent: Agent, market: Market, c: OrderClosed) -> None:
    """An order that left ``market``'s book, filed among the agent's closed orders."""
    grid = market.grid
    agent.closed_orders.append(ClosedOrder(
        orders.order_id(market, c.seq), market.symbol, c.is_buy, grid.to_price(c.price), grid.to_size(c.size),
        grid.to_size(c.remaining), grid.notional(c.price, c.remaining), c.tif, c.created_at, c.time, c.status,
        c.reason))
