"""Latency: how long after an agent sends it an order entry or a cancel reaches the book.

Every venue has one. On Hyperliquid, whose markets this mock lists, the documentation gives the
end-to-end latency of an order (from sending the request to receiving the committed answer) for a
geographically co-located client as a median of 0.2 s and a 99th percentile of 0.9 s (Hyperliquid
docs, "L1 Overview", section Latency: https://hyperliquid.gitbook.io/hyperliquid-docs/hyperliquid-l1/l1-overview).
For a co-located client the way back is negligible beside consensus, so that is the time until the order
is in the book; a cancel is a transaction like any other and goes through the same blocks.

The model: the delay is log-normal, ``latency_ms x exp(latency_sigma x Z)`` with ``Z`` standard normal, so
``latency_ms`` is the median and ``latency_sigma`` the spread of its logarithm. The default
(``DEFAULT_LATENCY_MS``, ``DEFAULT_LATENCY_SIGMA``) puts the median at 200 ms and the 99th percentile at
900 ms: ``sigma = ln(900 / 200) / z_0.99`` with ``z_0.99 = 2.3263``. Both are regime fields (``model.Regime``),
so a scenario file or ``/_mock/markets/{symbol}/regime`` changes them; ``latency_ms = 0`` is no latency at
all, whatever the sigma. A delay is capped at ``MAX_DELAY_MS``.

The random source is handed in (a numpy ``Generator``): the caller keys it by (seed, symbol, message
number), so a delay never depends on reads, on how the clock was stepped, or on other markets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..ranges import DEFAULT_LATENCY_MS, MAX_LATENCY_MS  # noqa: F401  (written once, for the command line too)

_Z_99 = 2.3263478740408408          # the standard normal's 99th percentile
DEFAULT_LATENCY_SIGMA = round(math.log(900.0 / 200.0) / _Z_99, 4)      # 0.6465
MAX_LATENCY_SIGMA = 3.0
MAX_DELAY_MS = 60_000.0             # no single message takes longer than a minute


@dataclass(frozen=True)
class OrderLatency:
    """The delay of one message (an order entry or a cancel), in whole microseconds."""

    def delay_us(self, regime, rng: np.random.Generator) -> int:
        median = regime.latency_ms
        if median <= 0.0:
            return 0
        ms = median * math.exp(regime.latency_sigma * float(rng.standard_normal()))
        return int(round(min(ms, MAX_DELAY_MS) * 1000.0))

    def quantile_ms(self, regime, p: float) -> float:
        """The ``p`` quantile of the delay in ms (for the docs and the tests' oracle)."""
        from statistics import NormalDist
        if regime.latency_ms <= 0.0:
            return 0.0
        return min(regime.latency_ms * math.exp(regime.latency_sigma * NormalDist().inv_cdf(p)), MAX_DELAY_MS)
