"""Queue position on the synthetic market: an agent that joins the back of a deep level waits behind the
depth resting there, and fills less than one that improves the level by a tick.

The oracle is the book's own accounting, not a figure: an order that joined behind ``ahead`` lots can be
reached at its level only once trades at that price have taken those lots (the house's depth keeps its
place while the level stands), unless the price ran through the level (the house's ask came down to it).
"""

from __future__ import annotations

import functools

import pytest

from pf_mock.book import GTC
from pf_mock.catalog import load_catalog
from pf_mock.clock import DEFAULT_EPOCH, US_PER_S
from pf_mock.market import AgentFill, Market

BACK, FRONT = "back", "improver"


class Watch:
    """Steps a market event by event and keeps each agent's maker fills from its news, marked after the
    event: had the price run through the level (the house's own best on the other side reached it)?"""

    def __init__(self) -> None:
        self.fills = []             # (owner, order_id, lots, through, time_us)

    def take(self, market) -> None:
        for fill in market.take_news():
            if type(fill) is AgentFill and fill.maker:
                other = market.house.touch[not fill.is_buy]
                through = other is None or (other[0] <= fill.price if fill.is_buy else other[0] >= fill.price)
                self.fills.append((fill.owner, fill.order_id, fill.lots, through, market.now_us))

    def advance_to(self, market, t: float) -> None:
        target = round(t * US_PER_S)
        while market.step_until(target) is not None:
            self.take(market)
        market.stand_at(target)


@functools.lru_cache(maxsize=None)
def run(seed: int, seconds: int = 240, every: int = 5, turnover: bool = True):
    """Every ``every`` s on each side: BACK joins the first level behind the touch, FRONT posts one tick
    better (rounds where that is the touch itself are skipped). Returns (watch, market, joined), where
    ``joined[order_id] = (price, lots ahead, trades printed when it joined)``. Without ``turnover`` the
    house cancels nothing at a level (``queue_cancel_per_second`` 0): only trades drain the queue."""
    watch = Watch()
    spec = load_catalog().resolve("BTC-PERP")
    regime = spec.regime if turnover else spec.regime.with_changes(queue_cancel_per_second=0.0)
    market = Market(spec, seed, DEFAULT_EPOCH, regime=regime)
    market.watchers = 1
    grid = market.grid
    joined, live = {}, []
    for k in range(1, seconds // every):
        watch.advance_to(market, DEFAULT_EPOCH + k * every)
        for order_id in live:
            market.cancel(order_id)
        live = []
        watch.take(market)
        for is_buy in (True, False):
            levels = market.depth(is_buy, 2)
            (touch, _), (deep, deep_lots) = levels
            better = deep + grid.tick_at(deep) * (1 if is_buy else -1)
            if better == touch or grid.notional(deep, deep_lots) < 100_000:
                continue                # the case: a deep level ($100k or more), improvable
            for owner, price in ((BACK, deep), (FRONT, better)):
                ahead = sum(o.qty for o in market.book.orders_at(is_buy, price))
                order_id, result = market.place(owner, is_buy, price, grid.lots_for_usd(100, price), GTC)
                assert result.resting is not None and not result.fills
                joined[order_id] = (price, ahead, market.trades_printed, is_buy)
                live.append(order_id)
                watch.take(market)
    return watch, market, joined


SEEDS = (0, 1, 2)


def test_an_order_at_the_back_is_reached_only_after_the_depth_ahead_traded() -> None:
    """With no turnover (only trades drain a queue; the turnover has its own test below)."""
    checked = 0
    for seed in (0, 2):
        watch, market, joined = run(seed, turnover=False)
        trades = list(market.trades)
        assert market.trades_printed == len(trades)          # the whole tape is kept: every print is seen
        for owner, order_id, lots, through, when in watch.fills:
            if owner != BACK or through:
                continue
            price, ahead, printed, is_buy = joined[order_id]
            assert ahead > 0
            # Lots printed at its price by takers on its side from joining to its fill (included).
            traded = sum(t.lots for t in trades[printed:]
                         if t.price == price and t.taker_is_buy != is_buy and t.time_us <= when)
            assert traded >= ahead + lots, (seed, order_id, ahead, traded)
            checked += 1
    assert checked, "no fill at a standing level: the oracle was not exercised"


def test_the_back_of_a_deep_level_fills_less_than_one_tick_better() -> None:
    filled = {BACK: 0, FRONT: 0}
    at_level = {BACK: 0, FRONT: 0}
    for seed in SEEDS:
        watch, _, _ = run(seed, 180)        # the market as it is: the house's queues turn over
        for owner, _, lots, through, _ in watch.fills:
            filled[owner] += lots
            if not through:
                at_level[owner] += lots
    # Where the level stands, the improver is first in its queue and the back waits behind the depth.
    assert at_level[BACK] * 2 <= at_level[FRONT], at_level
    assert filled[BACK] < filled[FRONT], filled


def test_the_turned_over_queue_is_in_the_snapshot_and_a_restore_goes_on_byte_for_byte() -> None:
    """An agent waits at a deep level until the house has re-posted lots behind it (``behind`` in the
    house's state); a restore of the snapshot then answers every later read exactly as the original."""
    import json

    from app_client import in_process
    from test_snapshot import reads, restore, snap

    with in_process(seed=1) as original, in_process(seed=7) as copy:
        book = original.client.get("/v1/markets/BTC-PERP/orderbook?depth=5").json()
        bid, ask = book["bids"][3]["price"], book["asks"][3]["price"]      # deep levels: depth rests there
        r = original.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": bid, "bid_size": 100,
                                                        "ask_price": ask, "ask_size": 100})
        assert r.status_code == 200, r.text
        original.advance(2)
        document = snap(original)
        house = next(m for m in json.loads(document)["markets"] if m["symbol"] == "BTC-PERP")["house"]
        assert house["behind"], "no lots re-posted behind the agent: the state path was not exercised"
        assert restore(copy, document).status_code == 200
        for seconds in (1, 6):
            original.advance(seconds)
            copy.advance(seconds)
            assert reads(copy) == reads(original)
        assert snap(copy) == snap(original)

        # hostile: each entry must name house orders at its side and price, each side and price once
        from test_snapshot_hostile import refused

        parsed = json.loads(document)
        index = next(i for i, m in enumerate(parsed["markets"]) if m["symbol"] == "BTC-PERP")
        market = parsed["markets"][index]
        is_buy, price, ids = market["house"]["behind"][0]
        agent_id = next(o[0] for side in ("bids", "asks") for _, queue in market["book"][side] for o in queue
                        if o[1] is not None)
        for entry in ([is_buy, price, [agent_id]], [not is_buy, price, ids], [is_buy, price + 1, ids]):
            bad = json.loads(document)
            bad["markets"][index]["house"]["behind"][0] = entry
            refused(copy, bad, f"markets.{index}.house.behind.0")
        bad = json.loads(document)
        bad["markets"][index]["house"]["behind"].append([is_buy, price, []])
        refused(copy, bad, f"markets.{index}.house.behind.{len(market['house']['behind'])}")
        # a document written before the field restores, with nothing re-posted
        older = json.loads(document)
        del older["markets"][index]["house"]["behind"]
        assert restore(copy, older).status_code == 200


# ---- the queue model and the turnover, on their own ------------------------------------------------------
def _regime(rate: float, power: float = 3.0, updates: float = 60.0):
    return load_catalog().resolve("BTC-PERP").regime.with_changes(
        queue_cancel_per_second=rate, queue_power=power, updates_per_minute=updates)


def test_the_split_takes_from_the_longer_side_by_the_power_law() -> None:
    from pf_mock.models import QueueTurnover

    model = QueueTurnover()
    # one update a second at 10% a second: 1 - e^-0.1 of the lots, rounded down
    assert model.cancel_share(_regime(0.1)) == pytest.approx(0.0951626, abs=1e-6)
    assert model.cancel_share(_regime(0.0)) == 0.0
    # a**n / (a**n + b**n): n = 1 in proportion, n = 3 lopsided towards the longer side
    assert model.share_ahead(300, 100, _regime(0.1, 1.0)) == pytest.approx(0.75)
    assert model.share_ahead(300, 100, _regime(0.1, 3.0)) == pytest.approx(27 / 28)
    assert model.share_ahead(100, 300, _regime(0.1, 3.0)) == pytest.approx(1 / 28)
    assert model.share_ahead(0, 300, _regime(0.1)) == 0.0 and model.share_ahead(300, 0, _regime(0.1)) == 1.0
    # 9,516 of 100,000 lots: ahead 75,000 and behind 25,000 at n = 1 split 7,137 / 2,379
    assert model.split(75_000, 25_000, _regime(0.1, 1.0)) == (7_137, 2_379)
    # what one side cannot give comes from the other; nothing below a lot
    assert model.split(100, 0, _regime(0.1)) == (9, 0)
    assert model.split(0, 100, _regime(0.1)) == (0, 9)
    assert model.split(10, 5, _regime(0.1)) == (1, 0)
    assert model.split(5, 5, _regime(0.1)) == (0, 0)


def test_a_turnover_moves_the_agent_up_by_what_left_ahead_and_keeps_the_level_and_the_order() -> None:
    from pf_mock.book import OrderBook
    from pf_mock.grid import Grid
    from pf_mock.liquidity import BackgroundLiquidity
    from pf_mock.models import QueueTurnover

    book = OrderBook()
    ids = iter(range(-100, -1000, -1))
    house = BackgroundLiquidity(Grid(5), lambda: next(ids))
    book.submit(-1, None, True, 1_000, 60_000)
    book.submit(-2, None, True, 1_000, 15_000)
    book.submit(7, "agent", True, 1_000, 500)
    book.submit(-3, None, True, 1_000, 25_000)
    regime = _regime(0.1, 1.0)
    front, back = QueueTurnover().split(75_000, 25_000, regime)
    house.turn_over(book, [(True, 1_000)], regime, QueueTurnover())
    queue = [(o.order_id, o.qty) for o in book.orders_at(True, 1_000)]
    # the latest house order ahead gives first, then the earlier; behind likewise; all keep their places
    assert (front, back) == (7_137, 2_379)
    assert queue == [(-1, 60_000), (-2, 15_000 - front), (7, 500), (-3, 25_000 - back), (-100, front + back)]
    assert sum(q for _, q in queue) == 100_500                    # the level keeps its size
    assert house.behind == {(True, 1_000): [-100]}
    # the next turnover grows the re-posted order while it is last in the queue; behind a newcomer, a new one
    house.turn_over(book, [(True, 1_000)], regime, QueueTurnover())
    assert house.behind == {(True, 1_000): [-100]} and sum(o.qty for o in book.orders_at(True, 1_000)) == 100_500
    book.submit(8, "other", True, 1_000, 300)
    house.turn_over(book, [(True, 1_000)], regime, QueueTurnover())
    assert house.behind == {(True, 1_000): [-100, -101]}
    assert [o.order_id for o in book.orders_at(True, 1_000)] == [-1, 7, -3, -100, 8, -101]   # -2 all cancelled
    assert house.eaten == {1_000}            # a house order cancelled whole: its level is seen to again
    queue = [(o.order_id, o.qty) for o in book.orders_at(True, 1_000)]
    # a price where no agent waits is left alone; no turnover at rate 0
    book.submit(-4, None, True, 990, 1_000)
    house.turn_over(book, [(True, 990), (True, 1_000)], regime, QueueTurnover())
    queue = [(o.order_id, o.qty) for o in book.orders_at(True, 1_000)]
    house.turn_over(book, [(True, 1_000)], _regime(0.0), QueueTurnover())
    assert [(o.order_id, o.qty) for o in book.orders_at(True, 990)] == [(-4, 1_000)]
    assert [(o.order_id, o.qty) for o in book.orders_at(True, 1_000)] == queue
    # once no agent waits there, the re-posted lots fold back into the house's own order of the level
    house.bids[1_000] = -3
    book.cancel(7), book.cancel(8)
    front_qty = book.get(-1).qty
    house.turn_over(book, [], regime, QueueTurnover())
    assert [(o.order_id, o.qty) for o in book.orders_at(True, 1_000)] == [(-1, front_qty), (-3, 100_000 - front_qty)]
    assert house.behind == {}                   # the house's 100,000 lots there, all along


def test_how_time_is_stepped_and_reads_never_change_the_turnover() -> None:
    """An agent waits at deep levels while the queues turn over: stepped at once, or in small steps with
    reads in between, the fills, the book and the house's state come out the same."""
    spec = load_catalog().resolve("BTC-PERP")
    outcomes = []
    for small_steps in (False, True):
        watch = Watch()
        market = Market(spec, 5, DEFAULT_EPOCH)
        market.watchers = 1
        watch.advance_to(market, DEFAULT_EPOCH + 1)
        for is_buy in (True, False):
            price = market.depth(is_buy, 4)[3][0]
            market.place("agent", is_buy, price, 200, GTC)
        end = DEFAULT_EPOCH + 40
        if small_steps:
            t = DEFAULT_EPOCH + 1
            while t < end:
                t = min(t + 0.7, end)
                watch.advance_to(market, t)
                market.depth(True, 10), market.best_excluding("agent"), market.tape(), market.open_orders("agent")
        else:
            watch.advance_to(market, end)
        assert market.house.behind, "no turnover: the test would not see it"
        outcomes.append((watch.fills, market.book.state(), market.house.state(market.fair.regimes())))
    assert outcomes[0] == outcomes[1]
