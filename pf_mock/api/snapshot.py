"""``POST /_mock/snapshot`` and ``POST /_mock/restore``: the exchange's state as a document, and back.

Only translation here: the document, its checks and the restore are the core's (``pf_mock.state``,
declared in ``pf_mock.state_document``; ``serving.Serving.restore``). A restore holds the exchange's turn
and builds the new state a step at a time (``turns.restore_in_steps``: nothing it touches is the exchange
yet), letting the event loop answer ``/health`` and the other requests that need no turn between two
steps, as a long clock advance does; the new state is put in place at once. A server asked to stop
(SIGTERM, Ctrl-C) while a restore is being built answers 503 ``server_stopping`` and changes nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.models import Schema
from fastapi.responses import Response

from .. import messages as m
from .. import state as core
from ..state_document import document
from .admin import admin_allowed
from .errors import responses

router = APIRouter(prefix="/_mock", dependencies=[Depends(admin_allowed)], tags=["mock control"],
                   responses=responses("unauthorized"))

# Both routes name the document by reference; ``openapi_components`` declares it when the OpenAPI document
# is first built. (A ``response_model`` would build its validator at import: ~50 ms of every start-up.)
_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/Snapshot"}}}


def openapi_components() -> dict:
    """The snapshot document's schema and each of its parts', as OpenAPI components: what FastAPI makes of
    a response model's (its JSON Schema, read into FastAPI's OpenAPI ``Schema`` model and written out)."""
    schema = document().json_schema(mode="serialization", ref_template="#/components/schemas/{model}")
    parts = {"Snapshot": schema, **schema.pop("$defs", {})}
    return {name: jsonable_encoder(Schema.model_validate(part), by_alias=True, exclude_none=True)
            for name, part in parts.items()}


@router.post("/snapshot", responses={200: {"content": _SCHEMA}})
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
    return await request.app.state.restore(await request.body())
