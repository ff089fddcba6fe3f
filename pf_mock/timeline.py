"""The markets' events in one global time order: which market steps next when the exchange runs its
markets up to an instant (ties: catalog order)."""

from __future__ import annotations

import heapq
from typing import Iterable, Iterator

from .market import Market


def due_events(markets: Iterable[Market], t: int) -> Iterator[tuple[int, Market]]:
    """Each market's next event at or before ``t`` (microseconds), earliest first, as (its instant, the
    market). The caller steps the market it is handed; its next event is then looked up again."""
    heap: list[tuple[int, int, Market]] = []
    for market in markets:
        when = market.next_event_us()
        if when is not None and when <= t:
            heapq.heappush(heap, (when, market.spec.index, market))
    while heap:
        when, index, market = heapq.heappop(heap)
        yield when, market
        when = market.next_event_us()
        if when is not None and when <= t:
            heapq.heappush(heap, (when, index, market))
