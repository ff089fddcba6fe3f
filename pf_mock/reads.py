"""Reads: an agent's fills, PnL, account and orders, worked out from the ledgers and markets the
exchange hands in (already brought to the instant being read). The exchange picks the markets; this
module reads them; ``views.py`` turns what it reads into the contract's messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from . import paging, views
from .agents import Agent
from .clock import to_ms
from .errors import invalid_request, is_whole
from .ledger import FillRecord, PnlWindow, SymbolLedger
from .market import Market
from .messages import DEFAULT_ORDERS_PAGE, MAX_ORDERS_PAGE, Account, Orders, Position, Window

WINDOWS_S = {"5m": 300.0, "1h": 3600.0, "24h": 86400.0}


@dataclass
class PnlReport:
    symbol: str | None
    since: float
    until: float
    window: PnlWindow


def ledgers_of(agent: Agent, symbol: str | None) -> list[SymbolLedger]:
    """The agent's ledger on ``symbol`` (none if it never traded there), or all of them."""
    if symbol is None:
        return list(agent.ledgers.values())
    return [agent.ledgers[symbol]] if symbol in agent.ledgers else []


def fills_since(ledgers: list[SymbolLedger], since: float | None, limit: int | None) -> list[FillRecord]:
    """The fills at or after ``since``, oldest first: all of them, or the newest ``limit``."""
    since_ms = None if since is None else to_ms(since)
    found = [f for ledger in ledgers for f in ledger.fills if since_ms is None or to_ms(f.time) >= since_ms]
    found.sort(key=lambda f: f.time)
    if limit is None:
        return found
    return found[-limit:] if limit > 0 else []


def fill_page(agent: Agent, symbol: str | None, since: float | None, cursor: str | None,
              limit: int) -> tuple[list[FillRecord], str | None]:
    """One page of the agent's fills on ``symbol``'s market (or across markets, in the order they
    happened), and the cursor of the next page (None at the end); see ``paging.page_bounds``."""
    position = paging.cursor_position(cursor)
    if symbol is not None:
        ledger = agent.ledgers.get(symbol)
        if ledger is None:
            return [], None
        fills = ledger.fills
        count, time_at, read = len(fills), (lambda i: fills.time[i]), (lambda a, b: fills[a:b])
    else:
        order = agent.fill_order
        count, time_at, read = len(order), order.time, order.records
    # with a cursor the page goes on from its page; a since given with it has done its work
    start, stop = paging.page_bounds(count, limit, position, since, time_at)
    return read(start, stop), paging.next_cursor(stop if stop < count else None)


def pnl_span(now: float, created_at: float, since: float | None, until: float | None,
             window: Window | None) -> tuple[float, float, float]:
    """(start, since, until) of a PnL read: over (since, until] (until defaults to now, since to the
    agent's creation), or over the ``window`` that ends at ``until``. ``start`` is where the sum
    starts: with no ``since`` before the agent's first fill, even one made at the very instant the agent
    was created (a manual clock that has not moved), which (since, until] would drop."""
    if window is not None:
        if since is not None:
            raise invalid_request("Give either window or since, not both.", field="window")
        since = (now if until is None else until) - WINDOWS_S[window]
    until = now if until is None else min(until, now)
    start = -math.inf if since is None else since
    since = created_at if since is None else since
    if since > until:
        raise invalid_request("since must not be after until.", field="since")
    return start, since, until


def pnl_total(agent: Agent, markets: Mapping[str, Market], symbol: str | None, start: float,
              until: float) -> PnlWindow:
    """The agent's PnL from ``start`` to ``until`` on ``symbol``'s market, or summed over every market
    it traded on (in symbol order)."""
    symbols = sorted(agent.ledgers) if symbol is None else [symbol] if symbol in agent.ledgers else []
    total = PnlWindow()
    for s in symbols:
        market = markets[s]
        total = total + PnlWindow.of(agent.ledgers[s], start, until,
                                     market.mark_at(max(start, market.started_at)), market.mark_at(until))
    return total


def account(agent: Agent, marks: Mapping[str, float], equity: float, open_orders: int) -> Account:
    positions = [Position(symbol=s, position=l.position, net_delta_usd=views.usd(l.position * marks[s]))
                 for s, l in sorted(agent.ledgers.items()) if l.lots]
    return Account(agent_id=agent.agent_id, balance_usd=views.usd(agent.cash), equity_usd=views.usd(equity),
                   open_orders=open_orders, positions=positions)


def closed_orders_limit(limit: int | None) -> int:
    limit = DEFAULT_ORDERS_PAGE if limit is None else limit
    if not (is_whole(limit) and 1 <= limit <= MAX_ORDERS_PAGE):
        raise invalid_request(f"limit must be a whole number from 1 to {MAX_ORDERS_PAGE}.", field="limit")
    return limit


def closed_orders(agent: Agent, symbol: str | None, position: int | None, limit: int) -> Orders:
    """A page of the orders that left the book, oldest first: without a cursor ``position`` the newest
    ``limit``; with it (a ``next_cursor`` answered before, or ``0`` for the oldest kept) the ``limit``
    from there on. The open listing is always whole (a schema cannot tie a parameter to another's
    value, so ``cursor`` and ``limit`` are taken there, and change nothing)."""
    found, after = agent.closed_orders.page(symbol, position, limit)
    return Orders(orders=[views.closed_order(c) for c in found], next_cursor=paging.next_cursor(after))
