"""Random numbers keyed by time, not by draw order.

Every random number a market's exogenous path uses is addressed by (server seed, symbol, stream,
chunk of simulated time), through numpy's counter-based Philox generator: the key comes from the seed,
the symbol and the stream's name; the counter from the chunk (a minute, a half-hour period or a week of
periods, as the stream says). So the numbers of chunk ``k`` are the same whether they are drawn first or
last, once or many times, alone or with a thousand other chunks: reading a market, stepping the clock
differently or what happens elsewhere cannot change them.

``KeyedStream(key).generator(k)`` is a full numpy ``Generator`` for chunk ``k`` alone (the chunk index
sits in the counter's second word, so chunks never overlap). The stream keeps one bit generator and
re-points it at chunk ``k``, about seven times cheaper than building a new one: so draw what a chunk
needs before asking the same stream for another chunk.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream_key(seed: int, symbol: str, stream: str) -> int:
    """A stable 128-bit Philox key for one of a market's streams (Python's hash() is salted per run)."""
    digest = hashlib.sha256(f"pf-mock:{seed}:{symbol.upper()}:{stream}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def chunk_generator(key: int, chunk: int) -> np.random.Generator:
    """A fresh generator for chunk ``chunk`` of stream ``key`` (the same numbers as ``KeyedStream``)."""
    return np.random.Generator(np.random.Philox(key=key, counter=chunk << 64))


class KeyedStream:
    """One stream's chunk generators, through a single re-pointed bit generator."""

    __slots__ = ("_bits", "_gen", "_state", "_counter")

    def __init__(self, key: int):
        self._bits = np.random.Philox(key=key)
        self._gen = np.random.Generator(self._bits)
        # The buffer emptied and no half-used 32-bit word: exactly a fresh Philox at the counter. The
        # state is built once and only its counter's chunk word changed (setting it copies the values).
        self._counter = np.zeros(4, dtype=np.uint64)
        self._state = {"bit_generator": "Philox",
                       "state": {"counter": self._counter, "key": self._bits.state["state"]["key"]},
                       "buffer": np.zeros(4, dtype=np.uint64), "buffer_pos": 4, "has_uint32": 0, "uinteger": 0}

    def generator(self, chunk: int) -> np.random.Generator:
        """The stream's generator, set to the start of chunk ``chunk`` (valid until the next call)."""
        self._counter[1] = chunk
        self._bits.state = self._state
        return self._gen
