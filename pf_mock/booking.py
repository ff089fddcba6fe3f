"""Booking: what a market's news says agents' orders did, taken to the agents: each fill entered in its
ledger (priced, with its fee), each order that left the book filed among its closed orders. Whoever
gave the market a command takes its news and settles it here at once (``settle``)."""

from __future__ import annotations

from . import ids
from .analytics import Filled
from .closed import ClosedOrder
from .fees import FeeSchedule
from .market import AgentFill, Market


def settle(agents, market: Market, fees: FeeSchedule) -> list[Filled]:
    """Take a market's news (``AgentFill``, ``OrderClosed``, in order) and book it into its agents: each fill
    in the agent's ledger for ``market`` (priced, with its fee; a quote's fill leaves its session's
    auto-hedge due), each order that left the book among the agent's closed orders. The fills booked come
    back as the analytics' notes."""
    booked = []
    grid, index, symbol = market.grid, market.spec.index, market.symbol
    for item in market.take_news():
        agent = agents.get(item.owner)
        if type(item) is AgentFill:
            notional = grid.notional(item.price, item.lots)
            record = agent.ledger(symbol, grid.lot_scale).apply(
                fill_id=ids.fill_id(index, item.seq), order_id=ids.order_id(index, item.order_id),
                is_buy=item.is_buy, price=grid.to_price(item.price), lots=item.lots, notional=notional,
                maker=item.maker, fee=fees.fee(notional, item.maker), mid=item.mid, kind=item.kind, time=item.time)
            booked.append(Filled(agent.agent_id, market, record))
            if item.kind == "quote":
                session = agent.sessions.get(symbol)
                if session is not None:
                    session.hedge_due = True
        elif agent is not None:
            agent.closed_orders.append(ClosedOrder(
                ids.order_id(index, item.seq), symbol, item.is_buy, grid.to_price(item.price),
                grid.to_size(item.size), grid.to_size(item.remaining), grid.notional(item.price, item.remaining),
                item.tif, item.created_at, item.time, item.status, item.reason))
    return booked
