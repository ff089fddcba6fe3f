"""The asyncio client: the same calls, parsing and retries as ``Client``, awaited."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import httpx

from .core import (DEFAULT_TIMEOUT_S, Call, Endpoints, MockEndpoints, NoAnswer, Raw, RetryPolicy, env_admin_token,
                   env_api_key, env_base_url, give_up, headers_for, parse)
from .sync import decode
from .tls import default_tls


class AsyncClient(Endpoints):
    """Like ``Client``, but every method is a coroutine. ``transport`` is an httpx async transport
    (``httpx.ASGITransport(app)`` serves an app in process); ``http`` an ``httpx.AsyncClient``."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = 3, retry: RetryPolicy | None = None, admin_token: str | None = None,
                 transport: httpx.AsyncBaseTransport | None = None, http: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.base_url = env_base_url(base_url)
        self.api_key = env_api_key(api_key)
        self.admin_token = env_admin_token(admin_token)
        self.retry = retry or RetryPolicy(retries=retries)
        self.sleep = sleep
        self._owned = http is None
        self.http = http or httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport,
                                           verify=default_tls())
        self.mock = AsyncMockHandle(self)

    async def _send(self, call: Call, headers: dict[str, str]) -> Raw:
        try:
            response = await self.http.request(call.method, call.path, params=call.params, json=call.json,
                                               headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NoAnswer(f"could not connect: {exc}", sent=False) from exc
        except httpx.TransportError as exc:
            raise NoAnswer(f"no answer: {exc!r}", sent=True) from exc
        return Raw(response.status_code, response.headers, decode(response))

    async def _call(self, call: Call) -> Any:
        headers = headers_for(call, self.api_key, self.admin_token)
        attempt = 0
        while True:
            try:
                raw = await self._send(call, headers)
            except NoAnswer as failure:
                wait = self.retry.delay(attempt, call, failure=failure)
                if wait is None:
                    raise give_up(failure) from None
            else:
                wait = self.retry.delay(attempt, call, raw=raw)
                if wait is None:
                    return parse(call, raw)
            await self.sleep(wait)
            attempt += 1

    async def aclose(self) -> None:
        if self._owned:
            await self.http.aclose()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class AsyncMockHandle(MockEndpoints):
    def __init__(self, client: AsyncClient):
        self._client = client

    def _call(self, call: Call) -> Any:
        return self._client._call(call)
