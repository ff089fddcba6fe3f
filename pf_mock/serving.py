"""One served exchange and what is served with it: the mock's own controls (fault rules, the request
journal, the rate limit), a long work's progress and the stop flag (``turns.py``).

A front keeps one ``Serving`` for its exchange (the HTTP app keeps it as its ``app.state``) and asks it
for what concerns all of them at once: starting over (``reset``: the exchange, the fault rules seeded
from its new seed, an empty journal, full buckets), the state ``/_mock/state`` shows, a clock advance
or a restore done in slices, the journal's record of a request, the fault rules' verdict on one
(and their changes, answered) and which requests the controls leave alone (``is_admin_path``). Its
attributes are plain, and a front may add its own (the HTTP app adds its options and the push feed's
hub).
"""

from __future__ import annotations

import asyncio
import time

from .clock import to_ms
from .errors import InvalidState
from .exchange import Exchange
from .faults import FaultTable, Injection
from .journal import Entry, Journal, new_entry
from .ratelimit import RateLimiter, Verdict
from .turns import advance_in_slices, restore_in_steps
from .views import mock_state


def is_admin_path(path: str) -> bool:
    """A ``/_mock`` path: the mock's own controls, never faulted, rate limited or journaled."""
    return path == "/_mock" or path.startswith("/_mock/")


class Serving:
    """The exchange, its fault rules, journal and rate limiter (None: no limit), and the long work's
    ``advancing`` (its progress, while one runs) and ``stopping`` (set when the server is asked to
    stop: long work ends early)."""

    def __init__(self, exchange: Exchange, rate_limit: int | None = None):
        self.exchange = exchange
        self.faults = FaultTable(exchange.seed)
        self.journal = Journal()
        self.rate_limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        self.advancing: dict | None = None
        self.stopping = False

    def reset(self, seed: int | None = None) -> dict:
        """Start over: the exchange, and the controls served with it (fault rules, journal, rate-limit
        buckets). Answers the state ``/_mock/state`` shows."""
        self.exchange.reset(seed)
        self.faults.reset(self.exchange.seed)
        self.journal.clear()
        if self.rate_limiter is not None:
            self.rate_limiter.clear()
        return mock_state(self.exchange)

    def mock_state(self) -> dict:
        """``/_mock/state``, with ``advancing: {from, to, now}`` (ms) while a clock advance is under way."""
        return mock_state(self.exchange, self.advancing)

    async def advance(self, seconds: float) -> dict:
        """A clock advance in slices (``turns.advance_in_slices``); answers the clock it reached."""
        await advance_in_slices(self.exchange, seconds, self)
        return {"clock": mock_state(self.exchange)["clock"]}

    async def restore(self, document) -> dict:
        """Replace the exchange's state by a snapshot's, a step at a time (``turns.restore_in_steps``):
        400 ``invalid_snapshot`` for a document this pf-mock cannot take, with nothing changed. Answers
        ``restored``, how long it took and the state ``/_mock/state`` shows."""
        began = time.perf_counter()
        try:
            await restore_in_steps(self.exchange, document, self)
        except InvalidState as exc:
            raise exc.refusal() from None
        return {"restored": True, "restore_seconds": round(time.perf_counter() - began, 3), **mock_state(self.exchange)}

    async def fault(self, method: str, path: str) -> Injection | None:
        """Apply the fault rules to a request (``/_mock`` ones are never faulted): wait out any latency
        they add (real time), then the injection whose error answers the request, else None (it goes on)."""
        if not self.faults.rules or is_admin_path(path):
            return None             # no rule stands: nothing to draw
        injection = self.faults.draw(method, path)
        if injection is None:
            return None
        if injection.latency_ms > 0:
            await asyncio.sleep(injection.latency_ms / 1000.0)
        return injection if injection.status is not None else None

    def add_fault(self, rule: dict) -> dict:
        """Add a fault rule (``FaultTable.add``'s fields); answers it, with its id, and every standing rule."""
        added = self.faults.add(**rule)
        return {"fault": added.view(), "faults": self.faults.view()}

    def remove_fault(self, fault_id: str) -> dict:
        """Remove one rule by its id (404 ``fault_not_found`` if it is not standing); answers it and the
        rules left."""
        removed = self.faults.remove(fault_id)
        return {"removed": removed.view(), "faults": self.faults.view()}

    def spend(self, key: str | None, host: str | None) -> Verdict | None:
        """Spend one request of the rate limit at the mock's now (None when there is no limit), from the
        bucket of the request's ``key`` when that key is an agent's, else from its client address's
        (``host``; see ``ratelimit.py``)."""
        if self.rate_limiter is None:
            return None
        if key and self.exchange.agent_for_key(key) is not None:
            bucket = "key:" + key
        else:
            bucket = "host:" + (host if host is not None else "unknown")
        return self.rate_limiter.take(bucket, self.exchange.now())

    def journaled(self, method: str, path: str, query_string: bytes, body: bytes, key: str | None) -> Entry:
        """A request, recorded in the journal at the mock's now as it arrives."""
        return self.journal.record(new_entry(to_ms(self.exchange.now()), method, path, query_string, body, key))

    def answered(self, entry: Entry) -> None:
        """Note whose ``entry`` was, now that it is answered: the agent its key belongs to (answering may
        have provisioned it), else None."""
        found = self.exchange.agent_for_key(entry.key) if entry.key else None
        entry.agent_id = found.agent_id if found is not None else None
