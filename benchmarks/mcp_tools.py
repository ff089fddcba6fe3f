"""What a tool call over ``/mcp`` costs next to the REST request it stands for; rerun with
``python benchmarks/mcp_tools.py`` (``--quick`` for fewer rounds).

Both in process, on one event loop, into the same kind of app (manual clock, seed 0): the baseline is
the REST request through ``httpx.ASGITransport``; the tool call goes through the SDK's client over
``httpx2.ASGITransport`` to ``/mcp``, where the tool sends that same REST request back into the app. So
the ratio is the price of the MCP layer (JSON-RPC framing, the SDK's dispatch, the inner request), for a
read (``market_price``) and for a write pair (``mm_cancel`` + ``mm_post_quotes``). Nothing here asserts
a time.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio  # noqa: E402
import httpx  # noqa: E402
import httpx2  # noqa: E402
from mcp import Client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from pf_mock.server import build_app  # noqa: E402
from pf_mock.testing import serve_options  # noqa: E402

KEY = "pf_test_benchmark_mcp"
BASE = "http://bench"
REPEATS = 3


async def best_of(label: str, rounds: int, once) -> float:
    """The best of ``REPEATS`` timings of ``rounds`` calls of ``once``, in microseconds a call."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(rounds):
            await once()
        best = min(best, (time.perf_counter() - start) / rounds * 1e6)
    print(f"{label}, best of {REPEATS}: {best:,.0f} us a call ({1e6 / best:,.0f} calls/s)")
    return best


async def main(rounds: int) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    rest_app, mcp_app = build_app(serve_options()), build_app(serve_options())
    rest = httpx.AsyncClient(transport=httpx.ASGITransport(app=rest_app), base_url=BASE, headers=headers)
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=mcp_app), base_url=BASE, headers=headers)
    async with rest, http, Client(streamable_http_client(f"{BASE}/mcp", http_client=http), cache=None) as client:
        mid = (await rest.get("/v1/markets/BTC-PERP/price")).json()["mid"]
        quote = {"symbol": "BTC-PERP", "bid_price": mid * 0.999, "bid_size": 100, "ask_price": mid * 1.001,
                 "ask_size": 100}
        cancel = {"symbol": "BTC-PERP"}

        async def rest_price():
            assert (await rest.get("/v1/markets/BTC-PERP/price")).status_code == 200

        async def tool_price():
            assert not (await client.call_tool("market_price", {"symbol": "BTC-PERP"})).is_error

        async def rest_pair():
            assert (await rest.post("/v1/mm/cancel", json=cancel)).status_code == 200
            assert (await rest.post("/v1/mm/quote", json=quote)).status_code == 200

        async def tool_pair():
            assert not (await client.call_tool("mm_cancel", cancel)).is_error
            assert not (await client.call_tool("mm_post_quotes", quote)).is_error

        print(f"python {platform.python_version()} on {platform.machine()}, {rounds} calls a timing")
        base = await best_of("REST GET /price (baseline)", rounds, rest_price)
        tool = await best_of("MCP market_price", rounds, tool_price)
        print(f"ratio MCP / REST, read: {tool / base:.2f}x")
        base = await best_of("REST cancel + quote (baseline)", rounds, rest_pair)
        tool = await best_of("MCP mm_cancel + mm_post_quotes", rounds, tool_pair)
        print(f"ratio MCP / REST, cancel + quote: {tool / base:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 calls a timing instead of 300")
    args = parser.parse_args()
    anyio.run(main, 20 if args.quick else 300)
