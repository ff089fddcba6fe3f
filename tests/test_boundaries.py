"""Each guardrail and rounding rule pinned from both sides of its boundary, over HTTP on the manual clock.

Exact boundaries need exact figures: on the manual clock nothing moves between two requests, so the
test reads the position and the mark, works out the guardrail's own figure with the same float
operations (``position x mark``, ``cash + position x mark``), and sets the limit to exactly that; then
to one lot (or one cent) beyond it. A ``>`` that became ``>=`` (or the reverse) fails one of the pair.

Also here: the refresh loop blocked by margin and recovering, a stop-loss tripped by an auto-hedge's
own cost, the jump process on both simulation paths (event by event, and fast-forwarded minutes), and
the hedge errors ``order_too_small`` and ``no_liquidity``.
"""

from __future__ import annotations

import math

import pytest

from app_client import in_process

BTC = "BTC-PERP"


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


class Agent:
    """The in-process mock's agent, with the requests these tests are made of."""

    def __init__(self, mock, symbol: str = BTC):
        self.mock, self.client, self.symbol = mock, mock.client, symbol
        market = ok(self.client.get(f"/v1/markets/{symbol}"))
        self.lot_scale = 10 ** market["sz_decimals"]        # lots per base unit (an int, as the ledger's)
        self.tick = market["tick_size"]

    def top(self) -> dict:
        return ok(self.client.get(f"/v1/markets/{self.symbol}/price"))

    def inventory(self) -> dict:
        return ok(self.client.get("/v1/mm/inventory", params={"symbol": self.symbol}))

    def lots(self) -> int:
        return round(self.inventory()["position"] * self.lot_scale)

    def session(self) -> dict:
        return ok(self.client.get("/v1/mm/session", params={"symbol": self.symbol}))

    def orders(self) -> list[dict]:
        return ok(self.client.get("/v1/mm/orders", params={"symbol": self.symbol}))["orders"]

    def fills(self) -> list[dict]:
        return ok(self.client.get("/v1/mm/fills", params={"symbol": self.symbol, "limit": 1000}))["fills"]

    def quote(self, **fields):
        return self.client.post("/v1/mm/quote", json={"symbol": self.symbol, **fields})

    def buy_lots(self, lots: int, **guards) -> dict:
        """An IOC bid well through the ask, sized to exactly ``lots`` whole lots at its price."""
        price = self.top()["best_ask"] + 50 * self.tick
        usd = (lots + 0.5) * price / self.lot_scale         # half a lot over: the sizing rounds down to ``lots``
        return ok(self.quote(bid_price=price, bid_size=usd, time_in_force="IOC", **guards))

    def hedge(self, pct: float = 1.0):
        return self.client.post("/v1/mm/hedge", json={"symbol": self.symbol, "hedge_pct": pct})


def delta_usd(lots: int, lot_scale: int, mark: float) -> float:
    """|net delta| as the guardrail works it out: the position (lots / lot scale) times the mark."""
    return abs((lots / lot_scale) * mark)


# ---- auto_hedge_threshold_usd: hedges when |net delta| exceeds it, not when it equals it -----------
@pytest.mark.parametrize("extra_lots,hedged", [(0, False), (1, True)])
def test_auto_hedge_fires_only_past_the_threshold(extra_lots, hedged):
    with in_process(seed=2) as mock:
        me = Agent(mock)
        me.buy_lots(200)
        assert me.lots() == 200
        mark = me.inventory()["mark_price"]
        threshold = delta_usd(300, me.lot_scale, mark)       # exactly |delta| at 300 lots
        me.buy_lots(100 + extra_lots, auto_hedge_threshold_usd=threshold)
        kinds = [f["kind"] for f in me.fills()]
        assert me.inventory()["mark_price"] == mark           # nothing moved: the boundary is exact
        if hedged:
            assert "auto_hedge" in kinds and me.lots() == 0
        else:
            assert "auto_hedge" not in kinds and me.lots() == 300


# ---- session_stop_loss_usd: stops when session PnL reaches -value, not a cent before -------------
def session_pnl(me: Agent) -> float:
    """The session's PnL (it began flat, so its starting equity is 0): cash + position x mark, with the
    cash summed fill by fill in the ledger's own order. Exact when fees are zero, as here."""
    cash = 0.0
    for f in me.fills():
        assert f["fee_usd"] == 0
        s = 1.0 if f["side"] == "buy" else -1.0
        cash = cash - s * f["notional_usd"] - 0.0
    inventory = me.inventory()
    return cash + inventory["position"] * inventory["mark_price"] - 0.0


@pytest.mark.parametrize("cents_above,stopped", [(0, True), (1, False)])
def test_stop_loss_fires_at_exactly_minus_the_limit(cents_above, stopped):
    with in_process(seed=4, taker_fee_bps=0, maker_rebate_bps=0) as mock:
        me = Agent(mock)
        me.buy_lots(300)
        mock.jump(BTC, -1.0)                 # (the buy's own impact lifted the mark) the session is down a little
        pnl = session_pnl(me)
        assert pnl < 0
        limit = -pnl + cents_above * 0.01    # PnL at -limit exactly, or one cent above it
        bid = round(me.top()["best_bid"] * 0.96)
        ok(me.quote(bid_price=bid, bid_size=20, session_stop_loss_usd=limit))
        session = me.session()
        if stopped:
            assert (session["status"], session["reason"]) == ("stopped", "stop_loss")
            assert me.orders() == []
        else:
            assert (session["status"], session["reason"]) == ("active", None)
            assert len(me.orders()) == 1


# ---- a stop-loss tripped by an auto-hedge's own cost ------------------------------------------------
def cost(fills: list[dict], kind: str) -> float:
    """What fills of ``kind`` took from equity at their instant: edge at the mark, less fees."""
    total = 0.0
    for f in fills:
        if f["kind"] == kind:
            s = 1.0 if f["side"] == "buy" else -1.0
            total += s * (f["mid_at_fill"] - f["price"]) * f["size"] - f["fee_usd"]
    return -total


def buy_and_auto_hedge(stop_loss: float | None) -> tuple[dict, list[dict]]:
    """The same history on the same seed: a taker buy that passes a $20 auto-hedge threshold."""
    with in_process(seed=6) as mock:
        me = Agent(mock)
        guards = {"auto_hedge_threshold_usd": 20.0}
        if stop_loss is not None:
            guards["session_stop_loss_usd"] = stop_loss
        me.buy_lots(1000, **guards)
        return me.session(), me.fills()


def test_an_auto_hedges_own_cost_can_trip_the_stop_loss():
    _, fills = buy_and_auto_hedge(None)
    buy, hedge = cost(fills, "quote"), cost(fills, "auto_hedge")
    assert buy > 0 and hedge > 0
    # Between the two: the buy alone keeps the session alive, the hedge that follows stops it.
    session, fills = buy_and_auto_hedge(buy + hedge / 2)
    assert (session["status"], session["reason"]) == ("stopped", "stop_loss")
    assert any(f["kind"] == "auto_hedge" for f in fills)
    # Beyond both: the session lives on, flat.
    session, fills = buy_and_auto_hedge(buy + 2 * hedge)
    assert (session["status"], session["reason"]) == ("active", None)
    assert any(f["kind"] == "auto_hedge" for f in fills)
    # Under the buy's own cost: stopped before any hedge is sent (the stop-loss is looked at first).
    session, fills = buy_and_auto_hedge(buy / 2)
    assert (session["status"], session["reason"]) == ("stopped", "stop_loss")
    assert not any(f["kind"] == "auto_hedge" for f in fills)


# ---- the refresh loop blocked by margin, and back when margin returns ------------------------------
def test_a_refresh_blocked_by_margin_posts_nothing_and_recovers():
    with in_process(seed=1, starting_balance=40) as mock:
        me = Agent(mock)
        me.buy_lots(1400)                     # about $990 long: $19.8 of the $40 as margin (50x)
        mid = me.top()["mid"]
        ok(me.quote(ask_price=mid * 1.005, ask_size=800, auto_refresh=True, refresh_interval_seconds=1))
        mock.advance(1)
        assert len(me.orders()) == 1 and me.session()["reason"] is None
        mock.jump(BTC, -200)                  # the long loses ~$20: equity under the margin the ask needs
        account = ok(me.client.get("/v1/account"))
        assert account["equity_usd"] < (990 + 800) / 50
        mock.advance(1)
        session = me.session()
        assert (session["status"], session["reason"]) == ("active", "insufficient_balance")
        assert me.orders() == []              # the refresh cancelled the old ask and posted nothing
        mock.advance(3)
        assert me.orders() == [] and me.session()["reason"] == "insufficient_balance"
        mock.jump(BTC, 200)                   # equity back above the margin
        mock.advance(1)
        session = me.session()
        assert (session["status"], session["reason"]) == ("active", None)
        (ask,) = me.orders()
        assert ask["side"] == "sell" and ask["price"] > me.top()["mid"]


# ---- the refresh loop rounds away from the mid -------------------------------------------------------
def test_refresh_rounds_bids_down_and_asks_up():
    with in_process(seed=5) as mock:
        me = Agent(mock)
        mid0 = me.top()["mid"]
        quoted = ok(me.quote(bid_price=mid0 * (1 - 3.3e-4), bid_size=100, ask_price=mid0 * (1 + 3.7e-4), ask_size=100,
                             auto_refresh=True, refresh_interval_seconds=1))
        bid_bps = (mid0 - quoted["bid_price"]) / mid0 * 1e4      # the shape the loop re-posts
        ask_bps = (quoted["ask_price"] - mid0) / mid0 * 1e4
        checked = 0
        for _ in range(40):
            mock.advance(1)                   # a refresh falls on this very instant
            mid = me.top()["mid"]
            for o in me.orders():
                if o["remaining"] != o["size"]:
                    continue
                slack = 1e-6 * me.tick        # the grid reads a price this close to a tick as that tick
                if o["side"] == "buy":
                    target = mid * (1 - bid_bps / 1e4)
                    assert o["price"] - slack <= target < o["price"] + me.tick, (o, target)
                else:
                    target = mid * (1 + ask_bps / 1e4)
                    assert o["price"] - me.tick < target <= o["price"] + slack, (o, target)
                checked += 1
        assert checked >= 60


# ---- hedge errors -------------------------------------------------------------------------------------
def test_a_hedge_share_under_one_lot_is_order_too_small():
    with in_process(seed=0) as mock:
        me = Agent(mock)
        me.buy_lots(20)
        before = (me.fills(), me.inventory())
        r = me.hedge(0.04)                    # 4% of 20 lots is 0.8 of a lot
        assert r.status_code == 400 and r.json()["error"] == "order_too_small"
        assert r.json()["field"] == "hedge_pct"
        assert (me.fills(), me.inventory()) == before
        assert me.hedge(0.05).status_code == 200        # 5% is one whole lot
        assert me.lots() == 19


def test_a_hedge_into_an_empty_book_is_no_liquidity():
    with in_process(seed=0) as mock:
        me = Agent(mock)
        me.buy_lots(300)
        # A new spread moves the house's ladder (it clears it); a depth far under one lot leaves it empty.
        mock.regime(BTC, depth_usd=1e-6, spread_bps=7)
        book = ok(me.client.get(f"/v1/markets/{BTC}/orderbook"))
        assert book["bids"] == []
        before = (me.fills(), me.inventory())
        r = me.hedge()
        assert r.status_code == 409 and r.json()["error"] == "no_liquidity"
        assert (me.fills(), me.inventory()) == before
        mock.regime(BTC, depth_usd=20_000, spread_bps=3)  # liquidity back: the same hedge goes through
        assert me.hedge().status_code == 200 and me.lots() == 0


# ---- the jump process, on both simulation paths ------------------------------------------------------
HOUR = 3600


def minute_marks(mock, symbol: str, minutes: int) -> list[float]:
    """The mark price (the fair value on the grid), read once a minute while the clock moves: reading
    a market changes nothing, quiet or not."""
    marks = []
    for _ in range(minutes):
        mock.advance(60)
        marks.append(ok(mock.client.get(f"/v1/markets/{symbol}/price"))["mark_price"])
    return marks


@pytest.mark.parametrize("event_by_event", [True, False])
@pytest.mark.parametrize("jumps", [False, True])
def test_jumps_move_the_mark_price_on_both_paths(event_by_event, jumps):
    """With no volatility and no drift the fair value moves only by jumps: never without them, and with
    them about as often and as far as the regime says, whether the market is simulated event by event (it
    has an agent's order) or quiet (nobody is there: time passes without events)."""
    with in_process(seed=3) as mock:
        symbol = "ETH-PERP"
        regime = {"volatility_annual": 0, "drift_bps_per_hour": 0,
                  "jump_rate_per_hour": 60 if jumps else 0, "jump_bps": 40}
        mock.regime(symbol, **regime)
        mock.advance(20)                      # past the look-ahead drawn under the old regime
        start = ok(mock.client.get(f"/v1/markets/{symbol}/price"))["mark_price"]
        if event_by_event:
            mid = start
            ok(mock.client.post("/v1/mm/quote", json={"symbol": symbol, "bid_price": mid * 0.96, "bid_size": 20}))
        marks = minute_marks(mock, symbol, 60)
        moves = [math.log(b / a) for a, b in zip(marks, marks[1:])]
        market = mock.exchange.markets[symbol]
        assert (market.events_processed > 0) == event_by_event      # the path the test means to take
        assert len(moves) == 59
        end = ok(mock.client.get(f"/v1/markets/{symbol}/price"))["mark_price"]
        moved = [abs(m) for m in moves if abs(m) > 1e-9]
        if not jumps:
            assert moved == [] and end == start
            return
        # A Poisson rate of one a minute moves ~63% of minutes; a jump is ~40 bps (Laplace), so a minute's
        # move is ~40-60 bps.
        assert 25 <= len(moved) <= 50, len(moved)
        mean_bps = sum(moved) / len(moved) * 1e4
        assert 25 <= mean_bps <= 90, mean_bps
        assert end != start
