"""Registered keys come from the operating system's secure source, never from the seed: determinism
covers markets and fills, not secrets."""

from __future__ import annotations

from pf_mock.agents import KEY_PATTERN
from pf_mock.api import create_app, in_process_client
from pf_mock.exchange import Exchange, ExchangeConfig


def register(seed: int) -> dict:
    client = in_process_client(create_app(Exchange(ExchangeConfig(seed=seed, strict_auth=True))))
    answer = client.post("/v1/agents/register", json={})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_two_servers_with_the_same_seed_issue_different_keys():
    first, second = register(42), register(42)
    assert first["api_key"] != second["api_key"]
    assert first["agent_id"] != second["agent_id"]


def test_a_key_matches_the_contract_s_pattern_and_works_under_strict_auth():
    ex = Exchange(ExchangeConfig(seed=1, strict_auth=True))
    client = in_process_client(create_app(ex))
    keys = [client.post("/v1/agents/register").json()["api_key"] for _ in range(20)]
    assert len(set(keys)) == 20
    for key in keys:
        assert KEY_PATTERN.match(key) and key.startswith("pf_test_") and 8 <= len(key) - len("pf_test_") <= 120
        assert client.get("/v1/account", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/v1/account", headers={"X-API-Key": "pf_test_" + "0" * 32}).status_code == 401
