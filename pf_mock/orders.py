"""Order entry and margin: how an agent's orders reach a market, and what they may cost.

Both the exchange (a client's quote or hedge) and the sessions (the refresh loop, the auto-hedge) trade
through these functions, so every order is checked and posted one way. Nothing here knows of sessions
or guardrails: callers decide what to post, this module posts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .agents import Agent
from .book import ALO, IOC
from .catalog import Catalog
from .ids import public_id
from .ledger import FillRecord
from .market import Market


Sized = tuple[int, int] | None      # one side of a quote on a market's grid: (price units, lots), or none


@dataclass
class SideOutcome:
    """What happened to one side of a quote."""

    order_id: str | None = None
    price: float | None = None
    size_usd: float | None = None
    qty: float | None = None
    skipped: str | None = None
    cancelled: list[str] = field(default_factory=list)     # the agent's orders self-trade prevention cancelled


@dataclass
class TakerResult:
    """A market order's fills, summed (a hedge or an auto-hedge)."""

    symbol: str
    is_buy: bool
    size: float
    size_usd: float
    fill_price: float
    fee_usd: float
    slippage_usd: float
    net_delta_usd: float
    time: float
    fills: list[FillRecord] = field(default_factory=list)


def order_id(market: Market, seq: int) -> str:
    """The public id of a market's order number ``seq``."""
    return public_id("ord", market.spec.index, seq)


def fill_id(market: Market, seq: int) -> str:
    return public_id("fill", market.spec.index, seq)


def equity(agent: Agent, markets: Mapping[str, Market], at_us: int) -> float:
    """Cash plus every position at its market's mark price at ``at_us`` (the instant being processed:
    a quiet market's mark is exact at any instant, so no market need be brought there first)."""
    return agent.cash + sum(ledger.position * markets[s].mark_at(at_us) for s, ledger in agent.ledgers.items())


def margin_required(agent: Agent, markets: Mapping[str, Market], catalog: Catalog, at_us: int,
                    extra: Mapping[str, float] | None = None) -> float:
    """Initial margin: each market's open notional (the position at the mark price, plus resting orders)
    over its maximum leverage. ``extra`` adds notional about to be posted. The resting notional is
    the book's running sum for the agent, so this costs the same with 10 or 10,000 orders resting."""
    notional: dict[str, float] = dict(extra or {})
    for symbol in agent.ledgers.keys() | agent.sessions.keys():
        market = markets[symbol]
        ledger = agent.ledgers.get(symbol)
        held = abs(ledger.position) * market.mark_at(at_us) if ledger is not None else 0.0
        _, units_lots = market.book.owned(agent.agent_id)
        notional[symbol] = notional.get(symbol, 0.0) + held + units_lots / 1_000_000
    return sum(n / catalog.resolve(s).max_leverage for s, n in notional.items())


def place(agent: Agent, market: Market, is_buy: bool, units: int, lots: int, tif: str) -> SideOutcome:
    """Post one side of a quote (already sized and checked by the caller). An ALO side that would
    cross is not posted."""
    if tif == ALO and market.would_cross(is_buy, units):
        return SideOutcome(skipped="would_cross")
    seq, result = market.place(agent.agent_id, is_buy, units, lots, tif, tag="quote")
    grid = market.grid
    return SideOutcome(order_id=order_id(market, seq), price=grid.to_price(units),
                       size_usd=grid.notional(units, lots), qty=grid.to_size(lots),
                       cancelled=[order_id(market, o.order_id) for o in result.self_trade_cancels])


def market_order(agent: Agent, market: Market, is_buy: bool, lots: int, kind: str) -> TakerResult | None:
    """A market order for the agent, its fills tagged ``kind``; None if nothing filled."""
    ledger = agent.ledger(market.symbol, market.grid.lot_scale)
    before = len(ledger.fills)
    market.place(agent.agent_id, is_buy, None, lots, IOC, tag=kind)
    fills = ledger.fills[before:]
    if not fills:
        return None
    size = sum(f.size for f in fills)
    size_usd = sum(f.notional for f in fills)
    return TakerResult(
        symbol=market.symbol, is_buy=is_buy, size=size, size_usd=size_usd, fill_price=size_usd / size,
        fee_usd=sum(f.fee for f in fills), slippage_usd=-sum(f.edge for f in fills),
        net_delta_usd=ledger.position * market.mark, time=market.now, fills=fills)
