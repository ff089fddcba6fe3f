"""After every market event the stepper reads the market's mark once and hands it to the statistics
(``Analytics.after_event``) and the guardrails (``Sessions.enforce``), which otherwise read it themselves.
Pinned here: the mark handed down is the market's own at that instant, every time, and a simulation in
which both read it themselves (the mark dropped on the way) is the same, figure for figure."""

from __future__ import annotations

import dataclasses

import pytest

from pf_mock.analytics import Analytics
from pf_mock.sessions import Sessions
from pf_mock.simulate.runner import SimConfig, run_simulation

CONFIG = SimConfig(maker="clients.inventory_mm", duration_s=900.0, seed=0)


def outcome(result) -> tuple:
    return result.report, [dataclasses.asdict(s) for s in result.samples], result.fills


@pytest.fixture(scope="module")
def handed_down(request):
    """The simulation as it runs, with every mark handed down checked against the market's own."""
    seen = {"analytics": 0, "guardrails": 0, "wrong": []}
    after_event, enforce = Analytics.after_event, Sessions.enforce

    def check(who, market, mark):
        if mark is not None:
            seen[who] += 1
            if mark != market.mark:
                seen["wrong"].append((who, market.now, mark, market.mark))

    def spied_after_event(self, market, mark=None):
        check("analytics", market, mark)
        return after_event(self, market, mark)

    def spied_enforce(self, market, mark=None):
        check("guardrails", market, mark)
        return enforce(self, market, mark)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Analytics, "after_event", spied_after_event)
        mp.setattr(Sessions, "enforce", spied_enforce)
        result = run_simulation(CONFIG)
    return seen, outcome(result)


def test_the_mark_handed_down_after_an_event_is_the_markets_own(handed_down):
    seen, _ = handed_down
    assert seen["analytics"] > 100 and seen["guardrails"] > 100     # the shared reading is used
    assert seen["wrong"] == []


def test_a_run_whose_statistics_and_guardrails_read_the_mark_themselves_is_the_same(handed_down):
    _, shared = handed_down
    after_event, enforce = Analytics.after_event, Sessions.enforce
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Analytics, "after_event", lambda self, market, mark=None: after_event(self, market))
        mp.setattr(Sessions, "enforce", lambda self, market, mark=None: enforce(self, market))
        own = outcome(run_simulation(CONFIG))
    assert own == shared
