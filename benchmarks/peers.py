"""The book against other Python order books, on the mixed workload of ``engine.py --case a``; rerun with
``python benchmarks/peers.py`` (``--ops N``, ``--repeats R``).

The peers are not pf-mock's dependencies: install the ones to compare into the same environment first,

    .venv/bin/python -m pip install cython-orderbook akhil4n-orderbook lightmatchingengine pyorderbook fastlob

and the script runs every one it can import (and says which it could not). Each peer replays the same
operations through its own public API, through an adapter written here: a GTC add rests (no add of the
workload crosses), a cancel names a live order, and a sweep crosses one or more levels up to its limit
and is filled whole (the workload makes it so). A peer without an IOC order sends the sweep as a market
order of the same size (the same fills: the size never reaches past the limit's level) or as a limit
order at the limit (nothing is left to rest). Peers that number orders themselves are handed the
workload's ids through a dict (one lookup per cancel, charged to the peer). Every replay must report the
same filled lots as ``pf_mock.book.OrderBook``; the figure is operations per second of CPU time
(``time.process_time``), the best of the repeats, pf-mock's book and each peer in turns in one process.

Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_spec = importlib.util.spec_from_file_location("engine_bench", Path(__file__).resolve().parent / "engine.py")
engine = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engine)

ADD, CANCEL = engine.ADD, engine.CANCEL


def replay_pf_mock(ops: list[tuple]) -> tuple[float, int]:
    seconds, filled, _ = _cpu(engine.replay_pf_mock, ops)
    return seconds, filled


def _cpu(replay, ops):
    start = time.process_time()
    _, filled, book = replay(ops)
    return time.process_time() - start, filled, book


# ---- the adapters: (name, package, replay(ops) -> filled lots) ----------------------------------------
def akhil4n(ops: list[tuple]) -> int:
    from orderbook import MarketOrder, Order, OrderBook, OrderSide
    book, ids, filled = OrderBook(), {}, 0
    buy, sell = OrderSide.BID, OrderSide.ASK
    for kind, order_id, _, is_buy, price, qty in ops:
        if kind == ADD:
            order = Order(buy if is_buy else sell, price, qty)
            book.add_limit_order(order)
            ids[order_id] = order.order_id
        elif kind == CANCEL:
            book.cancel_order(ids.pop(order_id))
        else:
            order = MarketOrder(buy if is_buy else sell, qty)
            book.add_market_order(order)
            filled += qty - order.remaining_quantity
    return filled


def cython_orderbook(ops: list[tuple]) -> int:
    from cython_orderbook import Order, OrderBook, OrderSide
    book, ids, filled = OrderBook(), {}, 0
    buy, sell = OrderSide.BID, OrderSide.ASK
    for kind, order_id, _, is_buy, price, qty in ops:
        if kind == ADD:
            order = Order(buy if is_buy else sell, qty, price)
            book.add_limit_order(order)
            ids[order_id] = order.order_id
        elif kind == CANCEL:
            book.cancel_order(ids.pop(order_id))
        else:
            order = Order(buy if is_buy else sell, qty)
            book.add_market_order(order)
            filled += qty - order.remaining_quantity
    return filled


def lightmatchingengine(ops: list[tuple]) -> int:
    from lightmatchingengine.lightmatchingengine import LightMatchingEngine, Side
    engine_, ids, filled = LightMatchingEngine(), {}, 0
    for kind, order_id, _, is_buy, price, qty in ops:
        if kind == ADD:
            order, _trades = engine_.add_order("X", price, qty, Side.BUY if is_buy else Side.SELL)
            ids[order_id] = order.order_id
        elif kind == CANCEL:
            engine_.cancel_order(ids.pop(order_id), "X")
        else:
            order, _trades = engine_.add_order("X", price, qty, Side.BUY if is_buy else Side.SELL)
            filled += qty - order.leaves_qty
    return filled


def pyorderbook(ops: list[tuple]) -> int:
    from pyorderbook import Book, Order, Side
    book, orders, filled = Book(), {}, 0
    for kind, order_id, _, is_buy, price, qty in ops:
        if kind == ADD:
            order = orders[order_id] = Order(Side.BID if is_buy else Side.ASK, "X", price, qty)
            book.match(order)
        elif kind == CANCEL:
            book.cancel(orders.pop(order_id))
        else:
            order = Order(Side.BID if is_buy else Side.ASK, "X", price, qty)
            book.match(order)
            filled += qty - order.quantity
    return filled


def fastlob(ops: list[tuple]) -> int:
    import fastlob as lob
    book, ids, filled = lob.Orderbook("X"), {}, 0
    book.start()
    try:
        for kind, order_id, _, is_buy, price, qty in ops:
            if kind == ADD:
                result = book.process(lob.OrderParams(lob.OrderSide.BID if is_buy else lob.OrderSide.ASK, price, qty))
                ids[order_id] = result.orderid()
            elif kind == CANCEL:
                book.cancel(ids.pop(order_id))
            else:
                result = book.process(lob.OrderParams(lob.OrderSide.BID if is_buy else lob.OrderSide.ASK, price, qty))
                filled += int(sum(result.execprices().values()))
    finally:
        book.stop()
    return filled


PEERS = [("cython-orderbook", "cython_orderbook", cython_orderbook),
         ("akhil4n-orderbook", "orderbook", akhil4n),
         ("lightmatchingengine", "lightmatchingengine", lightmatchingengine),
         ("pyorderbook", "pyorderbook", pyorderbook),
         ("fastlob", "fastlob", fastlob)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=50_000, help="operations in the workload (default 50,000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--book-size", type=int, default=1000)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)       # a peer that logs each order is measured, not its log handlers
    work = engine.make_workload(args.ops, 1, args.book_size)
    ops = work.ops
    print(f"workload: {len(ops):,} ops ({work.adds:,} adds, {work.cancels:,} cancels, {work.sweeps:,} sweeps), "
          f"book held near {args.book_size:,} orders; CPU time, best of {args.repeats}")
    found = [(name, replay) for name, module, replay in PEERS if importlib.util.find_spec(module) is not None]
    missing = [name for name, module, _ in PEERS if importlib.util.find_spec(module) is None]
    best = {name: float("inf") for name, _ in found}
    best_pf = float("inf")
    for _ in range(args.repeats):       # in turns: pf-mock's book, then each peer
        seconds, filled_pf = replay_pf_mock(ops)
        best_pf = min(best_pf, seconds)
        for name, replay in found:
            start = time.process_time()
            filled = replay(ops)
            best[name] = min(best[name], time.process_time() - start)
            assert filled == filled_pf, (name, filled, filled_pf)
    print(f"  pf_mock.book.OrderBook   {len(ops) / best_pf:>11,.0f} ops/s")
    for name, _ in found:
        print(f"  {name:<24} {len(ops) / best[name]:>11,.0f} ops/s   pf-mock's book: {best[name] / best_pf:6.1f}x")
    if missing:
        print(f"  not installed (skipped): {', '.join(missing)}")


if __name__ == "__main__":
    main()
