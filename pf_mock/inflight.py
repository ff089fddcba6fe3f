"""Messages on their way: an agent's quote or cancel between the instant it is sent and the instant it
reaches the book, ``models/latency.py`` drawing how long that takes. This module keeps the timing (when
a message arrives) and the table of quotes on their way; order entry (``entry.py``) sends the messages
and makes them take effect, so nothing here calls back up into it.

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

from typing import Mapping

from .market import Market
from .models.latency import OrderLatency
from .streams import KeyedStream, stream_key


class InFlight:
    """The exchange's messages on their way, and what their latency draws depend on: how many messages
    each market has been sent (the latency stream's counter) and when each agent's last message to each
    market arrives (so that the next one does not overtake it)."""

    def __init__(self, seed: int, latency: OrderLatency | None = None):
        self.seed = seed
        self.latency = latency or OrderLatency()
        self.sent: dict[str, int] = {}                      # symbol -> messages drawn a latency for
        self.last: dict[tuple[str, str], int] = {}          # (agent id, symbol) -> arrival of its last one on its way
        self.quotes: dict[tuple[str, str], list] = {}       # quotes on their way (entry.QuoteArrival), in order sent
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

    def waiting(self, agent_id: str, symbol: str) -> list:
        """The agent's quotes on their way to ``symbol``, in the order sent."""
        return self.quotes.get((agent_id, symbol), [])

    def wait(self, arrival) -> None:
        """A quote is on its way (``entry.QuoteArrival``): listed until it arrives."""
        self.quotes.setdefault((arrival.agent_id, arrival.request.symbol), []).append(arrival)

    def arrived(self, arrival, market: Market) -> None:
        """A quote reached ``market``'s book: no longer on its way."""
        self.landed(arrival.agent_id, market)
        key = (arrival.agent_id, market.symbol)
        waiting = self.quotes[key]
        waiting.remove(arrival)
        if not waiting:
            del self.quotes[key]

    # ---- snapshots ----------------------------------------------------------------------------
    def state(self) -> dict:
        return {"sent": dict(sorted(self.sent.items())),
                "last": [[agent_id, symbol, at] for (agent_id, symbol), at in sorted(self.last.items())]}

    def restore_state(self, state: Mapping) -> None:
        self.sent = dict(state["sent"])
        self.last = {(agent_id, symbol): at for agent_id, symbol, at in state["last"]}
