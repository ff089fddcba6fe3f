"""Random numbers keyed by time, not by draw order.

Every random number a market's exogenous path uses is addressed by (server seed, symbol, stream,
chunk of simulated time), through numpy's counter-based Philox generator: the key comes from the seed,
the symbol and the stream's name; the counter from the chunk. So the numbers of chunk ``k`` are the
same whether they are drawn first or last, once or many times, alone or with a thousand other chunks:
reading a market, stepping the clock differently or what happens elsewhere cannot change them.

Two ways to address them:

- ``coarse_uniforms(key, first, n)``: ``COARSE_WIDTH`` uniforms per chunk for a run of chunks, in one
  vectorised call (Philox's counter ``k`` gives chunk ``k``'s numbers): what fast-forwarding a week
  of an idle market needs.
- ``chunk_generator(key, k)``: a full numpy ``Generator`` for chunk ``k`` alone (the chunk index sits
  in the counter's second word, so chunks never overlap): what event-by-event detail needs.
"""

from __future__ import annotations

import hashlib

import numpy as np

COARSE_WIDTH = 4                # uniforms per chunk in a coarse stream (one Philox block)
_UNIT = 2.0 ** -53


def stream_key(seed: int, symbol: str, stream: str) -> int:
    """A stable 128-bit Philox key for one of a market's streams (Python's hash() is salted per run)."""
    digest = hashlib.sha256(f"pf-mock:{seed}:{symbol.upper()}:{stream}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def coarse_uniforms(key: int, first: int, n: int) -> np.ndarray:
    """Uniforms in (0, 1) for chunks ``first .. first + n - 1``: an array of shape (n, COARSE_WIDTH)."""
    blocks = COARSE_WIDTH // 4
    raw = np.random.Philox(key=key, counter=first * blocks).random_raw(n * COARSE_WIDTH)
    # 53 random bits, shifted half a step off zero: never exactly 0 or 1, so logs stay finite.
    return (((raw >> np.uint64(11)).astype(np.float64) + 0.5) * _UNIT).reshape(n, COARSE_WIDTH)


def chunk_generator(key: int, chunk: int) -> np.random.Generator:
    return np.random.Generator(np.random.Philox(key=key, counter=chunk << 64))
