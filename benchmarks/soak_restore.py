"""Soak: what a restore costs on a long log; rerun with ``python benchmarks/soak_restore.py`` (a simulated
day of the seed page's client) or ``--quick`` (ten simulated minutes).

A snapshot is the exchange's state and a restore builds it back (``pf_mock/state.py``): its cost follows
the state (the fills above all), not the number of requests. This runs, in process on a manual clock,
the seed page's client loop on BTC-PERP — every 5 simulated seconds: cancel, then quote 5 bps wide with
$100 a side — for ``--hours``, timing it; takes a snapshot; restores it into a fresh server, timing
that; and checks the two answer the same afterwards. Printed: the requests sent, the snapshot's size in
bytes and its fills, the original run's wall time, the restore's, and their ratio (the baseline is the
original run, in the same process). ``soak_restore_days.py`` does the same for three simulated days of an
auto-refreshing agent on three markets, over HTTP.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_mock.testing import in_process  # noqa: E402

SYMBOL = "BTC-PERP"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="ten simulated minutes")
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rounds = int((1 / 6 if args.quick else args.hours) * 3600 / 5)
    print(f"pf-mock restore cost: the seed client's loop for {rounds} rounds ({rounds * 5 / 3600:g} simulated "
          f"hours), Python {platform.python_version()}")
    with in_process(seed=args.seed) as original, in_process(seed=args.seed) as restored:
        c, control = original.client, original._control
        began = time.perf_counter()
        for _ in range(rounds):
            mid = c.get(f"/v1/markets/{SYMBOL}/price").json()["mid"]
            c.post("/v1/mm/cancel", json={"symbol": SYMBOL})
            c.post("/v1/mm/quote", json={"symbol": SYMBOL, "bid_price": mid * (1 - 2.5e-4), "bid_size": 100,
                                         "ask_price": mid * (1 + 2.5e-4), "ask_size": 100})
            control.post("/_mock/clock/advance", json={"seconds": 5})
        run_s = time.perf_counter() - began
        document = control.post("/_mock/snapshot").json()
        size = len(json.dumps(document).encode())
        fills = sum(len(a["fills"]) for a in document["agents"])
        began = time.perf_counter()
        r = restored._control.post("/_mock/restore", json=document)
        restore_s = time.perf_counter() - began
        if r.status_code != 200:
            print(f"restore FAILED: {r.status_code} {r.text[:300]}")
            sys.exit(1)
        same = all(original.client.get(p).content == restored.client.get(p).content
                   for p in ("/v1/mm/fills?limit=1000", "/v1/mm/pnl", "/v1/account", "/_mock/state"))
        print(f"requests sent: {rounds * 4}; snapshot size: {size} bytes, {fills} fills "
              f"({size / max(1, rounds * 4):.0f} bytes per request sent)")
        print(f"original run: {run_s:.2f} s wall; restore: {restore_s:.2f} s wall; "
              f"ratio restore / original: {restore_s / run_s:.2f}")
        print(f"answers after the restore equal the original's: {'yes' if same else 'NO'}")
        sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
