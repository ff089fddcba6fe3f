"""The seed page's market maker, run for real: a uvicorn server on a loopback port, and
``clients.simple_mm`` talking to it over HTTP as it would to the platform.

The server runs on the manual clock and the client's sleep between iterations advances it by the
page's 5 s, so every run makes the same requests at the same simulated instants and gets the same
fills and hedges back: the checks below see the same run every time, hedges included."""

from __future__ import annotations

import httpx
import pytest

from clients.simple_mm import SimpleMarketMaker
from pf_mock.client.tls import default_tls
from pf_mock.testing import run_server
from reference_accountant import Reference

SYMBOL = "BTC-PERP"
KEY = "pf_test_seed_client_run"
ITERATIONS = 61             # iterations 0 and 60 both fetch the PnL, as on the page
INTERVAL_S = 5.0            # the page's sleep, in simulated seconds


@pytest.fixture(scope="module")
def server():
    # seed 10: a run (the same every time) whose inventory crosses the $300 hedge threshold three times
    # on the one-tick book with instant order entry (seed 0's never does)
    with run_server(seed=10) as srv:
        yield srv


@pytest.fixture(scope="module")
def server_url(server):
    return server.base_url


@pytest.fixture(scope="module")
def run(server):
    rounds: dict[int, list] = {}
    lines: list[str] = []
    with httpx.Client(base_url=server.base_url, timeout=10.0) as http:
        maker = SimpleMarketMaker(SYMBOL, spread_bps=5, order_size=100, api_key=KEY, http=http,
                                  error_pause_seconds=0.0, say=lines.append, sleep=server.advance)
        summary = maker.run(interval_seconds=INTERVAL_S, max_iterations=ITERATIONS,
                            on_iteration=lambda i, calls: rounds.__setitem__(i, calls))
    return summary, rounds, lines


def get(server_url: str, path: str, **params) -> dict:
    response = httpx.get(server_url + path, params=params, headers={"Authorization": f"Bearer {KEY}"},
                         verify=default_tls())
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


def test_hedges_happen_and_answer_the_fields_the_client_reads(run, server_url):
    summary, _, lines = run
    hedges = summary.of("POST", "/v1/mm/hedge")
    assert summary.hedges == len(hedges) >= 1, "this run (same every time) crosses the $300 threshold"
    for call in hedges:
        assert call.status == 200
        assert call.answer["fill_price"] > 0
        assert call.answer["net_delta_usd"] == 0.0
    assert sum(line.startswith("  HEDGED") for line in lines) == summary.hedges
    fills = get(server_url, "/v1/mm/fills", symbol=SYMBOL, limit=1000)["fills"]
    hedge_orders = {f["order_id"] for f in fills if f["kind"] == "hedge"}
    assert len(hedge_orders) == summary.hedges
    assert all(f["liquidity"] == "taker" for f in fills if f["kind"] == "hedge")


def test_the_market_filled_some_quotes(run, server_url):
    fills = get(server_url, "/v1/mm/fills", symbol=SYMBOL, limit=1000)["fills"]
    assert any(f["liquidity"] == "maker" and f["kind"] == "quote" for f in fills)


def test_pnl_matches_the_reference(run, server_url):
    summary, _, lines = run
    reports = summary.pnl_reports + [get(server_url, "/v1/mm/pnl", symbol=SYMBOL)]
    assert len(reports) == 3
    assert sum(line.startswith("  PnL: ") for line in lines) == 2
    # The last report covers the whole run; the reference accountant replays its fills.
    last = reports[-1]
    fills = get(server_url, "/v1/mm/fills", symbol=SYMBOL, limit=1000)["fills"]
    mark = get(server_url, "/v1/mm/inventory", symbol=SYMBOL)["mark_price"]
    assert last["fills"] == len(fills) > 0
    for name, value in Reference().replay(fills, mark).expected_pnl(mark).items():
        assert last[name] == pytest.approx(value, abs=1e-6), name


def test_nothing_is_left_open(run, server_url):
    summary, _, lines = run
    assert get(server_url, "/v1/mm/orders", symbol=SYMBOL)["orders"] == []
    assert get(server_url, "/v1/account")["open_orders"] == 0
    assert lines[-1] == "Market maker stopped. All orders cancelled."
