"""How fast the engine is, measured two ways; rerun with ``python benchmarks/engine.py`` (``--quick``
for smaller sizes, ``--case c`` for one of the cases below).

(a) Order book throughput. One seeded workload of book operations is generated first (untimed): about
    55% GTC adds that rest without crossing, at prices around a drifting mid; 35% cancels of random live
    orders; 10% IOC orders that cross and sweep one or more levels (part of the best level while the
    book is below ``--book-size`` open orders, two to four levels above it, which holds the book near
    that size; default 1,000). Only the replay is timed. It is
    replayed on ``pf_mock.book.OrderBook`` and, in the same process on the same operations, on
    ``BaselineBook`` below: the textbook pure-Python engine (heapq price heaps with lazy deletion, a FIFO
    deque per price). Both must report the same total filled quantity and end in the same state, so the
    ratio compares two engines doing the same work.

(b) Market simulation speed. BTC-PERP at its default activity, one simulated hour, with a watcher
    registered so that every event is simulated one by one (what a market with a live session costs),
    against the same hour with the idle fast-forward (what a market nobody is in costs).

(c) 275 idle markets over a simulated week, then one ``GET /v1/markets``, against the same request at
    the start.

(d) One agent's market: BTC-PERP with a maker cancelling and re-posting its quotes every 5 simulated
    seconds, against the watched market of (b).

Wall and CPU seconds are both printed: on a shared machine the CPU time is the steadier figure.

Nothing here asserts a time: the targets are printed next to the figures, not enforced.
"""

from __future__ import annotations

import argparse
import heapq
import platform
import random
import sys
import time
from collections import deque
from pathlib import Path
from typing import Callable, Hashable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pf_mock.book import GTC, IOC, OrderBook  # noqa: E402
from pf_mock.catalog import load_catalog  # noqa: E402
from pf_mock.market import Market  # noqa: E402

TARGET_ORDERS_PER_S = 500_000
TARGET_SIM_PER_WALL = 3_600
TARGET_IDLE_LIST_S = 0.3          # 275 idle markets over a simulated week, then GET /v1/markets
REPEATS = 3
START = 1767225600.0            # 2026-01-01T00:00:00Z

ADD, CANCEL, SWEEP = 0, 1, 2    # operation kinds; every operation is (kind, id, owner, is_buy, price, qty)


# ---- the baseline engine --------------------------------------------------------------------------
class BaselineOrder:
    __slots__ = ("order_id", "owner", "is_buy", "price", "qty", "live")

    def __init__(self, order_id: int, owner: Hashable | None, is_buy: bool, price: int, qty: int):
        self.order_id = order_id
        self.owner = owner
        self.is_buy = is_buy
        self.price = price
        self.qty = qty
        self.live = True


class BaselineLevel:
    __slots__ = ("queue", "count", "volume")

    def __init__(self) -> None:
        self.queue: deque[BaselineOrder] = deque()
        self.count = 0
        self.volume = 0


class BaselineBook:
    """The typical pure-Python price-time book, written the straightforward way.

    Each side keeps a heap of its occupied prices (bids negated) and a dict of price -> level. A
    cancel only marks the order dead and adjusts its level's counters; an empty level stays in the heap
    until it reaches the top, where it is popped. Same rules as ``OrderBook``: fills at the maker's
    price, self-trade prevention cancels the resting order, ALO is refused if it would cross.
    """

    def __init__(self) -> None:
        self.heaps: dict[bool, list[int]] = {True: [], False: []}   # key = -price for bids, price for asks
        self.levels: dict[bool, dict[int, BaselineLevel]] = {True: {}, False: {}}
        self.orders: dict[int, BaselineOrder] = {}

    def best(self, is_buy: bool) -> int | None:
        heap, levels = self.heaps[is_buy], self.levels[is_buy]
        sign = -1 if is_buy else 1
        while heap:
            price = sign * heap[0]
            if levels[price].count:
                return price
            heapq.heappop(heap)
            del levels[price]
        return None

    def submit(self, order_id: int, owner, is_buy: bool, price: int | None, qty: int,
               tif: str = GTC) -> tuple[list[tuple[int, int, int]], int, list[BaselineOrder]]:
        """Returns ``(fills, unfilled, self_trade_cancels)``; each fill is ``(maker_id, price, qty)``."""
        if qty <= 0:
            raise ValueError("qty must be positive")
        if order_id in self.orders:
            raise ValueError(f"duplicate order id {order_id}")
        if price is None:
            tif = IOC
        fills: list[tuple[int, int, int]] = []
        stp: list[BaselineOrder] = []
        opposite = self.best(not is_buy)
        if opposite is not None and (price is None or (opposite <= price if is_buy else opposite >= price)):
            if tif == "ALO":
                return fills, 0, stp
            qty = self._match(owner, is_buy, price, qty, fills, stp)
        if qty and price is not None and tif != IOC:
            self._rest(BaselineOrder(order_id, owner, is_buy, price, qty))
            return fills, 0, stp
        return fills, qty, stp

    def cancel(self, order_id: int) -> BaselineOrder | None:
        order = self.orders.pop(order_id, None)
        if order is None:
            return None
        order.live = False
        level = self.levels[order.is_buy][order.price]
        level.count -= 1
        level.volume -= order.qty
        if not level.count:
            level.queue.clear()     # the price stays in the heap until it surfaces
        return order

    def _rest(self, order: BaselineOrder) -> None:
        levels = self.levels[order.is_buy]
        level = levels.get(order.price)
        if level is None:
            level = levels[order.price] = BaselineLevel()
            heapq.heappush(self.heaps[order.is_buy], -order.price if order.is_buy else order.price)
        level.queue.append(order)
        level.count += 1
        level.volume += order.qty
        self.orders[order.order_id] = order

    def _match(self, owner, is_buy: bool, limit: int | None, qty: int, fills: list, stp: list) -> int:
        heap, levels = self.heaps[not is_buy], self.levels[not is_buy]
        sign = 1 if is_buy else -1          # asks are stored as +price, bids as -price
        orders = self.orders
        heappop = heapq.heappop
        while qty and heap:
            price = sign * heap[0]
            level = levels[price]
            if not level.count:
                heappop(heap)
                del levels[price]
                continue
            if limit is not None and sign * price > sign * limit:
                break
            queue = level.queue
            while qty and level.count:
                maker = queue[0]
                if not maker.live:
                    queue.popleft()
                    continue
                if owner is not None and maker.owner == owner:
                    queue.popleft()
                    maker.live = False
                    del orders[maker.order_id]
                    level.count -= 1
                    level.volume -= maker.qty
                    stp.append(maker)
                    continue
                take = maker.qty if maker.qty <= qty else qty
                maker.qty -= take
                level.volume -= take
                qty -= take
                fills.append((maker.order_id, price, take))
                if not maker.qty:
                    queue.popleft()
                    maker.live = False
                    del orders[maker.order_id]
                    level.count -= 1
            if level.count:
                break
            heappop(heap)
            del levels[price]
        return qty


# ---- (a) the workload -----------------------------------------------------------------------------
class Workload:
    def __init__(self, ops: list[tuple], adds: int, cancels: int, sweeps: int, levels_swept: int,
                 open_orders: int):
        self.ops = ops
        self.adds, self.cancels, self.sweeps = adds, cancels, sweeps
        self.levels_swept = levels_swept
        self.open_orders = open_orders


def make_workload(n_ops: int, seed: int, book_size: int) -> Workload:
    """``n_ops`` operations, decided against a model book so every cancel names a live order, every
    add rests and every sweep crosses. The model is an ``OrderBook``; the replay's cross-check against
    the independent baseline keeps that honest."""
    rng = random.Random(seed)
    model = OrderBook()
    ops: list[tuple] = []
    live: list[int] = []
    owners = (None, 1, 2, 3, 4)
    mid = 100_000           # price units; tick 1
    next_id = 0
    adds = cancels = sweeps = levels_swept = 0
    while len(ops) < n_ops:
        if rng.random() < 0.02:
            mid += rng.choice((-1, 1))
        r = rng.random()
        if r < 0.35 and live:
            while True:     # a random live order; drop ids that have since filled
                i = rng.randrange(len(live))
                order_id = live[i]
                live[i] = live[-1]
                live.pop()
                if model.get(order_id) is not None:
                    break
                if not live:
                    order_id = None
                    break
            if order_id is None:
                continue
            model.cancel(order_id)
            ops.append((CANCEL, order_id, None, None, None, 0))
            cancels += 1
            continue
        is_buy = rng.random() < 0.5
        next_id += 1
        if r >= 0.90:
            # Below the target size a sweep takes part or all of the best level; above it, two to four
            # levels. That holds the book near ``book_size`` while keeping the mix of operations.
            levels = 1 if len(model) < book_size else rng.randint(2, 4)
            depth = model.depth(not is_buy, levels)
            if depth:
                qty = sum(lots for _, lots in depth[:-1]) + rng.randint(1, depth[-1][1])
                limit = depth[-1][0]
                result = model.submit(next_id, None, is_buy, limit, qty, IOC)
                assert result.fills and not result.unfilled
                ops.append((SWEEP, next_id, None, is_buy, limit, qty))
                sweeps += 1
                levels_swept += len(depth)
                continue
        offset = 1 + int(rng.expovariate(1 / 6)) if rng.random() < 0.5 else rng.randint(1, 100)
        if is_buy:
            price = mid - offset
            best_ask = model.best_ask()
            if best_ask is not None and price >= best_ask:
                price = best_ask - 1
        else:
            price = mid + offset
            best_bid = model.best_bid()
            if best_bid is not None and price <= best_bid:
                price = best_bid + 1
        qty = rng.randint(1, 100)
        owner = owners[rng.randrange(len(owners))]
        result = model.submit(next_id, owner, is_buy, price, qty, GTC)
        assert result.resting is not None and not result.fills
        live.append(next_id)
        ops.append((ADD, next_id, owner, is_buy, price, qty))
        adds += 1
    return Workload(ops, adds, cancels, sweeps, levels_swept, len(model))


def replay_pf_mock(ops: list[tuple]) -> tuple[float, int, OrderBook]:
    book = OrderBook()
    submit, cancel = book.submit, book.cancel
    filled = 0
    start = time.perf_counter()
    for kind, order_id, owner, is_buy, price, qty in ops:
        if kind == ADD:
            submit(order_id, owner, is_buy, price, qty, GTC)
        elif kind == CANCEL:
            cancel(order_id)
        else:
            filled += qty - submit(order_id, owner, is_buy, price, qty, IOC).unfilled
    return time.perf_counter() - start, filled, book


def replay_baseline(ops: list[tuple]) -> tuple[float, int, BaselineBook]:
    book = BaselineBook()
    submit, cancel = book.submit, book.cancel
    filled = 0
    start = time.perf_counter()
    for kind, order_id, owner, is_buy, price, qty in ops:
        if kind == ADD:
            submit(order_id, owner, is_buy, price, qty, GTC)
        elif kind == CANCEL:
            cancel(order_id)
        else:
            filled += qty - submit(order_id, owner, is_buy, price, qty, IOC)[1]
    return time.perf_counter() - start, filled, book


def bench_book(n_ops: int, seed: int, book_size: int) -> None:
    t0 = time.perf_counter()
    work = make_workload(n_ops, seed, book_size)
    n = len(work.ops)
    print(f"(a) workload: {n:,} ops, seed {seed}, book held near {book_size:,} open orders "
          f"(generated in {time.perf_counter() - t0:.1f} s, untimed)")
    print(f"    {work.adds:,} GTC adds ({work.adds / n:.0%}), {work.cancels:,} cancels ({work.cancels / n:.0%}), "
          f"{work.sweeps:,} IOC sweeps ({work.sweeps / n:.0%}, "
          f"{work.levels_swept / max(work.sweeps, 1):.2f} levels each on average); "
          f"{work.open_orders:,} orders open at the end")
    best_pf = best_base = 0.0
    for i in range(REPEATS):    # interleaved, so drift in machine speed hits both alike
        wall_pf, filled_pf, book_pf = replay_pf_mock(work.ops)
        wall_base, filled_base, book_base = replay_baseline(work.ops)
        assert filled_pf == filled_base, (filled_pf, filled_base)
        assert len(book_pf) == len(book_base.orders)
        assert (book_pf.best_bid(), book_pf.best_ask()) == (book_base.best(True), book_base.best(False))
        best_pf, best_base = max(best_pf, n / wall_pf), max(best_base, n / wall_base)
        print(f"    repeat {i + 1}: pf_mock {n / wall_pf:>11,.0f} orders/s   "
              f"baseline {n / wall_base:>11,.0f} orders/s")
    met = "met" if best_pf >= TARGET_ORDERS_PER_S else "NOT met"
    print(f"    total filled: {filled_pf:,} lots in both engines; same open orders and best prices at the end")
    print(f"    pf_mock.book.OrderBook, best of {REPEATS}: {best_pf:,.0f} orders/s  "
          f"[target >= {TARGET_ORDERS_PER_S:,}: {met}]")
    print(f"    baseline (heapq + deque), best of {REPEATS}: {best_base:,.0f} orders/s")
    print(f"    ratio pf_mock / baseline: {best_pf / best_base:.2f}x")


# ---- (b) the market simulation --------------------------------------------------------------------
def time_hour(make: Callable[[], Market], seconds: float) -> tuple[float, float, Market]:
    """Best wall and best CPU seconds over REPEATS fresh markets run for ``seconds`` (the machine is
    shared: CPU time is the steadier figure, wall time what a user waits)."""
    best_wall = best_cpu = None
    market = None
    for _ in range(REPEATS):
        m = make()
        start, cpu = time.perf_counter(), time.process_time()
        m.advance_to(m.now + seconds)
        m.mid                               # an idle market lays its book out only when read
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        if best_wall is None or wall < best_wall:
            best_wall, market = wall, m
        best_cpu = cpu if best_cpu is None else min(best_cpu, cpu)
    return best_wall, best_cpu, market


def bench_market(seconds: float) -> None:
    spec = load_catalog().resolve("BTC-PERP")

    def watched() -> Market:
        m = Market(spec, seed=0, start=START)
        m.watchers = 1
        return m

    def idle() -> Market:
        return Market(spec, seed=0, start=START)

    wall_w, cpu_w, m_w = time_hour(watched, seconds)
    wall_i, cpu_i, m_i = time_hour(idle, seconds)
    rate_w, rate_i = seconds / wall_w, seconds / wall_i
    met = "met" if rate_w >= TARGET_SIM_PER_WALL else "NOT met"
    print(f"(b) BTC-PERP, default activity, seed 0, {seconds:,.0f} simulated s from 2026-01-01T00:00Z, "
          f"best of {REPEATS}")
    print(f"    event-by-event (watchers=1): {m_w.events_processed:,} events processed in {wall_w:.3f} s wall, "
          f"{cpu_w:.3f} s CPU -> {rate_w:,.0f} sim-s/wall-s  [target >= {TARGET_SIM_PER_WALL:,}: {met}], "
          f"{seconds / cpu_w:,.0f} sim-s/CPU-s")
    print(f"    idle fast-forward, then read (baseline): {m_i.events_processed:,} events processed, "
          f"in {wall_i:.4f} s -> {rate_i:,.0f} sim-s/wall-s")
    print(f"    ratio event-by-event / fast-forward: {rate_w / rate_i:.3f}x")


def bench_requoting(seconds: float) -> None:
    """(d) BTC-PERP with a maker that cancels its pair of $100 quotes and posts a new pair 2.5 bps
    around the mid every 5 simulated seconds, with no session (so the market is quiet for an instant
    at each round): what one agent's market costs, against the watched market of (b) as the baseline."""
    spec = load_catalog().resolve("BTC-PERP")

    def run(requote: bool) -> tuple[float, float, Market]:
        m = Market(spec, seed=0, start=START)
        if not requote:
            m.watchers = 1
        start, cpu = time.perf_counter(), time.process_time()
        live: list[int] = []
        t = m.now
        end = m.now + seconds
        while t < end:
            m.advance_to(t)
            if requote:
                for order_id in live:
                    m.cancel(order_id)
                live = []
                m.advance_to(t)             # the next request brings the market to now, as the exchange does
                mid = m.mid
                for is_buy in (True, False):
                    price = m.grid.price_down(mid * (1 - 2.5e-4)) if is_buy else m.grid.price_up(mid * (1 + 2.5e-4))
                    order_id, result = m.place("bench", is_buy, price, m.grid.lots_for_usd(100.0, price), GTC)
                    if result.resting is not None:
                        live.append(order_id)
            t += 5.0
        m.advance_to(end)
        return time.perf_counter() - start, time.process_time() - cpu, m

    base = min((run(False) for _ in range(REPEATS)), key=lambda r: r[1])
    quoting = min((run(True) for _ in range(REPEATS)), key=lambda r: r[1])
    print(f"(d) BTC-PERP, a maker re-quoting every 5 s (cancel, then post at the same instant), "
          f"{seconds:,.0f} simulated s, best of {REPEATS}")
    print(f"    re-quoting: {quoting[2].events_processed:,} events in {quoting[0]:.3f} s wall, {quoting[1]:.3f} s CPU "
          f"-> {seconds / quoting[1]:,.0f} sim-s/CPU-s")
    print(f"    watched, nobody quoting (baseline): {base[1]:.3f} s CPU; ratio {quoting[1] / base[1]:.2f}x CPU")


def bench_idle_week(days: float) -> None:
    """(c) Every market idle for ``days``, then one GET /v1/markets listing all 275; the baseline is the
    same request at the start, in the same process. Wall time through the HTTP layer, and the CPU
    time of the process over the same request."""
    from fastapi.testclient import TestClient

    from pf_mock.api import AppOptions, create_app
    from pf_mock.clock import ManualClock
    from pf_mock.exchange import Exchange, ExchangeConfig

    def listing(advance_s: float) -> tuple[float, float]:
        exchange = Exchange(ExchangeConfig(seed=0, latency_ms=0.0), ManualClock(START))
        client = TestClient(create_app(exchange, AppOptions()))
        client.get("/v1/markets", params={"limit": 500})       # every market exists from here on
        exchange.advance(advance_s) if advance_s else None
        start, cpu = time.perf_counter(), time.process_time()
        r = client.get("/v1/markets", params={"limit": 500})
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert r.status_code == 200 and r.json()["count"] == 275
        return wall, cpu
    base = [listing(0) for _ in range(REPEATS)]
    after = [listing(days * 86_400) for _ in range(REPEATS)]
    base_wall, base_cpu = min(w for w, _ in base), min(c for _, c in base)
    after_wall, after_cpu = min(w for w, _ in after), min(c for _, c in after)
    met = "met" if after_wall < TARGET_IDLE_LIST_S else "NOT met"
    print(f"(c) 275 idle markets, {days:g} simulated day(s), then GET /v1/markets?limit=500, best of {REPEATS}")
    print(f"    after {days:g} day(s): {after_wall:.3f} s wall  [target < {TARGET_IDLE_LIST_S} s: {met}], "
          f"{after_cpu:.3f} s CPU")
    print(f"    at the start (baseline): {base_wall:.3f} s wall, {base_cpu:.3f} s CPU; "
          f"ratio {after_wall / base_wall:.2f}x wall, {after_cpu / base_cpu:.2f}x CPU")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, each case once (a smoke run, not a measurement)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the book workload (a)")
    parser.add_argument("--book-size", type=int, default=1_000,
                        help="open orders the workload (a) holds the book near (default 1,000)")
    parser.add_argument("--case", action="append", choices="abcd",
                        help="run only this case (repeatable; default: all four)")
    args = parser.parse_args(argv)
    cases = set(args.case or "abcd")
    n_ops, seconds = (5_000, 120.0) if args.quick else (300_000, 3600.0)
    if args.quick:
        global REPEATS
        REPEATS = 1             # a smoke run: each case once (the suite runs it)
    print(f"pf-mock engine benchmark - {platform.python_implementation()} {platform.python_version()}, "
          f"{'quick (smaller sizes)' if args.quick else 'full sizes'}")
    print("  (a) orders/s: book operations (adds, cancels, sweeping IOCs) replayed per wall-clock second on")
    print("      one book, for pf_mock.book.OrderBook and for a baseline heapq+deque book on the same ops;")
    print(f"      target >= {TARGET_ORDERS_PER_S:,} orders/s for pf_mock.")
    print("  (b) sim-s/wall-s: simulated seconds of BTC-PERP per wall-clock second with every event")
    print("      simulated (a watched market), and with the idle fast-forward as the baseline;")
    print(f"      target >= {TARGET_SIM_PER_WALL:,} sim-s/wall-s (an hour of market in at most a second).")
    runs = {"a": lambda: bench_book(n_ops, args.seed, args.book_size), "b": lambda: bench_market(seconds),
            "c": lambda: bench_idle_week(0.25 if args.quick else 7.0), "d": lambda: bench_requoting(seconds)}
    for case in "abdc":                     # (c) last, as it always ran
        if case in cases:
            print()
            runs[case]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
