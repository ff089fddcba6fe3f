"""The two reference makers side by side: the seed's symmetric maker and the inventory-aware one, over
scenarios and seeds, in simulated time. Prints, per scenario, each maker's mean (and per-seed) time-
weighted |inventory|, worst drawdown and net PnL, and how many seeds the inventory-aware one wins.

Run: ``python benchmarks/makers.py --scenarios trending_up,flash_crash --seeds 0-9 --duration 3600``
(``--param NAME=VALUE``, repeatable, sets a parameter of the inventory-aware maker: to try a tuning).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from pf_mock.simulate.cli import param as parse_param, seeds as parse_seeds  # noqa: E402
from pf_mock.simulate.runner import SimConfig  # noqa: E402
from pf_mock.simulate.sweep import run_one  # noqa: E402

MAKERS = ("clients.simple_mm", "clients.inventory_mm")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="trending_up,flash_crash")
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(10)))
    parser.add_argument("--duration", type=float, default=3600.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--param", type=parse_param, action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of the inventory-aware maker (repeatable)")
    args = parser.parse_args(argv)
    tuned = dict(args.param)
    scenarios = [s for s in args.scenarios.split(",") if s]
    configs = [SimConfig(maker=m, scenario=sc, seed=s, duration_s=args.duration,
                         params=tuned if m == MAKERS[1] else {})
               for sc in scenarios for m in MAKERS for s in args.seeds]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        reports = list(pool.map(run_one, configs))
    got = {(c.scenario, c.maker, c.seed): r for c, r in zip(configs, reports)}
    for sc in scenarios:
        print(f"\n{sc}: seeds {args.seeds[0]}-{args.seeds[-1]}, {args.duration:g} s each")
        print(f"  {'maker':<22} {'tw |inv| USD':>14} {'worst drawdown':>15} {'net PnL':>9} {'fill share':>10}")
        for m in MAKERS:
            rs = [got[(sc, m, s)] for s in args.seeds]
            tw = statistics.fmean(r["inventory"]["time_weighted_abs_usd"] for r in rs)
            dd = statistics.fmean(r["worst_drawdown_usd"] for r in rs)
            net = statistics.fmean(r["pnl"]["net_pnl"] for r in rs)
            fill = statistics.fmean(r["fill_share"] or 0.0 for r in rs)
            print(f"  {m:<22} {tw:>14.2f} {dd:>15.2f} {net:>+9.2f} {100 * fill:>9.1f}%")
        wins_tw = sum(got[(sc, MAKERS[1], s)]["inventory"]["time_weighted_abs_usd"]
                      < got[(sc, MAKERS[0], s)]["inventory"]["time_weighted_abs_usd"] for s in args.seeds)
        wins_dd = sum(got[(sc, MAKERS[1], s)]["worst_drawdown_usd"] < got[(sc, MAKERS[0], s)]["worst_drawdown_usd"]
                      for s in args.seeds)
        print(f"  inventory-aware smaller on {wins_tw}/{len(args.seeds)} seeds (tw |inv|), "
              f"{wins_dd}/{len(args.seeds)} (drawdown)")
        print("  per seed (symmetric / inventory-aware) drawdown: " + ", ".join(
            f"{s}: {got[(sc, MAKERS[0], s)]['worst_drawdown_usd']:.1f}/{got[(sc, MAKERS[1], s)]['worst_drawdown_usd']:.1f}"
            for s in args.seeds))
    print(f"({time.perf_counter() - started:.0f} s wall, {args.workers} workers)", file=sys.stderr)


if __name__ == "__main__":
    main()
