"""``pf-mock mcp``: the MCP server over stdio, for any pf-mock (or anything speaking its REST API).

Configured from the environment, as the real platform's stdio package is:

- ``PF_BASE``: the API's base URL (default ``http://127.0.0.1:8000``);
- ``PF_API_KEY``: the agent's key, sent as ``Authorization: Bearer <key>`` (without it the market tools
  still work and the ``mm_*`` tools answer the API's ``unauthorized`` error);
- ``PF_ADMIN_TOKEN``: sent as ``X-Admin-Token`` to a mock started with ``--admin-token`` (``--mcp-admin``
  tools only).
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx
from mcp.server.stdio import stdio_server

from ..client.tls import default_tls
from .server import build_server

DEFAULT_BASE = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 120.0     # advancing a manual clock by a simulated week can take a while


@dataclass(frozen=True)
class StdioConfig:
    base: str = DEFAULT_BASE
    api_key: str | None = None
    admin_token: str | None = None
    admin: bool = False

    @classmethod
    def from_env(cls, admin: bool = False, environ=os.environ) -> "StdioConfig":
        return cls(base=environ.get("PF_BASE") or DEFAULT_BASE, api_key=environ.get("PF_API_KEY") or None,
                   admin_token=environ.get("PF_ADMIN_TOKEN") or None, admin=admin)

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.admin_token:
            headers["X-Admin-Token"] = self.admin_token
        return headers


async def serve_stdio(config: StdioConfig) -> None:
    async with httpx.AsyncClient(base_url=config.base.rstrip("/"), headers=config.headers(),
                                 timeout=TIMEOUT_SECONDS, verify=default_tls()) as client:
        @asynccontextmanager
        async def client_for(ctx):
            yield client

        server = build_server(client_for, admin=config.admin)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


def run(config: StdioConfig) -> None:
    """Serve until the client closes stdin (or Ctrl-C, which ends it quietly too)."""
    try:
        anyio.run(serve_stdio, config)
    except KeyboardInterrupt:
        pass
