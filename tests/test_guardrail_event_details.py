"""What each guardrail event says: the session panel and the simulate report list an agent's guardrail
events (``analytics.for_agent(...).guardrail_events``) with the guardrail that acted and its detail, the
session's reason at that moment: ``stop_loss`` for a stop, ``max_inventory_usd: bid held`` (or ``ask``)
for a side held at the inventory limit. Driven in the core on the manual clock: a jump of the fair value
runs through the agent's bids at a known instant."""

from __future__ import annotations

from pf_mock.messages import QuoteRequest
from pf_mock.testing import MockExchange

SYMBOL = "BTC-PERP"


def bid_ask(ex: MockExchange, bid_bps: float, bid_usd: float, ask_bps: float, ask_usd: float, **fields) -> QuoteRequest:
    mid = ex.mid(SYMBOL)
    return QuoteRequest(SYMBOL, bid_price=mid * (1 - bid_bps / 1e4), bid_size=bid_usd,
                        ask_price=mid * (1 + ask_bps / 1e4), ask_size=ask_usd, **fields)


def events(ex: MockExchange, agent) -> list[tuple[str, str | None]]:
    return [(e.guardrail, e.detail) for e in ex.analytics.for_agent(agent.agent_id, SYMBOL).guardrail_events]


def test_a_stop_loss_event_says_stop_loss():
    ex = MockExchange(seed=1)
    me = ex.register()
    ex.quote(me, bid_ask(ex, 5, 500, 5, 100, session_stop_loss_usd=5))
    assert events(ex, me) == []
    ex.jump(SYMBOL, -300)                   # the bid fills and the mid keeps falling past it
    assert ex.session_of(me, SYMBOL).reason == "stop_loss"
    assert events(ex, me) == [("session_stop_loss_usd", "stop_loss")]


def test_a_held_side_event_names_the_side_held():
    ex = MockExchange(seed=1)
    me = ex.register()
    ex.quote(me, bid_ask(ex, 5, 200, 5, 100, max_inventory_usd=250))
    ex.quote(me, bid_ask(ex, 10, 200, 15, 100))
    assert events(ex, me) == []
    ex.jump(SYMBOL, -30)                    # runs through both bids up to the limit
    assert ex.session_of(me, SYMBOL).reason == "max_inventory_usd: bid held"
    assert events(ex, me) == [("max_inventory_usd", "max_inventory_usd: bid held")]
    ex.advance(5)
    ex.quote(me, bid_ask(ex, 20, 100, 20, 100))      # the guardrails look again: the same hold, no new event
    assert events(ex, me) == [("max_inventory_usd", "max_inventory_usd: bid held")]
