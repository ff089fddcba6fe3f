"""What the sync and async clients share: each endpoint as a ``Call`` (built once, here), the parsing of
an answer into the server's own response model or a typed exception, and the retry policy.

No I/O in here. A front (``Client``, ``AsyncClient``) sends a ``Call`` through its transport, hands the
answer to ``parse`` and asks ``RetryPolicy.delay`` whether, and after how long, to try again.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote as _quote

from ..guardrails import check_names
from .errors import ConnectionFailed, PfError, error_for

if TYPE_CHECKING:   # the answers are the server's own models, declared once in pf_mock.messages
    from .. import messages as m

DEFAULT_BASE = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 10.0


def env_base_url(given: str | None = None) -> str:
    return (given or os.environ.get("PF_BASE") or DEFAULT_BASE).rstrip("/")


def env_api_key(given: str | None = None) -> str | None:
    return given or os.environ.get("PF_API_KEY") or None


def env_admin_token(given: str | None = None) -> str | None:
    return given or os.environ.get("PF_ADMIN_TOKEN") or None


@dataclass(frozen=True)
class Call:
    """One request: what to send, and which of the server's answer models to read it into."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    answer: str | None = None       # a class in pf_mock.messages; None: the decoded JSON as it is
    auth: bool = True               # send the API key
    admin: bool = False             # a /_mock route: send the admin token, if any

    @property
    def idempotent(self) -> bool:
        return self.method in ("GET", "HEAD", "OPTIONS", "DELETE")


@dataclass
class Raw:
    """An answer as a transport returns it: ``body`` is decoded JSON (or text), already a model, or (a
    2xx only) the JSON bytes themselves, which ``parse`` reads straight into the answer model."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


class NoAnswer(Exception):
    """A transport got no answer. ``sent``: the request may have reached the server (so only an
    idempotent one is safe to send again)."""

    def __init__(self, reason: str, sent: bool):
        super().__init__(reason)
        self.reason = reason
        self.sent = sent


_MODELS: dict[str, type] = {}


def _model(name: str) -> type:
    found = _MODELS.get(name)
    if found is None:
        found = _MODELS[name] = getattr(importlib.import_module("pf_mock.messages"), name)
    return found


def parse(call: Call, raw: Raw) -> Any:
    """The answer as ``call.answer``'s model, or the exception for its error code."""
    if not 200 <= raw.status < 300:
        raise error_for(raw.status, raw.body)
    body = raw.body
    if call.answer is None:
        return json.loads(body) if isinstance(body, (bytes, bytearray)) else body
    model = _model(call.answer)
    if isinstance(body, model):
        return body
    if isinstance(body, (bytes, bytearray)):
        return model.model_validate_json(body)
    return model.model_validate(body)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again, and after how long.

    - 429 ``rate_limited``: always (the server refused before acting), after ``Retry-After`` seconds
      (or the body's ``retry_after_seconds``), else after the backoff;
    - no answer: if the request cannot have arrived (connection refused), or it is idempotent;
    - 502, 503, 504 on an idempotent request.
    The backoff doubles from ``backoff_s`` up to ``max_backoff_s``; at most ``retries`` more tries.
    """

    retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 60.0

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_s * (2 ** attempt), self.max_backoff_s)

    def delay(self, attempt: int, call: Call, raw: Raw | None = None, failure: NoAnswer | None = None) -> float | None:
        """Seconds to wait before try ``attempt + 1`` (attempts count from 0), or None: do not retry."""
        if attempt >= self.retries:
            return None
        if failure is not None:
            return self.backoff(attempt) if (not failure.sent or call.idempotent) else None
        assert raw is not None
        if raw.status == 429:
            advised = _retry_after(raw)
            return min(advised, self.max_retry_after_s) if advised is not None else self.backoff(attempt)
        if raw.status in (502, 503, 504) and call.idempotent:
            return self.backoff(attempt)
        return None


def _retry_after(raw: Raw) -> float | None:
    for name in ("retry-after", "Retry-After"):
        value = raw.headers.get(name) if raw.headers else None
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                break
    if isinstance(raw.body, dict) and isinstance(raw.body.get("retry_after_seconds"), (int, float)):
        return max(0.0, float(raw.body["retry_after_seconds"]))
    return None


def give_up(failure: NoAnswer) -> PfError:
    return ConnectionFailed(None, "connection_failed", failure.reason)


def headers_for(call: Call, api_key: str | None, admin_token: str | None) -> dict[str, str]:
    headers = {}
    if call.admin:
        if admin_token:
            headers["X-Admin-Token"] = admin_token
    elif call.auth and api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def _seg(symbol: str) -> str:
    return _quote(str(symbol), safe="")


def _params(**given: Any) -> dict[str, Any] | None:
    found = {k: v for k, v in given.items() if v is not None}
    return found or None


def _body(**given: Any) -> dict[str, Any]:
    return {k: v for k, v in given.items() if v is not None}


class Endpoints:
    """The API, one method per route. On ``Client`` each returns the answer; on ``AsyncClient`` each
    returns a coroutine of it. Sizes on the market-making routes are USD notional per side."""

    def _call(self, call: Call) -> Any:          # provided by the front
        raise NotImplementedError

    # ---- market data (no key) ---------------------------------------------------------------
    def markets(self, limit: int | None = None, offset: int | None = None) -> "m.MarketList":
        return self._call(Call("GET", "/v1/markets", _params(limit=limit, offset=offset), answer="MarketList",
                               auth=False))

    def market(self, symbol: str) -> "m.MarketDetail":
        return self._call(Call("GET", f"/v1/markets/{_seg(symbol)}", answer="MarketDetail", auth=False))

    def price(self, symbol: str) -> "m.Price":
        return self._call(Call("GET", f"/v1/markets/{_seg(symbol)}/price", answer="Price", auth=False))

    def orderbook(self, symbol: str, depth: int | None = None) -> "m.OrderBookView":
        return self._call(Call("GET", f"/v1/markets/{_seg(symbol)}/orderbook", _params(depth=depth),
                               answer="OrderBookView", auth=False))

    def trades(self, symbol: str, limit: int | None = None) -> "m.Trades":
        return self._call(Call("GET", f"/v1/markets/{_seg(symbol)}/trades", _params(limit=limit), answer="Trades",
                               auth=False))

    def candles(self, symbol: str, interval: str = "1m", limit: int | None = None) -> "m.Candles":
        return self._call(Call("GET", f"/v1/markets/{_seg(symbol)}/candles", _params(interval=interval, limit=limit),
                               answer="Candles", auth=False))

    def health(self) -> dict:
        return self._call(Call("GET", "/health", auth=False))

    # ---- agents -------------------------------------------------------------------------------
    def register(self, agent_id: str | None = None) -> "m.Registered":
        return self._call(Call("POST", "/v1/agents/register", json=_body(agent_id=agent_id), answer="Registered",
                               auth=False))

    def faucet_claim(self) -> "m.FaucetClaim":
        return self._call(Call("POST", "/v1/faucet/claim", json={}, answer="FaucetClaim"))

    def account(self) -> "m.Account":
        return self._call(Call("GET", "/v1/account", answer="Account"))

    # ---- market making ------------------------------------------------------------------------
    def quote(self, symbol: str, *, bid_price: float | None = None, bid_size: float | None = None,
              ask_price: float | None = None, ask_size: float | None = None, time_in_force: str | None = None,
              auto_refresh: bool | None = None, refresh_interval_seconds: float | None = None,
              **guardrails: float | None) -> "m.QuoteAnswer":
        """``guardrails``: any of ``pf_mock.guardrails.NAMES`` (``max_inventory_usd=500``, ...); another
        name is a TypeError here rather than a field the server ignores."""
        check_names(guardrails)
        body = _body(symbol=symbol, bid_price=bid_price, bid_size=bid_size, ask_price=ask_price, ask_size=ask_size,
                     time_in_force=time_in_force, auto_refresh=auto_refresh,
                     refresh_interval_seconds=refresh_interval_seconds, **guardrails)
        return self._call(Call("POST", "/v1/mm/quote", json=body, answer="QuoteAnswer"))

    def cancel(self, symbol: str) -> "m.Cancelled":
        return self._call(Call("POST", "/v1/mm/cancel", json={"symbol": symbol}, answer="Cancelled"))

    def orders(self, symbol: str | None = None, status: str | None = None, cursor: str | None = None,
               limit: int | None = None) -> "m.Orders":
        """``status="closed"``: a page of the orders that left the book (each with ``status``, ``reason``,
        ``closed_at``); ``cursor`` (a ``next_cursor``, or ``"0"`` for the oldest kept) and ``limit`` page it."""
        return self._call(Call("GET", "/v1/mm/orders", _params(symbol=symbol, status=status, cursor=cursor,
                                                               limit=limit), answer="Orders"))

    def fills(self, symbol: str | None = None, since: int | None = None, limit: int | None = None,
              cursor: str | None = None) -> "m.Fills":
        """``since`` in ms of mock time."""
        return self._call(Call("GET", "/v1/mm/fills", _params(symbol=symbol, since=since, limit=limit, cursor=cursor),
                               answer="Fills"))

    def inventory(self, symbol: str) -> "m.Inventory":
        return self._call(Call("GET", "/v1/mm/inventory", {"symbol": symbol}, answer="Inventory"))

    def hedge(self, symbol: str, hedge_pct: float = 1.0) -> "m.Hedged":
        return self._call(Call("POST", "/v1/mm/hedge", json={"symbol": symbol, "hedge_pct": hedge_pct},
                               answer="Hedged"))

    def pnl(self, symbol: str | None = None, since: int | None = None, until: int | None = None,
            window: str | None = None) -> "m.Pnl":
        return self._call(Call("GET", "/v1/mm/pnl", _params(symbol=symbol, since=since, until=until, window=window),
                               answer="Pnl"))

    def session(self, symbol: str) -> "m.SessionView":
        return self._call(Call("GET", "/v1/mm/session", {"symbol": symbol}, answer="SessionView"))

    def session_reset(self, symbol: str) -> "m.SessionView":
        return self._call(Call("POST", "/v1/mm/session/reset", json={"symbol": symbol}, answer="SessionView"))


class MockEndpoints:
    """The ``/_mock`` toolkit (not part of the real API): a separate handle, ``client.mock``."""

    def _call(self, call: Call) -> Any:
        raise NotImplementedError

    def state(self) -> "m.MockState":
        return self._call(Call("GET", "/_mock/state", answer="MockState", admin=True))

    def reset(self, seed: int | None = None) -> "m.MockState":
        return self._call(Call("POST", "/_mock/reset", json=_body(seed=seed), answer="MockState", admin=True))

    def advance(self, seconds: float) -> "m.Advanced":
        return self._call(Call("POST", "/_mock/clock/advance", json={"seconds": seconds}, answer="Advanced",
                               admin=True))

    def jump(self, symbol: str, move_bps: float) -> "m.Jumped":
        return self._call(Call("POST", f"/_mock/markets/{_seg(symbol)}/jump", json={"move_bps": move_bps},
                               answer="Jumped", admin=True))

    def regime(self, symbol: str, **fields: float) -> "m.RegimeSet":
        return self._call(Call("POST", f"/_mock/markets/{_seg(symbol)}/regime", json=fields, answer="RegimeSet",
                               admin=True))

    def scenario(self, name: str | None = None, scenario: dict | None = None) -> "m.ScenarioApplied":
        return self._call(Call("POST", "/_mock/scenario", json=_body(name=name, scenario=scenario),
                               answer="ScenarioApplied", admin=True))

    def add_fault(self, path: str, **rule: Any) -> "m.FaultAdded":
        """``add_fault("/v1/mm/quote", status=503, count=1)``; also ``latency_ms``, ``probability`` ..."""
        return self._call(Call("POST", "/_mock/faults", json={"path": path, **rule}, answer="FaultAdded", admin=True))

    def faults(self) -> "m.FaultList":
        return self._call(Call("GET", "/_mock/faults", answer="FaultList", admin=True))

    def clear_faults(self) -> "m.FaultsCleared":
        return self._call(Call("DELETE", "/_mock/faults", answer="FaultsCleared", admin=True))

    def requests(self, agent: str | None = None, limit: int | None = None) -> "m.JournalView":
        return self._call(Call("GET", "/_mock/requests", _params(agent=agent, limit=limit), answer="JournalView",
                               admin=True))
