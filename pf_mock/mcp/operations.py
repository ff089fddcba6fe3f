"""The API's operations as plain JSON Schema, read from the routes' OpenAPI document.

A front that re-exposes routes under other names (the MCP tools) takes each route's inputs from here:
its path and query parameters and its body model, exactly as the route declares and validates them,
so a field is declared once, on the route, and a second front cannot drift from it.

The document is the routes' own (``pf_mock.api.operations_document``), written out beside this module
as ``operations.json`` (``python -m pf_mock.mcp.operations`` writes it; a test fails when it is not what
the routes give). Reading the file rather than building the routes is what lets ``pf-mock mcp`` start
without FastAPI: building them is about 1 CPU-s, 40% of that command's start.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

DOCUMENT_FILE = "operations.json"


@dataclass(frozen=True)
class Operation:
    method: str                 # "GET", "POST"
    path: str                   # "/v1/markets/{symbol}/price"
    summary: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    input_schema: dict          # one object schema: the parameters and the body's fields side by side
    output_schema: dict | None  # the 200 answer's schema, when the route declares more than "an object"


def _resolve(node: Any, components: dict) -> Any:
    """``node`` with every ``#/components/schemas/...`` reference replaced by the schema it names."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            target = _resolve(components[ref.rsplit("/", 1)[1]], components)
            extra = {k: _resolve(v, components) for k, v in node.items() if k != "$ref"}
            return {**target, **extra}
        return {k: _resolve(v, components) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, components) for v in node]
    return node


def _operation(method: str, path: str, spec: dict, components: dict) -> Operation:
    properties: dict[str, dict] = {}
    required: list[str] = []
    combined: dict[str, Any] = {}
    path_params, query_params = [], []
    for param in spec.get("parameters", []):
        name = param["name"]
        schema = dict(_resolve(param.get("schema", {}), components))
        if param.get("description") and "description" not in schema:
            schema["description"] = param["description"]
        properties[name] = schema
        if param.get("required"):
            required.append(name)
        (path_params if param["in"] == "path" else query_params).append(name)
    body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body is not None:
        body = _resolve(body, components)
        if "anyOf" in body:     # an optional body (``Model | None``): its fields are still the fields
            body = next(s for s in body["anyOf"] if s.get("type") != "null")
        for name, schema in body.get("properties", {}).items():
            properties[name] = schema
        required += [name for name in body.get("required", []) if name not in required]
        combined = {k: body[k] for k in ("oneOf", "anyOf", "allOf", "not") if k in body}   # the body's own rules
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    input_schema.update(combined)
    answer = spec.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema")
    answer = _resolve(answer, components) if answer else None
    if answer is not None and not answer.get("properties"):
        answer = None           # "some object" says nothing a client could check
    return Operation(method.upper(), path, spec.get("summary", ""), tuple(path_params), tuple(query_params),
                     input_schema, answer)


def written_document() -> str:
    """The routes' operations document as ``operations.json`` holds it (key order kept: it is the order
    of the tools' fields)."""
    from ..api import operations_document      # FastAPI and the routes: only to write the file
    return json.dumps(operations_document(), indent=1) + "\n"


def shipped_document() -> str:
    return files(__package__).joinpath(DOCUMENT_FILE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _operations() -> dict[tuple[str, str], Operation]:
    document = json.loads(shipped_document())
    components = document.get("components", {}).get("schemas", {})
    found = {}
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            found[(method.upper(), path)] = _operation(method, path, spec, components)
    return found


def operation(method: str, path: str) -> Operation:
    """The route ``method path`` (as declared, e.g. ``GET /v1/markets/{symbol}/price``); a fresh copy
    whose schemas the caller may change. ``KeyError`` if there is no such route."""
    return copy.deepcopy(_operations()[(method.upper(), path)])


if __name__ == "__main__":          # python -m pf_mock.mcp.operations: writes operations.json beside this file
    (files(__package__) / DOCUMENT_FILE).write_text(written_document(), encoding="utf-8")
