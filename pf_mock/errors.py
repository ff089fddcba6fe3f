"""Errors of the API contract, raised by the core and turned into ``{"error", "message", ...}`` in one
place by the HTTP layer. Each carries the HTTP status the contract gives it."""

from __future__ import annotations

import math


def is_number(value) -> bool:
    """A finite JSON number: ``true`` is not 1, and NaN or infinity (Python's json reads them) is not one."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_whole(value) -> bool:
    """A JSON integer (``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **detail):
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


def market_not_found(symbol: str) -> ApiError:
    return ApiError(404, "market_not_found", f"No market named {symbol!r}; try a symbol like BTC-PERP.",
                    symbol=str(symbol))


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "Provide an API key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")


def invalid_key(message: str = "That API key is not valid.") -> ApiError:
    return ApiError(401, "invalid_key", message)
