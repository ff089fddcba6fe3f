"""Does a ``pf-mock simulate --sweep`` scale with its workers? The same grid with 1 worker (the
baseline) and then with N, in this process: wall time, CPU time (this process and its worker
processes), the speedup and the parallel efficiency, and a check that every run's report is the same.

On a shared machine the wall-clock speedup is only as good as the idle cores: read it beside the load
average printed with it, and beside the CPU ratio (which load does not move much; a ratio near 1 means
the workers did no more work in total than one process did alone).

    .venv/bin/python benchmarks/sweep_scaling.py --sweep spread_bps=2.5,5,10,20 --seeds 0-9 --duration 1h
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.getcwd())

from pf_mock.simulate.cli import duration, seeds, sweep_spec  # noqa: E402
from pf_mock.simulate.runner import SimConfig  # noqa: E402
from pf_mock.simulate.sweep import run_sweep  # noqa: E402


def cpu_seconds() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def timed(base: SimConfig, name: str, values: list, seed_list: list[int], workers: int) -> tuple[list, dict]:
    load = os.getloadavg()[0]
    (me0, kids0), wall0 = cpu_seconds(), time.perf_counter()
    rows = run_sweep(base, name, values, seed_list, workers=workers)
    (me1, kids1), wall = cpu_seconds(), time.perf_counter() - wall0
    return rows, {"workers": workers, "wall": wall, "cpu_parent": me1 - me0, "cpu_workers": kids1 - kids0,
                  "load_before": load, "load_after": os.getloadavg()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--maker", default="clients.simple_mm")
    parser.add_argument("--sweep", type=sweep_spec, default=("spread_bps", [2.5, 5, 10, 20]))
    parser.add_argument("--seeds", type=seeds, default=list(range(10)))
    parser.add_argument("--duration", type=duration, default=3600.0)
    parser.add_argument("--workers", type=int, default=2, help="compared against 1")
    args = parser.parse_args()
    name, values = args.sweep
    base = SimConfig(maker=args.maker, duration_s=args.duration)
    runs = len(values) * len(args.seeds)
    print(f"{args.maker}: {name}={','.join(map(str, values))} x {len(args.seeds)} seeds = {runs} runs of "
          f"{args.duration:g} s, on {os.cpu_count()} CPUs")
    rows1, one = timed(base, name, values, args.seeds, 1)
    rowsn, many = timed(base, name, values, args.seeds, args.workers)
    for m in (one, many):
        cpu = m["cpu_parent"] + m["cpu_workers"]
        print(f"  {m['workers']} worker(s): {m['wall']:6.1f} s wall, {cpu:6.1f} s CPU (parent {m['cpu_parent']:.1f}, "
              f"workers {m['cpu_workers']:.1f}), load {m['load_before']:.2f} -> {m['load_after']:.2f}")
    speedup = one["wall"] / many["wall"]
    cpu_ratio = (many["cpu_parent"] + many["cpu_workers"]) / (one["cpu_parent"] + one["cpu_workers"])
    print(f"  speedup {speedup:.2f}x with {args.workers} workers (efficiency {100 * speedup / args.workers:.0f}%); "
          f"CPU with {args.workers} / CPU with 1 = {cpu_ratio:.2f}")
    same = json.dumps(rows1, sort_keys=True) == json.dumps(rowsn, sort_keys=True)
    print(f"  same reports: {same}")


if __name__ == "__main__":
    main()
