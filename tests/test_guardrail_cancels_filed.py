"""The orders a guardrail takes off the book are filed among the agent's closed orders by the time the
request that set it off is answered: a snapshot taken at that same instant (which has nothing left to
run) lists them with their reason, as the closed-orders listing does. A max_spread_bps no book meets
pauses the session as the quote arrives, and the agent's resting bid goes with reason spread_pause."""

from __future__ import annotations

from pf_mock import state as core
from pf_mock.messages import QuoteRequest
from pf_mock.testing import MockExchange

SYMBOL = "BTC-PERP"


def closed_in_snapshot(ex: MockExchange, agent) -> list[tuple[str, str, str | None]]:
    document = core.snapshot(ex)
    (mine,) = [a for a in document["agents"] if a["agent_id"] == agent.agent_id]
    return [(row[0], row[10], row[11]) for row in mine["closed_orders"]["orders"]]


def test_the_orders_a_spread_pause_cancels_are_in_a_snapshot_taken_at_that_instant():
    ex = MockExchange(seed=2)
    me = ex.register()
    mid = ex.mid(SYMBOL)
    resting = ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * (1 - 20e-4), bid_size=100)).bid.order_id
    assert resting is not None and closed_in_snapshot(ex, me) == []
    paused = ex.quote(me, QuoteRequest(SYMBOL, ask_price=mid * (1 + 20e-4), ask_size=100, max_spread_bps=0.001))
    assert paused.ask.skipped == "market_spread_wide" and paused.session.status == "paused"
    assert closed_in_snapshot(ex, me) == [(resting, "cancelled", "spread_pause")]
    listed = ex.orders(me, SYMBOL, status="closed").orders
    assert [(o.order_id, o.reason) for o in listed] == [(resting, "spread_pause")]
