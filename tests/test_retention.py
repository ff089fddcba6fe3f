"""Memory that stays flat: what the exchange keeps per event or per request is kept only as far as
anything reads it (counted, never timed), and ``/_mock/state`` lists the markets with activity, not every market read."""

from __future__ import annotations

import gc

import pytest

from pf_mock import market as market_module
from pf_mock.exchange import QuoteRequest
from pf_mock.model import FairValue
from app_client import in_process
from pf_mock.testing import MockExchange

SYMBOL = "BTC-PERP"


def quote_with_refresh(ex: MockExchange, agent, symbol: str = SYMBOL) -> None:
    mid = ex.mid(symbol)
    ex.quote(agent, QuoteRequest(symbol, bid_price=mid * 0.99975, bid_size=100, ask_price=mid * 1.00025,
                                 ask_size=100, auto_refresh=True, refresh_interval_seconds=5.0))


def retained(ex: MockExchange) -> dict[str, int]:
    m = ex.markets[SYMBOL]
    return {"trades": len(m.trades), "candles": len(m.candles), "plans": len(m.fair._plans),
            "schedule": len(m._schedule), "agent_orders": len(m.agent_orders),
            "markouts": sum(len(q) for s in ex.analytics._markets.values() for q in s.pending)}


def test_a_live_markets_history_stays_within_its_bounds(monkeypatch):
    """An auto-refreshing agent for 55 simulated minutes: the tape keeps its newest TRADES_KEPT trades
    and CANDLE_MINUTES_KEPT minute candles (made small here so that the run passes them within its first
    15 minutes), the model its few cached minutes, the analytics only the markouts not yet due; and no
    count of live Python objects grows with the events of the last 40 minutes (thousands of them)."""
    monkeypatch.setattr(market_module, "TRADES_KEPT", 300)
    monkeypatch.setattr(market_module, "CANDLE_MINUTES_KEPT", 10)
    ex = MockExchange(seed=3)
    me = ex.register()
    quote_with_refresh(ex, me)
    market = ex.markets[SYMBOL]
    market.trades = market_module.deque(maxlen=market_module.TRADES_KEPT)     # made before the patch took
    market.candles = market_module.deque(maxlen=market_module.CANDLE_MINUTES_KEPT)
    ex.advance(15 * 60)
    assert market.trades_printed > 300 and len(market.candles) == 10      # both bounds reached already
    gc.collect()
    objects_before, events_before = len(gc.get_objects()), market.events_processed
    for _ in range(8):
        ex.advance(5 * 60)
        sizes = retained(ex)
        assert sizes["trades"] <= 300 and sizes["candles"] <= 10, sizes
        assert sizes["plans"] <= FairValue.PLANS_KEPT and sizes["schedule"] <= 1 and sizes["agent_orders"] <= 2, sizes
        fills_last_minute = sum(1 for f in me.ledgers[SYMBOL].fills if f.time > ex.now() - 61)
        assert sizes["markouts"] <= 3 * fills_last_minute, sizes       # one per horizon, due within 60 s
    gc.collect()
    assert len(market.trades) == 300 and len(market.candles) == 10      # the bounds were held
    assert market.events_processed - events_before > 5_000
    assert len(gc.get_objects()) - objects_before < 500
    assert ex.trades(SYMBOL, 500).trades[0].timestamp >= market.trades[0].time_us // 1000 - 1   # newest shown


def test_a_quiet_market_read_all_month_keeps_nothing_per_read():
    """Read every simulated day for a month, a market nobody trades on simulates nothing and keeps no
    trades, candles or orders of its own: its tape is its recent stretch, made again when read. Thirty reads
    lay out three times the plans kept (without the eviction it keeps 60), a quarter of the work of reading
    every six hours."""
    ex = MockExchange(seed=4)
    for _ in range(30):
        ex.advance(24 * 3600)
        ex.trades("ETH-PERP", 100)
        ex.candles("ETH-PERP", "1m", 100)
    m = ex.markets["ETH-PERP"]
    assert m.events_processed == 0 and len(m.trades) == 0 and len(m.candles) == 0
    assert len(m.fair._plans) <= FairValue.PLANS_KEPT and len(m.book.orders) < 200


def test_active_markets_are_those_with_activity_not_those_read():
    with in_process(seed=2) as mock:
        for path in ("/v1/markets", "/v1/markets/SOL-PERP/orderbook", "/v1/markets/ETH-PERP/trades",
                     "/v1/markets/ETH-PERP/candles"):
            assert mock.client.get(path).status_code == 200
        assert mock.state()["active_markets"] == []
        mid = mock.client.get("/v1/markets/BTC-PERP/price").json()["mid"]
        r = mock.client.post("/v1/mm/quote", json={"symbol": "BTC-PERP", "bid_price": mid * 0.999, "bid_size": 100})
        assert r.status_code == 200
        mock.jump("ETH-PERP", 10)
        mock.regime("DOGE-PERP", spread_bps=3)
        assert mock.state()["active_markets"] == ["BTC-PERP", "DOGE-PERP", "ETH-PERP"]
        mock.reset()
        assert mock.state()["active_markets"] == []
        mock.load_scenario("flash_crash")
        assert mock.state()["active_markets"], "a scenario's markets have scheduled steps"
