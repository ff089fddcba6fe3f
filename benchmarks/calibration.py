"""Calibration: how often do small passive quotes near the mid fill on BTC-PERP, and what follows?

For each distance d (in bps of the mid), a fresh market (same seed, so the same price path and taker
flow for every distance) is run event by event for ``minutes``. Every 5 simulated seconds the previous
pair of quotes is cancelled and a new pair is posted: a GTC bid at ``price_down(mid * (1 - d))`` and a
GTC ask at ``price_up(mid * (1 + d))``, each worth $100. Measured per side:

- fill share: filled notional / posted notional;
- post-fill move: the mid 10 s after each fill against the mid at the fill, in bps, signed from the
  maker's point of view (positive = the market went the maker's way, negative = adverse selection),
  averaged over fills.

Run: ``python benchmarks/calibration.py --seed 0 [--minutes 60]``.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pf_mock.book import GTC  # noqa: E402
from pf_mock.catalog import load_catalog  # noqa: E402
from pf_mock.market import AgentFill, Market  # noqa: E402

SYMBOL = "BTC-PERP"
START = 1767225600.0            # 2026-01-01T00:00:00Z
REQUOTE_S = 5.0                 # cancel and re-post every 5 simulated seconds
QUOTE_USD = 100.0               # each quote's notional
MOVE_HORIZON_S = 10.0           # the post-fill move is measured this long after the fill
DISTANCES_BPS = (2.5, 5.0, 10.0, 25.0)
OWNER = "calibration"


class _Recorder:
    """A market observer that allows every fill and keeps the agent's maker fills."""

    def __init__(self) -> None:
        self.fills: list[AgentFill] = []

    def allow_fill(self, market, maker, lots: int) -> int:
        return lots

    def on_fill(self, market, fill: AgentFill) -> None:
        if fill.maker and fill.owner == OWNER:
            self.fills.append(fill)

    def after_event(self, market) -> None:
        pass


def measure(seed: int, minutes: float, distance_bps: float, symbol: str = SYMBOL) -> dict:
    """Quote both sides ``distance_bps`` from the mid for ``minutes``; return the side statistics."""
    spec = load_catalog().resolve(symbol)
    recorder = _Recorder()
    market = Market(spec, seed, START, observer=recorder)
    market.watchers = 1
    grid = market.grid
    end = START + minutes * 60.0
    posted = {True: 0.0, False: 0.0}
    live: list[int] = []
    t = START
    while t < end - 1e-9:
        market.advance_to(t)
        for order_id in live:
            market.cancel(order_id)
        live = []
        mid = market.mid
        for is_buy in (True, False):
            if is_buy:
                price = grid.price_down(mid * (1.0 - distance_bps / 1e4))
            else:
                price = grid.price_up(mid * (1.0 + distance_bps / 1e4))
            lots = grid.lots_for_usd(QUOTE_USD, price)
            if lots <= 0:
                continue
            order_id, result = market.place(OWNER, is_buy, price, lots, GTC)
            posted[is_buy] += grid.notional(price, lots)
            if result.resting is not None:
                live.append(order_id)
        t += REQUOTE_S
    market.advance_to(end)
    for order_id in live:
        market.cancel(order_id)
    market.advance_to(end + MOVE_HORIZON_S)     # so every fill has its mid 10 s later

    filled = {True: 0.0, False: 0.0}
    moves = {True: [], False: []}
    for fill in recorder.fills:
        filled[fill.is_buy] += grid.notional(fill.price, fill.lots)
        later = market.mid_at(fill.time + MOVE_HORIZON_S)
        move = (later - fill.mid) / fill.mid * 1e4
        moves[fill.is_buy].append(move if fill.is_buy else -move)
    all_moves = moves[True] + moves[False]
    bid_share = filled[True] / posted[True] if posted[True] else 0.0
    ask_share = filled[False] / posted[False] if posted[False] else 0.0
    return {
        "distance_bps": distance_bps,
        "bid_fill_share": bid_share,
        "ask_fill_share": ask_share,
        "fill_share": (bid_share + ask_share) / 2.0,
        "bid_move_bps": sum(moves[True]) / len(moves[True]) if moves[True] else 0.0,
        "ask_move_bps": sum(moves[False]) / len(moves[False]) if moves[False] else 0.0,
        "move_bps": sum(all_moves) / len(all_moves) if all_moves else 0.0,
        "fills": len(all_moves),
        "posted_usd": posted[True] + posted[False],
        "filled_usd": filled[True] + filled[False],
    }


def run(seed: int = 0, minutes: float = 60.0, distances=DISTANCES_BPS) -> list[dict]:
    """One row per distance, each from a fresh market with the same seed."""
    return [measure(seed, minutes, d) for d in distances]


def format_table(rows: list[dict]) -> str:
    lines = [f"{'distance':>9} {'bid fill %':>10} {'ask fill %':>10} {'avg fill %':>10} "
             f"{'move bps (10s)':>14} {'fills':>6}"]
    for r in rows:
        lines.append(f"{r['distance_bps']:>7.1f}bp {100 * r['bid_fill_share']:>10.1f} "
                     f"{100 * r['ask_fill_share']:>10.1f} {100 * r['fill_share']:>10.1f} "
                     f"{r['move_bps']:>14.3f} {r['fills']:>6d}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args(argv)
    rows = run(args.seed, args.minutes)
    print(f"{SYMBOL}, seed {args.seed}, {args.minutes:g} min, ${QUOTE_USD:g} quotes re-posted every "
          f"{REQUOTE_S:g} s")
    print(format_table(rows))


if __name__ == "__main__":
    main()
