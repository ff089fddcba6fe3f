"""The same simple maker on the same recording in pf-mock's replay and in hftbacktest, side by side.

    pip install hftbacktest          # the optional extra: pip install 'pf-mock[hftbacktest]'
    python benchmarks/replay_vs_hftbacktest.py PATH/TO/binance-usdm-btcusdt-20240808.gz

The maker: every ``--every`` seconds it cancels its orders and quotes one bid ``--ticks`` ticks below the
mid (rounded down to the tick) and one ask as far above (rounded up), ``--qty`` each, good till cancelled;
orders and cancels take ``--latency-ms`` to reach the book; fills are whole (no partial fills), with the
queue model ``--queue`` (``risk_averse`` or ``power:N``). Both engines are fed the same events: the
recording read by pf-mock's reader (``pf_mock.replay.formats``), written as hftbacktest's event array with
the exchange time set to the local receive time, so that both see one timeline.

It prints, for each engine, the maker's fills, filled volume and final position, and the replay speed
(recorded seconds per wall second; hftbacktest's after its JIT compilation, which is timed apart), then
the relative differences. docs/replay.md explains, rule by rule, where the two can differ.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pf_mock.clock import ManualClock  # noqa: E402
from pf_mock.catalog import load_catalog  # noqa: E402
from pf_mock.exchange import Exchange, ExchangeConfig  # noqa: E402
from pf_mock.messages import QuoteRequest  # noqa: E402
from pf_mock.replay.formats import RecordedLevel, RecordedBook, RecordedTrade, read_recording  # noqa: E402
from pf_mock.replay.latency import ConstantLatency  # noqa: E402
from pf_mock.replay.queue import parse_queue_model  # noqa: E402
from pf_mock.replay.source import ReplaySource, catalog_with  # noqa: E402

KEY = "pf_test_benchmark_maker"
DEFAULT_FILE = ROOT / "tests" / "data" / "feeds" / "binance-usdm-btcusdt-20240808-first20s.gz"


def quote_ticks(best_bid: int, best_ask: int, ticks: int) -> tuple[int, int]:
    """The maker's prices in ticks: ``ticks`` from the mid, the bid rounded down, the ask up."""
    twice_mid = best_bid + best_ask
    bid = (twice_mid - 2 * ticks) // 2             # floor(mid - ticks)
    ask = -((-(twice_mid + 2 * ticks)) // 2)       # ceil(mid + ticks)
    return bid, ask


# ---- pf-mock ----------------------------------------------------------------------------------------
def run_pf_mock(rec, args) -> dict:
    source = ReplaySource(rec, queue=parse_queue_model(args.queue), latency=ConstantLatency(args.latency_ms),
                          partial_fills=False)
    catalog = catalog_with(load_catalog(), {source.symbol: source})
    clock = ManualClock(source.data.start_us / 1e6)
    exchange = Exchange(ExchangeConfig(maker_rebate_bps=0.0, taker_fee_bps=0.0), clock, catalog=catalog,
                        sources={source.symbol: source})
    agent = exchange.authenticate(KEY)
    agent.deposits = 1e12                  # margin is not what is compared
    symbol = source.symbol
    tick = float(rec.tick)
    tick_units = source.data.grid.tick_units
    started = time.perf_counter()
    end = source.data.end_us / 1e6
    while exchange.now() + args.every <= end:
        exchange.advance(args.every)
        market = exchange.market(symbol)
        exchange.cancel(agent, symbol)
        bb, ba = market.best_bid(), market.best_ask()
        if bb is None or ba is None:
            continue
        bid, ask = quote_ticks(bb // tick_units, ba // tick_units, args.ticks)
        exchange.quote(agent, QuoteRequest(symbol=symbol, bid_price=round(bid * tick, 8),
                                           bid_size=args.qty * bid * tick + 1e-6,
                                           ask_price=round(ask * tick, 8), ask_size=args.qty * ask * tick + 1e-6))
    exchange.advance(max(end - exchange.now(), 0.0))
    wall = time.perf_counter() - started
    ledger = agent.ledgers.get(symbol)
    fills = list(ledger.fills) if ledger else []
    return {"fills": len(fills), "volume": sum(f.size for f in fills),
            "buys": sum(1 for f in fills if f.is_buy), "sells": sum(1 for f in fills if not f.is_buy),
            "position": ledger.position if ledger else 0.0, "wall": wall}


# ---- hftbacktest --------------------------------------------------------------------------------------
def events_for_hftbacktest(rec):
    import numpy as np
    from hftbacktest.types import (BUY_EVENT, DEPTH_EVENT, DEPTH_SNAPSHOT_EVENT, EXCH_EVENT, LOCAL_EVENT,
                                   SELL_EVENT, TRADE_EVENT, event_dtype)

    tick, lot = float(rec.tick), float(rec.lot)
    rows = []
    both = EXCH_EVENT | LOCAL_EVENT
    for e in rec.events:
        kind = type(e)
        if kind is RecordedLevel:
            rows.append((both | DEPTH_EVENT | (BUY_EVENT if e.side == "bid" else SELL_EVENT), e.ts, e.ts,
                         e.price * tick, e.size * lot, 0, 0, 0.0))
        elif kind is RecordedTrade:
            rows.append((both | TRADE_EVENT | (BUY_EVENT if e.taker == "buy" else SELL_EVENT), e.ts, e.ts,
                         e.price * tick, e.size * lot, 0, 0, 0.0))
        elif kind is RecordedBook:
            for side, levels in ((BUY_EVENT, e.bids), (SELL_EVENT, e.asks)):
                for price, size in levels:
                    rows.append((both | DEPTH_SNAPSHOT_EVENT | side, e.ts, e.ts, price * tick, size * lot, 0, 0, 0.0))
    return np.array(rows, dtype=event_dtype)


def run_hftbacktest(rec, args, data) -> dict:
    from numba import njit
    from hftbacktest import BacktestAsset, HashMapMarketDepthBacktest
    from hftbacktest import GTC, LIMIT

    def asset(events):
        a = (BacktestAsset().data([events]).linear_asset(1.0)
             .constant_order_latency(int(args.latency_ms * 1e6), int(args.latency_ms * 1e6))
             .no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
             .tick_size(float(rec.tick)).lot_size(float(rec.lot)).last_trades_capacity(0))
        queue = args.queue.strip().lower()
        if queue.startswith("power"):
            n = float(queue.partition(":")[2] or 3)
            return a.power_prob_queue_model(n)
        return a.risk_adverse_queue_model()

    @njit
    def maker(hbt, every_ns, ticks, qty, steps):
        next_id = 1
        for _ in range(steps):
            if hbt.elapse(every_ns) != 0:
                break
            hbt.clear_inactive_orders(0)
            values = hbt.orders(0).values()
            while values.has_next():
                order = values.get()
                if order.cancellable:
                    hbt.cancel(0, order.order_id, False)
            depth = hbt.depth(0)
            bb, ba = depth.best_bid_tick, depth.best_ask_tick
            twice_mid = bb + ba
            bid = (twice_mid - 2 * ticks) // 2
            ask = -((-(twice_mid + 2 * ticks)) // 2)
            hbt.submit_buy_order(0, next_id, bid * depth.tick_size, qty, GTC, LIMIT, False)
            next_id += 1
            hbt.submit_sell_order(0, next_id, ask * depth.tick_size, qty, GTC, LIMIT, False)
            next_id += 1
        return next_id

    every_ns = int(args.every * 1e9)
    duration_ns = data["local_ts"][-1] - data["local_ts"][0]
    steps = int(duration_ns // every_ns)
    compile_started = time.perf_counter()
    warm = HashMapMarketDepthBacktest([asset(data[: min(len(data), 5000)].copy())])
    maker(warm, every_ns, args.ticks, args.qty, 1)
    warm.close()
    compile_s = time.perf_counter() - compile_started
    hbt = HashMapMarketDepthBacktest([asset(data)])
    started = time.perf_counter()
    maker(hbt, every_ns, args.ticks, args.qty, steps)
    hbt.elapse(int(duration_ns - steps * every_ns))
    wall = time.perf_counter() - started
    values = hbt.state_values(0)
    out = {"fills": int(values.num_trades), "volume": float(values.trading_volume),
           "position": float(hbt.position(0)), "wall": wall, "compile": compile_s}
    hbt.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("recording", nargs="?", default=str(DEFAULT_FILE), help="a recording (default: the shipped 20 s cut)")
    p.add_argument("--ticks", type=int, default=1, help="distance of each quote from the mid, in ticks (default 1)")
    p.add_argument("--qty", type=float, default=0.01, help="size of each quote, base units (default 0.01)")
    p.add_argument("--every", type=float, default=5.0, help="seconds between re-quotes (default 5)")
    p.add_argument("--latency-ms", type=float, default=20.0, help="order entry latency (default 20)")
    p.add_argument("--queue", default="risk_averse", help="risk_averse or power:N (default risk_averse)")
    args = p.parse_args()

    t = time.perf_counter()
    rec = read_recording(args.recording)
    read_s = time.perf_counter() - t
    span = rec.duration_s
    print(f"recording {args.recording}: {rec.venue} {rec.symbol}, {span:.1f} s, {len(rec.events):,} events "
          f"(read in {read_s:.1f} s)")
    print(f"maker: ±{args.ticks} tick(s) from the mid, {args.qty:g} each, re-quoted every {args.every:g} s, "
          f"latency {args.latency_ms:g} ms, queue {args.queue}, no partial fills")
    mine = run_pf_mock(rec, args)
    try:
        data = events_for_hftbacktest(rec)
        theirs = run_hftbacktest(rec, args, data)
    except ImportError as exc:
        print(f"hftbacktest cannot be imported ({exc}; pip install hftbacktest): pf-mock's side only")
        theirs = None
    rows = [("fills", "fills", "{:d}"), ("filled volume", "volume", "{:.3f}"), ("final position", "position", "{:+.3f}")]
    print(f"\n{'':18}{'pf-mock':>14}{'hftbacktest':>14}{'difference':>12}")
    for label, key, fmt in rows:
        a = mine[key]
        b = theirs[key] if theirs else None
        diff = "" if b is None else (f"{(a - b) / abs(b) * 100:+.1f}%" if b else ("0" if a == b else "n/a"))
        print(f"{label:18}{fmt.format(a):>14}{(fmt.format(b) if b is not None else '-'):>14}{diff:>12}")
    print(f"{'  buys / sells':18}{mine['buys']:>7d} / {mine['sells']:<4d}")
    speed = f"{span / mine['wall']:,.0f} recorded s per wall s ({mine['wall']:.2f} s)"
    print(f"\nreplay speed  pf-mock:     {speed}")
    if theirs:
        print(f"              hftbacktest: {span / theirs['wall']:,.0f} recorded s per wall s ({theirs['wall']:.2f} s, "
              f"after {theirs['compile']:.1f} s of JIT compilation)")
        print(f"              ratio pf-mock / hftbacktest wall time: {mine['wall'] / theirs['wall']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
