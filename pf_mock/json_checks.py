"""What a JSON body may hold, checked without recursion: the bounds every body is held to (nesting,
lone surrogates, integers Python cannot read), as plain functions on bytes and parsed values."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 32             # an inline scenario, the deepest body any route takes, nests 6 deep
MAX_INT_DIGITS = 4300          # Python reads no longer integer (sys.get_int_max_str_digits)
_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_INT_DIGITS + 1))


def parse_json(raw: bytes) -> Any:
    """``raw`` as Python's parser reads it (NaN and Infinity included: the routes refuse those by field).
    Raises ``json.JSONDecodeError`` when it is not JSON, ``TooDeep`` past what the parser can nest,
    and ``TooLong`` for an integer of more digits than Python converts."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise TooDeep from None
    except ValueError:          # "Exceeds the limit (4300 digits) for integer string conversion"
        raise TooLong from None


class TooDeep(ValueError):
    pass


class TooLong(ValueError):
    pass


def json_problem(value: Any) -> tuple[str, str | None] | None:
    """What is wrong with a parsed JSON body, as ``(message, field)``, or None. Walks it without
    recursion, so no depth of nesting can break the walk itself."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                return f"The request body nests deeper than {MAX_JSON_DEPTH} levels.", None
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in pairs:
                if isinstance(key, str) and not _is_unicode(key):
                    return "The request body holds a key that is not valid Unicode (a lone surrogate).", None
                stack.append((child, depth + 1, f"{where}.{key}" if where else str(key)))
        elif isinstance(item, str):
            if not _is_unicode(item):
                return f"{_named(where)} is not valid Unicode (it holds a lone surrogate).", where or None
    return None


def _named(where: str) -> str:
    """A field's name for a message: itself when it is short and plain, else a description (the
    ``field`` detail still carries it exactly)."""
    if not where:
        return "The body"
    if len(where) <= 64 and where.isprintable() and _is_unicode(where):
        return where
    return "A field"


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plainly_fine(body: bytes) -> bool:
    """True for a body that no JSON check below could refuse, seen without parsing it (a quote's, say):
    ASCII with no ``\\u`` escape (so no lone surrogate), no more brackets than the depth limit (so no
    deeper nesting) and no run of more than ``MAX_INT_DIGITS`` digits (so no integer too long to read)."""
    return (body.isascii() and b"\\u" not in body
            and body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH and _LONG_DIGITS.search(body) is None)


def body_problem(body: bytes) -> tuple[str, str | None] | None:
    """What keeps a request body out, as ``(message, field)``, or None: nesting past ``MAX_JSON_DEPTH``,
    an integer Python cannot read, a lone surrogate. A body that is not JSON at all is not refused here
    (the route that reads it says so in its own words)."""
    if plainly_fine(body):
        return None
    try:
        parsed = parse_json(body)
    except TooDeep:
        return f"The request body nests deeper than {MAX_JSON_DEPTH} levels.", None
    except TooLong:
        return f"The request body holds an integer of more than {MAX_INT_DIGITS} digits.", None
    except ValueError:
        return None
    return json_problem(parsed)
