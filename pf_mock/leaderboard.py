"""The classroom view: every agent on the exchange, ranked by net PnL.

Net PnL is the contract's (``Exchange.pnl``: the change of the agent's equity since it was created);
the other figures are the running statistics of ``analytics.py``, read, never recomputed here.
"""

from __future__ import annotations

from .clock import to_ms
from .exchange import Exchange
from .messages import Leaderboard, LeaderboardRow
from .views import usd


def leaderboard(ex: Exchange) -> Leaderboard:
    """Every agent, best net PnL first (ties by agent id, so the order is stable)."""
    rows = []
    for agent in list(ex.agents.values()):
        ex.sync(agent)                          # its markets at now, so both readers run to the same instant
        net = ex.pnl(agent).window.net_pnl
        rows.append((net, agent.agent_id, ex.analytics.for_agent(agent.agent_id)))
    rows.sort(key=lambda row: (-row[0], row[1]))
    return Leaderboard(agents=[
        LeaderboardRow(rank=i + 1, agent_id=agent_id, net_pnl=usd(net), volume_usd=usd(stats.volume_usd),
                       fills=stats.fills, fill_rate=None if stats.fill_share is None else round(stats.fill_share, 9),
                       time_weighted_abs_inventory_usd=usd(stats.time_weighted_abs_inventory_usd),
                       worst_drawdown_usd=usd(stats.worst_drawdown_usd),
                       guardrail_trips=stats.guardrail_trips_total,
                       guardrail_trips_by_rule=dict(stats.guardrail_trips))
        for i, (net, agent_id, stats) in enumerate(rows)], timestamp=to_ms(ex.now()))
