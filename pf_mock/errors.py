"""Errors of the API contract, raised by the core and turned into ``{"error", "message", ...}`` in one
place by the HTTP layer. ``CATALOGUE`` names every code the API answers with, once, with its HTTP
status and what it means; ``ApiError`` refuses a code that is not in it, so the two cannot drift."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    meaning: str


CATALOGUE: dict[str, ErrorCode] = {e.code: e for e in (
    ErrorCode("invalid_request", 400, "A field is missing, of the wrong type or out of range; `field` names it."),
    ErrorCode("crossed_quote", 400, "bid_price is not below ask_price."),
    ErrorCode("invalid_scenario", 400, "A mistake in a scenario document; `field` gives its dotted path."),
    ErrorCode("invalid_snapshot", 400, "A snapshot document this pf-mock cannot take; `field` names what is wrong and "
                                       "`rule` the rule it breaks. Nothing changed."),
    ErrorCode("price_out_of_band", 400, "A limit price is too far from the mark price; the body gives the band "
                                        "(band_pct, min_price, max_price) and mark_price."),
    ErrorCode("bad_host", 400, "The Host header names a host this server does not answer to (see --allow-host)."),
    ErrorCode("order_too_small", 400, "A side is under min_notional_usd once sized to whole lots at its price."),
    ErrorCode("unauthorized", 401, "No API key was given (or /_mock needs its admin token)."),
    ErrorCode("invalid_key", 401, "The API key is malformed, or unknown under strict auth."),
    ErrorCode("insufficient_balance", 402, "The orders need more margin than the agent's equity."),
    ErrorCode("forbidden_origin", 403, "A state-changing request came from another site's page (its Origin is "
                                       "not this server's)."),
    ErrorCode("market_not_found", 404, "No market by that symbol."),
    ErrorCode("not_found", 404, "No such route."),
    ErrorCode("fault_not_found", 404, "No standing fault rule by that id."),
    ErrorCode("scenario_not_found", 404, "No shipped scenario by that name, or no such scenario file."),
    ErrorCode("method_not_allowed", 405, "The route exists, but not with that method."),
    ErrorCode("agent_exists", 409, "An agent by that id is already registered."),
    ErrorCode("already_claimed", 409, "The agent has already claimed the faucet."),
    ErrorCode("session_stopped", 409, "The session was stopped (stop loss); reset it before quoting again."),
    ErrorCode("no_inventory", 409, "There is no position to hedge."),
    ErrorCode("no_liquidity", 409, "The book has nothing to hedge against."),
    ErrorCode("market_halted", 409, "A replayed recording has ended; `ended_at` gives its end (ms). Reads keep its last state."),
    ErrorCode("market_replayed", 409, "The market replays a recording: its price and regime cannot be changed."),
    ErrorCode("clock_not_manual", 409, "The clock runs in real time; only a manual clock can be advanced."),
    ErrorCode("payload_too_large", 413, "The request body is over the size limit (1 MiB; 64 MiB for a restore)."),
    ErrorCode("unsupported_media_type", 415, "A request body must be sent as Content-Type: application/json."),
    ErrorCode("rate_limited", 429, "The key's requests per minute are used up; retry after retry_after_seconds."),
    ErrorCode("internal_error", 500, "A bug in pf-mock."),
    ErrorCode("mcp_unavailable", 501, "/mcp: this pf-mock was installed without the mcp extra."),
    ErrorCode("server_stopping", 503, "The server is stopping; a long clock advance or a restore ended early."),
)}


def status_of(code: str) -> int:
    return CATALOGUE[code].status


def is_number(value) -> bool:
    """A finite JSON number: ``true`` is not 1, and NaN or infinity (Python's json reads them) is not one,
    nor an integer too large to be a float (``10**400``), which this check answers without raising."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return -MAX_FLOAT_INT <= value <= MAX_FLOAT_INT
    return math.isfinite(value)


MAX_FLOAT_INT = int(2.0 ** 1023)   # an integer at most this large converts to a finite float


def is_whole(value) -> bool:
    """A JSON integer (``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **detail):
        known = CATALOGUE.get(code)
        if known is None or known.status != status:
            raise ValueError(f"{code!r} with status {status} is not in the error catalogue")
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail

    def body(self) -> dict:
        return {"error": self.code, "message": self.message, **self.detail}


def invalid_request(message: str, field: str | None = None, **detail) -> ApiError:
    if field is not None:
        detail["field"] = field
    return ApiError(400, "invalid_request", message, **detail)


def _validation_message(error: dict) -> tuple[str | None, str]:
    loc = [str(part) for part in error.get("loc", ())]
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]       # where it came from; a field may itself be named "path" (/_mock/faults)
    field = ".".join(loc) or None
    kind = error.get("type", "")
    if kind == "json_invalid":
        return None, "The request body is not valid JSON."
    if kind == "missing":
        return (field, f"{field} is required.") if field else (None, "A JSON body is required.")
    if kind == "model_attributes_type" or (kind.endswith("_type") and not loc):
        return None, "The request body must be a JSON object."
    return field, f"{field}: {error.get('msg', 'invalid value')}." if field else error.get("msg", "Invalid request.")


def invalid_request_from(error: dict | None) -> ApiError:
    """A validation error (pydantic's, its ``loc`` beginning with where the value came from, as FastAPI's
    does: ``("body", ...)``, ``("query", name)``), as 400 ``invalid_request`` naming the field: one wording
    for every way a request reaches a route."""
    field, message = _validation_message(error) if error else (None, "Invalid request.")
    return invalid_request(message, field)


def market_not_found(symbol: str) -> ApiError:
    return ApiError(404, "market_not_found", f"No market named {symbol!r}; try a symbol like BTC-PERP.",
                    symbol=str(symbol))


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "Provide an API key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")


def invalid_key(message: str = "That API key is not valid.") -> ApiError:
    return ApiError(401, "invalid_key", message)


class InvalidState(ValueError):
    """A snapshot document (or part of one) that cannot be restored: ``field`` (a dotted path) and the
    rule it breaks. Refused, it is 400 ``invalid_snapshot`` (``refusal``)."""

    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule

    def refusal(self) -> ApiError:
        return ApiError(400, "invalid_snapshot", f"The snapshot is refused: {self.field}: {self.rule}.",
                        field=self.field, rule=self.rule)
