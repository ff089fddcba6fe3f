"""Long work in slices: neither a clock advance nor a realtime clock's catch-up freezes the server.

Two kinds of long work, one way of doing them:

- ``POST /_mock/clock/advance`` of more than ``SLICE_S`` (60) simulated seconds (manual clock);
- a realtime clock's lazy catch-up: markets with live business run only when someone looks, so the
  first request after a long idle stretch at ``--speed N`` finds (wall gap x N) simulated seconds to
  process. When that is more than ``CATCH_UP_AFTER_S`` (1 s), the request's turn starts with the
  catch-up, in slices, before the request itself is handled (``catch_up_in_slices``). The push feed,
  which reads without a turn, waits for one only past ``SLICE_S`` (``catch_up_in_turn``).

Either runs in slices of about ``SLICE_WALL_S`` (20 ms) of work each — whole simulated seconds, as many
as that takes — and lets the event loop answer other requests between two slices. Markets with live
business are simulated event by event, so how the work is cut does not change what happens in it. The
choice for those other requests is to WAIT: every request that reads or changes the exchange takes its
turn (an asyncio lock, ``turn``, taken by the HTTP layer for each such request; first come first served), and the long work holds the turn from its
first slice to its last, so no request ever sees, or acts at, an instant in the middle of it — what a
client sees is exactly what it would see had the work been instantaneous, and the same requests give the
same bytes however long it takes. What does not touch the exchange is answered at once, mid-way:
``GET /health``, ``GET /_mock/state``, the journal and the fault rules; the page and its push feed are
never held either (the feed's reads wait for a catch-up to be done, ``catch_up_in_turn``, and send
nothing new meanwhile).

Progress: while either runs, ``GET /_mock/state`` shows ``advancing: {kind, from, to, now, percent}``
(times in ms; ``kind`` is ``advance`` or ``catch_up``), and the ``pf_mock`` logger says at INFO level how
far it got at every ``PROGRESS_STEP_PERCENT`` (10%) of work that lasts more than ``PROGRESS_AFTER_S`` (1 s)
of wall time (``pf-mock serve --log-level info`` prints it).

Stopping: when the server is asked to stop (SIGTERM, Ctrl-C), ``stopping`` is set and the work ends after
the slice it is in, answering 503 ``server_stopping`` with the instant it reached, so the server exits at
once instead of finishing a week of simulation first.

A restore (``POST /_mock/restore``) is long work of a third kind, done the same way: it holds the turn,
and builds the new state a step at a time (``state.build_steps``), the loop answering what needs no turn
between two steps; a stop ends it with nothing changed (``restore_in_steps``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable

from . import state as core
from .clock import US_PER_S, to_ms, to_us
from .errors import ApiError, is_number
from .exchange import Exchange
from .messages import MAX_ADVANCE_S

SLICE_S = 60.0          # an advance this short runs in one go
SLICE_WALL_S = 0.02     # otherwise each slice aims at this much wall time (its simulated length adapts)
YIELDS = 8              # event-loop turns between two slices: enough for a new request to be read and answered
# A realtime clock's catch-up is sliced from this much simulated time on: what a request finds to do
# depends on how busy the markets are, not on how long the gap was (ten markets full of agents' orders
# take tens of milliseconds a simulated second), so any gap past a second is cut into slices.
CATCH_UP_AFTER_S = 1.0
PROGRESS_STEP_PERCENT = 10      # a progress log line at every this many percent ...
PROGRESS_AFTER_S = 1.0          # ... of work that has already taken this much wall time

# Requests answered without waiting for the exchange's turn: they never touch it (or only read what
# the long work keeps consistent between slices: the clock and the counts /_mock/state shows).
NO_TURN = ("/health", "/_mock/state", "/_mock/requests", "/_mock/faults")

log = logging.getLogger("pf_mock")


def needs_turn(path: str) -> bool:
    """Whether a request for ``path`` waits for the exchange's turn. The API and the mock's controls take
    turns; the page, its push feed (a stream that stays open) and /mcp (whose tools go back through the
    API, so take their turns there) never wait."""
    if path.startswith("/v1/"):
        return True
    if not path.startswith("/_mock/"):
        return False
    return not any(path == p or path.startswith(p + "/") for p in NO_TURN)


def turn(app_state) -> asyncio.Lock:
    """The exchange's turn: one per app, made on first use (on the loop that serves the app)."""
    lock = getattr(app_state, "turn", None)
    if lock is None:
        lock = app_state.turn = asyncio.Lock()
    return lock


def lag_us(exchange: Exchange) -> int:
    """How far a realtime clock has run ahead of the markets with live business (0 on a manual clock,
    whose markets are always brought to its instant when it moves)."""
    if hasattr(exchange.clock, "advance"):
        return 0
    return max(0, exchange.clock.now_us() - exchange.ran_to_us())


def lagging(exchange: Exchange, after_s: float = SLICE_S) -> bool:
    """Reading the exchange now would mean catching up more than ``after_s`` simulated seconds in one go."""
    return lag_us(exchange) > after_s * US_PER_S


async def catch_up_in_slices(exchange: Exchange, app_state) -> None:
    """Realtime clock: bring every market with live business to the clock's now, a slice at a time,
    when that is more than ``CATCH_UP_AFTER_S`` of simulated time away. The clock runs on meanwhile, so the work
    looks again, pass after pass, while what is left keeps shrinking (by the ratio of the clock's speed
    to the simulation's). A clock faster than the simulation can follow never lets it shrink: then the
    work stops chasing after a pass that did not gain, and leaves the rest to the request itself."""
    before = None
    while lagging(exchange, CATCH_UP_AFTER_S):
        lag = lag_us(exchange)
        if before is not None and lag >= before:
            return
        before = lag
        await _in_slices(exchange, "catch_up", exchange.ran_to_us(), exchange.clock.now_us(),
                         lambda t: exchange.run_to(t), app_state)


async def catch_up_in_turn(app_state) -> None:
    """For readers that do not take turns (the push feed): when a realtime clock is far ahead of the
    markets, take a turn and catch up in slices (a stopping server leaves it undone)."""
    if not lagging(app_state.exchange):
        return
    async with turn(app_state):
        try:
            await catch_up_in_slices(app_state.exchange, app_state)
        except ApiError:
            pass


async def advance_in_slices(exchange: Exchange, seconds: float, app_state) -> None:
    """``exchange.advance(seconds)``, a slice at a time, yielding to the event loop between slices.
    The clock ends exactly where one ``advance(seconds)`` would put it (time is whole microseconds)."""
    if not (is_number(seconds) and 0 <= seconds <= MAX_ADVANCE_S) or seconds <= SLICE_S:
        exchange.advance(seconds)       # a bad value raises the core's own error; a short one needs no slices
        return
    exchange.advance(0)                 # a realtime clock raises here, before anything moves
    clock = exchange.clock
    start = clock.now_us()
    # to the instant t: the manual clock moves by the whole microseconds left, as one advance would
    await _in_slices(exchange, "advance", start, start + to_us(seconds),
                     lambda t: exchange.advance((t - clock.now_us()) / US_PER_S), app_state)


async def _in_slices(exchange: Exchange, kind: str, start: int, target: int, run_to: Callable[[int], None],
                     app_state) -> None:
    """Run the exchange from ``start`` to ``target`` (microseconds) by ``run_to(t)`` calls, each about
    ``SLICE_WALL_S`` of work, yielding between them; progress in ``app_state.advancing`` and the log."""
    progress = app_state.advancing = {"kind": kind, "from": to_ms(start), "to": to_ms(target),
                                      "now": to_ms(start), "percent": 0}
    began = time.perf_counter()
    told = 0            # the last progress step logged
    step = US_PER_S     # simulated microseconds in the next slice: whole seconds, 1 s to an hour
    reached = start
    try:
        while reached < target:
            if getattr(app_state, "stopping", False):
                raise ApiError(503, "server_stopping", f"The server is stopping; the {kind.replace('_', '-')} "
                               f"ended early.", now=to_ms(reached))
            reached = min(target, reached + step)
            slice_began = time.perf_counter()
            run_to(reached)
            took = time.perf_counter() - slice_began
            seconds = step // US_PER_S
            seconds = min(3600, max(1, round(seconds * min(4.0, SLICE_WALL_S / max(took, 1e-6)))))
            step = seconds * US_PER_S
            percent = (reached - start) * 100 // (target - start)
            progress["now"], progress["percent"] = to_ms(reached), percent
            if percent // PROGRESS_STEP_PERCENT > told and time.perf_counter() - began >= PROGRESS_AFTER_S:
                told = percent // PROGRESS_STEP_PERCENT
                log.info("%s %d%% done: %.0f of %.0f simulated s in %.1f s", kind.replace("_", "-"), percent,
                         (reached - start) / US_PER_S, (target - start) / US_PER_S, time.perf_counter() - began)
            if reached < target:        # the last slice hands the turn straight back to its request
                for _ in range(YIELDS):
                    await asyncio.sleep(0)
    finally:
        app_state.advancing = None


async def restore_in_steps(exchange: Exchange, document, app_state) -> None:
    """``state.restore(exchange, document)`` a step at a time, yielding to the event loop between steps;
    a stopping server ends it with 503 ``server_stopping`` and nothing changed. Raises ``InvalidState``."""
    steps = core.build_steps(exchange, document)
    try:
        while True:
            try:
                next(steps)
            except StopIteration as done:
                parts = done.value
                break
            for _ in range(YIELDS):
                await asyncio.sleep(0)
            if getattr(app_state, "stopping", False):
                raise ApiError(503, "server_stopping", "The server is stopping; the restore ended early and nothing "
                                                       "changed.")
    finally:
        steps.close()
    core.put_in_place(exchange, parts)

