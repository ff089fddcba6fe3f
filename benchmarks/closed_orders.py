"""What filing closed orders costs: the seed client's auto-refreshing quote (5 bps wide, $100 a side,
refreshed every 5 s, so two orders leave the book every 5 simulated seconds) run for a stretch of
simulated time twice in this process, on the exchange as it is and on one that files nothing (an
exchange that drops the markets' closed-order reports before booking them), interleaved, the median
of each counting. Then the cost of filing alone (``booking.settle`` of 100,000 reports, so that a
cost far under the runs' noise still shows), and one agent's store when full. Rerun with
``python benchmarks/closed_orders.py`` (``--minutes``, ``--rounds``; ``--quick``: 1 minute, 1 round, for
the test suite). Nothing here asserts a figure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_mock import booking  # noqa: E402
from pf_mock.clock import ManualClock  # noqa: E402
from pf_mock.closed import CLOSED_KEPT, ClosedOrder, ClosedOrders  # noqa: E402
from pf_mock.exchange import Exchange, ExchangeConfig  # noqa: E402
from pf_mock.market import OrderClosed  # noqa: E402
from pf_mock.messages import QuoteRequest  # noqa: E402

SYMBOL = "BTC-PERP"
KEY = "pf_test_bench_closed_1"


class FilesNothing(Exchange):
    """Books the markets' fills but drops their closed-order reports."""

    def _start(self) -> None:
        super()._start()
        settle = self.sessions.settle

        def fills_only(market) -> None:
            market.news = [item for item in market.news if type(item) is not OrderClosed]
            settle(market)

        self.sessions.settle = fills_only


def run(kind: type[Exchange], minutes: float) -> tuple[float, int]:
    ex = kind(ExchangeConfig(seed=1, latency_ms=0.0), ManualClock())
    me = ex.authenticate(KEY)
    mid = ex.market(SYMBOL).mid
    ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * (1 - 2.5e-4), bid_size=100.0, ask_price=mid * (1 + 2.5e-4),
                              ask_size=100.0, auto_refresh=True, refresh_interval_seconds=5.0))
    began = time.perf_counter()
    ex.advance(minutes * 60)
    return time.perf_counter() - began, len(me.closed_orders)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=20.0, help="simulated minutes per run (default 20)")
    ap.add_argument("--rounds", type=int, default=5, help="runs of each, interleaved; the median counts")
    ap.add_argument("--quick", action="store_true", help="1 simulated minute, 1 round (a smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.minutes, args.rounds = 1.0, 1
    base, filed, closed = [], [], 0
    run(Exchange, args.minutes)         # warm up: imports, and the market path's caches
    for i in range(args.rounds):
        for kind in ((FilesNothing, Exchange) if i % 2 == 0 else (Exchange, FilesNothing)):
            wall, n = run(kind, args.minutes)
            if kind is Exchange:
                filed.append(wall)
                closed = n
            else:
                base.append(wall)
    b, f = statistics.median(base), statistics.median(filed)
    print(f"pf-mock closed orders: an auto-refreshing agent, {args.minutes:g} simulated minutes, median of "
          f"{args.rounds} interleaved runs (a shared machine's noise is often larger than the difference)")
    print(f"  filing nothing (baseline)  {b:8.3f} s")
    print(f"  filing every closed order  {f:8.3f} s   ratio {f / b:.3f}   ({closed} closed orders)")
    ex = Exchange(ExchangeConfig(seed=1, latency_ms=0.0), ManualClock())
    me, market = ex.authenticate(KEY), ex.market(SYMBOL)
    reports = [OrderClosed(i + 1, me.agent_id, i % 2 == 0, 7_000_000, 141, 141, "GTC", 1.0, 2.0, "cancelled",
                           "refresh") for i in range(100_000)]
    market.news = reports
    began = time.perf_counter()
    booking.settle(ex.agents, market, ex.config.fees)
    each = (time.perf_counter() - began) / len(reports)
    refresh_s = f / (closed / 2)        # each refresh closes the two orders it replaces
    print(f"  filing alone: {each * 1e6:.1f} us a closed order (booking.settle, {len(reports):,} of them); "
          f"two of them are {2 * each / refresh_s:.2%} of a refresh's share of the run ({refresh_s * 1e3:.2f} ms)")
    tracemalloc.start()
    store = ClosedOrders()
    sample = ClosedOrder("ord_0123456789ab", SYMBOL, True, 70_000.0, 0.00141, 0.00141, 98.7, "GTC", 1.0, 2.0,
                         "cancelled", "refresh")
    for _ in range(CLOSED_KEPT * 3):
        store.append(sample)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"  one agent's store after {CLOSED_KEPT * 3:,} closed orders: {len(store.ids):,} kept, "
          f"{size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
