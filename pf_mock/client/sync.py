"""The blocking client: ``Client`` for the API, ``client.mock`` for the ``/_mock`` toolkit."""

from __future__ import annotations

import time
from typing import Any, Callable, Protocol

import httpx

from .core import (DEFAULT_TIMEOUT_S, Call, Endpoints, MockEndpoints, NoAnswer, Raw, RetryPolicy, env_admin_token,
                   env_api_key, env_base_url, give_up, headers_for, parse)
from .tls import default_tls


class Transport(Protocol):
    """Sends one call and returns the answer, or raises ``NoAnswer``."""

    def send(self, call: Call, headers: dict[str, str]) -> Raw: ...
    def close(self) -> None: ...


def decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


class HttpxTransport:
    """Over an ``httpx.Client`` (ours, or one given)."""

    def __init__(self, http: httpx.Client, owned: bool):
        self.http = http
        self.owned = owned

    def send(self, call: Call, headers: dict[str, str]) -> Raw:
        try:
            response = self.http.request(call.method, call.path, params=call.params, json=call.json, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise NoAnswer(f"could not connect: {exc}", sent=False) from exc
        except httpx.TransportError as exc:
            raise NoAnswer(f"no answer: {exc!r}", sent=True) from exc
        return Raw(response.status_code, response.headers, decode(response))

    def close(self) -> None:
        if self.owned:
            self.http.close()


class Client(Endpoints):
    """The Purple Flea market-making API (and pf-mock's), typed.

    ``Client()`` reads ``PF_BASE`` (default ``http://127.0.0.1:8000``) and ``PF_API_KEY`` from the
    environment. Answers are the server's own pydantic models (``pf_mock.messages``); a refusal raises
    the ``pf_mock.client.errors`` class of its code. Rate-limited requests (429) and requests that got
    no answer are retried with backoff (see ``RetryPolicy``). Give ``transport=`` (an httpx transport,
    or any object with ``send(call, headers)``) or ``http=`` (an httpx client) to choose how requests
    travel; ``sleep`` is what waits between retries.
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = 3, retry: RetryPolicy | None = None, admin_token: str | None = None,
                 transport: Any = None, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = env_base_url(base_url)
        self.api_key = env_api_key(api_key)
        self.admin_token = env_admin_token(admin_token)
        self.retry = retry or RetryPolicy(retries=retries)
        self.sleep = sleep
        if transport is not None and hasattr(transport, "send") and not isinstance(transport, httpx.BaseTransport):
            self.transport: Transport = transport
        elif http is not None:
            self.transport = HttpxTransport(http, owned=False)
        else:
            self.transport = HttpxTransport(httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport,
                                                         verify=default_tls()),
                                            owned=True)
        self.mock = MockHandle(self)

    def _call(self, call: Call) -> Any:
        headers = headers_for(call, self.api_key, self.admin_token)
        attempt = 0
        while True:
            try:
                raw = self.transport.send(call, headers)
            except NoAnswer as failure:
                wait = self.retry.delay(attempt, call, failure=failure)
                if wait is None:
                    raise give_up(failure) from None
            else:
                wait = self.retry.delay(attempt, call, raw=raw)
                if wait is None:
                    return parse(call, raw)
            self.sleep(wait)
            attempt += 1

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MockHandle(MockEndpoints):
    """``client.mock``: pf-mock's ``/_mock`` routes, with the admin token (``PF_ADMIN_TOKEN``) if any."""

    def __init__(self, client: Client):
        self._client = client

    def _call(self, call: Call) -> Any:
        return self._client._call(call)
