"""Taker arrivals: a self-exciting (Hawkes) stream within each minute, busier when volatility runs high.

Each minute's taker instants are a Hawkes process with an exponential kernel, drawn through its cluster
(branching) representation (Hawkes and Oakes, J. Appl. Prob. 11, 1974): *immigrants* arrive as a
Poisson stream, and every taker, immigrant or not, brings ``Poisson(hawkes_branching)`` followers at
exponential delays of mean ``hawkes_decay_seconds``; followers beyond the minute's end are dropped. The
immigrants' rate is ``taker_rate_per_minute x (1 - hawkes_branching)`` times the minute's volatility
factor ``v`` (the variance factor of ``model``, which averages 1) to the power ``taker_vol_elasticity``
(over its mean), so the mean rate stays the regime's while busy minutes are the volatile ones: gaps between takers are
bursty (their coefficient of variation above 1), and the count of takers in a minute goes with the size
of its move.

A share ``taker_move_share`` of the immigrants comes with the minute's own move: their rate is scaled by
the minute's absolute log move over its typical size (at most 20 times). Volume and |returns| then
share their driver, the rate of information arrival (Clark's subordinated process, Econometrica 41,
1973): the count of takers in a minute goes with the size of its move.

All draws come from the minute's keyed stream, so the instants are a function of (seed, symbol, time).
With ``hawkes_branching`` 0 and an elasticity of 0 this is the plain Poisson stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_GENERATIONS = 30        # the cluster's depth: with a branching ratio below 1, far more than enough


@dataclass(frozen=True)
class TakerArrivals:
    def offsets(self, gen: np.random.Generator, regime, chunk_us: int, v: float, move: float = 1.0) -> np.ndarray:
        """The takers' instants within the minute, in microseconds from its start (unsorted). ``v`` is the
        minute's volatility factor, ``move`` its absolute move over its typical size (both about 1)."""
        n = min(max(regime.hawkes_branching, 0.0), 0.95)
        rate = regime.taker_rate_per_minute * chunk_us / 60e6 * (1.0 - n)
        w = regime.taker_move_share
        if w:
            rate *= (1.0 - w) + w * move
        k = regime.taker_vol_elasticity
        if k:
            # v is log-normal with mean 1 (log spread vol_of_vol): dividing by E[v ** k] keeps the mean rate
            rate *= v ** k * math.exp(-k * (k - 1.0) * regime.vol_of_vol ** 2 / 2.0)
        parents = gen.integers(0, chunk_us, int(gen.poisson(rate)))
        if n <= 0.0:
            return parents
        everyone = [parents]
        scale = regime.hawkes_decay_seconds * 1e6
        generation = parents
        for _ in range(MAX_GENERATIONS):
            if not len(generation):
                break
            kids = gen.poisson(n, len(generation))
            total = int(kids.sum())
            if not total:
                break
            born = np.repeat(generation, kids) + (gen.exponential(scale, total)).astype(np.int64)
            generation = born[born < chunk_us]
            everyone.append(generation)
        return np.concatenate(everyone)
