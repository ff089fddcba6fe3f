"""Booking: an agent's fill entered in its ledger (priced, with its fee), and an order that left the
book filed among its closed orders. The exchange hands in the agent, the market and what happened."""

from __future__ import annotations

from . import orders
from .agents import Agent
from .closed import ClosedOrder
from .fees import FeeSchedule
from .ledger import FillRecord
from .market import AgentFill, Market, OrderClosed


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
