"""Every failure leaves the server as ``{"error": "<code>", "message": "<sentence>", ...}``."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..errors import CATALOGUE, ApiError, invalid_request_from
from ..faults import METHODS
from ..messages import ErrorBody

log = logging.getLogger("pf_mock")


def responses(*codes: str) -> dict:
    """The ``responses=`` of a route that can answer with these error codes: each status once, with the
    error model and the codes it carries (from the catalogue, so the documented statuses are the real ones)."""
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(CATALOGUE[code].status, []).append(code)
    return {status: {"model": ErrorBody, "description": "; ".join(
        f"`{c}`: {CATALOGUE[c].meaning}" for c in found)} for status, found in sorted(by_status.items())}


VALIDATION = ("invalid_request",)
AUTH = ("unauthorized", "invalid_key")


def error_response(status: int, code: str, message: str, headers: dict | None = None, **detail) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **detail}, status_code=status, headers=headers)


def error_answer(exc: ApiError, headers: dict | None = None) -> JSONResponse:
    """A core error, answered in the contract's shape."""
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (RFC 9110's Allow; Starlette lists only the first route's)."""
    routes = request.app.router.routes
    return [method for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)]


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_answer(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_answer(invalid_request_from(exc.errors()[0] if exc.errors() else None))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "not_found", f"No route {request.method} {request.url.path}.")
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}.",
                                  headers={"Allow": ", ".join(allowed_methods(request))})
        return error_response(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        # Only what breaks outside the last resort (controls.py: in the door or the journal) lands here;
        # Starlette then closes the connection, which the last resort exists to avoid inside it.
        log.exception("internal error on %s %s", request.method, request.url.path)
        return internal_error()


def internal_error() -> JSONResponse:
    return error_response(500, "internal_error", "pf-mock hit a bug; please report it with the request.")


