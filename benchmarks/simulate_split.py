"""Where a ``pf-mock simulate`` run spends its CPU: the market model against everything else.

A statistical profiler (a CPU-time timer, ``ITIMER_PROF``, samples the main thread's stack every
millisecond) so that each sample lands in exactly one bucket, by the first rule that matches its stack:

- ``analytics``: the per-fill / per-event figures (``pf_mock/analytics.py``);
- ``model``: the market model (``liquidity``, ``model``, ``streams``, or ``market.py``'s catching-up of
  the exogenous path: ``_materialize``, ``_step``, ``step_until``, ``advance_to``, ``_recentre``,
  ``_recent_stretch``), with whatever it calls (the house liquidity's orders in the book are model work);
- ``core``: the rest of the exchange (the book, orders, sessions and guardrails, ledger, PnL);
- ``transport``: the typed client, the direct transport, the route handlers, asyncio and pydantic;
- ``maker``: the maker's own code (``clients/``);
- ``simulate``: the runner's sampling, the report, start-up and imports.

cProfile's cumulative times overlap (a request that makes the market catch up counts under both);
this split does not. Run it on an idle machine: samples are CPU time, so load slows them, it does not
move them between buckets.

    .venv/bin/python benchmarks/simulate_split.py --duration 1h
    .venv/bin/python benchmarks/simulate_split.py --duration 1d
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import signal
import sys
import time

sys.path.insert(0, os.getcwd())

from pf_mock.simulate.cli import duration  # noqa: E402
from pf_mock.simulate.runner import SimConfig, run_simulation  # noqa: E402

MODEL_FILES = ("pf_mock/liquidity.py", "pf_mock/model.py", "pf_mock/streams.py")
MODEL_MARKET_FUNCS = {"_materialize", "_step", "step_until", "advance_to", "_recentre", "_recent_stretch",
                      "_adopt_recent_stretch", "_go_live", "mark_units", "fair_at", "fair_samples"}
SHARED = ("pf_mock/book.py", "pf_mock/grid.py", "pf_mock/ids.py")
CORE_FILES = ("pf_mock/orders.py", "pf_mock/sessions.py", "pf_mock/ledger.py", "pf_mock/exchange.py",
              "pf_mock/market.py", "pf_mock/agents.py", "pf_mock/views.py", "pf_mock/clock.py",
              "pf_mock/leaderboard.py")
TRANSPORT_MARKS = ("pf_mock/client/", "pf_mock/api/", "/asyncio/", "pydantic", "fastapi", "starlette", "httpx",
                   "/json/", "/typing.py", "/inspect.py", "/enum.py")


def classify(filename: str, name: str) -> str | None:
    if filename.endswith(SHARED):
        return None                 # the book and the grid: whoever called them
    if filename.endswith(MODEL_FILES) or (filename.endswith("pf_mock/market.py") and name in MODEL_MARKET_FUNCS):
        return "model"
    if filename.endswith("pf_mock/analytics.py"):
        return "analytics"
    if filename.endswith(CORE_FILES):
        return "core"
    if any(mark in filename for mark in TRANSPORT_MARKS):
        return "transport"
    if "/clients/" in filename:
        return "maker"
    if "pf_mock/simulate/" in filename:
        return "simulate"
    return None


def bucket(frame) -> tuple[str, str]:
    """The innermost frame with an owner decides (the book and the grid count for their caller);
    with it, the innermost project function, for ``--detail``."""
    where = None
    while frame is not None:
        code = frame.f_code
        filename = code.co_filename.replace(os.sep, "/")
        if where is None and ("pf_mock/" in filename or "/clients/" in filename):
            where = f"{filename.rsplit('/', 1)[-1]}:{code.co_name}"
        owner = classify(filename, code.co_name)
        if owner is not None:
            return owner, where or f"{filename.rsplit('/', 1)[-1]}:{code.co_name}"
        frame = frame.f_back
    return "other", where or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maker", default="clients.inventory_mm")
    parser.add_argument("--duration", type=duration, default=3600.0)
    parser.add_argument("--interval", type=duration, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--period-ms", type=float, default=1.0)
    parser.add_argument("--detail", type=int, default=0, metavar="N", help="the N busiest functions of each bucket")
    args = parser.parse_args()
    counts: collections.Counter[str] = collections.Counter()
    where: collections.Counter[tuple[str, str]] = collections.Counter()

    def on_tick(signum, frame) -> None:
        owner, function = bucket(frame)
        counts[owner] += 1
        where[owner, function] += 1

    signal.signal(signal.SIGPROF, on_tick)
    period = args.period_ms / 1000
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    signal.setitimer(signal.ITIMER_PROF, period, period)
    try:
        result = run_simulation(SimConfig(maker=args.maker, seed=args.seed, scenario=args.scenario,
                                          duration_s=args.duration, interval_s=args.interval))
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
    wall = time.perf_counter() - wall0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    total = sum(counts.values()) or 1
    print(f"{args.maker}, {args.duration:g} s simulated, seed {args.seed}, scenario {args.scenario or '(none)'}: "
          f"{wall:.1f} s wall, {cpu:.1f} s CPU (with the sampler), load {os.getloadavg()[0]:.2f}, "
          f"{result.report['fills']} fills")
    for name in ("model", "core", "analytics", "transport", "maker", "simulate", "other"):
        share = counts[name] / total
        print(f"  {name:<10} {100 * share:5.1f}%  ~{share * cpu:6.1f} s CPU")
        busiest = sorted(((n, f) for (o, f), n in where.items() if o == name), reverse=True)[:args.detail]
        for n, function in busiest:
            print(f"      {100 * n / total:5.1f}%  {function}")


if __name__ == "__main__":
    main()
