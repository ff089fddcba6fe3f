"""The import graph of pf_mock, read from the source (``benchmarks/structure.py`` does the reading).

The rules:
1. No cycle: no module imports, directly or not, one that imports it. Every import counts, wherever it
   stands: at module level, inside a function, or under ``if TYPE_CHECKING:``.
2. Only the HTTP package ``pf_mock.api`` imports the web framework (fastapi, starlette, or the package
   that ships the docs' assets). The core never does; the modules that start or wrap a server
   (``server``, ``cli``, ``testing``, ``pytest_plugin``) reach it only through ``pf_mock.api``.
3. The core does not import the HTTP package either: only those front modules may, and the MCP front
   (``pf_mock.mcp``, which re-exposes the API's routes as tools).
4. Nothing but the fronts imports the MCP front, and only it imports the MCP SDK (an optional extra).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB = {"fastapi", "starlette", "fastapi_offline"}
FRONTS = {"pf_mock.server", "pf_mock.cli", "pf_mock.testing", "pf_mock.pytest_plugin", "pf_mock.__main__"}


@cache
def structure():
    """``benchmarks/structure.py``, loaded when a test first needs it (not when the suite is collected)."""
    spec = importlib.util.spec_from_file_location("structure", ROOT / "benchmarks" / "structure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graph():
    """(imports inside pf_mock, imports from outside it), by module: read once by the process that runs
    these tests, instead of by every worker while it collects the suite."""
    return structure().import_graph(ROOT / "pf_mock")


def in_api(module: str) -> bool:
    return module == "pf_mock.api" or module.startswith("pf_mock.api.")


def in_mcp(module: str) -> bool:
    return module == "pf_mock.mcp" or module.startswith("pf_mock.mcp.")


def in_simulate(module: str) -> bool:
    return module == "pf_mock.simulate" or module.startswith("pf_mock.simulate.")


def is_front(module: str) -> bool:
    """The fronts: the modules above, the MCP server, and ``pf-mock simulate`` (it drives the app's
    routes in process)."""
    return module in FRONTS or in_mcp(module) or in_simulate(module)


def test_the_graph_was_read(graph):
    imports, outside = graph
    assert {"pf_mock.exchange", "pf_mock.sessions", "pf_mock.orders", "pf_mock.api.mm"} <= imports.keys()
    assert "pf_mock.orders" in imports["pf_mock.sessions"] and "pf_mock.sessions" in imports["pf_mock.exchange"]
    assert "fastapi" in outside["pf_mock.api.app"]


def test_no_import_cycle(graph):
    imports, _ = graph
    assert structure().cycles(imports) == []


def test_the_cycle_finder_finds_cycles():
    # the oracle for the test above: a graph with a known two-module and three-module cycle
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert structure().cycles(graph) == [["a", "b"], ["c", "d", "e"]]


def test_only_the_http_package_imports_the_web_framework(graph):
    _, outside = graph
    offenders = {m: sorted(deps & WEB) for m, deps in outside.items() if deps & WEB and not in_api(m)}
    assert offenders == {}


def test_the_core_never_imports_the_http_package(graph):
    imports, _ = graph
    offenders = {m: sorted(d for d in deps if in_api(d)) for m, deps in imports.items()
                 if not in_api(m) and not is_front(m) and any(in_api(d) for d in deps)}
    assert offenders == {}


def test_only_the_fronts_import_the_mcp_front_and_only_it_the_sdk(graph):
    imports, outside = graph
    assert {"pf_mock.mcp.tools", "pf_mock.mcp.http"} <= imports.keys()
    importers = {m for m, deps in imports.items() if not is_front(m) and any(in_mcp(d) for d in deps)}
    assert importers == set()
    assert "mcp" in outside["pf_mock.mcp.server"]
    assert {m for m, deps in outside.items() if "mcp" in deps and not in_mcp(m)} == set()
