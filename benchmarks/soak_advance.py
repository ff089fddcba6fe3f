"""Soak: a long clock advance while another client keeps asking the server if it is alive; rerun with
``python benchmarks/soak_advance.py`` (a simulated week) or ``--quick`` (a simulated hour).

A pf-mock server is started as its own process on a free loopback port, manual clock. An agent quotes
BTC-PERP (5 bps, $100 a side, ``auto_refresh`` every 5 s) on ``--markets`` markets, so the advance has
every event of those markets to simulate. Then one thread sends ``POST /_mock/clock/advance`` for the
whole span (a week is the most one call may ask) while another polls ``GET /health`` (or
``/_mock/state`` where ``/health`` does not exist) every 20 ms. Printed: how long the advance took,
and the poller's latencies: count, p50, p99 and worst — the worst is the longest the server left a
client waiting. The run is bounded: after ``--timeout`` seconds (default 1800) the server is stopped
whatever it is doing, and the output says so.

``--catch-up``: the same for a realtime clock's lazy catch-up instead of an advance. The server runs at
``--speed`` (default 600); after the quote the agent stays quiet for ``--hours`` of simulated time
(wall seconds: hours x 3600 / speed), then sends ``GET /v1/account``, whose turn begins with the
catch-up, while the poller keeps asking ``/health``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import SYMBOLS, pf_mock_server, percentile  # noqa: E402

HALF_SPREAD = 2.5e-4
KEY = "pf_test_soak_advance_agent"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="advance a simulated hour")
    ap.add_argument("--hours", type=float, default=168.0, help="simulated hours to advance (default a week)")
    ap.add_argument("--markets", type=int, default=1, help=f"markets the agent quotes on (1 to {len(SYMBOLS)})")
    ap.add_argument("--timeout", type=float, default=1800.0, help="wall seconds before the server is stopped")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--catch-up", action="store_true", help="a realtime clock's catch-up after idling instead")
    ap.add_argument("--speed", type=float, default=600.0, help="the realtime clock's speed (with --catch-up)")
    args = ap.parse_args()
    hours = 1.0 if args.quick else args.hours
    symbols = SYMBOLS[:max(1, min(args.markets, len(SYMBOLS)))]
    what = (f"a catch-up of {hours:g} simulated hours after idling at --speed {args.speed:g}" if args.catch_up
            else f"{hours:g} simulated hours in one advance")
    print(f"pf-mock advance soak: {what}, an auto-refreshing agent on {len(symbols)} market(s), "
          f"Python {platform.python_version()}")
    clock = ("--speed", str(args.speed)) if args.catch_up else ("--clock", "manual")
    with pf_mock_server("--seed", str(args.seed), *clock) as server:
        with httpx.Client(base_url=server.base_url, timeout=60.0) as client:
            auth = {"Authorization": f"Bearer {KEY}"}
            for symbol in symbols:
                mid = client.get(f"/v1/markets/{symbol}/price").json()["mid"]
                r = client.post("/v1/mm/quote", headers=auth, json={
                    "symbol": symbol, "bid_price": mid * (1 - HALF_SPREAD), "bid_size": 100,
                    "ask_price": mid * (1 + HALF_SPREAD), "ask_size": 100, "auto_refresh": True,
                    "refresh_interval_seconds": 5})
                r.raise_for_status()
            probe = "/health" if client.get("/health").status_code == 200 else "/_mock/state"
        if args.catch_up:
            time.sleep(hours * 3600 / args.speed)      # idle: nothing is simulated until someone asks

        latencies: list[float] = []
        failures: list[str] = []
        finished = threading.Event()
        outcome: dict = {}

        def poll() -> None:
            with httpx.Client(base_url=server.base_url, timeout=args.timeout) as poller:
                while not finished.is_set():
                    began = time.perf_counter()
                    try:
                        status = poller.get(probe).status_code
                    except httpx.HTTPError as exc:
                        failures.append(type(exc).__name__)
                        break
                    latencies.append(time.perf_counter() - began)
                    if status != 200:
                        failures.append(str(status))
                    time.sleep(0.02)

        def advance() -> None:
            began = time.perf_counter()
            try:
                with httpx.Client(base_url=server.base_url, timeout=args.timeout) as c:
                    if args.catch_up:
                        outcome["status"] = c.get("/v1/account", headers=auth).status_code
                    else:
                        outcome["status"] = c.post("/_mock/clock/advance", json={"seconds": hours * 3600}).status_code
            except httpx.HTTPError as exc:
                outcome["status"] = type(exc).__name__
            outcome["wall"] = time.perf_counter() - began
            finished.set()

        poller = threading.Thread(target=poll, daemon=True)
        advancer = threading.Thread(target=advance, daemon=True)
        poller.start()
        advancer.start()
        advancer.join(timeout=args.timeout)
        timed_out = advancer.is_alive()
        finished.set()
        if timed_out:
            server.process.kill()       # the advance would not finish in time: stop it the only way left
        poller.join(timeout=10)

    if timed_out:
        print(f"advance: NOT finished after {args.timeout:g} s wall; the server was stopped")
    else:
        print(f"{'catch-up' if args.catch_up else 'advance'}: answered {outcome['status']} after "
              f"{outcome['wall']:.1f} s wall "
              f"({hours * 3600 / outcome['wall']:.0f} simulated s per wall s)")
    lat = sorted(latencies)
    print(f"{probe} while advancing: {len(lat)} answers, p50 {percentile(lat, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(lat, 0.99) * 1000:.1f} ms, worst {lat[-1] * 1000 if lat else float('nan'):.1f} ms"
          + (f"; failures: {', '.join(failures[:5])}" if failures else ""))


if __name__ == "__main__":
    main()
