"""How fast a recording replays with one auto-refreshing maker on it, against the synthetic market.

    python benchmarks/replay_speed.py [PATH/TO/recording.gz] [--step 1]

One agent quotes $1,000 a side 2 bps from the mid with ``auto_refresh`` every 5 s (the server re-posts it
around the mid), and the clock is advanced ``--step`` seconds at a time to the recording's end, as a client
polling its fills would. The same maker on the synthetic BTC-PERP over the same span, in the same process,
is the baseline. Printed: wall seconds of each (reading the recording apart), recorded seconds per wall
second, fills, and the ratio. The target: the 344 s Binance recording in at most 10 s of wall time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pf_mock.messages import QuoteRequest  # noqa: E402
from pf_mock.replay.setup import load_sources  # noqa: E402
from pf_mock.server import ServeOptions, build_exchange  # noqa: E402

KEY = "pf_test_speed_maker"
DEFAULT_FILE = ROOT / "tests" / "data" / "feeds" / "binance-usdm-btcusdt-20240808-first20s.gz"


def run(exchange, symbol: str, span: float, step: float) -> tuple[float, int, int]:
    agent = exchange.authenticate(KEY)
    agent.deposits = 1e9
    mid = exchange.market(symbol).mid
    started, cpu = time.perf_counter(), time.process_time()
    exchange.quote(agent, QuoteRequest(symbol=symbol, bid_price=mid * (1 - 2e-4), bid_size=1000,
                                       ask_price=mid * (1 + 2e-4), ask_size=1000, auto_refresh=True,
                                       refresh_interval_seconds=5))
    steps = int(span // step)
    for _ in range(steps):
        exchange.advance(step)
        exchange.fills(agent, symbol, limit=10)
    exchange.advance(round(span - steps * step, 6))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    ledger = agent.ledgers.get(symbol)
    return wall, cpu, len(ledger.fills) if ledger else 0, exchange.markets[symbol].events_processed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("recording", nargs="?", default=str(DEFAULT_FILE))
    p.add_argument("--step", type=float, default=1.0, help="seconds per clock advance (default 1)")
    args = p.parse_args()
    t, c = time.perf_counter(), time.process_time()
    sources = load_sources([args.recording])
    read_s, read_cpu = time.perf_counter() - t, time.process_time() - c
    source = next(iter(sources.values()))
    span = source.end_s - source.start_s
    replayed = build_exchange(ServeOptions(clock="manual", replay=sources))
    wall, cpu, fills, events = run(replayed, source.symbol, span, args.step)
    synthetic = build_exchange(ServeOptions(clock="manual"))
    base_wall, base_cpu, base_fills, base_events = run(synthetic, source.symbol, span, args.step)
    print(f"recording {args.recording}: {span:.1f} s of {source.recording.venue} {source.recording.symbol}, "
          f"read and laid out in {read_s:.2f} s ({read_cpu:.2f} s of CPU)")
    print(f"{'':12}{'wall s':>9}{'CPU s':>8}{'recorded s / wall s':>22}{'events':>10}{'fills':>8}")
    print(f"{'replay':12}{wall:>9.2f}{cpu:>8.2f}{span / wall:>22,.0f}{events:>10,}{fills:>8}")
    print(f"{'synthetic':12}{base_wall:>9.2f}{base_cpu:>8.2f}{span / base_wall:>22,.0f}{base_events:>10,}{base_fills:>8}")
    print(f"replay / synthetic wall time: {wall / base_wall:.2f}x; reading and replay: {wall + read_s:.2f} s wall, "
          f"{cpu + read_cpu:.2f} s CPU (target for the 344 s Binance recording: <= 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
