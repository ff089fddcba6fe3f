"""Answers: a message from the core, written as JSON once.

A route that returned the message itself would have FastAPI dump it to a dict, validate that dict
against the response model again and then encode it: three passes over a message the core built and
validated already. ``reply`` encodes it in one (pydantic's own serializer); the route still declares
the model as its ``response_model``, for the schema, and the schemathesis test checks every answer
against that schema."""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel


def reply(message: BaseModel, status_code: int = 200) -> Response:
    return Response(message.model_dump_json(), status_code=status_code, media_type="application/json")
