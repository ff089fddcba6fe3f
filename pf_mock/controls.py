"""The mock's own controls, checked: a clock advance, a price jump and a regime change. The exchange
applies them; this module says whether a request may, and what it asks for."""

from __future__ import annotations

from .clock import Clock
from .errors import ApiError, invalid_request, is_number
from .market import Market
from .messages import MAX_ADVANCE_S
from .model import Regime
from .ranges import band_problem, move_problem, regime_problem


def check_advance(clock: Clock, seconds: float) -> None:
    if not hasattr(clock, "advance"):
        raise ApiError(409, "clock_not_manual", "The clock is in realtime mode; start with --clock manual.")
    if not (is_number(seconds) and 0 <= seconds <= MAX_ADVANCE_S):
        raise invalid_request(f"seconds must be a number from 0 to {MAX_ADVANCE_S:g} (a week) per call.",
                              field="seconds", limit=MAX_ADVANCE_S)


def check_move(move_bps: float) -> None:
    """What a jump's size alone may not be (checked before the market is touched)."""
    problem = move_problem(move_bps)
    if problem:
        raise invalid_request(problem, field="move_bps")


def check_jump(market: Market, move_bps: float) -> None:
    """A jump must leave the price within its band around the market's initial mid."""
    problem = band_problem(market.spec.initial_mid, market.mark, move_bps)
    if problem:
        raise invalid_request(problem, field="move_bps")


def regime_with(market: Market, changes: dict) -> Regime:
    """The market's regime with ``changes``, each checked."""
    for key, value in changes.items():
        problem = regime_problem(key, value)
        if problem:
            raise invalid_request(problem, field=key)
    return market.regime.with_changes(**{k: float(v) for k, v in changes.items()})
