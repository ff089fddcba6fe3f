"""The ``--replay`` options of ``pf-mock serve`` and ``pf-mock simulate``, in a module of their own: the
command line declares them for every run, ``--help`` and ``--version`` included, and this imports nothing
of weight (reading the recordings and building their markets is ``setup.py``'s, loaded when a run uses them).
"""

from __future__ import annotations

import argparse
import math

from ..bounds import MAX_LATENCY_MS
from .latency import DEFAULT_LATENCY_MS

DEFAULT_QUEUE = "risk_averse"


def _latency_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and 0 <= value <= MAX_LATENCY_MS):
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_LATENCY_MS:g} ms")
    return value


def add_replay_options(parser) -> None:
    """``--replay FILE`` (repeatable) and its models, for ``pf-mock serve`` and ``pf-mock simulate``."""
    parser.add_argument("--replay", action="append", default=[], metavar="FILE",
                        help="serve a recorded market (hftbacktest's raw Binance futures or Hyperliquid capture, "
                             "or Tardis-style CSV; gzip or plain) as <BASE>-PERP instead of the synthetic one; "
                             "repeatable, one instrument per file (see docs/replay.md)")
    parser.add_argument("--replay-queue", default=DEFAULT_QUEUE, metavar="MODEL",
                        help="replay: where an agent's order stands in the recorded queue: risk_averse (only "
                             "trades advance it) or power:N (decreases split by a power law; default: risk_averse)")
    parser.add_argument("--replay-latency-ms", type=_latency_ms, default=DEFAULT_LATENCY_MS, metavar="MS",
                        help=f"replay: order-entry latency of limit orders and cancels (default: {DEFAULT_LATENCY_MS:g})")
