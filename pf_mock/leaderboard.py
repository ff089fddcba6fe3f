"""The classroom view: every agent on the exchange, ranked by net PnL.

Net PnL is the contract's (``Exchange.pnl``: the change of the agent's equity since it was created);
the other figures are the running statistics of ``analytics.py``, read, never recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from .exchange import Exchange


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    agent_id: str
    net_pnl: float
    volume_usd: float
    fills: int
    fill_rate: float | None                     # filled / posted notional of its quotes; None before any
    time_weighted_abs_inventory_usd: float
    worst_drawdown_usd: float
    guardrail_trips: int
    guardrail_trips_by_rule: dict[str, int]


def leaderboard(ex: Exchange) -> list[LeaderboardRow]:
    """Every agent, best net PnL first (ties by agent id, so the order is stable)."""
    rows = []
    for agent in list(ex.agents.values()):
        ex.sync(agent)                          # its markets at now, so both readers run to the same instant
        net = ex.pnl(agent).window.net_pnl
        stats = ex.analytics.for_agent(agent.agent_id)
        rows.append((net, agent.agent_id, stats))
    rows.sort(key=lambda row: (-row[0], row[1]))
    return [LeaderboardRow(rank=i + 1, agent_id=agent_id, net_pnl=net, volume_usd=stats.volume_usd,
                           fills=stats.fills, fill_rate=stats.fill_share,
                           time_weighted_abs_inventory_usd=stats.time_weighted_abs_inventory_usd,
                           worst_drawdown_usd=stats.worst_drawdown_usd,
                           guardrail_trips=stats.guardrail_trips_total,
                           guardrail_trips_by_rule=dict(stats.guardrail_trips))
            for i, (net, agent_id, stats) in enumerate(rows)]
