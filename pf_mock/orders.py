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
from . import ids
from .ledger import FillRecord, SymbolLedger
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
    return ids.public_id("ord", market.spec.index, seq)


def fill_id(market: Market, seq: int) -> str:
    return ids.public_id("fill", market.spec.index, seq)


def equity(agent: Agent, markets: Mapping[str, Market], at_us: int) -> float:
    """Cash plus every position at its market's mark price at ``at_us`` (the instant being processed:
    a quiet market's mark is exact at any instant, so no market need be brought there first)."""
    return agent.cash + sum(ledger.position * markets[s].mark_at(at_us) for s, ledger in agent.ledgers.items())


# The price band: a limit price more than this fraction away from the mark is refused (400
# price_out_of_band). Binance's USD-M perpetuals refuse a limit price outside 0.95-1.05 of the mark on
# BTCUSDT (their PERCENT_PRICE filter); Hyperliquid refuses one more than 80% from its reference price. A
# market maker quotes within a few basis points; 5% refuses only prices no quote means.
PRICE_BAND = 0.05


def band(mark: float) -> tuple[float, float]:
    """The lowest and highest limit price taken when the mark is ``mark``."""
    return mark * (1 - PRICE_BAND), mark * (1 + PRICE_BAND)


def out_of_band(price: float, mark: float) -> bool:
    low, high = band(mark)
    return not (low <= price <= high)


def resting_notional(market: Market, owner, mark_units: int) -> float:
    """The notional of ``owner``'s resting orders on ``market``, each at the worse of its price and the
    mark (``max``: a bid below the mark would buy what is worth the mark, an ask below it sells that),
    in O(1) from the book's per-side sums. Exact while the book's best bid is at or under the mark and
    its best ask at or over it (every bid then counts at the mark, every ask at its price); otherwise a
    bound above it (every bid at the best bid, every ask below the mark at most the mark minus the best
    ask more than its price)."""
    (bid_lots, _), (ask_lots, ask_units_lots) = market.book.owned_sides(owner)
    total = 0
    if bid_lots:
        total += max(mark_units, market.best_bid() or 0) * bid_lots
    if ask_lots:
        best_ask = market.best_ask()
        total += ask_units_lots + max(0, mark_units - (best_ask if best_ask is not None else mark_units)) * ask_lots
    return total / 1_000_000


def margin_in_use(agent: Agent, markets: Mapping[str, Market], catalog: Catalog, at_us: int,
                  extra: Mapping[str, float] | None = None) -> float:
    """Initial margin: each market's open notional over its maximum leverage, where the open notional is
    the position at the mark price plus every resting order at the worse of its price and the mark
    (``resting_notional``). ``extra`` adds notional about to be posted (reckoned the same way by the
    caller). It costs the same with 10 or 10,000 orders resting."""
    notional: dict[str, float] = dict(extra or {})
    for symbol in agent.ledgers.keys() | agent.sessions.keys():
        market = markets[symbol]
        ledger = agent.ledgers.get(symbol)
        mark_units = market.mark_units(at_us)
        held = abs(ledger.position) * market.grid.to_price(mark_units) if ledger is not None else 0.0
        notional[symbol] = notional.get(symbol, 0.0) + held + resting_notional(market, agent.agent_id, mark_units)
    return sum(n / catalog.resolve(s).max_leverage for s, n in notional.items())


def side_cost(market: Market, is_buy: bool, units: int, lots: int, mark_units: int,
              taker_fee_bps: float) -> tuple[float, float]:
    """What one new side may cost: ``(notional, at_once)``. ``notional`` is its size at the worse of its
    price and the mark (its margin, over the leverage); ``at_once`` what filling it may take from equity
    the moment it fills, reckoned as if all of it filled at its limit price (a buy pays at most that, a
    sell receives at least that): the part of the price worse than the mark, and, when it crosses the
    book now, the taker fee on all of it."""
    notional = market.grid.notional(max(units, mark_units), lots)
    worse = units - mark_units if is_buy else mark_units - units
    at_once = market.grid.notional(max(0, worse), lots)
    touch = market.best_ask() if is_buy else market.best_bid()
    if touch is not None and (units >= touch if is_buy else units <= touch):
        at_once += market.grid.notional(units, lots) * taker_fee_bps / 1e4
    return notional, at_once


def place(agent: Agent, market: Market, is_buy: bool, units: int, lots: int, tif: str,
          limits: dict | None = None, seq: int | None = None) -> SideOutcome:
    """Post one side of a quote (already sized and checked by the caller), as order number ``seq`` when
    it was given out before (a quote that was on its way: ``inflight.py``). An ALO side that would
    cross is not posted. What it filled is in the market's news (``limits``: see ``Market.place``)."""
    if tif == ALO and market.would_cross(is_buy, units):
        return SideOutcome(skipped="would_cross")
    if seq is None:
        seq, result = market.place(agent.agent_id, is_buy, units, lots, tif, tag="quote", limits=limits)
    else:
        seq, result = market.place(agent.agent_id, is_buy, units, lots, tif, tag="quote", limits=limits,
                                   order_id=seq)
    grid, index = market.grid, market.spec.index
    return SideOutcome(order_id=ids.order_id(index, seq), price=grid.to_price(units),
                       size_usd=grid.notional(units, lots), qty=grid.to_size(lots),
                       cancelled=[ids.order_id(index, o.order_id) for o in result.self_trade_cancels])


def market_order(agent: Agent, market: Market, is_buy: bool, lots: int, kind: str, limits: dict | None = None) -> None:
    """A market order for the agent, its fills tagged ``kind`` (into the market's news)."""
    market.place(agent.agent_id, is_buy, None, lots, IOC, tag=kind, limits=limits)


def taker_result(market: Market, ledger: SymbolLedger, is_buy: bool, before: int) -> TakerResult | None:
    """A market order's result from its fills, booked in ``ledger`` after its first ``before``; None if
    nothing filled."""
    fills = ledger.fills[before:]
    if not fills:
        return None
    size = sum(f.size for f in fills)
    size_usd = sum(f.notional for f in fills)
    return TakerResult(
        symbol=market.symbol, is_buy=is_buy, size=size, size_usd=size_usd, fill_price=size_usd / size,
        fee_usd=sum(f.fee for f in fills), slippage_usd=-sum(f.edge for f in fills),
        net_delta_usd=ledger.position * market.mark, time=market.now, fills=fills)
