"""Sweeps: one parameter of the maker over a list of values, each over a list of seeds.

Every run is independent and deterministic (its own exchange, its own seed), so it does not matter
where it runs: the local default is a pool of processes, and ``engine="dask"`` hands the same runs to
a Dask distributed cluster (an existing scheduler's address, or a ``LocalCluster`` of ``workers``
processes). The results are gathered and sorted by (value, seed), so both give the same table, byte
for byte.

Why Dask and not Ray: Dask distributed is pure Python and small to install, its ``LocalCluster``
starts in a couple of seconds (cheap enough for the test suite on a 2-core machine), and
``Client.map``/``gather`` is exactly the shape of a parameter grid. Ray brings a native runtime (its
own object store and per-node daemons), heavier to install and slower to start, for features a grid
of independent runs does not use.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from typing import Any, Callable

from .runner import SimConfig, run_simulation


def run_one(config: SimConfig) -> dict:
    """One run's report (what a worker sends back): the figures, without the plot samples."""
    return run_simulation(config).report


def grid(base: SimConfig, param: str, values: list[Any], seeds: list[int]) -> list[SimConfig]:
    return [replace(base, seed=seed, params={**base.params, param: value}) for value in values for seed in seeds]


def run_sweep(base: SimConfig, param: str, values: list[Any], seeds: list[int], *, workers: int | None = None,
              engine: str = "local", scheduler: str | None = None,
              progress: Callable[[int, int], None] | None = None) -> list[tuple[Any, int, dict]]:
    """``[(value, seed, report)]`` sorted by value (in the order given) then seed."""
    configs = grid(base, param, values, seeds)
    workers = workers or os.cpu_count() or 1
    if engine == "local":
        reports = _local(configs, workers, progress)
    elif engine == "dask":
        reports = _dask(configs, workers, scheduler, progress)
    else:
        raise ValueError(f"unknown engine {engine!r} (local or dask)")
    order = {v: i for i, v in enumerate(values)}
    rows = [(c.params[param], c.seed, r) for c, r in zip(configs, reports)]
    return sorted(rows, key=lambda row: (order[row[0]], row[1]))


def _local(configs: list[SimConfig], workers: int, progress) -> list[dict]:
    total = len(configs)
    if workers <= 1:
        out = []
        for i, c in enumerate(configs):
            out.append(run_one(c))
            if progress:
                progress(i + 1, total)
        return out
    results: list[dict | None] = [None] * total
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(run_one, c): i for i, c in enumerate(configs)}
        for done, future in enumerate(as_completed(futures), 1):
            results[futures[future]] = future.result()
            if progress:
                progress(done, total)
    return results  # type: ignore[return-value]


def _dask(configs: list[SimConfig], workers: int, scheduler: str | None, progress) -> list[dict]:
    try:
        from distributed import Client, LocalCluster, as_completed as dask_completed
    except ImportError:
        raise SystemExit("--engine dask needs Dask distributed: pip install 'pf-mock[distributed]'") from None
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(run_one, configs, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[dict | None] = [None] * len(configs)
        for done, future in enumerate(dask_completed(futures), 1):
            results[index[future.key]] = future.result()
            if progress:
                progress(done, len(configs))
        return results  # type: ignore[return-value]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
