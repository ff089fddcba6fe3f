"""The seed page's market maker, run for real: a uvicorn server on a loopback port with a fast
realtime clock, and ``clients.simple_mm`` talking to it over HTTP as it would to the platform."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from clients.simple_mm import SimpleMarketMaker
from pf_mock.server import ReadyServer, ServeOptions, build_app

SYMBOL = "BTC-PERP"
KEY = "pf_test_seed_client_run"
ITERATIONS = 61             # iterations 0 and 60 both fetch the PnL, as on the page
SPEED = 200.0               # simulated seconds per wall second: each iteration spans a few seconds


@pytest.fixture(scope="module")
def server_url():
    app = build_app(ServeOptions(clock="realtime", speed=SPEED, port=0))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                            lifespan="off")
    server = ReadyServer(config, quiet=True)
    thread = threading.Thread(target=server.run, name="pf-mock-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not (server.started and server.bound_port) and thread.is_alive():
        if time.monotonic() > deadline:
            server.should_exit = True
            pytest.fail("the server did not start within 15 s")
        time.sleep(0.01)
    if not thread.is_alive():
        pytest.fail("the server thread died during startup")
    yield f"http://127.0.0.1:{server.bound_port}"
    server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive(), "the server did not shut down"


@pytest.fixture(scope="module")
def run(server_url):
    rounds: dict[int, list] = {}
    lines: list[str] = []
    with httpx.Client(base_url=server_url, timeout=10.0) as http:
        maker = SimpleMarketMaker(SYMBOL, spread_bps=5, order_size=100, api_key=KEY, http=http,
                                  error_pause_seconds=0.0, say=lines.append)
        summary = maker.run(interval_seconds=0.02, max_iterations=ITERATIONS,
                            on_iteration=lambda i, calls: rounds.__setitem__(i, calls))
    return summary, rounds, lines


def get(server_url: str, path: str, **params) -> dict:
    response = httpx.get(server_url + path, params=params, headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_every_request_succeeds(run):
    summary, rounds, _ = run
    assert summary.errors == []
    assert summary.iterations == ITERATIONS
    failed = [(c.method, c.path, c.status, c.answer) for c in summary.calls if not 200 <= c.status < 300]
    assert failed == []


def test_each_iteration_makes_the_pages_requests_in_order(run):
    summary, rounds, _ = run
    assert sorted(rounds) == list(range(ITERATIONS))
    for i, calls in rounds.items():
        steps = [(c.method, c.path) for c in calls]
        expected = [("GET", f"/v1/markets/{SYMBOL}/price"), ("POST", "/v1/mm/cancel"),
                    ("POST", "/v1/mm/quote"), ("GET", f"/v1/mm/inventory?symbol={SYMBOL}")]
        assert steps[:4] == expected
        rest = steps[4:]
        if rest and rest[0] == ("POST", "/v1/mm/hedge"):
            rest = rest[1:]
        assert rest == ([("GET", f"/v1/mm/pnl?symbol={SYMBOL}")] if i % 60 == 0 else [])
    # and one last cancel after the loop
    assert (summary.calls[-1].method, summary.calls[-1].path) == ("POST", "/v1/mm/cancel")


def test_every_quote_posts_both_sides_around_the_mid(run):
    summary, rounds, _ = run
    for i, calls in rounds.items():
        price, quote = calls[0].answer, calls[2]
        mid = (price["best_bid"] + price["best_ask"]) / 2
        half = mid * 5 / 1e4 / 2
        assert quote.status == 200
        assert quote.body == {"symbol": SYMBOL, "bid_price": round(mid - half, 2), "bid_size": 100,
                              "ask_price": round(mid + half, 2), "ask_size": 100, "time_in_force": "GTC"}
        answer = quote.answer
        assert isinstance(answer["bid_id"], str) and answer["bid_id"].startswith("ord_")
        assert isinstance(answer["ask_id"], str) and answer["ask_id"].startswith("ord_")
        assert answer["skipped"] == {}
        # passive rounding to BTC's $1 tick: never more aggressive than asked
        assert answer["bid_price"] <= quote.body["bid_price"] < answer["bid_price"] + 1
        assert answer["ask_price"] - 1 < quote.body["ask_price"] <= answer["ask_price"]


def test_cancels_take_down_the_previous_quote(run):
    summary, rounds, _ = run
    for i in range(1, ITERATIONS):
        previous = rounds[i - 1][2].answer
        cancelled = set(rounds[i][1].answer["order_ids"])
        # what is cancelled is whatever of the last quote had not filled; nothing else was open
        assert cancelled <= {previous["bid_id"], previous["ask_id"]}


def test_hedges_answer_the_fields_the_client_reads(run):
    summary, _, lines = run
    for call in summary.of("POST", "/v1/mm/hedge"):
        assert call.status == 200
        assert call.answer["fill_price"] > 0
        assert call.answer["net_delta_usd"] == 0.0
    assert sum(line.startswith("  HEDGED") for line in lines) == summary.hedges


def test_the_market_filled_some_quotes(run, server_url):
    fills = get(server_url, "/v1/mm/fills", symbol=SYMBOL, limit=1000)["fills"]
    assert any(f["liquidity"] == "maker" and f["kind"] == "quote" for f in fills)


def test_pnl_lines_add_up(run, server_url):
    summary, _, lines = run
    reports = summary.pnl_reports + [get(server_url, "/v1/mm/pnl", symbol=SYMBOL)]
    assert len(reports) == 3
    for pnl in reports:
        expected = pnl["spread_income"] + pnl["rebates"] + pnl["inventory_pnl"] - pnl["hedge_cost"]
        assert pnl["net_pnl"] == pytest.approx(expected, abs=1e-6)
        assert pnl["realized_inventory_pnl"] + pnl["unrealized_inventory_pnl"] == pytest.approx(
            pnl["inventory_pnl"], abs=1e-6)
    assert sum(line.startswith("  PnL: ") for line in lines) == 2
    assert reports[-1]["fills"] > 0


def test_nothing_is_left_open(run, server_url):
    summary, _, lines = run
    assert get(server_url, "/v1/mm/orders", symbol=SYMBOL)["orders"] == []
    assert get(server_url, "/v1/account")["open_orders"] == 0
    assert lines[-1] == "Market maker stopped. All orders cancelled."
