"""The leaderboard with many agents: what ``GET /_mock/leaderboard`` costs, and what a leaderboard
subscriber on ``/feed`` costs everyone else; rerun with ``python benchmarks/leaderboard.py`` (10,000
agents) or ``--quick`` (1,000).

A pf-mock server (manual clock) is started as its own process on a free loopback port with the agents
already made: one in ten has quoted on BTC-PERP and traded (so has fills and a position), the rest are
idle, and the clock has moved on a minute. Printed, each against a baseline taken in the same run:

(a) ``GET /_mock/leaderboard`` (the first page) and ``?limit=1000``: median wall time of 20, against
    ``GET /health`` on the same connection (the cost of a request that does nothing);
(b) ``GET /v1/markets/BTC-PERP/price`` p50 over 400 requests with nobody on ``/feed``, then the same
    with one ``/feed?symbol=BTC-PERP&leaderboard=true`` subscriber reading its stream (as the page
    does), in turns, 4 rounds each: the ratio of the medians.

Nothing here asserts a time; the figures are for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYMBOL = "BTC-PERP"


def serve(agents: int, port: int) -> None:
    import uvicorn

    from pf_mock.messages import QuoteRequest
    from pf_mock.server import ServeOptions, build_app, uvicorn_config

    opts = ServeOptions(port=port, clock="manual")
    app = build_app(opts)
    ex = app.state.exchange
    for i in range(agents):
        me = ex.authenticate(f"pf_test_board_bench_{i:08d}")
        if i % 10 == 0:
            mid = ex.market(SYMBOL).mid
            ex.quote(me, QuoteRequest(SYMBOL, bid_price=mid * 1.0002, bid_size=100 + i % 50,     # crosses: fills
                                      ask_price=mid * 1.003, ask_size=100))
    ex.advance(60)
    uvicorn.Server(uvicorn_config(app, opts)).run()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(agents: int) -> tuple[subprocess.Popen, str]:
    import httpx

    from pf_mock.client.tls import default_tls

    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(agents), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/health", timeout=1, verify=default_tls())
            return proc, url
        except httpx.TransportError:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode()) from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start")


def median_ms(client, path: str, n: int) -> float:
    times = []
    for _ in range(n):
        began = time.perf_counter()
        r = client.get(path)
        times.append(time.perf_counter() - began)
        assert r.status_code == 200, r.text
    return statistics.median(times) * 1e3


def subscribe(url: str) -> tuple[socket.socket, threading.Thread]:
    """A ``/feed?leaderboard=true`` subscriber reading its stream in a thread, as the page does; closing
    the socket ends it (the server sees the disconnect and drops the subscriber)."""
    host, port = url.rsplit("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.sendall(f"GET /feed?symbol={SYMBOL}&leaderboard=true HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())

    def read() -> None:
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return sock, thread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 agents, fewer requests")
    parser.add_argument("--agents", type=int, default=None)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.port)
        return
    import httpx

    agents = args.agents or (1_000 if args.quick else 10_000)
    n = 5 if args.quick else 20
    per_round = 50 if args.quick else 100
    rounds = 2 if args.quick else 4
    began = time.perf_counter()
    proc, url = start(agents)
    print(f"{agents:,} agents ({agents // 10:,} with fills), server ready in {time.perf_counter() - began:.1f} s")
    try:
        with httpx.Client(base_url=url, timeout=60) as client:
            board = client.get("/_mock/leaderboard").json()
            assert board.get("total", len(board["agents"])) == agents, board.get("total")
            health = median_ms(client, "/health", n)
            page = median_ms(client, "/_mock/leaderboard", n)
            big = median_ms(client, "/_mock/leaderboard?limit=1000", n)
            size = len(client.get("/_mock/leaderboard").content)
            print(f"(a) GET /_mock/leaderboard: {page:.1f} ms (first page of 100, {size:,} bytes); ?limit=1000: "
                  f"{big:.1f} ms; GET /health {health:.2f} ms (median of {n} each)")
            alone, watched = [], []
            for _ in range(rounds):
                alone.append(median_ms(client, f"/v1/markets/{SYMBOL}/price", per_round))
                sock, thread = subscribe(url)
                time.sleep(1.5)         # the feed has read the leaderboard at least once
                watched.append(median_ms(client, f"/v1/markets/{SYMBOL}/price", per_round))
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
                thread.join(timeout=5)
                time.sleep(0.5)         # the server has dropped the subscriber
            a, w = statistics.median(alone), statistics.median(watched)
            print(f"(b) GET /price p50: {a:.2f} ms alone, {w:.2f} ms with a leaderboard subscriber on /feed "
                  f"(ratio {w / a:.3f}; medians of {rounds} rounds of {per_round}, in turns)")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
