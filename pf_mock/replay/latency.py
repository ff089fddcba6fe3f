"""Order-entry latency: how long after an agent sends it an order (or a cancel) reaches the recorded book.

Constant: every limit order and every cancel takes ``ms`` milliseconds (0: at once). The agent sees its
order as open from the moment it is accepted; it can fill only once it has arrived, and an order being
cancelled can still fill until the cancel arrives. Market orders (hedges) are not delayed: the API
answers them with their fills, so they take the book as it stands when sent.
"""

from __future__ import annotations

DEFAULT_LATENCY_MS = 20.0


class ConstantLatency:
    def __init__(self, ms: float = DEFAULT_LATENCY_MS) -> None:
        if not (ms >= 0 and ms <= 60_000):
            raise ValueError("latency must be from 0 to 60000 ms")
        self.ms = float(ms)
        self.us = int(round(ms * 1000))
        self.name = f"constant:{ms:g}ms"

    def entry_us(self, now_us: int) -> int:
        """When something sent at ``now_us`` reaches the book."""
        return now_us + self.us
