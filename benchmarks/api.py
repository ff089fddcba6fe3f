"""What a quote and a request cost, measured two ways; rerun with ``python benchmarks/api.py``
(``--quick`` for smaller counts).

(a) In process, no HTTP: quotes per second through ``Exchange.quote`` with 10 and with 10,000 of the
    agent's own orders resting in BTC-PERP, far below the mid (nothing fills), on the same ten price
    levels in both cases (so the book's ladder is the same size, and only the number of orders
    differs). Each timed quote posts one more bid on those levels (quotes add orders), so the books
    hold 10 + n and 10,000 + n orders while it runs. A margin check that walked the open orders would
    make the second figure a fraction of the first; the target is a ratio within 10% of 1. The two
    are measured alternately, best of five, to keep the drift of a busy machine out of the ratio.

(b) Over HTTP on loopback: pf-mock (realtime clock, the ``serve`` defaults) and a bare FastAPI app with
    routes of the same paths answering a fixed body, each in a subprocess under the same uvicorn
    settings (``pf_mock.server.uvicorn_config``), one keep-alive client sending requests one after
    another. Figures: ``GET /price`` per second, and ``POST /v1/mm/cancel`` + ``POST /v1/mm/quote``
    pairs per second. The target is at least 0.8 of the bare app's throughput. The two servers take
    turns in short rounds (``ROUNDS`` of them, the first server of each round alternating), so that
    both meet the same load of a busy machine; each figure is the median over the rounds, and the
    ratio the median of the rounds' ratios. On Linux, each server's own CPU time per request (or
    pair) is printed too: throughput over loopback swings with the scheduler, the CPU a server spent
    on the same requests much less.

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

from pf_mock.clock import ManualClock  # noqa: E402
from pf_mock.exchange import Exchange, ExchangeConfig  # noqa: E402
from pf_mock.messages import QuoteRequest  # noqa: E402

SYMBOL = "BTC-PERP"
KEY = "pf_test_benchmark_key"
ROUNDS = 20            # (b): turns each server takes, alternately
LEVELS = 10


# ---- (a) in process ----------------------------------------------------------------------------------
def quotes_per_second(resting: int, quotes: int) -> float:
    ex = Exchange(ExchangeConfig(seed=0, starting_balance=1e9), ManualClock())
    me = ex.authenticate(KEY)
    mid = ex.market(SYMBOL).mid
    levels = [mid * (0.7 + 0.01 * k) for k in range(LEVELS)]      # 70% to 79% of the mid: nowhere near a fill
    for i in range(resting):
        ex.quote(me, QuoteRequest(SYMBOL, bid_price=levels[i % LEVELS], bid_size=20.0))
    requests = [QuoteRequest(SYMBOL, bid_price=levels[i % LEVELS], bid_size=20.0) for i in range(quotes)]
    start = time.perf_counter()
    for request in requests:
        ex.quote(me, request)
    elapsed = time.perf_counter() - start
    assert len(ex.open_orders(me)) == resting + quotes
    return quotes / elapsed


def bench_in_process(quotes: int) -> None:
    print(f"(a) in process, Exchange.quote, {quotes} quotes timed, best of 5")
    few = many = 0.0
    for _ in range(5):                  # alternate, so drift of the machine hits both alike
        few = max(few, quotes_per_second(10, quotes))
        many = max(many, quotes_per_second(10_000, quotes))
    print(f"  with 10 resting:      {few:10,.0f} quotes/s")
    print(f"  with 10,000 resting:  {many:10,.0f} quotes/s")
    print(f"  ratio 10,000 / 10: {many / few:.3f}  (target: within 10% of 1)")


# ---- (b) over HTTP -----------------------------------------------------------------------------------
def bare_app():
    """Routes at pf-mock's paths answering a fixed body: what FastAPI and uvicorn cost alone."""
    from fastapi import FastAPI

    app = FastAPI()
    price = {"symbol": SYMBOL, "best_bid": 70812.0, "best_ask": 70820.0, "mid": 70814.5, "spread_bps": 1.13,
             "timestamp": 1767225600000}

    @app.get("/v1/markets/{symbol}/price")
    async def get_price(symbol: str) -> dict:
        return price

    @app.post("/v1/mm/cancel")
    async def cancel(body: dict) -> dict:
        return {"symbol": SYMBOL, "cancelled": 1, "order_ids": ["ord_000000000000"]}

    @app.post("/v1/mm/quote")
    async def quote(body: dict) -> dict:
        return {"symbol": SYMBOL, "bid_id": "ord_000000000000", "bid_price": body.get("bid_price")}

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
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/v1/markets/{SYMBOL}/price", timeout=1)
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{kind} did not start")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process has used so far, or None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")      # utime, stime


def rate(url: str, n: int, pairs: bool) -> float:
    import httpx
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as client:
        mid = client.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
        quote = {"symbol": SYMBOL, "bid_price": round(mid * 0.9, 1), "bid_size": 100.0}
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
            ratio = statistics.median(a / b for a, b in zip(rates["pf-mock"], rates["bare FastAPI"]))
            print(f"  ratio pf-mock / bare FastAPI, {label}: {ratio:.3f}  (target: at least 0.8)")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    parser.add_argument("--serve", choices=("pf-mock", "bare FastAPI"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus")
    bench_in_process(200 if args.quick else 2_000)
    bench_http(50 if args.quick else 1_000, 5 if args.quick else ROUNDS)


if __name__ == "__main__":
    main()
