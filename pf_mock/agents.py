"""Agents: their keys, their money and their ledgers. Their market-making sessions live in
``sessions.py`` (``Agent.sessions`` holds them; ``Sessions.of`` makes them)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from .closed import ClosedOrders
from .ledger import FillOrder, SymbolLedger

KEY_PATTERN = re.compile(r"^pf_(test|live)_[A-Za-z0-9_]{8,120}$")   # the contract: 8 to 120 after the prefix
AGENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def agent_id_for_key(key: str) -> str:
    """The id an open-auth key is provisioned under: stable, so reruns print the same ids."""
    return "ag_" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass
class Agent:
    agent_id: str
    api_key: str
    created_at: float
    starting_balance: float
    deposits: float = 0.0
    faucet_claimed: bool = False
    ledgers: dict[str, SymbolLedger] = field(default_factory=dict)
    sessions: dict[str, Any] = field(default_factory=dict)     # symbol -> sessions.Session
    fill_order: FillOrder = field(default_factory=FillOrder)     # every fill, in the order it happened
    closed_orders: ClosedOrders = field(default_factory=ClosedOrders)  # orders that left the book, and why

    @property
    def cash(self) -> float:
        return self.starting_balance + self.deposits + sum(l.totals.cash for l in self.ledgers.values())

    def ledger(self, symbol: str, lot_scale: int) -> SymbolLedger:
        ledger = self.ledgers.get(symbol)
        if ledger is None:
            ledger = self.ledgers[symbol] = SymbolLedger(symbol, lot_scale, self.fill_order)
        return ledger
