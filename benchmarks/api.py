"""What a quote and a request cost, measured two ways; rerun with ``python benchmarks/api.py``
(``--quick`` for smaller counts).

(a) In process, no HTTP: quotes per second through ``Exchange.quote`` with 10 and with 10,000 of the
    agent's own orders resting in BTC-PERP, far below the mid (nothing fills), on the same ten price
    levels in both cases (so the book's ladder is the same size, and only the number of orders
    differs). Each timed quote posts one more bid on those levels (quotes add orders), so the books
    hold 10 + n and 10,000 + n orders while it runs (n up to 2,000). A margin check that walked the
    open orders would make the second figure a fraction of the first; the target is a ratio within 10%
    of 1. The two books take turns in short rounds (``ROUNDS_A`` of them, the first book of each round
    alternating), each timed in CPU time, not wall time, and each round gives a ratio; the figure is
    the median of those, printed with the middle half and the whole spread of the rounds. A busy
    machine moves each round's timings, but the two batches of a round meet the same load, so it
    shows as spread rather than moving the median.

(b) Over HTTP on loopback: pf-mock (realtime clock, the ``serve`` defaults) and a bare FastAPI app, each
    in a subprocess under the same uvicorn settings (``pf_mock.server.uvicorn_config``), one keep-alive
    client sending requests one after another. The bare app serves the same paths and does what any
    FastAPI app serving them must: it reads each body with pf-mock's own request models (the same JSON
    parse and validation) and answers a fixed answer of the same shape and size as pf-mock's, through
    FastAPI's own serialisation; what it leaves out is the mock itself (its controls and the exchange).
    Figures: ``GET /price`` per second, and ``POST /v1/mm/cancel`` + ``POST /v1/mm/quote`` pairs per
    second. The target is at least 0.8 of the bare app's throughput. The two servers take turns in
    short rounds (``ROUNDS`` of them, the first server of each round alternating), so that both meet
    the same load of a busy machine; each figure is the median over the rounds, and the ratio the
    median of the rounds' ratios, printed with its spread. On Linux, each server's own CPU time per
    request (or pair) is printed too: throughput over loopback swings with the scheduler, the CPU a
    server spent on the same requests much less.

Nothing here asserts a time: the targets are printed next to the figures, not enforced.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import cpu_seconds  # noqa: E402  (a benchmark beside this one: its /proc reader)
from pf_mock.clock import ManualClock  # noqa: E402
from pf_mock.client.tls import default_tls  # noqa: E402
from pf_mock.exchange import Exchange, ExchangeConfig  # noqa: E402
from pf_mock.messages import QuoteRequest, SymbolRequest  # noqa: E402

SYMBOL = "BTC-PERP"
KEY = "pf_test_benchmark_key"
ROUNDS = 20            # (b): turns each server takes, alternately
ROUNDS_A = 20          # (a): rounds of quotes on each book, in turns
LEVELS = 10


# ---- (a) in process ----------------------------------------------------------------------------------
class Book:
    """An exchange whose agent has ``resting`` bids on the ten levels, ready to be timed."""

    def __init__(self, resting: int):
        self.ex = Exchange(ExchangeConfig(seed=0, starting_balance=1e9, latency_ms=0.0), ManualClock())   # the book, not latency
        self.me = self.ex.authenticate(KEY)
        mid = self.ex.market(SYMBOL).mid
        self.levels = [mid * (0.955 + 0.001 * k) for k in range(LEVELS)]  # 95.5% to 96.4% of the mid: no fill, in the band
        self.resting = resting
        self.posted = 0
        for i in range(resting):
            self.ex.quote(self.me, QuoteRequest(SYMBOL, bid_price=self.levels[i % LEVELS], bid_size=20.0))

    def quotes_per_cpu_second(self, quotes: int) -> float:
        requests = [QuoteRequest(SYMBOL, bid_price=self.levels[i % LEVELS], bid_size=20.0) for i in range(quotes)]
        ex, me = self.ex, self.me
        start = time.process_time()
        for request in requests:
            ex.quote(me, request)
        elapsed = time.process_time() - start
        self.posted += quotes
        assert len(ex.open_orders(me)) == self.resting + self.posted
        return quotes / elapsed


def bench_in_process(quotes: int, rounds: int) -> None:
    batch = max(1, quotes // rounds)
    print(f"(a) in process, Exchange.quote, {rounds} rounds of {batch} quotes on each book, in turns; "
          f"quotes per second of CPU time")
    few, many = Book(10), Book(10_000)
    rates: dict[str, list[float]] = {"few": [], "many": []}
    ratios = []
    for r in range(rounds):
        order = ((few, "few"), (many, "many")) if r % 2 == 0 else ((many, "many"), (few, "few"))
        rate = {name: book.quotes_per_cpu_second(batch) for book, name in order}
        for name in rates:
            rates[name].append(rate[name])
        ratios.append(rate["many"] / rate["few"])
    print(f"  with 10 resting:      {statistics.median(rates['few']):10,.0f} quotes/s (median)")
    print(f"  with 10,000 resting:  {statistics.median(rates['many']):10,.0f} quotes/s (median)")
    ratios.sort()
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
    print(f"  ratio 10,000 / 10: {statistics.median(ratios):.3f}  (rounds: middle half {quartiles[0]:.3f} to "
          f"{quartiles[2]:.3f}, all {ratios[0]:.3f} to {ratios[-1]:.3f}; target: within 10% of 1)")


# ---- (b) over HTTP -----------------------------------------------------------------------------------
def bare_app():
    """Routes at pf-mock's paths that read each body with pf-mock's own request models and answer a
    fixed body of the shape and size pf-mock's answers have: what FastAPI and uvicorn cost alone."""
    from fastapi import FastAPI

    app = FastAPI()
    price = {"symbol": SYMBOL, "best_bid": 70812.0, "best_ask": 70820.0, "mid": 70816.0, "mark_price": 70814.0,
             "spread_bps": 1.129688, "timestamp": 1767225600000}
    session = {"symbol": SYMBOL, "status": "active", "reason": None,
               "guardrails": {"max_inventory_usd": None, "max_spread_bps": None, "auto_hedge_threshold_usd": None,
                              "session_stop_loss_usd": None},
               "auto_refresh": False, "refresh_interval_seconds": 5.0, "started_at": 1767225600000,
               "stopped_at": None}

    @app.get("/v1/markets/{symbol}/price")
    async def get_price(symbol: str) -> dict:
        return price

    @app.post("/v1/mm/cancel")
    async def cancel(body: SymbolRequest) -> dict:
        return {"symbol": SYMBOL, "cancelled": 1, "order_ids": ["ord_6ef6ac12706d"]}

    @app.post("/v1/mm/quote")
    async def quote(body: QuoteRequest) -> dict:
        return {"symbol": SYMBOL, "bid_id": "ord_6ef6ac12706d", "ask_id": None, "bid_price": body.bid_price,
                "ask_price": body.ask_price, "bid_size": body.bid_size, "ask_size": body.ask_size, "bid_qty": 0.00156,
                "ask_qty": None, "skipped": {}, "cancelled_order_ids": [], "session": session,
                "timestamp": 1767225600000}

    return app


def serve(kind: str, port: int) -> None:
    import uvicorn

    from pf_mock.server import ServeOptions, build_app, uvicorn_config

    opts = ServeOptions(port=port)
    app = build_app(opts) if kind == "pf-mock" else bare_app()
    uvicorn.Server(uvicorn_config(app, opts)).run()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    import httpx
    deadline = time.monotonic() + 120     # a loaded machine can take a minute to import and start it
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/v1/markets/{SYMBOL}/price", timeout=1, verify=default_tls())
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} did not start")


def rate(url: str, n: int, pairs: bool) -> float:
    import httpx
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}, verify=default_tls()) as client:
        mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
        quote = {"symbol": SYMBOL, "bid_price": round(mid * 0.96, 1), "bid_size": 100.0}
        start_t = time.perf_counter()
        for _ in range(n):
            if pairs:
                assert client.post("/v1/mm/cancel", json={"symbol": SYMBOL}).status_code == 200
                assert client.post("/v1/mm/quote", json=quote).status_code == 200
            else:
                assert client.get(f"/v1/markets/{SYMBOL}/price").status_code == 200
        return n / (time.perf_counter() - start_t)


def bench_http(n: int, rounds: int) -> None:
    batch = max(1, n // rounds)
    print(f"(b) over HTTP on loopback, one keep-alive client, {rounds} rounds of {batch} requests (or pairs) "
          f"per server, alternately; medians over the rounds")
    servers = {kind: start(kind) for kind in ("pf-mock", "bare FastAPI")}
    kinds = list(servers)
    try:
        for label, pairs in (("GET /price", False), ("cancel+quote pairs", True)):
            rates = {kind: [] for kind in kinds}
            cpu = {kind: [] for kind in kinds}
            for r in range(rounds):
                for kind in (kinds if r % 2 == 0 else kinds[::-1]):
                    proc, url = servers[kind]
                    before = cpu_seconds(proc.pid)
                    rates[kind].append(rate(url, batch, pairs))
                    after = cpu_seconds(proc.pid)
                    if before is not None and after is not None:
                        cpu[kind].append((after - before) / batch)
            unit = "pairs/s" if pairs else "requests/s"
            for kind in kinds:
                print(f"  {label:<20} {kind:<13} {statistics.median(rates[kind]):10,.0f} {unit}")
            if all(len(cpu[kind]) == rounds for kind in kinds):
                # Summed over the rounds: one round's CPU is a few clock ticks, too coarse for a median.
                each = {kind: sum(cpu[kind]) / rounds for kind in kinds}
                for kind in kinds:
                    print(f"  {label:<20} {kind:<13} {each[kind] * 1e3:10.3f} ms of server CPU each")
                print(f"  server CPU pf-mock / bare FastAPI, {label}: {each['pf-mock'] / each['bare FastAPI']:.2f}")
            ratios = [a / b for a, b in zip(rates["pf-mock"], rates["bare FastAPI"])]
            print(f"  ratio pf-mock / bare FastAPI, {label}: {statistics.median(ratios):.3f}  (rounds "
                  f"{min(ratios):.3f} to {max(ratios):.3f}; target: at least 0.8)")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    parser.add_argument("--part", choices=("a", "b"), help="only (a), in process, or only (b), over HTTP")
    parser.add_argument("--serve", choices=("pf-mock", "bare FastAPI"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    if args.part in (None, "a"):
        bench_in_process(200 if args.quick else 2_000, 4 if args.quick else ROUNDS_A)
    if args.part in (None, "b"):
        bench_http(50 if args.quick else 1_000, 5 if args.quick else ROUNDS)


if __name__ == "__main__":
    main()
