"""Shared fixtures: an in-process exchange on a manual clock and an HTTP client bound to it.

Hypothesis runs ``default`` (quick, for every run) unless ``PF_MOCK_HYPOTHESIS_PROFILE`` names
another profile (``ci-long`` runs many more examples)."""

from __future__ import annotations

import os

import warnings

import pytest

with warnings.catch_warnings():
    # Starlette asks TestClient users to move to httpx2 one day; nothing to act on yet. The warning is
    # raised when conftest is imported, before pytest's own filterwarnings setting is in force.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from pf_mock.api import AppOptions, create_app
from pf_mock.clock import ManualClock
from pf_mock.exchange import Exchange, ExchangeConfig

pytest_plugins = ["pytester"]       # tests/test_plugin.py runs generated test files

settings.register_profile("default", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci-long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("PF_MOCK_HYPOTHESIS_PROFILE", "default"))

KEY = "pf_test_alice_12345678"
OTHER_KEY = "pf_test_bob_12345678"


def make_exchange(seed: int = 0, **config) -> Exchange:
    return Exchange(ExchangeConfig(seed=seed, **config), ManualClock())


@pytest.fixture
def exchange() -> Exchange:
    return make_exchange()


@pytest.fixture
def client(exchange: Exchange) -> TestClient:
    with TestClient(create_app(exchange, AppOptions()), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def auth() -> dict:
    return {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def other_auth() -> dict:
    return {"Authorization": f"Bearer {OTHER_KEY}"}
