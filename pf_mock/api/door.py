"""The door: what every request must be before anything else reads it.

Checked once, here, for every route (``/_mock`` included), before the journal, the rate limit, fault
rules or the exchange see the request:

- the body is at most ``MAX_BODY_BYTES`` (1 MiB; a snapshot given to ``POST /_mock/restore``, 64 MiB):
  a bigger one is 413 ``payload_too_large`` (said by
  its ``Content-Length`` before a byte is read, or as soon as a streamed body passes the limit);
- a non-empty body is UTF-8 and, when it is JSON, nests at most ``MAX_JSON_DEPTH`` (32) arrays and
  objects deep, holds no lone surrogate (``"\\ud800"``) in any string or key, and no integer too long
  for Python to read (over 4,300 digits) — each a 400 ``invalid_request``. A long integer that can be
  read is left to the fields: each number field has a finite range, so it is a 400 there, and a field
  the route does not know is ignored whatever it holds, as the OpenAPI schema says. A body that is not
  JSON at all is left to the route, which says so;
- the path and the query string, once percent-decoded, are UTF-8 without lone surrogates: else 400;
- a non-empty body of a ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` (every route reads its body as JSON) is
  sent as ``Content-Type: application/json`` (parameters such as ``charset`` aside): else 415
  ``unsupported_media_type``. A browser lets any page post ``text/plain`` or a form to any address
  without asking; it lets no page post ``application/json`` to another site unless that site agrees, which
  this server never does. An empty body needs no type.

The body is read once and kept in the request's scope (``read_body``), so the journal and the route
see the same bytes without reading the socket twice.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from starlette.types import Message, Receive, Scope

from ..json_checks import body_problem
from .errors import error_response

MAX_BODY_BYTES = 1 << 20        # 1 MiB: a quote is ~300 bytes, the largest shipped scenario ~3 KB
MAX_RESTORE_BYTES = 64 << 20    # POST /_mock/restore takes a snapshot: every fill of every agent is in it

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
BODY_KEY = "pf_mock.body"          # scope key: (bytes read, whether the body was over the limit)
GONE_KEY = "pf_mock.gone"          # scope key, set when the client went away before its body was all in


async def read_body(scope: Scope, receive: Receive) -> tuple[bytes, bool]:
    """The request's body, read at most once per request and at most ``MAX_BODY_BYTES`` + 1 bytes:
    ``(body, too_large)``. A body over the limit is not read further (its bytes are dropped)."""
    if BODY_KEY in scope:
        return scope[BODY_KEY]
    limit = body_limit(scope)
    declared = _content_length(scope)
    if declared is not None and declared > limit:
        scope[BODY_KEY] = (b"", True)
        return scope[BODY_KEY]
    chunks, size, too_large = [], 0, False
    while True:
        message = await receive()
        if message["type"] != "http.request":       # went away (or was closed: a body deadline) mid-body
            scope[GONE_KEY] = True
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            too_large = True
            chunks = []
            break
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    scope[BODY_KEY] = (b"".join(chunks), too_large)
    return scope[BODY_KEY]


def body_limit(scope: Scope) -> int:
    return MAX_RESTORE_BYTES if scope.get("path") == "/_mock/restore" else MAX_BODY_BYTES


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands ``body`` (read already: ``read_body``'s, or ``/mcp``'s) to whoever reads
    it next, then goes on to the real one (for the disconnect message)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def is_json_type(scope: Scope) -> bool:
    """The request says its body is ``application/json`` (any parameters, any case)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.partition(b";")[0].strip().lower() == b"application/json"
    return False


def _is_plain(raw: bytes) -> bool:
    """ASCII without percent escapes: valid UTF-8 as it is and once decoded (the common case, checked
    in one pass)."""
    return raw.isascii() and b"%" not in raw


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def refusal(scope: Scope, body: bytes, too_large: bool):
    """The error answer a request gets at the door, or None when it may go in."""
    if too_large:
        limit = body_limit(scope)
        return error_response(413, "payload_too_large", f"The request body is larger than {limit} bytes.",
                              limit=limit)
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    if not _is_plain(raw_path) and not _is_utf8(unquote_to_bytes(raw_path)):
        return error_response(400, "invalid_request", "The request path is not valid UTF-8.")
    query = scope.get("query_string", b"")
    if query and not _is_plain(query) and not _is_utf8(unquote_to_bytes(query.replace(b"+", b" "))):
        return error_response(400, "invalid_request", "The query string is not valid UTF-8.")
    if not body:
        return None
    if scope.get("method") in BODY_METHODS and not is_json_type(scope):
        return error_response(415, "unsupported_media_type",
                              "Send the request body as JSON with the header Content-Type: application/json.")
    if not body.isascii() and not _is_utf8(body):
        return error_response(400, "invalid_request", "The request body is not valid UTF-8.")
    if scope.get("path") == "/_mock/restore":
        return None     # a snapshot is checked whole, field by field, by its reader (pf_mock.state), off the loop
    problem = body_problem(body)
    if problem is None:
        return None
    message, field = problem
    return error_response(400, "invalid_request", message, **({"field": field} if field else {}))
