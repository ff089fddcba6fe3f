"""A client of the app for tests: the whole ASGI app (every middleware: the door, the journal, the rate
limit, fault rules, the turns) serves each request in the calling thread, on an event loop the client
keeps for its life.

Starlette's ``TestClient`` serves the app in a second thread and hands every step of a request across
(starting the app's task, each event, each chunk of the body: eight round trips between the threads a
request), which costs about three times the CPU of the request itself. The answers are the same: the
same scope (``Host: testserver``, the same ``server``), the body sent as its chunks, the answer's raw
bytes. What it does not do, which no test using it needs: WebSockets and answers that never end (the
feed's stream is read over a real server)."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from typing import Iterator

import httpx

BASE_URL = "http://testserver"


class _Chunks(httpx.AsyncByteStream):
    """A body given as an iterator of chunks, handed to the app chunk by chunk, as a server would."""

    def __init__(self, chunks: list[bytes]):
        self._chunks = chunks

    async def __aiter__(self):
        for chunk in self._chunks:
            yield chunk


class InLoopTransport(httpx.BaseTransport):
    def __init__(self, app):
        # raise_app_exceptions=False: an exception that escapes the app is a 500, as from a real server.
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()

    async def _serve(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.stream])
        await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                              request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            request.stream = _Chunks(list(request.stream))
        return self._loop.run_until_complete(self._serve(request))

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()


class AppClient(httpx.Client):
    """An httpx client of ``app`` (kept as ``.app``, as on ``TestClient``)."""

    def __init__(self, app, headers: dict | None = None):
        super().__init__(transport=InLoopTransport(app), base_url=BASE_URL, follow_redirects=True,
                         headers={"user-agent": "testclient", **(headers or {})})
        self.app = app


@contextmanager
def app_client(app, headers: dict | None = None) -> Iterator[AppClient]:
    with AppClient(app, headers) as client:
        yield client


@contextmanager
def in_process(**options):
    """``pf_mock.testing.in_process`` (the same exchange, app, agent and helpers, built by its own
    functions) with both of its clients served in this thread. For tests whose subject is not
    the handle itself (tests/test_testing_helpers.py and the plugin's tests keep the real one)."""
    from pf_mock.testing import InProcessMock, _agent_headers, _build, _control_headers, serve_options

    opts = serve_options(**options)
    exchange, app, agent = _build(opts)     # the real handle's own build: only the clients differ
    with AppClient(app, _control_headers(opts)) as control, AppClient(app, _agent_headers(agent)) as client:
        yield InProcessMock(app, exchange=exchange, client=client, control=control, agent=agent, options=opts)
