"""The request journal (shown by ``GET /_mock/requests``): what clients sent and what they were answered.

Every request outside ``/_mock`` is recorded when it arrives, in arrival order, with the mock time, the
method, path, query and body, and, once it is answered, the status it got (also the ones a fault rule
or the rate limit answered) and the agent its API key belongs to (null without a key, or for a key the
exchange does not know, such as a malformed one). The journal keeps the last ``capacity`` (10,000)
requests and at most ``max_bytes`` (16 MiB) of what they sent: the oldest go first when either is
reached. It keeps bodies as the bytes received (the first ``MAX_STORED_BODY_BYTES``, 64 KiB, of each;
a longer one is shown as text, cut there) and parses them only when asked, and it only ever shows
what JSON can carry: a body that cannot be answered as JSON (NaN, a lone surrogate, too deep) is
shown as text. ``POST /_mock/reset`` empties it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .json_checks import json_problem, parse_json

CAPACITY = 10_000
MAX_BYTES = 16 << 20            # what all entries together may hold (bodies, paths, queries, keys)
MAX_STORED_BODY_BYTES = 65_536  # of each body, the first this many bytes are kept
MAX_TEXT_CHARS = 65_536         # a body that is not JSON is shown as text, cut to this many characters
MAX_KEY_CHARS = 128             # the longest well-formed key (pf_live_ and 120 more); longer ones are not kept
ENTRY_OVERHEAD = 512            # bytes an entry costs beyond what it holds (its objects), for the budget


def parse_body(raw: bytes) -> Any:
    """The body as the journal shows it: parsed JSON if it is JSON that can be answered as JSON, else
    text (invalid UTF-8 replaced), else (empty) None."""
    if not raw:
        return None
    try:
        parsed = parse_json(raw)
        if json_problem(parsed) is None and _finite(parsed):
            return parsed
    except ValueError:      # not JSON (UnicodeDecodeError and JSONDecodeError are both ValueErrors)
        pass
    return raw.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]


def _finite(value: Any) -> bool:
    """No NaN or Infinity anywhere in ``value`` (they are not JSON, so could not be answered as JSON)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def parse_query(query_string: bytes) -> dict[str, str | list[str]]:
    """``a=1&b=2&b=3`` -> ``{"a": "1", "b": ["2", "3"]}``: one value as a string, repeated ones as a list."""
    query: dict[str, str | list[str]] = {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name not in query:
            query[name] = value
        elif isinstance(query[name], list):
            query[name].append(value)
        else:
            query[name] = [query[name], value]
    return query


@dataclass
class Entry:
    time_ms: int
    method: str
    path: str
    query_string: bytes
    raw_body: bytes             # the body's first MAX_STORED_BODY_BYTES
    key: str | None             # the API key sent, to find the agent when the answer is known
    agent_id: str | None = None
    status: int | None = None   # None while the request is still being answered
    truncated: bool = field(default=False)

    @property
    def query(self) -> dict:
        return parse_query(self.query_string)

    @property
    def body(self) -> Any:
        if self.truncated:
            return self.raw_body.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]
        return parse_body(self.raw_body)

    @property
    def cost(self) -> int:
        return (len(self.raw_body) + len(self.path) + len(self.query_string) + len(self.key or "")
                + ENTRY_OVERHEAD)

    def view(self) -> dict:
        return {"time": self.time_ms, "agent": self.agent_id, "method": self.method, "path": self.path,
                "query": self.query, "body": self.body, "status": self.status}


def new_entry(time_ms: int, method: str, path: str, query_string: bytes, body: bytes, key: str | None) -> Entry:
    """An entry that keeps only what the journal's bounds allow of the request."""
    kept = body[:MAX_STORED_BODY_BYTES]
    return Entry(time_ms=time_ms, method=method, path=path, query_string=bytes(query_string[:MAX_STORED_BODY_BYTES]),
                 raw_body=kept, key=key if key is not None and len(key) <= MAX_KEY_CHARS else None,
                 truncated=len(kept) < len(body))


class Journal:
    """The last ``capacity`` requests, and no more than ``max_bytes`` of them, oldest first."""

    def __init__(self, capacity: int = CAPACITY, max_bytes: int = MAX_BYTES):
        self.entries: deque[Entry] = deque(maxlen=capacity)
        self.max_bytes = max_bytes
        self.bytes = 0

    def record(self, entry: Entry) -> Entry:
        if len(self.entries) == self.entries.maxlen:
            self.bytes -= self.entries[0].cost
        self.entries.append(entry)
        self.bytes += entry.cost
        while self.bytes > self.max_bytes and len(self.entries) > 1:
            self.bytes -= self.entries.popleft().cost
        return entry

    def clear(self) -> None:
        self.entries.clear()
        self.bytes = 0

    def select(self, agent: str | None = None, limit: int | None = None) -> list[Entry]:
        """The entries of ``agent`` (all when None), oldest first; with ``limit``, only the newest ones."""
        chosen = [e for e in self.entries if agent is None or e.agent_id == agent]
        return chosen[-limit:] if limit is not None else chosen

    def view(self, agent: str | None = None, limit: int | None = None) -> dict:
        """``GET /_mock/requests``: the entries ``select`` keeps, each as it is shown, and their count."""
        entries = self.select(agent, limit)
        return {"requests": [e.view() for e in entries], "count": len(entries)}

    def __len__(self) -> int:
        return len(self.entries)
