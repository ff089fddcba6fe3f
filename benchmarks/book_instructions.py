"""One replay of ``engine.py``'s mixed book workload, to be counted in machine instructions (which, unlike
time, other jobs on the machine do not change):

    export OPENBLAS_NUM_THREADS=1 PYTHONHASHSEED=0
    valgrind --tool=cachegrind --cache-sim=no .venv/bin/python benchmarks/book_instructions.py book
    valgrind --tool=cachegrind --cache-sim=no .venv/bin/python benchmarks/book_instructions.py baseline
    valgrind --tool=cachegrind --cache-sim=no .venv/bin/python benchmarks/book_instructions.py none

(numpy is imported on the way; with more than one BLAS thread its idle threads add a count that changes
from run to run by millions of instructions, so one thread makes the counts repeat.)

``none`` only builds the workload (and imports what the others import): subtract its count from the
other two to get each replay's, and divide for the ratio. ``--ops`` sets the workload's size (100,000).
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location("engine_bench", Path(__file__).resolve().parent / "engine.py")
engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("engine", choices=("book", "baseline", "none"))
    parser.add_argument("--ops", type=int, default=100_000)
    args = parser.parse_args()
    ops = engine.make_workload(args.ops, 1, 1000).ops
    if args.engine == "book":
        engine.replay_pf_mock(ops)
    elif args.engine == "baseline":
        engine.replay_baseline(ops)


if __name__ == "__main__":
    main()
