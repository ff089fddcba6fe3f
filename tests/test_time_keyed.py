"""Markets are functions of (seed, symbol, time): reading them or stepping the clock differently never
changes an answer, events of all markets run in one global order, time is exact, and every price a
market prints is on its tick grid, candles included (they are built from its trades)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from app_client import AppClient
from hypothesis import given, settings
from hypothesis import strategies as st

from pf_mock.api import AppOptions, create_app
from pf_mock.clock import DEFAULT_EPOCH, ManualClock, to_us
from pf_mock.exchange import Exchange, ExchangeConfig
from pf_mock.grid import Grid
from http_steps import advance

# These examples each run whole markets: a tenth of the profile's examples (10 by default, 200 under
# PF_MOCK_HYPOTHESIS_PROFILE=ci-long).
EXAMPLES = max(5, settings().max_examples // 10)

MARKETS = ("BTC-PERP", "ETH-PERP", "ATOM-PERP", "ETHFI-PERP")      # majors, a mid and a small tier
ROUTES = ("", "/price", "/orderbook?depth=50", "/trades?limit=500", "/candles?interval=1m&limit=1000",
          "/candles?interval=5m&limit=300")
KEY = {"Authorization": "Bearer pf_test_keyed_12345678"}


@contextmanager
def new_client(seed: int, **config) -> Iterator[tuple[Exchange, AppClient]]:
    """An exchange and a client of its app, open for the block (served in the calling thread,
    tests/app_client.py)."""
    exchange = Exchange(ExchangeConfig(seed=seed, **config), ManualClock())
    with AppClient(create_app(exchange, AppOptions())) as client:
        yield exchange, client


def answers(client: AppClient) -> dict[str, bytes]:
    out = {}
    for symbol in MARKETS:
        for route in ROUTES:
            r = client.get(f"/v1/markets/{symbol}{route}")
            assert r.status_code == 200, r.text
            out[symbol + route] = r.content
    out["list"] = client.get("/v1/markets", params={"limit": 12}).content
    return out


# Advances: many tiny ones (microseconds to milliseconds), seconds, minutes, and the odd hour.
STEP = st.one_of(st.integers(1, 999).map(lambda us: us / 1e6), st.floats(0.001, 3.0), st.floats(3.0, 400.0),
                 st.just(3600.0))
ACTION = st.one_of(st.tuples(st.just("read"), st.sampled_from(MARKETS), st.sampled_from(ROUTES)),
                   st.tuples(st.just("advance"), STEP))


@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 3), actions=st.lists(ACTION, max_size=20))
def test_reading_and_stepping_never_change_what_a_market_answers(seed: int, actions: list) -> None:
    with new_client(seed) as (_, reader), new_client(seed) as (_, sleeper):
        total_us = 0
        for action in actions:
            if action[0] == "read":
                assert reader.get(f"/v1/markets/{action[1]}{action[2]}").status_code == 200
            else:
                advance(reader, action[1])
                total_us += to_us(action[1])
        advance(sleeper, total_us / 1e6)                # the same instant, in one step, nothing read before
        assert answers(reader) == answers(sleeper)


# ---- live sessions, a binding margin check, steppings --------------------------------------------
HORIZON_S = 90
BALANCE = 9.0           # $9 of equity against $100-a-side quotes on two markets: the margin check binds


def run_sessions(steps: list[float]) -> tuple[dict, int, int]:
    """Sessions on BTC-PERP and ETH-PERP under one agent, the clock advanced by ``steps`` and then to
    the horizon; returns the agent's answers, and how many refreshes margin refused and allowed."""
    with new_client(5, starting_balance=BALANCE) as (exchange, client):
        refused = allowed = 0
        original = exchange.sessions.refresh

        def counting_refresh(agent, market, session):
            nonlocal refused, allowed
            original(agent, market, session)
            if session.shape is not None and session.status == "active":
                if session.reason == "insufficient_balance":
                    refused += 1
                else:
                    allowed += 1
        exchange.sessions.refresh = counting_refresh
        for symbol, interval in (("BTC-PERP", 5), ("ETH-PERP", 2.5)):
            top = client.get(f"/v1/markets/{symbol}/price").json()
            r = client.post("/v1/mm/quote", headers=KEY, json={
                "symbol": symbol, "bid_price": top["mid"] * (1 - 2.5e-4), "bid_size": 100,
                "ask_price": top["mid"] * (1 + 2.5e-4), "ask_size": 100, "auto_refresh": True,
                "refresh_interval_seconds": interval, "max_inventory_usd": 300})
            assert r.status_code == 200, r.text
        end_us = to_us(DEFAULT_EPOCH + HORIZON_S)
        for seconds in steps:
            if exchange.clock.now_us() + to_us(seconds) > end_us:
                break
            advance(client, seconds)
        advance(client, (end_us - exchange.clock.now_us()) / 1e6)
        out = {}
        for symbol in ("BTC-PERP", "ETH-PERP"):
            for path in ("/v1/mm/fills", "/v1/mm/inventory", "/v1/mm/pnl", "/v1/mm/session", "/v1/mm/orders"):
                params = {"symbol": symbol, **({"limit": 1000} if path.endswith("fills") else {})}
                out[path + symbol] = client.get(path, headers=KEY, params=params).content
        out["pnl"] = client.get("/v1/mm/pnl", headers=KEY).content
        out["account"] = client.get("/v1/account", headers=KEY).content
        return out, refused, allowed


_ONE_STEP: list = []


def one_step() -> tuple[dict, int, int]:
    if not _ONE_STEP:
        _ONE_STEP.append(run_sessions([]))
    return _ONE_STEP[0]


def test_the_margin_check_binds_in_the_stepping_scenario() -> None:
    """The property below would prove little if margin never refused a refresh: it does, and not always."""
    answers_, refused, allowed = one_step()
    assert refused > 0 and allowed > 0, (refused, allowed)
    assert b'"fills":[]' not in answers_["/v1/mm/fillsBTC-PERP"]


@settings(max_examples=EXAMPLES)
@given(steps=st.lists(st.one_of(st.integers(1, 999).map(lambda us: us / 1e6), st.floats(0.001, 4.0),
                                st.floats(4.0, 40.0)), min_size=1, max_size=40))
def test_fills_and_pnl_do_not_depend_on_how_the_clock_was_stepped(steps: list[float]) -> None:
    assert run_sessions(steps)[0] == one_step()[0]


# ---- exact time ----------------------------------------------------------------------------------
def test_advance_is_exact_whatever_its_steps() -> None:
    with new_client(0) as (exchange, client):
        for _ in range(36_000):
            exchange.advance(0.1)
        assert exchange.clock.now_us() == to_us(DEFAULT_EPOCH) + 3_600 * 1_000_000
        assert client.get("/_mock/state").json()["clock"]["now"] == round(DEFAULT_EPOCH * 1000) + 3_600_000


def test_a_pnl_window_compares_on_the_milliseconds_a_client_was_shown() -> None:
    """A fill 0.4 ms into a millisecond is shown at that millisecond M: (M, ...] leaves it out,
    (M - 1, M] takes it in."""
    with new_client(0) as (exchange, client):
        advance(client, 0.0004)
        top = client.get("/v1/markets/BTC-PERP/price").json()
        r = client.post("/v1/mm/quote", headers=KEY, json={"symbol": "BTC-PERP", "bid_price": top["best_ask"],
                                                            "bid_size": 50})
        assert r.status_code == 200, r.text
        [fill] = client.get("/v1/mm/fills", headers=KEY).json()["fills"]
        shown = fill["timestamp"]
        assert shown == round(DEFAULT_EPOCH * 1000)      # 0.4 ms after the epoch's millisecond: shown at it
        advance(client, 1)

        def fills_in(since: int, until: int) -> int:
            body = client.get("/v1/mm/pnl", headers=KEY, params={"symbol": "BTC-PERP", "since": since,
                                                                  "until": until}).json()
            return body["fills"]
        assert fills_in(shown, shown + 500) == 0
        assert fills_in(shown - 1, shown) == 1
        assert fills_in(shown - 1, shown - 1) == 0


# ---- the grid and the candles ---------------------------------------------------------------------
def on_grid(grid: Grid, price: float) -> bool:
    units = round(price * grid.price_scale)
    return abs(units - price * grid.price_scale) < 1e-6 and grid.is_on_grid(units)


def candles_from_trades(trades: list[dict], minutes: int) -> dict[int, tuple]:
    """The independent oracle: OHLC and volume of each bucket, from the prints alone."""
    buckets: dict[int, list] = defaultdict(list)
    for t in reversed(trades):                     # the API lists prints newest first
        buckets[t["timestamp"] // (minutes * 60_000) * minutes * 60_000].append(t)
    return {key: (ts[0]["price"], max(t["price"] for t in ts), min(t["price"] for t in ts), ts[-1]["price"],
                  sum(t["price"] * t["size"] for t in ts)) for key, ts in buckets.items()}


@pytest.mark.parametrize("symbol, sz_decimals, live", [("ATOM-PERP", 2, False), ("ETHFI-PERP", 0, False),
                                                        ("ATOM-PERP", 2, True)])
def test_every_price_is_on_the_grid_and_each_candle_is_its_trades(symbol: str, sz_decimals: int,
                                                                  live: bool) -> None:
    with new_client(2) as (exchange, client):
        grid = Grid(sz_decimals)
        if live:        # an agent's session keeps the market live: its trades are recorded as they happen
            top = client.get(f"/v1/markets/{symbol}/price").json()
            r = client.post("/v1/mm/quote", headers=KEY, json={
                "symbol": symbol, "bid_price": top["best_bid"], "bid_size": 50, "ask_price": top["best_ask"],
                "ask_size": 50, "auto_refresh": True, "refresh_interval_seconds": 3})
            assert r.status_code == 200, r.text
        advance(client, 0.5)
        for seconds in (37.3, 61, 90, 200.25):
            advance(client, seconds)
            price = client.get(f"/v1/markets/{symbol}/price").json()
            assert all(on_grid(grid, price[k]) for k in ("best_bid", "best_ask", "mark_price")), price
            book = client.get(f"/v1/markets/{symbol}/orderbook", params={"depth": 50}).json()
            assert all(on_grid(grid, level["price"]) for side in ("bids", "asks") for level in book[side])
            trades = client.get(f"/v1/markets/{symbol}/trades", params={"limit": 500}).json()["trades"]
            assert trades and len(trades) < 500            # all of them: the oracle needs every print
            assert all(on_grid(grid, t["price"]) for t in trades)
            detail = client.get(f"/v1/markets/{symbol}").json()
            assert on_grid(grid, detail["high_24h"]) and on_grid(grid, detail["low_24h"])
            for interval, minutes in (("1m", 1), ("5m", 5)):
                candles = client.get(f"/v1/markets/{symbol}/candles", params={"interval": interval,
                                                                              "limit": 1000}).json()["candles"]
                oracle = candles_from_trades(trades, minutes)
                traded = [c for c in candles if c["volume_usd"] > 0]
                assert {c["timestamp"] for c in traded} == set(oracle)
                for c in candles:
                    assert all(on_grid(grid, c[k]) for k in ("open", "high", "low", "close")), c
                    if c["volume_usd"] > 0:
                        o, h, lo, close, volume = oracle[c["timestamp"]]
                        assert (c["open"], c["high"], c["low"], c["close"]) == (o, h, lo, close)
                        assert c["volume_usd"] == pytest.approx(volume, rel=1e-9)
                    else:       # no trade in it: the last close carried, zero volume
                        assert c["open"] == c["high"] == c["low"] == c["close"]
        if live:
            fills = client.get("/v1/mm/fills", headers=KEY, params={"symbol": symbol, "limit": 1000}).json()["fills"]
            assert fills
            assert all(on_grid(grid, f["price"]) and on_grid(grid, f["mid_at_fill"]) for f in fills)
