"""Soak: a restore costs the state, not the history. Rerun with ``python benchmarks/soak_restore_days.py``
(three simulated days) or ``--quick`` (one simulated hour); ``--save FILE`` keeps the snapshot (and, in
``FILE.run.json``, how long the run took), ``--from FILE`` times restores of a saved one without the run,
and ``--fills N`` replaces the agent's fills by N made-up ones first (a heavier document, same shape).

The run: an agent quotes 5 bps wide, $300 a side, on BTC-PERP, ETH-PERP and SOL-PERP with the server's
refresh loop on (every 5 s, with an inventory limit and an auto-hedge), and the manual clock is advanced
an hour at a time for ``--days``, in a server in this process; that run is timed (the baseline). Then the
snapshot is taken and POSTed ``--repeat`` times to a second server, a ``pf-mock serve`` process of its own,
then as many times again while a thread of this process asks it ``GET /health`` every 20 ms (and, as
the baseline, for as long again with no restore). Printed: the snapshot's size and fill
count; the run's wall time; for the restores, the wall time the client waited, the CPU time the restoring
server spent (from ``/proc``: its own, whatever else runs on the machine) and the server's own
``restore_seconds``, best and median; the ratio of the best restore to the run; the slowest ``/health``
answer during the restores and with none; and whether the restored server answers as the original does (before and
after a further simulated ten minutes on both) — with ``--from``, whether its snapshot is the document's
bytes. Last, with a snapshot file (``--save`` or ``--from``), how long ``pf-mock serve --restore FILE``
takes to answer ``/health``, beside a plain start.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_mock.testing import run_server  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import cpu_seconds  # noqa: E402  (a benchmark beside this one: its /proc reader)

SYMBOLS = ("BTC-PERP", "ETH-PERP", "SOL-PERP")
READS = ("/v1/account", "/v1/mm/fills?limit=1000", "/v1/mm/pnl", "/v1/mm/orders", "/_mock/leaderboard",
         "/v1/markets/ETH-PERP/orderbook?depth=50")


class Served:
    """A ``pf-mock serve`` process on a free port (manual clock); ``ready_s`` is how long it took to
    answer ``/health`` from its start."""

    def __init__(self, *extra: str):
        began = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "pf_mock", "serve", "--port", "0", "--clock", "manual",
                                      *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("pf-mock ready on "):
            self.proc.kill()
            raise RuntimeError(f"pf-mock serve did not start: {line}{self.proc.stderr.read()}")
        self.base_url = line.split()[3]
        self.http = httpx.Client(base_url=self.base_url, timeout=600)
        assert self.http.get("/health").status_code == 200
        self.ready_s = time.perf_counter() - began

    def close(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(timeout=60)


def run(hours: float, seed: int):
    """The original run, in a server of this process: (the server's context, the server, its wall time)."""
    ctx = run_server(seed=seed)
    original = ctx.__enter__()
    c = original.client
    began = time.perf_counter()
    for symbol in SYMBOLS:
        mid = c.get(f"/v1/markets/{symbol}/price").json()["mid"]
        r = c.post("/v1/mm/quote", json={
            "symbol": symbol, "bid_price": mid * (1 - 5e-4), "bid_size": 300, "ask_price": mid * (1 + 5e-4),
            "ask_size": 300, "auto_refresh": True, "refresh_interval_seconds": 5, "max_inventory_usd": 3_000,
            "auto_hedge_threshold_usd": 1_500})
        assert r.status_code == 200, r.text
    left = hours * 3600
    while left > 0:
        r = original._control.post("/_mock/clock/advance", json={"seconds": min(3600.0, left)}, timeout=600)
        assert r.status_code == 200, r.text
        left -= 3600
    return ctx, original, time.perf_counter() - began


class HealthPoll:
    """``GET /health`` every 20 ms from a thread of this process while in the ``with``; ``worst`` is the
    slowest answer's wall time."""

    def __init__(self, server: Served):
        self.server, self.worst, self.done = server, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.poll)

    def poll(self) -> None:
        with httpx.Client(base_url=self.server.base_url) as h:
            while not self.done.is_set():
                t = time.perf_counter()
                assert h.get("/health", timeout=30).status_code == 200
                self.worst = max(self.worst, time.perf_counter() - t)
                time.sleep(0.02)

    def __enter__(self) -> "HealthPoll":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()


def restores(server: Served, document: bytes, repeat: int) -> list[tuple[float, float, float]]:
    """POST the document ``repeat`` times: per restore, the wall time, the server's CPU time and its
    ``restore_seconds``."""
    rows = []
    for _ in range(repeat):
        time.sleep(0.1)
        began, cpu = time.perf_counter(), cpu_seconds(server.proc.pid)
        r = server.http.post("/_mock/restore", content=document, headers={"content-type": "application/json"})
        wall, cpu = time.perf_counter() - began, cpu_seconds(server.proc.pid) - cpu
        if r.status_code != 200:
            print(f"restore FAILED: {r.status_code} {r.text[:300]}")
            sys.exit(1)
        rows.append((wall, cpu, r.json()["restore_seconds"]))
    return rows


def with_fills(document: bytes, fills: int) -> bytes:
    """``document`` with its first agent's fills replaced by ``fills`` made-up ones spread over its markets
    and its time (valid: in time order, none after its now): the same state, bar a heavier ledger."""
    doc = json.loads(document)
    agent = doc["agents"][0]
    symbols = agent["ledgers"] or [doc["markets"][0]["symbol"]]
    agent["ledgers"] = symbols
    start, now = doc["clock"]["start_us"] / 1e6, doc["clock"]["now_us"] / 1e6
    agent["fills"] = [[symbols[i % len(symbols)], f"fill_{i:012x}", f"ord_{i:012x}", i % 2 == 0, 100.0 + i % 7,
                       150 + i % 5, 300.0, i % 3 > 0, -0.075, 100.5, "quote", start + (now - start) * i / fills]
                      for i in range(fills)]
    return json.dumps(doc, separators=(",", ":")).encode()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one simulated hour")
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5, help="restores timed (default 5)")
    ap.add_argument("--save", metavar="FILE", help="write the run's snapshot here (and FILE.run.json)")
    ap.add_argument("--from", dest="source", metavar="FILE", help="no run: time restores of this saved snapshot")
    ap.add_argument("--fills", type=int, metavar="N", help="restore the snapshot with its agent's fills replaced "
                                                           "by N made-up ones (a heavier ledger)")
    args = ap.parse_args()
    print(f"pf-mock restore cost, Python {platform.python_version()}")
    ctx = original = None
    if args.source:
        document = Path(args.source).read_bytes()
        meta_path = Path(args.source + ".run.json")
        meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
        run_s = meta["run_s"] if meta else None
        print(f"from {args.source}" + (f": {meta['hours']:g} simulated hours of an auto-refreshing agent on "
                                       f"{len(SYMBOLS)} markets, seed {meta['seed']}" if meta else ""))
    else:
        hours = 1 if args.quick else args.days * 24
        print(f"an auto-refreshing agent on {len(SYMBOLS)} markets for {hours:g} simulated hours")
        ctx, original, run_s = run(hours, args.seed)
        began = time.perf_counter()
        document = original._control.post("/_mock/snapshot", timeout=120).content
        print(f"snapshot taken in {time.perf_counter() - began:.2f} s")
        if args.save:
            Path(args.save).write_bytes(document)
            Path(args.save + ".run.json").write_text(json.dumps({"run_s": run_s, "hours": hours, "seed": args.seed}))
    if args.fills is not None:
        document = with_fills(document, args.fills)
        original = None                 # the document is no longer the original server's state
        print(f"its agent's fills replaced by {args.fills:,} made-up ones")
    parsed = json.loads(document)
    fills = sum(len(a["fills"]) for a in parsed["agents"])
    print(f"snapshot: {len(document):,} bytes, {fills:,} fills")
    restored = Served()
    try:
        rows = restores(restored, document, args.repeat)
        wall = sorted(r[0] for r in rows)
        cpu = sorted(r[1] for r in rows)
        own = sorted(r[2] for r in rows)
        print(f"restore over HTTP into a pf-mock serve process, {len(rows)} times: wall {wall[0]:.3f} s best, "
              f"{statistics.median(wall):.3f} s median; the server's CPU {cpu[0]:.2f} s best, "
              f"{statistics.median(cpu):.2f} s median; its restore_seconds {own[0]:.3f} best, "
              f"{statistics.median(own):.3f} median")
        began = time.perf_counter()
        with HealthPoll(restored) as during:
            polled = restores(restored, document, args.repeat)
        with HealthPoll(restored) as alone:
            time.sleep(time.perf_counter() - began)
        print(f"the same {len(polled)} times with /health asked every 20 ms: wall "
              f"{statistics.median(r[0] for r in polled):.3f} s median; slowest /health {during.worst * 1e3:.0f} ms "
              f"(with no restore, for as long: {alone.worst * 1e3:.0f} ms)")
        if run_s:
            print(f"original run: {run_s:.2f} s wall; ratio best restore / run: {wall[0] / run_s:.5f}")
        print(f"restore under 1 s: {'yes' if wall[0] < 1 else 'NO'} (wall, best); /health within 1 s "
              f"throughout: {'yes' if during.worst < 1 else 'NO'}")
        if original is not None:
            agent = {"authorization": original.client.headers["authorization"]}
            same = all(original.client.get(p).content == restored.http.get(p, headers=agent).content for p in READS)
            original._control.post("/_mock/clock/advance", json={"seconds": 600}, timeout=600)
            restored.http.post("/_mock/clock/advance", json={"seconds": 600})
            same_after = all(original.client.get(p).content == restored.http.get(p, headers=agent).content
                             for p in READS)
            print(f"answers after the restore equal the original's: {'yes' if same else 'NO'}; "
                  f"and ten simulated minutes later: {'yes' if same_after else 'NO'}")
        else:
            same = same_after = restored.http.post("/_mock/snapshot").content == document
            print(f"the restored server's snapshot is the document, byte for byte: {'yes' if same else 'NO'}")
    finally:
        restored.close()
        if ctx is not None:
            ctx.__exit__(None, None, None)
    if args.source or args.save:        # a snapshot file: how long a server takes to start from it
        with tempfile.TemporaryDirectory() as tmp:
            path = args.source or args.save
            if args.fills is not None:      # the document restored is in no file yet
                path = str(Path(tmp) / "snapshot.json")
                Path(path).write_bytes(document)
            plain = Served()
            plain.close()
            started = Served("--restore", path)
            started.close()
        print(f"pf-mock serve --restore FILE answers /health {started.ready_s:.2f} s after its start "
              f"(a plain start: {plain.ready_s:.2f} s)")
    sys.exit(0 if same and same_after else 1)


if __name__ == "__main__":
    main()
