"""Paging: the one rule for a cursor, and the page it picks.

A cursor is the ``next_cursor`` a listing answered: a position in that listing, written as up to 12
ASCII digits (``"0"`` is the first). Every listing that pages checks its cursor here, so the rule is
the same for fills and for closed orders.
"""

from __future__ import annotations

import bisect
from typing import Callable

from .errors import invalid_request

MAX_CURSOR_DIGITS = 12
CURSOR_PATTERN = rf"^[0-9]{{1,{MAX_CURSOR_DIGITS}}}$"     # the same rule, as a schema states it


def cursor_position(cursor: str | None) -> int | None:
    """The position ``cursor`` stands for (None without one); a 400 for anything not a cursor."""
    if cursor is None:
        return None
    if not (isinstance(cursor, str) and cursor.isascii() and cursor.isdigit() and len(cursor) <= MAX_CURSOR_DIGITS):
        raise invalid_request("cursor must be a next_cursor this route answered.", field="cursor")
    return int(cursor)


def next_cursor(stop: int | None) -> str | None:
    return None if stop is None else str(stop)


def page_bounds(count: int, limit: int, position: int | None = None, since: float | None = None,
                time_at: Callable[[int], float] | None = None) -> tuple[int, int]:
    """The [start, stop) of one page of a listing of ``count`` items kept oldest first: from ``position``
    on (a cursor past the end gives an empty page), else the oldest at or after ``since`` (by
    ``time_at``), else the newest ``limit``."""
    if position is not None:
        start = min(position, count)
    elif since is not None:
        start = bisect.bisect_left(range(count), since, key=time_at)
    else:
        start = max(0, count - limit)
    return start, min(count, start + limit)
