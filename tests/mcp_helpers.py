"""Talking to pf-mock's MCP server with the SDK's own client, in process: the client's HTTP requests go
into the app through ``httpx2.ASGITransport`` (the SDK's HTTP library), all on the test's event loop."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import httpx
import httpx2

from pf_mock.server import build_app
from pf_mock.testing import serve_options

KEY = "pf_test_mcp_agent_123"
BASE = "http://testserver"


def app_for(**options: Any):
    """A fresh pf-mock app (manual clock) with ``/mcp``, as ``pf-mock serve`` builds it."""
    return build_app(serve_options(**options))


def auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


@asynccontextmanager
async def mcp_client(app, key: str | None = KEY, mode: str = "auto", headers: dict | None = None
                     ) -> AsyncIterator[Client]:
    """The SDK's client on ``app``'s ``/mcp``, sending ``key`` as a Bearer header. ``mode="legacy"`` speaks
    the initialize-handshake protocol versions instead of the newest one."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=BASE,
                              headers={**auth(key), **(headers or {})})
    async with http, Client(streamable_http_client(f"{BASE}/mcp", http_client=http), mode=mode,
                            cache=None) as client:
        yield client


@asynccontextmanager
async def rest_client(app, key: str | None = KEY) -> AsyncIterator[httpx.AsyncClient]:
    """A plain REST client on ``app``, on the same event loop."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, headers=auth(key)) as c:
        yield c


def error_body(result) -> dict:
    """A tool error's body: the JSON of its second text block. A tool error carries no structured content
    (a client checks that against the tool's output schema, even on an error)."""
    assert result.is_error, result
    assert result.structured_content is None, result.structured_content
    body = json.loads(result.content[1].text)
    assert result.content[0].text == f"{body['error']}: {body['message']}"
    return body


def answer(result) -> dict:
    """What a tool answered: its structured content, or a tool error's body."""
    return error_body(result) if result.is_error else result.structured_content


def one_line(result) -> str:
    """The tool result's summary: its first text block, one non-empty line."""
    text = result.content[0].text
    assert text.strip() and "\n" not in text, text
    return text
