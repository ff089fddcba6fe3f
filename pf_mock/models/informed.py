"""Informed flow: some takers trade the way the fair value is about to move, and large ones more often.

A taker of ``usd`` notional is informed when its uniform draw is under
``min(1, informed_share x (usd / taker_size_usd) ** informed_size_elasticity)``: a median-sized taker
with probability ``informed_share``, a larger one more likely (large orders carry more information, as
in Kyle's model, Econometrica 53, 1985). An informed taker looks ``FAST_INFORMED_HORIZON_S`` ahead (a
``fast_informed_share`` of them: what makers feel within a second) or ``informed_horizon_seconds`` ahead,
on the exogenous path, and trades the way it goes. So the fair value's move after a taker grows with
the taker's size, and concavely: the chance of being informed saturates. With an elasticity of 0 every
taker is informed with the same probability.
"""

from __future__ import annotations

from dataclasses import dataclass

FAST_INFORMED_HORIZON_S = 1.0           # the fast part of informed flow sees this far ahead


@dataclass(frozen=True)
class InformedFlow:
    def probability(self, regime, usd: float) -> float:
        share = regime.informed_share
        if regime.informed_size_elasticity and usd > 0.0 and regime.taker_size_usd > 0.0:
            share *= (usd / regime.taker_size_usd) ** regime.informed_size_elasticity
        return min(share, 1.0)

    def side(self, fair, t_us: int, value: float, regime, usd: float, informed_u: float, fast_u: float,
             side_u: float) -> bool | None:
        """The informed taker's side (buy: True), or None when this taker is not informed. ``value`` is
        the log fair value at ``t_us``; ``fair.value_at`` reads the exogenous path ahead."""
        if informed_u >= self.probability(regime, usd):
            return None
        horizon = FAST_INFORMED_HORIZON_S if fast_u < regime.fast_informed_share else regime.informed_horizon_seconds
        ahead = fair.value_at(t_us + int(horizon * 1e6))
        return ahead > value if ahead != value else side_u < 0.5
