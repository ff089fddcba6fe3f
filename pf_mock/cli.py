"""``pf-mock`` (and ``python -m pf_mock``): the command line.

Each subcommand is a pair of functions: ``add_<name>(subparsers)`` declares it and its options and
sets ``run``; ``run_<name>(args)`` does the work and returns the exit code. A new subcommand is one more
pair and one line in ``parser()``.

Every mistake on the command line is one line on stderr and exit code 2, before anything starts: the
value of each option is checked by its ``type``, and what depends on several options (a speed on a
manual clock, an admin API reachable from the network) by ``check_serve``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import ipaddress
import math
import re
import signal
import socket
import sys
import threading
from typing import Callable

from .version import __version__

# The server and the scenarios load only when a command needs them, so that --help and --version are
# quick and Ctrl-C is caught from the first moment.

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

# The options' ranges come from bounds.py, which imports nothing: neither pydantic (the
# contract's models) nor numpy (the market's) loads for --help, --version or a mistake.
from .bounds import (DEFAULT_LATENCY_MS, MAX_FEE_BPS, MAX_LATENCY_MS, MAX_SEED, MAX_SPEED,  # noqa: E402
                     MAX_STARTING_BALANCE)

MAX_RATE_LIMIT = 1_000_000
ADMIN_TOKEN = re.compile(r"^[\x21-\x7e]{8,256}$")   # visible ASCII: a header value that survives any proxy


@contextlib.contextmanager
def loading(program: bool):
    """A long-running command's imports and set-up (FastAPI, pydantic's models, the routes; the MCP SDK).

    In pf-mock's own process (``program``: ``main`` reading the process's command line), the cyclic
    garbage collector stays off while they are made, and what they made, some 120,000 container objects
    meant to last as long as the process, is then set aside from it for good (``gc.freeze``): the
    collector's passes over that growing heap were about a sixth of a server's start-up CPU, and each
    full collection while serving would walk it all again. (The few hundred objects of cyclic garbage the
    imports leave, about 750 for ``serve``, are kept with them, once: collecting them first would cost a
    third of what freezing saves.) Called from another program (``main(argv)``, as the tests do), the
    caller's collector is left as it is."""
    if not program:
        yield
        return
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_on:
            gc.enable()


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (no usage block), still with exit code 2."""

    def error(self, message: str) -> None:
        message = " ".join(message.split())
        self.exit(2, f"pf-mock: error: {message} (see {self.prog} --help)\n")


class Stop(Exception):
    """A command that cannot go on: its message is the one line printed, ``code`` the exit code."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# ---- option values -------------------------------------------------------------------------------
def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _whole(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _show(bound: float) -> str:
    return f"{int(bound):,}" if bound == int(bound) else f"{bound:g}"


def ranged(kind: Callable[[str], float], low: float, high: float, *, above: bool = False):
    """A ``type=`` for argparse: ``kind`` (``_number`` or ``_whole``) within [low, high] (or (low, high])."""

    def parse(text: str):
        value = kind(text)
        if (value <= low if above else value < low) or value > high:
            noun = "a whole number" if kind is _whole else "a number"
            bounds = f"above {_show(low)}, at most {_show(high)}" if above else f"from {_show(low)} to {_show(high)}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: expected {noun} {bounds}")
        return value

    parse.__name__ = kind.__name__.strip("_")    # argparse names the type in some messages
    return parse


def _host(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("the host must not be empty (an empty host would listen on every address)")
    return text


def _admin_token(text: str) -> str:
    if text == "":
        raise argparse.ArgumentTypeError("the token must not be empty (an empty token would leave /_mock open)")
    if not ADMIN_TOKEN.match(text):
        raise argparse.ArgumentTypeError("the token must be 8 to 256 visible ASCII characters, no spaces")
    return text


# ---- pf-mock serve -------------------------------------------------------------------------------
def add_serve(sub) -> None:
    s = sub.add_parser("serve", help="run the API server", description="Run the pf-mock API server.")
    s.add_argument("--host", type=_host, default="127.0.0.1",
                   help="address to bind (default: loopback only; any other address needs --admin-token or "
                        "--no-admin)")
    s.add_argument("--port", type=ranged(_whole, 0, 65535), default=8000, help="0 picks a free port (default: 8000)")
    s.add_argument("--seed", type=ranged(_whole, 0, MAX_SEED), default=0,
                   help="same seed + same requests at the same mock times = same answers (default: 0)")
    s.add_argument("--clock", choices=("realtime", "manual"), default=None,
                   help="realtime: the wall clock times --speed; manual: time moves only on "
                        "POST /_mock/clock/advance (default: realtime; manual with --replay)")
    s.add_argument("--speed", type=ranged(_number, 0, MAX_SPEED, above=True), default=None,
                   help=f"realtime clock only: simulated seconds per second, up to {MAX_SPEED:g} (default: 1)")
    s.add_argument("--scenario", default=None, metavar="NAME|PATH",
                   help="load a scenario at start: a shipped name (see `pf-mock scenarios`) or a .toml file")
    s.add_argument("--strict-auth", action="store_true", help="only keys from POST /v1/agents/register work")
    s.add_argument("--starting-balance", type=ranged(_number, 0, MAX_STARTING_BALANCE), default=10_000.0,
                   metavar="USD", help="each new agent's balance in USD (default: 10000)")
    s.add_argument("--rate-limit", type=ranged(_whole, 1, MAX_RATE_LIMIT), default=None, metavar="N",
                   help="allow N requests per minute per API key (a burst of N, then N a minute); default: no limit")
    s.add_argument("--no-admin", action="store_true", help="remove every /_mock route")
    s.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests whose Host is NAME (besides loopback names and the bound address); "
                        "repeatable")
    s.add_argument("--restore", default=None, metavar="FILE",
                   help="start from a snapshot: the JSON that POST /_mock/snapshot answers")
    s.add_argument("--state", default=None, metavar="FILE",
                   help="keep the exchange across restarts: start from FILE if it exists, write the snapshot "
                        "there (atomically) on a clean stop")
    s.add_argument("--admin-token", type=_admin_token, default=None, metavar="TOKEN",
                   help="require the header X-Admin-Token: TOKEN on /_mock routes (8-256 visible ASCII characters)")
    s.add_argument("--maker-rebate-bps", type=ranged(_number, 0, MAX_FEE_BPS), default=2.5, metavar="BPS",
                   help="rebate paid to makers, in bps of notional (default: 2.5)")
    s.add_argument("--taker-fee-bps", type=ranged(_number, 0, MAX_FEE_BPS), default=4.5, metavar="BPS",
                   help="fee charged to takers, in bps of notional (default: 4.5)")
    s.add_argument("--latency-ms", type=ranged(_number, 0, MAX_LATENCY_MS), default=None, metavar="MS",
                   help="median order-entry latency of every synthetic market, in ms: quotes and cancels reach "
                        "the book this long (log-normal) after they are sent; 0 acts at once (default: each "
                        f"market's regime, {DEFAULT_LATENCY_MS:g} ms, Hyperliquid's documented median)")
    s.add_argument("--log-level", choices=LOG_LEVELS, default="warning",
                   help="the server's own messages on stderr at this level and above (default: warning)")
    s.add_argument("--access-log", action="store_true", help="print one line per request on stdout")
    s.add_argument("--mcp-admin", action="store_true",
                   help="also offer the /_mock tools (clock, scenarios) on /mcp, for an LLM test harness")
    from .replay.options import add_replay_options
    add_replay_options(s)
    s.set_defaults(run=run_serve)


def load_replay(args: argparse.Namespace) -> dict | None:
    """The recordings of ``--replay``, read and checked: a bad file is one line and exit code 2."""
    if not args.replay:
        return None
    from .replay.formats import RecordingError
    from .replay.setup import load_sources
    try:
        return load_sources(args.replay, queue=args.replay_queue, latency_ms=args.replay_latency_ms)
    except RecordingError as exc:
        raise Stop(f"--replay: {exc}", 2) from None


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is this machine's loopback (unresolvable: raises Stop)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Stop(f"--host {host}: no such address on this machine or name in DNS", 2) from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in found)


def check_serve(args: argparse.Namespace):
    """The ``ServeOptions`` of ``serve``, once the options that depend on one another, and the scenario,
    are checked; raises ``Stop`` (code 2)."""
    from .scenarios import ScenarioError, load_scenario
    from .server import ServeOptions

    if args.clock is None:
        args.clock = "manual" if args.replay else "realtime"
    if args.speed is not None and args.clock == "manual":
        raise Stop("--speed applies to the realtime clock only; a manual clock moves on POST /_mock/clock/advance", 2)
    if args.no_admin and args.admin_token is not None:
        raise Stop("give --no-admin or --admin-token, not both", 2)
    if args.no_admin and args.mcp_admin:
        raise Stop("give --no-admin or --mcp-admin, not both (the /_mock tools need the /_mock routes)", 2)
    loopback = is_loopback(args.host)      # also: a host that names nothing is a mistake, found here
    if not args.no_admin and args.admin_token is None and not loopback:
        raise Stop(f"--host {args.host} reaches beyond this machine, and /_mock lets anyone reset or drive the "
                   f"mock: add --admin-token TOKEN (or --no-admin)", 2)
    if args.scenario is not None:
        try:
            load_scenario(args.scenario)
        except ScenarioError as exc:
            raise Stop(f"--scenario: {exc.message}", 2) from None
    replay = load_replay(args)          # last: reading a recording takes a moment
    return ServeOptions(host=args.host, port=args.port, seed=args.seed, clock=args.clock,
                        speed=1.0 if args.speed is None else args.speed, scenario=args.scenario,
                        strict_auth=args.strict_auth, starting_balance=args.starting_balance,
                        rate_limit=args.rate_limit, admin=not args.no_admin, admin_token=args.admin_token,
                        maker_rebate_bps=args.maker_rebate_bps, taker_fee_bps=args.taker_fee_bps,
                        latency_ms=args.latency_ms, log_level=args.log_level, access_log=args.access_log, mcp_admin=args.mcp_admin,
                        restore=args.restore, state=args.state, replay=replay,
                        allow_hosts=tuple(args.allow_host))


def run_serve(args: argparse.Namespace) -> int:
    with loading(args.program):
        from .server import BadSnapshotFile, CannotListen, serve

        opts = check_serve(args)
    try:
        stopped_by = serve(opts)
    except CannotListen as exc:
        raise Stop(str(exc)) from None
    except BadSnapshotFile as exc:      # --restore or --state: a snapshot this pf-mock cannot take
        raise Stop(f"--{'restore' if args.restore else 'state'}: {exc}", 2) from None
    except OSError as exc:              # --state: the snapshot could not be written on the way out
        raise Stop(f"--state {args.state}: cannot write it: {exc.strerror or exc}") from None
    if stopped_by:
        print(f"pf-mock stopped ({stopped_by})", flush=True)
    return 0


# ---- pf-mock scenarios ---------------------------------------------------------------------------
def add_scenarios(sub) -> None:
    s = sub.add_parser("scenarios", help="list the shipped scenarios and what each does",
                       description="List the shipped scenarios and what each does.")
    s.set_defaults(run=run_scenarios)


def run_scenarios(args: argparse.Namespace) -> int:
    from .scenarios import ScenarioError, list_scenarios

    try:
        found = list_scenarios()
    except ScenarioError as exc:
        raise Stop(exc.message) from None
    width = max(len(s.name) for s in found)
    for scenario in found:
        print(f"{scenario.name:<{width}}  {scenario.description}")
    return 0


# ---- pf-mock mcp ---------------------------------------------------------------------------------
def add_mcp(sub) -> None:
    s = sub.add_parser("mcp", help="the API as MCP tools on stdio, for the pf-mock at $PF_BASE as $PF_API_KEY",
                       description="Serve the API as MCP tools over stdio, for the pf-mock (or anything speaking "
                                   "its REST API) at $PF_BASE (default http://127.0.0.1:8000), with the key "
                                   "$PF_API_KEY (and $PF_ADMIN_TOKEN for --mcp-admin on a guarded mock).")
    s.add_argument("--mcp-admin", action="store_true", help="also offer the /_mock tools (clock, scenarios)")
    s.set_defaults(run=run_mcp)


def run_mcp(args: argparse.Namespace) -> int:
    try:
        with loading(args.program):
            from .mcp.stdio import StdioConfig, run     # the MCP SDK loads only for this command
    except ImportError:
        raise Stop("MCP needs the mcp extra: pip install 'pf-mock[mcp]'") from None
    run(StdioConfig.from_env(admin=args.mcp_admin))
    return 0


# ---- the program ---------------------------------------------------------------------------------
def parser() -> Parser:
    p = Parser(prog="pf-mock", description="A local, deterministic fake of the Purple Flea market-making API.")
    p.add_argument("--version", action="version", version=f"pf-mock {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_serve(sub)
    add_mcp(sub)
    add_scenarios(sub)
    from .simulate.cli import add_simulate      # light: the simulation loads only when it runs
    add_simulate(sub)
    return p


class _Interrupted(BaseException):
    """Ctrl-C or SIGTERM while no server was running (while parsing, loading, or building the app)."""

    def __init__(self, sig: int):
        self.name = signal.Signals(sig).name


def _interrupt(sig: int, frame) -> None:
    raise _Interrupted(sig)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit code (0 done or stopped by Ctrl-C / SIGTERM, 1 failed, 2 misused)."""
    # Until the server installs its own handlers (and after it restores these), Ctrl-C or SIGTERM
    # stops the program in one line as well.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    try:
        args = parser().parse_args(argv)
        args.program = argv is None         # this process's own command line: pf-mock is the program
        return args.run(args)
    except Stop as exc:
        print(f"pf-mock: error: {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
        return exc.code
    except (_Interrupted, KeyboardInterrupt) as exc:
        print(f"pf-mock stopped ({getattr(exc, 'name', 'SIGINT')})", flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
