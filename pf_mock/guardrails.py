"""The guardrails, each declared once: its name (the quote's field, the session's key, analytics' name),
its parameter (unit, description, example) and its check. Every front reads them from here: the quote
request's fields (``messages.guarded``, and so HTTP, its OpenAPI schema and the MCP tool's input schema),
the typed client's ``quote``, the session's settings, analytics' trip counts and the page (which lists
what the session answers).

What a guardrail does when its check trips (hold a side, pause, hedge, stop) is the session's business
(``sessions.py``), at the simulated instant of every fill, refresh and price move; the check itself,
``breached(reading, limit)``, is here, with what its reading is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Guardrail:
    name: str                                   # the quote's field; a positive number, or unset (off)
    unit: str                                   # "USD" or "bps"
    description: str                            # the field's description in every schema
    example: float
    reading: str                                # what ``breached`` is handed
    breached: Callable[[float, float], bool]    # (reading, limit) -> the guardrail acts

    def __post_init__(self):
        if not self.name.isidentifier() or not self.name.islower():
            raise ValueError(f"a guardrail's name is a lower-case identifier, not {self.name!r}")


def inventory_lots(limit_usd: float, lot_scale: int, mark: float) -> int:
    """The most lots whose value at ``mark`` stays within ``limit_usd`` (a hair of float slack)."""
    return math.floor(limit_usd * lot_scale / mark + 1e-9)


def allowance(limits: dict, unbooked: dict, lot_scale: int, mark: float, maker_is_buy: bool) -> dict:
    """Lots each limited owner's resting orders on one side may still fill at ``mark`` before |net delta|
    would pass its max_inventory_usd. ``limits``: owner -> (limit in USD, its ledger); ``unbooked``: owner ->
    signed lots filled but not yet in that ledger."""
    room = {}
    for owner, (limit_usd, ledger) in limits.items():
        max_lots = inventory_lots(limit_usd, lot_scale, mark)
        lots = ledger.lots + unbooked.get(owner, 0)
        room[owner] = max(0, max_lots - lots) if maker_is_buy else max(0, max_lots + lots)
    return room


MAX_INVENTORY = Guardrail(
    "max_inventory_usd", "USD", "Guardrail: the side that would grow |net delta| (USD) past this is held.", 5_000.0,
    "the net delta a fill would leave, USD at the mark (enforced in whole lots: inventory_lots)",
    lambda delta, limit: abs(delta) > limit)
MAX_SPREAD = Guardrail(
    "max_spread_bps", "bps", "Guardrail: pause while the market's own spread (best ask - best bid without your "
    "orders, bps of the mid) is wider.", 50.0,
    "the market's spread without the agent's orders, bps of the mid", lambda bps, limit: bps > limit)
AUTO_HEDGE = Guardrail(
    "auto_hedge_threshold_usd", "USD", "Guardrail: after a fill leaves |net delta| (USD) above this, hedge it to "
    "zero.", 2_000.0, "the net delta at the mark, USD", lambda delta, limit: abs(delta) > limit)
STOP_LOSS = Guardrail(
    "session_stop_loss_usd", "USD", "Guardrail: stop the session when its net PnL (USD) falls to minus this.", 500.0,
    "the session's net PnL, USD", lambda pnl, limit: pnl <= -limit)

GUARDRAILS: tuple[Guardrail, ...] = (MAX_INVENTORY, MAX_SPREAD, AUTO_HEDGE, STOP_LOSS)
NAMES: tuple[str, ...] = tuple(g.name for g in GUARDRAILS)


def check_names(given, declared: tuple[Guardrail, ...] = GUARDRAILS) -> None:
    """A TypeError naming the first of ``given`` that is no declared guardrail (a front's typo would
    otherwise be an ignored field)."""
    known = {g.name for g in declared}
    for name in given:
        if name not in known:
            raise TypeError(f"{name!r} is not a guardrail; the guardrails are {', '.join(sorted(known))}")
