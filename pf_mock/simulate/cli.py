"""``pf-mock simulate``: its options, and what it prints and writes."""

from __future__ import annotations

import argparse
import inspect
import math
import re
import sys
import time
from dataclasses import replace

from ..ranges import MAX_SEED       # as pf-mock serve: seeds are echoed in JSON, which every reader holds exactly

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# What the simulation hands every maker itself: not parameters a user sets with --param.
RUNNER_KWARGS = frozenset({"symbol", "sleep", "say", "http", "client", "api_key", "base_url"})


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


def seed(text: str) -> int:
    """A seed: a whole number from 0 to 2**53 - 1, as ``pf-mock serve --seed`` takes."""
    try:
        value = int(text.strip(), 10)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed: give a whole number from 0 to {MAX_SEED:,}")
    return value


def latency_ms(text: str) -> float:
    from ..models.latency import MAX_LATENCY_MS
    try:
        ms = float(text)
    except ValueError:
        ms = math.nan
    if not 0 <= ms <= MAX_LATENCY_MS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a latency: give a number of ms from 0 to "
                                         f"{MAX_LATENCY_MS:,.0f}")
    return ms


def seeds(text: str) -> list[int]:
    """``0-9`` or ``0,3,7`` (or a mix: ``0-4,9``)."""
    found: list[int] = []
    try:
        for part in text.split(","):
            lo, dash, hi = part.partition("-")
            found.extend(range(int(lo), int(hi) + 1) if dash else [int(lo)])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a seed list like 0-9 or 0,3,7 (seeds are whole "
                                         f"numbers from 0)") from None
    if not found:
        raise argparse.ArgumentTypeError(f"{text!r} names no seed: give a list like 0-9 or 0,3,7")
    if not all(0 <= n <= MAX_SEED for n in found):
        raise argparse.ArgumentTypeError(f"{text!r}: seeds are whole numbers from 0 to {MAX_SEED:,}")
    return list(dict.fromkeys(found))


def seeds_text(found: list[int]) -> str:
    """``[0, 1, 2, 3, 7]`` as ``0-3,7``."""
    runs: list[list[int]] = []
    for n in found:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else ",".join(map(str, r)) for r in runs)


def _expects(parameter: inspect.Parameter) -> str | None:
    """What a maker's parameter takes, from its default or its annotation: "number", "flag", "text" or
    None (anything)."""
    default = parameter.default
    if isinstance(default, bool):
        return "flag"
    if isinstance(default, (int, float)):
        return "number"
    if isinstance(default, str):
        return "text"
    note = parameter.annotation if isinstance(parameter.annotation, str) else \
        getattr(parameter.annotation, "__name__", str(parameter.annotation))
    if any(word in note for word in ("Callable", "tuple", "list", "dict")):
        return None
    if "bool" in note:
        return "flag"
    if "float" in note or "int" in note:
        return "number"
    if "str" in note:
        return "text"
    return None


def check_params(maker: str, cls: type, params: list[tuple[str, object]], option: str = "--param") -> str | None:
    """The first maker parameter the maker cannot take (unknown, or of the wrong kind), as one line
    saying what to do; None when all fit."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    known = {name: p for name, p in signature.parameters.items()
             if name not in RUNNER_KWARGS and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for name, value in params:
        shown = f"{option} {name}={','.join(map(str, value)) if isinstance(value, list) else value}"
        if name in RUNNER_KWARGS:
            return f"{shown}: {name} is set by the simulation itself (--symbol picks the market)"
        if name not in known:
            if open_ended:
                continue
            settable = sorted(n for n, p in known.items() if _expects(p) is not None)
            return f"{shown}: {maker} has no parameter {name!r}; it takes {', '.join(settable) or 'none'}"
        values = value if isinstance(value, list) else [value]
        wanted = _expects(known[name])
        default = known[name].default
        hint = "" if default is inspect.Parameter.empty else f" (default {default!r})"
        for one in values:
            if wanted == "number" and (isinstance(one, bool) or not isinstance(one, (int, float))):
                return f"{shown}: {name} takes a number{hint}"
            if wanted == "flag" and not isinstance(one, bool):
                return f"{shown}: {name} takes true or false{hint}"
    return None


def add_simulate(sub) -> argparse.ArgumentParser:
    s = sub.add_parser("simulate", help="run a market maker against an in-process exchange in simulated time",
                       description="Run a maker (a module, or module:Class) against an in-process exchange on the "
                                   "manual clock, then print its report (and write it with --report DIR).")
    s.add_argument("--maker", default="clients.simple_mm", metavar="MODULE[:CLASS]",
                   help="the maker to run (default: the seed's clients.simple_mm; also clients.inventory_mm)")
    s.add_argument("--symbol", default=None, help="the market (default: BTC-PERP, or the first --replay's)")
    s.add_argument("--scenario", default=None, metavar="NAME|PATH", help="a scenario to load at the start")
    s.add_argument("--seed", type=seed, default=0, help="0 to 2**53 - 1 (default 0)")
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
    s.add_argument("--latency-ms", type=latency_ms, default=None, metavar="MS",
                   help="median order-entry latency of the synthetic markets, 0 to 60,000 ms, as pf-mock serve's "
                        "(default: each market's regime, 200)")
    from ..replay.options import add_replay_options
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

    from ..catalog import UnknownMarket, load_catalog

    try:
        load_catalog().resolve(args.symbol or "BTC-PERP")     # none given: BTC-PERP, or the --replay's
    except UnknownMarket:
        return _refuse(f"--symbol {args.symbol}: no such market; use one that GET /v1/markets lists, e.g. "
                       "BTC-PERP or ETH-PERP (a bare base such as btc works too)")
    try:
        maker_cls = load_maker(args.maker)
        if args.scenario:
            from ..scenarios import load_scenario
            load_scenario(args.scenario)
    except ValueError as exc:
        return _refuse(str(exc))
    except ScenarioError as exc:
        return _refuse(f"cannot load the scenario: {exc.message}")
    mistake = check_params(args.maker, maker_cls, args.param)
    if mistake is None and args.sweep is not None:
        mistake = check_params(args.maker, maker_cls, [args.sweep], "--sweep")
    if mistake:
        return _refuse(mistake)
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
                       replay_latency_ms=args.replay_latency_ms, latency_ms=args.latency_ms)
    started = time.perf_counter()
    if args.sweep is None:
        progress = None if args.quiet else (lambda f: _bar(f, "simulated"))
        try:
            result = run_simulation(config, progress=progress)
        except Exception as exc:
            if getattr(exc, "exit_code", None) == 2:    # the maker's own one-line stop (clients' Stop)
                if progress is not None:
                    sys.stderr.write("\n")
                return _refuse(f"the maker stopped: {exc}")
            raise
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
              f"{len(seed_list)} seeds ({seeds_text(seed_list)}), scenario {args.scenario or '(none)'}, "
              f"{duration_s:g} s each")
    print(render_sweep(summary, header))
    if args.report:
        from .plots import write_sweep_report
        page = write_sweep_report(summary, rows, header, args.report)
        print(f"\nReport: {page}")
    print(f"({time.perf_counter() - started:.1f} s of wall time)", file=sys.stderr)
    return 0
