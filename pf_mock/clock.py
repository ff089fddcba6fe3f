"""Mock time. The exchange is handed a clock; nothing in the core reads the wall clock itself.

Times are float seconds since the Unix epoch. ``ManualClock`` stands still until told to move;
``RealtimeClock`` follows the wall clock times ``speed``. Both start at a chosen instant, so the
same code path drives both.
"""

from __future__ import annotations

import time
from typing import Callable, Protocol

# Manual clocks start here unless told otherwise, so that runs under the same seed print the same
# timestamps: 2026-01-01T00:00:00Z.
DEFAULT_EPOCH = 1_767_225_600.0


class Clock(Protocol):
    mode: str
    speed: float

    def now(self) -> float: ...
    def restart(self) -> None: ...


class ManualClock:
    mode = "manual"
    speed = 0.0

    def __init__(self, start: float = DEFAULT_EPOCH):
        self.start = start
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if not seconds >= 0:
            raise ValueError("seconds must be zero or more")
        self._now += seconds
        return self._now

    def restart(self) -> None:
        self._now = self.start


class RealtimeClock:
    mode = "realtime"

    def __init__(self, speed: float = 1.0, wall: Callable[[], float] = time.time, start: float | None = None):
        if not speed > 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._wall = wall
        self._start = start
        self.restart()

    def now(self) -> float:
        return self._origin + (self._wall() - self._wall_origin) * self.speed

    def restart(self) -> None:
        self._wall_origin = self._wall()
        self._origin = self._start if self._start is not None else self._wall_origin


def to_ms(t: float) -> int:
    return int(round(t * 1000))
