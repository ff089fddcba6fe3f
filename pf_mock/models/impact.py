"""Impact: agents' own trades move the fair value, concave in size, partly for good and partly for a while.

An agent's order that takes liquidity (a market order, a hedge, an auto-hedge, a crossing limit order, a
sweep) of notional ``Q`` USD moves the log fair value, the way it traded, by the square-root law

    ``I(Q) = impact_y x sigma_daily x sqrt(Q / daily_volume_usd)``

(Torre's and Almgren's square-root law, measured across markets by Toth et al., "Anomalous price impact
and the critical nature of liquidity in financial markets", Phys. Rev. X 1, 021006, 2011, with
``Y`` of order 1). ``sigma_daily`` is the regime's daily volatility. A share ``impact_permanent_share``
of it stays; the rest decays exponentially with time constant ``impact_decay_seconds`` (the book
refills and the price relaxes).

Only agents' trades are added here: the exogenous takers' permanent impact is what the exogenous path
already is (its moves are the sum of the flow's impact and the news), so the path stays a function of
(seed, symbol, time) and moves away from it only by what agents did, at the instants they did it; reads
never add anything. The state is the list of impact events (``ImpactState.state()``).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_YEAR = 365 * SECONDS_PER_DAY


@dataclass(frozen=True)
class ImpactLaw:
    """The log move of a taking order of ``usd`` notional (unsigned), split (permanent, transient)."""

    def move(self, regime, usd: float) -> tuple[float, float]:
        if usd <= 0.0 or regime.impact_y <= 0.0 or regime.daily_volume_usd <= 0.0:
            return 0.0, 0.0
        sigma_daily = regime.volatility_annual * math.sqrt(SECONDS_PER_DAY / SECONDS_PER_YEAR)
        total = regime.impact_y * sigma_daily * math.sqrt(usd / regime.daily_volume_usd)
        permanent = total * regime.impact_permanent_share
        return permanent, total - permanent


class ImpactState:
    """The impact events of one market, and the log offset they add to the fair value at any instant."""

    def __init__(self) -> None:
        self.times: list[int] = []           # microseconds, in order
        self.permanent: list[float] = []     # signed log moves that stay
        self.transient: list[float] = []     # signed log moves that decay ...
        self.decay_s: list[float] = []       # ... with this time constant
        self._cum: list[float] = []          # running sums of the permanent parts
        self._longest = 0.0
        self._memo = (-1, 0.0, 1.0)           # (instant, log offset, factor) last worked out

    def __bool__(self) -> bool:
        return bool(self.times)

    def add(self, t_us: int, permanent: float, transient: float, decay_s: float) -> None:
        if not (permanent or transient):
            return
        self.times.append(t_us)
        self.permanent.append(permanent)
        self.transient.append(transient)
        self.decay_s.append(decay_s)
        self._cum.append((self._cum[-1] if self._cum else 0.0) + permanent)
        self._longest = max(self._longest, decay_s)
        self._memo = (-1, 0.0, 1.0)

    def log_offset(self, t_us: int) -> float:
        """The sum of the events at or before ``t_us``: their permanent parts and what is left of the rest."""
        if not self.times or t_us < self.times[0]:
            return 0.0
        memo = self._memo
        if memo[0] == t_us:
            return memo[1]
        times = self.times
        n = bisect.bisect_right(times, t_us)
        total = self._cum[n - 1]
        first = bisect.bisect_left(times, t_us - int(50.0 * self._longest * 1e6))
        # Every event of the window, in order (one pass over the three lists: this runs at every event
        # of a market whose agents have traded, over up to 50 decay times of them).
        for at, tr, tau in zip(times[first:n], self.transient[first:n], self.decay_s[first:n]):
            if tr:
                age = (t_us - at) / 1e6
                if tau > 0.0 and age < 50.0 * tau:
                    total += tr * math.exp(-age / tau)
                elif tau <= 0.0 and age == 0.0:
                    total += tr
        self._memo = (t_us, total, math.exp(total))
        return total

    def factor(self, t_us: int) -> float:
        """``exp(log_offset)``: read several times an event (the house's re-centres, the mark), so its
        exponential is kept with the offset it was worked out from."""
        if not self.times:
            return 1.0
        offset = self.log_offset(t_us)          # works the exponential out once per instant, with the offset
        memo = self._memo
        return memo[2] if memo[0] == t_us else math.exp(offset)     # (before the first event: no memo, 1.0)

    def state(self) -> dict:
        return {"times": list(self.times), "permanent": list(self.permanent), "transient": list(self.transient),
                "decay_s": list(self.decay_s)}

    @classmethod
    def from_state(cls, state: dict) -> "ImpactState":
        out = cls()
        out.times = [int(t) for t in state["times"]]
        out.permanent = [float(v) for v in state["permanent"]]
        out.transient = [float(v) for v in state["transient"]]
        out.decay_s = [float(v) for v in state["decay_s"]]
        for p in out.permanent:
            out._cum.append((out._cum[-1] if out._cum else 0.0) + p)
        out._longest = max(out.decay_s, default=0.0)
        return out
