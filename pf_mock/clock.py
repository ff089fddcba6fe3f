"""Mock time. The exchange is handed a clock; nothing in the core reads the wall clock itself.

Time is an integer count of microseconds since the Unix epoch (``now_us``), so that advancing by 0.1 s
36,000 times lands exactly on 3,600 s, whatever the steps. ``now()`` gives the same instant as float
seconds for code that computes with it; it converts back to the same integer exactly (``to_us``).
``ManualClock`` stands still until told to move; ``RealtimeClock`` follows the wall clock times
``speed``. Both start at a chosen instant, so the same code path drives both.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol

US_PER_S = 1_000_000
US_PER_MS = 1_000

# Manual clocks start here unless told otherwise, so that runs under the same seed print the same
# timestamps: 2026-01-01T00:00:00Z.
DEFAULT_EPOCH = 1_767_225_600.0


def to_us(seconds: float) -> int:
    """Float seconds to whole microseconds (exact for any time a clock or market handed out)."""
    return int(round(seconds * US_PER_S))


def to_ms(t: float | int) -> int:
    """A time to the whole milliseconds a client is shown: floor, so a fill shown at ms M happened
    in [M, M + 1) ms. Integer microseconds are taken as they are; float seconds are converted first."""
    us = t if isinstance(t, int) else to_us(t)
    return us // US_PER_MS


class Clock(Protocol):
    mode: str
    speed: float

    def now(self) -> float: ...
    def now_us(self) -> int: ...
    def restart(self) -> None: ...


class ManualClock:
    mode = "manual"
    speed = 0.0

    def __init__(self, start: float = DEFAULT_EPOCH):
        self.start = start
        self._start_us = to_us(start)
        self._now_us = self._start_us

    def now_us(self) -> int:
        return self._now_us

    def now(self) -> float:
        return self._now_us / US_PER_S

    def advance(self, seconds: float) -> float:
        if not seconds >= 0:
            raise ValueError("seconds must be zero or more")
        self._now_us += to_us(seconds)
        return self.now()

    def restart(self) -> None:
        self._now_us = self._start_us

    @classmethod
    def at(cls, start_us: int, now_us: int) -> "ManualClock":
        """A manual clock that started at ``start_us`` and stands at ``now_us`` (a restored snapshot's)."""
        clock = cls(start_us / US_PER_S)
        clock._start_us, clock._now_us = start_us, now_us
        return clock


class RealtimeClock:
    mode = "realtime"

    def __init__(self, speed: float = 1.0, wall: Callable[[], float] = time.time, start: float | None = None):
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall = wall
        self._start = start
        self.restart()

    def now_us(self) -> int:
        # Never backwards, even if the wall clock steps back: mock time only moves forward.
        now = self._origin_us + int((self._wall() - self._wall_origin) * self.speed * US_PER_S)
        self._last_us = max(self._last_us, now)
        return self._last_us

    def now(self) -> float:
        return self.now_us() / US_PER_S

    def restart(self) -> None:
        self._wall_origin = self._wall()
        self._origin_us = to_us(self._start if self._start is not None else self._wall_origin)
        self._last_us = self._origin_us
