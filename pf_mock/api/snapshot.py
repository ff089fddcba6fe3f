"""``POST /_mock/snapshot`` and ``POST /_mock/restore``: the exchange's state as a document, and back.

Only translation here: the document, its checks and the restore are the core's (``pf_mock.state``,
declared in ``pf_mock.state_document``). A restore holds the exchange's turn and builds the new state a
step at a time (``turns.restore_in_steps``: nothing it touches is the exchange yet), letting the event
loop answer ``/health`` and the other requests that need no turn between two steps, as a long clock
advance does; the new state is put in place at once. A server asked to stop (SIGTERM, Ctrl-C)
while a restore is being built answers 503 ``server_stopping`` and changes nothing.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from .. import messages as m
from .. import state as core
from ..errors import ApiError, InvalidState
from ..state_document import Snapshot
from ..turns import restore_in_steps
from ..views import mock_state
from .admin import admin_allowed
from .errors import responses

router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)], tags=["mock control"],
                   responses=responses("unauthorized"))

_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/Snapshot"}}}


def invalid_snapshot(exc: InvalidState) -> ApiError:
    return ApiError(400, "invalid_snapshot", f"The snapshot is refused: {exc.field}: {exc.rule}.", field=exc.field,
                    rule=exc.rule)


@router.post("/snapshot", response_model=Snapshot)
async def take_snapshot(request: Request) -> Response:
    """The whole exchange state as a versioned document: save it as JSON and give it back to
    ``POST /_mock/restore`` or ``pf-mock serve --restore FILE``."""
    return Response(core.dumps(core.snapshot(request.app.state.exchange)), media_type="application/json")


@router.post("/restore", response_model=m.Restored, response_model_exclude_unset=True,
             openapi_extra={"requestBody": {"required": True, "content": _SCHEMA}},
             responses=responses("invalid_snapshot", "payload_too_large", "server_stopping"))
async def restore_snapshot(request: Request) -> dict:
    """Replace the exchange's state by a snapshot's: 400 ``invalid_snapshot`` (``field`` and ``rule``) for a
    document this pf-mock cannot take, with nothing changed."""
    app_state = request.app.state
    exchange = app_state.exchange
    body = await request.body()
    began = time.perf_counter()
    try:
        await restore_in_steps(exchange, body, app_state)
    except InvalidState as exc:
        raise invalid_snapshot(exc) from None
    return {"restored": True, "restore_seconds": round(time.perf_counter() - began, 3), **mock_state(exchange)}
