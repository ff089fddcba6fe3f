"""Keep-alive latency: what one client pays per request on a connection it keeps, against a new
connection per request (the baseline, measured in the same run); rerun with
``python benchmarks/keepalive.py`` (200 requests each way) or ``--quick`` (40).

``pf-mock serve`` is started as its own process on a free loopback port (manual clock). Each way, in
turns of 20: ``GET /health`` and ``GET /v1/markets/BTC-PERP/price`` with httpx. A server whose accepted
sockets kept Nagle's algorithm answered every keep-alive request after the client's delayed ACK, some
40 ms, while a new connection's first answer went out at once: the ratio showed it. With ``TCP_NODELAY``
keep-alive is the cheaper way, as it should be.

Nothing here asserts a time; the figures are for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import pf_mock_server  # noqa: E402  (a benchmark beside this one: its server helper)

PATHS = ("/health", "/v1/markets/BTC-PERP/price")


def main() -> None:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 requests each way")
    args = parser.parse_args()
    n = 40 if args.quick else 200
    with pf_mock_server("--clock", "manual") as server:
        url = server.base_url
        kept: dict[str, list[float]] = {p: [] for p in PATHS}
        fresh: dict[str, list[float]] = {p: [] for p in PATHS}
        with httpx.Client(base_url=url) as client:
            for path in PATHS:
                client.get(path)            # warm: the market made, the connection open
            for _ in range(n // 20):
                for path in PATHS:
                    for _ in range(20):
                        began = time.perf_counter()
                        assert client.get(path).status_code == 200
                        kept[path].append(time.perf_counter() - began)
                    for _ in range(20):
                        with httpx.Client(base_url=url) as once:
                            began = time.perf_counter()
                            assert once.get(path).status_code == 200
                            fresh[path].append(time.perf_counter() - began)
        print(f"{n} requests each way, in turns of 20 (medians; p90 in brackets)")
        for path in PATHS:
            k, f = statistics.median(kept[path]), statistics.median(fresh[path])
            k90 = statistics.quantiles(kept[path], n=10)[-1]
            f90 = statistics.quantiles(fresh[path], n=10)[-1]
            print(f"  GET {path}: keep-alive {k * 1e3:.2f} ms [{k90 * 1e3:.2f}], new connection {f * 1e3:.2f} ms "
                  f"[{f90 * 1e3:.2f}]; ratio keep-alive / new connection {k / f:.2f}")


if __name__ == "__main__":
    main()
