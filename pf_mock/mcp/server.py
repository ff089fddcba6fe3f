"""One MCP server (the official SDK's low-level ``Server``) for both transports.

The only thing a transport decides is where a tool's REST request goes: ``client_for(ctx)`` opens the
``httpx.AsyncClient`` for the call in hand (stdio: one client to ``PF_BASE``; ``/mcp``: a client into
the same app carrying the caller's own ``Authorization`` header). Every handler is ``async`` and runs on
the transport's event loop: the SDK's low-level server runs nothing in a thread pool.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Callable

import httpx
import mcp_types as types
from mcp.server import Server
from mcp.shared.exceptions import MCPError

from . import tools

ClientFor = Callable[[Any], AbstractAsyncContextManager[httpx.AsyncClient]]

INSTRUCTIONS = (
    "pf-mock: a local, deterministic fake of the Purple Flea market-making API. The mm_* tools act on your "
    "account (quote sizes are USD notional per side, positions are base units, PnL in USD); the market_* "
    "tools read market data. Errors come back as tool errors (isError) whose first text is "
    '"<code>: <message>" and second the error body as JSON, {"error": "<code>", "message": "<sentence>", ...}, '
    "the same codes as the REST API."
)


def _version() -> str:
    try:
        return version("pf-mock")
    except PackageNotFoundError:        # run from a checkout that was never installed
        return "0"


def build_server(client_for: ClientFor, *, admin: bool = False) -> Server:
    """The MCP server: the API's tools, and the ``/_mock`` ones when ``admin``."""
    offered = {spec.name: spec for spec in tools.tools(admin)}
    listed = types.ListToolsResult(tools=[spec.tool() for spec in offered.values()])
    schemas = {tool.name: tool.input_schema for tool in listed.tools}

    async def list_tools(ctx, params) -> types.ListToolsResult:
        return listed

    async def call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        spec = offered.get(params.name)
        if spec is None:        # a protocol error, as the MCP spec asks for an unknown tool
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool {params.name!r}; tools/list names the tools.")
        async with client_for(ctx) as client:
            return await tools.call(spec, client, params.arguments)

    # get_tool_input_schema: the SDK checks a call's Mcp-Param headers against the tool's schema; from
    # this map, rather than by running tools/list once more for every call.
    return Server("pf-mock", version=_version(), instructions=INSTRUCTIONS, get_tool_input_schema=schemas.get,
                  on_list_tools=list_tools, on_call_tool=call_tool)
