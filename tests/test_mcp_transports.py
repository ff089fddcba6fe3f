"""MCP over real transports: streamable HTTP at ``/mcp`` of a uvicorn server (which pf-mock runs with its
lifespan off), and ``pf-mock mcp`` on stdio as a subprocess talking to a server over REST. The same
calls give the same answers as in process."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import threading
from pathlib import Path

import anyio
import pytest
import httpx
import httpx2

from mcp_helpers import answer, app_for, error_body, one_line
from pf_mock.mcp import tools
from pf_mock.testing import TEST_KEY, client_agent, run_server
from test_mcp import mcp_run, script


def stdio(base: str, key: str | None, *args: str) -> StdioServerParameters:
    from mcp import StdioServerParameters
    env = {k: v for k, v in os.environ.items() if k not in ("PF_API_KEY", "PF_BASE", "PF_ADMIN_TOKEN")}
    env["PF_BASE"] = base
    if key:
        env["PF_API_KEY"] = key
    return StdioServerParameters(command=sys.executable, args=["-m", "pf_mock", "mcp", *args], env=env)


async def listed(client) -> dict:
    return {t.name: (t.input_schema, t.description) for t in (await client.list_tools()).tools}


def test_stdio_and_http_serve_the_same_tools_and_answers():
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def over_stdio(base: str, key: str):
        results = []
        async with Client(stdio(base, key, "--mcp-admin"), cache=None) as client:
            tool_list = await listed(client)

            async def call(tool, args):
                result = await client.call_tool(tool, args)
                results.append((tool, result.is_error, answer(result), one_line(result)))

            price = (await client.call_tool("market_price", {"symbol": "BTC-PERP"})).structured_content
            await script(call, price)
        return tool_list, results

    async def over_http(base: str, key: str):
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
        async with http, Client(streamable_http_client(f"{base}/mcp", http_client=http), cache=None) as client:
            tool_list = await listed(client)
            price = await client.call_tool("market_price", {"symbol": "BTC-PERP"})
            quote = await client.call_tool("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 68_000,
                                                              "bid_size": 100})
            crossed = await client.call_tool("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 69_000,
                                                                "bid_size": 100, "ask_price": 68_000, "ask_size": 100})
        return tool_list, price, quote, crossed

    with run_server(seed=2, mcp_admin=True) as srv:
        stdio_tools, stdio_results = anyio.run(over_stdio, srv.base_url, srv.api_key)
    with run_server(seed=2, mcp_admin=True) as srv:
        http_tools, price, quote, crossed = anyio.run(over_http, srv.base_url, srv.api_key)
        rest_orders = srv.client.get("/v1/mm/orders").json()
        rest_price = srv.client.get("/v1/markets/BTC-PERP/price").json()

    assert stdio_tools == http_tools
    assert set(http_tools) == {spec.name for spec in tools.TOOLS}
    assert price.structured_content == rest_price
    assert not quote.is_error and rest_orders["orders"][0]["order_id"] == quote.structured_content["bid_id"]
    assert error_body(crossed)["error"] == "crossed_quote"

    # The same script over stdio against a served mock, and over /mcp in process: the same results.
    async def reference():
        app = app_for(seed=2, mcp_admin=True)
        client_agent(app.state.exchange)        # run_server provisions its agent before anything else
        return await mcp_run(app=app, key=TEST_KEY)

    assert stdio_results == anyio.run(reference)


def test_stdio_without_a_key_and_under_a_rate_limit():
    from mcp import Client

    async def scenario(base: str):
        async with Client(stdio(base, None), cache=None) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            return names, [await client.call_tool(tool, {"symbol": "BTC-PERP"}) for tool in
                           ("market_price", "mm_inventory", "market_price", "market_price")]

    with run_server(rate_limit=3) as srv:
        names, (price, denied, again, limited) = anyio.run(scenario, srv.base_url)
    assert not names & {spec.name for spec in tools.TOOLS if spec.admin}     # no --mcp-admin, no mock tools
    assert not price.is_error and not again.is_error
    assert error_body(denied)["error"] == "unauthorized"
    assert error_body(limited)["error"] == "rate_limited"
    assert error_body(limited)["retry_after_seconds"] > 0


def test_an_unreachable_api_is_a_tool_error_not_a_crash():
    async def scenario():
        async with httpx.AsyncClient(base_url="http://127.0.0.1:9", timeout=5) as client:
            return await tools.call(tools.BY_NAME["market_price"], client, {"symbol": "BTC-PERP"})

    result = anyio.run(scenario)
    assert error_body(result)["error"] == "upstream_unreachable"
    assert one_line(result).startswith("upstream_unreachable: Could not reach the API at http://127.0.0.1:9")


# --- the README's client configurations, against `pf-mock serve` -----------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def readme_configs() -> tuple[dict, dict]:
    """The two ``mcpServers`` blocks of the README's MCP section: (HTTP, stdio)."""
    blocks = re.findall(r"```json\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    servers = [json.loads(b)["mcpServers"]["pf-mock"] for b in blocks if '"mcpServers"' in b]
    http = next(s for s in servers if "url" in s)
    stdio_ = next(s for s in servers if "command" in s)
    return http, stdio_


ONE_CALL_EACH = [
    ("market_list", {"limit": 2}), ("market_info", {"symbol": "ETH-PERP"}), ("market_price", {"symbol": "eth"}),
    ("market_orderbook", {"symbol": "ETH-PERP", "depth": 3}), ("market_trades", {"symbol": "ETH-PERP"}),
    ("market_candles", {"symbol": "ETH-PERP", "interval": "5m"}), ("mm_account", {}),
    ("mm_post_quotes", {"symbol": "ETH-PERP", "bid_price": 3700, "bid_size": 100}),
    ("mm_orders", {}), ("mock_advance_clock", {"seconds": 30}), ("mm_fills", {}),
    ("mm_inventory", {"symbol": "ETH-PERP"}), ("mm_session", {"symbol": "ETH-PERP"}), ("mm_pnl", {}),
    ("mm_cancel", {"symbol": "ETH-PERP"}), ("mm_session_reset", {"symbol": "ETH-PERP"}),
    ("mock_jump", {"symbol": "ETH-PERP", "move_bps": 10}), ("mock_load_scenario", {"name": "calm"}),
    ("mock_state", {}), ("mm_hedge", {"symbol": "ETH-PERP"}), ("mock_reset", {}),
]


@pytest.mark.latency      # as `pf-mock serve` runs by default: the documented order-entry latency
def test_the_readme_configurations_list_and_call_every_tool_against_a_served_mock():
    """What ``pf-mock serve --clock manual --mcp-admin`` serves (run_server: the same app and uvicorn set-up,
    in a thread here; the command itself is tests/test_cli.py's), reached as the README's two blocks say:
    its URL and header over streamable HTTP, and its command, arguments and environment over stdio."""
    from mcp import Client, StdioServerParameters
    from mcp.client.streamable_http import streamable_http_client
    http_config, stdio_config = readme_configs()
    assert http_config["type"] == "streamable-http" and http_config["url"].endswith("/mcp")
    assert stdio_config["args"] == ["mcp"] and set(stdio_config["env"]) == {"PF_BASE", "PF_API_KEY"}
    with run_server(clock="manual", mcp_admin=True) as srv:
        base = srv.base_url
        url = http_config["url"].replace("http://127.0.0.1:8000", base)
        env = {**os.environ, **stdio_config["env"], "PF_BASE": base}
        installed = Path(sys.executable).parent / "pf-mock"      # the README's .venv/bin/pf-mock
        command = str(installed) if installed.exists() else sys.executable
        args = stdio_config["args"] if installed.exists() else ["-m", "pf_mock", *stdio_config["args"]]

        async def every_tool(connection) -> dict[str, bool]:
            async with Client(connection, cache=None) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                assert names == {spec.name for spec in tools.TOOLS}
                return {name: (await client.call_tool(name, args)).is_error for name, args in ONE_CALL_EACH}

        async def both():
            http = httpx2.AsyncClient(headers=http_config["headers"], timeout=60)
            async with http:
                over_http = await every_tool(streamable_http_client(url, http_client=http))
            over_stdio = await every_tool(StdioServerParameters(command=command, args=[*args, "--mcp-admin"],
                                                                env=env))
            return over_http, over_stdio

        over_http, over_stdio = anyio.run(both)
    assert {name for name, _ in ONE_CALL_EACH} == {spec.name for spec in tools.TOOLS}
    expected = {name: name == "mm_hedge" for name, _ in ONE_CALL_EACH}    # the far bid never filled: no_inventory
    assert over_http == expected
    assert over_stdio == expected


def test_tool_calls_reach_the_exchange_on_the_servers_own_thread():
    """One thread owns the exchange: over /mcp the core is reached on the server's event loop thread,
    the same one REST requests use, never from a thread pool."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    seen: list[int] = []

    async def calls(base: str, key: str):
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)
        async with http, Client(streamable_http_client(f"{base}/mcp", http_client=http), cache=None) as client:
            for tool, args in [("market_price", {"symbol": "BTC-PERP"}), ("mm_inventory", {"symbol": "BTC-PERP"}),
                               ("mm_post_quotes", {"symbol": "BTC-PERP", "bid_price": 68_000, "bid_size": 100})]:
                assert not (await client.call_tool(tool, args)).is_error

    with run_server() as srv:
        stepper = srv.exchange.stepper      # every read and command reaches its market through market_now
        market_now = stepper.market_now

        def watched(*args, **kwargs):
            seen.append(threading.get_ident())
            return market_now(*args, **kwargs)

        stepper.market_now = watched
        srv.client.get("/v1/markets/BTC-PERP/price")
        rest_thread = seen[-1]
        anyio.run(calls, srv.base_url, srv.api_key)
    assert len(seen) >= 4
    assert set(seen) == {rest_thread} and rest_thread != threading.get_ident()


def test_the_mcp_benchmark_still_runs(capsys):
    """``benchmarks/mcp_tools.py`` runs and prints its figures (a few calls, in this process; the figures
    are never checked: timings belong to the machine)."""
    spec = importlib.util.spec_from_file_location("mcp_tools_benchmark", ROOT / "benchmarks" / "mcp_tools.py")
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    anyio.run(benchmark.main, 3)
    out = capsys.readouterr().out
    for line in ("REST GET /price (baseline), best of 3:", "MCP market_price, best of 3:",
                 "ratio MCP / REST, read:", "ratio MCP / REST, cancel + quote:"):
        assert line in out, out


def test_mcp_admin_without_the_mock_routes_is_a_command_line_mistake(capsys):
    from pf_mock.cli import main

    assert main(["serve", "--no-admin", "--mcp-admin"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--mcp-admin" in err and err.startswith("pf-mock: error:")
