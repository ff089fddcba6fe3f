"""Soak: a restore costs the state, not the history. Rerun with ``python benchmarks/soak_restore_days.py``
(three simulated days) or ``--quick`` (one simulated hour).

An agent quotes 5 bps wide, $300 a side, on BTC-PERP, ETH-PERP and SOL-PERP with the server's refresh loop
on (every 5 s, with an inventory limit and an auto-hedge), and the manual clock is advanced an hour at a
time for ``--days``; that run is timed (the baseline, in the same process). Then the snapshot is taken
and POSTed to a second server over HTTP while another thread asks ``GET /health`` every 20 ms. Printed:
the snapshot's size and fill count, the original run's wall time, the restore's, their ratio, the slowest
``/health`` answer during the restore, and whether the two servers then answer the same bytes (before and
after a further simulated ten minutes on both). The restore's CPU time is printed beside its wall time:
on a busy machine the wall time is the CPU time stretched by whatever else runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_mock.testing import run_server  # noqa: E402

SYMBOLS = ("BTC-PERP", "ETH-PERP", "SOL-PERP")
READS = ("/v1/account", "/v1/mm/fills?limit=1000", "/v1/mm/pnl", "/v1/mm/orders", "/_mock/leaderboard",
         "/v1/markets/ETH-PERP/orderbook?depth=50")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="one simulated hour")
    ap.add_argument("--days", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    hours = 1 if args.quick else args.days * 24
    print(f"pf-mock restore cost: an auto-refreshing agent on {len(SYMBOLS)} markets for {hours:g} simulated hours, "
          f"Python {platform.python_version()}")
    with run_server(seed=args.seed) as original, run_server(seed=args.seed + 1) as restored:
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
        run_s = time.perf_counter() - began

        began = time.perf_counter()
        document = original._control.post("/_mock/snapshot", timeout=120).content
        snapshot_s = time.perf_counter() - began
        fills = sum(len(a["fills"]) for a in json.loads(document)["agents"])

        worst, done = 0.0, threading.Event()

        def poll() -> None:
            nonlocal worst
            with httpx.Client(base_url=restored.base_url) as h:
                while not done.is_set():
                    t = time.perf_counter()
                    assert h.get("/health", timeout=30).status_code == 200
                    worst = max(worst, time.perf_counter() - t)
                    time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.1)
        began, cpu = time.perf_counter(), time.process_time()
        r = restored._control.post("/_mock/restore", content=document, headers={"content-type": "application/json"},
                                  timeout=600)
        restore_s, restore_cpu = time.perf_counter() - began, time.process_time() - cpu
        done.set()
        poller.join()
        if r.status_code != 200:
            print(f"restore FAILED: {r.status_code} {r.text[:300]}")
            sys.exit(1)
        same = all(original.client.get(p).content == restored.client.get(p).content for p in READS)
        for server in (original, restored):
            server._control.post("/_mock/clock/advance", json={"seconds": 600}, timeout=600)
        same_after = all(original.client.get(p).content == restored.client.get(p).content for p in READS)
        print(f"snapshot: {len(document):,} bytes, {fills:,} fills, taken in {snapshot_s:.2f} s")
        print(f"original run: {run_s:.2f} s wall; restore: {restore_s:.3f} s wall ({restore_cpu:.3f} s of CPU in "
              f"this process, the servers' and the client's); ratio restore / original: {restore_s / run_s:.4f}")
        print(f"restore under 1 s: {'yes' if restore_s < 1 else 'NO'}; slowest /health during it: {worst * 1e3:.0f} ms")
        print(f"answers after the restore equal the original's: {'yes' if same else 'NO'}; "
              f"and ten simulated minutes later: {'yes' if same_after else 'NO'}")
        sys.exit(0 if same and same_after else 1)


if __name__ == "__main__":
    main()
