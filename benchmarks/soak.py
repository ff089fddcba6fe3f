"""Soak: how much memory one auto-refreshing agent costs over a simulated month; rerun with
``python benchmarks/soak.py`` (30 simulated days, memory every simulated day) or ``--quick`` (half a
simulated hour, memory every quarter: a smoke run).

The exchange core on a manual clock, in this process (no HTTP: the server's own memory is the same
objects). One agent quotes BTC-PERP as the seed page does — 5 bps wide, $100 a side — with
``auto_refresh`` every 5 s, so the server cancels and reposts its orders 17,280 times a simulated day
and it trades all month. Once a simulated hour the agent also reads what a client reads (its PnL, the
book, the trades and candles, the market list), so the markets only read are in the run too. The clock
is advanced one report interval at a time; after each, with garbage collected, the process's resident
memory (Linux /proc) is printed with:

- ``fills``: the agent's fills, kept without limit by design, in columns (``fill MB``: their bytes,
  exact, from the columns' buffers);
- ``rest MB``: resident memory less the fills' bytes — what a flat curve keeps flat;
- ``objects``: the Python objects the garbage collector tracks (containers), a count that grows if
  anything keeps per-event objects;
- ``kept``: the longest of the per-market retained structures (trades, candles, period starts, plans,
  blocks, pending markouts, scheduled events), the one to look at if ``rest`` climbs.

``--tracemalloc`` adds tracemalloc's count of live Python allocations (slows the run several times).
At the end: the growth per simulated day of ``rest`` over the second half of the run (after the
start-up allocations, and once the bounded buffers — 5,000 trades, 3 days of candles — are full), and
the bound this run supports: base + bytes per fill. Nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import rss_mb  # noqa: E402  (one reader of /proc's resident memory for both benchmarks)

from pf_mock.exchange import QuoteRequest  # noqa: E402
from pf_mock.testing import MockExchange  # noqa: E402

SYMBOL = "BTC-PERP"
HALF_SPREAD = 2.5e-4
QUOTE_USD = 100.0


def fill_bytes(agent) -> int:
    """The bytes of the agent's fill columns (and its cross-market order), from the arrays' buffers."""
    total = 0
    for ledger in agent.ledgers.values():
        columns = ledger.fills
        arrays = [columns.fill_ids, columns.order_ids, columns.flags, columns.price, columns.size,
                  columns.notional, columns.fee, columns.mid, columns.time, columns.edge,
                  *columns.totals.values(), ledger._times]
        total += sum(a.buffer_info()[1] * a.itemsize for a in arrays)
    order = agent.fill_order
    total += sum(a.buffer_info()[1] * a.itemsize for a in (order._ledger_at, order._row_at))
    return total


def kept(ex) -> dict[str, int]:
    """The longest of each per-market retained structure, over every market made so far."""
    sizes: dict[str, int] = {}

    def see(name: str, n: int) -> None:
        sizes[name] = max(sizes.get(name, 0), n)

    for market in ex.markets.values():
        fair = market.fair
        see("trades", len(market.trades))
        see("candles", len(market.candles))
        see("period_starts", len(fair._pstarts))      # 8 bytes a simulated half hour
        see("plans", len(fair._plans))
        see("blocks", len(fair._blocks))
        see("schedule", len(market._schedule))
        see("book_orders", len(market.book.orders))
    for mstate in ex.analytics._markets.values():
        see("markouts_pending", sum(len(q) for q in mstate.pending))
    return sizes


def read_like_a_client(ex, me) -> None:
    """What a dashboard asks once in a while: the agent's PnL and fills page, the market's book, trades
    and candles, and the list of markets (which makes a market object of each listed one)."""
    ex.pnl_view(me)
    ex.fill_views(me, limit=100)
    ex.orderbook(SYMBOL)
    ex.trades(SYMBOL, 500)
    ex.candles(SYMBOL, "1h", 100)
    ex.list_markets(limit=20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="half a simulated hour, memory every quarter (a smoke run)")
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--report-hours", type=float, default=24.0, help="simulated hours between reports")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tracemalloc", action="store_true", help="also count live Python allocations")
    args = ap.parse_args()
    total_h = 0.5 if args.quick else args.days * 24
    step_h = 0.25 if args.quick else args.report_hours
    if args.tracemalloc:
        tracemalloc.start()

    ex = MockExchange(seed=args.seed)
    me = ex.register()
    mid = ex.mid(SYMBOL)
    ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * (1 - HALF_SPREAD), bid_size=QUOTE_USD,
                              ask_price=mid * (1 + HALF_SPREAD), ask_size=QUOTE_USD, auto_refresh=True,
                              refresh_interval_seconds=5.0))
    read_like_a_client(ex, me)
    gc.collect()
    print(f"pf-mock soak: one auto-refreshing agent on {SYMBOL}, {total_h:g} simulated hours, memory every "
          f"{step_h:g} h, Python {platform.python_version()}")
    print(f"{'sim h':>6} {'wall s':>7} {'RSS MB':>7} {'fills':>8} {'fill MB':>7} {'rest MB':>7} {'objects':>8} "
          f"{'traced MB':>9}  kept (longest per market)")
    points: list[tuple[float, float, float, int]] = []     # (hours, rss, rest, fills)
    began_all = time.perf_counter()

    def report(hours: float, wall: float) -> None:
        gc.collect()
        rss = rss_mb()
        fb = fill_bytes(me) / 2 ** 20
        fills = sum(len(ledger.fills) for ledger in me.ledgers.values())
        traced = tracemalloc.get_traced_memory()[0] / 2 ** 20 if args.tracemalloc else None
        rest = rss - fb if rss is not None else float("nan")
        sizes = " ".join(f"{k}={v}" for k, v in kept(ex).items())
        print(f"{hours:>6g} {wall:>7.1f} {rss or float('nan'):>7.1f} {fills:>8} {fb:>7.1f} {rest:>7.1f} "
              f"{len(gc.get_objects()):>8} {'' if traced is None else f'{traced:.1f}':>9}  {sizes}", flush=True)
        if rss is not None:
            points.append((hours, rss, rest, fills))

    report(0.0, 0.0)
    done_h = 0.0
    while done_h < total_h - 1e-9:
        step = min(step_h, total_h - done_h)
        began = time.perf_counter()
        hours_left = step
        while hours_left > 1e-9:                # an hour at a time, with a client's reads after each
            hour = min(1.0, hours_left)
            ex.advance(hour * 3600)
            read_like_a_client(ex, me)
            hours_left -= hour
        done_h += step
        report(done_h, time.perf_counter() - began)
    print(f"wall time: {time.perf_counter() - began_all:.0f} s")
    late = [p for p in points if p[0] >= total_h / 2] or points
    if len(late) >= 2:
        (h0, rss0, rest0, f0), (h1, rss1, rest1, f1) = late[0], late[-1]
        days = (h1 - h0) / 24
        print(f"second half ({h0:g} h to {h1:g} h): RSS {rss0:.1f} -> {rss1:.1f} MB, rest (RSS less fills) "
              f"{rest0:.1f} -> {rest1:.1f} MB: {(rest1 - rest0) / days:+.2f} MB per simulated day; "
              f"fills {(f1 - f0) / days:,.0f} per simulated day")
        per_fill = fill_bytes(me) / max(1, points[-1][3])
        base = max(p[2] for p in points)
        print(f"bound this run supports: {base:.0f} MB + {per_fill:.0f} B per fill "
              f"(peak rest {base:.1f} MB; peak RSS {max(p[1] for p in points):.1f} MB)")
    else:
        print("too few points for a slope")


if __name__ == "__main__":
    main()
