"""Queue: how the depth resting at a price turns over around an agent's order waiting in its queue.

The book is price-time priority and exact (``book.py``): an agent's order that joins a level waits behind
every lot resting there, and trades take the queue front first. The house's depth does not only trade:
other makers cancel and post again all the time, and a cancel ahead of an agent's order moves it forward
while one behind it does not. This model says how much of the house's depth at a level is cancelled at
each house update and where in the queue:

- **How much.** A share ``1 - exp(-queue_cancel_per_second x dt)`` of the house's lots at the level, ``dt``
  the mean gap between house updates (``60 / updates_per_minute`` s), so the rate per second does not
  depend on how often the house updates.
- **Where.** Split between the lots ahead of the agent's order (``a``) and behind it (``b``): the share
  taken from ahead is ``a**n / (a**n + b**n)``, ``n = queue_power``, so a cancel more likely comes from
  the longer side (``n = 1`` in proportion to the sizes; larger ``n`` more lopsided). Whatever one side
  cannot give comes from the other.
- **What comes back.** The same lots are posted again by the house at the back of the level (``liquidity``):
  the level keeps its size, and the agent's order moves forward by what was cancelled ahead of it.

This is the probabilistic queue model of hftbacktest (``PowerProbQueueModel``: the probability that a
decrease of a level happened behind an order is ``f(back) / (f(back) + f(front))`` with ``f(x) = x**n``;
hftbacktest's reference, "Queue Models"), itself after Rigtorp's estimator of an order's queue position
from aggregated depth. There it estimates where an order stands in a recorded book; here the book is
exact, so the model decides which of the house's lots leave, and the agent's place follows from the book.
A size decrease keeps an order's place (as on the venues that allow one); the re-posted lots join the back.

Deterministic: the lots follow from the book and the regime (the total rounded down to whole lots, its
split to the nearest), at house updates only, so the turnover is a function of (seed, symbol, time) and of
what agents did, never of reads or of how time was stepped.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass


@functools.lru_cache(maxsize=64)
def _share(rate: float, updates_per_minute: float) -> float:
    return -math.expm1(-rate * 60.0 / updates_per_minute)


@dataclass(frozen=True)
class QueueTurnover:
    """The turnover of the house's depth at a level where an agent's order waits."""

    @staticmethod
    def cancel_share(regime) -> float:
        """The share of the house's lots at a level cancelled (and posted again at the back) per house update."""
        rate = regime.queue_cancel_per_second
        if rate <= 0.0:
            return 0.0
        return _share(rate, regime.updates_per_minute)

    @staticmethod
    def share_ahead(ahead: int, behind: int, regime) -> float:
        """The share of a cancel taken from the ``ahead`` lots (the rest from the ``behind`` lots)."""
        if ahead <= 0:
            return 0.0
        if behind <= 0:
            return 1.0
        n = regime.queue_power
        ratio = (behind / ahead) ** n          # a**n / (a**n + b**n) = 1 / (1 + (b/a)**n), safe for large n
        return 1.0 / (1.0 + ratio) if ratio != math.inf else 0.0

    def split(self, ahead: int, behind: int, regime) -> tuple[int, int]:
        """(lots cancelled ahead, lots cancelled behind) at one house update, for a level whose house depth
        is ``ahead`` lots in front of the agent's order and ``behind`` lots after it."""
        total = int((ahead + behind) * self.cancel_share(regime))
        if total <= 0:
            return 0, 0
        front = min(round(total * self.share_ahead(ahead, behind, regime)), ahead)
        back = min(total - front, behind)
        front = min(total - back, ahead)       # what the back could not give comes from the front
        return front, back
