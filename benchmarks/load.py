"""Load: many agents market-making at once against one real server; rerun with
``python benchmarks/load.py`` (100 agents, 10 minutes, ``--speed 60``) or ``--quick`` (10 agents, 5 s).

A pf-mock server is started as its own process on a free loopback port (realtime clock, ``--speed``).
Each agent runs the seed page's loop on one of ten markets, in its own task over keep-alive
connections: read the price, cancel, quote 5 bps wide with $100 a side; every tenth round it also reads
its inventory and PnL. A round starts every 5 simulated seconds (at ``--speed 60``, every 83 ms of wall
time) or as soon as the last one is answered if the server is slower. Every request's wall latency
and status is kept.

Printed: requests per second, latency p50 / p99 / worst, answers by status class, transport errors,
how often the markets were catching up with the clock (the simulation falling behind ``--speed``: the
cause of long waits), the server's resident memory before and after; then the accounting, checked for every agent against an
independent oracle (the agent's own fills), after cancelling its orders (twice, each time until the
cancels have reached the books, so that no quote still on its way can fill between two reads):
  - position: the signed sum of its fills equals the position ``/v1/account`` shows;
  - cash: after hedging flat, ``balance_usd`` minus the starting balance equals the cash its fills
    moved (−Σ side·price·size − Σ fee_usd), and so does ``net_pnl`` of ``/v1/mm/pnl``;
  - the PnL identity: ``net_pnl = spread_income + rebates + inventory_pnl − hedge_cost``.
Nothing here asserts a time; the figures are for the note.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import select
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx

from pf_mock.models.latency import MAX_DELAY_MS

ROOT = Path(__file__).resolve().parent.parent
SYMBOLS = ["BTC-PERP", "ETH-PERP", "SOL-PERP", "XRP-PERP", "DOGE-PERP", "AVAX-PERP", "LINK-PERP", "BNB-PERP",
           "ARB-PERP", "OP-PERP"]
STARTING_BALANCE = 10_000.0
QUOTE_USD = 100.0
HALF_SPREAD = 2.5e-4            # 5 bps wide
ROUND_SIM_S = 5.0               # the seed client's refresh interval, in simulated seconds


# ---- a server of its own ------------------------------------------------------------------------
@dataclass
class Server:
    process: subprocess.Popen
    base_url: str

    def rss_mb(self) -> float | None:
        return rss_mb(self.process.pid)


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, or None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")      # utime, stime


def rss_mb(pid: int | str = "self") -> float | None:
    """A process's resident memory in MB (Linux /proc), or None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@contextmanager
def pf_mock_server(*args: str, startup_timeout: float = 30.0) -> Iterator[Server]:
    """``pf-mock serve`` on a free loopback port, stopped (SIGTERM, then SIGKILL) on exit."""
    command = [sys.executable, "-m", "pf_mock", "serve", "--host", "127.0.0.1", "--port", "0", *args]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + startup_timeout
        line = ""
        while "ready on" not in line:
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise RuntimeError(f"pf-mock did not start: {line!r}")
            ready, _, _ = select.select([process.stdout], [], [], left)
            if ready:
                line = process.stdout.readline()
        base_url = line.split("ready on ", 1)[1].split()[0]
        yield Server(process, base_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


# ---- the agents ---------------------------------------------------------------------------------
@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    transport_errors: int = 0

    def note(self, status: int | None, seconds: float) -> None:
        self.latencies.append(seconds)
        label = "transport error" if status is None else f"{status // 100}xx"
        self.statuses[label] = self.statuses.get(label, 0) + 1


REQUEST_TIMEOUT_S = 60.0
TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, TimeoutError)


class Connection:
    """One agent's keep-alive HTTP/1.1 connection, written out by hand. The load run measures the
    server, and on a small machine the load's own CPU comes out of the server's share: a general async
    client (httpx) took about 11 ms of CPU a request with 100 agents in one process, more than the
    server spent answering it. This is just enough HTTP for this server's answers: a status line,
    headers, and a body of Content-Length bytes (anything else is a transport error)."""

    def __init__(self, base_url: str):
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length, close = None, False
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection":
                close = value.strip().lower() == "close"
        if length is None:
            raise ValueError("an answer without Content-Length")
        data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, data

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def call(conn: Connection, tally: Tally, method: str, path: str, body: dict | None = None,
               headers: dict[str, str] | None = None) -> tuple[int, bytes] | None:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            answer = await conn.request(method, path, None if body is None else json.dumps(body).encode(), headers)
    except TRANSPORT_ERRORS:
        conn.close()            # the next request starts a fresh connection
        tally.transport_errors += 1
        tally.note(None, time.perf_counter() - started)
        return None
    tally.note(answer[0], time.perf_counter() - started)
    return answer


def agent_key(i: int) -> str:
    return f"pf_test_load_agent_{i:04d}"


async def agent(base_url: str, i: int, symbol: str, until: float, period: float, tally: Tally) -> int:
    headers = {"Authorization": f"Bearer {agent_key(i)}"}
    conn = Connection(base_url)
    rounds = 0
    try:
        while time.monotonic() < until:
            started = time.monotonic()
            price = await call(conn, tally, "GET", f"/v1/markets/{symbol}/price")
            if price is not None and price[0] == 200:
                mid = json.loads(price[1])["mid"]
                await call(conn, tally, "POST", "/v1/mm/cancel", {"symbol": symbol}, headers)
                await call(conn, tally, "POST", "/v1/mm/quote", {
                    "symbol": symbol, "bid_price": mid * (1 - HALF_SPREAD), "bid_size": QUOTE_USD,
                    "ask_price": mid * (1 + HALF_SPREAD), "ask_size": QUOTE_USD}, headers)
                if rounds % 10 == 9:
                    await call(conn, tally, "GET", f"/v1/mm/inventory?symbol={symbol}", headers=headers)
                    await call(conn, tally, "GET", "/v1/mm/pnl", headers=headers)
            rounds += 1
            await asyncio.sleep(max(0.0, period - (time.monotonic() - started)))
    finally:
        conn.close()
    return rounds


@dataclass
class Lag:
    """What ``/_mock/state`` showed once a wall second (it never waits for the exchange): whether the
    markets were catching up with the realtime clock, and how far behind they were when one began."""

    samples: int = 0
    catching_up: int = 0
    worst_s: float = 0.0


async def watch_lag(base_url: str, until: float, lag: Lag) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as client:
        while time.monotonic() < until:
            try:
                state = (await client.get("/_mock/state")).json()
            except (httpx.HTTPError, ValueError):
                state = {}
            lag.samples += 1
            work = state.get("advancing")
            if work and work.get("kind") == "catch_up":
                lag.catching_up += 1
                lag.worst_s = max(lag.worst_s, (work["to"] - work["from"]) / 1000)
            await asyncio.sleep(1.0)


async def run_load(base_url: str, agents: int, seconds: float, speed: float) -> tuple[Tally, int, float, Lag]:
    tally, lag = Tally(), Lag()
    started = time.monotonic()
    until = started + seconds
    watcher = asyncio.ensure_future(watch_lag(base_url, until, lag))
    rounds = await asyncio.gather(*(agent(base_url, i, SYMBOLS[i % len(SYMBOLS)], until, ROUND_SIM_S / speed, tally)
                                    for i in range(agents)))
    await watcher
    return tally, sum(rounds), time.monotonic() - started, lag


# ---- the accounting, afterwards -----------------------------------------------------------------
def all_fills(client: httpx.Client, headers: dict) -> list[dict]:
    """Every fill of the agent, oldest first: from ``since=0``, page by page with ``next_cursor``."""
    page = client.get("/v1/mm/fills", params={"since": 0, "limit": 1000}, headers=headers).json()
    found = list(page["fills"])
    while page["next_cursor"] is not None:
        page = client.get("/v1/mm/fills", params={"cursor": page["next_cursor"], "limit": 1000},
                          headers=headers).json()
        found += page["fills"]
    return found


def check_agent(client: httpx.Client, i: int, symbol: str) -> tuple[list[str], int]:
    """The invariants for one agent; returns what failed (empty when all hold) and its fill count."""
    headers = {"Authorization": f"Bearer {agent_key(i)}"}
    problems = []
    client.post("/v1/mm/cancel", json={"symbol": symbol}, headers=headers)
    fills = all_fills(client, headers)
    sign = {"buy": 1, "sell": -1}
    position = sum(sign[f["side"]] * f["size"] for f in fills)
    shown = {p["symbol"]: p["position"] for p in client.get("/v1/account", headers=headers).json()["positions"]}
    if abs(position - shown.get(symbol, 0.0)) > 1e-9:
        problems.append(f"position {shown.get(symbol)} != sum of fills {position}")
    if shown.get(symbol):
        client.post("/v1/mm/hedge", json={"symbol": symbol, "hedge_pct": 1}, headers=headers)
        fills = all_fills(client, headers)
    cash = sum(-sign[f["side"]] * f["price"] * f["size"] - f["fee_usd"] for f in fills)
    account = client.get("/v1/account", headers=headers).json()
    pnl = client.get("/v1/mm/pnl", headers=headers).json()
    tolerance = 1e-6 + 1e-9 * len(fills)        # each fee is shown to 1e-9
    if account["positions"]:
        problems.append(f"not flat after the hedge: {account['positions']}")
    if abs(account["balance_usd"] - STARTING_BALANCE - cash) > tolerance:
        problems.append(f"balance change {account['balance_usd'] - STARTING_BALANCE} != fills' cash {cash}")
    if abs(pnl["net_pnl"] - cash) > tolerance:
        problems.append(f"net_pnl {pnl['net_pnl']} != fills' cash {cash}")
    parts = pnl["spread_income"] + pnl["rebates"] + pnl["inventory_pnl"] - pnl["hedge_cost"]
    if abs(pnl["net_pnl"] - parts) > 1e-6:
        problems.append(f"net_pnl {pnl['net_pnl']} != its parts {parts}")
    return problems, len(fills)


def cancel_arrives_ms(client: httpx.Client, i: int) -> int:
    """Cancel agent ``i``'s orders; the mock instant (ms) by which the cancel has reached the book: its
    ``cancelled_at`` (one agent's messages reach a book in the order sent, so every quote it sent before
    is there by then too); when the cancel was refused, the clock now plus the longest delay a message
    can take (MAX_DELAY_MS, pf_mock/models/latency.py)."""
    answer = client.post("/v1/mm/cancel", json={"symbol": SYMBOLS[i % len(SYMBOLS)]},
                         headers={"Authorization": f"Bearer {agent_key(i)}"})
    if answer.status_code == 200:
        return answer.json()["cancelled_at"]
    return clock_ms(client) + int(MAX_DELAY_MS)


def clock_ms(client: httpx.Client) -> int:
    return client.get("/_mock/state").json()["clock"]["now"]


def wait_for_clock(client: httpx.Client, instant_ms: int) -> None:
    """Wait until the server's realtime clock is past ``instant_ms`` (a read then catches every market up
    to a later instant, so whatever was due by then has happened)."""
    while clock_ms(client) <= instant_ms:
        time.sleep(0.01)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 agents for 5 s (the smoke test's size)")
    ap.add_argument("--agents", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None, help="wall seconds of load (default 600)")
    ap.add_argument("--speed", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    agents = args.agents or (10 if args.quick else 100)
    seconds = args.seconds or (5.0 if args.quick else 600.0)
    print(f"pf-mock load: {agents} agents, {seconds:g} s wall at --speed {args.speed:g} "
          f"({seconds * args.speed / 3600:.2f} simulated hours), Python {platform.python_version()}")
    with pf_mock_server("--seed", str(args.seed), "--speed", str(args.speed)) as server:
        rss_before = server.rss_mb()
        server_cpu = cpu_seconds(server.process.pid)
        cpu = time.process_time()
        tally, rounds, wall, lag = asyncio.run(run_load(server.base_url, agents, seconds, args.speed))
        cpu = time.process_time() - cpu
        server_after = cpu_seconds(server.process.pid)
        rss_after = server.rss_mb()
        lat = sorted(tally.latencies)
        print(f"requests: {len(lat)} in {wall:.1f} s = {len(lat) / wall:.0f} requests/s ({rounds} quote rounds)")
        print(f"load generator (this process): {cpu:.1f} s of CPU, {cpu / max(len(lat), 1) * 1000:.2f} ms a request")
        if server_cpu is not None and server_after is not None:
            used = server_after - server_cpu
            print(f"server: {used:.1f} s of CPU in {wall:.1f} s of wall time ({used / wall:.0%} of a core), "
                  f"{used / max(len(lat), 1) * 1000:.2f} ms a request, simulation included")
        print(f"latency: p50 {percentile(lat, 0.50) * 1000:.1f} ms, p99 {percentile(lat, 0.99) * 1000:.1f} ms, "
              f"worst {lat[-1] * 1000 if lat else float('nan'):.1f} ms")
        print("answers: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.statuses.items())))
        print(f"errors: {tally.statuses.get('5xx', 0)} 5xx, {tally.transport_errors} transport")
        print(f"simulation behind the clock: a catch-up under way in {lag.catching_up} of {lag.samples} "
              f"once-a-second looks at /_mock/state; the longest began {lag.worst_s:.0f} simulated s behind "
              f"(a catch-up is what every waiting request waits on)")
        rss = lambda mb: "n/a" if mb is None else f"{mb:.0f} MB"      # noqa: E731
        print(f"server memory (RSS): {rss(rss_before)} before, {rss(rss_after)} after")
        failures, fills = [], 0
        with httpx.Client(base_url=server.base_url, timeout=600.0) as client:
            # An order still on its way when the load stops would reach the book later, rest and fill while
            # the clock runs on: a fill between two of the checks' reads would fail an invariant that holds.
            # One agent's messages to a market reach its book in the order sent, so once an agent's cancel
            # has arrived nothing it sent before is still on its way. Every agent's orders are cancelled and
            # the checks wait for those cancels to arrive; a second round, a few requests more, makes sure
            # the first left nothing behind.
            for _ in range(2):
                arrivals = [cancel_arrives_ms(client, i) for i in range(agents)]
                wait_for_clock(client, max(arrivals))
            for i in range(agents):
                try:
                    problems, n = check_agent(client, i, SYMBOLS[i % len(SYMBOLS)])
                except httpx.HTTPError as exc:
                    problems, n = [f"could not be checked: {type(exc).__name__}"], 0
                fills += n
                failures += [f"agent {i}: {p}" for p in problems]
        print(f"accounting: {agents - len({f.split(':')[0] for f in failures})} of {agents} agents hold every "
              f"invariant over {fills} fills (position = sum of fills; balance change = fills' cash = net_pnl; "
              f"net_pnl = its parts)")
        for line in failures[:20]:
            print("  FAILED " + line)
    sys.exit(1 if failures or tally.statuses.get("5xx") or tally.transport_errors else 0)


if __name__ == "__main__":
    main()
