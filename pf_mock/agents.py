"""Agents, their keys, and their market-making sessions (one per agent and symbol)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from .ledger import SymbolLedger

KEY_PATTERN = re.compile(r"^pf_(test|live)_[A-Za-z0-9_]{8,}$")
AGENT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")

GUARDRAILS = ("max_inventory_usd", "max_spread_bps", "auto_hedge_threshold_usd", "session_stop_loss_usd")

IDLE, ACTIVE, PAUSED, STOPPED = "idle", "active", "paused", "stopped"


def agent_id_for_key(key: str) -> str:
    """The id an open-auth key is provisioned under: stable, so reruns print the same ids."""
    return "ag_" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass
class QuoteShape:
    """The last quote of a session, as distances from the mid: what the refresh loop re-posts."""

    bid_bps: float | None
    ask_bps: float | None
    bid_usd: float | None
    ask_usd: float | None
    tif: str


@dataclass
class Session:
    symbol: str
    status: str = IDLE
    reason: str | None = None
    guardrails: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(GUARDRAILS))
    auto_refresh: bool = False
    refresh_interval_seconds: float = 5.0
    started_at: float | None = None
    stopped_at: float | None = None
    shape: QuoteShape | None = None
    generation: int = 0                 # bumps when the refresh loop is stopped; old timers lapse
    equity_at_start: float = 0.0        # this market's cash + position x mid when the session began
    hedge_due: bool = False             # a fill happened since the auto-hedge last looked

    @property
    def live(self) -> bool:
        return self.status in (ACTIVE, PAUSED)

    def guard(self, name: str) -> float | None:
        return self.guardrails.get(name)


@dataclass
class Agent:
    agent_id: str
    api_key: str
    created_at: float
    starting_balance: float
    deposits: float = 0.0
    faucet_claimed: bool = False
    ledgers: dict[str, SymbolLedger] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)

    @property
    def cash(self) -> float:
        return self.starting_balance + self.deposits + sum(l.totals.cash for l in self.ledgers.values())

    def ledger(self, symbol: str, lot_scale: int) -> SymbolLedger:
        ledger = self.ledgers.get(symbol)
        if ledger is None:
            ledger = self.ledgers[symbol] = SymbolLedger(symbol, lot_scale)
        return ledger

    def session(self, symbol: str) -> Session:
        session = self.sessions.get(symbol)
        if session is None:
            session = self.sessions[symbol] = Session(symbol)
        return session
