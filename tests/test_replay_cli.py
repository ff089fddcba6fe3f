"""--replay on the command line (a bad recording: one line, exit 2, nothing started), and the shipped
Binance cut replayed from its own format and from Tardis-style CSV giving the same fills."""

from __future__ import annotations

from pathlib import Path

import pytest

from pf_mock.cli import main
from pf_mock.messages import QuoteRequest
from pf_mock.replay.formats import read_recording
from pf_mock.replay.setup import load_sources
from pf_mock.replay.tardis import write_tardis
from pf_mock.server import ServeOptions, build_exchange

FEEDS = Path(__file__).parent / "data" / "feeds"
BINANCE = FEEDS / "binance-usdm-btcusdt-20240808-first20s.gz"
HYPER = FEEDS / "hyperliquid-btc-20250126.gz"
KEY = "pf_test_alice_12345678"


@pytest.mark.parametrize("command", [["serve"], ["simulate", "--quiet"]])
@pytest.mark.parametrize("content,reason", [
    (b"", "empty file"),
    (b"hello world\n", "unknown format"),
    (None, "cannot be read"),
])
def test_a_bad_recording_is_one_line_and_exit_2(tmp_path, capsys, command, content, reason):
    path = tmp_path / "rec.gz"
    if content is not None:
        path.write_bytes(content)
    assert main([*command, "--replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and reason in err and str(path) in err and err.startswith("pf-mock: error: --replay")


def test_bad_replay_options_are_refused(capsys):
    assert main(["serve", "--replay", str(HYPER), "--replay-queue", "fifo"]) == 2
    assert "unknown queue model" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["serve", "--replay", str(HYPER), "--replay-latency-ms", "-1"])
    assert info.value.code == 2


def test_two_recordings_of_one_instrument_are_refused(capsys):
    assert main(["serve", "--replay", str(HYPER), "--replay", str(BINANCE)]) == 2
    assert "a second recording of BTC-PERP" in capsys.readouterr().err


def maker_fills(path) -> list[tuple]:
    """A simple maker on a recording: quotes 1 tick either side of the touch every second, then reads its
    fills as (time ms, side, price, size)."""
    exchange = build_exchange(ServeOptions(clock="manual", replay=load_sources([path], latency_ms=0)))
    agent = exchange.authenticate(KEY)
    for _ in range(19):
        market = exchange.market("BTC-PERP")
        bid, ask = market.grid.to_price(market.best_bid()), market.grid.to_price(market.best_ask())
        exchange.cancel(agent, "BTC-PERP")
        exchange.quote(agent, QuoteRequest(symbol="BTC-PERP", bid_price=bid - 0.1, bid_size=500,
                                           ask_price=ask + 0.1, ask_size=500))
        exchange.advance(1.0)
    ledger = agent.ledgers["BTC-PERP"]
    return [(int(f.time * 1000), f.is_buy, f.price, f.size) for f in ledger.fills]


def test_binance_and_its_tardis_conversion_give_the_same_fills(tmp_path):
    book, _ = write_tardis(read_recording(BINANCE), tmp_path, "cut")
    native = maker_fills(BINANCE)
    assert len(native) >= 5                    # the comparison says something
    assert maker_fills(book) == native


def test_the_hyperliquid_sample_serves_with_the_others_synthetic():
    exchange = build_exchange(ServeOptions(clock="manual", replay=load_sources([HYPER])))
    assert exchange.now() == read_recording(HYPER).start_ns // 1000 / 1e6
    price = exchange.price("BTC-PERP")
    assert (price.best_bid, price.best_ask) == (105055.0, 105056.0)
    assert exchange.market_detail("BTC-PERP").sz_decimals == 5
    assert exchange.markets["BTC-PERP"].synthetic is False
    assert exchange.market("SOL-PERP").synthetic is True


def test_every_read_route_answers_on_a_replayed_market_before_and_after_its_end():
    from app_client import AppClient
    from pf_mock.api import AppOptions, create_app

    exchange = build_exchange(ServeOptions(clock="manual", replay=load_sources([HYPER])))
    with AppClient(create_app(exchange, AppOptions())) as client:
        headers = {"Authorization": f"Bearer {KEY}"}
        mid = client.get("/v1/markets/BTC-PERP/price").json()["mid"]
        quote = {"symbol": "BTC-PERP", "bid_price": mid - 1, "bid_size": 500, "ask_price": mid + 1, "ask_size": 500,
                 "auto_refresh": True}
        assert client.post("/v1/mm/quote", json=quote, headers=headers).status_code == 200
        routes = ["/v1/markets", "/v1/markets/BTC-PERP", "/v1/markets/BTC-PERP/price", "/v1/markets/BTC-PERP/orderbook",
                  "/v1/markets/BTC-PERP/trades", "/v1/markets/BTC-PERP/candles", "/v1/mm/session?symbol=BTC-PERP",
                  "/v1/mm/inventory?symbol=BTC-PERP", "/v1/mm/pnl?symbol=BTC-PERP", "/v1/mm/orders", "/v1/mm/fills",
                  "/v1/account", "/_mock/state", "/"]
        for seconds in (10, 60):
            client.post("/_mock/clock/advance", json={"seconds": seconds})
            for path in routes:
                answer = client.get(path, headers=headers)
                assert answer.status_code == 200, (path, answer.text)
        halted = client.post("/v1/mm/quote", json=quote, headers=headers)
        assert halted.status_code == 409 and halted.json()["error"] == "market_halted"
        jump = client.post("/_mock/markets/BTC-PERP/jump", json={"move_bps": 10})
        assert jump.status_code == 409 and jump.json()["error"] == "market_replayed"
