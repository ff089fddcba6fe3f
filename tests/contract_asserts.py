"""The contract's error shape, asserted one way everywhere: ``{"error": "<snake_case_code>",
"message": "<one plain sentence>", ...detail}`` and never FastAPI's default ``{"detail": ...}``."""

from __future__ import annotations

import re

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")


def assert_error_shape(body) -> None:
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and SNAKE.match(body["error"]), body
    message = body.get("message")
    assert isinstance(message, str) and message.strip(), body
    assert "\n" not in message and message.rstrip().endswith("."), body
    assert "detail" not in body, body


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    """``response`` is the contract's error ``code`` with ``status`` (and names ``field`` if given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert_error_shape(body)
    assert body["error"] == code, body
    if field is not None:
        assert body.get("field") == field, body
    return body
