"""The running statistics of ``pf_mock/analytics.py`` against independent oracles.

Two kinds of oracle: scripted histories on a stand-in market whose every figure was worked out by hand
(below, next to each assert), and a whole exchange run whose statistics are recomputed by brute force
from the market's recorded marks and the ledger's fills.
"""

from __future__ import annotations

import pytest

from pf_mock.analytics import MARKOUT_HORIZONS_S, Analytics
from pf_mock.exchange import QuoteRequest
from pf_mock.grid import Grid
from pf_mock.ledger import SymbolLedger
from pf_mock.testing import MockExchange


class StubMarket:
    """What the analytics reads of a market: its name, lot size, instant, mark, and past marks."""

    def __init__(self, symbol: str = "TEST-PERP", mark: float = 100.0):
        self.symbol = symbol
        self.grid = Grid(0)             # one lot = one base unit
        self.now = 0.0
        self.mark = mark
        self.history = [(0.0, mark)]

    def mark_at(self, t: float) -> float:
        return [m for when, m in self.history if when <= t][-1]


class Script:
    """Drives an ``Analytics`` as the exchange would: posts, fills booked on a real ledger, events."""

    def __init__(self):
        self.analytics = Analytics()
        self.ledgers: dict[tuple[str, str], SymbolLedger] = {}
        self.seq = 0

    def event(self, market: StubMarket, t: float, mark: float) -> None:
        market.now, market.mark = t, mark
        market.history.append((t, mark))
        self.analytics.after_event(market)

    def fill(self, agent: str, market: StubMarket, *, buy: bool, price: float, qty: int, maker: bool = True,
             fee: float = 0.0, kind: str = "quote") -> None:
        ledger = self.ledgers.setdefault((agent, market.symbol), SymbolLedger(market.symbol, 1))
        self.seq += 1
        record = ledger.apply(fill_id=f"fill_{self.seq:012x}", order_id=f"ord_{self.seq:012x}", is_buy=buy,
                              price=price, lots=qty,
                              notional=price * qty, maker=maker, fee=fee, mid=market.mark, kind=kind, time=market.now)
        self.analytics.on_fill(agent, market, record)


def test_a_scripted_history_by_hand():
    s, m = Script(), StubMarket()
    s.analytics.on_post("alice", m, True, 99.0)
    s.analytics.on_post("alice", m, False, 101.0)
    m.now = 10.0                                            # mark still 100
    s.fill("alice", m, buy=True, price=99.0, qty=1, fee=-0.02)
    s.event(m, 10.5, 100.0)
    s.event(m, 11.0, 102.0)     # the 1 s horizon falls exactly on this event: its new mark counts
    s.event(m, 15.0, 98.0)
    s.event(m, 25.0, 97.0)      # the 10 s horizon (t=20) fell between events: the mark in force was 98
    s.event(m, 69.0, 105.0)
    s.event(m, 71.0, 90.0)      # the 60 s horizon (t=70): 105 was in force

    st = s.analytics.for_agent("alice", "TEST-PERP")
    assert st.since == 0.0 and st.until == 71.0
    assert (st.bid.posted_usd, st.bid.filled_usd, st.bid.fills, st.bid.fill_share) == (99.0, 99.0, 1, 1.0)
    assert (st.ask.posted_usd, st.ask.filled_usd, st.ask.fill_share) == (101.0, 0.0, 0.0)
    assert (st.volume_usd, st.fills, st.maker_fills, st.taker_fills) == (99.0, 1, 1, 0)
    one, ten, sixty = (st.markout(h) for h in MARKOUT_HORIZONS_S)
    assert one.markout_usd == pytest.approx(2.0) and one.markout_bps == pytest.approx(200.0)
    assert ten.markout_usd == pytest.approx(-2.0)
    assert sixty.markout_usd == pytest.approx(5.0)
    assert one.edge_usd == pytest.approx(1.0) and one.edge_bps == pytest.approx(100.0)
    assert ten.realised_spread_usd == pytest.approx(-1.0)  # bought 1 below the mark, the mark fell 2
    # |position x mark| held from t=10: 100 for 1 s, 102 for 4 s, 98 for 10 s, 97 for 44 s, 105 for 2 s.
    assert st.time_weighted_abs_inventory_usd == pytest.approx((100 + 4 * 102 + 10 * 98 + 44 * 97 + 2 * 105) / 71)
    assert st.max_abs_inventory_usd == pytest.approx(105.0)
    # Net PnL = cash (-99 + 0.02 rebate) + 1 x mark: 1.02, 3.02 (peak), -0.98, -1.98, 6.02 (peak), -8.98.
    assert st.net_pnl == pytest.approx(-8.98)
    assert st.worst_drawdown_usd == pytest.approx(6.02 + 8.98)
    # Read later without another event: the last mark (90) carries the inventory on.
    m.now = 81.0
    later = s.analytics.for_agent("alice", "TEST-PERP")
    assert later.time_weighted_abs_inventory_usd == pytest.approx(
        (100 + 4 * 102 + 10 * 98 + 44 * 97 + 2 * 105 + 10 * 90) / 81)


def test_a_markout_is_settled_once_the_market_passes_its_horizon():
    s, m = Script(), StubMarket()
    m.now = 5.0
    s.fill("bob", m, buy=False, price=101.0, qty=2)         # a maker sell of 2 at mark 100
    s.event(m, 5.999, 120.0)                                # before the 1 s horizon: not settled yet
    assert s.analytics.for_agent("bob").markout(1).fills == 0
    m.now = 6.5                                             # no event since, but a read settles it:
    one = s.analytics.for_agent("bob").markout(1)           # 120 was in force at t=6
    assert (one.fills, one.markout_usd) == (1, pytest.approx(-40.0))   # sold 2, the mark rose 20: -40
    assert one.notional_usd == pytest.approx(200.0)
    assert one.edge_usd == pytest.approx(2.0)


def test_taker_fills_count_in_volume_not_in_markouts_and_hedges_not_in_fill_share():
    s, m = Script(), StubMarket()
    s.analytics.on_post("carol", m, True, 100.0)
    m.now = 1.0
    s.fill("carol", m, buy=True, price=100.0, qty=1)                          # maker, quote
    s.fill("carol", m, buy=False, price=99.5, qty=1, maker=False, fee=0.045, kind="auto_hedge")
    s.analytics.on_guardrail("carol", m, "auto_hedge_threshold_usd")
    s.event(m, 100.0, 100.0)
    st = s.analytics.for_agent("carol")
    assert (st.fills, st.maker_fills, st.taker_fills) == (2, 1, 1)
    assert st.volume_usd == pytest.approx(199.5)
    assert (st.bid.filled_usd, st.ask.filled_usd) == (100.0, 0.0)            # the hedge was not a quote
    assert [h.fills for h in st.markouts] == [1, 1, 1]
    assert st.guardrail_trips["auto_hedge_threshold_usd"] == 1 and st.guardrail_trips_total == 1
    assert [(e.time, e.guardrail) for e in st.guardrail_events] == [(1.0, "auto_hedge_threshold_usd")]
    # Flat after the hedge: no inventory from t=1 on, so 100 x 0 s / 100 s.
    assert st.time_weighted_abs_inventory_usd == 0.0 and st.max_abs_inventory_usd == pytest.approx(100.0)


def test_all_markets_together_sum_and_take_the_drawdown_of_the_sum():
    s, a, b = Script(), StubMarket("A-PERP", 100.0), StubMarket("B-PERP", 50.0)
    s.fill("dan", a, buy=True, price=100.0, qty=1)          # long A at 100
    s.fill("dan", b, buy=False, price=50.0, qty=2)          # short 2 B at 50
    s.event(a, 10.0, 110.0)                                 # A +10: total +10 (A's peak +10)
    s.event(b, 20.0, 55.0)                                  # B costs 10: total 0
    s.event(a, 30.0, 104.0)                                 # A +4 (drawdown 6): total -6
    whole = s.analytics.for_agent("dan")
    assert whole.net_pnl == pytest.approx(-6.0)
    assert whole.worst_drawdown_usd == pytest.approx(16.0)  # from +10 to -6
    assert s.analytics.for_agent("dan", "A-PERP").worst_drawdown_usd == pytest.approx(6.0)
    assert s.analytics.for_agent("dan", "B-PERP").worst_drawdown_usd == pytest.approx(10.0)
    assert whole.max_abs_inventory_usd == pytest.approx(110.0)
    assert s.analytics.agents() == ["dan"]
    nobody = s.analytics.for_agent("nobody")
    assert (nobody.since, nobody.fills, nobody.net_pnl, nobody.fill_share) == (None, 0, 0.0, None)


# ---- a whole exchange, recomputed by brute force ----------------------------------------------
def _brute_force(ex: MockExchange, agent, symbol: str, until: float):
    market = ex.markets[symbol]
    ledger = agent.ledgers[symbol]
    unit = 1.0 / ledger.lot_scale
    times = [t for t, _ in market.fair_samples(ex.started_at, until)]
    markouts = {h: 0.0 for h in MARKOUT_HORIZONS_S}
    for f in ledger.fills:
        if f.maker and f.time + 60 <= until:
            s = 1.0 if f.is_buy else -1.0
            for h in MARKOUT_HORIZONS_S:
                markouts[h] += s * (market.mark_at(f.time + h) - f.mid) * f.size
    # |position x mark| integrated over the recorded marks (position as of each stretch's start).
    integral, peak, worst, top = 0.0, 0.0, 0.0, 0.0
    points = sorted({t for t in times if t <= until} | {f.time for f in ledger.fills})
    first = min(f.time for f in ledger.fills)
    for t0, t1 in zip(points, points[1:] + [until]):
        totals = ledger.totals_at(t0)
        integral += abs(totals.lots * unit * market.mark_at(t0)) * (t1 - t0)
    for t in points:
        for totals in (ledger.totals_at(t - 1e-9), ledger.totals_at(t)):
            value = totals.cash + totals.lots * unit * market.mark_at(t)
            top = max(top, abs(totals.lots * unit * market.mark_at(t)))
            peak = max(peak, value)
            worst = max(worst, peak - value)
    return markouts, integral, worst, top, first


def test_an_exchange_run_matches_brute_force_over_its_recorded_marks():
    ex = MockExchange(seed=3)
    me = ex.register()
    posted = {True: 0.0, False: 0.0}
    for i in range(120):                                    # ten minutes of 2 bps quotes every 5 s
        ex.cancel(me, "BTC-PERP")
        mid = ex.mid("BTC-PERP")
        result = ex.quote(me, QuoteRequest("BTC-PERP", bid_price=mid * (1 - 2e-4), bid_size=200,
                                           ask_price=mid * (1 + 2e-4), ask_size=200))
        for is_buy, side in ((True, result.bid), (False, result.ask)):
            posted[is_buy] += side.size_usd or 0.0
        if i == 60:
            ex.jump("BTC-PERP", -30)                        # picks off the bid: an adverse fill
        ex.advance(5)
    ex.cancel(me, "BTC-PERP")
    far = ex.mid("BTC-PERP") * 0.96                         # a bid nobody hits keeps the market live, so
    posted[True] += ex.quote(me, QuoteRequest("BTC-PERP", bid_price=far, bid_size=100)).bid.size_usd
    ex.advance(90)                                          # every markout comes due, marks event by event
    start = ex.started_at
    st = ex.analytics.for_agent(me.agent_id, "BTC-PERP")
    ledger = me.ledgers["BTC-PERP"]
    assert st.maker_fills > 20
    assert st.fills == len(ledger.fills) and st.volume_usd == pytest.approx(sum(f.notional for f in ledger.fills))
    for is_buy, side in ((True, st.bid), (False, st.ask)):
        filled = sum(f.notional for f in ledger.fills if f.is_buy == is_buy and f.kind == "quote")
        assert side.posted_usd == pytest.approx(posted[is_buy])
        assert side.filled_usd == pytest.approx(filled)
    markouts, integral, worst, top, _ = _brute_force(ex, me, "BTC-PERP", ex.now())
    for h in MARKOUT_HORIZONS_S:
        assert st.markout(h).fills == st.maker_fills
        assert st.markout(h).markout_usd == pytest.approx(markouts[h], abs=1e-9)
    assert st.markout(60).markout_usd != 0.0
    assert st.since == start
    # The analytics integrate with the mark seen at each market event, the oracle with the fair value's
    # own samples; the two sets of instants differ by a few (events that do not move the mark), so they
    # agree to a part in a million, not to the last bit.
    assert st.time_weighted_abs_inventory_usd == pytest.approx(integral / (ex.now() - start), rel=1e-6)
    assert st.worst_drawdown_usd == pytest.approx(worst, abs=1e-9) and worst > 0
    assert st.max_abs_inventory_usd == pytest.approx(top, rel=1e-12)
    pnl = ex.pnl(me, "BTC-PERP").window
    assert st.net_pnl == pytest.approx(pnl.net_pnl, abs=1e-6)


def test_guardrails_are_counted_when_they_act():
    ex = MockExchange(seed=1)
    me = ex.register()
    mid = ex.mid("BTC-PERP")
    ex.quote(me, QuoteRequest("BTC-PERP", bid_price=mid * 0.9999, bid_size=500, ask_price=mid * 1.0001,
                              ask_size=500, auto_hedge_threshold_usd=100, max_spread_bps=50))
    ex.jump("BTC-PERP", -40)                                # the bid fills; the auto-hedge sells it
    trips = ex.analytics.for_agent(me.agent_id).guardrail_trips
    assert trips["auto_hedge_threshold_usd"] == 1
    ex.set_regime("BTC-PERP", {"spread_bps": 80})           # the market's spread passes 50 bps: a pause
    ex.advance(5)
    st = ex.analytics.for_agent(me.agent_id)
    assert st.guardrail_trips["max_spread_bps"] == 1
    assert [e.guardrail for e in st.guardrail_events] == ["auto_hedge_threshold_usd", "max_spread_bps"]
    ex.advance(60)                                          # still wide: still one pause, not one per event
    assert ex.analytics.for_agent(me.agent_id).guardrail_trips["max_spread_bps"] == 1


def test_a_reset_forgets_the_statistics():
    ex = MockExchange(seed=0)
    me = ex.register()
    mid = ex.mid("BTC-PERP")
    ex.quote(me, QuoteRequest("BTC-PERP", bid_price=mid * 0.999, bid_size=100))
    assert ex.analytics.agents() == [me.agent_id]
    ex.reset()
    assert ex.analytics.agents() == []
