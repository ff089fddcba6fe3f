"""Properties of the order book: a stateful machine checked against a plain reference model, and
examples of price-time priority, partial fills, IOC, market orders and the owners' allowance.

The reference model is deliberately naive: a dict of open orders, matched by sorting the opposite
side on every submission. Whatever the book does with its ladders, caches and lazy deletion must
give the same fills, cancels and open orders as this model.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pf_mock.book import ALO, GTC, IOC, Fill, Order, OrderBook

OWNERS = st.sampled_from([None, "a", "b", "c"])
PRICES = st.integers(min_value=97, max_value=103)     # a narrow range, so orders cross often
QTYS = st.integers(min_value=1, max_value=50)
SIDES = st.booleans()
TIFS = st.sampled_from([GTC, GTC, IOC, ALO])


# ---- the reference model --------------------------------------------------------------------------
@dataclass
class ModelOrder:
    order_id: int
    owner: object
    is_buy: bool
    price: int
    qty: int


@dataclass
class Expected:
    fills: list[tuple[int, int, int]]       # (maker id, price, qty)
    self_trade_cancels: list[int]
    guard_cancels: list[int]
    drops: list[tuple[int, int, str]]       # (fills made before it, order id, why), in the sweep's order
    resting: int | None                     # lots left resting
    unfilled: int
    refused: bool


class ReferenceBook:
    """Price-time priority by brute force; order ids are given in arrival order."""

    def __init__(self) -> None:
        self.orders: dict[int, ModelOrder] = {}

    def side(self, is_buy: bool) -> list[ModelOrder]:
        """Live orders of one side, best price first, then time."""
        orders = [o for o in self.orders.values() if o.is_buy == is_buy]
        return sorted(orders, key=lambda o: (-o.price if is_buy else o.price, o.order_id))

    def submit(self, order_id: int, owner, is_buy: bool, price: int | None, qty: int, tif: str,
               allowance: dict | None = None) -> Expected:
        """``allowance``: owner -> lots its resting orders may fill, spent here as they fill."""
        if price is None:
            tif = IOC
        makers = self.side(not is_buy)

        def acceptable(maker: ModelOrder) -> bool:
            return price is None or (maker.price <= price if is_buy else maker.price >= price)

        expected = Expected([], [], [], [], None, 0, False)
        if makers and acceptable(makers[0]) and tif == ALO:
            expected.refused = True
            return expected
        for maker in makers:
            if not qty or not acceptable(maker):
                break
            if owner is not None and maker.owner == owner:
                del self.orders[maker.order_id]
                expected.self_trade_cancels.append(maker.order_id)
                expected.drops.append((len(expected.fills), maker.order_id, "self_trade_cancels"))
                continue
            take = min(maker.qty, qty)
            stop = False
            limited = allowance is not None and maker.owner is not None and maker.owner in allowance
            if limited and allowance[maker.owner] < take:
                stop, take = True, allowance[maker.owner]
                if take <= 0:
                    del self.orders[maker.order_id]
                    expected.guard_cancels.append(maker.order_id)
                    expected.drops.append((len(expected.fills), maker.order_id, "guard_cancels"))
                    continue
            if limited:
                allowance[maker.owner] -= take
            if stop:    # the rest of the order goes before its last fill is told
                expected.guard_cancels.append(maker.order_id)
                expected.drops.append((len(expected.fills), maker.order_id, "guard_cancels"))
            maker.qty -= take
            qty -= take
            expected.fills.append((maker.order_id, maker.price, take))
            if maker.qty == 0 or stop:
                del self.orders[maker.order_id]
        if qty:
            if tif == IOC:
                expected.unfilled = qty
            else:
                self.orders[order_id] = ModelOrder(order_id, owner, is_buy, price, qty)
                expected.resting = qty
        return expected


def snapshot(book: OrderBook) -> tuple:
    """Everything observable about a book's open orders, in priority order."""
    return tuple(tuple((o.order_id, o.owner, o.price, o.qty, o.size) for o in book.iter_side(is_buy))
                 for is_buy in (True, False))


# ---- the stateful test ----------------------------------------------------------------------------
class BookMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.book = OrderBook()
        self.model = ReferenceBook()
        self.next_id = 0
        self.allowance: dict | None = None      # handed (a fresh copy) with every submission
        self.seen: dict[int, Order] = {}        # every order that ever rested, by id
        self.filled: dict[int, int] = {}        # lots filled as maker, by id
        self.gone: set[int] = set()             # ids cancelled or filled out: they must never come back

    # -- helpers
    def _submit(self, owner, is_buy: bool, price: int | None, qty: int, tif: str) -> None:
        self.next_id += 1
        order_id = self.next_id
        before = snapshot(self.book)
        given = None if self.allowance is None else dict(self.allowance)
        spent = None if self.allowance is None else dict(self.allowance)
        expected = self.model.submit(order_id, owner, is_buy, price, qty, tif, spent)
        result = self.book.submit(order_id, owner, is_buy, price, qty, tif, given)
        assert given == spent       # the book took from the allowance exactly what the fills took

        assert [(f.maker.order_id, f.price, f.qty) for f in result.fills] == expected.fills
        assert [o.order_id for o in result.self_trade_cancels] == expected.self_trade_cancels
        assert [o.order_id for o in result.guard_cancels] == expected.guard_cancels
        assert [(at, o.order_id, why) for at, o, why in result.drops] == expected.drops
        assert result.refused == expected.refused
        assert result.unfilled == expected.unfilled
        assert (result.resting.qty if result.resting else None) == expected.resting

        if result.refused:          # ALO that would cross: nothing happens at all
            event("ALO refused")
            assert tif == ALO and price is not None
            assert not result.fills and result.resting is None and not result.self_trade_cancels
            assert snapshot(self.book) == before
            assert self.book.get(order_id) is None
            return

        # Conservation: every submitted lot is filled, rested or reported unfilled.
        resting = result.resting.qty if result.resting else 0
        assert sum(f.qty for f in result.fills) + resting + result.unfilled == qty
        if price is None or tif == IOC:
            assert result.resting is None

        # Fills: at the maker's price, never worse than the taker's limit, never against itself or
        # against an order already gone.
        for f in result.fills:
            assert f.price == f.maker.price
            assert f.taker_id == order_id and f.taker_owner == owner and f.taker_is_buy == is_buy
            assert f.maker.is_buy != is_buy
            if price is not None:
                assert f.price <= price if is_buy else f.price >= price
            if owner is not None:
                assert f.maker.owner != owner
            assert f.maker.order_id not in self.gone
            assert f.qty > 0
            self.filled[f.maker.order_id] = self.filled.get(f.maker.order_id, 0) + f.qty
        for o in result.self_trade_cancels:
            assert owner is not None and o.owner == owner and not o.live
        for o in result.guard_cancels:
            assert o.owner is not None and o.owner != owner and o.owner in self.allowance and not o.live

        # Buyer and seller balance: each maker lost exactly the lots it was filled for here.
        was = {o[0]: o[3] for side in before for o in side}
        lost: dict[int, int] = {}
        for f in result.fills:
            lost[f.maker.order_id] = lost.get(f.maker.order_id, 0) + f.qty
        for f in result.fills:
            assert was[f.maker.order_id] - f.maker.qty == lost[f.maker.order_id]
            if f.maker.qty == 0:
                self.gone.add(f.maker.order_id)

        guard_makers = {o.order_id for o in result.guard_cancels}
        for what, happened in (("fills", result.fills),
                               ("multi-level sweep", len({f.price for f in result.fills}) > 1),
                               ("self-trade cancel", result.self_trade_cancels),
                               ("guard partial fill", guard_makers & lost.keys()),
                               ("guard cancel, no fill", guard_makers - lost.keys())):
            if happened:
                event(what)
        self.gone.update(o.order_id for o in result.self_trade_cancels)
        self.gone.update(o.order_id for o in result.guard_cancels)
        if result.resting is not None:
            assert result.resting.order_id == order_id and result.resting.live
            self.seen[order_id] = result.resting

    # -- rules
    @rule(owner=OWNERS, is_buy=SIDES, price=PRICES, qty=QTYS, tif=TIFS)
    def limit_order(self, owner, is_buy, price, qty, tif):
        self._submit(owner, is_buy, price, qty, tif)

    @rule(owner=OWNERS, is_buy=SIDES, offset=st.integers(min_value=-2, max_value=1), qty=QTYS, tif=TIFS)
    def order_at_touch(self, owner, is_buy, offset, qty, tif):
        """A limit order a tick or two either side of the opposite best: joins it, crosses it or
        sits just inside the spread."""
        best = self.book.best_ask() if is_buy else self.book.best_bid()
        if best is None:
            best = 100
        self._submit(owner, is_buy, best - offset if is_buy else best + offset, qty, tif)

    @rule(owner=OWNERS, is_buy=SIDES, qty=st.integers(min_value=1, max_value=80), tif=TIFS)
    def market_order(self, owner, is_buy, qty, tif):
        self._submit(owner, is_buy, None, qty, tif)

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data())
    def cancel_open(self, data):
        order_id = data.draw(st.sampled_from(sorted(self.model.orders)), label="order_id")
        expected = self.model.orders.pop(order_id)
        order = self.book.cancel(order_id)
        assert order is not None and order.order_id == order_id
        assert order.qty == expected.qty and not order.live
        assert self.book.get(order_id) is None
        self.gone.add(order_id)

    @rule(data=st.data())
    def cancel_unknown(self, data):
        known_dead = sorted(i for i in range(1, self.next_id + 1) if i not in self.model.orders)
        ids = st.integers(self.next_id + 1, self.next_id + 100)      # never used
        if known_dead:
            ids = st.sampled_from(known_dead) | ids                     # filled, cancelled or refused
        order_id = data.draw(ids, label="order_id")
        before = snapshot(self.book)
        assert self.book.cancel(order_id) is None
        assert snapshot(self.book) == before

    @precondition(lambda self: self.model.orders)
    @rule(data=st.data(), is_buy=SIDES, price=PRICES, qty=QTYS)
    def duplicate_id(self, data, is_buy, price, qty):
        order_id = data.draw(st.sampled_from(sorted(self.model.orders)), label="order_id")
        before = snapshot(self.book)
        with pytest.raises(ValueError):
            self.book.submit(order_id, None, is_buy, price, qty, GTC)
        assert snapshot(self.book) == before

    # Mostly no allowance, else some owners limited, around the sizes of one fill (0, 1, a few, many).
    ALLOWANCES = st.one_of(st.none(), st.none(),
                           st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from([0, 1, 3, 8, 20, 60])))

    @initialize(allowance=ALLOWANCES)
    def start_allowance(self, allowance):
        self.set_allowance(allowance)

    @rule(allowance=ALLOWANCES)
    def set_allowance(self, allowance):
        self.allowance = allowance

    # -- invariants
    @invariant()
    def never_crossed(self):
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is not None and ask is not None:
            assert bid < ask

    @invariant()
    def matches_model(self):
        for is_buy in (True, False):
            book_side = [(o.order_id, o.owner, o.price, o.qty) for o in self.book.iter_side(is_buy)]
            model_side = [(o.order_id, o.owner, o.price, o.qty) for o in self.model.side(is_buy)]
            assert book_side == model_side
        assert len(self.book) == len(self.model.orders)
        bids = self.model.side(True)
        asks = self.model.side(False)
        assert self.book.best_bid() == (bids[0].price if bids else None)
        assert self.book.best_ask() == (asks[0].price if asks else None)

    @invariant()
    def depth_is_live_volume(self):
        for is_buy in (True, False):
            volume: dict[int, int] = {}
            for o in self.model.orders.values():
                if o.is_buy == is_buy:
                    volume[o.price] = volume.get(o.price, 0) + o.qty
            levels = sorted(volume.items(), reverse=is_buy)
            assert self.book.depth(is_buy, 100) == levels
            assert self.book.depth(is_buy, 2) == levels[:2]
            assert self.book.depth(is_buy, 1) == levels[:1]
            assert self.book.depth(is_buy, 0) == []

    @invariant()
    def sizes_hold(self):
        for order_id, order in self.seen.items():
            assert 0 <= order.qty <= order.size
            # what filled plus what is left (open, or dropped when cancelled) is exactly the size
            assert self.filled.get(order_id, 0) + order.qty == order.size
            assert order.live == (order_id not in self.gone)

    @invariant()
    def owned_is_the_owners_open_orders(self):
        # the running per-owner sums margin reads, against the model's open orders, after every kind of
        # exit (fill, cancel, self-trade prevention, guard)
        total = 0
        for owner in ("a", "b", "c"):
            mine = [o for o in self.model.orders.values() if o.owner == owner]
            assert self.book.owned(owner) == (len(mine), sum(o.price * o.qty for o in mine))
            total += len(mine)
        assert self.book.owned_orders == total
        assert self.book.owned(None) == (0, 0)

    @invariant()
    def best_excluding_is_the_best_of_everyone_else(self):
        # worked out once per change of the book and kept: asked after every step, so a change that
        # did not invalidate it shows here
        for owner in (None, "a", "b", "c", "nobody"):
            expected = []
            for is_buy in (True, False):
                others = [o.price for o in self.model.side(is_buy) if o.owner != owner]
                expected.append(others[0] if others else None)
            assert self.book.best_excluding(owner) == tuple(expected)

    @invariant()
    def state_round_trips(self):
        # a snapshot's book: each side best price first, each level in queue order (the model's order),
        # and the book made again from it holds the same orders in the same places with the same sums
        state = self.book.state()
        for name, is_buy in (("bids", True), ("asks", False)):
            flat = [(price, order_id, owner, qty) for price, queue in state[name]
                    for order_id, owner, qty, _size in queue]
            assert flat == [(o.price, o.order_id, o.owner, o.qty) for o in self.model.side(is_buy)]
        # the market's convention (house ids negative) is checked on the way in: follow it here
        ids = {oid: (-oid if owner is None else oid) for name in ("bids", "asks")
               for _price, queue in state[name] for oid, owner, _qty, _size in queue}
        state = {name: [[price, [[ids[oid], owner, qty, size] for oid, owner, qty, size in queue]]
                        for price, queue in state[name]] for name in ("bids", "asks")}
        again = OrderBook.from_state(state)
        assert snapshot(again) == tuple(tuple((ids[i], owner, p, q, size) for i, owner, p, q, size in side)
                                        for side in snapshot(self.book))
        assert (again.best_bid(), again.best_ask()) == (self.book.best_bid(), self.book.best_ask())
        for owner in ("a", "b", "c"):
            assert again.owned(owner) == self.book.owned(owner)

    @invariant()
    def gone_stays_gone(self):
        live_ids = {o.order_id for is_buy in (True, False) for o in self.book.iter_side(is_buy)}
        assert not live_ids & self.gone
        for order_id in self.gone:
            assert self.book.get(order_id) is None


BookMachine.TestCase.settings = settings(stateful_step_count=50)
TestBookMachine = BookMachine.TestCase


# ---- examples -------------------------------------------------------------------------------------
def fills(result) -> list[tuple[int, int, int]]:
    return [(f.maker.order_id, f.price, f.qty) for f in result.fills]


def test_same_price_fills_in_arrival_order():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    book.submit(2, "b", False, 100, 5)
    book.submit(3, "c", False, 100, 5)
    result = book.submit(4, None, True, 100, 7, IOC)
    assert fills(result) == [(1, 100, 5), (2, 100, 2)]
    assert [o.order_id for o in book.orders_at(False, 100)] == [2, 3]


def test_better_price_fills_first_whatever_its_arrival():
    book = OrderBook()
    book.submit(1, "a", True, 99, 5)
    book.submit(2, "b", True, 101, 5)      # later, but a better bid
    book.submit(3, "c", True, 100, 5)
    result = book.submit(4, None, False, 99, 12, IOC)
    assert fills(result) == [(2, 101, 5), (3, 100, 5), (1, 99, 2)]
    assert result.unfilled == 0


def test_fills_at_maker_price_not_taker_limit():
    book = OrderBook()
    book.submit(1, None, False, 100, 5)
    result = book.submit(2, None, True, 105, 5, GTC)
    assert fills(result) == [(1, 100, 5)]
    assert result.resting is None and len(book) == 0


def test_partial_fill_of_maker_keeps_its_place():
    book = OrderBook()
    book.submit(1, "a", False, 100, 10)
    book.submit(2, "b", False, 100, 4)
    result = book.submit(3, None, True, 100, 3, IOC)
    assert fills(result) == [(1, 100, 3)]
    maker = book.get(1)
    assert maker.qty == 7 and maker.size == 10 and maker.live
    assert [o.order_id for o in book.orders_at(False, 100)] == [1, 2]
    assert book.depth(False, 5) == [(100, 11)]


def test_partial_fill_of_taker_rests_the_rest():
    book = OrderBook()
    book.submit(1, None, False, 100, 4)
    result = book.submit(2, "a", True, 101, 10, GTC)
    assert fills(result) == [(1, 100, 4)]
    assert result.resting is book.get(2)
    assert result.resting.qty == 6 and result.resting.price == 101
    assert book.best_bid() == 101 and book.best_ask() is None


def test_ioc_remainder_does_not_rest():
    book = OrderBook()
    book.submit(1, None, False, 100, 4)
    book.submit(2, None, False, 102, 4)
    result = book.submit(3, "a", True, 101, 10, IOC)
    assert fills(result) == [(1, 100, 4)]
    assert result.unfilled == 6 and result.resting is None
    assert book.get(3) is None
    assert book.best_bid() is None and book.best_ask() == 102


def test_ioc_that_does_not_cross_is_all_unfilled():
    book = OrderBook()
    book.submit(1, None, False, 100, 4)
    result = book.submit(2, "a", True, 99, 10, IOC)
    assert not result.fills and result.unfilled == 10 and result.resting is None
    assert len(book) == 1


def test_market_order_on_empty_book():
    book = OrderBook()
    result = book.submit(1, "a", True, None, 10, GTC)      # a market order never rests, whatever the tif
    assert not result.fills and result.resting is None
    assert result.unfilled == 10 and not result.refused
    assert len(book) == 0 and book.best_bid() is None and book.best_ask() is None


def test_market_order_sweeps_without_limit():
    book = OrderBook()
    book.submit(1, None, True, 100, 3)
    book.submit(2, None, True, 90, 3)
    book.submit(3, None, True, 1, 3)
    result = book.submit(4, "a", False, None, 8, ALO)      # ALO means nothing to a market order
    assert not result.refused
    assert fills(result) == [(1, 100, 3), (2, 90, 3), (3, 1, 2)]
    assert book.best_bid() == 1 and book.depth(True, 3) == [(1, 1)]


@pytest.mark.parametrize("qty", [0, -1])
def test_non_positive_qty_is_refused(qty):
    book = OrderBook()
    with pytest.raises(ValueError):
        book.submit(1, None, True, 100, qty)
    assert len(book) == 0


def test_duplicate_live_id_is_refused():
    book = OrderBook()
    book.submit(1, "a", True, 100, 5)
    with pytest.raises(ValueError):
        book.submit(1, "b", False, 101, 5)
    with pytest.raises(ValueError):
        book.submit(1, "b", False, 100, 5, IOC)     # even one that would only have matched
    assert book.get(1).qty == 5 and book.best_ask() is None


def test_cancel_returns_order_and_clears_level():
    book = OrderBook()
    book.submit(1, "a", True, 100, 5)
    book.submit(2, "a", True, 99, 5)
    order = book.cancel(1)
    assert order.order_id == 1 and order.qty == 5 and not order.live
    assert book.best_bid() == 99 and book.depth(True, 5) == [(99, 5)]
    assert book.cancel(1) is None
    assert book.cancel(12345) is None
    result = book.submit(3, None, False, 99, 10, IOC)
    assert fills(result) == [(2, 99, 5)]


def test_self_trade_cancels_the_resting_order():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    book.submit(2, "b", False, 100, 5)
    book.submit(3, "a", False, 101, 5)
    result = book.submit(4, "a", True, 101, 8, GTC)
    assert [o.order_id for o in result.self_trade_cancels] == [1, 3]
    assert fills(result) == [(2, 100, 5)]
    assert result.resting.qty == 3 and book.best_bid() == 101 and book.best_ask() is None


def test_house_does_not_self_trade_prevent():
    book = OrderBook()
    book.submit(1, None, False, 100, 5)
    result = book.submit(2, None, True, 100, 5, IOC)
    assert fills(result) == [(1, 100, 5)] and not result.self_trade_cancels


def test_alo_that_would_cross_is_refused_whole():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    result = book.submit(2, "b", True, 100, 5, ALO)
    assert result.refused and not result.fills and result.resting is None
    assert book.get(2) is None and book.get(1).qty == 5


def test_alo_that_does_not_cross_rests():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    result = book.submit(2, "b", True, 99, 5, ALO)
    assert not result.refused and not result.fills
    assert result.resting is book.get(2) and result.resting.qty == 5
    assert result.unfilled == 0
    assert book.best_bid() == 99


def test_allowance_short_of_a_fill_fills_part_then_cancels_the_maker():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    book.submit(2, "b", False, 100, 5)
    allowance = {"a": 3, "b": 2}                                # a: one lot short of 4; b: one more than enough
    result = book.submit(3, None, True, 100, 4, IOC, allowance)
    assert fills(result) == [(1, 100, 3), (2, 100, 1)]
    assert [o.order_id for o in result.guard_cancels] == [1]    # 2 was allowed all it was asked
    assert [(at, o.order_id, why) for at, o, why in result.drops] == [(0, 1, "guard_cancels")]
    assert allowance == {"a": 0, "b": 1}                        # what each filled is taken out
    assert book.get(1) is None and book.get(2).qty == 4
    assert book.depth(False, 5) == [(100, 4)]
    assert result.unfilled == 0


def test_allowance_equal_to_the_fill_fills_it_whole_and_keeps_the_order():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    allowance = {"a": 4}
    result = book.submit(2, None, True, 100, 4, IOC, allowance)
    assert fills(result) == [(1, 100, 4)] and not result.guard_cancels and not result.drops
    assert allowance == {"a": 0} and book.get(1).qty == 1
    result = book.submit(3, None, True, 100, 1, IOC, allowance)   # spent: the next fill cancels it
    assert not result.fills and [o.order_id for o in result.guard_cancels] == [1]


def test_allowance_of_nothing_cancels_without_a_fill():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    book.submit(2, "b", False, 101, 5)
    result = book.submit(3, None, True, 101, 3, IOC, {"a": 0})
    assert fills(result) == [(2, 101, 3)]
    assert [o.order_id for o in result.guard_cancels] == [1]
    assert book.get(1) is None and book.best_ask() == 101


def test_allowance_limits_only_the_owners_it_names():
    book = OrderBook()
    book.submit(1, None, False, 100, 5)
    book.submit(2, "b", False, 100, 5)
    result = book.submit(3, "a", True, 100, 10, IOC, {"a": 0, "c": 0})
    assert fills(result) == [(1, 100, 5), (2, 100, 5)] and not result.guard_cancels


def test_fills_and_drops_come_back_in_the_order_they_happened():
    book = OrderBook()
    book.submit(1, "a", False, 100, 2)
    book.submit(2, "b", False, 100, 2)
    book.submit(3, "c", False, 101, 2)
    book.submit(4, "d", False, 101, 2)
    result = book.submit(5, "b", True, 101, 5, IOC, {"d": 0})
    assert [(f.maker.order_id, f.qty) for f in result.fills] == [(1, 2), (3, 2)]
    assert [(at, o.order_id, why) for at, o, why in result.drops] == [(1, 2, "self_trade_cancels"),
                                                                      (2, 4, "guard_cancels")]
    assert result.unfilled == 1


def test_emptied_levels_are_reused_dropped_and_compacted_without_changing_the_book():
    """Cancelling most of a wide book leaves emptied levels behind; whether they are reused, dropped at
    the top or compacted in bulk, the book must read and match exactly as if they were never there."""
    book = OrderBook()
    for i in range(300):                       # 300 bid levels and 300 ask levels, one order each
        book.submit(i, None, True, 1_000 - i, 5)
        book.submit(10_000 + i, None, False, 1_001 + i, 5)
    survivors = {0, 7, 150, 299}
    for i in range(300):
        if i not in survivors:
            book.cancel(i)
            book.cancel(10_000 + i)
    assert book.depth(True, 10) == [(1_000 - i, 5) for i in sorted(survivors)]
    assert book.depth(False, 10) == [(1_001 + i, 5) for i in sorted(survivors)]
    assert len(book.bid_prices) < 300 and len(book.ask_prices) < 300     # compaction happened
    # An emptied (or compacted-away) price is usable again, and keeps time priority among newcomers.
    book.submit(20_000, "a", True, 1_000 - 3, 2)
    book.submit(20_001, "b", True, 1_000 - 3, 2)
    assert book.best_bid() == 1_000
    result = book.submit(30_000, None, False, 1_000 - 3, 9)    # 1000, then 997 (a before b); stops there
    assert [(f.maker.order_id, f.price, f.qty) for f in result.fills] == [
        (0, 1_000, 5), (20_000, 997, 2), (20_001, 997, 2)]
    assert result.resting is None and result.unfilled == 0
    assert book.best_bid() == 993
    # Cancelling the best level's last order walks past emptied levels to the next live price.
    book.cancel(7)
    assert book.best_bid() == 850
    assert book.depth(True, 3) == [(850, 5), (701, 5)]


def test_emptied_levels_stay_bounded_however_many_orders_joined_a_live_level():
    """Only a level that empties or comes back to life changes the count of emptied levels: 200 orders
    joining the live best level first must not keep the emptied levels of 300 one-off prices from being
    compacted (kept levels growing without bound is a memory leak; the book reads the same either way)."""
    book = OrderBook()
    for i in range(200):
        book.submit(i, None, True, 1_000, 1)
        book.submit(1_000 + i, None, False, 1_001, 1)
    for i in range(300):                    # a price used once, away from the touch, then emptied
        book.submit(10_000 + i, None, True, 900 - i, 1)
        book.cancel(10_000 + i)
        book.submit(20_000 + i, None, False, 1_100 + i, 1)
        book.cancel(20_000 + i)
    assert len(book.bid_levels) < 100 and len(book.bid_prices) < 100
    assert len(book.ask_levels) < 100 and len(book.ask_prices) < 100
    assert book.depth(True, 5) == [(1_000, 200)] and book.depth(False, 5) == [(1_001, 200)]


def test_would_cross_at_the_touch_and_not_a_tick_away():
    book = OrderBook()
    assert not book.would_cross(True, 10**6) and not book.would_cross(False, 1)     # an empty book
    book.submit(1, None, True, 100, 5)
    book.submit(2, None, False, 102, 5)
    assert book.would_cross(False, 100) and not book.would_cross(False, 101)     # a sell at the best bid
    assert book.would_cross(True, 102) and not book.would_cross(True, 101)       # a buy at the best ask


def test_self_trade_and_guard_cancels_leave_the_owner_with_only_what_still_rests():
    book = OrderBook()
    book.submit(1, "a", False, 100, 5)
    book.submit(2, "a", False, 101, 3)
    book.submit(3, "b", False, 101, 4)
    book.submit(4, "b", False, 102, 6)
    assert book.owned("a") == (2, 100 * 5 + 101 * 3) and book.owned("b") == (2, 101 * 4 + 102 * 6)
    result = book.submit(5, "a", True, 101, 2)              # a's own asks at 100 and 101 are cancelled
    assert [o.order_id for o in result.self_trade_cancels] == [1, 2]
    assert fills(result) == [(3, 101, 2)]
    assert book.owned("a") == (0, 0) and book.owned("b") == (2, 101 * 2 + 102 * 6)
    assert book.owned_orders == 2
    result = book.submit(6, None, True, 102, 3, IOC, {"b": 1})   # b may fill 1 lot: 3 fills 1 and goes,
    assert fills(result) == [(3, 101, 1)]                          # then 4 goes without a fill
    assert [o.order_id for o in result.guard_cancels] == [3, 4] and result.unfilled == 2
    assert book.owned("b") == (0, 0) and book.owned_orders == 0


def test_emptied_levels_under_a_live_level_are_still_counted_when_the_top_empties():
    """When the best level empties, the walk to the next live price drops the emptied levels above it;
    those below it are still emptied levels, and must still count toward compaction, or every round of
    this kind leaks them (the book reads the same either way; only memory grows)."""
    book = OrderBook()
    book.submit(1, None, True, 50_000, 1)                  # a live level under everything that follows
    oid = 10
    for cycle in range(20):
        top = oid
        book.submit(top, None, True, 100_000, 1)
        oid += 1
        for i in range(30):                                 # emptied between the top and the live level
            book.submit(oid, None, True, 90_000 + i, 1)
            book.cancel(oid)
            oid += 1
        for i in range(30):                                 # emptied below it, new prices every round
            book.submit(oid, None, True, 40_000 - 30 * cycle - i, 1)
            book.cancel(oid)
            oid += 1
        book.cancel(top)
        assert book.best_bid() == 50_000
    assert len(book.bid_levels) < 200 and len(book.bid_prices) < 200
    assert book.depth(True, 5) == [(50_000, 1)]
