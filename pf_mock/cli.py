"""``pf-mock`` (and ``python -m pf_mock``): the command line."""

from __future__ import annotations

import argparse
import sys

from .server import ServeOptions, serve


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pf-mock", description="A local fake of the Purple Flea market-making API.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the API server")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--seed", type=int, default=0, help="same seed + same requests at the same mock times = same answers")
    s.add_argument("--clock", choices=("realtime", "manual"), default="realtime")
    s.add_argument("--speed", type=_positive_float, default=1.0, help="realtime clock: simulated seconds per second")
    s.add_argument("--strict-auth", action="store_true", help="only keys from POST /v1/agents/register work")
    s.add_argument("--starting-balance", type=float, default=10_000.0)
    s.add_argument("--no-admin", action="store_true", help="remove every /_mock route")
    s.add_argument("--admin-token", default=None, help="require X-Admin-Token on /_mock routes")
    s.add_argument("--maker-rebate-bps", type=float, default=2.5)
    s.add_argument("--taker-fee-bps", type=float, default=4.5)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.command == "serve":
        serve(ServeOptions(host=args.host, port=args.port, seed=args.seed, clock=args.clock, speed=args.speed,
                           strict_auth=args.strict_auth, starting_balance=args.starting_balance,
                           admin=not args.no_admin, admin_token=args.admin_token,
                           maker_rebate_bps=args.maker_rebate_bps, taker_fee_bps=args.taker_fee_bps))


if __name__ == "__main__":
    main(sys.argv[1:])
