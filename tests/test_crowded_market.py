"""Many agents with live sessions on one market: the shortcuts that keep an event cheap for them change
nothing anyone can see.

The shortcut under test: at every event ``Sessions.enforce`` runs every live session's guardrails, but a
session with no guardrail set is only told that the auto-hedge has looked (``hedge_due`` cleared),
instead of going through ``guard_session``. The oracle is the long way itself: the same run with every
session marked guarded, so that each one goes through the whole of ``guard_session`` at every event.
The run mixes sessions with no guardrails, sessions with each guardrail alone and all of them, refresh
loops, jumps wide enough to pause and stop sessions, resets, cancels, hedges, and an agent that quotes
with no guardrail, gets filled, and only then sets an auto-hedge threshold (where what ``hedge_due``
says after each event decides whether it hedges at once).

(The other shortcut, each side's best price of everyone but an owner worked out once per change of the
book, is checked against a brute-force book in ``test_book_properties.py``.)
"""

from __future__ import annotations

import pytest

from pf_mock.messages import QuoteRequest
from pf_mock.testing import MockExchange

SYMBOL = "ETH-PERP"
GUARDS = [{}, {"max_spread_bps": 3.0}, {}, {"max_inventory_usd": 200.0}, {"auto_hedge_threshold_usd": 150.0},
          {}, {"session_stop_loss_usd": 3.0}, {"max_spread_bps": 6.0, "max_inventory_usd": 300.0,
                                                "auto_hedge_threshold_usd": 250.0, "session_stop_loss_usd": 25.0}]


def run(seed: int, everyone_guarded: bool) -> list:
    ex = MockExchange(seed=seed)
    agents = [ex.register(f"agent_{i}") for i in range(len(GUARDS))]
    seen: list = []

    def quote(i: int, half_bps: float, **settings) -> None:
        mid = ex.mid(SYMBOL)
        answer = ex.quote(agents[i], QuoteRequest(SYMBOL, bid_price=mid * (1 - half_bps / 1e4), bid_size=150.0,
                                                  ask_price=mid * (1 + half_bps / 1e4), ask_size=150.0, **settings))
        if everyone_guarded:
            for agent in agents:
                for session in agent.sessions.values():
                    session.guarded = True      # every session the long way, at every event
        seen.append(repr(answer))

    for i, guards in enumerate(GUARDS):
        quote(i, 1.0 + i % 3, auto_refresh=i % 4 != 2, refresh_interval_seconds=3.0 + i, **guards)
        ex.advance(0.4)
    for step in range(16):
        ex.advance(45.0)
        if step % 4 == 1:
            ex.jump(SYMBOL, (-60.0, 45.0)[step % 8 // 4])
        if step % 4 == 2:
            ex.cancel(agents[5], SYMBOL)
            quote(2, 1.5)               # no guardrail, no refresh: quoted by hand
        if step == 5:
            quote(5, 1.0, auto_refresh=True)
        if step == 9:
            # Unguarded and filled since it started; the threshold comes only now.
            quote(0, 1.0, auto_hedge_threshold_usd=20.0)
        if step % 5 == 3:
            for i in (6, 7):
                ex.session_reset(agents[i], SYMBOL)
                quote(i, 2.0, auto_refresh=True, **GUARDS[i])
        if step == 11:
            position = agents[2].ledgers[SYMBOL].lots if SYMBOL in agents[2].ledgers else 0
            if position:
                seen.append(repr(ex.hedge(agents[2], SYMBOL, 1.0)))
        seen.append([(s.status, s.reason, s.hedge_due) for a in agents for s in a.sessions.values()])
    for agent in agents:
        ex.sync(agent)
        seen.append(repr(ex.fills(agent)))
        seen.append(repr(ex.orders(agent, status="closed", limit=500)))
        seen.append(repr(ex.orders(agent)))
        seen.append(repr(ex.analytics.for_agent(agent.agent_id)))
        seen.append(repr(ex.pnl(agent)))
        seen.append(repr(ex.account(agent)))
    seen.append(ex.market(SYMBOL).events_processed)
    return seen


@pytest.mark.parametrize("seed", [0, 5])
def test_sessions_without_guardrails_take_the_shortcut_and_nothing_changes(seed: int) -> None:
    short, long = run(seed, everyone_guarded=False), run(seed, everyone_guarded=True)
    assert short == long
    text = "\n".join(map(str, short))
    # The run reached what it is meant to: every kind of guardrail acted, and there were fills.
    for reason in ("market_spread_wide", "stop_loss", "max_inventory_usd: ", "'auto_hedge'"):
        assert reason in text, reason
