"""Queue models: where an agent's resting order stands in the recorded queue at its price.

A recording shows only the total size at each price, not its orders, so an agent's order that joins a
level is placed at the back: the whole recorded size there is *ahead* of it. Two things move it forward:

* a recorded trade at its price consumes the queue ahead first (every model): ``ahead -= trade size``;
* a recorded decrease of the level (cancels, or fills the trade already counted) shrinks the queue ahead
  by an amount the model decides.

The order fills when ``ahead`` falls below minus half a lot: the trade that got there went through the
queue ahead and reached the order (:data:`FILL_BELOW`). ``ahead`` never exceeds the level's recorded size.

Two models, named by ``parse_queue_model``:

* ``risk_averse`` (:class:`RiskAverseQueue`): only trades advance the order; a decrease only caps
  ``ahead`` at the new size (what is ahead of you cannot be larger than the whole level).
* ``power:<n>`` (:class:`PowerProbQueue`): a decrease, net of the trades already counted at that price
  since the last change, is split between the size ahead (``a``) and behind (``b``): the share taken from
  behind is ``b**n / (a**n + b**n)``, the rest from ahead, so cancels hit the longer side more
  (``n = 1`` proportional, larger ``n`` more lopsided). Whatever the split asks of the back beyond what is
  there comes from the front.
"""

from __future__ import annotations

FILL_BELOW = -0.5        # ahead (in lots) below this: the order has been reached


class QueuePosition:
    """One resting order's place: lots ahead of it, and the trade lots counted at its price since the
    level's recorded size last changed."""

    __slots__ = ("ahead", "traded")

    def __init__(self, ahead: float) -> None:
        self.ahead = float(ahead)
        self.traded = 0.0

    def state(self) -> tuple[float, float]:
        return (self.ahead, self.traded)

    @classmethod
    def from_state(cls, state) -> "QueuePosition":
        pos = cls(state[0])
        pos.traded = float(state[1])
        return pos


class RiskAverseQueue:
    """Only trades at the order's price move it forward."""

    name = "risk_averse"

    def on_trade(self, pos: QueuePosition, lots: int) -> None:
        pos.ahead -= lots
        pos.traded += lots

    def on_level_change(self, pos: QueuePosition, before: int, after: int) -> None:
        pos.traded = 0.0
        if pos.ahead > after:
            pos.ahead = float(after)


class PowerProbQueue:
    """Decreases of the level are split between ahead and behind by a power law of their sizes."""

    def __init__(self, n: float = 3.0) -> None:
        if not n > 0:
            raise ValueError("the power must be positive")
        self.n = float(n)
        self.name = f"power:{n:g}"

    def share_behind(self, ahead: float, behind: float) -> float:
        """The share of a decrease taken from behind the order."""
        if behind <= 0:
            return 0.0
        if ahead <= 0:
            return 1.0
        fa, fb = ahead ** self.n, behind ** self.n
        return fb / (fa + fb)

    def on_trade(self, pos: QueuePosition, lots: int) -> None:
        pos.ahead -= lots
        pos.traded += lots

    def on_level_change(self, pos: QueuePosition, before: int, after: int) -> None:
        change = before - after - pos.traded      # the decrease trades have not already accounted for
        pos.traded = 0.0
        if change > 0:
            ahead = pos.ahead
            behind = before - ahead
            share = self.share_behind(ahead, behind)
            from_back = share * change
            ahead -= change - from_back
            if from_back > behind:                 # more than there is behind: the rest is ahead
                ahead -= from_back - max(behind, 0.0)
            pos.ahead = ahead
        if pos.ahead > after:
            pos.ahead = float(after)


QueueModel = RiskAverseQueue | PowerProbQueue


def parse_queue_model(text: str) -> QueueModel:
    """``risk_averse`` or ``power:<n>`` (``power`` alone is ``power:3``)."""
    text = text.strip().lower()
    if text in ("risk_averse", "risk-averse", "riskaverse"):
        return RiskAverseQueue()
    if text == "power" or text.startswith("power:"):
        _, _, n = text.partition(":")
        try:
            return PowerProbQueue(float(n) if n else 3.0)
        except ValueError:
            pass
    raise ValueError(f"unknown queue model {text!r}: risk_averse or power:<n> (n > 0)")
