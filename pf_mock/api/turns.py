"""Long work in slices: a clock advance never freezes the server.

``POST /_mock/clock/advance`` of more than ``SLICE_S`` (60) simulated seconds runs in slices of about
``SLICE_WALL_S`` (20 ms) of work each — whole simulated seconds, as many as that takes — and lets the
event loop answer other requests between two slices. Markets with live business are simulated event by
event, so how an advance is cut does not change what happens in it. The choice for those other requests is to WAIT ON THE
ADVANCE: every request that reads or changes the exchange takes its turn (an asyncio lock in ``controls.py``,
first come first served), and the advance holds the turn from its first slice to its last, so no
request ever sees, or acts at, an instant in the middle of an advance — what a client sees is exactly
what it would see had the advance been instantaneous, and the same requests give the same bytes
however long the advance takes. What does not touch the exchange is answered at once, mid-advance:
``GET /health``, ``GET /_mock/state`` (which shows the advance's progress: ``advancing: {from, to,
now}`` in ms), the journal and the fault rules.

Stopping: when the server is asked to stop (SIGTERM, Ctrl-C), ``stopping`` is set and the advance ends
after the slice it is in, answering 503 ``server_stopping`` with the instant it reached, so the server
exits at once instead of finishing a week of simulation first.
"""

from __future__ import annotations

import asyncio
import time

from ..clock import US_PER_S, to_ms, to_us
from ..errors import ApiError, is_number
from ..exchange import MAX_ADVANCE_S, Exchange

SLICE_S = 60.0          # an advance this short runs in one go
SLICE_WALL_S = 0.02     # otherwise each slice aims at this much wall time (its simulated length adapts)
YIELDS = 8              # event-loop turns between two slices: enough for a new request to be read and answered

# Requests answered without waiting for the exchange's turn: they never touch it (or only read what
# an advance keeps consistent between slices: the clock and the counts /_mock/state shows).
NO_TURN = ("/health", "/_mock/state", "/_mock/requests", "/_mock/faults")


def needs_turn(path: str) -> bool:
    """The API and the mock's controls take turns; the page, its push feed (a stream that stays open)
    and /mcp (whose tools call the core between two slices at most) never wait on an advance."""
    if path.startswith("/v1/"):
        return True
    if not path.startswith("/_mock/"):
        return False
    return not any(path == p or path.startswith(p + "/") for p in NO_TURN)


async def advance_in_slices(exchange: Exchange, seconds: float, app_state) -> None:
    """``exchange.advance(seconds)``, a slice at a time, yielding to the event loop between slices.
    The clock ends exactly where one ``advance(seconds)`` would put it (time is whole microseconds)."""
    if not (is_number(seconds) and 0 <= seconds <= MAX_ADVANCE_S) or seconds <= SLICE_S:
        exchange.advance(seconds)       # a bad value raises the core's own error; a short one needs no slices
        return
    exchange.advance(0)                 # a realtime clock raises here, before anything moves
    clock = exchange.clock
    start = clock.now_us()
    target = start + to_us(seconds)     # where one advance(seconds) would end, in whole microseconds
    app_state.advancing = {"from": to_ms(start), "to": to_ms(target), "now": to_ms(start)}
    step = 1.0          # simulated seconds in the next slice: whole seconds, 1 to an hour
    try:
        while clock.now_us() < target:
            if getattr(app_state, "stopping", False):
                raise ApiError(503, "server_stopping", "The server is stopping; the advance ended early.",
                               now=to_ms(clock.now_us()))
            left_us = target - clock.now_us()
            began = time.perf_counter()
            exchange.advance(left_us / US_PER_S if left_us <= step * US_PER_S else step)
            took = time.perf_counter() - began
            step = float(min(3600, max(1, round(step * min(4.0, SLICE_WALL_S / max(took, 1e-6))))))
            app_state.advancing["now"] = to_ms(clock.now_us())
            for _ in range(YIELDS):
                await asyncio.sleep(0)
    finally:
        app_state.advancing = None
