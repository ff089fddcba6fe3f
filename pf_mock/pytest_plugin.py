"""The pytest plugin, registered through the ``pytest11`` entry point: installing pf-mock is enough.

Fixtures (both fresh for every test, so tests never share state, also under ``pytest -n``):

- ``pf_mock``: the app in process (``pf_mock.testing.in_process``): ``.client`` an authorised httpx
  client, ``.exchange``, ``.app``, ``.api_key``, ``.agent_id`` and the helpers ``advance``, ``jump``,
  ``regime``, ``load_scenario``, ``faults``, ``clear_faults``, ``requests``, ``state``.
- ``pf_mock_server``: a real uvicorn server on a free loopback port (``pf_mock.testing.run_server``),
  with ``.base_url`` and the same key, client and helpers.

Options: ``@pytest.mark.pf_mock(seed=..., starting_balance=..., strict_auth=..., ...)`` takes any
``pf-mock serve`` option by its Python name (a marker on a class or module applies to its tests, the
nearest one wins); the seed is otherwise ``--pf-mock-seed`` (default 0), and the order-entry latency
``--pf-mock-latency-ms`` (default 0: quotes and cancels act at the request's instant, so a unit test of a
client need not wait for them; ``pf-mock serve`` and ``MockExchange`` follow the documented model).

This module imports nothing heavy: FastAPI and uvicorn load only when a test asks for a fixture.
"""

from __future__ import annotations

from typing import Any

import pytest

MARKER = "pf_mock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pf-mock")
    group.addoption("--pf-mock-seed", type=int, default=0, dest="pf_mock_seed", metavar="SEED",
                    help="seed of the pf_mock and pf_mock_server fixtures where a test's pf_mock marker "
                         "sets none (default 0)")
    group.addoption("--pf-mock-latency-ms", type=float, default=0.0, dest="pf_mock_latency_ms", metavar="MS",
                    help="median order-entry latency of the fixtures' markets where a test's pf_mock marker sets "
                         "none (default 0: at once; pf-mock serve's default is 200)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pf_mock(seed=..., starting_balance=..., strict_auth=..., **options): options of this test's "
        "pf_mock and pf_mock_server fixtures (any pf-mock serve option by its Python name)")


def mock_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The seed and the latency from the command line, then the markers' keywords, the nearest marker last."""
    from .testing import serve_options

    options: dict[str, Any] = {"seed": request.config.getoption("pf_mock_seed"),
                               "latency_ms": request.config.getoption("pf_mock_latency_ms")}
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            pytest.fail(f"@pytest.mark.{MARKER} takes keyword arguments only, got {marker.args!r}", pytrace=False)
        options.update(marker.kwargs)
    try:
        serve_options(**options)
    except TypeError as exc:
        pytest.fail(f"@pytest.mark.{MARKER}: {exc}", pytrace=False)
    return options


@pytest.fixture
def pf_mock(request: pytest.FixtureRequest):
    """A fresh pf-mock in process, on a manual clock, with an authorised httpx client."""
    from .testing import in_process

    with in_process(**mock_options(request)) as mock:
        yield mock


@pytest.fixture
def pf_mock_server(request: pytest.FixtureRequest):
    """A fresh pf-mock served by uvicorn on a free loopback port, for clients that speak real HTTP."""
    from .testing import run_server

    with run_server(**mock_options(request)) as server:
        yield server
