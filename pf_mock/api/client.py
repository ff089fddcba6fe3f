"""An httpx client wired straight to the app, with no socket: for pf_mock.testing, which must not
import the web framework itself (only this package does). Starlette's test client (and httpx with it) is
loaded on first use: a server never uses it."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def in_process_client(app, headers: dict[str, str] | None = None) -> TestClient:
    """A client of ``app`` that answers server errors as 500s, as a real server would."""
    with warnings.catch_warnings():
        # Starlette nudges TestClient users towards ``httpx2``; ours is an internal choice, not theirs.
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
        from fastapi.testclient import TestClient
    return TestClient(app, raise_server_exceptions=False, headers=headers)
