"""``pf-mock simulate``: its options, and what it prints and writes."""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import replace


UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """``3600``, ``90s``, ``30m``, ``1h``, ``1d``, ``1h30m``: seconds."""
    text = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 3600, 90s, 30m, 1h or 1d")
        seconds = sum(float(n) * UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise argparse.ArgumentTypeError("a duration must be positive")
    return seconds


def value(text: str):
    """A parameter's value: a number when it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def param(text: str) -> tuple[str, object]:
    name, sep, raw = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r} is not name=value")
    return name, value(raw)


def sweep_spec(text: str) -> tuple[str, list]:
    name, sep, raw = text.partition("=")
    values = [value(v) for v in raw.split(",") if v.strip()]
    if not sep or not name.isidentifier() or not values:
        raise argparse.ArgumentTypeError(f"{text!r} is not name=v1,v2,...")
    return name, values


def seeds(text: str) -> list[int]:
    """``0-9`` or ``0,3,7`` (or a mix: ``0-4,9``)."""
    found: list[int] = []
    try:
        for part in text.split(","):
            lo, dash, hi = part.partition("-")
            found.extend(range(int(lo), int(hi) + 1) if dash else [int(lo)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed list like 0-9 or 0,3,7") from None
    if not found:
        raise argparse.ArgumentTypeError("no seeds")
    return list(dict.fromkeys(found))


def add_simulate(sub) -> argparse.ArgumentParser:
    s = sub.add_parser("simulate", help="run a market maker against an in-process exchange in simulated time",
                       description="Run a maker (a module, or module:Class) against an in-process exchange on the "
                                   "manual clock, then print its report (and write it with --report DIR).")
    s.add_argument("--maker", default="clients.simple_mm", metavar="MODULE[:CLASS]",
                   help="the maker to run (default: the seed's clients.simple_mm; also clients.inventory_mm)")
    s.add_argument("--symbol", default=None, help="the market (default: BTC-PERP, or the first --replay's)")
    s.add_argument("--scenario", default=None, metavar="NAME|PATH", help="a scenario to load at the start")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--duration", type=duration, default=None,
                   help="simulated time: 3600, 30m, 1h, 1d (default 1h; with --replay, to the recording's end)")
    s.add_argument("--interval", type=duration, default=5.0, help="seconds between the maker's rounds (default 5)")
    s.add_argument("--param", type=param, action="append", default=[], metavar="NAME=VALUE",
                   help="a maker parameter (repeatable), e.g. --param spread_bps=10")
    s.add_argument("--sweep", type=sweep_spec, default=None, metavar="NAME=V1,V2,...",
                   help="run every value of one maker parameter (with --seeds) and report one row per value")
    s.add_argument("--seeds", type=seeds, default=None, metavar="0-9", help="the seeds of a sweep (default: --seed)")
    s.add_argument("--workers", type=int, default=None, help="parallel runs in a sweep (default: the CPU count)")
    s.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="where a sweep runs: local processes, or a Dask distributed cluster")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="--engine dask: an existing scheduler (default: a local cluster of --workers processes)")
    s.add_argument("--report", default=None, metavar="DIR", help="write an HTML page with plots (and JSON) there")
    s.add_argument("--transport", choices=("auto", "http"), default="auto",
                   help="auto: the maker's requests go to the API's handlers directly; http: through the whole "
                        "HTTP app (middleware included)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    from ..replay.setup import add_replay_options
    add_replay_options(s)
    s.set_defaults(run=run_simulate)
    return s


def _bar(fraction: float, label: str) -> None:
    width = 30
    filled = int(round(fraction * width))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * fraction:5.1f}% {label}")
    if fraction >= 1:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _refuse(message: str) -> int:
    """A maker or scenario that cannot load: one line, exit code 2, as for any other mistake."""
    print(f"pf-mock: error: {' '.join(message.split())}", file=sys.stderr, flush=True)
    return 2


def run_simulate(args: argparse.Namespace) -> int:
    from ..scenarios import ScenarioError
    from .report import render, render_sweep, summarize_sweep
    from .runner import SimConfig, load_maker, run_simulation

    try:
        load_maker(args.maker)
        if args.scenario:
            from ..scenarios import load_scenario
            load_scenario(args.scenario)
    except ValueError as exc:
        return _refuse(str(exc))
    except ScenarioError as exc:
        return _refuse(f"cannot load the scenario: {exc.message}")
    symbol, duration_s = args.symbol or "BTC-PERP", args.duration or 3600.0
    if args.replay:
        from ..replay.formats import RecordingError
        from ..replay.setup import load_sources, replay_start
        try:
            sources = load_sources(args.replay, queue=args.replay_queue, latency_ms=args.replay_latency_ms)
        except RecordingError as exc:
            return _refuse(f"--replay: {exc}")
        first = next(iter(sources.values()))
        symbol = args.symbol or first.symbol
        if args.duration is None:       # to the end of the recording the maker trades on
            chosen = sources.get(symbol, first)
            duration_s = max(chosen.end_s - replay_start(sources), 1.0)
    config = SimConfig(maker=args.maker, symbol=symbol, scenario=args.scenario, seed=args.seed,
                       duration_s=duration_s, interval_s=args.interval, params=dict(args.param),
                       transport=args.transport, replay=tuple(args.replay), replay_queue=args.replay_queue,
                       replay_latency_ms=args.replay_latency_ms)
    started = time.perf_counter()
    if args.sweep is None:
        progress = None if args.quiet else (lambda f: _bar(f, "simulated"))
        result = run_simulation(config, progress=progress)
        print(render(result.report))
        if args.report:
            from .plots import write_report
            page = write_report(result, args.report)
            print(f"\nReport: {page}")
        print(f"({time.perf_counter() - started:.1f} s of wall time)", file=sys.stderr)
        return 0
    from .sweep import run_sweep
    name, values = args.sweep
    seed_list = args.seeds or [args.seed]
    progress = None if args.quiet else (lambda done, total: _bar(done / total, f"{done}/{total} runs"))
    rows = run_sweep(replace(config), name, values, seed_list, workers=args.workers, engine=args.engine,
                     scheduler=args.scheduler, progress=progress)
    summary = summarize_sweep(name, rows)
    header = (f"pf-mock simulate --sweep: {args.maker} on {symbol}, {name} over {len(values)} values x "
              f"{len(seed_list)} seeds, scenario {args.scenario or '(none)'}, {duration_s:g} s each")
    print(render_sweep(summary, header))
    if args.report:
        from .plots import write_sweep_report
        page = write_sweep_report(summary, rows, header, args.report)
        print(f"\nReport: {page}")
    print(f"({time.perf_counter() - started:.1f} s of wall time)", file=sys.stderr)
    return 0
