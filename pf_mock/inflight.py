"""Messages on their way: an agent's quote or cancel between the instant it is sent and the instant it
reaches the book, ``models/latency.py`` drawing how long that takes.

What the exchange does with a quote or a cancel sent at mock time ``t`` to a synthetic market whose
regime has a latency:

- **Checked at once.** A quote passes every check when it is sent (fields, session, grid, band, margin,
  with the notional of the agent's quotes still on their way counted in); an error is answered at once
  and nothing changes. A cancel has nothing to check.
- **Acts at ``t + L``.** ``L`` is drawn from the market's regime with a random source keyed by (seed,
  symbol, number of the message on that market), so it depends on nothing but the requests. The message
  becomes an action scheduled on the market at ``t + L``, processed in the one global event order like a
  refresh or a scenario step: it reaches the book only when time passes ``t + L``, and whatever happens
  before (a jump, takers, other agents) happens before. At ``t + L`` a quote takes effect as a quote with
  no latency does at once (its session's settings, its sides posted under the order ids given out when
  it was sent); a cancel cancels every order of the agent's on the market, as ``POST /v1/mm/cancel``.
- **In order.** One agent's messages to one market reach it in the order they were sent (one
  connection): a message never arrives before one sent earlier, though it may arrive at the same instant.
- **What reads show.** An order on its way is not in the book: it is not listed as open, does not count
  in the account's margin in use, and cannot fill, as on a venue, where the order appears once the
  matching engine has it. The quote's answer gives its order ids and ``created_at``, the instant it
  reaches the book; once there, the order lists with that ``created_at``. A side refused on arrival (an
  ALO side that would cross, a side held by ``max_inventory_usd``, a session paused or stopped in the
  meantime) is filed as expired with its reason, so no order id disappears without a trace. A cancel's
  answer lists the orders it takes out (those resting and those on their way) and ``cancelled_at``; until
  then they rest and can fill.

Not delayed: hedges (market orders are answered with their fills), the server-side refresh loop and the
guardrails (the exchange's own actions), session resets, and replayed markets (a recording has its own
latency, ``replay/latency.py``). With a latency of 0 and nothing of the agent's on its way, a quote or a
cancel acts at once, exactly as with no latency model at all.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Mapping

from . import entry, orders
from .agents import Agent
from .catalog import Catalog
from .closed import EXPIRED, MAX_INVENTORY, SPREAD_PAUSE, STOP_LOSS, WOULD_CROSS
from .entry import QuoteResult
from .market import Market, OrderClosed
from .messages import QuoteRequest
from .models.latency import OrderLatency
from .orders import SideOutcome, Sized
from .sessions import STOPPED, Sessions
from .streams import KeyedStream, stream_key

# Why a side of a quote that was on its way did not reach the book (sessions' and orders' skip reasons).
_REFUSED = {"would_cross": WOULD_CROSS, "max_inventory": MAX_INVENTORY, "market_spread_wide": SPREAD_PAUSE}


class QuoteArrival:
    """A quote on its way, scheduled on its market at the instant it reaches the book: data, so that a
    snapshot writes it down (``state``) and a restore makes it again."""

    __slots__ = ("flight", "agent_id", "request", "bid", "ask", "ids", "notional")

    def __init__(self, flight: "InFlight", agent_id: str, request: QuoteRequest, bid: Sized, ask: Sized,
                 ids: tuple[int | None, int | None], notional: float):
        self.flight, self.agent_id, self.request = flight, agent_id, request
        self.bid, self.ask, self.ids, self.notional = bid, ask, ids, notional
        flight.quotes.setdefault((agent_id, request.symbol), []).append(self)

    def __call__(self, market: Market) -> None:
        self.flight.landed(self.agent_id, market)
        waiting = self.flight.quotes[(self.agent_id, market.symbol)]
        waiting.remove(self)
        if not waiting:
            del self.flight.quotes[(self.agent_id, market.symbol)]
        sessions = self.flight.sessions
        agent = sessions.agents[self.agent_id]
        session = sessions.of(agent, market.symbol)
        sides = ((True, self.bid, self.ids[0]), (False, self.ask, self.ids[1]))
        if session.status == STOPPED:       # stopped (stop loss) while the quote was on its way
            for is_buy, side, seq in sides:
                if side is not None:
                    _expire(agent, market, is_buy, side, seq, self.request.time_in_force, STOP_LOSS)
            return
        result = entry.take_effect(sessions, agent, market, session, self.request, self.bid, self.ask, self.ids)
        for (is_buy, side, seq), out in zip(sides, (result.bid, result.ask)):
            if side is not None and out.order_id is None:
                _expire(agent, market, is_buy, side, seq, self.request.time_in_force, _REFUSED[out.skipped])

    def state(self) -> dict:
        return {"type": "quote", "agent_id": self.agent_id, "request": asdict(self.request),
                "bid": None if self.bid is None else list(self.bid), "ask": None if self.ask is None else list(self.ask),
                "ids": list(self.ids), "notional": self.notional}


class CancelArrival:
    """A cancel on its way (see ``QuoteArrival``)."""

    __slots__ = ("flight", "agent_id")

    def __init__(self, flight: "InFlight", agent_id: str):
        self.flight, self.agent_id = flight, agent_id

    def __call__(self, market: Market) -> None:
        self.flight.landed(self.agent_id, market)
        sessions = self.flight.sessions
        entry.cancel(sessions, sessions.agents[self.agent_id], market)

    def state(self) -> dict:
        return {"type": "cancel", "agent_id": self.agent_id}


def _expire(agent: Agent, market: Market, is_buy: bool, side: Sized, seq: int, tif: str, reason: str) -> None:
    """A side refused on arrival, into the market's news (booked among the agent's closed orders with the
    rest of the event's news)."""
    units, lots = side
    now = market.now
    market.news.append(OrderClosed(seq, agent.agent_id, is_buy, units, lots, lots, tif, now, now, EXPIRED, reason))


class InFlight:
    """The exchange's messages on their way, and what their latency draws depend on: how many messages
    each market has been sent (the latency stream's counter) and when each agent's last message to each
    market arrives (so that the next one does not overtake it)."""

    def __init__(self, seed: int, sessions: Sessions, latency: OrderLatency | None = None):
        self.seed = seed
        self.sessions = sessions
        self.latency = latency or OrderLatency()
        self.sent: dict[str, int] = {}                      # symbol -> messages drawn a latency for
        self.last: dict[tuple[str, str], int] = {}          # (agent id, symbol) -> arrival of its last one on its way
        self.quotes: dict[tuple[str, str], list[QuoteArrival]] = {}    # quotes on their way, in the order sent
        self._streams: dict[str, KeyedStream] = {}          # a cache: rebuilt to the same numbers when needed

    # ---- when a message arrives ---------------------------------------------------------------
    def arrival_us(self, agent_id: str, market: Market) -> int:
        """When a message the agent sends to ``market`` now reaches its book (``market.now_us``: at once)."""
        now = market.now_us
        if not market.synthetic:
            return now
        regime = market.regime
        at = now
        if regime.latency_ms > 0:
            symbol = market.symbol
            n = self.sent.get(symbol, 0)
            self.sent[symbol] = n + 1
            stream = self._streams.get(symbol)
            if stream is None:
                stream = self._streams[symbol] = KeyedStream(stream_key(self.seed, symbol, "latency"))
            at += self.latency.delay_us(regime, stream.generator(n))
        key = (agent_id, market.symbol)
        last = self.last.get(key)
        if last is not None and last > at:
            at = last
        if at > now:
            self.last[key] = at
        return at

    def landed(self, agent_id: str, market: Market) -> None:
        key = (agent_id, market.symbol)
        if self.last.get(key) == market.now_us:
            del self.last[key]

    def notional(self, agent_id: str) -> dict[str, float]:
        """The notional of the agent's quotes on their way, by market (margin counts it)."""
        out: dict[str, float] = {}
        for (owner, symbol), waiting in self.quotes.items():
            if owner == agent_id:
                out[symbol] = out.get(symbol, 0.0) + sum(q.notional for q in waiting)
        return out

    # ---- sending ------------------------------------------------------------------------------
    def send_quote(self, agent: Agent, market: Market, req: QuoteRequest, catalog: Catalog, at_us: int,
              taker_fee_bps: float) -> QuoteResult:
        """A quote sent now: checked at once, then taking effect at once or when it reaches the book."""
        sessions = self.sessions
        session, bid, ask, posted = entry.check_entry(sessions, agent, market, req, catalog, at_us, taker_fee_bps,
                                                      self.notional(agent.agent_id))
        when = self.arrival_us(agent.agent_id, market)
        if when == market.now_us:
            return entry.take_effect(sessions, agent, market, session, req, bid, ask)
        ids = (market.next_order_id() if bid is not None else None, market.next_order_id() if ask is not None else None)
        market.schedule(when, QuoteArrival(self, agent.agent_id, req, bid, ask, ids, posted))
        grid = market.grid
        outs = [SideOutcome() if side is None else
                SideOutcome(order_id=orders.order_id(market, seq), price=grid.to_price(side[0]),
                            size_usd=grid.notional(*side), qty=grid.to_size(side[1]))
                for side, seq in zip((bid, ask), ids)]
        return QuoteResult(market.symbol, outs[0], outs[1], session, market.now, when / 1e6)

    def send_cancel(self, agent: Agent, market: Market) -> tuple[list[str], int]:
        """A cancel sent now: the ids of the orders it takes out, and when it does (microseconds)."""
        when = self.arrival_us(agent.agent_id, market)
        if when == market.now_us:
            return entry.cancel(self.sessions, agent, market), when
        ids = [orders.order_id(market, info.order.order_id) for info in market.open_orders(agent.agent_id)]
        ids += [orders.order_id(market, seq) for q in self.quotes.get((agent.agent_id, market.symbol), ())
                for seq in q.ids if seq is not None]
        market.schedule(when, CancelArrival(self, agent.agent_id))
        return ids, when

    # ---- snapshots ----------------------------------------------------------------------------
    def state(self) -> dict:
        return {"sent": dict(sorted(self.sent.items())),
                "last": [[agent_id, symbol, at] for (agent_id, symbol), at in sorted(self.last.items())]}

    def restore_state(self, state: Mapping) -> None:
        self.sent = dict(state["sent"])
        self.last = {(agent_id, symbol): at for agent_id, symbol, at in state["last"]}
