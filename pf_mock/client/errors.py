"""The client's exceptions: one class per error code of the contract, all under ``PfError``.

A non-2xx answer ``{"error": code, "message": ..., **detail}`` is raised as the class registered for its
code (``MarketNotFound`` for ``market_not_found`` ...), or, for a code this client does not know, as
``ClientError`` (4xx) or ``ServerError`` (5xx). Every one carries ``status``, ``code``, ``message`` and
the answer's other fields in ``detail``. A request that never got an answer raises ``ConnectionFailed``.
"""

from __future__ import annotations

from typing import Any


class PfError(Exception):
    """Anything the API refused, or could not be asked."""

    code = "error"

    def __init__(self, status: int | None, code: str, message: str, detail: dict[str, Any] | None = None):
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail or {}


class ConnectionFailed(PfError):
    """No answer: the server could not be reached, or timed out (after the retries)."""

    code = "connection_failed"


class ClientError(PfError):
    """A 4xx answer: the request was refused and changed nothing."""


class ServerError(PfError):
    """A 5xx answer."""


class Unauthorized(ClientError):
    code = "unauthorized"


class InvalidKey(ClientError):
    code = "invalid_key"


class InvalidRequest(ClientError):
    code = "invalid_request"

    @property
    def field(self) -> str | None:
        return self.detail.get("field")


class InvalidScenario(InvalidRequest):
    code = "invalid_scenario"


class PayloadTooLarge(ClientError):
    code = "payload_too_large"


class InsufficientBalance(ClientError):
    code = "insufficient_balance"


class NotFound(ClientError):
    code = "not_found"


class MarketNotFound(NotFound):
    code = "market_not_found"


class FaultNotFound(NotFound):
    code = "fault_not_found"


class ScenarioNotFound(NotFound):
    code = "scenario_not_found"


class MethodNotAllowed(ClientError):
    code = "method_not_allowed"


class OrderTooSmall(InvalidRequest):
    code = "order_too_small"


class CrossedQuote(InvalidRequest):
    code = "crossed_quote"


class Conflict(ClientError):
    """A 409: the request is valid but the state does not allow it."""

    code = "conflict"


class SessionStopped(Conflict):
    code = "session_stopped"


class NoInventory(Conflict):
    code = "no_inventory"


class NoLiquidity(Conflict):
    code = "no_liquidity"


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class AgentExists(Conflict):
    code = "agent_exists"


class ClockNotManual(Conflict):
    code = "clock_not_manual"


class RateLimited(ClientError):
    """429: still refused after the retries. ``retry_after`` is the server's advice, in seconds."""

    code = "rate_limited"

    @property
    def retry_after(self) -> float | None:
        value = self.detail.get("retry_after_seconds")
        return float(value) if isinstance(value, (int, float)) else None


class InternalError(ServerError):
    code = "internal_error"


class ServiceUnavailable(ServerError):
    code = "service_unavailable"


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


BY_CODE: dict[str, type[PfError]] = {cls.code: cls for cls in _subclasses(PfError)
                                     if cls.code != "error" and cls is not ConnectionFailed}


def error_for(status: int, body: Any) -> PfError:
    """The exception for a non-2xx answer (``body`` the decoded JSON, or text)."""
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        code = body["error"]
        message = str(body.get("message", ""))
        detail = {k: v for k, v in body.items() if k not in ("error", "message")}
    else:
        code, message, detail = ("server_error" if status >= 500 else "client_error"), str(body)[:500], {}
    cls = BY_CODE.get(code) or (ServerError if status >= 500 else ClientError)
    return cls(status, code, message, detail)
