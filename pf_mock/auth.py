"""Agents and auth: who holds which key, how a key becomes an agent, and the faucet.

The exchange keeps two plain tables, ``agents`` (id -> ``Agent``) and ``keys`` (API key -> id); the
functions here read and change them and hand back the agent, so the tables stay the exchange's state
(a snapshot saves and restores them as they are) and the rules for keys live in this one place.
"""

from __future__ import annotations

import secrets

from .agents import AGENT_ID_PATTERN, KEY_PATTERN, Agent, agent_id_for_key
from .errors import ApiError, invalid_key, invalid_request, unauthorized

FAUCET_USD = 1.0


def agent_for_key(agents: dict[str, Agent], keys: dict[str, str], key: str) -> Agent | None:
    """The agent that holds ``key``, if any; unlike ``authenticate`` it never provisions one."""
    agent_id = keys.get(key)
    return agents.get(agent_id) if agent_id is not None else None


def add_agent(agents: dict[str, Agent], keys: dict[str, str], agent_id: str, key: str, now: float,
              balance: float) -> Agent:
    agent = Agent(agent_id, key, now, balance)
    agents[agent_id] = agent
    keys[key] = agent_id
    return agent


def authenticate(agents: dict[str, Agent], keys: dict[str, str], key: str | None, strict: bool, now: float,
                 balance: float) -> Agent:
    """The agent holding ``key``; with open auth (not ``strict``) a well-formed unknown key provisions one."""
    if not key:
        raise unauthorized()
    agent_id = keys.get(key)
    if agent_id is not None:
        return agents[agent_id]
    if not KEY_PATTERN.match(key):
        raise invalid_key("Malformed API key: expected pf_test_ or pf_live_ followed by 8 to 120 of [A-Za-z0-9_].")
    if strict:
        raise invalid_key("Unknown API key; register with POST /v1/agents/register.")
    agent_id = agent_id_for_key(key)
    while agent_id in agents:      # a registered agent already took that name
        agent_id = agent_id_for_key(agent_id + key)
    return add_agent(agents, keys, agent_id, key, now, balance)


def register(agents: dict[str, Agent], keys: dict[str, str], agent_id: str | None, now: float,
             balance: float) -> Agent:
    """A new agent with a fresh key (and a fresh id unless ``agent_id`` names a free one)."""
    if agent_id is not None:
        if not isinstance(agent_id, str) or not AGENT_ID_PATTERN.match(agent_id):
            raise invalid_request("agent_id must be 1-64 of [A-Za-z0-9_-].", field="agent_id")
        if agent_id in agents:
            raise ApiError(409, "agent_exists", f"An agent named {agent_id!r} is already registered.")
    # From the OS's secure source, never from the seed: determinism covers markets and fills, not
    # secrets (a key derived from a printed seed could be computed by any other agent).
    key = "pf_test_" + secrets.token_hex(16)
    while key in keys:
        key = "pf_test_" + secrets.token_hex(16)
    if agent_id is None:
        agent_id = "ag_" + secrets.token_hex(6)
        while agent_id in agents:
            agent_id = "ag_" + secrets.token_hex(6)
    return add_agent(agents, keys, agent_id, key, now, balance)


def claim_faucet(agent: Agent) -> float:
    if agent.faucet_claimed:
        raise ApiError(409, "already_claimed", "This agent has already claimed the faucet.")
    agent.faucet_claimed = True
    agent.deposits += FAUCET_USD
    return FAUCET_USD
