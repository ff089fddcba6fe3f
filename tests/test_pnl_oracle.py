"""Every PnL figure the API reports, checked against an independent reference accountant.

``reference_accountant.Reference`` replays an agent's fills (as ``/v1/mm/fills`` prints them) and the
mark (as ``/v1/mm/inventory`` prints it) and works out what ``/v1/mm/inventory``, ``/v1/mm/pnl`` and
``/v1/account`` must say. The accountant is first checked against numbers worked out by hand; then the
mock is driven over HTTP through histories that go long, partly close, flip short and close again,
scripted and random, and every figure must match.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app_client import in_process
from reference_accountant import Reference

SYMBOL = "BTC-PERP"
TOL = 1e-6                  # the contract's tolerance for money
CAROL = {"Authorization": "Bearer pf_test_carol_12345678"}     # the other side of the agent's maker fills


# ---- the accountant against hand-worked numbers ---------------------------------------------------
def fill(side: str, size: float, price: float, mid: float, fee: float, liquidity: str, kind: str = "quote") -> dict:
    return {"side": side, "size": size, "price": price, "mid_at_fill": mid, "fee_usd": fee,
            "liquidity": liquidity, "kind": kind}


# Long 2 at 100 (maker, mid 101), sell 1 at 103 (taker, mid 104), sell 3 at 99 (maker, mid 98: flips
# short 2), buy 2 at 97 (taker hedge, mid 96.5: flat). Rebates 2.5 bps, fees 4.5 bps of notional.
HISTORY = [
    fill("buy", 2.0, 100.0, 101.0, -0.05, "maker"),
    fill("sell", 1.0, 103.0, 104.0, 0.04635, "taker"),
    fill("sell", 3.0, 99.0, 98.0, -0.07425, "maker"),
    fill("buy", 2.0, 97.0, 96.5, 0.0873, "taker", "hedge"),
]


def test_the_accountant_on_a_history_worked_by_hand():
    # After the flip, marked at 98. Trader's view: +3 on the first sale (103 - 100), -1 closing the last
    # long unit at 99, short 2 at 99 marked at 98 = +2 unrealized. At the mids: 104 - 101 = +3, then
    # 98 - 101 = -3, short 2 at 98 marked at 98 = 0. Inventory over time: 2 x (104 - 101) + 1 x (98 - 104).
    ref = Reference().replay(HISTORY[:3], 98.0)
    assert ref.expected_inventory(98.0) == pytest.approx(
        {"position": -2.0, "net_delta_usd": -196.0, "avg_entry_price": 99.0, "unrealized_pnl": 2.0,
         "realized_pnl": 2.0})
    partial = ref.expected_pnl(98.0)
    assert partial["realized_inventory_pnl"] == pytest.approx(0.0)
    assert partial["unrealized_inventory_pnl"] == pytest.approx(0.0)
    assert partial["inventory_pnl"] == pytest.approx(0.0)

    # Closed at 97 with the mid at 96.5. Realized at fill prices: 3 - 1 + 2 x (99 - 97) = 6.
    # At the mids: 3 - 3 + 2 x (98 - 96.5) = 3, all of the inventory PnL (flat: nothing unrealized).
    ref = Reference().replay(HISTORY, 96.5)
    assert ref.expected_inventory(96.5) == pytest.approx(
        {"position": 0.0, "net_delta_usd": 0.0, "avg_entry_price": None, "unrealized_pnl": 0.0,
         "realized_pnl": 6.0})
    # Edges: maker +1 x 2 and +1 x 3; taker -1 x 1 and -0.5 x 2 (slippage 2). Cash: -200 + 103 + 297 - 194
    # less fees plus rebates = 6 + 0.12425 - 0.13365.
    assert ref.expected_pnl(96.5) == pytest.approx({
        "spread_income": 5.0, "rebates": 0.12425, "fees": 0.13365, "hedge_cost": 2.13365,
        "inventory_pnl": 3.0, "realized_inventory_pnl": 3.0, "unrealized_inventory_pnl": 0.0,
        "net_pnl": 5.9906, "volume_usd": 794.0, "fills": 4, "maker_fills": 2, "taker_fills": 2})


def test_the_accountant_closes_a_short_with_the_right_sign():
    # Short 1 at 50 (mid 50), bought back at 40 (mid 40): +10 in both views; bought back at 60: -10.
    win = Reference().replay([fill("sell", 1.0, 50.0, 50.0, 0.0, "taker"), fill("buy", 1.0, 40.0, 40.0, 0.0, "taker")], 40.0)
    loss = Reference().replay([fill("sell", 1.0, 50.0, 50.0, 0.0, "taker"), fill("buy", 1.0, 60.0, 60.0, 0.0, "taker")], 60.0)
    assert (win.trader.realized, win.at_marks.realized, win.inventory_pnl) == (10.0, 10.0, 10.0)
    assert (loss.trader.realized, loss.at_marks.realized, loss.inventory_pnl) == (-10.0, -10.0, -10.0)


# ---- driving the mock ------------------------------------------------------------------------------
def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


class Trader:
    """The agent of an in-process mock, with the few moves the histories are made of."""

    def __init__(self, mock):
        self.mock = mock
        self.client = mock.client
        self.tick = ok(self.client.get(f"/v1/markets/{SYMBOL}"))["tick_size"]

    def top(self) -> dict:
        return ok(self.client.get(f"/v1/markets/{SYMBOL}/price"))

    def position(self) -> float:
        return ok(self.client.get("/v1/mm/inventory", params={"symbol": SYMBOL}))["position"]

    def take(self, buy: bool, usd: float) -> None:
        """Cross the spread with an IOC for ``usd``: taker fills."""
        t = self.top()
        side = ({"bid_price": t["best_ask"] * 1.002, "bid_size": usd} if buy
                else {"ask_price": t["best_bid"] * 0.998, "ask_size": usd})
        ok(self.client.post("/v1/mm/quote", json={"symbol": SYMBOL, "time_in_force": "IOC", **side}))

    def make(self, buy: bool, usd: float, keep: bool) -> None:
        """Rest an order one tick inside the spread and have Carol trade into it: maker fills. ``keep``
        leaves what is left resting, for the market's own takers to fill while time passes."""
        t = self.top()
        price = t["best_bid"] + self.tick if buy else t["best_ask"] - self.tick
        if not t["best_bid"] < price < t["best_ask"]:
            price = t["best_bid"] if buy else t["best_ask"]     # a one-tick spread: join the touch
        side = {"bid_price": price, "bid_size": usd} if buy else {"ask_price": price, "ask_size": usd}
        ok(self.client.post("/v1/mm/quote", json={"symbol": SYMBOL, "time_in_force": "GTC", **side}))
        other = {"ask_price": price, "ask_size": usd} if buy else {"bid_price": price, "bid_size": usd}
        ok(self.client.post("/v1/mm/quote", headers=CAROL, json={"symbol": SYMBOL, "time_in_force": "IOC", **other}))
        if not keep:
            ok(self.client.post("/v1/mm/cancel", json={"symbol": SYMBOL}))

    def hedge(self, pct: float) -> None:
        r = self.client.post("/v1/mm/hedge", json={"symbol": SYMBOL, "hedge_pct": pct})
        assert r.status_code in (200, 400, 409), r.text     # flat (409) or a share of under a lot (400)

    def check_against_reference(self, starting_balance: float) -> Reference:
        fills = ok(self.client.get("/v1/mm/fills", params={"symbol": SYMBOL, "limit": 1000}))["fills"]
        inventory = ok(self.client.get("/v1/mm/inventory", params={"symbol": SYMBOL}))
        pnl = ok(self.client.get("/v1/mm/pnl", params={"symbol": SYMBOL}))
        account = ok(self.client.get("/v1/account"))
        mark = inventory["mark_price"]
        ref = Reference().replay(fills, mark)
        assert len(fills) == pnl["fills"] < 1000, "every fill must be replayed"
        for name, want in ref.expected_inventory(mark).items():
            got = inventory[name]
            if want is None or got is None:
                assert got == want, (name, got, want)
            else:
                assert got == pytest.approx(want, abs=TOL, rel=1e-12), (name, got, want)
        for name, want in ref.expected_pnl(mark).items():
            assert pnl[name] == pytest.approx(want, abs=TOL, rel=1e-12), (name, pnl[name], want)
        assert account["balance_usd"] == pytest.approx(starting_balance + ref.cash, abs=TOL)
        assert account["equity_usd"] == pytest.approx(starting_balance + ref.equity_change(mark), abs=TOL)
        return ref


def test_a_scripted_history_long_partly_closed_flipped_short_and_closed():
    with in_process(seed=3) as mock:
        me = Trader(mock)
        me.take(True, 900)                      # long
        mock.advance(20)
        assert me.position() > 0
        me.check_against_reference(10_000)
        me.hedge(0.5)                           # partly closed
        mock.jump(SYMBOL, 40)
        assert me.position() > 0
        me.check_against_reference(10_000)
        me.make(False, 1500, keep=False)        # sold through flat: short
        mock.advance(7)
        assert me.position() < 0
        me.check_against_reference(10_000)
        me.take(True, 300)                      # partly bought back
        mock.jump(SYMBOL, -60)
        me.hedge(1.0)                           # closed
        assert me.position() == 0
        ref = me.check_against_reference(10_000)
        assert ref.kinds.keys() == {"quote", "hedge"} and ref.maker_fills and ref.taker_fills
        assert ref.trader.realized != 0 and ref.at_marks.realized != 0


def test_a_window_opened_after_a_close_realizes_only_its_own_closes():
    """A window counts the realized PnL of the closes inside it, not of those before: after a long is
    closed, a window from then in which a new long only opens realizes exactly nothing, while the
    whole history still realizes what the first close did."""
    with in_process(seed=3) as mock:
        me = Trader(mock)
        me.take(True, 900)
        mock.jump(SYMBOL, 40)
        me.hedge(1.0)                           # long, then closed 40 bps higher: realized
        assert me.position() == 0
        before = ok(me.client.get("/v1/mm/pnl", params={"symbol": SYMBOL}))
        assert before["realized_inventory_pnl"] > 0
        mock.advance(5)
        me.take(True, 900)                      # a new long: opens, closes nothing
        mock.jump(SYMBOL, -30)
        assert me.position() > 0
        window = ok(me.client.get("/v1/mm/pnl", params={"symbol": SYMBOL, "since": before["until"]}))
        assert window["fills"] >= 1 and window["realized_inventory_pnl"] == 0.0
        whole = ok(me.client.get("/v1/mm/pnl", params={"symbol": SYMBOL}))
        assert whole["realized_inventory_pnl"] == pytest.approx(before["realized_inventory_pnl"], abs=TOL)


STEPS = st.lists(st.one_of(
    st.tuples(st.just("take"), st.booleans(), st.integers(15, 1500)),
    st.tuples(st.just("make"), st.booleans(), st.integers(15, 1500), st.booleans()),
    st.tuples(st.just("hedge"), st.sampled_from([0.3, 0.5, 1.0])),
    st.tuples(st.just("advance"), st.sampled_from([1, 5, 30])),
    st.tuples(st.just("jump"), st.integers(-80, 80)),
), min_size=1, max_size=10)


@given(steps=STEPS, seed=st.integers(0, 3))
def test_random_histories_match_the_reference(steps, seed):
    with in_process(seed=seed) as mock:
        me = Trader(mock)
        for step in steps:
            match step:
                case ("take", buy, usd):
                    me.take(buy, usd)
                case ("make", buy, usd, keep):
                    me.make(buy, usd, keep)
                case ("hedge", pct):
                    me.hedge(pct)
                case ("advance", seconds):
                    mock.advance(seconds)
                case ("jump", bps):
                    mock.jump(SYMBOL, bps)
        me.check_against_reference(10_000)
