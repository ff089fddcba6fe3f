"""What many agents on one market cost, event by event; rerun with ``python benchmarks/crowded_market.py``
(``--quick`` for a shorter run, ``--profile N`` to print a cProfile of the N-agent guarded run instead).

The core alone, no HTTP: a ``MockExchange`` (seed 0) with N agents on BTC-PERP, each quoting $100 a side
2.5 bps either side of the mid with the server-side refresh loop every 5 simulated seconds (the seed
page's loop, run by the server), their first quotes spread over the first 5 s as independent clients'
would be. Then one simulated hour is advanced and timed (CPU time: the machine is shared). Two kinds of
session:

- plain: no guardrails (what the load run's agents quote with);
- guarded: all four guardrails set, at values a maker would choose (max_spread_bps 50,
  max_inventory_usd 5,000, auto_hedge_threshold_usd 2,000, session_stop_loss_usd 500).

Printed for 1, 10 and 50 agents: simulated seconds per CPU second, CPU microseconds per market event,
and the ratio to the baseline, run in the same process: the same market over the same hour watched
event by event with no agent in it (what the market itself costs per event).

The load run (``benchmarks/load.py``: ten markets with ten agents each at ``--speed 60``) asks for
600 simulated market-seconds per wall second; the share of one core that would take at the 10-agent
rate is printed too. It is an upper bound: BTC-PERP is the busiest of the load run's markets (about four
events a simulated second; the six smaller ones have about one), and the load run's agents re-quote
over HTTP, whose cost comes on top.

Nothing here asserts a time: the figures are for the note.
"""

from __future__ import annotations

import argparse
import cProfile
import platform
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_mock.messages import QuoteRequest  # noqa: E402
from pf_mock.testing import MockExchange  # noqa: E402

SYMBOL = "BTC-PERP"
HALF_SPREAD = 2.5e-4
QUOTE_USD = 100.0
REFRESH_S = 5.0
GUARDED = {"max_spread_bps": 50.0, "max_inventory_usd": 5_000.0, "auto_hedge_threshold_usd": 2_000.0,
           "session_stop_loss_usd": 500.0}
LOAD_MARKET_SECONDS_PER_WALL_S = 10 * 60.0     # ten markets at --speed 60
REPEATS = 3


def crowd(agents: int, guarded: bool) -> MockExchange:
    """The exchange with ``agents`` sessions quoting on one market, refresh loops running."""
    exchange = MockExchange(seed=0, latency_ms=0)
    for i in range(agents):
        agent = exchange.register(f"agent_{i:03d}")
        mid = exchange.mid(SYMBOL)
        exchange.quote(agent, QuoteRequest(SYMBOL, bid_price=mid * (1 - HALF_SPREAD), bid_size=QUOTE_USD,
                                           ask_price=mid * (1 + HALF_SPREAD), ask_size=QUOTE_USD, auto_refresh=True,
                                           refresh_interval_seconds=REFRESH_S, **(GUARDED if guarded else {})))
        exchange.advance(REFRESH_S / agents)
    return exchange


def run_crowd(agents: int, guarded: bool, seconds: float) -> tuple[float, int, int]:
    """CPU seconds to advance a crowded market ``seconds``, the events it processed and its agents' fills."""
    exchange = crowd(agents, guarded)
    market = exchange.market(SYMBOL)
    events = market.events_processed
    cpu = time.process_time()
    exchange.advance(seconds)
    cpu = time.process_time() - cpu
    fills = sum(len(a.ledgers[SYMBOL].fills) for a in exchange.agents.values() if SYMBOL in a.ledgers)
    return cpu, market.events_processed - events, fills


def run_baseline(seconds: float) -> tuple[float, int]:
    """The same market watched event by event, nobody in it."""
    exchange = MockExchange(seed=0, latency_ms=0)
    market = exchange.market(SYMBOL)
    exchange.advance(REFRESH_S)          # the crowd's start takes as long
    market.watchers = 1
    events = market.events_processed
    cpu = time.process_time()
    market.advance_to(market.now + seconds)
    return time.process_time() - cpu, market.events_processed - events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="five simulated minutes, once (a smoke run)")
    parser.add_argument("--agents", default="1,10,50", help="comma-separated crowd sizes (default 1,10,50)")
    parser.add_argument("--profile", type=int, metavar="N", help="profile the N-agent guarded run and stop")
    args = parser.parse_args(argv)
    seconds, repeats = (300.0, 1) if args.quick else (3600.0, REPEATS)
    sizes = [int(n) for n in args.agents.split(",") if n]
    if args.profile:
        profiler = cProfile.Profile()
        exchange = crowd(args.profile, guarded=True)
        profiler.enable()
        exchange.advance(seconds)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return 0
    print(f"pf-mock crowded market - {platform.python_implementation()} {platform.python_version()}: "
          f"{SYMBOL}, seed 0, {seconds:,.0f} simulated s, best CPU time of {repeats}")
    base_cpu, base_events = min(run_baseline(seconds) for _ in range(repeats))
    base_us = base_cpu / base_events * 1e6
    print(f"  baseline, watched with nobody in it: {base_events:,} events, {seconds / base_cpu:,.0f} sim-s/CPU-s, "
          f"{base_us:.1f} us/event")
    print(f"  {'agents':>6} {'sessions':>8} {'events':>7} {'fills':>6} {'sim-s/CPU-s':>12} {'us/event':>9} "
          f"{'x baseline':>10}")
    rates = {}
    for guarded in (False, True):
        for n in sizes:
            cpu, events, fills = min(run_crowd(n, guarded, seconds) for _ in range(repeats))
            rates[(n, guarded)] = seconds / cpu
            per_event = cpu / events * 1e6
            print(f"  {n:>6} {'guarded' if guarded else 'plain':>8} {events:>7,} {fills:>6,} {seconds / cpu:>12,.0f} "
                  f"{per_event:>9.1f} {per_event / base_us:>9.1f}x")
    for guarded in (False, True):
        rate = rates.get((10, guarded))
        if rate:
            print(f"  ten markets as busy as this one, 10 {'guarded' if guarded else 'plain'} agents refreshing "
                  f"in each, at --speed 60: {LOAD_MARKET_SECONDS_PER_WALL_S / rate:.0%} of one core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
