"""``Serving`` (``pf_mock/serving.py``), without HTTP: what is served with the exchange starts over with it,
a request draws on its key's bucket only when the key is an agent's, and the journal notes whose a
request was once it is answered."""

from __future__ import annotations

from pf_mock.serving import Serving

from conftest import KEY, make_exchange


def test_reset_starts_every_control_over_with_the_new_seed() -> None:
    serving = Serving(make_exchange(seed=1), rate_limit=2)
    serving.faults.add("/v1/*", status=503)
    serving.journaled("GET", "/v1/markets", b"", b"", None)
    serving.spend(None, "10.0.0.1")
    serving.spend(None, "10.0.0.1")
    assert not serving.spend(None, "10.0.0.1").allowed        # the address's bucket is empty
    state = serving.reset(9)
    assert state["seed"] == serving.exchange.seed == serving.faults.seed == 9
    assert serving.faults.rules == [] and len(serving.journal) == 0
    assert serving.spend(None, "10.0.0.1").allowed            # full again
    added = serving.faults.add("/v1/*", status=503)
    assert added.id == "flt_1"                                # rule numbers from 1 again


def test_a_key_has_its_own_bucket_only_once_it_is_an_agents() -> None:
    serving = Serving(make_exchange(), rate_limit=1)
    assert serving.spend(KEY, "10.0.0.1").allowed             # not an agent yet: the address's bucket
    assert not serving.spend("pf_test_unknown_12345678", "10.0.0.1").allowed    # the same bucket
    serving.exchange.authenticate(KEY)                        # provisions the agent
    assert serving.spend(KEY, "10.0.0.1").allowed             # now its key's own bucket
    assert not serving.spend(KEY, "10.0.0.1").allowed
    assert Serving(make_exchange()).spend(KEY, "10.0.0.1") is None     # no limit: nothing spent


def test_the_journal_notes_the_agent_once_the_request_is_answered() -> None:
    serving = Serving(make_exchange())
    entry = serving.journaled("POST", "/v1/mm/quote", b"", b"{}", KEY)
    serving.answered(entry)
    assert entry.agent_id is None                             # the key is nobody's yet
    serving.exchange.authenticate(KEY)
    serving.answered(entry)
    assert entry.agent_id == serving.exchange.agent_for_key(KEY).agent_id
    assert entry.time_ms == serving.mock_state()["clock"]["now"]
