"""Shared fixtures: an in-process exchange on a manual clock and an HTTP client bound to it.

Hypothesis runs ``default`` unless ``PF_MOCK_HYPOTHESIS_PROFILE`` names another profile. ``default`` is
quick (25 examples) and derandomized: every run tries the same examples, so a red run is red again on a
re-run and on any machine; ``thorough`` is the same with 100 examples. ``ci-long`` runs many more examples from a random seed, printed in the report header and
summary; ``PF_MOCK_HYPOTHESIS_SEED=<seed>`` replays that run. ``mutation`` is ``default`` cut to a few
examples, for ``make mutate``: each of a thousand mutants runs the tests again, and a planted bug that only
the hundredth example finds is rare, so the score is of the tests' intent at a tenth of the cost; it stops at
the first failing example, unshrunk."""

from __future__ import annotations

import gc
import json
import os
import random
from functools import cache
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, Phase, core, settings

if TYPE_CHECKING:
    from app_client import AppClient

    from pf_mock.exchange import Exchange

# The app, the exchange and FastAPI's test client are imported by the fixtures that use them, not here:
# this file is also loaded by the process that only hands tests out to pytest-xdist's workers, and by
# runs that need none of them; importing them costs a second or more of CPU each time.

# The suite's processes collect cyclic garbage less often than Python's default (a young-generation pass
# every 700 net allocations, a full one every 70,000): its tests build and drop whole exchanges, apps and
# hypothesis draws, and at the default the collector took about 7% of the core-heavy files' CPU (4.9 of 66
# CPU-s over six of them, timed with a gc.callbacks hook; 1.9 at these thresholds). Garbage is still
# collected, in larger batches; what a test needs collected at a given moment, it collects itself.
gc.set_threshold(20_000, 20, 20)

pytest_plugins = ["pytester"]       # tests/test_plugin.py runs generated test files

settings.register_profile("default", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=100, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
# A mutant is caught by the first failing example: shrinking it and explaining it (which can take
# longer than mutmut allows a test run, so a caught mutant would count as a timeout) are skipped.
settings.register_profile("mutation", max_examples=10, deadline=None, derandomize=True,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate],
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci-long", max_examples=2000, deadline=None, derandomize=False, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("PF_MOCK_HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)
HYPOTHESIS_SEED: int | None = None
if not settings.default.derandomize:
    # One seed for the whole run, chosen here (or given) and put in the environment, so that pytest-xdist's
    # workers, started after this, draw from the same seed, and the header can say which it was.
    HYPOTHESIS_SEED = int(os.environ.setdefault("PF_MOCK_HYPOTHESIS_SEED", str(random.randrange(2**32))))
    core.global_force_seed = HYPOTHESIS_SEED     # what pytest's --hypothesis-seed sets


def _seed_line() -> str:
    return (f"hypothesis profile {PROFILE!r}: random seed {HYPOTHESIS_SEED}; replay with "
            f"PF_MOCK_HYPOTHESIS_PROFILE={PROFILE} PF_MOCK_HYPOTHESIS_SEED={HYPOTHESIS_SEED}")


def pytest_report_header(config):
    return _seed_line() if HYPOTHESIS_SEED is not None else f"hypothesis profile {PROFILE!r}: derandomized"


def pytest_terminal_summary(terminalreporter):
    if HYPOTHESIS_SEED is not None:
        terminalreporter.write_line(_seed_line())

# The files holding the suite's longest items (schemathesis's 35 tests, about 10 CPU-s together, one to two
# seconds for the longest; the calibration report's module fixture) run first: under `-n 2 --dist worksteal`
# a worker that finishes its share takes from the end of the other's queue, so a long item left near the end
# is the one thing that can keep one core busy while the other idles. The order of everything else is kept.
LONG_FIRST = ("tests/test_schema_conformance.py", "tests/test_calibration.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))     # a stable sort: nothing else moves


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """An xdist worker ends its process here, once everything has run. By now it has sent every report and
    its `workerfinished` to the controller, torn down its fixtures (their servers are stopped) and run every
    other plugin's unconfigure. What is left is the interpreter freeing the million-odd objects a worker
    holds after the whole suite and execnet waiting for the controller's goodbye: 3-4 s of wall time at the
    end of every run on a 2-core machine, during which the controller can only wait. A run without xdist
    (the mutation tool's, an editor's) ends as usual. Only the worker's own config has ``workerinput``: a
    pytest run in process inside a worker (the plugin's tests, through ``pytester``) sees the worker's
    environment, but not its config, and returns to the test that started it."""
    if not hasattr(config, "workerinput"):
        return
    import sys

    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    os._exit(0)


@cache
def _instant_catalog():
    from pf_mock.catalog import load_catalog

    return load_catalog().with_latency(0.0)


@pytest.fixture(scope="session", autouse=True)
def _instant_order_entry():
    """Order entry with no latency (quotes and cancels act at the request's instant) in every test but
    those marked ``latency``: the one place the suite pins it. An exchange built without a catalog takes
    this one, whose markets start at a latency of 0; ``ExchangeConfig(latency_ms=...)`` still sets one.
    ``pf-mock serve`` run as a subprocess follows the documented model unless given ``--latency-ms 0``.
    Session-wide, so a module's server or exchange (built before any function fixture runs) gets it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("pf_mock.exchange.load_catalog", _instant_catalog)
        yield


@pytest.fixture(autouse=True)
def _documented_latency_where_marked(request, monkeypatch):
    if request.node.get_closest_marker("latency") is not None:
        from pf_mock.catalog import load_catalog

        monkeypatch.setattr("pf_mock.exchange.load_catalog", load_catalog)


@cache
def _openapi_json() -> str:
    from pf_mock.api import AppOptions, create_app

    return json.dumps(create_app(make_exchange(), AppOptions()).openapi())


def openapi_document() -> dict:
    """The fully featured app's OpenAPI document (every route, /_mock included), a fresh copy each call.
    Several test modules derive their cases from it while they are collected, in every xdist worker;
    building it costs about 0.3 s of CPU, so it is built once per process."""
    return json.loads(_openapi_json())


KEY = "pf_test_alice_12345678"
OTHER_KEY = "pf_test_bob_12345678"


def make_exchange(seed: int = 0, **config) -> Exchange:
    from pf_mock.clock import ManualClock
    from pf_mock.exchange import Exchange, ExchangeConfig

    return Exchange(ExchangeConfig(seed=seed, **config), ManualClock())


@pytest.fixture
def exchange() -> Exchange:
    return make_exchange()


@pytest.fixture
def client(exchange: Exchange) -> AppClient:
    """The app on ``exchange`` behind an httpx client that serves each request in this thread
    (tests/app_client.py: the same answers as Starlette's ``TestClient``, a third of its CPU)."""
    from app_client import app_client
    from pf_mock.api import AppOptions, create_app

    with app_client(create_app(exchange, AppOptions())) as c:
        yield c


@pytest.fixture
def auth() -> dict:
    return {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def other_auth() -> dict:
    return {"Authorization": f"Bearer {OTHER_KEY}"}
