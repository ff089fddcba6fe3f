"""The classroom view: every agent on the exchange, ranked by net PnL, a page at a time.

Net PnL is the contract's (``Exchange.pnl``: the change of the agent's equity since it was created);
the other figures are the running statistics of ``analytics.py``, read, never recomputed here.

Cheap with many agents: every market with business is brought to now once (not once per agent), and
each agent's net PnL since its creation comes from its ledgers' running totals and the mark in O(1) a
market (``net_pnl_since_creation``: the same arithmetic ``PnlWindow.of`` does over a window that starts
before the first fill, so the same bits), never from its fills. Only the rows of the page asked for are
built. 10,000 agents rank in tens of milliseconds (docs/benchmarks.md).
"""

from __future__ import annotations

from .clock import to_ms
from .errors import invalid_request, is_whole
from .exchange import Exchange
from .messages import Leaderboard, LeaderboardRow
from .paging import cursor_position
from .views import usd

DEFAULT_LEADERBOARD_PAGE = 100
MAX_LEADERBOARD_PAGE = 1000


def net_pnl_since_creation(agent, marks: dict[str, float]) -> float:
    """``Exchange.pnl(agent).window.net_pnl`` without a window: each market's ``spread_income + rebates
    + inventory_pnl - hedge_cost`` from the running totals after its last fill, the position marked at
    ``marks[symbol]``, summed over the markets in symbol order (as ``Exchange.pnl`` sums them)."""
    ledgers = agent.ledgers
    net = 0.0
    if not ledgers:
        return net
    for symbol in sorted(ledgers) if len(ledgers) > 1 else ledgers:
        ledger = ledgers[symbol]
        t = ledger.totals
        position = t.lots * (1.0 / ledger.lot_scale)
        inventory = position * marks[symbol] - t.mid_cost
        net += t.spread_income + t.rebates + inventory - (t.fees + t.slippage)
    return net


def ranking(ex: Exchange) -> list[tuple[float, str]]:
    """Every agent's ``(-net PnL, agent id)``, best first (ties by agent id, so the order is stable)."""
    for symbol in list(ex.markets):
        ex.market(symbol)                       # every market at now, once: both readers run to the same instant
    now = ex.now()
    marks = {symbol: market.mark_at(now) for symbol, market in ex.markets.items()}
    # Sorted as (minus net PnL, id) tuples, compared in C: a key function costs more than the ranking.
    rows = [(-net_pnl_since_creation(agent, marks), agent.agent_id) for agent in ex.agents.values()]
    rows.sort()
    return rows


def leaderboard(ex: Exchange, limit: int = DEFAULT_LEADERBOARD_PAGE, cursor: str | None = None) -> Leaderboard:
    """A page of the ranking: ``limit`` rows from ``cursor`` (a ``next_cursor`` answered before: the
    rank the page starts after; none: the top). ``next_cursor`` is null on the last page."""
    if not (is_whole(limit) and 1 <= limit <= MAX_LEADERBOARD_PAGE):
        raise invalid_request(f"limit must be a whole number from 1 to {MAX_LEADERBOARD_PAGE}.", field="limit")
    position = cursor_position(cursor)
    rows = ranking(ex)
    start = 0 if position is None else min(position, len(rows))
    stop = min(len(rows), start + limit)
    page = []
    for i in range(start, stop):
        minus_net, agent_id = rows[i]
        net = -minus_net
        stats = ex.analytics.for_agent(agent_id)
        page.append(LeaderboardRow(
            rank=i + 1, agent_id=agent_id, net_pnl=usd(net), volume_usd=usd(stats.volume_usd), fills=stats.fills,
            fill_rate=None if stats.fill_share is None else round(stats.fill_share, 9),
            time_weighted_abs_inventory_usd=usd(stats.time_weighted_abs_inventory_usd),
            worst_drawdown_usd=usd(stats.worst_drawdown_usd), guardrail_trips=stats.guardrail_trips_total,
            guardrail_trips_by_rule=dict(stats.guardrail_trips)))
    return Leaderboard(agents=page, total=len(rows), next_cursor=str(stop) if stop < len(rows) else None,
                       timestamp=to_ms(ex.now()))
