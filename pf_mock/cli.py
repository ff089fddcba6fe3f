"""``pf-mock`` (and ``python -m pf_mock``): the command line."""

from __future__ import annotations

import argparse
import sys

from .scenarios import ScenarioError, list_scenarios
from .server import ServeOptions, serve


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pf-mock", description="A local fake of the Purple Flea market-making API.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the API server")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--seed", type=int, default=0, help="same seed + same requests at the same mock times = same answers")
    s.add_argument("--clock", choices=("realtime", "manual"), default="realtime")
    s.add_argument("--scenario", default=None, metavar="NAME|PATH",
                   help="load a scenario at start: a shipped name (see `pf-mock scenarios`) or a .toml file")
    s.add_argument("--speed", type=_positive_float, default=1.0, help="realtime clock: simulated seconds per second")
    s.add_argument("--strict-auth", action="store_true", help="only keys from POST /v1/agents/register work")
    s.add_argument("--starting-balance", type=float, default=10_000.0)
    s.add_argument("--rate-limit", type=_positive_int, default=None, metavar="N",
                   help="allow N requests per minute per API key (a burst of N, then N a minute); default: no limit")
    s.add_argument("--no-admin", action="store_true", help="remove every /_mock route")
    s.add_argument("--admin-token", default=None, help="require X-Admin-Token on /_mock routes")
    s.add_argument("--maker-rebate-bps", type=float, default=2.5)
    s.add_argument("--taker-fee-bps", type=float, default=4.5)
    sub.add_parser("scenarios", help="list the shipped scenarios and what each does")
    return p


def list_scenarios_command() -> None:
    found = list_scenarios()
    width = max(len(s.name) for s in found)
    for scenario in found:
        print(f"{scenario.name:<{width}}  {scenario.description}")


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "scenarios":
        try:
            list_scenarios_command()
        except ScenarioError as exc:
            sys.exit(f"pf-mock: {exc.message}")
    if args.command == "serve":
        opts = ServeOptions(host=args.host, port=args.port, seed=args.seed, clock=args.clock, speed=args.speed,
                            scenario=args.scenario,
                            strict_auth=args.strict_auth, starting_balance=args.starting_balance,
                            rate_limit=args.rate_limit, admin=not args.no_admin, admin_token=args.admin_token,
                            maker_rebate_bps=args.maker_rebate_bps, taker_fee_bps=args.taker_fee_bps)
        try:
            serve(opts)
        except ScenarioError as exc:        # --scenario could not be loaded: say why, no traceback
            sys.exit(f"pf-mock: cannot load the scenario: {exc.message}")


if __name__ == "__main__":
    main(sys.argv[1:])
