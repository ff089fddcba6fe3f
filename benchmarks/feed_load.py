"""Does watching slow the market down? Rerun with ``python benchmarks/feed_load.py`` (``--seconds 10``
for a short run).

One ``pf-mock serve --clock realtime --speed 60`` process. A quoting agent (the seed client's cycle:
read the price, cancel, post a 5 bps quote of $100 a side with guardrails, read PnL, as fast as it can)
runs three phases of ``--seconds`` each against it, in this order:

1. alone;
2. with ``--pages`` feed subscribers open on the same market (each as the page opens it: the agent's
   key where it has one — every other subscriber is another agent — and the leaderboard), read by
   clients in this process that parse every event;
3. alone again (so a drift of the server over the run shows up, rather than being blamed on the feed).

It prints the agent's mean cycle time in each phase and the ratio of phase 2 to the mean of phases 1 and
3; the target is a ratio of at most 1.10. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"pf-mock ready on (http://\S+)")
TARGET_RATIO = 1.10
SYMBOL = "BTC-PERP"
AGENT_KEY = "pf_test_bench_quoter_01"


def start_server(speed: float) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "pf_mock", "serve", "--port", "0", "--clock", "realtime",
                             "--speed", str(speed)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    match = READY.search(line)
    if not match:
        proc.kill()
        raise SystemExit(f"the server did not start: {line!r} {proc.stderr.read()}")
    return proc, match.group(1)


def quoting_phase(base: str, seconds: float) -> list[float]:
    """The agent's cycles for ``seconds`` of wall time: each cycle's wall duration."""
    cycles = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {AGENT_KEY}"}, timeout=30) as client:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            began = time.perf_counter()
            price = client.get(f"/v1/markets/{SYMBOL}/price").json()
            mid = (price["best_bid"] + price["best_ask"]) / 2
            client.post("/v1/mm/cancel", json={"symbol": SYMBOL})
            answer = client.post("/v1/mm/quote", json={
                "symbol": SYMBOL, "bid_price": mid * (1 - 2.5e-4), "bid_size": 100, "ask_price": mid * (1 + 2.5e-4),
                "ask_size": 100, "max_inventory_usd": 1000, "auto_hedge_threshold_usd": 500})
            if answer.status_code != 200:
                raise SystemExit(f"the quote failed: {answer.text}")
            client.get("/v1/mm/pnl", params={"symbol": SYMBOL})
            cycles.append(time.perf_counter() - began)
    return cycles


class Pages:
    """``count`` feed subscribers in one asyncio loop on a thread, each parsing every event it gets."""

    def __init__(self, base: str, count: int):
        self.base, self.count = base, count
        self.events = 0
        self.bytes = 0
        self.ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> "Pages":
        self._thread.start()
        if not self.ready.wait(60):
            raise SystemExit("the feed subscribers did not connect")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        connected = 0
        async with httpx.AsyncClient(base_url=self.base, timeout=None,
                                     limits=httpx.Limits(max_connections=self.count + 2)) as client:

            async def page(i: int) -> None:
                nonlocal connected
                key = AGENT_KEY if i == 0 else f"pf_test_bench_page_{i:04d}"
                params = {"symbol": SYMBOL, "leaderboard": "true"}
                async with client.stream("GET", "/feed", params=params,
                                         headers={"Authorization": f"Bearer {key}"}) as response:
                    connected += 1
                    if connected == self.count:
                        self.ready.set()
                    async for line in response.aiter_lines():
                        self.bytes += len(line) + 1
                        if line.startswith("data:"):
                            self.events += 1

            tasks = [asyncio.create_task(page(i)) for i in range(self.count)]
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="wall seconds per phase (default 60)")
    parser.add_argument("--pages", type=int, default=20, help="feed subscribers in the watched phase")
    parser.add_argument("--speed", type=float, default=60.0, help="the server's --speed (default 60)")
    args = parser.parse_args()

    proc, base = start_server(args.speed)
    try:
        quoting_phase(base, min(5.0, args.seconds))         # warm up: the market exists, the agent too
        alone = quoting_phase(base, args.seconds)
        with Pages(base, args.pages) as pages:
            watched = quoting_phase(base, args.seconds)
            events, received = pages.events, pages.bytes
        alone_again = quoting_phase(base, args.seconds)
    finally:
        proc.terminate()
        proc.wait(30)

    def show(name: str, cycles: list[float]) -> float:
        mean = statistics.fmean(cycles)
        print(f"{name:<34} {len(cycles):6d} cycles, mean {mean * 1000:7.2f} ms, "
              f"median {statistics.median(cycles) * 1000:7.2f} ms")
        return mean

    print(f"pf-mock serve --clock realtime --speed {args.speed:g}; {args.seconds:g} s per phase; "
          f"agent cycle = price, cancel, quote, pnl")
    a = show("alone:", alone)
    b = show(f"with {args.pages} feed subscribers:", watched)
    c = show("alone again:", alone_again)
    print(f"the subscribers received {events} events ({received / 1024:.0f} KiB) in the watched phase")
    ratio = b / ((a + c) / 2)
    print(f"ratio watched / alone (mean cycle time): {ratio:.3f} (target <= {TARGET_RATIO:.2f})")


if __name__ == "__main__":
    main()
