"""Soak: how much memory one auto-refreshing agent costs over a simulated month; rerun with
``python benchmarks/soak.py`` (30 simulated days, memory every simulated day) or ``--quick`` (2 simulated
hours, memory every hour).

The exchange core on a manual clock, in this process (no HTTP: the server's own memory is the same
objects). One agent quotes BTC-PERP as the seed page does — 5 bps wide, $100 a side — with
``auto_refresh`` every 5 s, so the server cancels and reposts its orders 17,280 times a simulated day
and it trades all month. The clock is advanced one report interval at a time; after each, with garbage
collected, the process's resident memory (Linux /proc; ``tracemalloc``'s count of live Python
allocations too with ``--tracemalloc``, which slows the run several times) is printed with the
agent's fill count and the wall time the interval took. At the end: the growth per simulated day over
the second half of the run (after the start-up allocations), which is the figure a flat curve keeps
near zero. Nothing here asserts a figure.
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

from pf_mock.exchange import QuoteRequest  # noqa: E402
from pf_mock.testing import MockExchange  # noqa: E402

SYMBOL = "BTC-PERP"
HALF_SPREAD = 2.5e-4
QUOTE_USD = 100.0


def rss_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 simulated hours, memory every hour")
    ap.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    ap.add_argument("--report-hours", type=float, default=24.0, help="simulated hours between reports")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tracemalloc", action="store_true", help="also count live Python allocations")
    args = ap.parse_args()
    total_h = 2.0 if args.quick else args.days * 24
    step_h = 1.0 if args.quick else args.report_hours
    if args.tracemalloc:
        tracemalloc.start()

    ex = MockExchange(seed=args.seed)
    me = ex.register()
    mid = ex.mid(SYMBOL)
    ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * (1 - HALF_SPREAD), bid_size=QUOTE_USD,
                              ask_price=mid * (1 + HALF_SPREAD), ask_size=QUOTE_USD, auto_refresh=True,
                              refresh_interval_seconds=5.0))
    gc.collect()
    print(f"pf-mock soak: one auto-refreshing agent on {SYMBOL}, {total_h:g} simulated hours, memory every "
          f"{step_h:g} h, Python {platform.python_version()}")
    print(f"{'sim hours':>9} {'wall s':>8} {'RSS MB':>8} {'traced MB':>9} {'fills':>8}")
    start_rss = rss_mb()
    print(f"{0:>9g} {0:>8.1f} {start_rss or float('nan'):>8.1f} {'':>9} {0:>8}")
    points: list[tuple[float, float]] = []
    done_h = 0.0
    while done_h < total_h - 1e-9:
        step = min(step_h, total_h - done_h)
        began = time.perf_counter()
        ex.advance(step * 3600)
        wall = time.perf_counter() - began
        done_h += step
        gc.collect()
        rss = rss_mb()
        traced = tracemalloc.get_traced_memory()[0] / 2 ** 20 if args.tracemalloc else None
        fills = len(ex.fills(me))
        print(f"{done_h:>9g} {wall:>8.1f} {rss or float('nan'):>8.1f} "
              f"{'' if traced is None else f'{traced:.1f}':>9} {fills:>8}", flush=True)
        if rss is not None:
            points.append((done_h, rss))
    late = [p for p in points if p[0] >= total_h / 2] or points
    if len(late) >= 2:
        (h0, m0), (h1, m1) = late[0], late[-1]
        per_day = (m1 - m0) / (h1 - h0) * 24 if h1 > h0 else 0.0
        print(f"RSS growth over the second half: {per_day:+.2f} MB per simulated day "
              f"({late[0][1]:.1f} -> {late[-1][1]:.1f} MB); peak {max(m for _, m in points):.1f} MB")
    else:
        print("RSS growth: too few points for a slope")


if __name__ == "__main__":
    main()
